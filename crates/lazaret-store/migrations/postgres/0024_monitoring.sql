-- Monitoring of notify-tier contacts without quarantine: an exposure notice informs them and,
-- until `monitor_until`, they get a daily symptom form like a person with an order. A form
-- and its report now belong to an order or to a contact's follow-up (exactly one). A
-- symptomatic report of a monitored contact can make them a suspected case (status
-- `suspected`).

ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_status_check;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_status_check CHECK (status IN ('to_interview',
    'interviewed', 'to_call', 'to_inform', 'reached', 'unreachable', 'refused', 'not_a_contact',
    'quarantined', 'monitored', 'released', 'suspected'));
-- The end of a notify-tier contact's monitoring (last exposure + the policy's days).
ALTER TABLE follow_ups ADD COLUMN monitor_until BIGINT;
CREATE INDEX follow_ups_monitoring ON follow_ups (monitor_until) WHERE status = 'monitored';

ALTER TABLE symptom_forms ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE symptom_forms ADD COLUMN follow_up_id TEXT REFERENCES follow_ups(id);
ALTER TABLE symptom_forms ADD CONSTRAINT symptom_forms_subject
    CHECK ((order_id IS NULL) <> (follow_up_id IS NULL));
ALTER TABLE symptom_forms ADD CONSTRAINT symptom_forms_follow_up_id_slot_key
    UNIQUE (follow_up_id, slot);

ALTER TABLE symptom_reports ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE symptom_reports ADD COLUMN follow_up_id TEXT REFERENCES follow_ups(id);
ALTER TABLE symptom_reports ADD CONSTRAINT symptom_reports_subject
    CHECK ((order_id IS NULL) <> (follow_up_id IS NULL));
CREATE INDEX symptom_reports_follow_up ON symptom_reports (follow_up_id, received_at);

-- The last change of a contact's order its person was told of: NULL (nothing yet),
-- `issued:<ends_at ms>` or `ended`; `legacy` for the orders from before this, which get no
-- notices (an upgrade sends no old news).
ALTER TABLE orders ADD COLUMN notice_state TEXT;
UPDATE orders SET notice_state = 'legacy';
