//! Lab results in and follow-up out, through the API on both backends: a
//! positive posted as FHIR (idempotent; what is not understood refused per
//! entry; a transaction with one bad entry stores nothing) opens the case's
//! interview; the trace opens a follow-up per contact (close: to call;
//! notify: to inform); a contact named in the interview is tiered by the
//! same rules; three unanswered calls make a contact unreachable; issuing
//! orders and adding the address of a contact without one make them
//! quarantined; another district's follow-up is 404; a correction through
//! `POST /api/v1/tests` runs the cascade and closes the follow-ups.

use lazaret_core::district::DistrictScope;
use lazaret_core::ids::TestId;
use lazaret_core::user::Role;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, ImportKind, ImportOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{answer, t0, Api, Server};

const FLIGHTS: &str = "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,CASE,Casey Index,,,passenger,14C,BK1\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,SEAT,Sam Seat,+41441110001,,passenger,15A,BK2\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,NOADDR,Nina Noaddr,+41441110002,,passenger,14D,BK3\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,CABIN,Carl Cabin,,,passenger,30A,BK4\n";
const RESIDENCES: &str = "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n\
    CASE,Casey Index,,,B1,Lindenweg 1,1,47.3700,8.5400\n\
    NEIGH,Nils Neighbour,,,B1,Lindenweg 1,5,47.3700,8.5400\n\
    SEAT,Sam Seat,+41441110001,,B2,Bergstrasse 3,3,47.3800,8.5500\n\
    CABIN,Carl Cabin,,,B3,Seeweg 8,1,47.3600,8.5300\n";

fn observation(id: &str, subject: &str, code: &str, value: &str, status: &str) -> Value {
    json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": {
        "resourceType": "Observation", "id": id, "status": status,
        "identifier": [{ "system": "urn:lab-north", "value": id }],
        "code": { "coding": [{ "system": "http://loinc.org", "code": code }] },
        "subject": { "reference": subject },
        "effectiveDateTime": "2026-03-09T12:00:00Z",
        "issued": "2026-03-10T07:00:00Z",
        "performer": [{ "display": "Lab North" }],
        "valueCodeableConcept": { "coding": [{ "system": "http://snomed.info/sct", "code": value }] }
    }})
}

fn bundle(kind: &str, entries: Vec<Value>) -> Value {
    json!({ "resourceType": "Bundle", "type": kind, "entry": entries })
}

async fn fhir(api: &Api, body: &Value, content_type: &str) -> (StatusCode, Value) {
    let r = api
        .client
        .post(format!("{}/api/v1/fhir", api.base))
        .bearer_auth(&api.officer)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        !r.status().is_success()
            || r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json")
    );
    answer(r).await
}

fn statuses(b: &Value) -> Vec<String> {
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap().to_owned())
        .collect()
}

fn contact<'a>(list: &'a Value, person: &str) -> &'a Value {
    list["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["person_id"] == person)
        .unwrap_or_else(|| panic!("{person} not in {list}"))
}

async fn worklist(api: &Api, list: &str) -> Vec<String> {
    let (st, page) = api.get(&format!("/api/v1/follow-ups?list={list}")).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["person_id"].as_str().unwrap().to_owned())
        .collect()
}

