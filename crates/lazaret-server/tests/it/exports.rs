//! Surveillance exports through the API on both backends: the exact CSV
//! rows of a small scenario in two districts (an analyst of north never
//! sees south's rows, a national one sees both), the FHIR Bundles (valid
//! JSON with the expected resources and no names, also when empty), 403
//! for the roles without the permission whatever they send, 422 for a bad
//! period, format or district, the audit events, and a large export (1,100
//! cases, 3,000 contacts of one case: several pages each) arriving
//! complete, in order and streamed.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact::{Contact, ExposureRule, RiskTier};
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::test_result::{TestOutcome, TestResult};
use lazaret_core::user::Role;
use lazaret_server::App;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, AuditFilter, ImportKind, ImportOptions, Store};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::support::{self, t0, TestClock};

pub(crate) const CASES_HEADER: &str =
    "person_id,district,test_id,result,sampled_at,resulted_at,reported_at,symptom_onset";
const CONTACTS_HEADER: &str = "case_person_id,case_test_id,case_district,contact_person_id,\
     contact_district,tier,rules,settings,last_exposure,follow_up_status";

const RESIDENCES: &str =
    "person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n\
    NC1,Nora Casefile,+41441230001,nora@example.org,B1,Lindenweg 1,1,47.3700,8.5400,north\n\
    NC2,Ned Casefile,+41441230002,,B2,Bergstrasse 3,3,47.3800,8.5500,north\n\
    NK1,Kim Kontakt,+41441230003,kim@example.org,B1,Lindenweg 1,2,47.3700,8.5400,north\n\
    NK2,Kurt Neighbour,,,B1,Lindenweg 1,5,47.3700,8.5400,north\n\
    SC1,Sue Southcase,+41441230005,,B3,Suedstrasse 9,2,46.0000,8.9000,south\n\
    SK1,Sam Southcontact,,,B4,Suedstrasse 11,1,46.0010,8.9010,south\n\
    SK2,Sia Southhouse,,,B3,Suedstrasse 9,2,46.0000,8.9000,south\n";

/// NC1: an old positive (before the period) and one in it, resulted a day
/// later (posted by a laboratory below); NC2: two positives in the period
/// (the first is the case); NK1: a negative; SC1: south's case. An import
/// keeps when the results reached Lazaret (`reported_at`: the clock's t0).
const TESTS: &str = "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
    TN0,NC1,2026-01-01T08:00:00Z,positive,Lab North,\n\
    TN2,NC2,2026-03-03T09:00:00Z,positive,Lab North,2026-03-01\n\
    TN3,NC2,2026-03-05T09:00:00Z,positive,Lab North,\n\
    TNN,NK1,2026-03-02T09:00:00Z,negative,Lab North,\n\
    TS1,SC1,2026-03-02T00:00:00Z,positive,Lab South,\n";

/// The period of the small scenario, as query parameters.
const PERIOD: &str = "from=2026-03-01T00:00:00Z&to=2026-03-09T00:00:00Z";

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

fn audit(what: &str) -> AuditRecord {
    AuditRecord {
        at: t0(),
        actor: "test".into(),
        action: what.into(),
        subject_type: "test".into(),
        subject_id: "-".into(),
        details: String::new(),
    }
}

async fn import(store: &Store, kind: ImportKind, csv: &str) {
    let r = store
        .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), t0())
        .await
        .unwrap();
    assert!(r.committed, "{:?}", r.errors);
}

fn contact(
    case: &str,
    person: &str,
    tier: RiskTier,
    rules: &[ExposureRule],
    evidence: Value,
    last: &str,
) -> Contact {
    Contact {
        person_id: PersonId::parse(person).unwrap(),
        case_id: PersonId::parse(case).unwrap(),
        tier,
        rules: rules.to_vec(),
        evidence: evidence.as_array().unwrap().clone(),
        last_exposure: at(last),
        generation: 1,
    }
}

async fn store_contacts(store: &Store, test: &str, contacts: &[Contact]) {
    store
        .replace_contacts(
            &TestId::parse(test).unwrap(),
            contacts,
            t0(),
            &audit("contacts.trace"),
        )
        .await
        .unwrap();
}

