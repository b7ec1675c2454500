-- When a positive test was last traced (Unix ms; NULL: never, or its result was
-- revised since), so a case traced with no contacts still shows as traced. The
-- console's cases list walks the positive tests newest first.
ALTER TABLE test_results ADD COLUMN traced_at BIGINT;
CREATE INDEX test_results_cases ON test_results (result, sampled_at, person_id);
