//! Abuse of the open routes (issue 15): slow and large requests, the token
//! before the upload, the face-work bound, rate limits, what the check-in
//! answer tells the person, location signals for officers, bounded CSV
//! errors, API headers and `/healthz`.

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone as _, Utc};
use lazaret_core::user::Role;
use lazaret_server::config::LimitsConfig;
use lazaret_server::Config;
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::browser::{self, Chromedriver, LAPTOP, TABLET};
use crate::console::{look, sign_in, Console, WAIT};
use crate::support::{config, frames_for, photo, Server, CENTER, ENROL, FAR, NEAR};

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap()
}

fn with_limits(f: impl FnOnce(&mut LimitsConfig)) -> Config {
    let mut c = config();
    f(&mut c.limits);
    c
}

/// The `host:port` of a server's base URL.
fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Reads what the server sends until it closes the connection or `limit`
/// passes; the bytes and whether it closed.
async fn read_until_closed(c: &mut TcpStream, limit: StdDuration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, c.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_sending_its_headers_slowly_is_closed() {
    let db = TestDb::sqlite().await;
    let s = Server::start_with(
        &db,
        start(),
        with_limits(|l| l.header_read_timeout_secs = 1),
    )
    .await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // A header byte every 200 ms: the connection is alive, the head never ends.
    let began = Instant::now();
    let mut closed = false;
    for _ in 0..25 {
        if c.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let (_, gone) = read_until_closed(&mut c, StdDuration::from_millis(200)).await;
        if gone {
            closed = true;
            break;
        }
    }
    let took = began.elapsed();
    assert!(closed, "the slow connection was still open after {took:?}");
    assert!(
        took < StdDuration::from_millis(2500),
        "closed only after {took:?} (timeout 1 s)"
    );
    // A client that sends its request at once is served.
    let r = reqwest::get(format!("{}/healthz", s.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_wait_until_one_closes() {
    let db = TestDb::sqlite().await;
    let s = Server::start_with(
        &db,
        start(),
        with_limits(|l| {
            l.max_connections = 1;
            l.header_read_timeout_secs = 30;
        }),
    )
    .await;
    let idle = TcpStream::connect(addr(&s)).await.unwrap();
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    let client = reqwest::Client::builder()
        .timeout(StdDuration::from_millis(800))
        .build()
        .unwrap();
    let url = format!("{}/healthz", s.base);
    let waited = client.get(&url).send().await;
    assert!(
        waited.as_ref().is_err_and(|e| e.is_timeout()),
        "a second connection was served past max_connections = 1: {waited:?}"
    );
    drop(idle);
    let client = reqwest::Client::builder()
        .timeout(StdDuration::from_secs(5))
        .build()
        .unwrap();
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_arrives_too_slowly_fails() {
    let db = TestDb::sqlite().await;
    let s = Server::start_with(&db, start(), with_limits(|l| l.body_timeout_secs = 1)).await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    let body = br#"{"token": "lzp_x"}"#;
    c.write_all(
        format!(
            "POST /api/v1/checkins/prompt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    c.write_all(&body[..5]).await.unwrap();
    let began = Instant::now();
    let (answer, _) = read_until_closed(&mut c, StdDuration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        began.elapsed() < StdDuration::from_secs(4),
        "no answer in time: {text}"
    );
    assert!(
        text.starts_with("HTTP/1.1 4"),
        "a late body is refused: {text}"
    );
    s.stop();
}

const BOUNDARY: &str = "lazaretboundary";
const DECLARED: usize = 16 * 1024 * 1024 - 4096;
const SENT: usize = 64 * 1024;

/// Sends the head of a 16 MiB multipart upload to `path` (`first` parts,
/// then the start of a `frame`/`photo` file part: `SENT` bytes of it) and
/// waits for an answer without sending the rest; the answer's status line.
async fn refused_early(
    s: &Server,
    path: &str,
    header: Option<&str>,
    first: &str,
    file: &str,
) -> String {
    let mut c = TcpStream::connect(addr(s)).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {DECLARED}\r\n"
    );
    if let Some(t) = header {
        head.push_str(&format!("X-Lazaret-Token: {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut body = first.to_owned();
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{file}\"; filename=\"f.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    ));
    let mut bytes = body.into_bytes();
    bytes.resize(SENT, b'x');
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&bytes).await.unwrap();
    // Nothing more is sent: an answer now means the rest was never needed.
    let (answer, _) = read_until_closed(&mut c, StdDuration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        !text.is_empty(),
        "no answer after {SENT} of {DECLARED} bytes: the server waits for the whole body"
    );
    text
}

fn token_part(token: &str) -> String {
    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n")
}

backends!(
    a_large_upload_with_a_wrong_token_is_refused_before_it_is_read,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn a_large_upload_with_a_wrong_token_is_refused_before_it_is_read(db: TestDb) {
    let s = Server::start(&db, start()).await;
    for path in ["/api/v1/checkins", "/api/v1/enrollment"] {
        let file = if path.ends_with("checkins") {
            "frame"
        } else {
            "photo"
        };
        // The token as the form's first part.
        let a = refused_early(&s, path, None, &token_part("lzp_wrong"), file).await;
        assert!(a.starts_with("HTTP/1.1 401"), "{path}: {a}");
        assert!(a.contains("invalid_token"), "{a}");
        // The token in the header, the frames first in the form.
        let a = refused_early(&s, path, Some("lze_wrong"), "", file).await;
        assert!(a.starts_with("HTTP/1.1 401"), "{path}: {a}");
        // No token before the file: refused at the file's first bytes.
        let a = refused_early(&s, path, None, "", file).await;
        assert!(a.starts_with("HTTP/1.1 401"), "{path}: {a}");
        assert!(a.contains("send the link token first"), "{a}");
    }
    // The person's page sends header and field; a real token gets through.
    let order = s.new_order("Ana Header").await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    let mut form = reqwest::multipart::Form::new()
        .text("lat", NEAR.0.to_string())
        .text("lon", NEAR.1.to_string())
        .text("accuracy_m", "10");
    for f in frames_for(&p["challenge"]) {
        form = form.part(
            "frame",
            reqwest::multipart::Part::bytes(f).file_name("f.jpg"),
        );
    }
    let r = s
        .client
        .post(format!("{}/api/v1/checkins", s.base))
        .header("X-Lazaret-Token", token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, v) = (r.status(), r.json::<Value>().await.unwrap());
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "verified", "{v}");
    s.stop();
}

backends!(
    the_checkin_answer_tells_the_outcome_and_what_to_do_but_not_where_home_is,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn the_checkin_answer_tells_the_outcome_and_what_to_do_but_not_where_home_is(db: TestDb) {
    let s = Server::start(&db, start()).await;
    let order = s.new_order("Bo Far").await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    let frames = frames_for(&p["challenge"]);
    let (st, v) = s.checkin(token, &frames, FAR, 10.0, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "outside_geofence", "{v}");
    assert_eq!(v["next_step"], "try_again");
    assert_eq!(v["tries_left"], 2);
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempt",
            "checkin_id",
            "next_step",
            "outcome",
            "prompt_id",
            "received_at",
            "tries_left"
        ]
    );
    let text = v.to_string();
    for leak in ["distance", "radius", "threshold", "evidence", "lat", "lon"] {
        assert!(
            !text.contains(leak),
            "{leak} in the person's answer: {text}"
        );
    }
    // The officer still has the evidence.
    let ev = s.evidence(&v).await;
    assert!(
        ev["location"]["distance_m"].as_f64().unwrap() > 4000.0,
        "{ev}"
    );
    assert!(ev["face_distance"].as_f64().is_some(), "{ev}");
    // The same at home: done.
    let (_, v) = s.checkin(token, &frames, NEAR, 10.0, None).await;
    assert_eq!(
        (v["outcome"].as_str(), v["next_step"].as_str()),
        (Some("verified"), Some("done"))
    );
    // The published schema says so too.
    let doc = serde_json::to_value(lazaret_server::openapi()).unwrap();
    let props = &doc["components"]["schemas"]["CheckinResult"]["properties"];
    assert!(props.get("evidence").is_none(), "{props}");
    assert!(props.get("next_step").is_some(), "{props}");
    s.stop();
}

backends!(
    face_work_is_bounded_and_unreadable_frames_spend_a_try,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn face_work_is_bounded_and_unreadable_frames_spend_a_try(db: TestDb) {
    let s = Server::start_with(
        &db,
        start(),
        with_limits(|l| {
            l.face_workers = 1;
            l.face_queue = 0;
            l.face_retry_after_secs = 9;
        }),
    )
    .await;
    let order = s.new_order("Cy Busy").await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    let pid = lazaret_core::ids::PromptId::parse(p["id"].as_str().unwrap()).unwrap();
    let frames = frames_for(&p["challenge"]);

    // The one worker is taken: the next face request is told to come back.
    let held = s.state.guards.face.enter().await.unwrap();
    let r = s
        .client
        .post(format!("{}/api/v1/checkins", s.base))
        .multipart(
            reqwest::multipart::Form::new()
                .text("token", token.to_owned())
                .text("lat", NEAR.0.to_string())
                .text("lon", NEAR.1.to_string())
                .text("accuracy_m", "10")
                .part("frame", reqwest::multipart::Part::bytes(frames[0].clone()))
                .part("frame", reqwest::multipart::Part::bytes(frames[1].clone()))
                .part("frame", reqwest::multipart::Part::bytes(frames[2].clone())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "9");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "face_busy", "{e}");
    // An officer's enrolment waits its turn the same way.
    let (st, e) = s.enroll(&order, photo(ENROL)).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("face_busy"))
    );
    assert_eq!(
        db.store.get_prompt(&pid).await.unwrap().unwrap().attempts,
        0,
        "a busy answer spends no try"
    );
    drop(held);

    // Junk spends a try (as low quality), so it cannot be sent without end.
    let junk = vec![b"junk".to_vec(), b"x".to_vec(), b"y".to_vec()];
    let (st, v) = s.checkin(token, &junk, NEAR, 10.0, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "low_quality", "{v}");
    assert_eq!(v["tries_left"], 2);
    let ev = s.evidence(&v).await;
    assert_eq!(ev["unreadable_frame"]["frame"], 0, "{ev}");
    assert_eq!(
        db.store.get_prompt(&pid).await.unwrap().unwrap().attempts,
        1
    );
    s.stop();

    // A frame of more pixels than a phone sends is refused from its header,
    // and that too is a try.
    let s = Server::start_with(&db, start(), with_limits(|l| l.max_frame_pixels = 10_000)).await;
    let order = s.new_order("Di Pixels").await;
    let (st, e) = s.enroll(&order, photo(ENROL)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "invalid_image");
    assert!(e["detail"].as_str().unwrap().contains("pixels"), "{e}");
    s.stop();
    // Enrolled under the default bound, checked in under the tight one
    // (one template key for both).
    let base = config();
    let s = Server::start_with(&db, start(), base.clone()).await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    let p = s.prompt(&order).await;
    s.stop();
    let mut tight = base;
    tight.limits.max_frame_pixels = 10_000;
    let s = Server::start_with(&db, start(), tight).await;
    let (st, v) = s
        .checkin(
            p["token"].as_str().unwrap(),
            &frames_for(&p["challenge"]),
            NEAR,
            10.0,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "low_quality", "{v}");
    let ev = s.evidence(&v).await;
    let why = ev["unreadable_frame"]["reason"].as_str().unwrap();
    assert!(why.contains("pixels"), "{ev}");
    s.stop();
}

backends!(
    rate_limits_answer_429_with_retry_after,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn rate_limits_answer_429_with_retry_after(db: TestDb) {
    let s = Server::start_with(
        &db,
        start(),
        with_limits(|l| {
            l.person_token_per_minute = 2;
            l.person_address_per_minute = 5;
            l.officer_per_minute = 1000;
            l.prompt_now_per_hour = 2;
        }),
    )
    .await;
    let lookup = |t: &str| json!({ "token": t });
    // Per link token: two lookups a minute.
    for _ in 0..2 {
        let (st, _) = s
            .public_json("/api/v1/checkins/prompt", &lookup("lzp_one"))
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let r = s
        .client
        .post(format!("{}/api/v1/checkins/prompt", s.base))
        .json(&lookup("lzp_one"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "rate_limited", "{e}");
    // Per address: five person requests a minute, whatever the token.
    let (st, _) = s
        .public_json("/api/v1/symptom-reports/form", &lookup("lzs_two"))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the fourth from this address");
    let (st, _) = s
        .public_json("/api/v1/enrollment/link", &lookup("lze_three"))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the fifth");
    let (st, e) = s
        .public_json("/api/v1/checkins/prompt", &lookup("lzp_four"))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    // Officer routes are not person routes: still served.
    let (st, _) = s.get("/api/v1/persons").await;
    assert_eq!(st, StatusCode::OK);

    // "Prompt now": twice an hour per order.
    let order = s.new_order("Ed Prompted").await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    s.prompt(&order).await;
    s.prompt(&order).await;
    let (st, e) = s
        .post(&format!("/api/v1/orders/{order}/prompts"), &json!({}))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{e}"
    );
    let other = s.new_order("Fay Other").await;
    assert_eq!(s.enroll(&other, photo(ENROL)).await.0, StatusCode::CREATED);
    s.prompt(&other).await;
    s.stop();

    // Per account: its requests a minute, API and console together.
    let s = Server::start_with(&db, start(), with_limits(|l| l.officer_per_minute = 3)).await;
    for _ in 0..3 {
        assert_eq!(s.get("/api/v1/persons").await.0, StatusCode::OK);
    }
    let r = s
        .client
        .get(format!("{}/api/v1/persons", s.base))
        .bearer_auth(&s.officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    s.stop();
    let s = Server::start_with(&db, start(), with_limits(|l| l.officer_per_minute = 4)).await;
    let c = Console::serve(s.app.clone()).await;
    c.user("rita", Role::Investigator, "*").await;
    let session = c.session("rita").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(c.get(&session, "/account", &[]).await.status());
    }
    assert_eq!(statuses[..4], [StatusCode::OK; 4], "{statuses:?}");
    let r = c.get(&session, "/account", &[]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Too many requests from your account"),
        "{page}"
    );
    s.stop();
}

backends!(
    location_signals_are_recorded_for_officers,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn location_signals_are_recorded_for_officers(db: TestDb) {
    let (s, alert) = spoofed_checkins(&db).await;
    // The console's alert page shows the facts, not a verdict.
    let c = Console::serve(s.app.clone()).await;
    c.user("vera", Role::Investigator, "*").await;
    let session = c.session("vera").await;
    let (st, html) = c.html(&session, &format!("/alerts/{alert}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Location facts to weigh"), "{html}");
    assert!(
        html.contains("km from the check-in before in 30 s"),
        "{html}"
    );
    assert!(html.contains("Exactly the same coordinates as"), "{html}");
    s.stop();
}

/// Three check-ins from the very same point with the same accuracy, then
/// three tries 5 km away 30 s later (a failed-check-in alert): the server
/// and the alert's id.
async fn spoofed_checkins(db: &TestDb) -> (Server, String) {
    let s = Server::start(db, start()).await;
    let order = s.new_order("Gus Spoof").await;
    assert_eq!(s.enroll(&order, photo(ENROL)).await.0, StatusCode::CREATED);
    // Three verified check-ins from exactly the same point with the same accuracy.
    let mut last = Value::Null;
    for i in 0..3 {
        if i > 0 {
            s.clock.advance(Duration::hours(3));
        }
        let p = s.prompt(&order).await;
        let (st, v) = s
            .checkin(
                p["token"].as_str().unwrap(),
                &frames_for(&p["challenge"]),
                NEAR,
                5.0,
                None,
            )
            .await;
        assert_eq!(
            (st, v["outcome"].as_str()),
            (StatusCode::OK, Some("verified")),
            "{v}"
        );
        let ev = s.evidence(&v).await;
        assert_eq!(ev["location"]["client_asserted"], true, "{ev}");
        if i == 0 {
            assert!(
                ev.get("location_signals").is_none(),
                "nothing to compare with: {ev}"
            );
        }
        last = ev;
    }
    let sig = &last["location_signals"];
    assert_eq!(
        sig["identical_coordinates"],
        json!({ "earlier_checkins": 2, "compared": 2 }),
        "{last}"
    );
    assert_eq!(sig["constant_accuracy"]["checkins_in_a_row"], 3, "{last}");
    // Five kilometres away 30 seconds later: faster than any traveller.
    s.clock.advance(Duration::seconds(30));
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    let frames = frames_for(&p["challenge"]);
    let (_, v) = s.checkin(token, &frames, FAR, 12.0, None).await;
    assert_eq!(v["outcome"], "outside_geofence", "{v}");
    let ev = s.evidence(&v).await;
    let travel = &ev["location_signals"]["implausible_travel"];
    assert!(travel["speed_kmh"].as_f64().unwrap() > 300.0, "{ev}");
    assert_eq!(travel["seconds"], 30.0, "{ev}");
    // Two more tries there: the third opens the alert the officer works from.
    s.clock.advance(Duration::minutes(2));
    s.checkin(token, &frames, FAR, 12.0, None).await;
    s.checkin(token, &frames, FAR, 12.0, None).await;
    let (_, page) = s.get("/api/v1/alerts?kind=failed_checkin").await;
    let alert = &page["items"][0];
    assert_eq!(alert["order_id"], order.as_str(), "{page}");
    assert!(
        alert["evidence"]["last_try"]["location_signals"]["identical_coordinates"].is_object(),
        "{alert}"
    );
    let id = alert["id"].as_str().unwrap().to_owned();
    (s, id)
}

/// The alert page with location signals, as an officer sees it on a laptop
/// and a tablet: readable, accessible, nothing from another origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_signals_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let (s, alert) = spoofed_checkins(&db).await;
    let c = Console::serve(s.app.clone()).await;
    c.user("vera", Role::Investigator, "*").await;
    let mut failures = Vec::new();
    for (window, name) in [(LAPTOP, "laptop"), (TABLET, "tablet")] {
        let b = driver.window_session(window, "en-US,en").await;
        sign_in(&b, &c.base, "vera").await;
        b.goto(&format!("{}/alerts/{alert}", c.base)).await;
        let facts = b.text_of(".tries", WAIT).await;
        assert!(facts.contains("Exactly the same coordinates"), "{facts}");
        assert!(facts.contains("km/h"), "{facts}");
        look(
            &b,
            axe.as_deref(),
            &format!("alert-location-signals-{name}"),
            &mut failures,
        )
        .await;
    }
    assert!(failures.is_empty(), "{failures:#?}");
    s.stop();
}

backends!(bulk_csv_errors_are_capped_with_their_total);
async fn bulk_csv_errors_are_capped_with_their_total(db: TestDb) {
    let s = Server::start_with(&db, start(), with_limits(|l| l.csv_max_row_errors = 5)).await;
    let mut csv = lazaret_store::ORDER_CSV_COLUMNS.join(",");
    csv.push('\n');
    for _ in 0..40 {
        csv.push_str("x\n");
    }
    let r = s
        .client
        .post(format!("{}/api/v1/orders/bulk", s.base))
        .bearer_auth(&s.officer)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "invalid_rows", "{e}");
    assert_eq!(e["errors"].as_array().unwrap().len(), 5, "{e}");
    let total = e["error_count"].as_u64().unwrap();
    assert!(total > 40, "every bad field of 40 rows is counted: {e}");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{total} error(s) in 40 row(s)")),
        "{e}"
    );
    assert_eq!(e["errors"][0]["line"], 2, "the first rows are kept: {e}");
    s.stop();
}

#[tokio::test]
async fn the_store_keeps_a_bounded_number_of_row_errors() {
    let db = TestDb::sqlite().await;
    let kind = lazaret_store::ImportKind::Tests;
    let mut csv = kind.columns().join(",");
    csv.push('\n');
    let rows = lazaret_store::ROW_ERRORS_KEPT + 500;
    for _ in 0..rows {
        csv.push_str("x\n");
    }
    let report = db
        .store
        .import_csv(
            kind,
            csv.as_bytes(),
            &lazaret_store::ImportOptions {
                dry_run: true,
                ..lazaret_store::ImportOptions::default()
            },
            start(),
        )
        .await
        .unwrap();
    assert_eq!(report.errors.len(), lazaret_store::ROW_ERRORS_KEPT);
    assert!(
        report.error_count() >= rows as u64,
        "{}",
        report.error_count()
    );
    assert_eq!(report.errors[0].line, 2);
}

backends!(api_answers_are_not_cached_and_health_says_only_ok);
async fn api_answers_are_not_cached_and_health_says_only_ok(db: TestDb) {
    let s = Server::start(&db, start()).await;
    for (path, token) in [
        ("/api/v1/persons", Some(&s.officer)),
        ("/api/v1/persons", None),
        ("/api/v1/nowhere", None),
        ("/healthz", None),
    ] {
        let mut r = s.client.get(format!("{}{path}", s.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    let anon: Value = reqwest::get(format!("{}/healthz", s.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anon, json!({ "status": "ok" }));
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .bearer_auth("lzt_forged_x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({ "status": "ok" }));
    let (_, officer) = s.get("/healthz").await;
    assert_eq!(officer["database"], db.kind().as_str());
    assert_eq!(officer["clock"], "system");
    assert!(officer["version"].is_string());
    // The pages keep their own caching rules.
    let r = reqwest::get(format!("{}/checkin", s.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop();
}

#[test]
fn limits_are_checked_when_the_configuration_loads() {
    let mut c = Config::default();
    c.limits.max_frame_pixels = 50_000_000;
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("max_frame_pixels"));
    let mut c = Config::default();
    c.limits.csv_max_row_errors = lazaret_store::ROW_ERRORS_KEPT as u32 + 1;
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("csv_max_row_errors"));
    assert!(Config::default().validate().is_ok());
    // `CENTER` is one of the fixture photos: a phone photo passes the default bound.
    let l = LimitsConfig::default();
    assert!(lazaret_face::image_input::check_pixels(&photo(CENTER), l.max_frame_pixels).is_ok());
}
