-- +goose Up
-- Waiting lists: a rank per waitlisted registration (its id on arrival, so
-- the line is in arrival order; staff may reorder it), and per workshop.
ALTER TABLE registrations
    ADD COLUMN waitlist_rank  bigint,
    ADD COLUMN approved_at    timestamptz,
    ADD COLUMN payment_due_at timestamptz;
CREATE INDEX registrations_waitlist_idx ON registrations (conference_id, waitlist_rank) WHERE status = 'waitlisted';
CREATE INDEX registrations_payment_due_idx ON registrations (payment_due_at) WHERE status = 'awaiting_payment';

ALTER TABLE registration_sessions
    ADD COLUMN waitlisted    boolean NOT NULL DEFAULT false,
    ADD COLUMN waitlist_rank bigint;
CREATE INDEX registration_sessions_waitlist_idx ON registration_sessions (session_id, waitlist_rank) WHERE waitlisted;

-- +goose Down
DROP INDEX registration_sessions_waitlist_idx;
ALTER TABLE registration_sessions DROP COLUMN waitlist_rank, DROP COLUMN waitlisted;
DROP INDEX registrations_payment_due_idx;
DROP INDEX registrations_waitlist_idx;
ALTER TABLE registrations DROP COLUMN payment_due_at, DROP COLUMN approved_at, DROP COLUMN waitlist_rank;
