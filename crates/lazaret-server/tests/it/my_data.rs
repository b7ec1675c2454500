//! The person's own data (`POST /api/v1/my-data`): exactly what was stored
//! for them and nothing of anyone else, from any of their links; no
//! evidence of the officers' (distances, the fence); refused with a wrong
//! token or long after the order; every access audited.

use chrono::Duration;
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::user::Role;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, Channel, NewOutboxMessage};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{answer, frames_for, photo, t0, Api, Server, ENROL, FAR, NEAR};

/// `POST /api/v1/my-data` with the token in the header; the status, the
/// `Content-Disposition` and the body.
async fn my_data(s: &Server, token: &str) -> (StatusCode, Option<String>, Value) {
    let r = s
        .client
        .post(format!("{}/api/v1/my-data", s.base))
        .header("X-Lazaret-Token", token)
        .send()
        .await
        .unwrap();
    let disposition = r
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned());
    let (st, body) = answer(r).await;
    (st, disposition, body)
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A message as the outbox keeps it: the body with the live link until it
/// is sent, the redacted copy for ever.
fn message(person: &str, order: &str, n: u32) -> NewOutboxMessage {
    NewOutboxMessage {
        id: format!("msg-{person}-{n}"),
        dedupe_key: format!("test:{person}:{n}"),
        person_id: PersonId::parse(person).unwrap(),
        order_id: Some(OrderId::parse(order).unwrap()),
        kind: "symptom_form".into(),
        channel: Some(Channel::Sms),
        language: "ar".into(),
        recipient: Some("+41791112233".into()),
        subject: "How are you feeling today?".into(),
        body: "Short health form: https://lazaret.example/symptoms#token=lzs_live_secret".into(),
        body_redacted: "Short health form: [removed]".into(),
        expires_at: t0() + Duration::days(1),
        created_at: t0(),
        max_attempts: 1,
        undeliverable: Some("the test holds the token".into()),
    }
}

