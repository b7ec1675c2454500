-- Template keys get ids (sqlite). Every sealed value names the key that sealed it, so the
-- configuration can hold the current key and previous ones by id, and `lazaret keys rotate`
-- re-seals what is under an older key while the server runs. Everything sealed before
-- ids existed was sealed with the one key of that time, whose id is 'k1' (the default
-- `template_key_id`).
ALTER TABLE enrollments ADD COLUMN key_id TEXT NOT NULL DEFAULT 'k1';
-- The pending template and the submitted photo of a self-enrolment link (NULL while the
-- link holds none).
ALTER TABLE enrollment_links ADD COLUMN key_id TEXT;
ALTER TABLE enrollment_links ADD COLUMN photo_key_id TEXT;
UPDATE enrollment_links SET key_id = 'k1' WHERE ciphertext IS NOT NULL;
UPDATE enrollment_links SET photo_key_id = 'k1' WHERE photo_ciphertext IS NOT NULL;

-- Facts about the database itself, set once. `clock`: the kind of clock (`system` or
-- `simulated`) whose time the data carries, so a simulated clock never runs against
-- real orders (it would complete them and purge their templates within minutes).
CREATE TABLE database_marks (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL,
    set_at  INTEGER NOT NULL
);
