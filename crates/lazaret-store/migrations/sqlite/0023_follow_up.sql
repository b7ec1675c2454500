-- Follow-up after a trace: contacts a case named in an interview (kept apart from the
-- registers so that a new trace keeps them), the follow-up of each case (its interview)
-- and each contact (calls, then quarantine or monitoring), and the log of call attempts.
-- Test results gain the lab's result time and the time Lazaret received them: the
-- indicators measure from them.

CREATE TABLE named_contacts (
    case_id        TEXT NOT NULL REFERENCES persons(id),
    person_id      TEXT NOT NULL REFERENCES persons(id),
    setting        TEXT NOT NULL CHECK (setting IN
                       ('household', 'workplace', 'school', 'social', 'healthcare', 'other')),
    last_exposure  INTEGER NOT NULL,
    named_by       TEXT NOT NULL,
    named_at       INTEGER NOT NULL,
    PRIMARY KEY (case_id, person_id, setting)
);

CREATE TABLE follow_ups (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('case', 'contact')),
    person_id    TEXT NOT NULL REFERENCES persons(id),
    case_id      TEXT NOT NULL,
    -- The positive test the case or contact came from (a revision closes the follow-ups
    -- that rest on it).
    test_id      TEXT NOT NULL,
    tier         TEXT CHECK (tier IS NULL OR tier IN ('close', 'notify')),
    district     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('to_interview', 'interviewed', 'to_call',
                     'to_inform', 'reached', 'unreachable', 'refused', 'not_a_contact',
                     'quarantined', 'monitored', 'released')),
    assignee     TEXT,
    due_at       INTEGER,
    unanswered   INTEGER NOT NULL DEFAULT 0,
    reached_at   INTEGER,
    informed_at  INTEGER,
    opened_at    INTEGER NOT NULL,
    closed_at    INTEGER,
    updated_at   INTEGER NOT NULL
);
-- One open follow-up per person and kind: a contact of two cases is called once.
CREATE UNIQUE INDEX follow_ups_open ON follow_ups (kind, person_id) WHERE closed_at IS NULL;
CREATE INDEX follow_ups_work ON follow_ups (district, status, due_at);
CREATE INDEX follow_ups_case ON follow_ups (case_id);
CREATE INDEX follow_ups_test ON follow_ups (test_id);

CREATE TABLE follow_up_calls (
    id            TEXT PRIMARY KEY,
    follow_up_id  TEXT NOT NULL REFERENCES follow_ups(id),
    at            INTEGER NOT NULL,
    caller        TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN
                      ('reached', 'no_answer', 'wrong_number', 'refused', 'not_a_contact')),
    note          TEXT
);
CREATE INDEX follow_up_calls_follow_up ON follow_up_calls (follow_up_id, at);

ALTER TABLE test_results ADD COLUMN resulted_at INTEGER;
ALTER TABLE test_results ADD COLUMN reported_at INTEGER;
