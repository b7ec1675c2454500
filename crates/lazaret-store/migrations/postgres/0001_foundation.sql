-- Foundation schema (PostgreSQL). Timestamps are Unix milliseconds (BIGINT)
-- so that comparisons and ordering are identical on both backends.
-- By design there is no nationality, ethnicity, race, gender or age column.

CREATE TABLE persons (
    id          TEXT PRIMARY KEY,
    full_name   TEXT NOT NULL,
    phone       TEXT,
    email       TEXT,
    language    TEXT NOT NULL DEFAULT 'en',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE orders (
    id             TEXT PRIMARY KEY,
    person_id      TEXT NOT NULL REFERENCES persons(id),
    address        TEXT NOT NULL,
    lat            DOUBLE PRECISION NOT NULL,
    lon            DOUBLE PRECISION NOT NULL,
    radius_m       DOUBLE PRECISION NOT NULL,
    starts_at      BIGINT NOT NULL,
    ends_at        BIGINT NOT NULL,
    time_zone      TEXT NOT NULL,
    bases          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'completed', 'released')),
    status_reason  TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX orders_person ON orders (person_id);
CREATE INDEX orders_status ON orders (status, id);
-- At most one active order per person: a second basis extends the first.
CREATE UNIQUE INDEX orders_one_active ON orders (person_id) WHERE status = 'active';

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    secret_hash   TEXT NOT NULL,
    role          TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    seq           BIGINT PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    details       TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit_events (subject_type, subject_id);

CREATE TABLE jobs (
    id            BIGSERIAL PRIMARY KEY,
    queue         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    dedupe_key    TEXT UNIQUE,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'dead')),
    run_at        BIGINT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    locked_by     TEXT,
    locked_until  BIGINT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (queue, status, run_at);
