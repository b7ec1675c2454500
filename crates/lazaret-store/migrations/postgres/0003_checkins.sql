-- Enrolments, check-in prompts, check-ins and alerts (PostgreSQL).
-- Templates are stored only as AEAD ciphertext; photos and check-in frames
-- are never stored.

CREATE TABLE enrollments (
    order_id      TEXT PRIMARY KEY REFERENCES orders(id),
    ciphertext    BYTEA NOT NULL,
    nonce         BYTEA NOT NULL,
    model         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- When the template must be gone: order end plus the grace period.
    delete_after  BIGINT NOT NULL
);

CREATE TABLE prompts (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders(id),
    -- Scheduler slot (`YYYY-MM-DD#n`) or `now:<id>` for officer prompts:
    -- one prompt per slot, whatever the number of server instances.
    slot        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    issued_at   BIGINT NOT NULL,
    deadline    BIGINT NOT NULL,
    challenge   TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'answered', 'missed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (order_id, slot)
);
CREATE INDEX prompts_order ON prompts (order_id, issued_at);
CREATE INDEX prompts_open ON prompts (status, deadline);

CREATE TABLE checkins (
    id               TEXT PRIMARY KEY,
    prompt_id        TEXT NOT NULL REFERENCES prompts(id),
    request_key      TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    received_at      BIGINT NOT NULL,
    -- NULL while the verification of this attempt is running.
    outcome          TEXT,
    evidence         TEXT NOT NULL,
    UNIQUE (prompt_id, request_key)
);

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('missed_checkin', 'failed_checkin', 'welfare_check', 'symptomatic')),
    person_id   TEXT NOT NULL REFERENCES persons(id),
    order_id    TEXT REFERENCES orders(id),
    -- What opened it (`prompt:<id>`, `welfare:<prompt id>`): one alert per cause.
    cause       TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'resolved')),
    evidence    TEXT NOT NULL,
    assignee    TEXT,
    resolution  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX alerts_status ON alerts (status, id);