backends!(a_fhir_positive_opens_the_interview_and_the_trace_opens_the_follow_ups);
async fn a_fhir_positive_opens_the_interview_and_the_trace_opens_the_follow_ups(db: TestDb) {
    let s = Server::start(&db, t0()).await;
    let store = &s.state.store;
    for (kind, csv) in [
        (ImportKind::Flights, FLIGHTS),
        (ImportKind::Residences, RESIDENCES),
    ] {
        let r = store
            .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), t0())
            .await
            .unwrap();
        assert!(r.committed, "{:?}", r.errors);
    }

    // A transaction with one entry not understood stores nothing, and says why.
    let bad = bundle(
        "transaction",
        vec![
            observation("T-CASE", "Patient/CASE", "94500-6", "260373001", "final"),
            observation("T-SERO", "Patient/CASE", "94563-4", "260373001", "final"),
        ],
    );
    let (st, b) = fhir(&s.api, &bad, "application/fhir+json").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["type"], "transaction-response");
    assert_eq!(
        statuses(&b),
        ["400 Bad Request", "422 Unprocessable Entity"]
    );
    let why = b["entry"][1]["response"]["outcome"]["issue"][0]["diagnostics"]
        .as_str()
        .unwrap();
    assert!(why.contains("not a SARS-CoV-2 detection test"), "{why}");
    let case_test = TestId::parse("T-CASE").unwrap();
    assert!(store.get_test_result(&case_test).await.unwrap().is_none());
    // Not JSON of FHIR: clear errors, nothing stored.
    let (st, _) = fhir(
        &s.api,
        &json!({"resourceType": "Patient"}),
        "application/fhir+json",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = fhir(&s.api, &bad, "text/plain").await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // The valid positive alone; sent twice, stored once.
    let good = bundle(
        "transaction",
        vec![observation(
            "T-CASE",
            "Patient/CASE",
            "94500-6",
            "260373001",
            "final",
        )],
    );
    let (st, b) = fhir(&s.api, &good, "application/fhir+json").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(statuses(&b), ["201 Created"]);
    assert_eq!(b["entry"][0]["response"]["location"], "Observation/T-CASE");
    let (_, b) = fhir(&s.api, &good, "application/fhir+json").await;
    assert_eq!(statuses(&b), ["200 OK"]);
    let diag = b["entry"][0]["response"]["outcome"]["issue"][0]["diagnostics"]
        .as_str()
        .unwrap();
    assert!(diag.contains("unchanged"), "{diag}");

    // The case waits for its interview; the call that reaches them records it.
    assert_eq!(worklist(&s.api, "interview").await, ["CASE"]);
    let (_, page) = s.api.get("/api/v1/follow-ups?list=interview").await;
    let interview = page["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(page["items"][0]["status"], "to_interview");
    let (st, f) = s
        .api
        .post(
            &format!("/api/v1/follow-ups/{interview}/calls"),
            &json!({"outcome": "reached", "note": "interviewed, named a friend"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{f}");
    assert_eq!(f["status"], "interviewed");
    // Interviewed but not traced yet: still on the list.
    assert_eq!(worklist(&s.api, "interview").await, ["CASE"]);

    let (st, t) = s.api.post("/api/v1/cases/CASE/trace", &json!({})).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert!(worklist(&s.api, "interview").await.is_empty());
    let (st, list) = s.api.get("/api/v1/cases/CASE/contacts").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list["test_id"], "T-CASE");
    for (person, tier, status) in [
        ("SEAT", "close", "to_call"),
        ("NOADDR", "close", "to_call"),
        ("CABIN", "notify", "to_inform"),
        ("NEIGH", "notify", "to_inform"),
    ] {
        let c = contact(&list, person);
        assert_eq!(c["tier"], tier, "{c}");
        assert_eq!(c["follow_up"]["status"], status, "{c}");
        assert!(!c["rules"].as_array().unwrap().is_empty());
    }

    // A friend named in the interview: a new person, close by the same rules.
    let (st, _) = s
        .api
        .post(
            "/api/v1/cases/CASE/contacts",
            &json!({"person_id": "SEAT", "setting": "social",
                    "last_exposure": "2026-02-01T10:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "outside the window");
    let (st, t) = s
        .api
        .post(
            "/api/v1/cases/CASE/contacts",
            &json!({"person": {"id": "FRIEND", "full_name": "Fay Friend", "phone": "+41441110009"},
                    "setting": "household", "last_exposure": "2026-03-09T18:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let friend = contact(&t, "FRIEND");
    assert_eq!(friend["tier"], "close");
    assert_eq!(friend["rules"], json!(["interview"]));
    assert_eq!(friend["evidence"][0]["setting"], "household");
    let (_, list) = s.api.get("/api/v1/cases/CASE/contacts").await;
    assert_eq!(contact(&list, "FRIEND")["follow_up"]["status"], "to_call");

    let mut to_call = worklist(&s.api, "to_call").await;
    to_call.sort();
    assert_eq!(to_call, ["FRIEND", "NOADDR", "SEAT"]);
    let mut no_address = worklist(&s.api, "no_address").await;
    no_address.sort();
    assert_eq!(no_address, ["FRIEND", "NOADDR"]);
    let mut to_inform = worklist(&s.api, "to_inform").await;
    to_inform.sort();
    assert_eq!(to_inform, ["CABIN", "NEIGH"]);

    // Three unanswered calls: unreachable, with the log kept.
    let seat = contact(&list, "SEAT")["follow_up"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (i, outcome) in ["no_answer", "wrong_number", "no_answer"]
        .iter()
        .enumerate()
    {
        let (st, f) = s
            .api
            .post(
                &format!("/api/v1/follow-ups/{seat}/calls"),
                &json!({"outcome": outcome}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{f}");
        assert_eq!(f["unanswered"], i + 1);
        assert_eq!(f["status"], if i < 2 { "to_call" } else { "unreachable" });
    }
    let (_, f) = s.api.get(&format!("/api/v1/follow-ups/{seat}")).await;
    assert_eq!(f["calls"].as_array().unwrap().len(), 3);
    assert_eq!(f["calls"][1]["outcome"], "wrong_number");
    let (st, e) = s
        .api
        .post(
            &format!("/api/v1/follow-ups/{seat}/calls"),
            &json!({"outcome": "maybe"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // Orders: SEAT's at the registered residence; NOADDR's once an officer adds the place.
    let (st, p) = s
        .api
        .post("/api/v1/cases/CASE/orders/issue", &json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, list) = s.api.get("/api/v1/cases/CASE/contacts").await;
    assert_eq!(contact(&list, "SEAT")["follow_up"]["status"], "quarantined");
    assert_eq!(contact(&list, "NOADDR")["follow_up"]["status"], "to_call");
    let noaddr = contact(&list, "NOADDR")["follow_up"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, e) = s
        .api
        .post(
            &format!("/api/v1/follow-ups/{noaddr}/address"),
            &json!({"address": "Hotel Central, room 12", "lat": 95.0, "lon": 8.54}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, o) = s
        .api
        .post(
            &format!("/api/v1/follow-ups/{noaddr}/address"),
            &json!({"address": "Hotel Central, room 12", "lat": 47.378, "lon": 8.540}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{o}");
    assert_eq!(o["person_id"], "NOADDR");
    // Last exposure (the flight) + 14 days.
    assert_eq!(o["ends_at"], "2026-03-22T10:00:00Z");
    let (_, list) = s.api.get("/api/v1/cases/CASE/contacts").await;
    assert_eq!(
        contact(&list, "NOADDR")["follow_up"]["status"],
        "quarantined"
    );
    assert_eq!(worklist(&s.api, "no_address").await, ["FRIEND"]);

    // Another district's officer: the follow-up does not exist for them.
    let (_, south) = lazaret_server::auth::create_token_in(
        store,
        Role::Investigator,
        &DistrictScope::parse("south").unwrap(),
        "south",
        "t",
        t0(),
    )
    .await
    .unwrap();
    let other = Api::new(s.api.base.clone(), south);
    let (st, _) = other.get(&format!("/api/v1/follow-ups/{seat}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = other
        .post(
            &format!("/api/v1/follow-ups/{seat}/calls"),
            &json!({"outcome": "reached"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(worklist(&other, "to_call").await.is_empty());

    // The lab corrects the result. Without saying so: a conflict, nothing changes.
    let negative = json!({"test_id": "T-CASE", "person_id": "CASE",
        "sampled_at": "2026-03-09T12:00:00Z", "result": "negative", "lab": "Lab North"});
    let (st, e) = s.api.post("/api/v1/tests", &negative).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let mut corrected = negative.clone();
    corrected["correction_reason"] = json!("sample mix-up at the lab");
    let (st, r) = s.api.post("/api/v1/tests", &corrected).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["written"], "revised");
    assert_eq!(r["revision"]["released"].as_array().unwrap().len(), 2);
    // Nobody is to be called about a withdrawn positive.
    for list in ["interview", "to_call", "no_address", "to_inform"] {
        assert!(worklist(&s.api, list).await.is_empty(), "{list}");
    }
    let (_, f) = s.api.get(&format!("/api/v1/follow-ups/{seat}")).await;
    assert_eq!(f["status"], "not_a_contact");
    assert!(f["closed_at"].is_string());

    // A new negative through JSON: created, then idempotent.
    let other_test = json!({"test_id": "T-2", "person_id": "SEAT",
        "sampled_at": "2026-03-09T08:00:00Z", "result": "negative", "lab": "Lab North",
        "resulted_at": "2026-03-09T20:00:00Z"});
    let (st, r) = s.api.post("/api/v1/tests", &other_test).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let (st, r) = s.api.post("/api/v1/tests", &other_test).await;
    assert_eq!(
        (st, r["written"].as_str()),
        (StatusCode::OK, Some("unchanged"))
    );
    let (st, e) = s
        .api
        .post(
            "/api/v1/tests",
            &json!({"test_id": "T-3", "person_id": "NOBODY",
                    "sampled_at": "2026-03-09T08:00:00Z", "result": "positive", "lab": "L"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    s.stop();
}

backends!(a_fhir_collection_stores_what_it_can_and_registers_its_patients);
async fn a_fhir_collection_stores_what_it_can_and_registers_its_patients(db: TestDb) {
    let s = Server::start(&db, t0()).await;
    let patient = json!({ "fullUrl": "urn:uuid:p-ana", "resource": {
        "resourceType": "Patient", "id": "p-ana",
        "identifier": [{ "system": "urn:register", "value": "ANA" }],
        "name": [{ "family": "Lima", "given": ["Ana"] }],
        "telecom": [{ "system": "phone", "value": "+41441234567" }],
        "communication": [{ "language": { "coding": [{ "code": "pt" }] } }] } });
    let report = json!({ "resource": { "resourceType": "DiagnosticReport", "status": "final",
        "subject": { "reference": "urn:uuid:p-ana" },
        "result": [{ "reference": "urn:uuid:T-ANA" }] } });
    let mut unclear = observation(
        "T-UNCLEAR",
        "urn:uuid:p-ana",
        "94500-6",
        "419984006",
        "final",
    );
    unclear["resource"]["valueCodeableConcept"]["text"] = json!("inconclusive");
    let body = bundle(
        "collection",
        vec![
            patient,
            observation("T-ANA", "urn:uuid:p-ana", "94500-6", "260373001", "final"),
            report,
            unclear,
            observation("T-GHOST", "Patient/GHOST", "94558-4", "260415000", "final"),
        ],
    );
    let (st, b) = fhir(&s.api, &body, "application/fhir+json; charset=utf-8").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["type"], "batch-response");
    assert_eq!(
        statuses(&b),
        [
            "200 OK",
            "201 Created",
            "200 OK",
            "422 Unprocessable Entity",
            "422 Unprocessable Entity"
        ]
    );
    let ghost = b["entry"][4]["response"]["outcome"]["issue"][0]["diagnostics"]
        .as_str()
        .unwrap();
    assert!(ghost.contains("GHOST"), "{ghost}");
    let ana = s
        .state
        .store
        .get_person(&lazaret_core::ids::PersonId::parse("ANA").unwrap())
        .await
        .unwrap()
        .expect("registered from the Patient");
    assert_eq!(ana.full_name.as_str(), "Ana Lima");
    assert_eq!(ana.language.as_str(), "pt");
    assert!(s
        .state
        .store
        .get_test_result(&TestId::parse("T-UNCLEAR").unwrap())
        .await
        .unwrap()
        .is_none());
    s.stop();
}
