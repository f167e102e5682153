-- +goose Up
-- A local pays its invoices: staff record the day the money came and the
-- local's reference for it (a check number, a transfer). The invoice is then
-- money received (status succeeded), which a cancellation in time owes back
-- to the local, as cash or a check is owed back to a member.
ALTER TABLE payments
    ADD COLUMN received_on        date,
    ADD COLUMN received_reference text NOT NULL DEFAULT '',
    ADD COLUMN received_by        bigint REFERENCES users(id) ON DELETE SET NULL,
    ADD CONSTRAINT payments_received_is_an_invoice CHECK (received_on IS NULL OR (method = 'local_invoice' AND status = 'succeeded'));

-- +goose Down
ALTER TABLE payments
    DROP CONSTRAINT payments_received_is_an_invoice,
    DROP COLUMN received_by,
    DROP COLUMN received_reference,
    DROP COLUMN received_on;