struct World {
    base: String,
    client: Client,
    store: Store,
    /// `(scope, role) → token`
    tokens: Vec<((&'static str, Role), String)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// What an export answered.
struct Answer {
    status: StatusCode,
    content_type: String,
    disposition: String,
    /// Whether the body came without a length (streamed in chunks).
    streamed: bool,
    text: String,
}

impl World {
    async fn start(db: &TestDb) -> World {
        let store = db.store.clone();
        let mut tokens = Vec::new();
        for scope in ["north", "south", "*"] {
            for role in Role::ALL {
                let (_, t) = lazaret_server::auth::create_token_in(
                    &store,
                    role,
                    &DistrictScope::parse(scope).unwrap(),
                    "exports",
                    "t",
                    t0(),
                )
                .await
                .unwrap();
                tokens.push(((scope, role), t));
            }
        }
        let app = App::builder(support::config(), store.clone())
            .clock(Arc::new(TestClock(Mutex::new(t0()))))
            .unannounced()
            .build()
            .unwrap();
        let (listener, base) = support::bind_local().await;
        let stop = support::spawn_server(listener, &app);
        World {
            base,
            client: Client::new(),
            store,
            tokens,
            stop: Some(stop),
        }
    }

    fn token(&self, scope: &str, role: Role) -> &str {
        &self
            .tokens
            .iter()
            .find(|((s, r), _)| *s == scope && *r == role)
            .unwrap()
            .1
    }

    async fn get(&self, path: &str, scope: &str, role: Role) -> Answer {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token(scope, role))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (content_type, disposition) = (header("content-type"), header("content-disposition"));
        let streamed =
            r.headers().get("content-length").is_none() && header("transfer-encoding") == "chunked";
        Answer {
            status: r.status(),
            content_type,
            disposition,
            streamed,
            text: r.text().await.unwrap(),
        }
    }

    /// The export's CSV lines (status 200 checked).
    async fn csv(&self, path: &str, scope: &str) -> Vec<String> {
        let a = self.get(path, scope, Role::Analyst).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
        assert_eq!(a.content_type, "text/csv; charset=utf-8");
        assert!(a.text.ends_with("\r\n"), "{:?}", a.text);
        a.text.split_terminator("\r\n").map(str::to_owned).collect()
    }

    async fn fhir(&self, path: &str, scope: &str) -> (Value, String) {
        let a = self.get(path, scope, Role::Analyst).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
        assert_eq!(a.content_type, "application/fhir+json");
        (serde_json::from_str(&a.text).expect("valid JSON"), a.text)
    }

    fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The small scenario: two north cases with three contacts (one of them
/// living in south), south's case with one contact.
pub(crate) async fn scenario(s: &Store) {
    import(s, ImportKind::Residences, RESIDENCES).await;
    import(s, ImportKind::Tests, TESTS).await;
    let tn1 = TestResult {
        id: TestId::parse("TN1").unwrap(),
        person_id: PersonId::parse("NC1").unwrap(),
        sampled_at: at("2026-03-01T08:00:00Z"),
        result: TestOutcome::Positive,
        lab: "Lab North".into(),
        symptom_onset: None,
        revisions: Vec::new(),
    };
    let created = s
        .record_lab_result(
            &tn1,
            Some(at("2026-03-02T10:00:00Z")),
            t0(),
            &audit("test.lab"),
        )
        .await
        .unwrap();
    assert!(created);
    use ExposureRule::{Building, Household, Interview};
    use RiskTier::{Close, Notify};
    store_contacts(
        s,
        "TN1",
        &[
            contact(
                "NC1",
                "NK1",
                Close,
                &[Household, Interview],
                json!([{"rule": "household", "building_id": "B1", "unit": "1"},
                       {"rule": "interview", "setting": "household"}]),
                "2026-02-28T18:00:00Z",
            ),
            contact(
                "NC1",
                "NK2",
                Notify,
                &[Building],
                json!([{"rule": "building", "building_id": "B1", "unit": "5"}]),
                "2026-02-28T12:00:00Z",
            ),
        ],
    )
    .await;
    store_contacts(
        s,
        "TN2",
        &[contact(
            "NC2",
            "SK1",
            Close,
            &[Interview],
            json!([{"rule": "interview", "setting": "workplace"}]),
            "2026-03-02T15:00:00Z",
        )],
    )
    .await;
    store_contacts(
        s,
        "TS1",
        &[contact(
            "SC1",
            "SK2",
            Close,
            &[Household],
            json!([{"rule": "household", "building_id": "B3", "unit": "2"}]),
            "2026-03-01T20:00:00Z",
        )],
    )
    .await;
}

pub(crate) const NORTH_CASES: [&str; 2] = [
    "NC1,north,TN1,positive,2026-03-01T08:00:00Z,2026-03-02T10:00:00Z,2026-03-10T09:00:00Z,",
    "NC2,north,TN2,positive,2026-03-03T09:00:00Z,,2026-03-10T09:00:00Z,2026-03-01",
];
const SOUTH_CASE: &str = "SC1,south,TS1,positive,2026-03-02T00:00:00Z,,2026-03-10T09:00:00Z,";
const NORTH_CONTACTS: [&str; 3] = [
    "NC1,TN1,north,NK1,north,close,household;interview,household,2026-02-28T18:00:00Z,to_call",
    "NC1,TN1,north,NK2,north,notify,building,,2026-02-28T12:00:00Z,to_inform",
    "NC2,TN2,north,SK1,south,close,interview,workplace,2026-03-02T15:00:00Z,to_call",
];
const SOUTH_CONTACT: &str = "SC1,TS1,south,SK2,south,close,household,,2026-03-01T20:00:00Z,to_call";

fn lines(header: &str, rows: &[&str]) -> Vec<String> {
    std::iter::once(header)
        .chain(rows.iter().copied())
        .map(str::to_owned)
        .collect()
}

backends!(csv_exports_list_exactly_the_officers_districts);
async fn csv_exports_list_exactly_the_officers_districts(db: TestDb) {
    let w = World::start(&db).await;
    scenario(&w.store).await;
    let cases = format!("/api/v1/exports/cases?{PERIOD}");
    let contacts = format!("/api/v1/exports/contacts?{PERIOD}");

    // North's analyst: north's cases only, by result time (NC1's laboratory
    // time, NC2's sampling time); NC1's old positive and NC2's second one are
    // not cases of the period; the negative is none.
    assert_eq!(
        w.csv(&cases, "north").await,
        lines(CASES_HEADER, &NORTH_CASES)
    );
    // The contacts of north's cases, SK1 (who lives in south) included as
    // the case's contact; south's case's contact is not.
    assert_eq!(
        w.csv(&contacts, "north").await,
        lines(CONTACTS_HEADER, &NORTH_CONTACTS)
    );
    // South's analyst: south's only.
    assert_eq!(
        w.csv(&cases, "south").await,
        lines(CASES_HEADER, &[SOUTH_CASE])
    );
    assert_eq!(
        w.csv(&contacts, "south").await,
        lines(CONTACTS_HEADER, &[SOUTH_CONTACT])
    );
    // National: both, in result-time order; `district` narrows.
    assert_eq!(
        w.csv(&cases, "*").await,
        lines(CASES_HEADER, &[SOUTH_CASE, NORTH_CASES[0], NORTH_CASES[1]])
    );
    assert_eq!(
        w.csv(&format!("{contacts}&district=south&format=csv"), "*")
            .await,
        lines(CONTACTS_HEADER, &[SOUTH_CONTACT])
    );
    // A period without cases: the header only.
    let empty = "/api/v1/exports/cases?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z";
    assert_eq!(w.csv(empty, "north").await, lines(CASES_HEADER, &[]));
    // The period's bounds: from inclusive, to exclusive (NC1's result time).
    let edge = "/api/v1/exports/cases?from=2026-03-02T10:00:00Z&to=2026-03-03T09:00:00Z";
    assert_eq!(
        w.csv(edge, "north").await,
        lines(CASES_HEADER, &[NORTH_CASES[0]])
    );

    // A download, named after what it holds.
    let a = w.get(&cases, "north", Role::Analyst).await;
    assert_eq!(
        a.disposition,
        "attachment; filename=\"lazaret-cases-all-20260301T0000Z-20260309T0000Z.csv\""
    );
    // Least data: no name, phone, e-mail or address of anyone.
    for scope in ["north", "south", "*"] {
        for path in [&cases, &contacts] {
            let text = w.get(path, scope, Role::Analyst).await.text;
            for personal in [
                "Casefile",
                "Kontakt",
                "Neighbour",
                "South",
                "+4144",
                "@example.org",
                "strasse",
                "Lindenweg",
                "47.37",
            ] {
                assert!(!text.contains(personal), "{personal} in {text}");
            }
        }
    }

    // Audited: who, what, the period and districts; the rows at the end.
    let events = |action: &'static str| {
        let store = w.store.clone();
        async move {
            store
                .audit_search(
                    &AuditFilter {
                        action: Some(action.into()),
                        ..Default::default()
                    },
                    1_000,
                )
                .await
                .unwrap()
        }
    };
    let started = events("export.surveillance").await;
    let first = &started[0];
    assert!(first.actor.starts_with("token:"), "{first:?}");
    assert_eq!(first.subject_id, "cases");
    assert_eq!(
        first.details,
        "kind=cases format=csv from=2026-03-01T00:00:00+00:00 to=2026-03-09T00:00:00+00:00 \
         districts=north"
    );
    let ended = events("export.surveillance.end").await;
    assert_eq!(ended.len(), started.len());
    assert!(
        ended[0].details.ends_with("districts=north rows=2"),
        "{ended:?}"
    );
    w.stop();
}

fn resources(bundle: &Value) -> Vec<&str> {
    bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["resource"]["resourceType"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

backends!(fhir_bundles_hold_patients_observations_and_exposures_without_names);
async fn fhir_bundles_hold_patients_observations_and_exposures_without_names(db: TestDb) {
    let w = World::start(&db).await;
    scenario(&w.store).await;
    let (b, text) = w
        .fhir(
            &format!("/api/v1/exports/cases?{PERIOD}&format=fhir"),
            "north",
        )
        .await;
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "collection");
    assert_eq!(b["timestamp"], "2026-03-10T09:00:00Z");
    assert_eq!(
        resources(&b),
        ["Patient", "Observation", "Patient", "Observation"]
    );
    let e = b["entry"].as_array().unwrap();
    let patient = &e[0]["resource"];
    assert_eq!(
        patient["identifier"],
        json!([{"system": "urn:lazaret:person", "value": "NC1"}])
    );
    assert_eq!(patient["meta"]["tag"][0]["code"], "north");
    for field in ["name", "telecom", "address", "birthDate", "gender"] {
        assert!(patient.get(field).is_none(), "{field} in {patient}");
    }
    let obs = &e[1]["resource"];
    assert_eq!(obs["subject"]["reference"], e[0]["fullUrl"]);
    assert_eq!(obs["identifier"][0]["value"], "TN1");
    assert_eq!(obs["effectiveDateTime"], "2026-03-01T08:00:00Z");
    assert_eq!(obs["issued"], "2026-03-02T10:00:00Z");
    assert_eq!(
        obs["valueCodeableConcept"]["coding"][0],
        json!({"system": "http://snomed.info/sct", "code": "260373001", "display": "Detected"})
    );
    assert!(
        e[3]["resource"].get("issued").is_none(),
        "NC2 has no lab time"
    );
    for personal in ["Casefile", "Kontakt", "+4144", "@example.org", "Lindenweg"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }

    let (b, text) = w
        .fhir(
            &format!("/api/v1/exports/contacts?{PERIOD}&format=fhir"),
            "north",
        )
        .await;
    assert_eq!(resources(&b), ["Observation"; 3]);
    let subjects: Vec<&Value> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"]["subject"]["identifier"]["value"])
        .collect();
    assert_eq!(subjects, [&json!("NK1"), &json!("NK2"), &json!("SK1")]);
    let exposure = &b["entry"][2]["resource"];
    assert_eq!(exposure["code"]["coding"][0]["code"], "840546002");
    assert_eq!(exposure["effectiveDateTime"], "2026-03-02T15:00:00Z");
    assert_eq!(exposure["derivedFrom"][0]["identifier"]["value"], "TN2");
    assert!(
        !text.contains("SK2") && !text.contains("Southcontact"),
        "{text}"
    );

    // Nothing in the period: still a Bundle, with no entry at all.
    let (b, _) = w
        .fhir(
            "/api/v1/exports/contacts?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&format=fhir",
            "south",
        )
        .await;
    assert_eq!(b["resourceType"], "Bundle");
    assert!(b.get("entry").is_none(), "{b}");
    let a = w
        .get(
            &format!("/api/v1/exports/contacts?{PERIOD}&format=fhir&district=north"),
            "north",
            Role::Analyst,
        )
        .await;
    assert!(
        a.disposition
            .ends_with("lazaret-contacts-north-20260301T0000Z-20260309T0000Z.json\""),
        "{}",
        a.disposition
    );
    w.stop();
}

backends!(roles_without_the_permission_hear_403_and_bad_requests_422);
async fn roles_without_the_permission_hear_403_and_bad_requests_422(db: TestDb) {
    let w = World::start(&db).await;
    for kind in ["cases", "contacts"] {
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Analyst) {
            // Whatever it sends: the role is refused before the parameters
            // are read.
            for query in ["", "?from=not-a-date", "?format=xml", "?nonsense=1"] {
                let a = w
                    .get(&format!("/api/v1/exports/{kind}{query}"), "*", role)
                    .await;
                assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{role} {query}: {}",
                    a.text
                );
            }
        }
        let base = format!("/api/v1/exports/{kind}");
        let refused = |query: &'static str, field: &'static str| {
            let w = &w;
            let base = base.clone();
            async move {
                let a = w
                    .get(&format!("{base}?{query}"), "north", Role::Analyst)
                    .await;
                assert_eq!(
                    a.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{query}: {}",
                    a.text
                );
                let p: Value = serde_json::from_str(&a.text).unwrap();
                assert_eq!(p["field"], field, "{query}: {p}");
                p
            }
        };
        let p = refused("from=2026-03-09T00:00:00Z&to=2026-03-01T00:00:00Z", "to").await;
        assert!(p["detail"].as_str().unwrap().contains("after from"), "{p}");
        let p = refused("from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "from").await;
        assert!(p["detail"].as_str().unwrap().contains("366 days"), "{p}");
        refused("format=xlsx", "format").await;
        // Another district than one's own is refused, not answered empty.
        let p = refused("district=south", "district").await;
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("not one of your districts"),
            "{p}"
        );
        // A date that does not parse, or an unknown parameter: 400.
        for query in ["from=yesterday", "distrikt=north"] {
            let a = w
                .get(&format!("{base}?{query}"), "north", Role::Analyst)
                .await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}: {}", a.text);
        }
        // No token: 401.
        let r = w
            .client
            .get(format!("{}{base}", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Nothing refused was exported or audited as an export.
    let events = w
        .store
        .audit_search(
            &AuditFilter {
                action: Some("export.surveillance".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
    w.stop();
}

const MANY_CASES: usize = 1_100;
const MANY_CONTACTS: usize = 3_000;

backends!(a_large_export_arrives_complete_in_order_and_streamed);
async fn a_large_export_arrives_complete_in_order_and_streamed(db: TestDb) {
    let w = World::start(&db).await;
    let mut persons =
        String::from("person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n");
    let mut tests = String::from("test_id,person_id,sampled_at,result,lab,symptom_onset\n");
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let mut expected_cases = Vec::new();
    for i in 1..=MANY_CASES {
        persons.push_str(&format!(
            "C{i:05},Case Person {i},,,B{i},Street {i},1,47.0,8.0,north\n"
        ));
        // Seven result times only: many ties, ordered by test id.
        let sampled = start + Duration::hours((i % 7) as i64);
        tests.push_str(&format!(
            "T{i:05},C{i:05},{},positive,Lab,\n",
            sampled.to_rfc3339()
        ));
        expected_cases.push((i % 7, format!("T{i:05}")));
    }
    for i in 1..=MANY_CONTACTS {
        persons.push_str(&format!(
            "K{i:05},Contact Person {i},,,BK,Street K,{i},47.0,8.0,north\n"
        ));
    }
    import(&w.store, ImportKind::Residences, &persons).await;
    import(&w.store, ImportKind::Tests, &tests).await;
    let contacts: Vec<Contact> = (1..=MANY_CONTACTS)
        .rev()
        .map(|i| {
            contact(
                "C00001",
                &format!("K{i:05}"),
                if i % 2 == 0 {
                    RiskTier::Close
                } else {
                    RiskTier::Notify
                },
                &[ExposureRule::Building],
                json!([{"rule": "building"}]),
                "2026-02-28T12:00:00Z",
            )
        })
        .collect();
    store_contacts(&w.store, "T00001", &contacts).await;
    let period = "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z";

    let a = w
        .get(
            &format!("/api/v1/exports/contacts?{period}"),
            "north",
            Role::Analyst,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.streamed, "a chunked body without a length");
    let lines: Vec<&str> = a.text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), MANY_CONTACTS + 1, "every contact, once");
    assert_eq!(lines[0], CONTACTS_HEADER);
    let ids: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(3).unwrap().to_owned())
        .collect();
    let want: Vec<String> = (1..=MANY_CONTACTS).map(|i| format!("K{i:05}")).collect();
    assert_eq!(ids, want, "in contact order across the pages");
    assert!(lines[2].ends_with(",close,building,,2026-02-28T12:00:00Z,to_call"));
    assert!(lines[1].ends_with(",notify,building,,2026-02-28T12:00:00Z,to_inform"));

    let cases = w
        .csv(&format!("/api/v1/exports/cases?{period}"), "north")
        .await;
    assert_eq!(cases.len(), MANY_CASES + 1);
    expected_cases.sort();
    let got: Vec<&str> = cases[1..]
        .iter()
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    let want: Vec<&str> = expected_cases.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(got, want, "by result time, then test id, across the pages");

    let (b, _) = w
        .fhir(
            &format!("/api/v1/exports/cases?{period}&format=fhir"),
            "north",
        )
        .await;
    assert_eq!(b["entry"].as_array().unwrap().len(), 2 * MANY_CASES);
    // South's analyst sees none of it.
    assert_eq!(
        w.csv(&format!("/api/v1/exports/contacts?{period}"), "south")
            .await,
        [CONTACTS_HEADER]
    );
    w.stop();
}
