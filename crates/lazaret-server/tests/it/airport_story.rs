//! The airport scenario as a story through the API, on both backends, with
//! the real outbox and an SMS gateway on loopback: a positive test arrives
//! as FHIR; the case is interviewed and traced; the close contacts are
//! called (the call log kept) and get their orders, one at the registered
//! residence, one at the place an officer adds from the "no address"
//! worklist, and both a notice of their order; the building's neighbours
//! get the exposure notice and daily symptom forms; a neighbour's
//! symptomatic report opens a triage alert (shortness of breath: urgent)
//! and the neighbour becomes a suspected case; the day's indicators equal
//! the figures worked out by hand below.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use lazaret_core::user::Role;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, ImportKind, ImportOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::notify::{config, env, Gateway};
use crate::support::{answer, Api};

const FLIGHTS: &str = "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,CASE,Casey Index,,,passenger,14C,BK1\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,SEAT,Sam Seat,+41791110001,,passenger,15A,BK2\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,NOADDR,Nina Noaddr,+41791110002,,passenger,14D,BK3\n";
// The case's building: two neighbours with phones, one without any channel.
const RESIDENCES: &str = "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n\
    CASE,Casey Index,,,B1,Lindenweg 1,1,47.3700,8.5400\n\
    NEIGH1,Nils Neighbour,+41791110005,,B1,Lindenweg 1,5,47.3700,8.5400\n\
    NEIGH2,Nora Neighbour,+41791110006,,B1,Lindenweg 1,6,47.3700,8.5400\n\
    QUIET,Quentin Quiet,,,B1,Lindenweg 1,7,47.3700,8.5400\n\
    SEAT,Sam Seat,+41791110001,,B2,Bergstrasse 3,3,47.3800,8.5500\n";
const HELP_LINE: &str = "+41 44 000 11 22";

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
}

fn contact<'a>(list: &'a Value, person: &str) -> &'a Value {
    list["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["person_id"] == person)
        .unwrap_or_else(|| panic!("{person} not in {list}"))
}

/// The SMS texts the gateway accepted for `to`.
fn texts_to(g: &Gateway, to: &str) -> Vec<String> {
    g.accepted()
        .iter()
        .filter(|v| v["to"] == to)
        .map(|v| v["body"].as_str().unwrap().to_owned())
        .collect()
}

fn indicator<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {stats}"))
}

