-- The console's language an officer chose (`en`, `ru`); NULL follows the browser's
-- Accept-Language.
ALTER TABLE users ADD COLUMN language TEXT;
