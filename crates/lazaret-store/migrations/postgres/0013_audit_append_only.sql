-- The audit log is append-only: nothing in Lazaret updates or deletes an event, so the
-- database refuses it too, for every role (the owner included, which REVOKE alone would
-- not stop). Someone who may alter the table can still drop these triggers; the keyed chain
-- and its checkpoints (`lazaret audit verify`) are what catch that. Deployments that run
-- Lazaret under a role that does not own the tables get the REVOKE as well.
CREATE FUNCTION lazaret_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION lazaret_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION lazaret_audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