backends!(the_airport_story);
async fn the_airport_story(db: TestDb) {
    let (gateway, sms_url) = Gateway::start(0).await;
    let mut cfg = config(None, Some(&sms_url));
    cfg.notify.contact_phone = Some(HELP_LINE.into());
    let e = env(&db, cfg);
    let set = |t: DateTime<Utc>| *e.clock.0.lock().unwrap() = t;
    set(at(9, 0));
    let store = &e.state.store;
    for (kind, csv) in [
        (ImportKind::Flights, FLIGHTS),
        (ImportKind::Residences, RESIDENCES),
    ] {
        let r = store
            .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), at(8, 0))
            .await
            .unwrap();
        assert!(r.committed, "{:?}", r.errors);
    }
    let token = |role| lazaret_server::auth::create_token(store, role, "t", "t", at(8, 0));
    let (_, investigator) = token(Role::Investigator).await.unwrap();
    let (_, analyst) = token(Role::Analyst).await.unwrap();
    let (listener, base) = crate::support::bind_local().await;
    let (tx, server) = crate::support::spawn_server_joinable(listener, &e.app);
    let api = Api::new(base.clone(), investigator);
    let worker = e.app.worker().expect("a worker with the outbox");

    // 09:00 — the laboratory's result (resulted 07:00) arrives as FHIR.
    let bundle = json!({ "resourceType": "Bundle", "type": "transaction", "entry": [
        { "fullUrl": "urn:uuid:T-CASE", "resource": {
            "resourceType": "Observation", "id": "T-CASE", "status": "final",
            "identifier": [{ "system": "urn:lab-north", "value": "T-CASE" }],
            "code": { "coding": [{ "system": "http://loinc.org", "code": "94500-6" }] },
            "subject": { "reference": "Patient/CASE" },
            "effectiveDateTime": "2026-03-09T12:00:00Z",
            "issued": "2026-03-10T07:00:00Z",
            "performer": [{ "display": "Lab North" }],
            "valueCodeableConcept": { "coding": [{ "system": "http://snomed.info/sct", "code": "260373001" }] }
        }}
    ]});
    let r = api
        .client
        .post(format!("{base}/api/v1/fhir"))
        .bearer_auth(&api.officer)
        .header("content-type", "application/fhir+json")
        .body(bundle.to_string())
        .send()
        .await
        .unwrap();
    let (st, b) = answer(r).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["entry"][0]["response"]["status"], "201 Created");

    // 10:00 — the interview: the call that reaches the case.
    set(at(10, 0));
    let (_, page) = api.get("/api/v1/follow-ups?list=interview").await;
    assert_eq!(page["items"][0]["person_id"], "CASE", "{page}");
    let interview = page["items"][0]["id"].as_str().unwrap().to_owned();
    let (st, f) = api
        .post(
            &format!("/api/v1/follow-ups/{interview}/calls"),
            &json!({"outcome": "reached", "note": "interviewed"}),
        )
        .await;
    assert_eq!(
        (st, f["status"].as_str()),
        (StatusCode::OK, Some("interviewed"))
    );

    // 10:05 — the trace: seat neighbours close, the building's residents notify.
    set(at(10, 5));
    let (st, t) = api.post("/api/v1/cases/CASE/trace", &json!({})).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let (_, list) = api.get("/api/v1/cases/CASE/contacts").await;
    assert_eq!(list["contacts"].as_array().unwrap().len(), 5, "{list}");
    for (person, tier, status) in [
        ("SEAT", "close", "to_call"),
        ("NOADDR", "close", "to_call"),
        ("NEIGH1", "notify", "to_inform"),
        ("NEIGH2", "notify", "to_inform"),
        ("QUIET", "notify", "to_inform"),
    ] {
        let c = contact(&list, person);
        assert_eq!(
            (c["tier"].as_str(), c["follow_up"]["status"].as_str()),
            (Some(tier), Some(status)),
            "{c}"
        );
    }
    let fu = |p: &str| {
        contact(&list, p)["follow_up"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (seat, noaddr, neigh1) = (fu("SEAT"), fu("NOADDR"), fu("NEIGH1"));

    // The close contacts are called: SEAT at the second try (11:00), NOADDR at once.
    set(at(10, 30));
    let (_, f) = api
        .post(
            &format!("/api/v1/follow-ups/{seat}/calls"),
            &json!({"outcome": "no_answer"}),
        )
        .await;
    assert_eq!(
        (f["status"].as_str(), f["unanswered"].as_u64()),
        (Some("to_call"), Some(1))
    );
    set(at(11, 0));
    for id in [&seat, &noaddr] {
        let (st, f) = api
            .post(
                &format!("/api/v1/follow-ups/{id}/calls"),
                &json!({"outcome": "reached", "note": "told to stay home; order follows"}),
            )
            .await;
        assert_eq!(
            (st, f["status"].as_str()),
            (StatusCode::OK, Some("reached")),
            "{f}"
        );
    }
    let (_, f) = api.get(&format!("/api/v1/follow-ups/{seat}")).await;
    let log: Vec<&str> = f["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(log, ["no_answer", "reached"], "the call log: {f}");
    assert_eq!(f["calls"][1]["note"], "told to stay home; order follows");

    // 11:30 — orders: SEAT's at the registered residence; NOADDR has none.
    set(at(11, 30));
    let (st, p) = api
        .post("/api/v1/cases/CASE/orders/issue", &json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, page) = api.get("/api/v1/follow-ups?list=no_address").await;
    let waiting: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["person_id"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, ["NOADDR"]);
    // 11:45 — the hotel she stays at, from the call: the order is issued there.
    set(at(11, 45));
    let (st, o) = api
        .post(
            &format!("/api/v1/follow-ups/{noaddr}/address"),
            &json!({"address": "Hotel Central, room 12", "lat": 47.378, "lon": 8.540}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{o}");
    assert_eq!(
        o["ends_at"], "2026-03-22T10:00:00Z",
        "last exposure + 14 days"
    );
    let (_, page) = api.get("/api/v1/follow-ups?list=no_address").await;
    assert!(page["items"].as_array().unwrap().is_empty(), "{page}");

    // 12:00 — the exposure notices: the two neighbours with a phone are informed and
    // monitored; the one without any channel stays to be informed, with the reason.
    set(at(12, 0));
    let (st, n) = api.post("/api/v1/cases/CASE/notices", &json!({})).await;
    assert_eq!(st, StatusCode::OK, "{n}");
    let mut informed: Vec<&str> = n["informed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["person_id"].as_str().unwrap())
        .collect();
    informed.sort_unstable();
    assert_eq!(informed, ["NEIGH1", "NEIGH2"], "{n}");
    assert_eq!(n["not_informed"][0]["follow_up"]["person_id"], "QUIET");
    assert!(
        n["not_informed"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("phone"),
        "{n}"
    );
    let last = contact(&list, "NEIGH1")["last_exposure"]
        .as_str()
        .unwrap()
        .parse::<DateTime<Utc>>()
        .unwrap();
    let until = (last + Duration::days(14)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(n["informed"][0]["status"], "monitored");
    assert_eq!(n["informed"][0]["monitor_until"], until.as_str());
    // Sent again: nobody is left to inform, nothing is sent twice.
    let (_, again) = api.post("/api/v1/cases/CASE/notices", &json!({})).await;
    assert!(again["informed"].as_array().unwrap().is_empty(), "{again}");
    let (_, page) = api.get("/api/v1/follow-ups?list=to_inform").await;
    assert_eq!(page["items"][0]["person_id"], "QUIET");

    // 12:05 — a worker pass: the order notices, the first daily forms (the two
    // orders' and the two monitored neighbours'), all delivered.
    set(at(12, 5));
    let r = worker.pass().await.unwrap();
    assert_eq!(r.order_notices, 2, "{r:?}");
    assert_eq!(r.symptom_forms_issued, 4, "{r:?}");
    let r = worker.pass().await.unwrap();
    assert_eq!(
        (r.order_notices, r.symptom_forms_issued),
        (0, 0),
        "once each: {r:?}"
    );
    let order_sms = |to: &str| -> String {
        let all = texts_to(&gateway, to);
        assert_eq!(all.len(), 2, "the order's notice and today's form: {all:?}");
        all.into_iter()
            .find(|t| t.contains("Quarantine order"))
            .expect("the order notice")
    };
    let seat_sms = order_sms("+41791110001");
    assert!(
        seat_sms.contains("Bergstrasse 3") && seat_sms.contains(HELP_LINE),
        "{seat_sms}"
    );
    let noaddr_sms = order_sms("+41791110002");
    assert!(
        noaddr_sms.contains("Hotel Central, room 12"),
        "{noaddr_sms}"
    );
    let neigh1_sms = texts_to(&gateway, "+41791110005");
    assert_eq!(
        neigh1_sms.len(),
        2,
        "a notice and today's form: {neigh1_sms:?}"
    );
    let notice = neigh1_sms
        .iter()
        .find(|t| t.contains("No quarantine"))
        .expect("the exposure notice");
    assert!(
        notice.contains(HELP_LINE) && notice.contains("2026-03-"),
        "{notice}"
    );
    let form_sms = neigh1_sms
        .iter()
        .find(|t| t.contains("/symptoms#token="))
        .expect("the form link");
    let form_token = form_sms
        .split("#token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let neigh2_form = texts_to(&gateway, "+41791110006")
        .into_iter()
        .find(|t| t.contains("/symptoms#token="))
        .expect("NEIGH2's form");
    let neigh2_token = neigh2_form
        .split("#token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    // 12:30 — NEIGH1 feels unwell: fatigue and shortness of breath. A triage alert,
    // urgent; NEIGH2 is well: none.
    set(at(12, 30));
    let (st, rep) = api
        .post(
            "/api/v1/symptom-reports",
            &json!({"token": form_token, "symptoms": ["fatigue", "shortness_of_breath"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{rep}");
    assert_eq!(
        (rep["order_id"].as_str(), rep["follow_up_id"].as_str()),
        (None, Some(neigh1.as_str()))
    );
    let (st, _) = api
        .post(
            "/api/v1/symptom-reports",
            &json!({"token": neigh2_token, "symptoms": ["none"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, alerts) = api.get("/api/v1/alerts").await;
    let open: Vec<&Value> = alerts["items"].as_array().unwrap().iter().collect();
    assert_eq!(open.len(), 1, "the only open alert: {alerts}");
    assert_eq!(open[0]["kind"], "symptomatic");
    assert_eq!(open[0]["person_id"], "NEIGH1");
    assert_eq!(open[0]["evidence"]["severity"], "urgent");

    // The investigator makes NEIGH1 a suspected case: on the list, to be tested.
    let (st, f) = api
        .post(
            &format!("/api/v1/follow-ups/{neigh1}/suspected"),
            &json!({}),
        )
        .await;
    assert_eq!(
        (st, f["status"].as_str()),
        (StatusCode::OK, Some("suspected")),
        "{f}"
    );
    let (_, page) = api.get("/api/v1/follow-ups?list=suspected").await;
    assert_eq!(page["items"][0]["person_id"], "NEIGH1");

    // The day's indicators, by hand. One new case (resulted 07:00, reported 09:00),
    // on no contact list before: 0 of 1. Five contacts: mean and median 5.
    // Notified (reached or informed) within 24 h of the report: SEAT 11:00, NOADDR
    // 11:00, NEIGH1 and NEIGH2 12:00, QUIET never: 4 of 5. Hours from the result:
    // interview 10:00 → 3; notified 4, 4, 5, 5 → median 4.5; orders 11:30 and 11:45
    // → 4.5 and 4.75, median 4.625. No whole day of an order yet: no follow-up days.
    // No prompt (nobody is enrolled). One open alert, under 24 h at the day's end.
    // Eight messages (two order notices, two exposure notices, four forms), none failed.
    let stats_api = Api::new(base.clone(), analyst);
    let (st, stats) = stats_api
        .get("/api/v1/stats?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z")
        .await;
    assert_eq!(st, StatusCode::OK, "{stats}");
    let value = |name: &str| indicator(&stats, name)["value"].as_f64();
    assert_eq!(value("new_cases"), Some(1.0));
    assert_eq!(value("new_cases_already_contacts"), Some(0.0));
    assert_eq!(value("contacts_per_case_mean"), Some(5.0));
    assert_eq!(value("contacts_per_case_median"), Some(5.0));
    let reached = indicator(&stats, "contacts_reached_within_24h");
    assert_eq!(
        (
            reached["numerator"].as_i64(),
            reached["denominator"].as_i64()
        ),
        (Some(4), Some(5))
    );
    assert_eq!(value("contacts_reached_within_24h"), Some(0.8));
    assert_eq!(value("median_hours_result_to_interview"), Some(3.0));
    assert_eq!(value("median_hours_result_to_contact_notified"), Some(4.5));
    assert_eq!(value("median_hours_result_to_order_issued"), Some(4.625));
    let days = indicator(&stats, "contact_days_followed_up");
    assert_eq!(
        (days["denominator"].as_i64(), days["value"].as_f64()),
        (Some(0), None)
    );
    assert_eq!(value("checkin_compliance"), None);
    assert_eq!(value("alert_backlog_under_24h"), Some(1.0));
    assert_eq!(value("alert_backlog_1_to_3_days"), Some(0.0));
    assert_eq!(value("alert_backlog_over_3_days"), Some(0.0));
    assert_eq!(value("messages"), Some(8.0));
    assert_eq!(value("message_delivery_failures"), Some(0.0));
    for i in stats["indicators"].as_array().unwrap() {
        assert!(!i["definition"].as_str().unwrap().is_empty(), "{i}");
    }

    // NEIGH1's own data, from the link of their form: the report, the messages.
    let r = api
        .client
        .post(format!("{base}/api/v1/my-data"))
        .header("X-Lazaret-Token", form_token)
        .send()
        .await
        .unwrap();
    let (st, mine) = answer(r).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert_eq!(
        mine["symptom_reports"].as_array().unwrap().len(),
        1,
        "{mine}"
    );
    let kinds: Vec<&str> = mine["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"exposure_notice") && kinds.contains(&"symptom_form"),
        "{kinds:?}"
    );

    // 13:00 — SEAT's order gets a later end (an arrival basis): the notice says so, once.
    set(at(13, 0));
    let (st, ext) = api
        .post(
            "/api/v1/orders",
            &json!({"person_id": "SEAT", "address": "Bergstrasse 3", "lat": 47.38, "lon": 8.55,
                    "starts_at": at(13, 0), "ends_at": "2026-03-25T11:00:00Z",
                    "basis": {"kind": "arrival", "area": "X"}, "time_zone": "Europe/Zurich"}),
        )
        .await;
    assert_eq!(
        (st, ext["written"].as_str()),
        (StatusCode::OK, Some("extended")),
        "{ext}"
    );
    let r = worker.pass().await.unwrap();
    assert_eq!(r.order_notices, 1, "{r:?}");
    let extended: Vec<String> = texts_to(&gateway, "+41791110001")
        .into_iter()
        .filter(|t| t.contains("extended"))
        .collect();
    assert_eq!(extended.len(), 1, "{extended:?}");
    assert!(
        extended[0].contains("2026-03-25 12:00 Europe/Zurich"),
        "{extended:?}"
    );

    // 14:00 — the lab withdraws the positive (the seed's lab error): the cascade ends the
    // contacts' orders and follow-ups; NOADDR (only this basis) is told her order ended;
    // SEAT's order stands on its arrival basis; the neighbours' monitoring closes with
    // its unused forms.
    set(at(14, 0));
    let (st, rev) = api
        .post(
            "/api/v1/tests",
            &json!({"test_id": "T-CASE", "person_id": "CASE", "sampled_at": "2026-03-09T12:00:00Z",
                    "result": "negative", "lab": "Lab North", "correction_reason": "sample mix-up"}),
        )
        .await;
    assert_eq!(
        (st, rev["written"].as_str()),
        (StatusCode::OK, Some("revised")),
        "{rev}"
    );
    let r = worker.pass().await.unwrap();
    assert_eq!(r.order_notices, 1, "NOADDR's order ended: {r:?}");
    let ended: Vec<String> = texts_to(&gateway, "+41791110002")
        .into_iter()
        .filter(|t| t.contains("ended"))
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    let (_, f) = api
        .get(&format!("/api/v1/follow-ups/{}", fu("NEIGH2")))
        .await;
    assert_eq!(f["status"], "not_a_contact", "{f}");
    let monitored_forms: i64 = {
        let r = worker.pass().await.unwrap();
        r.symptom_forms_planned as i64
    };
    assert_eq!(
        monitored_forms, 0,
        "nobody is monitored about a withdrawn positive"
    );

    let _ = tx.send(());
    server.await.unwrap();
}
