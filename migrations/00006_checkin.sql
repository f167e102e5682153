-- +goose Up
-- Personal API tokens that staff create for scanner devices. Only a SHA-256
-- of the token is stored: the token itself is shown once, at creation.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    -- The token's last four characters, so people can tell devices apart.
    hint         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   bigint REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Check-in requests sent with a client nonce, and the first answer given
-- (the result, and the check-in it found or made), so a retried request is
-- answered the same and never counts twice. The code is kept only as a
-- SHA-256, to refuse a nonce reused for another code. Rows are pruned after
-- a day.
CREATE TABLE checkin_requests (
    user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    nonce           text NOT NULL,
    conference_id   bigint NOT NULL REFERENCES conferences(id) ON DELETE CASCADE,
    code_hash       bytea NOT NULL,
    -- A snapshot of the answer, pruned within a day: no foreign keys to
    -- check on the busiest insert of the check-in desk.
    registration_id bigint,
    result          text NOT NULL,
    checked_in_at   timestamptz,
    checked_in_by   bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, nonce)
);
CREATE INDEX checkin_requests_created_idx ON checkin_requests (created_at);

-- A registration is updated in place several times in its life (status,
-- payment, badge printed, check-in). Room on each page lets those updates be
-- HOT: no index is touched when no indexed column changes, as at check-in.
ALTER TABLE registrations SET (fillfactor = 85);

-- +goose Down
ALTER TABLE registrations RESET (fillfactor);
DROP TABLE checkin_requests;
DROP TABLE api_tokens;
