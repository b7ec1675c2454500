-- An officer's outcome code when resolving an alert (reached_by_phone, visited,
-- exempted, false_alarm, technical_problem, other); NULL for alerts the system
-- closed and those resolved before the codes existed.
ALTER TABLE alerts ADD COLUMN outcome TEXT;
