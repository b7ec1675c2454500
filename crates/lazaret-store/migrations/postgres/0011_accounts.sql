-- Officer accounts, console sessions and login throttling (issue #12).

-- `districts` is DistrictScope's text form (`*` or `north,south`); `password_hash` an
-- argon2id PHC string; `totp_secret` the TOTP key once enrolled (never printed again; sealed
-- with template_key when one is set); `failed_logins` counts wrong answers since the last
-- success or lockout; `totp_last_step` the 30-second step of the last code accepted (a
-- code is accepted once).
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    districts      TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    totp_secret    TEXT,
    totp_last_step BIGINT,
    disabled_at    BIGINT,
    failed_logins  BIGINT NOT NULL DEFAULT 0,
    locked_until   BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- A console session, found by the SHA-256 of its cookie value (the value itself is never
-- stored). Idle expiry is judged from `last_seen_at`, absolute expiry is `expires_at`.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    ended_at      BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins per client address, for the per-address limit; rows older than the
-- window are deleted as new ones arrive.
CREATE TABLE login_failures (
    address  TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- A token belongs to an account (`user_id`) or is a named service token (NULL). Tokens
-- expire: those issued before this migration get 90 days from now.
ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users(id);
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
UPDATE api_tokens SET expires_at = CAST(extract(epoch FROM now()) * 1000 AS BIGINT) + CAST(90 AS BIGINT) * 86400000;
CREATE INDEX api_tokens_user ON api_tokens (user_id);
