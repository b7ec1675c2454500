-- The districts an API token works in: `*` (national) or codes separated by commas
-- (lazaret_core::district::DistrictScope). Tokens issued before districts existed were national.
ALTER TABLE api_tokens ADD COLUMN districts TEXT NOT NULL DEFAULT '*';
