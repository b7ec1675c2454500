-- Self-enrolment links with their pending templates, and daily symptom
-- forms with their reports (SQLite). Tokens are stored only as SHA-256
-- hashes; photos are never stored; a pending template is AEAD ciphertext,
-- cleared once an officer decides.

CREATE TABLE enrollment_links (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES orders(id),
    token_hash    TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    -- open: waiting for a photo; pending: a template waits for an officer;
    -- approved, rejected: decided; revoked: replaced by a newer link.
    status        TEXT NOT NULL CHECK (status IN ('open', 'pending', 'approved', 'rejected', 'revoked')),
    ciphertext    BLOB,
    nonce         BLOB,
    model         TEXT,
    -- When an undecided template must be gone (order end plus grace).
    delete_after  INTEGER,
    submitted_at  INTEGER,
    decided_at    INTEGER,
    decided_by    TEXT,
    reason        TEXT,
    updated_at    INTEGER NOT NULL
);
-- At most one live (open or pending) link per order.
CREATE UNIQUE INDEX enrollment_links_live ON enrollment_links (order_id)
    WHERE status IN ('open', 'pending');

CREATE TABLE symptom_forms (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders(id),
    -- `day:YYYY-MM-DD` from the scheduler (one per order and local day,
    -- whatever the number of instances) or `now:<id>` from an officer.
    slot        TEXT NOT NULL,
    -- The order's local day the form is for.
    day         TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    UNIQUE (order_id, slot)
);

CREATE TABLE symptom_reports (
    id             TEXT PRIMARY KEY,
    form_id        TEXT NOT NULL UNIQUE REFERENCES symptom_forms(id),
    order_id       TEXT NOT NULL REFERENCES orders(id),
    person_id      TEXT NOT NULL REFERENCES persons(id),
    day            TEXT NOT NULL,
    -- JSON array of symptom names; empty means the person ticked none.
    symptoms       TEXT NOT NULL,
    other          TEXT,
    temperature_c  REAL,
    received_at    INTEGER NOT NULL
);
CREATE INDEX symptom_reports_order ON symptom_reports (order_id, received_at);
