//! Orders, enrolment, prompts, face-verified check-ins and alerts over real
//! HTTP, with the fixture photos (tests/fixtures/faces) and a controllable clock,
//! on SQLite and (when configured) PostgreSQL. Self-enrolment and symptom reports
//! are in `self_enrolment` and `symptoms`.

use std::sync::{Arc, Mutex};

use crate::support::{
    alerts, config, frames_for, photo, Recorder, Server, TestClock, CENTER, ENROL, FAR, HOME, NEAR,
    OTHER,
};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use lazaret_server::config::Liveness;
use lazaret_server::{App, Clock, Config};
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};

backends!(
    checkin_outcomes_and_alerts_on_every_backend,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn checkin_outcomes_and_alerts_on_every_backend(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let s = Server::start(&db, start).await;
    let order = s.new_order("Edmund Stoiber").await;

    // Bad photos are explained and store nothing.
    let (st, e) = s.enroll(&order, b"not an image".to_vec()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "invalid_image");
    let (st, _) = s
        .post(&format!("/api/v1/orders/{order}/prompts"), &json!({}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "no enrolment, no prompt");
    let (st, e) = s.enroll(&order, photo(ENROL)).await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    // At rest the template is ciphertext bound to the order.
    let oid = lazaret_core::ids::OrderId::parse(&order).unwrap();
    let rec = db.store.get_enrollment(&oid).await.unwrap().unwrap();
    let plain = lazaret_face::Template::from_bytes(&rec.ciphertext);
    assert!(plain.is_err(), "template must not be stored in the clear");

    // Same person, head turning as asked, at home → verified.
    let p1 = s.prompt(&order).await;
    let token1 = p1["token"].as_str().unwrap();
    assert_eq!(p1["challenge"]["poses"].as_array().unwrap().len(), 3);
    let frames = frames_for(&p1["challenge"]);
    let (st, v) = s.checkin(token1, &frames, NEAR, 15.0, Some("req-1")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "verified", "{v}");
    assert!(
        s.evidence(&v).await["face_distance"].as_f64().unwrap() < 0.6,
        "{v}"
    );
    assert_eq!(s.evidence(&v).await["liveness"]["passed"], true, "{v}");
    assert!(
        s.evidence(&v).await["location"]["distance_m"]
            .as_f64()
            .unwrap()
            < 100.0
    );
    // A retried request: same stored result, no second check-in.
    let (st, again) = s.checkin(token1, &frames, NEAR, 15.0, Some("req-1")).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["checkin_id"], v["checkin_id"]);
    assert_eq!(again["outcome"], "verified");
    let pid = lazaret_core::ids::PromptId::parse(p1["id"].as_str().unwrap()).unwrap();
    assert_eq!(db.store.checkins_of_prompt(&pid).await.unwrap().len(), 1);
    // The token is single-use.
    let (st, e) = s.checkin(token1, &frames, NEAR, 15.0, Some("req-2")).await;
    assert_eq!(st, StatusCode::GONE, "{e}");
    assert_eq!(e["code"], "token_used");
    let (st, e) = s.checkin("lzp_forged", &frames, NEAR, 15.0, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");

    // Someone else, three times → face_mismatch, and the final try opens an alert.
    s.clock.advance(Duration::minutes(1));
    let p2 = s.prompt(&order).await;
    let other = vec![photo(OTHER), photo(OTHER), photo(OTHER)];
    for attempt in 1..=3 {
        let (st, v) = s
            .checkin(p2["token"].as_str().unwrap(), &other, NEAR, 15.0, None)
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["outcome"], "face_mismatch", "{v}");
        assert!(s.evidence(&v).await["face_distance"].as_f64().unwrap() > 0.6);
        assert_eq!(v["attempt"], attempt);
    }
    let (st, e) = s
        .checkin(p2["token"].as_str().unwrap(), &other, NEAR, 15.0, None)
        .await;
    assert_eq!(st, StatusCode::GONE, "a fourth try is refused: {e}");
    let failed = alerts(&s, "status=open&kind=failed_checkin").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["evidence"]["outcome"], "face_mismatch");
    assert_eq!(failed[0]["order_id"], order.as_str());

    // The right face 5 km away → outside_geofence with the distance.
    s.clock.advance(Duration::minutes(1));
    let p3 = s.prompt(&order).await;
    let (st, v) = s
        .checkin(
            p3["token"].as_str().unwrap(),
            &frames_for(&p3["challenge"]),
            FAR,
            15.0,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "outside_geofence", "{v}");
    let d = s.evidence(&v).await["location"]["distance_m"]
        .as_f64()
        .unwrap();
    assert!((d - 5004.0).abs() < 30.0, "{d}");
    // Accuracy worse than the radius → no conclusion about the place.
    let (_, v) = s
        .checkin(
            p3["token"].as_str().unwrap(),
            &frames_for(&p3["challenge"]),
            NEAR,
            500.0,
            None,
        )
        .await;
    assert_eq!(v["outcome"], "location_unreliable", "{v}");

    // One frame sent three times → liveness_failed.
    s.clock.advance(Duration::minutes(1));
    let p4 = s.prompt(&order).await;
    let same = vec![photo(CENTER), photo(CENTER), photo(CENTER)];
    let (st, v) = s
        .checkin(p4["token"].as_str().unwrap(), &same, NEAR, 15.0, None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "liveness_failed", "{v}");
    assert_eq!(s.evidence(&v).await["liveness"]["passed"], false);
    // Wrong number of frames is the caller's error and spends no try.
    let (st, _) = s
        .checkin(p4["token"].as_str().unwrap(), &same[..1], NEAR, 15.0, None)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s
        .checkin(
            p4["token"].as_str().unwrap(),
            &[b"junk".to_vec(), b"x".to_vec(), b"y".to_vec()],
            NEAR,
            15.0,
            None,
        )
        .await;
    // Unreadable frames are a try (low quality): junk cannot be sent without end.
    assert_eq!(st, StatusCode::OK);
    let pid4 = lazaret_core::ids::PromptId::parse(p4["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        db.store.get_prompt(&pid4).await.unwrap().unwrap().attempts,
        2
    );

    // No answer: after the deadline (and the late grace) the deadline
    // job closes every open prompt with a missed alert.
    s.clock.advance(Duration::minutes(1));
    let p5 = s.prompt(&order).await;
    let w = s.worker();
    let r = w.run_jobs().await.unwrap();
    assert_eq!(r.missed, 0, "nothing is due yet");
    s.clock.advance(Duration::minutes(31));
    let r = w.run_jobs().await.unwrap();
    assert_eq!(r.missed, 3, "{r:?}");
    let missed = alerts(&s, "status=open&kind=missed_checkin").await;
    assert_eq!(missed.len(), 3, "{missed:?}");
    let for_p5: Vec<&Value> = missed
        .iter()
        .filter(|a| a["evidence"]["prompt_id"] == p5["id"])
        .collect();
    assert_eq!(for_p5.len(), 1);
    // Two consecutive misses escalate to a welfare check (once per cause).
    let welfare = alerts(&s, "kind=welfare_check").await;
    assert!(!welfare.is_empty(), "{welfare:?}");
    // A second deadline run changes nothing.
    assert_eq!(w.run_jobs().await.unwrap().missed, 0);
    // The expired token is rejected.
    let (st, e) = s
        .checkin(
            p5["token"].as_str().unwrap(),
            &frames_for(&p5["challenge"]),
            NEAR,
            15.0,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::GONE, "{e}");
    assert_eq!(e["code"], "token_expired");

    // An officer works the alert: assign, then resolve with a reason.
    let id = failed[0]["id"].as_str().unwrap();
    let (st, a) = s
        .post(&format!("/api/v1/alerts/{id}/assign"), &json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["status"], "assigned");
    let (st, _) = s
        .post(
            &format!("/api/v1/alerts/{id}/resolve"),
            &json!({"reason": " "}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let (st, a) = s
        .post(
            &format!("/api/v1/alerts/{id}/resolve"),
            &json!({"reason": "called; phone camera broken"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["status"], "resolved");
    assert!(alerts(&s, "status=open&kind=failed_checkin")
        .await
        .is_empty());

    // Every check-in and alert change is in the audit chain.
    let events = db.store.audit_events(0, 10_000).await.unwrap();
    assert!(events.iter().any(|e| e.action == "checkin.submit"));
    assert!(events.iter().any(|e| e.action == "alert.resolve"));
    assert_eq!(lazaret_store::testing::first_broken_link(&events), None);
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_in_routes_are_in_the_openapi_document() {
    let doc = serde_json::to_value(lazaret_server::openapi()).unwrap();
    for p in [
        "/api/v1/orders/{id}/enrollment",
        "/api/v1/orders/{id}/prompts",
        "/api/v1/checkins",
        "/api/v1/alerts",
        "/api/v1/alerts/{id}/resolve",
        "/api/v1/orders/{id}/enrollment-link",
        "/api/v1/enrollment",
        "/api/v1/orders/{id}/enrollment/approve",
        "/api/v1/orders/{id}/enrollment/reject",
        "/api/v1/orders/{id}/symptom-forms",
        "/api/v1/orders/{id}/symptom-reports",
        "/api/v1/symptom-reports",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
}

/// Two server instances, each with its own pool, share one PostgreSQL
/// database through a simulated day of 1,000 orders: every prompt is issued
/// and announced exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_schedule_and_announce_each_prompt_once() {
    use lazaret_core::audit::AuditRecord;
    use lazaret_core::contact_info::Language;
    use lazaret_core::geo::{Coordinates, Geofence};
    use lazaret_core::ids::{OrderId, PersonId};
    use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
    use lazaret_core::person::{Address, FullName, Person};
    use lazaret_store::EnrollmentRecord;

    let Some(db) = TestDb::postgres().await else {
        return;
    };
    const ORDERS: usize = 1000;
    let day = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
    let audit = |what: &str, id: &str| AuditRecord {
        at: day,
        actor: "test".into(),
        action: what.into(),
        subject_type: "order".into(),
        subject_id: id.into(),
        details: String::new(),
    };
    for i in 0..ORDERS {
        let person = Person {
            id: PersonId::parse(&format!("p{i}")).unwrap(),
            full_name: FullName::parse(&format!("Person {i}")).unwrap(),
            phone: None,
            email: None,
            language: Language::english(),
            district: lazaret_core::district::District::unassigned(),
        };
        db.store
            .insert_person(&person, day, &audit("person.create", "p"))
            .await
            .unwrap();
        let order = QuarantineOrder {
            id: OrderId::parse(&format!("o{i}")).unwrap(),
            person_id: person.id.clone(),
            address: Address::parse("Somewhere 1").unwrap(),
            geofence: Geofence::new(Coordinates::new(HOME.0, HOME.1).unwrap(), 100.0).unwrap(),
            starts_at: day - Duration::hours(1),
            ends_at: day + Duration::days(14),
            time_zone: TimeZone::default(),
            bases: vec![OrderBasis::Arrival { area: "X".into() }],
            status: OrderStatus::Active,
            status_reason: None,
            district: lazaret_core::district::District::unassigned(),
            created_at: day,
            updated_at: day,
        };
        db.store
            .insert_order(&order, &audit("order.create", order.id.as_str()))
            .await
            .unwrap();
        // Scheduling only needs an enrolment to exist; no face is verified here.
        let e = EnrollmentRecord {
            order_id: order.id.clone(),
            ciphertext: vec![0; 16],
            nonce: vec![0; 24],
            key_id: "k1".into(),
            model: "m".into(),
            created_at: day,
        };
        db.store
            .put_enrollment(&e, &audit("enrollment.create", order.id.as_str()))
            .await
            .unwrap();
    }
    let cfg = config();
    let clock = Arc::new(TestClock(Mutex::new(day)));
    let recorder = Arc::new(Recorder::default());
    let mut workers = Vec::new();
    for _ in 0..2 {
        // Each its own pool, as two instances would have.
        let store = db.reopen().await;
        let app = App::builder(cfg.clone(), store)
            .clock(clock.clone())
            .announcer(recorder.clone())
            .build()
            .unwrap();
        workers.push(app.worker().expect("a worker"));
    }
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(workers[0].plan_pass(), workers[1].plan_pass());
    let planned = a.unwrap().slots_enqueued + b.unwrap().slots_enqueued;
    assert_eq!(
        planned,
        ORDERS * 3 * 2,
        "today's and tomorrow's slots, once"
    );
    let mut issued = 0;
    while clock.now() < day + Duration::hours(24) {
        clock.advance(Duration::minutes(30));
        let (a, b) = tokio::join!(workers[0].run_jobs(), workers[1].run_jobs());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.failed_jobs + b.failed_jobs, 0);
        issued += a.issued + b.issued;
    }
    let announced = recorder.0.lock().unwrap().clone();
    assert_eq!(issued, ORDERS * 3);
    assert_eq!(db.store.count_prompts().await.unwrap(), (ORDERS * 3) as i64);
    assert_eq!(announced.len(), ORDERS * 3);
    let mut ids: Vec<String> = announced.iter().map(|a| a.prompt_id.to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ORDERS * 3, "no prompt announced twice");
    for i in [0, ORDERS / 2, ORDERS - 1] {
        let o = OrderId::parse(&format!("o{i}")).unwrap();
        let prompts = db.store.prompts_of_order(&o, 10).await.unwrap();
        assert_eq!(prompts.len(), 3);
        for w in prompts.windows(2) {
            assert!(w[0].issued_at - w[1].issued_at >= Duration::hours(2));
        }
    }
    eprintln!(
        "simulated day of {ORDERS} orders on two instances: {:?}",
        started.elapsed()
    );
}

/// Throughput of verified check-ins (three frames each, liveness on) over
/// HTTP on SQLite. Run: `cargo test --release -p lazaret-server --test
/// it -- --ignored --nocapture verified_checkins_per_second`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn verified_checkins_per_second() {
    const N: usize = 40;
    const CONCURRENCY: usize = 4;
    // Officers may prompt an order at most `prompt_now_per_hour` times (20 by default):
    // the check-ins are spread over enough orders to stay under it.
    const ORDERS: usize = 4;
    let db = TestDb::sqlite().await;
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let s = Arc::new(Server::start(&db, start).await);
    let mut orders = Vec::new();
    for _ in 0..ORDERS {
        let order = s.new_order("Edmund Stoiber").await;
        assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
        orders.push(order);
    }
    let mut prompts = Vec::new();
    for i in 0..N {
        let p = s.prompt(&orders[i % ORDERS]).await;
        prompts.push((
            p["token"].as_str().unwrap().to_owned(),
            frames_for(&p["challenge"]),
        ));
    }
    let queue = Arc::new(Mutex::new(prompts));
    let t = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (s, queue) = (s.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some((token, frames)) = queue.lock().unwrap().pop() else {
                    return;
                };
                let (st, v) = s.checkin(&token, &frames, NEAR, 15.0, None).await;
                assert_eq!(st, StatusCode::OK, "{v}");
                assert_eq!(v["outcome"], "verified", "{v}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{N} verified check-ins (3 frames each) in {secs:.2} s: {:.1}/s on {} CPUs",
        N as f64 / secs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

backends!(
    a_checkin_inside_the_late_grace_is_late,
    flavor = "multi_thread",
    worker_threads = 2
);
/// A check-in after the deadline but inside the late grace is recorded as
/// `late` with its evidence, closes the prompt and reaches an officer.
async fn a_checkin_inside_the_late_grace_is_late(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let s = Server::start(&db, start).await;
    let order = s.new_order("Edmund Stoiber").await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    let p = s.prompt(&order).await;
    let deadline: DateTime<Utc> = p["deadline"].as_str().unwrap().parse().unwrap();
    // Default window 20 min, grace 10 min: 5 minutes after the deadline.
    s.clock.advance(deadline - start + Duration::minutes(5));
    let (st, v) = s
        .checkin(
            p["token"].as_str().unwrap(),
            &frames_for(&p["challenge"]),
            NEAR,
            15.0,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "late", "{v}");
    assert_eq!(v["tries_left"], 0);
    let got: DateTime<Utc> = s.evidence(&v).await["deadline"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(got, deadline);
    let received: DateTime<Utc> = s.evidence(&v).await["received_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(received - deadline, Duration::minutes(5));
    let pid = lazaret_core::ids::PromptId::parse(p["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        db.store.get_prompt(&pid).await.unwrap().unwrap().status,
        lazaret_core::checkin::PromptStatus::Missed
    );
    let failed = alerts(&s, "kind=failed_checkin").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["evidence"]["outcome"], "late");
    s.stop();
}

backends!(
    a_miss_by_checkin_that_completes_the_run_opens_the_welfare_check,
    flavor = "multi_thread",
    worker_threads = 2
);
/// A check-in that closes its prompt as missed and so completes the order's
/// run of misses (two by default) opens the welfare check together with its
/// own alert: the person's answer, not a later worker pass, escalates.
async fn a_miss_by_checkin_that_completes_the_run_opens_the_welfare_check(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let s = Server::start(&db, start).await;
    let order = s.new_order("Edmund Stoiber").await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    // The first prompt is missed by the deadline job: one miss, no welfare check.
    let p1 = s.prompt(&order).await;
    s.clock.advance(Duration::minutes(31));
    let w = s.worker();
    assert_eq!(w.run_jobs().await.unwrap().missed, 1);
    assert!(alerts(&s, "kind=welfare_check").await.is_empty());
    // The second is answered late: the final try, a miss, the second in a row.
    let p2 = s.prompt(&order).await;
    let deadline: DateTime<Utc> = p2["deadline"].as_str().unwrap().parse().unwrap();
    s.clock
        .advance(deadline - s.state.now() + Duration::minutes(5));
    let (st, v) = s
        .checkin(
            p2["token"].as_str().unwrap(),
            &frames_for(&p2["challenge"]),
            NEAR,
            15.0,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "late", "{v}");
    let welfare = alerts(&s, "kind=welfare_check").await;
    assert_eq!(welfare.len(), 1, "{welfare:?}");
    assert_eq!(welfare[0]["evidence"]["consecutive_missed"], 2);
    let listed: Vec<&Value> = welfare[0]["evidence"]["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["prompt_id"])
        .collect();
    assert_eq!(listed, [&p2["id"], &p1["id"]], "{welfare:?}");
    assert_eq!(alerts(&s, "kind=failed_checkin").await.len(), 1);
    // The deadline job of the answered prompt finds it closed: nothing more.
    s.clock.advance(Duration::minutes(10));
    assert_eq!(w.run_jobs().await.unwrap().missed, 0);
    assert_eq!(alerts(&s, "kind=welfare_check").await.len(), 1);
    s.stop();
}

backends!(
    liveness_off_takes_a_single_photo,
    flavor = "multi_thread",
    worker_threads = 2
);
/// With liveness off a prompt has no challenge and one frontal photo is
/// verified; with liveness on, one photo is refused before a try is spent.
async fn liveness_off_takes_a_single_photo(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let on = Server::start(&db, start).await;
    let off = Server::start_with(
        &db,
        start,
        Config {
            liveness: Liveness::Off,
            template_key: on.state.config.template_key.clone(),
            ..Config::default()
        },
    )
    .await;
    let order = on.new_order("Edmund Stoiber").await;
    assert_eq!(on.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);

    let p = on.prompt(&order).await;
    assert_eq!(p["challenge"]["poses"].as_array().unwrap().len(), 3);
    let (st, e) = on
        .checkin(
            p["token"].as_str().unwrap(),
            &[photo(CENTER)],
            NEAR,
            15.0,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "frame");
    let pid = lazaret_core::ids::PromptId::parse(p["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        db.store.get_prompt(&pid).await.unwrap().unwrap().attempts,
        0
    );

    let p = off.prompt(&order).await;
    assert!(p["challenge"].is_null(), "{p}");
    let (st, v) = off
        .checkin(
            p["token"].as_str().unwrap(),
            &[photo(CENTER)],
            NEAR,
            15.0,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "verified", "{v}");
    assert!(off.evidence(&v).await["face_distance"].as_f64().unwrap() < 0.6);
    // Someone else's single photo is still a mismatch.
    let p = off.prompt(&order).await;
    let (_, v) = off
        .checkin(
            p["token"].as_str().unwrap(),
            &[photo(OTHER)],
            NEAR,
            15.0,
            None,
        )
        .await;
    assert_eq!(v["outcome"], "face_mismatch", "{v}");
    on.stop();
    off.stop();
}
