-- A prompt whose message never reached the person closes as `not_delivered`
-- (not `missed`), and its alert is of kind `not_delivered`: officers fix the
-- contact details or the sender instead of chasing the person (SQLite).
-- SQLite cannot change a CHECK constraint in place, so both tables are
-- rebuilt with the same columns and indexes. Store::migrate runs this with
-- foreign keys off (checkins refer to prompts) and checks them afterwards.

CREATE TABLE prompts_new (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders(id),
    -- Scheduler slot (`YYYY-MM-DD#n`) or `now:<id>` for officer prompts:
    -- one prompt per slot, whatever the number of server instances.
    slot        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    issued_at   INTEGER NOT NULL,
    deadline    INTEGER NOT NULL,
    challenge   TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'answered', 'missed', 'cancelled', 'not_delivered')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (order_id, slot)
);
INSERT INTO prompts_new (id, order_id, slot, token_hash, issued_at, deadline, challenge, status,
                         attempts, created_at, updated_at)
    SELECT id, order_id, slot, token_hash, issued_at, deadline, challenge, status,
           attempts, created_at, updated_at FROM prompts;
DROP TABLE prompts;
ALTER TABLE prompts_new RENAME TO prompts;
CREATE INDEX prompts_order ON prompts (order_id, issued_at);
CREATE INDEX prompts_open ON prompts (status, deadline);

CREATE TABLE alerts_new (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('missed_checkin', 'failed_checkin', 'welfare_check',
                                              'symptomatic', 'cannot_prompt', 'not_delivered')),
    person_id   TEXT NOT NULL REFERENCES persons(id),
    order_id    TEXT REFERENCES orders(id),
    -- What opened it (`prompt:<id>`, `welfare:<prompt id>`,
    -- `cannot_prompt:<reason>:<order id>`): one alert per cause.
    cause       TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'resolved')),
    evidence    TEXT NOT NULL,
    assignee    TEXT,
    resolution  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO alerts_new (id, kind, person_id, order_id, cause, status, evidence, assignee,
                        resolution, created_at, updated_at)
    SELECT id, kind, person_id, order_id, cause, status, evidence, assignee,
           resolution, created_at, updated_at FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_status ON alerts (status, id);
CREATE INDEX alerts_order ON alerts (order_id, status);
