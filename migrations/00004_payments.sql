-- +goose Up
-- A payment towards a registration: online through Stripe Checkout, or
-- recorded by people (an invoice to the local, cash or check at the door, a
-- waiver). A Stripe payment is one Checkout Session: it starts pending and
-- becomes succeeded only when a verified webhook says so.
CREATE TABLE payments (
    id                       bigserial PRIMARY KEY,
    registration_id          bigint NOT NULL REFERENCES registrations(id),
    method                   text NOT NULL CHECK (method IN ('stripe', 'local_invoice', 'cash', 'check', 'waived')),
    status                   text NOT NULL CHECK (status IN ('pending', 'processing', 'succeeded', 'invoiced',
                                 'failed', 'expired', 'void')),
    amount_cents             bigint NOT NULL CHECK (amount_cents > 0),
    currency                 text NOT NULL,
    -- What has gone back to the payer, and what Convene owes back in all
    -- (a payment for a cancelled registration, an overpayment, a refund that
    -- Stripe refused): staff see the difference as refunds to make.
    refunded_cents           bigint NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
    refund_due_cents         bigint NOT NULL DEFAULT 0 CHECK (refund_due_cents >= 0),
    reference                text NOT NULL DEFAULT '',
    -- The local billed, for local_invoice.
    local_id                 bigint REFERENCES locals(id),
    recorded_by              bigint REFERENCES users(id) ON DELETE SET NULL,
    stripe_session_id        text UNIQUE,
    stripe_payment_intent_id text,
    checkout_url             text NOT NULL DEFAULT '',
    -- The key the Checkout Session was created with: registration, amount and
    -- attempt, so two clicks at once share one session.
    idempotency_key          text UNIQUE,
    paid_at                  timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (method <> 'local_invoice' OR local_id IS NOT NULL),
    CHECK (method = 'stripe' OR stripe_session_id IS NULL)
);
CREATE INDEX payments_registration_idx ON payments (registration_id, created_at);
CREATE INDEX payments_intent_idx ON payments (stripe_payment_intent_id) WHERE stripe_payment_intent_id IS NOT NULL;
CREATE INDEX payments_local_idx ON payments (local_id, created_at) WHERE method = 'local_invoice';

-- A refund of (part of) a payment. Stripe refunds are created with the key
-- convene-refund-<id>, so retrying one never refunds twice.
CREATE TABLE refunds (
    id               bigserial PRIMARY KEY,
    payment_id       bigint NOT NULL REFERENCES payments(id),
    amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
    status           text NOT NULL CHECK (status IN ('requested', 'succeeded', 'failed')),
    stripe_refund_id text,
    reason           text NOT NULL DEFAULT '',
    requested_by     bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id);

-- Every verified Stripe webhook event, stored by its id so that each is
-- processed once, with the fields fulfilment reads: the state of a payment is
-- worked out from all of its session's events, so their order never matters.
CREATE TABLE stripe_events (
    id                    text PRIMARY KEY,
    type                  text NOT NULL,
    stripe_created_at     timestamptz NOT NULL,
    received_at           timestamptz NOT NULL DEFAULT now(),
    session_id            text NOT NULL DEFAULT '',
    payment_intent_id     text NOT NULL DEFAULT '',
    registration_id       bigint,
    payment_status        text NOT NULL DEFAULT '',
    amount_cents          bigint NOT NULL DEFAULT 0,
    amount_refunded_cents bigint NOT NULL DEFAULT 0,
    currency              text NOT NULL DEFAULT '',
    outcome               text NOT NULL DEFAULT ''
);
CREATE INDEX stripe_events_session_idx ON stripe_events (session_id) WHERE session_id <> '';
CREATE INDEX stripe_events_intent_idx ON stripe_events (payment_intent_id) WHERE payment_intent_id <> '';

-- +goose Down
DROP TABLE stripe_events;
DROP TABLE refunds;
DROP TABLE payments;
