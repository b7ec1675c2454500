-- A prompt whose message never reached the person closes as `not_delivered`
-- (not `missed`), and its alert is of kind `not_delivered`: officers fix the
-- contact details or the sender instead of chasing the person (PostgreSQL).

ALTER TABLE prompts DROP CONSTRAINT prompts_status_check;
ALTER TABLE prompts ADD CONSTRAINT prompts_status_check
    CHECK (status IN ('open', 'answered', 'missed', 'cancelled', 'not_delivered'));

ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('missed_checkin', 'failed_checkin', 'welfare_check', 'symptomatic',
                    'cannot_prompt', 'not_delivered'));
