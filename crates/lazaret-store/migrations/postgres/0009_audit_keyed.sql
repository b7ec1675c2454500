-- The keyed audit chain (see lazaret_core::audit and ARCHITECTURE.md, "Audit chain").
-- keyed_from: the seq of the first event linked with HMAC-SHA-256 under audit_key. NULL until
-- a store holding the key first appends; the events before it keep their SHA-256 links.
-- spool_mark: `<spool id>:<row id>`, the last SQLite spool row already in the chain, so that
-- spooled reads are appended exactly once.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;
ALTER TABLE audit_head ADD COLUMN spool_mark TEXT;
-- Filters of GET /api/v1/audit and `lazaret audit export`.
CREATE INDEX audit_actor ON audit_events (actor, seq);
CREATE INDEX audit_action ON audit_events (action, seq);
