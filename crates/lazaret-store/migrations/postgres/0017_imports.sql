-- The history of imports made in the console (and the files waiting to be
-- committed): who, when, which kind, file name, district, rows, result and
-- the errors found. `content` holds the uploaded file only from a clean dry
-- run until it is committed or expires; it is cleared then. `errors` keeps
-- the first bad rows found (JSON: line, column, reason), `error_count` all.
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    district TEXT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    row_count BIGINT NOT NULL DEFAULT 0,
    rows_done BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '{}',
    error_count BIGINT NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]',
    failure TEXT,
    content BYTEA,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX imports_district_id ON imports (district, id);
