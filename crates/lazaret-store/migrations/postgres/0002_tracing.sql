-- Contact tracing (PostgreSQL): test results, exposure sources (flights, residence
-- register, rides) and the contacts derived from them. Timestamps are Unix
-- milliseconds. Exposure data only: by design no nationality, ethnicity,
-- race, gender or age column, so nothing here can select people by who they are.

CREATE TABLE test_results (
    id             TEXT PRIMARY KEY,
    person_id      TEXT NOT NULL,
    sampled_at     BIGINT NOT NULL,
    result         TEXT NOT NULL CHECK (result IN ('positive', 'negative')),
    lab            TEXT NOT NULL,
    symptom_onset  TEXT,
    revisions      TEXT NOT NULL DEFAULT '[]',
    updated_at     BIGINT NOT NULL
);
CREATE INDEX test_results_person ON test_results (person_id, sampled_at);
CREATE INDEX test_results_result ON test_results (result, person_id);

CREATE TABLE flights (
    id           TEXT PRIMARY KEY,
    flight_no    TEXT NOT NULL,
    departure    BIGINT NOT NULL,
    origin       TEXT NOT NULL,
    destination  TEXT NOT NULL
);

CREATE TABLE flight_occupants (
    flight_id    TEXT NOT NULL REFERENCES flights(id),
    person_id    TEXT NOT NULL REFERENCES persons(id),
    role         TEXT NOT NULL CHECK (role IN ('passenger', 'crew')),
    seat         TEXT,
    booking_ref  TEXT,
    PRIMARY KEY (flight_id, person_id)
);
CREATE INDEX flight_occupants_person ON flight_occupants (person_id);

CREATE TABLE residences (
    person_id    TEXT PRIMARY KEY REFERENCES persons(id),
    building_id  TEXT NOT NULL,
    unit         TEXT NOT NULL,
    address      TEXT NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL
);
CREATE INDEX residences_building ON residences (building_id);

CREATE TABLE rides (
    id          TEXT PRIMARY KEY,
    vehicle_id  TEXT NOT NULL,
    start_at    BIGINT NOT NULL,
    end_at      BIGINT NOT NULL
);

CREATE TABLE ride_occupants (
    ride_id    TEXT NOT NULL REFERENCES rides(id),
    person_id  TEXT NOT NULL REFERENCES persons(id),
    role       TEXT NOT NULL CHECK (role IN ('driver', 'passenger')),
    PRIMARY KEY (ride_id, person_id)
);
CREATE INDEX ride_occupants_person ON ride_occupants (person_id);

-- The contacts of one positive test, as last traced. Replaced on each trace
-- and deleted when the test is revised.
CREATE TABLE contacts (
    test_id        TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    tier           TEXT NOT NULL CHECK (tier IN ('close', 'notify')),
    rules          TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    last_exposure  BIGINT NOT NULL,
    generation     BIGINT NOT NULL,
    traced_at      BIGINT NOT NULL,
    PRIMARY KEY (test_id, person_id)
);
CREATE INDEX contacts_person ON contacts (person_id);

-- Which tests an order rests on, and the end each basis calls for: lets a
-- revision find its orders without scanning the bases JSON.
CREATE TABLE order_basis_tests (
    order_id  TEXT NOT NULL REFERENCES orders(id),
    test_id   TEXT NOT NULL,
    ends_at   BIGINT NOT NULL,
    PRIMARY KEY (order_id, test_id)
);
CREATE INDEX order_basis_tests_test ON order_basis_tests (test_id);