backends!(
    my_data_shows_the_persons_own_record_and_nothing_else,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn my_data_shows_the_persons_own_record_and_nothing_else(db: TestDb) {
    let s = Server::start(&db, t0()).await;
    let ana = s
        .create_order(
            &json!({"full_name": "Ana Lima", "phone": "+41791112233", "language": "ar"}),
            t0(),
        )
        .await;
    let boris = s
        .create_order(&json!({"full_name": "Boris Orlov", "language": "zh"}), t0())
        .await;
    let (_, order) = s.get(&format!("/api/v1/orders/{ana}")).await;
    let ana_person = order["person_id"].as_str().unwrap().to_owned();
    let (_, order) = s.get(&format!("/api/v1/orders/{boris}")).await;
    let boris_person = order["person_id"].as_str().unwrap().to_owned();

    // Ana checks in from 5 km away, then from home.
    let (st, e) = s.enroll(&ana, photo(ENROL)).await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let p = s.prompt(&ana).await;
    let prompt_token = p["token"].as_str().unwrap().to_owned();
    let frames = frames_for(&p["challenge"]);
    let (_, v) = s.checkin(&prompt_token, &frames, FAR, 10.0, None).await;
    assert_eq!(v["outcome"], "outside_geofence", "{v}");
    let evidence = s.evidence(&v).await;
    assert!(
        evidence["location"]["distance_m"].as_f64().unwrap() > 4_500.0,
        "{evidence}"
    );
    let (_, v) = s.checkin(&prompt_token, &frames, NEAR, 10.0, None).await;
    assert_eq!(v["outcome"], "verified", "{v}");

    // Both report symptoms; a message was kept for each.
    let mut form_tokens = Vec::new();
    for (order, answer) in [
        (
            &ana,
            json!({"symptoms": ["fever", "cough"], "temperature_c": 38.4}),
        ),
        (&boris, json!({"symptoms": ["none"]})),
    ] {
        let (st, f) = s
            .post(&format!("/api/v1/orders/{order}/symptom-forms"), &json!({}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{f}");
        let token = f["token"].as_str().unwrap().to_owned();
        let mut body = answer.clone();
        body["token"] = json!(token);
        let (st, r) = s.public_json("/api/v1/symptom-reports", &body).await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        form_tokens.push(token);
    }
    assert!(s
        .state
        .store
        .enqueue_message(&message(&ana_person, &ana, 1))
        .await
        .unwrap());
    assert!(s
        .state
        .store
        .enqueue_message(&message(&boris_person, &boris, 1))
        .await
        .unwrap());
    // An officer reads Ana's record and her symptom reports.
    let (st, _) = s.get(&format!("/api/v1/persons/{ana_person}")).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .get(&format!("/api/v1/orders/{ana}/symptom-reports"))
        .await;
    assert_eq!(st, StatusCode::OK);

    // The used prompt token opens Ana's data, as an attachment.
    let (st, disposition, d) = my_data(&s, &prompt_token).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(
        disposition.as_deref(),
        Some("attachment; filename=\"my-data.json\"")
    );
    assert_eq!(d["person"]["full_name"], "Ana Lima");
    assert_eq!(d["person"]["phone"], "+41791112233");
    assert_eq!(d["person"]["language"], "ar");
    let orders = d["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{d}");
    assert_eq!(orders[0]["id"], ana.as_str());
    assert_eq!(orders[0]["address"], "Bahnhofstrasse 1, Zürich");
    assert_eq!(orders[0]["status"], "active");
    assert_eq!(orders[0]["time_zone"], "Europe/Zurich");
    assert_eq!(
        d["access_until"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        t0() + Duration::days(14 + 14),
        "the order's end plus the grace"
    );
    let checkins = d["checkins"].as_array().unwrap();
    assert_eq!(checkins.len(), 1, "{d}");
    assert_eq!(checkins[0]["status"], "answered");
    assert_eq!(
        strings(&checkins[0]["tries"], "outcome"),
        ["outside_geofence", "verified"]
    );
    assert_eq!(
        checkins[0]["tries"][0].as_object().unwrap().len(),
        2,
        "outcome and time only: {d}"
    );
    let reports = d["symptom_reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{d}");
    assert_eq!(reports[0]["symptoms"], json!(["fever", "cough"]));
    assert_eq!(
        reports[0]["temperature_c"]
            .as_f64()
            .map(|t| (t * 10.0).round()),
        Some(384.0)
    );
    let messages = d["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{d}");
    assert_eq!(messages[0]["body"], "Short health form: [removed]");
    assert_eq!(messages[0]["channel"], "sms");
    // Who looked: the officer's (service) token with its role, in plain terms.
    let log = d["access_log"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = log
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["category"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(seen.contains(&("person.read", "viewed")), "{seen:?}");
    assert!(
        seen.contains(&("symptom_report.list", "viewed_health")),
        "{seen:?}"
    );
    assert!(seen.contains(&("order.create", "order")), "{seen:?}");
    assert!(log
        .iter()
        .all(|a| a["who"]["kind"] == "service" && a["who"]["role"] == "investigator"));
    // Nothing of Boris, no evidence, no fence, no token.
    let text = d.to_string();
    for absent in [
        "Boris",
        boris.as_str(),
        boris_person.as_str(),
        "lzs_live_secret",
        "lzp_",
        "distance",
        "radius",
        "evidence",
        "\"lat\"",
        "47.37",
        "subject:",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }

    // Ana's (used) symptom-form token opens the same; Boris's his own only.
    let (st, _, same) = my_data(&s, &form_tokens[0]).await;
    assert_eq!(st, StatusCode::OK, "{same}");
    assert_eq!(same["orders"], d["orders"]);
    assert_eq!(same["checkins"], d["checkins"]);
    let (st, _, b) = my_data(&s, &form_tokens[1]).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["person"]["full_name"], "Boris Orlov");
    assert_eq!(b["checkins"], json!([]));
    assert_eq!(strings(&b["orders"], "id"), [boris.as_str()]);
    assert!(!b.to_string().contains("Ana Lima") && !b.to_string().contains(&ana));

    // The token in a JSON body, or posted as a form (the page's download).
    let (st, v) = s
        .public_json("/api/v1/my-data", &json!({ "token": prompt_token }))
        .await;
    assert_eq!(
        (st, &v["person"]["full_name"]),
        (StatusCode::OK, &json!("Ana Lima"))
    );
    let (st, v) = s
        .public_form("/api/v1/my-data", &[("token", prompt_token.as_str())])
        .await;
    assert_eq!(
        (st, &v["person"]["full_name"]),
        (StatusCode::OK, &json!("Ana Lima"))
    );

    // Wrong, missing or unknown tokens: 401, nothing shown.
    for bad in ["lzp_forged", "lzs_forged", "lze_forged", "nonsense", ""] {
        let (st, _, e) = my_data(&s, bad).await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            "{bad:?}: {e}"
        );
        assert!(e.get("person").is_none());
    }
    let (st, e) = s.public_json("/api/v1/my-data", &json!({})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // Every access is in the audit log, as the link, about the person.
    let (_, auditor) = lazaret_server::auth::create_token(&db.store, Role::Auditor, "a", "a", t0())
        .await
        .unwrap();
    let audit = Api::new(s.base.clone(), auditor);
    let (st, page) = audit.get("/api/v1/audit?action=person.self_access").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let events = page["items"].as_array().unwrap();
    let prompt_id = p["id"].as_str().unwrap();
    let by_prompt: Vec<&Value> = events
        .iter()
        .filter(|e| e["actor"] == format!("subject:prompt:{prompt_id}"))
        .collect();
    assert_eq!(by_prompt.len(), 3, "header, JSON body and form: {page}");
    assert!(by_prompt
        .iter()
        .all(|e| e["subject_type"] == "person" && e["subject_id"] == ana_person.as_str()));
    assert_eq!(events.len(), 5, "and one per form token: {page}");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["subject_id"] == boris_person.as_str())
            .count(),
        1
    );
    // The person's own accesses are not "who looked" in their own view.
    let (_, _, again) = my_data(&s, &prompt_token).await;
    assert!(!again.to_string().contains("person.self_access"));

    // The link opens the data until 14 days after the order ended.
    s.clock
        .advance(Duration::days(14 + 14) - Duration::minutes(1));
    let (st, _, v) = my_data(&s, &prompt_token).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    s.clock.advance(Duration::minutes(2));
    let (st, _, e) = my_data(&s, &prompt_token).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::GONE, Some("token_expired")),
        "{e}"
    );
    s.stop();
}

backends!(
    an_early_release_starts_the_grace_then,
    flavor = "multi_thread",
    worker_threads = 2
);
/// A released order's links open the data for 14 days from the release,
/// not from the planned end.
async fn an_early_release_starts_the_grace_then(db: TestDb) {
    let s = Server::start(&db, t0()).await;
    let order = s.new_order("Chen Wei").await;
    let (st, f) = s
        .post(&format!("/api/v1/orders/{order}/symptom-forms"), &json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let token = f["token"].as_str().unwrap().to_owned();
    s.clock.advance(Duration::days(1));
    let (st, r) = s
        .post(
            &format!("/api/v1/orders/{order}/transitions"),
            &json!({"to": "released", "reason": "negative test"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    // The withdrawn form's token still opens the data, with the order ended.
    let (st, _, d) = my_data(&s, &token).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["orders"][0]["status"], "released");
    assert!(d["orders"][0]["ended_at"].is_string(), "{d}");
    assert!(d["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["category"] == "order" && a["action"] != "order.create"));
    s.clock.advance(Duration::days(14) + Duration::minutes(1));
    let (st, _, e) = my_data(&s, &token).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::GONE, Some("token_expired")),
        "{e}"
    );
    s.stop();
}

backends!(my_data_is_rate_limited_like_the_other_person_routes);
/// Per link token and per address, as `[limits]` says: the next request is
/// told to come back, and nothing is shown.
async fn my_data_is_rate_limited_like_the_other_person_routes(db: TestDb) {
    let mut config = crate::support::config();
    config.limits.person_token_per_minute = 2;
    config.limits.person_address_per_minute = 4;
    let s = Server::start_with(&db, t0(), config).await;
    let order = s.new_order("Dara Novak").await;
    let (_, f) = s
        .post(&format!("/api/v1/orders/{order}/symptom-forms"), &json!({}))
        .await;
    let token = f["token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (st, _, d) = my_data(&s, &token).await;
        assert_eq!(st, StatusCode::OK, "{d}");
    }
    let (st, _, e) = my_data(&s, &token).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{e}"
    );
    assert!(e.get("person").is_none());
    // The address's fourth person request passes, its fifth does not.
    let (st, _, _) = my_data(&s, "lzp_other").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _, e) = my_data(&s, "lzp_another").await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{e}"
    );
    s.stop();
}
