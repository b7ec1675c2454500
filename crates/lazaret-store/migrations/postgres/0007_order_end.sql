-- Ending an order ends everything that works against the person (PostgreSQL).
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

ALTER TABLE orders ADD COLUMN ended_at BIGINT;
UPDATE orders SET ended_at = CASE WHEN status = 'completed' THEN ends_at
                                  ELSE LEAST(updated_at, ends_at) END
    WHERE status IN ('completed', 'released');

ALTER TABLE enrollments DROP COLUMN delete_after;
ALTER TABLE enrollment_links DROP COLUMN delete_after;
ALTER TABLE symptom_forms ADD COLUMN cancelled_at BIGINT;

UPDATE prompts SET status = 'cancelled', updated_at = o.updated_at
    FROM orders o
    WHERE o.id = prompts.order_id AND prompts.status = 'open'
      AND o.status IN ('completed', 'released');
UPDATE symptom_forms SET cancelled_at = o.updated_at
    FROM orders o
    WHERE o.id = symptom_forms.order_id AND symptom_forms.used_at IS NULL
      AND o.status IN ('completed', 'released');
UPDATE enrollment_links SET status = 'revoked', updated_at = o.updated_at
    FROM orders o
    WHERE o.id = enrollment_links.order_id AND enrollment_links.status = 'open'
      AND o.status IN ('completed', 'released');
UPDATE enrollment_links SET status = 'rejected', ciphertext = NULL, nonce = NULL,
        reason = 'the order ended before a decision', decided_by = 'system:migration',
        decided_at = o.updated_at, updated_at = o.updated_at
    FROM orders o
    WHERE o.id = enrollment_links.order_id AND enrollment_links.status = 'pending'
      AND o.status IN ('completed', 'released');

ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('missed_checkin', 'failed_checkin', 'welfare_check', 'symptomatic',
                    'cannot_prompt'));

-- Ending an order finds its open alerts and pending messages by order.
CREATE INDEX alerts_order ON alerts (order_id, status);
CREATE INDEX outbox_order ON outbox (order_id, status);
