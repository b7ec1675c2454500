-- Name search by index (the console's persons list): a substring of a name
-- among a million persons read every row (401 ms, `lazaret bench lists`).
-- A trigram GIN index (pg_trgm, in PostgreSQL's contrib and a trusted
-- extension since 13: the database owner may create it) serves
-- `LOWER(full_name) LIKE '%…%'` as the list query writes it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX persons_name_trgm ON persons USING gin (LOWER(full_name) gin_trgm_ops);
