//! The demo's living district (DESIGN.md's story): Ana lands on LX 1843
//! with a positive airport test; the flight's manifest with seats, her
//! building's register and the taxi that took her home are imported; she is
//! traced and her close contacts get orders; Boris (her partner) and Chen
//! (the driver) are enrolled and have a few days of check-ins: verified, a
//! face mismatch, outside the fence, one missed; Boris reports symptoms.
//! Farid's positive test is traced too, then corrected as a lab error, so
//! the cascade releases the order of his flatmate. Two districts: `north`
//! (the city centre) and `south`.
//!
//! Everything goes through the same services and store calls as the API and
//! the worker (imports, trace, issue orders, enrolment, revision). Only the
//! outcomes that a phone would produce (check-in tries) are recorded
//! directly, as the check-in service records them, with `"demo": true` in
//! their evidence and `demo` as the actor.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::checkin::{self, CheckinOutcome};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::{Coordinates, Geofence, DEFAULT_RADIUS_M};
use lazaret_core::ids::{AlertId, PersonId, TestId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::Address;
use lazaret_core::test_result::{TestOutcome, TestResult};
use lazaret_core::user::Role;
use lazaret_server::prompting::{issue_prompt, welfare_rule};
use lazaret_server::services::{enrollment, orders, symptoms, tracing as trace_service, Actor};
use lazaret_server::symptom_forms::{issue_symptom_form, FormFor};
use lazaret_server::AppState;
use lazaret_store::{
    CheckinFinish, CheckinStart, ImportKind, ImportOptions, NewAlert, OrderFilter, PageRequest,
};
use serde_json::{json, Value};

/// A public-domain portrait (tests/fixtures/faces/README.md: NASA's
/// astronaut photograph), the enrolment photo of the demo's enrolled people.
const DEMO_FACE: &[u8] = include_bytes!("../../../../tests/fixtures/faces/person-a-enrol.jpg");

/// An address and its coordinates.
type Place = (&'static str, f64, f64);

/// Ana's building (north) and where the others live.
const SEEFELD: Place = ("Seefeldstrasse 12, 8008 Zürich", 47.3594, 8.5532);
const BADENER: Place = ("Badenerstrasse 300, 8004 Zürich", 47.3790, 8.5120);
const LIMMAT: Place = ("Limmatquai 70, 8001 Zürich", 47.3725, 8.5440);
const OERLIKON: Place = ("Schaffhauserstrasse 350, 8050 Zürich", 47.4102, 8.5455);
const WIEDIKON: Place = ("Birmensdorferstrasse 150, 8003 Zürich", 47.3690, 8.5170);

/// Passengers of LX 1843 besides Ana (14C): name, seat, home (None: the
/// manifest gives no address; tracing asks for one), district.
const PASSENGERS: &[(&str, &str, &str, Option<Place>, &str)] = &[
    ("pax-lea", "Lea Sato", "13C", Some(OERLIKON), "north"),
    ("pax-omar", "Omar Haddad", "14D", Some(WIEDIKON), "south"),
    ("pax-ines", "Inês Costa", "14A", Some(OERLIKON), "north"),
    ("pax-jonas", "Jonas Berg", "15B", Some(WIEDIKON), "south"),
    ("pax-mira", "Mira Horvat", "16F", Some(OERLIKON), "north"),
    ("pax-tomas", "Tomás Ruiz", "12E", None, "north"),
    ("pax-yuki", "Yuki Tanaka", "16C", None, "south"),
    ("pax-aiden", "Aiden Walsh", "11A", Some(WIEDIKON), "south"),
    ("pax-noor", "Noor Rahman", "18D", Some(OERLIKON), "north"),
    ("pax-pavel", "Pavel Novak", "20B", Some(WIEDIKON), "south"),
    ("pax-sofia", "Sofia Greco", "22F", None, "north"),
    ("pax-kwame", "Kwame Mensah", "9C", Some(OERLIKON), "north"),
];

/// Ana's building: the household (unit 3) and one neighbour per other unit.
const RESIDENTS: &[(&str, &str, &str)] = &[
    ("demo-ana", "Ana Lima", "3"),
    ("demo-boris", "Boris Orlov", "3"),
    ("res-hana", "Hana Kovač", "1"),
    ("res-luis", "Luís Moreira", "2"),
    ("res-ella", "Ella Fischer", "4"),
    ("res-samir", "Samir Aziz", "5"),
    ("res-greta", "Greta Lund", "6"),
];

pub const ANA: &str = "demo-ana";
pub const BORIS: &str = "demo-boris";
pub const CHEN: &str = "demo-chen";
pub const DARA: &str = "demo-dara";
pub const FARID: &str = "demo-farid";
const YARA: &str = "demo-yara";

/// What the summary and the page links need.
pub struct Seeded {
    pub persons: usize,
    pub orders_issued: usize,
    pub enrolled: Vec<&'static str>,
    pub released_by_revision: usize,
    /// Dara's arrival order (her self-enrolment link is printed).
    pub dara: QuarantineOrder,
    pub boris: QuarantineOrder,
}

fn audit(now: DateTime<Utc>, action: &str, kind: &str, id: &str) -> AuditRecord {
    AuditRecord {
        at: now,
        actor: "demo".into(),
        action: action.into(),
        subject_type: kind.into(),
        subject_id: id.into(),
        details: "demo scenario".into(),
    }
}

fn phone(i: usize) -> String {
    format!("+41 79 200 {:02} {:02}", i / 100, i % 100)
}

fn email(id: &str) -> String {
    format!(
        "{}@example.org",
        id.trim_start_matches("demo-").replace('-', ".")
    )
}

/// The CSVs of the flight, the residence registers and the ride.
fn csvs(now: DateTime<Utc>) -> (String, String, String) {
    let departure = now - Duration::days(2) - Duration::hours(5);
    let mut flights = String::from(
        "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref,language,district\n",
    );
    let mut row = |id: &str, name: &str, role: &str, seat: &str, i: usize, lang: &str, d: &str| {
        writeln!(
            flights,
            "LX1843-{day},LX1843,{dep},LIS,ZRH,{id},{name},{phone},{email},{role},{seat},BK{i:04},{lang},{d}",
            day = departure.format("%Y%m%d"),
            dep = departure.to_rfc3339(),
            phone = phone(i),
            email = email(id),
        )
        .expect("writing to a String");
    };
    row(ANA, "Ana Lima", "passenger", "14C", 1, "en", "north");
    for (i, (id, name, seat, _, d)) in PASSENGERS.iter().enumerate() {
        row(id, name, "passenger", seat, 10 + i, "en", d);
    }
    row("crew-rita", "Rita Almeida", "crew", "", 40, "en", "south");

    let mut residences = String::from(
        "person_id,full_name,phone,email,building_id,address,unit,lat,lon,language,district\n",
    );
    let mut home = |id: &str,
                    name: &str,
                    building: &str,
                    place: Place,
                    unit: &str,
                    i: usize,
                    lang: &str,
                    d: &str| {
        writeln!(
            residences,
            "{id},{name},{phone},{email},{building},\"{addr}\",{unit},{lat},{lon},{lang},{d}",
            phone = phone(i),
            email = email(id),
            addr = place.0,
            lat = place.1,
            lon = place.2,
        )
        .expect("writing to a String");
    };
    for (i, (id, name, unit)) in RESIDENTS.iter().enumerate() {
        let lang = if *id == BORIS { "ru" } else { "en" };
        home(
            id,
            name,
            "B-SEEFELD-12",
            SEEFELD,
            unit,
            i + 1,
            lang,
            "north",
        );
    }
    for (i, (id, name, _, place, d)) in PASSENGERS.iter().enumerate() {
        if let Some(place) = place {
            let building = if place.0 == OERLIKON.0 {
                "B-OERLIKON-350"
            } else {
                "B-WIEDIKON-150"
            };
            home(
                id,
                name,
                building,
                *place,
                &format!("{}", 10 + i),
                10 + i,
                "en",
                d,
            );
        }
    }
    home(
        CHEN,
        "Chen Wei",
        "B-BADENER-300",
        BADENER,
        "7",
        30,
        "en",
        "south",
    );
    home(
        DARA,
        "Dara Novak",
        "B-LIMMAT-70",
        LIMMAT,
        "1",
        31,
        "en",
        "south",
    );
    home(
        FARID,
        "Farid Mansour",
        "B-LIMMAT-70",
        LIMMAT,
        "4",
        32,
        "en",
        "south",
    );
    home(
        YARA,
        "Yara Blum",
        "B-LIMMAT-70",
        LIMMAT,
        "4",
        33,
        "en",
        "south",
    );

    let start = departure + Duration::hours(3);
    let mut rides = String::from(
        "ride_id,vehicle_id,start,end,person_id,full_name,phone,email,role,language,district\n",
    );
    for (id, name, role, i) in [
        (CHEN, "Chen Wei", "driver", 30),
        (ANA, "Ana Lima", "passenger", 1),
    ] {
        writeln!(
            rides,
            "TAXI-ZH4417-1,ZH-4417,{},{},{id},{name},{},{},{role},en,south",
            start.to_rfc3339(),
            (start + Duration::minutes(25)).to_rfc3339(),
            phone(i),
            email(id),
        )
        .expect("writing to a String");
    }
    (flights, residences, rides)
}

async fn import(state: &AppState, kind: ImportKind, csv: &str, now: DateTime<Utc>) -> Result<()> {
    let opts = ImportOptions {
        actor: "demo".into(),
        source: format!("demo {}", kind.as_str()),
        ..ImportOptions::default()
    };
    let report = state
        .store
        .import_csv(kind, csv.as_bytes(), &opts, now)
        .await
        .with_context(|| format!("importing the demo's {}", kind.as_str()))?;
    anyhow::ensure!(
        report.errors.is_empty(),
        "the demo's {} have errors: {:?}",
        kind.as_str(),
        report.errors
    );
    Ok(())
}

async fn positive(
    state: &AppState,
    test: &str,
    person: &str,
    sampled: DateTime<Utc>,
    lab: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    state
        .store
        .upsert_test_result(
            &TestResult {
                id: TestId::parse(test)?,
                person_id: PersonId::parse(person)?,
                sampled_at: sampled,
                result: TestOutcome::Positive,
                lab: lab.into(),
                symptom_onset: None,
                revisions: vec![],
            },
            now,
            &audit(now, "test.upsert", "test", test),
        )
        .await?;
    Ok(())
}

/// The isolation order of a case, through the order service.
async fn isolate(
    state: &AppState,
    actor: &Actor,
    person: &str,
    test: &str,
    place: Place,
    district: &str,
    now: DateTime<Utc>,
) -> Result<QuarantineOrder> {
    let written = orders::create_or_extend(
        state,
        actor,
        orders::NewOrder {
            person_id: PersonId::parse(person)?,
            address: Address::parse(place.0)?,
            geofence: Geofence::new(Coordinates::new(place.1, place.2)?, DEFAULT_RADIUS_M)?,
            starts_at: now - Duration::days(2),
            ends_at: now + Duration::days(8),
            time_zone: TimeZone::parse("Europe/Zurich")?,
            basis: OrderBasis::PositiveTest {
                test_id: TestId::parse(test)?,
            },
            status: OrderStatus::Active,
            district: Some(District::parse(district)?),
        },
    )
    .await
    .with_context(|| format!("the order of {person}"))?;
    Ok(written.order)
}

async fn active_order(state: &AppState, person: &str) -> Result<QuarantineOrder> {
    let page = state
        .store
        .list_orders(
            &OrderFilter {
                person_id: Some(PersonId::parse(person)?),
                status: Some(OrderStatus::Active),
                ..OrderFilter::default()
            },
            &PageRequest::default(),
        )
        .await?;
    page.items
        .into_iter()
        .next()
        .with_context(|| format!("{person} has no active order"))
}

/// The evidence a try leaves, as the check-in service writes it.
fn evidence(
    face_distance: f64,
    threshold: f64,
    distance_m: f64,
    accuracy_m: f64,
    at: DateTime<Utc>,
) -> Value {
    let inside = distance_m <= DEFAULT_RADIUS_M;
    json!({
        "demo": true,
        "face_distance": face_distance,
        "threshold": threshold,
        "frontal_frames": 1,
        "decision": if face_distance <= threshold { "match" } else { "no_match" },
        "liveness": {"passed": true, "yaws": [], "issues": []},
        "reasons": [],
        "frames": 3,
        "location": {
            "result": {"result": if inside { "inside" } else { "outside" }, "distance_m": distance_m},
            "distance_m": distance_m, "accuracy_m": accuracy_m, "radius_m": DEFAULT_RADIUS_M,
        },
        "received_at": at,
    })
}

/// A prompt issued at `at` (its real deadline job: one nobody answers is
/// closed as missed by the worker) and the tries recorded for it.
async fn prompt_with_tries(
    state: &AppState,
    order: &QuarantineOrder,
    slot: &str,
    at: DateTime<Utc>,
    tries: &[(CheckinOutcome, Value)],
) -> Result<()> {
    let issued = issue_prompt(&state.store, &state.config, None, order, slot, at, "demo")
        .await?
        .context("the demo's prompt slot was taken")?;
    let prompt = issued.prompt;
    for (i, (outcome, evidence)) in tries.iter().enumerate() {
        let when = at + Duration::minutes(4 + 3 * i as i64);
        let CheckinStart::Started {
            checkin_id,
            attempt,
        } = state
            .store
            .begin_checkin(&prompt.id, &format!("demo-{slot}-{i}"), when)
            .await?
        else {
            anyhow::bail!("the demo's try was refused");
        };
        let mut evidence = evidence.clone();
        evidence["attempt"] = attempt.into();
        let resolution = checkin::resolve(*outcome, attempt, welfare_rule(&state.config), &[]);
        let alert = resolution.alert.map(|kind: AlertKind| NewAlert {
            id: AlertId::generate(),
            kind,
            person_id: order.person_id.clone(),
            order_id: Some(order.id.clone()),
            cause: format!("prompt:{}", prompt.id),
            evidence: json!({
                "prompt_id": prompt.id, "deadline": prompt.deadline,
                "outcome": outcome.as_str(), "attempts": attempt, "last_try": evidence,
            }),
            at: when,
        });
        let record = AuditRecord {
            at: when,
            actor: "demo".into(),
            action: "checkin.submit".into(),
            subject_type: "order".into(),
            subject_id: order.id.to_string(),
            details: format!("attempt={attempt} outcome={} demo data", outcome.as_str()),
        };
        state
            .store
            .finish_checkin(
                &checkin_id,
                &prompt.id,
                &CheckinFinish {
                    outcome: *outcome,
                    evidence,
                    close: resolution.close_prompt_as,
                    alert,
                    escalation: None,
                },
                &record,
            )
            .await?;
    }
    Ok(())
}

/// Seeds the scenario at `now`. `state` must carry the face engine for the
/// enrolments (without one, nobody is enrolled and no check-in recorded).
pub async fn seed(state: &AppState, now: DateTime<Utc>) -> Result<Seeded> {
    let tracer = Actor::new("demo", Role::Investigator, DistrictScope::All);
    let (flights, residences, rides) = csvs(now);
    import(state, ImportKind::Residences, &residences, now).await?;
    import(state, ImportKind::Flights, &flights, now).await?;
    import(state, ImportKind::Rides, &rides, now).await?;

    // Ana: tested on arrival, isolated at home, traced; orders for her
    // close contacts (seat neighbours, household, the driver).
    positive(
        state,
        "demo-test-ana",
        ANA,
        now - Duration::days(2) - Duration::hours(1),
        "Airport test centre",
        now,
    )
    .await?;
    isolate(state, &tracer, ANA, "demo-test-ana", SEEFELD, "north", now).await?;
    trace_service::trace(state, &tracer, ANA).await?;
    let issued = trace_service::issue_orders(state, &tracer, ANA).await?;

    // Farid: positive, traced, his flatmate quarantined; then the lab
    // reports a sample mix-up and the cascade releases what rested on it.
    positive(
        state,
        "demo-test-farid",
        FARID,
        now - Duration::days(1),
        "Lab South",
        now,
    )
    .await?;
    isolate(
        state,
        &tracer,
        FARID,
        "demo-test-farid",
        LIMMAT,
        "south",
        now,
    )
    .await?;
    trace_service::trace(state, &tracer, FARID).await?;
    trace_service::issue_orders(state, &tracer, FARID).await?;
    let revision = trace_service::revise_test(
        state,
        &tracer,
        "demo-test-farid",
        TestOutcome::Negative,
        "lab error: samples swapped at Lab South (demo)",
    )
    .await?;

    // Dara: arrived from an area under a travel measure; enrols herself.
    let dara = orders::create_or_extend(
        state,
        &tracer,
        orders::NewOrder {
            person_id: PersonId::parse(DARA)?,
            address: Address::parse(LIMMAT.0)?,
            geofence: Geofence::new(Coordinates::new(LIMMAT.1, LIMMAT.2)?, DEFAULT_RADIUS_M)?,
            starts_at: now - Duration::days(1),
            ends_at: now + Duration::days(9),
            time_zone: TimeZone::parse("Europe/Zurich")?,
            basis: OrderBasis::Arrival {
                area: "area under travel measure A".into(),
            },
            status: OrderStatus::Active,
            district: Some(District::parse("south")?),
        },
    )
    .await?
    .order;

    // Boris and Chen: enrolled by an officer, three days of check-ins.
    let boris = active_order(state, BORIS).await?;
    let chen = active_order(state, CHEN).await?;
    let mut enrolled = Vec::new();
    if state.face.is_some() {
        for (who, order) in [("Boris Orlov", &boris), ("Chen Wei", &chen)] {
            enrollment::enroll(state, &tracer, order.id.as_str(), Some(DEMO_FACE.to_vec()))
                .await
                .with_context(|| format!("enrolling {who}"))?;
            enrolled.push(who);
        }
        let threshold = state
            .config
            .face
            .engine_config()
            .map_or(0.6157, |c| c.decision_threshold() as f64);
        let day = |d: i64, h: i64| now - Duration::days(d) + Duration::hours(h);
        use CheckinOutcome::{FaceMismatch, OutsideGeofence, Verified};
        let ok = |at| (Verified, evidence(0.38, threshold, 14.0, 12.0, at));
        prompt_with_tries(state, &boris, "demo-1", day(2, -3), &[ok(day(2, -3))]).await?;
        prompt_with_tries(state, &boris, "demo-2", day(1, -4), &[ok(day(1, -4))]).await?;
        // Today's prompt: nobody answers; the worker closes it as missed.
        prompt_with_tries(state, &boris, "demo-3", now - Duration::hours(2), &[]).await?;
        prompt_with_tries(state, &chen, "demo-1", day(2, -2), &[ok(day(2, -2))]).await?;
        prompt_with_tries(
            state,
            &chen,
            "demo-2",
            day(1, -2),
            &[
                (
                    FaceMismatch,
                    evidence(0.72, threshold, 9.0, 10.0, day(1, -2)),
                ),
                ok(day(1, -2)),
            ],
        )
        .await?;
        prompt_with_tries(
            state,
            &chen,
            "demo-3",
            now - Duration::minutes(40),
            &[
                (
                    OutsideGeofence,
                    evidence(0.41, threshold, 2650.0, 18.0, now - Duration::minutes(40)),
                ),
                (
                    OutsideGeofence,
                    evidence(0.36, threshold, 2710.0, 22.0, now - Duration::minutes(37)),
                ),
                (
                    OutsideGeofence,
                    evidence(0.39, threshold, 2690.0, 16.0, now - Duration::minutes(34)),
                ),
            ],
        )
        .await?;
    }

    // Boris reports fever and a cough through his symptom form.
    let form = issue_symptom_form(
        &state.store,
        None,
        FormFor::Order(&boris),
        "demo-report",
        now,
        "demo",
    )
    .await?
    .context("the demo's symptom form")?;
    symptoms::submit_report(
        state,
        symptoms::SubmitSymptomReport {
            token: form.token,
            symptoms: vec!["fever".into(), "cough".into()],
            other: None,
            temperature_c: Some(38.6),
        },
    )
    .await
    .context("Boris's symptom report")?;

    let persons = RESIDENTS.len() + PASSENGERS.len() + 5;
    Ok(Seeded {
        persons,
        orders_issued: issued
            .proposals
            .iter()
            .filter(|p| p.order_id.is_some())
            .count(),
        enrolled,
        released_by_revision: revision.released.len(),
        dara,
        boris,
    })
}
