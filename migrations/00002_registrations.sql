-- +goose Up
-- A local's roster: what the local says about its members.
CREATE TABLE roster_entries (
    id            bigserial PRIMARY KEY,
    local_id      bigint NOT NULL REFERENCES locals(id) ON DELETE CASCADE,
    member_number text NOT NULL,
    first_name    text NOT NULL,
    last_name     text NOT NULL,
    email         text NOT NULL DEFAULT '',
    standing      text NOT NULL DEFAULT 'good' CHECK (standing IN ('good', 'lapsed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (local_id, member_number)
);

-- An uploaded roster file, kept between the preview and its confirmation.
CREATE TABLE roster_imports (
    id          bigserial PRIMARY KEY,
    local_id    bigint NOT NULL REFERENCES locals(id) ON DELETE CASCADE,
    uploaded_by bigint NOT NULL REFERENCES users(id),
    filename    text NOT NULL DEFAULT '',
    content     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz
);

CREATE TABLE registrations (
    id                  bigserial PRIMARY KEY,
    conference_id       bigint NOT NULL REFERENCES conferences(id),
    category_id         bigint NOT NULL REFERENCES categories(id),
    user_id             bigint REFERENCES users(id) ON DELETE SET NULL,
    created_by          bigint REFERENCES users(id) ON DELETE SET NULL,
    created_as          text NOT NULL CHECK (created_as IN ('self', 'officer', 'staff')),
    status              text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'pending', 'approved',
                            'awaiting_payment', 'confirmed', 'waitlisted', 'denied', 'cancelled')),
    first_name          text NOT NULL,
    last_name           text NOT NULL,
    email               text NOT NULL,
    phone               text NOT NULL DEFAULT '',
    local_id            bigint REFERENCES locals(id),
    member_number       text NOT NULL DEFAULT '',
    accessibility       text NOT NULL DEFAULT '',
    interpretation      text NOT NULL DEFAULT '',
    childcare_count     integer NOT NULL DEFAULT 0 CHECK (childcare_count >= 0),
    childcare_ages      text NOT NULL DEFAULT '',
    dietary             text NOT NULL DEFAULT '',
    emergency_name      text NOT NULL DEFAULT '',
    emergency_phone     text NOT NULL DEFAULT '',
    -- Verification: the roster line matched, and who must decide when it did not.
    roster_entry_id     bigint REFERENCES roster_entries(id) ON DELETE SET NULL,
    -- The verification note's message (a catalog key) and its arguments, so
    -- it can be shown in the reader's language.
    verification        text NOT NULL DEFAULT '',
    verification_args   text[] NOT NULL DEFAULT '{}',
    approver            text NOT NULL DEFAULT 'officer' CHECK (approver IN ('officer', 'staff')),
    price_cents         bigint NOT NULL DEFAULT 0,
    amount_due_cents    bigint NOT NULL DEFAULT 0,
    holds_seat          boolean NOT NULL DEFAULT false,
    decided_by          bigint REFERENCES users(id) ON DELETE SET NULL,
    decided_at          timestamptz,
    denial_reason       text NOT NULL DEFAULT '',
    ticket_token        text UNIQUE,
    badge_printed_at    timestamptz,
    checked_in_at       timestamptz,
    checked_in_by       bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- One live registration per person and conference: by email, by account and
-- by local membership. Cancelled ones do not count.
CREATE UNIQUE INDEX registrations_one_per_email ON registrations (conference_id, lower(email)) WHERE status <> 'cancelled';
CREATE UNIQUE INDEX registrations_one_per_user ON registrations (conference_id, user_id) WHERE status <> 'cancelled' AND user_id IS NOT NULL AND created_as = 'self';
CREATE UNIQUE INDEX registrations_one_per_member ON registrations (conference_id, local_id, member_number) WHERE status <> 'cancelled' AND member_number <> '';
CREATE INDEX registrations_conf_status_idx ON registrations (conference_id, status, created_at);
CREATE INDEX registrations_local_idx ON registrations (local_id, status);
CREATE INDEX registrations_user_idx ON registrations (user_id);

CREATE TABLE registration_sessions (
    registration_id bigint NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    session_id      bigint NOT NULL REFERENCES agenda_sessions(id) ON DELETE CASCADE,
    PRIMARY KEY (registration_id, session_id)
);

-- +goose Down
DROP TABLE registration_sessions;
DROP TABLE registrations;
DROP TABLE roster_imports;
DROP TABLE roster_entries;
