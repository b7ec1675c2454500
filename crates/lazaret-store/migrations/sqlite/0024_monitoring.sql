-- Monitoring of notify-tier contacts without quarantine: an exposure notice informs them and,
-- until `monitor_until`, they get a daily symptom form like a person with an order. A form
-- and its report now belong to an order or to a contact's follow-up (exactly one). A
-- symptomatic report of a monitored contact can make them a suspected case (status
-- `suspected`). SQLite cannot change a CHECK or drop a NOT NULL in place: the three tables
-- are rebuilt (foreign keys are off while migrations run).

CREATE TABLE follow_ups_new (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('case', 'contact')),
    person_id      TEXT NOT NULL REFERENCES persons(id),
    case_id        TEXT NOT NULL,
    test_id        TEXT NOT NULL,
    tier           TEXT CHECK (tier IS NULL OR tier IN ('close', 'notify')),
    district       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('to_interview', 'interviewed', 'to_call',
                       'to_inform', 'reached', 'unreachable', 'refused', 'not_a_contact',
                       'quarantined', 'monitored', 'released', 'suspected')),
    assignee       TEXT,
    due_at         INTEGER,
    unanswered     INTEGER NOT NULL DEFAULT 0,
    reached_at     INTEGER,
    informed_at    INTEGER,
    opened_at      INTEGER NOT NULL,
    closed_at      INTEGER,
    updated_at     INTEGER NOT NULL,
    -- The end of a notify-tier contact's monitoring (last exposure + the policy's days).
    monitor_until  INTEGER
);
INSERT INTO follow_ups_new (id, kind, person_id, case_id, test_id, tier, district, status,
                            assignee, due_at, unanswered, reached_at, informed_at, opened_at,
                            closed_at, updated_at)
    SELECT id, kind, person_id, case_id, test_id, tier, district, status, assignee, due_at,
           unanswered, reached_at, informed_at, opened_at, closed_at, updated_at FROM follow_ups;
DROP TABLE follow_ups;
ALTER TABLE follow_ups_new RENAME TO follow_ups;
CREATE UNIQUE INDEX follow_ups_open ON follow_ups (kind, person_id) WHERE closed_at IS NULL;
CREATE INDEX follow_ups_work ON follow_ups (district, status, due_at);
CREATE INDEX follow_ups_case ON follow_ups (case_id);
CREATE INDEX follow_ups_test ON follow_ups (test_id);
CREATE INDEX follow_ups_monitoring ON follow_ups (monitor_until) WHERE status = 'monitored';

CREATE TABLE symptom_forms_new (
    id            TEXT PRIMARY KEY,
    order_id      TEXT REFERENCES orders(id),
    follow_up_id  TEXT REFERENCES follow_ups(id),
    slot          TEXT NOT NULL,
    day           TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    cancelled_at  INTEGER,
    CHECK ((order_id IS NULL) <> (follow_up_id IS NULL)),
    UNIQUE (order_id, slot),
    UNIQUE (follow_up_id, slot)
);
INSERT INTO symptom_forms_new (id, order_id, slot, day, token_hash, issued_at, expires_at,
                               used_at, cancelled_at)
    SELECT id, order_id, slot, day, token_hash, issued_at, expires_at, used_at, cancelled_at
    FROM symptom_forms;

CREATE TABLE symptom_reports_new (
    id             TEXT PRIMARY KEY,
    form_id        TEXT NOT NULL UNIQUE REFERENCES symptom_forms(id),
    order_id       TEXT REFERENCES orders(id),
    follow_up_id   TEXT REFERENCES follow_ups(id),
    person_id      TEXT NOT NULL REFERENCES persons(id),
    day            TEXT NOT NULL,
    symptoms       TEXT NOT NULL,
    other          TEXT,
    temperature_c  REAL,
    received_at    INTEGER NOT NULL,
    CHECK ((order_id IS NULL) <> (follow_up_id IS NULL))
);
INSERT INTO symptom_reports_new (id, form_id, order_id, person_id, day, symptoms, other,
                                 temperature_c, received_at)
    SELECT id, form_id, order_id, person_id, day, symptoms, other, temperature_c, received_at
    FROM symptom_reports;
DROP TABLE symptom_reports;
DROP TABLE symptom_forms;
ALTER TABLE symptom_forms_new RENAME TO symptom_forms;
ALTER TABLE symptom_reports_new RENAME TO symptom_reports;
CREATE INDEX symptom_reports_order ON symptom_reports (order_id, received_at);
CREATE INDEX symptom_reports_follow_up ON symptom_reports (follow_up_id, received_at);

-- The last change of a contact's order its person was told of: NULL (nothing yet),
-- `issued:<ends_at ms>` or `ended`; `legacy` for the orders from before this, which get no
-- notices (an upgrade sends no old news).
ALTER TABLE orders ADD COLUMN notice_state TEXT;
UPDATE orders SET notice_state = 'legacy';
