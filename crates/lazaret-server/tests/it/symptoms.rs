//! Symptom reports and the daily symptom form.

use std::sync::Arc;

use chrono::{Duration, TimeZone as _, Utc};
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{alerts, PromptsOnly, Recorder, Server};

backends!(
    symptom_reports_alert_an_investigator,
    flavor = "multi_thread",
    worker_threads = 2
);
/// Symptom reports: a symptomatic one opens an alert, `none` does not, bad
/// answers store nothing, and used, expired or forged tokens are refused.
async fn symptom_reports_alert_an_investigator(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let s = Server::start(&db, start).await;
    let order = s.new_order("Ana Lima").await;
    let forms = format!("/api/v1/orders/{order}/symptom-forms");
    let (st, f1) = s.post(&forms, &json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{f1}");
    assert_eq!(f1["day"], "2026-03-10");
    // Valid until the end of the order's local day (Zurich, UTC+1).
    assert_eq!(f1["expires_at"], "2026-03-10T23:00:00Z");

    let t1 = f1["token"].as_str().unwrap();
    let (st, r) = s
        .public_json(
            "/api/v1/symptom-reports",
            &json!({"token": t1, "symptoms": ["fever", "other"], "other": "rash on arms"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["symptomatic"], true);
    let sym = alerts(&s, "kind=symptomatic").await;
    assert_eq!(sym.len(), 1, "{sym:?}");
    assert_eq!(sym[0]["order_id"], order.as_str());
    assert_eq!(sym[0]["evidence"]["symptoms"], json!(["fever", "other"]));
    assert_eq!(sym[0]["evidence"]["other"], "rash on arms");
    let (st, e) = s
        .public_json(
            "/api/v1/symptom-reports",
            &json!({"token": t1, "symptoms": ["none"]}),
        )
        .await;
    assert_eq!(st, StatusCode::GONE, "{e}");
    assert_eq!(e["code"], "token_used");
    let (st, e) = s
        .public_json(
            "/api/v1/symptom-reports",
            &json!({"token": "lzs_forged", "symptoms": ["none"]}),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");

    // "none", sent as a form: stored, no alert.
    let (_, f2) = s.post(&forms, &json!({})).await;
    let t2 = f2["token"].as_str().unwrap();
    let long = "x".repeat(501);
    for (bad, field) in [
        (json!({"token": t2, "symptoms": []}), "symptoms"),
        (
            json!({"token": t2, "symptoms": ["none", "cough"]}),
            "symptoms",
        ),
        (json!({"token": t2, "symptoms": ["sneezing"]}), "symptoms"),
        (
            json!({"token": t2, "symptoms": ["other"], "other": long}),
            "other",
        ),
        (
            json!({"token": t2, "symptoms": ["cough"], "temperature_c": 50.0}),
            "temperature_c",
        ),
    ] {
        let (st, e) = s.public_json("/api/v1/symptom-reports", &bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad} {e}");
        assert_eq!(e["field"], field, "{e}");
    }
    let (st, r) = s
        .public_form(
            "/api/v1/symptom-reports",
            &[("token", t2), ("symptoms", "none")],
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["symptomatic"], false);
    assert_eq!(alerts(&s, "kind=symptomatic").await.len(), 1);
    // Several symptoms as a form, with a fever temperature.
    let (_, f3) = s.post(&forms, &json!({})).await;
    let (st, r) = s
        .public_form(
            "/api/v1/symptom-reports",
            &[
                ("token", f3["token"].as_str().unwrap()),
                ("symptoms", "cough"),
                ("symptoms", "fatigue"),
                ("temperature_c", "38.4"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["symptoms"], json!(["cough", "fatigue"]));
    assert_eq!(alerts(&s, "kind=symptomatic").await.len(), 2);

    // A form for a day that is over.
    let (_, f4) = s.post(&forms, &json!({})).await;
    s.clock.advance(Duration::hours(15));
    let (st, e) = s
        .public_json(
            "/api/v1/symptom-reports",
            &json!({"token": f4["token"], "symptoms": ["none"]}),
        )
        .await;
    assert_eq!(st, StatusCode::GONE, "{e}");
    assert_eq!(e["code"], "token_expired");

    let (st, list) = s
        .get(&format!("/api/v1/orders/{order}/symptom-reports"))
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "bad answers stored nothing: {list}");
    assert_eq!(items[0]["symptoms"], json!(["cough", "fatigue"]));
    let events = db.store.audit_events(0, 10_000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "symptom_report.submit")
            .count(),
        3
    );
    assert!(events.iter().any(|e| e.action == "symptom_report.list"));
    s.stop();
}

backends!(
    the_worker_issues_one_symptom_form_per_order_and_day,
    flavor = "multi_thread",
    worker_threads = 2
);
/// The worker issues and announces one symptom form per order and local
/// day, exactly once even with two workers and repeated passes.
async fn the_worker_issues_one_symptom_form_per_order_and_day(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let s = Server::start(&db, start).await;
    let order = s.new_order("Ana Lima").await;
    let oid = lazaret_core::ids::OrderId::parse(&order).unwrap();
    let recorder = Arc::new(Recorder::default());
    let workers = [
        s.app.worker_with(recorder.clone()),
        s.app.worker_with(recorder.clone()),
    ];
    for _ in 0..2 {
        let (a, b) = tokio::join!(workers[0].pass(), workers[1].pass());
        assert_eq!(a.unwrap().failed_jobs + b.unwrap().failed_jobs, 0);
    }
    let forms = db.store.symptom_forms_of_order(&oid).await.unwrap();
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert_eq!(forms[0].slot, "day:2026-03-10");
    let notices = recorder.1.lock().unwrap().clone();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].order_id.as_ref(), Some(&oid));
    assert_eq!(
        notices[0].expires_at,
        Utc.with_ymd_and_hms(2026, 3, 10, 23, 0, 0).unwrap()
    );
    // The announced token answers the form.
    let (st, r) = s
        .public_json(
            "/api/v1/symptom-reports",
            &json!({"token": notices[0].token, "symptoms": ["none"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");

    // The next local day: one more.
    s.clock.advance(Duration::days(1));
    for w in &workers {
        w.pass().await.unwrap();
        w.pass().await.unwrap();
    }
    let forms = db.store.symptom_forms_of_order(&oid).await.unwrap();
    assert_eq!(forms.len(), 2);
    assert_eq!(forms[1].slot, "day:2026-03-11");
    assert_eq!(recorder.1.lock().unwrap().len(), 2);

    // An announcer that cannot announce forms fails the job (retried
    // later) instead of dropping the link silently.
    s.clock.advance(Duration::days(1));
    let mute = s.app.worker_with(Arc::new(PromptsOnly));
    let r = mute.pass().await.unwrap();
    assert_eq!(r.symptom_forms_issued, 0, "{r:?}");
    assert_eq!(r.failed_jobs, 1, "{r:?}");
    assert_eq!(r.symptom_forms_announced, 0);
    // Form and message are one transaction: no unannounced form was
    // stored, so the retry can issue it.
    let forms = db.store.symptom_forms_of_order(&oid).await.unwrap();
    assert_eq!(forms.len(), 2, "{forms:?}");
    s.stop();
}
