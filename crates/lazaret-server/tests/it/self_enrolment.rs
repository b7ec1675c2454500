//! Self-enrolment by a single-use link: the template waits for an officer.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{frames_for, photo, Server, ENROL, NEAR, OTHER};

backends!(
    self_enrolment_by_link_waits_for_an_officer,
    flavor = "multi_thread",
    worker_threads = 2
);
/// The person enrols from a single-use link; the template waits until an
/// officer approves it, and only then do check-ins use it.
async fn self_enrolment_by_link_waits_for_an_officer(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let s = Server::start(&db, start).await;
    let order = s.new_order("Edmund Stoiber").await;
    let oid = lazaret_core::ids::OrderId::parse(&order).unwrap();
    let link_path = format!("/api/v1/orders/{order}/enrollment-link");
    let (st, link) = s.post(&link_path, &json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{link}");
    let token = link["token"].as_str().unwrap().to_owned();
    let expires: DateTime<Utc> = link["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - start, Duration::hours(48));

    // Missing and forged tokens.
    let (st, e) = s.self_enroll(None, photo(ENROL)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    assert_eq!(e["code"], "invalid_token");
    let (st, _) = s.self_enroll(Some("lze_forged"), photo(ENROL)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // A bad photo is explained like the officer's upload and does not
    // spend the link.
    let (st, e) = s.self_enroll(Some(&token), b"not an image".to_vec()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "invalid_image");
    let (st, e) = s.self_enroll(Some(&token), photo(ENROL)).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{e}");
    assert_eq!(e["status"], "pending");
    // Used once.
    let (st, e) = s.self_enroll(Some(&token), photo(ENROL)).await;
    assert_eq!(st, StatusCode::GONE, "{e}");
    assert_eq!(e["code"], "token_used");

    // Pending is not enrolled: no prompt, no check-in uses it.
    assert!(db.store.get_enrollment(&oid).await.unwrap().is_none());
    let (st, _) = s
        .post(&format!("/api/v1/orders/{order}/prompts"), &json!({}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    // No new link while a photo waits for a decision.
    let (st, _) = s.post(&link_path, &json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);

    let approve = format!("/api/v1/orders/{order}/enrollment/approve");
    let reject = format!("/api/v1/orders/{order}/enrollment/reject");
    let (st, _) = s.post(&reject, &json!({"reason": " "})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, a) = s.post(&approve, &json!({})).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["status"], "approved");
    let link_id = lazaret_core::ids::EnrollmentLinkId::parse(a["id"].as_str().unwrap()).unwrap();
    assert!(
        !db.store.link_holds_template(&link_id).await.unwrap(),
        "the approved template moved to the enrolment"
    );
    let rec = db.store.get_enrollment(&oid).await.unwrap().unwrap();
    assert!(lazaret_face::Template::from_bytes(&rec.ciphertext).is_err());
    let (st, e) = s.post(&approve, &json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["code"], "nothing_pending");

    // The approved template verifies the person.
    let p = s.prompt(&order).await;
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
    assert_eq!(v["outcome"], "verified", "{v}");

    // A newer link revokes the older open one.
    let (_, l1) = s.post(&link_path, &json!({})).await;
    let (_, l2) = s.post(&link_path, &json!({})).await;
    let (st, e) = s
        .self_enroll(Some(l1["token"].as_str().unwrap()), photo(OTHER))
        .await;
    assert_eq!(st, StatusCode::GONE, "{e}");
    assert_eq!(e["code"], "token_revoked");
    // Someone else's photo: an officer rejects it and it is erased; the
    // approved enrolment stays.
    let (st, _) = s
        .self_enroll(Some(l2["token"].as_str().unwrap()), photo(OTHER))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let (st, r) = s
        .post(&reject, &json!({"reason": "not the person on the order"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["reason"], "not the person on the order");
    let l2_id = lazaret_core::ids::EnrollmentLinkId::parse(l2["id"].as_str().unwrap()).unwrap();
    assert!(!db.store.link_holds_template(&l2_id).await.unwrap());
    let after = db.store.get_enrollment(&oid).await.unwrap().unwrap();
    assert_eq!(after.ciphertext, rec.ciphertext);

    // An expired link.
    let (_, l3) = s.post(&link_path, &json!({})).await;
    s.clock.advance(Duration::hours(49));
    let (st, e) = s
        .self_enroll(Some(l3["token"].as_str().unwrap()), photo(ENROL))
        .await;
    assert_eq!(st, StatusCode::GONE, "{e}");
    assert_eq!(e["code"], "token_expired");

    let events = db.store.audit_events(0, 10_000).await.unwrap();
    for action in [
        "enrollment.link_create",
        "enrollment.submit",
        "enrollment.approve",
        "enrollment.reject",
    ] {
        assert!(events.iter().any(|e| e.action == action), "{action}");
    }
    assert_eq!(lazaret_store::testing::first_broken_link(&events), None);
    s.stop();
}
