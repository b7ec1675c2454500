-- Districts (jurisdictions, lazaret_core::district). Persons, orders and alerts carry their
-- district in a column of their own, indexed, so that every officer query is limited in SQL.
-- What follows from an order (prompts, check-ins, symptom forms and reports, enrolments,
-- self-enrolment links, outbox messages) is reached through its order; test results, cases and
-- contacts through their person. Rows written before districts existed are 'unassigned': a
-- national officer (districts '*') sees them and can reassign them.
ALTER TABLE persons ADD COLUMN district TEXT NOT NULL DEFAULT 'unassigned';
ALTER TABLE orders ADD COLUMN district TEXT NOT NULL DEFAULT 'unassigned';
ALTER TABLE alerts ADD COLUMN district TEXT NOT NULL DEFAULT 'unassigned';
-- An alert belongs to its order's district (else its person's).
UPDATE alerts SET district = COALESCE(
    (SELECT o.district FROM orders o WHERE o.id = alerts.order_id),
    (SELECT p.district FROM persons p WHERE p.id = alerts.person_id),
    'unassigned');
CREATE INDEX persons_district ON persons (district, id);
CREATE INDEX orders_district ON orders (district, id);
CREATE INDEX alerts_district ON alerts (district, id);
