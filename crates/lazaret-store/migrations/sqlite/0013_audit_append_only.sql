-- The audit log is append-only: nothing in Lazaret updates or deletes an event, so the
-- database refuses it too. Someone with raw write access can still drop these triggers;
-- the keyed chain and its checkpoints (`lazaret audit verify`) are what catch that.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
