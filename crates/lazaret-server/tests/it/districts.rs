//! Districts and least privilege, the stories of issue 12 on both backends:
//! another district's record is 404 and never in a list, the compliance
//! officer sees no health data and cannot trace, the analyst sees only the
//! aggregates, a new order takes the officer's sole district, and a contact
//! order lands in the district where the contact lives.

use chrono::Duration;
use lazaret_core::district::DistrictScope;
use lazaret_core::user::Role;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, ImportKind, ImportOptions};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::matrix::{order_body, world, Body};
use crate::support::t0;

use Role::{Analyst, ComplianceOfficer as Compliance, Investigator};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

backends!(another_districts_records_are_404_and_never_listed);
async fn another_districts_records_are_404_and_never_listed(db: TestDb) {
    let w = world(&db).await;
    // A south order read by a north investigator: 404, the same answer as
    // an id that does not exist.
    let (s, body) = w
        .get(
            &format!("/api/v1/orders/{}", w.south_order()),
            "north",
            Investigator,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let (s2, unknown) = w
        .get(
            "/api/v1/orders/0190aaaa-0000-7000-8000-000000000000",
            "north",
            Investigator,
        )
        .await;
    assert_eq!(s2, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], unknown["code"]);
    let (s, _) = w
        .get(
            &format!("/api/v1/orders/{}", w.south_order()),
            "south",
            Investigator,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Lists: north's officers never see a south record.
    let south = w.south_ids();
    for role in [Investigator, Compliance] {
        for path in ["/api/v1/persons", "/api/v1/orders", "/api/v1/alerts"] {
            let (s, page) = w.get(path, "north", role).await;
            assert_eq!(s, StatusCode::OK, "{path} {page}");
            let got = ids(&page);
            assert!(!got.is_empty(), "{path}: north's own records are listed");
            for id in south {
                assert!(
                    !got.iter().any(|g| g == id),
                    "{path} as north {role} lists {id}"
                );
            }
        }
    }
    // A national investigator sees both districts.
    let (_, national) = lazaret_server::auth::create_token(&db.store, Investigator, "n", "t", t0())
        .await
        .unwrap();
    let (s, page) = w
        .send(Method::GET, "/api/v1/orders", Some(&national), &Body::None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let got = ids(&page);
    assert!(got.iter().any(|g| g == w.south_order()) && got.iter().any(|g| g == w.north_order()));
    w.stop();
}

backends!(the_compliance_officer_sees_no_health_data_and_cannot_trace);
async fn the_compliance_officer_sees_no_health_data_and_cannot_trace(db: TestDb) {
    let w = world(&db).await;
    let order = w.north_order().to_owned();
    let [compliance_alert, health_alert] = w.north_alerts();
    // Symptom reports and forms: 403.
    let (s, _) = w
        .get(
            &format!("/api/v1/orders/{order}/symptom-reports"),
            "north",
            Compliance,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = w
        .post(
            &format!("/api/v1/orders/{order}/symptom-forms"),
            "north",
            Compliance,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The symptomatic alert: left out of the list, 404 on read and on change.
    let (_, page) = w.get("/api/v1/alerts", "north", Compliance).await;
    let got = ids(&page);
    assert!(got.iter().any(|a| a == compliance_alert), "{page}");
    assert!(!got.iter().any(|a| a == health_alert), "{page}");
    let (_, page) = w
        .get("/api/v1/alerts?kind=symptomatic", "north", Compliance)
        .await;
    assert_eq!(ids(&page), Vec::<String>::new());
    let (s, _) = w
        .get(
            &format!("/api/v1/alerts/{health_alert}"),
            "north",
            Compliance,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = w
        .post(
            &format!("/api/v1/alerts/{health_alert}/resolve"),
            "north",
            Compliance,
            json!({"reason": "seen"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The investigator of the district sees it.
    let (s, _) = w
        .get(
            &format!("/api/v1/alerts/{health_alert}"),
            "north",
            Investigator,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // No trace through any route (review M2: issuing orders ran one), no
    // test results, no chains, no export.
    for path in [
        "/api/v1/cases/N-P/trace",
        "/api/v1/cases/N-P/orders/propose",
        "/api/v1/cases/N-P/orders/issue",
    ] {
        let (s, _) = w.post(path, "north", Compliance, json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (s, _) = w
        .post(
            "/api/v1/tests/T-N/revisions",
            "north",
            Compliance,
            json!({"result": "negative", "reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for path in ["/api/v1/chains", "/api/v1/persons/N-P/export"] {
        let (s, _) = w.get(path, "north", Compliance).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    // The order's bases: the compliance officer sees that it rests on a
    // positive test, not which test (review finding 6); the investigator does.
    let mut body = order_body("N-P");
    body["basis"] = json!({"kind": "positive_test", "test_id": "T-N"});
    let (s, written) = w.post("/api/v1/orders", "north", Investigator, body).await;
    assert_eq!(s, StatusCode::OK, "{written}");
    assert_eq!(
        written["id"],
        order.as_str(),
        "the active order is extended"
    );
    let basis = |v: &Value| {
        v["bases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["kind"] == "positive_test")
            .cloned()
            .unwrap_or_else(|| panic!("a positive_test basis: {v}"))
    };
    let (_, seen) = w
        .get(&format!("/api/v1/orders/{order}"), "north", Investigator)
        .await;
    assert_eq!(basis(&seen)["test_id"], "T-N");
    let (_, seen) = w
        .get(&format!("/api/v1/orders/{order}"), "north", Compliance)
        .await;
    assert_eq!(basis(&seen), json!({"kind": "positive_test"}));
    let (_, page) = w
        .get("/api/v1/orders?person_id=N-P", "north", Compliance)
        .await;
    assert!(!page.to_string().contains("T-N"), "{page}");
    // On input the id is still required.
    let mut body = order_body("N-P");
    body["basis"] = json!({"kind": "positive_test"});
    let (s, problem) = w.post("/api/v1/orders", "north", Investigator, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("basis.test_id"), "{problem}");
    w.stop();
}

backends!(the_analyst_sees_only_stats_of_their_districts);
async fn the_analyst_sees_only_stats_of_their_districts(db: TestDb) {
    let w = world(&db).await;
    for path in [
        "/api/v1/persons",
        "/api/v1/orders",
        "/api/v1/alerts",
        "/api/v1/audit",
        "/api/v1/chains",
        "/api/v1/persons/N-P/export",
    ] {
        let (s, _) = w.get(path, "north", Analyst).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let from = (t0() - Duration::days(2)).to_rfc3339();
    let to = (t0() + Duration::days(2)).to_rfc3339();
    let q = format!("/api/v1/stats?from={}&to={}", enc(&from), enc(&to));
    let (s, stats) = w.get(&q, "north", Analyst).await;
    assert_eq!(s, StatusCode::OK, "{stats}");
    let days = stats["days"].as_array().unwrap();
    assert!(!days.is_empty(), "{stats}");
    assert!(days.iter().all(|d| d["district"] == "north"), "{stats}");
    let today = t0().date_naive().to_string();
    let d = days.iter().find(|d| d["day"] == today).expect("t0's day");
    assert_eq!(d["orders_active"], 1, "{d}");
    assert_eq!(d["orders_started"], 1, "{d}");
    assert_eq!(d["alerts_opened"], 2, "{d}");
    // No names and no ids of persons anywhere in the answer.
    let text = stats.to_string();
    assert!(
        !text.contains("N-P") && !text.contains("north case"),
        "{text}"
    );
    // Another district is no row, not an error that says it exists.
    let (s, other) = w
        .get(&format!("{q}&district=south"), "north", Analyst)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(other["days"], json!([]));
    // Other roles do not read the statistics.
    let (s, _) = w.get(&q, "north", Investigator).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    w.stop();
}

fn enc(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

backends!(a_new_order_takes_the_sole_district_and_never_another);
async fn a_new_order_takes_the_sole_district_and_never_another(db: TestDb) {
    let w = world(&db).await;
    let (s, p) = w
        .post(
            "/api/v1/persons",
            "north",
            Investigator,
            json!({"id": "N-2", "full_name": "Two"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, o) = w
        .post("/api/v1/orders", "north", Investigator, order_body("N-2"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(o["district"], "north");
    // A district not the officer's: refused on the field, nothing created.
    let mut body = order_body("N-P");
    body["district"] = json!("south");
    let (s, e) = w.post("/api/v1/orders", "north", Compliance, body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "district");
    let (s, e) = w
        .post(
            "/api/v1/persons",
            "north",
            Investigator,
            json!({"full_name": "Elsewhere", "district": "south"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // A person of another district: as unknown as a missing one.
    let (s, _) = w
        .post("/api/v1/orders", "north", Investigator, order_body("S-P"))
        .await;
    assert_ne!(s, StatusCode::CREATED);
    // An officer of two districts must name one.
    let two = DistrictScope::parse("north,south").unwrap();
    let (_, both) =
        lazaret_server::auth::create_token_in(&db.store, Investigator, &two, "b", "t", t0())
            .await
            .unwrap();
    let body = json!({"full_name": "Both"});
    let (s, e) = w
        .send(
            Method::POST,
            "/api/v1/persons",
            Some(&both),
            &Body::Json(body),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "district");
    let body = json!({"id": "S-2", "full_name": "Both", "district": "south"});
    let (s, p) = w
        .send(
            Method::POST,
            "/api/v1/persons",
            Some(&both),
            &Body::Json(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, e) = w
        .send(
            Method::POST,
            "/api/v1/orders",
            Some(&both),
            &Body::Json(order_body("S-2")),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "district");
    // The CSV: the sole district is the default, a named district is checked.
    let csv = format!(
        "person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone,district\n\
         N-2,Hauptstrasse 1,47.37,8.54,,{s},{e},arrival:Y,,\n\
         N-P,Hauptstrasse 1,47.37,8.54,,{s},{e},arrival:Y,,south\n",
        s = t0().to_rfc3339(),
        e = (t0() + Duration::days(5)).to_rfc3339()
    );
    let csv: &'static str = Box::leak(csv.into_boxed_str());
    let token = w.token("north", Investigator).to_owned();
    let (s, e) = w
        .send(
            Method::POST,
            "/api/v1/orders/bulk",
            Some(&token),
            &Body::Csv(csv),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["column"], "district", "{e}");
    assert_eq!(e["errors"].as_array().unwrap().len(), 1, "{e}");
    // A north person whose active order a national officer put in south:
    // north's officers do not extend it.
    let body = json!({"id": "N-3", "full_name": "Three", "district": "north"});
    let (s, _) = w
        .send(
            Method::POST,
            "/api/v1/persons",
            Some(&both),
            &Body::Json(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut body = order_body("N-3");
    body["district"] = json!("south");
    let (s, o) = w
        .send(
            Method::POST,
            "/api/v1/orders",
            Some(&both),
            &Body::Json(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (s, e) = w
        .post("/api/v1/orders", "north", Investigator, order_body("N-3"))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "person_id");
    let csv = format!(
        "person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone\n\
         N-3,Hauptstrasse 1,47.37,8.54,,{s},{e},arrival:Y,\n",
        s = t0().to_rfc3339(),
        e = (t0() + Duration::days(5)).to_rfc3339()
    );
    let csv: &'static str = Box::leak(csv.into_boxed_str());
    let (s, e) = w
        .send(
            Method::POST,
            "/api/v1/orders/bulk",
            Some(&token),
            &Body::Csv(csv),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["column"], "person_id", "{e}");
    w.stop();
}

backends!(a_contact_order_lands_in_the_district_where_the_contact_lives);
async fn a_contact_order_lands_in_the_district_where_the_contact_lives(db: TestDb) {
    let w = world(&db).await;
    let s = &db.store;
    let imports = [
        (
            ImportKind::Flights,
            "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref\n\
             F1,LX1,2026-02-28T10:00:00Z,ZRH,LHR,CASE,Case One,,,passenger,14C,\n\
             F1,LX1,2026-02-28T10:00:00Z,ZRH,LHR,NEAR,Near One,,,passenger,15A,\n",
        ),
        (
            ImportKind::Residences,
            "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n\
             NEAR,Near One,,,B1,Suedstrasse 9,2,46.0,8.9\n",
        ),
        (
            ImportKind::Tests,
            "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
             T-C,CASE,2026-02-28T12:00:00Z,positive,Lab,\n",
        ),
    ];
    for (kind, csv) in imports {
        let r = s
            .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), t0())
            .await
            .unwrap();
        assert!(r.committed, "{:?}", r.errors);
    }
    // Imported people are `unassigned`; a national officer places them.
    let (_, national) = lazaret_server::auth::create_token(s, Investigator, "n", "t", t0())
        .await
        .unwrap();
    for (p, d) in [("CASE", "north"), ("NEAR", "south")] {
        let (st, body) = w
            .send(
                Method::PATCH,
                &format!("/api/v1/persons/{p}"),
                Some(&national),
                &Body::Json(json!({"district": d})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["district"], d);
    }
    // North's investigator traces the case: the contact is there, and where.
    let (st, t) = w
        .post("/api/v1/cases/CASE/trace", "north", Investigator, json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let contact = t["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["person_id"] == "NEAR")
        .unwrap_or_else(|| panic!("{t}"));
    assert_eq!(contact["district"], "south");
    // North's investigator issues the case's contact orders.
    let (st, p) = w
        .post(
            "/api/v1/cases/CASE/orders/issue",
            "north",
            Investigator,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let near = p["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["person_id"] == "NEAR")
        .unwrap_or_else(|| panic!("{p}"));
    assert_eq!(near["action"], "create", "{near}");
    // They learn that the contact and the order exist and where, not the
    // contact's address.
    assert_eq!(near["district"], "south");
    assert!(near["address"].is_null() && near["lat"].is_null(), "{near}");
    let order = near["order_id"].as_str().unwrap().to_owned();
    // The order is south's: south reads it, north gets 404.
    let (st, o) = w
        .get(&format!("/api/v1/orders/{order}"), "south", Investigator)
        .await;
    assert_eq!(st, StatusCode::OK, "{o}");
    assert_eq!(o["district"], "south");
    assert_eq!(o["address"], "Suedstrasse 9");
    let (st, _) = w
        .get(&format!("/api/v1/orders/{order}"), "north", Investigator)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    w.stop();
}

backends!(a_persons_export_holds_what_is_kept_about_them_and_is_audited);
async fn a_persons_export_holds_what_is_kept_about_them_and_is_audited(db: TestDb) {
    let w = world(&db).await;
    let (s, doc) = w
        .get("/api/v1/persons/N-P/export", "north", Investigator)
        .await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(doc["person"]["id"], "N-P");
    assert_eq!(doc["person"]["district"], "north");
    assert_eq!(doc["orders"][0]["id"], w.north_order());
    assert_eq!(doc["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(doc["test_results"][0]["id"], "T-N");
    let actions: Vec<&str> = doc["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"person.create") && actions.contains(&"order.create"),
        "{actions:?}"
    );
    let (s, _) = w
        .get("/api/v1/persons/N-P/export", "south", Investigator)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, doc) = w
        .get("/api/v1/persons/N-P/export", "north", Investigator)
        .await;
    let actions: Vec<&str> = doc["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"person.export"),
        "the first export is audited: {actions:?}"
    );
    w.stop();
}

backends!(an_import_places_new_persons_and_never_moves_one);
async fn an_import_places_new_persons_and_never_moves_one(db: TestDb) {
    let w = world(&db).await;
    let csv = "person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n\
               R-1,Resident One,,,B9,Ring 1,1,47.1,8.1,south\n\
               R-2,Resident Two,,,B9,Ring 1,2,47.1,8.1,\n";
    let opts = ImportOptions {
        district: Some(lazaret_core::district::District::parse("north").unwrap()),
        ..ImportOptions::default()
    };
    for _ in 0..2 {
        let r = db
            .store
            .import_csv(ImportKind::Residences, csv.as_bytes(), &opts, t0())
            .await
            .unwrap();
        assert!(r.committed, "{:?}", r.errors);
    }
    let district = |p: &'static str| {
        let w = &w;
        async move {
            for d in ["north", "south"] {
                let (s, body) = w
                    .get(&format!("/api/v1/persons/{p}"), d, Investigator)
                    .await;
                if s == StatusCode::OK {
                    return body["district"].as_str().unwrap().to_owned();
                }
            }
            panic!("{p} is in neither district");
        }
    };
    assert_eq!(district("R-1").await, "south");
    assert_eq!(district("R-2").await, "north");
    // A later file naming another district does not move a stored person.
    let moved = csv.replace(",south\n", ",north\n");
    let r = db
        .store
        .import_csv(
            ImportKind::Residences,
            moved.as_bytes(),
            &ImportOptions::default(),
            t0(),
        )
        .await
        .unwrap();
    assert!(r.committed, "{:?}", r.errors);
    assert_eq!(district("R-1").await, "south");
    // A bad district is a bad row.
    let bad = csv.replace(",south\n", ",South!\n");
    let r = db
        .store
        .import_csv(
            ImportKind::Residences,
            bad.as_bytes(),
            &ImportOptions::default(),
            t0(),
        )
        .await
        .unwrap();
    assert!(!r.committed);
    assert_eq!(r.errors[0].column, "district", "{:?}", r.errors);
    w.stop();
}

backends!(records_from_before_districts_are_placed_with_their_person);
async fn records_from_before_districts_are_placed_with_their_person(db: TestDb) {
    let w = world(&db).await;
    let (_, national) = lazaret_server::auth::create_token(&db.store, Investigator, "n", "t", t0())
        .await
        .unwrap();
    let send = |method: Method, path: String, body: Value| {
        let w = &w;
        let national = national.clone();
        async move {
            w.send(method, &path, Some(&national), &Body::Json(body))
                .await
        }
    };
    // A national officer who names no district: the person is
    // `unassigned`, and so is their order (the person's district).
    let (s, p) = send(
        Method::POST,
        "/api/v1/persons".into(),
        json!({"id": "OLD", "full_name": "Old Record"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["district"], "unassigned");
    let (s, o) = send(Method::POST, "/api/v1/orders".into(), order_body("OLD")).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(o["district"], "unassigned");
    let order = o["id"].as_str().unwrap().to_owned();
    let (s, _) = w
        .get(&format!("/api/v1/orders/{order}"), "north", Investigator)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Placed in north, the person takes the order along.
    let (s, p) = send(
        Method::PATCH,
        "/api/v1/persons/OLD".into(),
        json!({"district": "north"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, o) = w
        .get(&format!("/api/v1/orders/{order}"), "north", Investigator)
        .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["district"], "north");
    // A north officer cannot move anyone to south.
    let (s, e) = w
        .send(
            Method::PATCH,
            "/api/v1/persons/OLD",
            Some(w.token("north", Investigator)),
            &Body::Json(json!({"district": "south"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    w.stop();
}
