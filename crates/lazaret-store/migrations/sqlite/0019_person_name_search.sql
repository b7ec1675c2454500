-- Name search by index (the console's persons list): a substring of a name
-- among a million persons read every row (383 ms, `lazaret bench lists`).
-- An FTS5 trigram index answers a phrase of three or more characters
-- exactly (consecutive trigrams), case-folded in every script. Contentless:
-- the names stay only in `persons`. `persons` has no rowid (0006), so each
-- person gets an integer key here; triggers keep both in step with every
-- write, imports included.
CREATE TABLE person_search_keys (
    k          INTEGER PRIMARY KEY,
    person_id  TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE person_names USING fts5(
    name, content = '', contentless_delete = 1, tokenize = 'trigram'
);

INSERT INTO person_search_keys (person_id) SELECT id FROM persons;
INSERT INTO person_names (rowid, name)
    SELECT k.k, p.full_name FROM person_search_keys k JOIN persons p ON p.id = k.person_id;

CREATE TRIGGER persons_name_insert AFTER INSERT ON persons BEGIN
    INSERT INTO person_search_keys (person_id) VALUES (new.id);
    INSERT INTO person_names (rowid, name)
        VALUES ((SELECT k FROM person_search_keys WHERE person_id = new.id), new.full_name);
END;

CREATE TRIGGER persons_name_update AFTER UPDATE OF full_name ON persons
WHEN old.full_name IS NOT new.full_name BEGIN
    DELETE FROM person_names
        WHERE rowid = (SELECT k FROM person_search_keys WHERE person_id = new.id);
    INSERT INTO person_names (rowid, name)
        VALUES ((SELECT k FROM person_search_keys WHERE person_id = new.id), new.full_name);
END;

CREATE TRIGGER persons_name_delete AFTER DELETE ON persons BEGIN
    DELETE FROM person_names
        WHERE rowid = (SELECT k FROM person_search_keys WHERE person_id = old.id);
    DELETE FROM person_search_keys WHERE person_id = old.id;
END;
