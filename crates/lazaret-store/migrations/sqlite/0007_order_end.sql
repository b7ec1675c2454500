-- Ending an order ends everything that works against the person (SQLite).
--
-- * orders.ended_at: when a completed or released order ended (the earlier
--   of its release and its end). A template is kept until
--   COALESCE(ended_at, ends_at) plus the configured grace, so its retention
--   follows the order (an extension moves it, an early release shortens it)
--   instead of a date fixed at enrolment: the stored delete_after columns go.
-- * symptom_forms.cancelled_at: a form withdrawn because its order ended.
-- * alerts.kind gains cannot_prompt (an active order nothing can prompt).
-- * Orders that ended before this migration get the same wind-down their
--   end now gets: open prompts cancelled, unused forms withdrawn, open
--   self-enrolment links revoked and pending templates erased.

ALTER TABLE orders ADD COLUMN ended_at INTEGER;
UPDATE orders SET ended_at = CASE WHEN status = 'completed' THEN ends_at
                                  ELSE MIN(updated_at, ends_at) END
    WHERE status IN ('completed', 'released');

ALTER TABLE enrollments DROP COLUMN delete_after;
ALTER TABLE enrollment_links DROP COLUMN delete_after;
ALTER TABLE symptom_forms ADD COLUMN cancelled_at INTEGER;

UPDATE prompts SET status = 'cancelled',
        updated_at = (SELECT o.updated_at FROM orders o WHERE o.id = prompts.order_id)
    WHERE status = 'open'
      AND order_id IN (SELECT id FROM orders WHERE status IN ('completed', 'released'));
UPDATE symptom_forms
    SET cancelled_at = (SELECT o.updated_at FROM orders o WHERE o.id = symptom_forms.order_id)
    WHERE used_at IS NULL
      AND order_id IN (SELECT id FROM orders WHERE status IN ('completed', 'released'));
UPDATE enrollment_links SET status = 'revoked',
        updated_at = (SELECT o.updated_at FROM orders o WHERE o.id = enrollment_links.order_id)
    WHERE status = 'open'
      AND order_id IN (SELECT id FROM orders WHERE status IN ('completed', 'released'));
UPDATE enrollment_links SET status = 'rejected', ciphertext = NULL, nonce = NULL,
        reason = 'the order ended before a decision', decided_by = 'system:migration',
        decided_at = (SELECT o.updated_at FROM orders o WHERE o.id = enrollment_links.order_id),
        updated_at = (SELECT o.updated_at FROM orders o WHERE o.id = enrollment_links.order_id)
    WHERE status = 'pending'
      AND order_id IN (SELECT id FROM orders WHERE status IN ('completed', 'released'));

-- SQLite cannot change a CHECK in place: the table is rebuilt (same columns,
-- constraints and index; foreign keys are off during migrations).
CREATE TABLE alerts_new (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('missed_checkin', 'failed_checkin', 'welfare_check',
                                              'symptomatic', 'cannot_prompt')),
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

-- Ending an order finds its open alerts and pending messages by order.
CREATE INDEX alerts_order ON alerts (order_id, status);
CREATE INDEX outbox_order ON outbox (order_id, status);
