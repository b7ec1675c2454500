-- The notification outbox: one row per message to a person, delivered by
-- the job queue (queue `notify.send`, one job per message).
-- The rendered body carries the person's secret link (a prompt token): it
-- is kept only until the message is sent or given up, then set to NULL;
-- body_redacted (the same text with the secrets removed) stays for officers.

CREATE TABLE outbox (
    id             TEXT PRIMARY KEY,
    -- What the message is about (`prompt:<id>`): enqueued at most once.
    dedupe_key     TEXT NOT NULL UNIQUE,
    person_id      TEXT NOT NULL REFERENCES persons(id),
    order_id       TEXT REFERENCES orders(id),
    kind           TEXT NOT NULL,
    -- NULL when no configured channel reaches the person (status failed).
    channel        TEXT CHECK (channel IS NULL OR channel IN ('email', 'sms')),
    language       TEXT NOT NULL,
    recipient      TEXT,
    subject        TEXT NOT NULL,
    body           TEXT,
    body_redacted  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    -- Past this the message is pointless (the prompt's deadline): not sent.
    expires_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    sent_at        INTEGER,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX outbox_person ON outbox (person_id, created_at);
CREATE INDEX outbox_status ON outbox (status, created_at);

-- Announce jobs used to carry the plaintext prompt token in their payload;
-- the outbox replaces them. Scrub every stored token and retire the queue.
UPDATE jobs SET status = 'dead', last_error = 'superseded by the notification outbox'
    WHERE queue = 'prompt.announce' AND status IN ('pending', 'running');
UPDATE jobs SET payload = '{}' WHERE queue = 'prompt.announce';
