-- +goose Up
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL,
    password_hash text NOT NULL,
    is_staff      boolean NOT NULL DEFAULT false,
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Sessions store only a SHA-256 of the cookie's token, so a leaked table
-- cannot be replayed as cookies.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- Failed sign-in attempts, keyed by account ("email:...") and by address
-- ("ip:..."); kept in PostgreSQL so throttling holds across app processes.
CREATE TABLE login_failures (
    id        bigserial PRIMARY KEY,
    key       text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, failed_at);

CREATE TABLE locals (
    id         bigserial PRIMARY KEY,
    number     text NOT NULL UNIQUE,
    name       text NOT NULL,
    union_name text NOT NULL DEFAULT '',
    region     text NOT NULL DEFAULT '',
    city       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE officers (
    user_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_id bigint NOT NULL REFERENCES locals(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, local_id)
);

CREATE TABLE conferences (
    id                        bigserial PRIMARY KEY,
    slug                      text NOT NULL UNIQUE,
    title                     text NOT NULL,
    title_es                  text NOT NULL DEFAULT '',
    description               text NOT NULL DEFAULT '',
    description_es            text NOT NULL DEFAULT '',
    venue                     text NOT NULL DEFAULT '',
    city                      text NOT NULL DEFAULT '',
    time_zone                 text NOT NULL,
    starts_on                 date NOT NULL,
    ends_on                   date NOT NULL,
    mode                      text NOT NULL DEFAULT 'in_person' CHECK (mode IN ('in_person', 'virtual', 'hybrid')),
    join_url                  text NOT NULL DEFAULT '',
    languages                 text NOT NULL DEFAULT 'en',
    capacity                  integer CHECK (capacity IS NULL OR capacity >= 0),
    taken                     integer NOT NULL DEFAULT 0,
    currency                  text NOT NULL DEFAULT 'usd',
    status                    text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'closed', 'archived')),
    registration_opens_at     timestamptz NOT NULL,
    registration_closes_at    timestamptz NOT NULL,
    approval_deadline         timestamptz,
    cancellation_deadline     timestamptz,
    workshop_signup_closes_at timestamptz,
    payment_due_days          integer CHECK (payment_due_days IS NULL OR payment_due_days >= 0),
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on),
    CHECK (registration_closes_at > registration_opens_at)
);

CREATE TABLE categories (
    id                  bigserial PRIMARY KEY,
    conference_id       bigint NOT NULL REFERENCES conferences(id) ON DELETE CASCADE,
    slug                text NOT NULL,
    name                text NOT NULL,
    name_es             text NOT NULL DEFAULT '',
    price_cents         bigint NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    early_price_cents   bigint CHECK (early_price_cents IS NULL OR early_price_cents >= 0),
    early_until         timestamptz,
    capacity            integer CHECK (capacity IS NULL OR capacity >= 0),
    taken               integer NOT NULL DEFAULT 0,
    requires_membership boolean NOT NULL DEFAULT true,
    requires_approval   boolean NOT NULL DEFAULT false,
    approver            text NOT NULL DEFAULT 'officer' CHECK (approver IN ('officer', 'staff')),
    position            integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conference_id, slug)
);

CREATE TABLE agenda_sessions (
    id            bigserial PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences(id) ON DELETE CASCADE,
    title         text NOT NULL,
    title_es      text NOT NULL DEFAULT '',
    kind          text NOT NULL CHECK (kind IN ('plenary', 'workshop', 'panel', 'caucus', 'meal', 'other')),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    room          text NOT NULL DEFAULT '',
    speakers      text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    capacity      integer CHECK (capacity IS NULL OR capacity >= 0),
    taken         integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX agenda_sessions_conf_idx ON agenda_sessions (conference_id, starts_at);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    actor_id    bigint REFERENCES users(id) ON DELETE SET NULL,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   bigint NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, created_at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE agenda_sessions;
DROP TABLE categories;
DROP TABLE conferences;
DROP TABLE officers;
DROP TABLE locals;
DROP TABLE login_failures;
DROP TABLE password_resets;
DROP TABLE sessions;
DROP TABLE users;
