//! The person's pages: served with strict headers in English and Russian,
//! the prompt look-up API, and the check-in, symptom and self-enrolment
//! pages driven in headless Chromium with a fake camera playing real face
//! photos and an emulated location. SQLite is enough here: storage is
//! covered on both backends by the API stories.

use crate::browser;
use crate::support;

use std::path::Path;
use std::time::Duration as StdDuration;

use chrono::Utc;
use lazaret_core::checkin::CheckinOutcome;
use lazaret_core::ids::OrderId;
use lazaret_core::user::Role;
use lazaret_server::config::{Liveness, Secret};
use lazaret_server::prompting::hash_token;
use lazaret_server::template_crypto::TemplateKey;
use lazaret_server::{App, AppState, Config};
use lazaret_store::testing::TestDb;
use lazaret_store::LinkStatus;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{engine, frames_for, photo, Api, CENTER, ENROL, FAR, NEAR, OTHER};

use browser::{Chromedriver, Session};

const LONG: StdDuration = StdDuration::from_secs(90);
const SHORT: StdDuration = StdDuration::from_secs(20);

struct Server {
    api: Api,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    async fn start(db: &TestDb, liveness: Liveness) -> Server {
        #[allow(
            clippy::disallowed_methods,
            reason = "the test needs a wall-clock instant, not the server's clock"
        )]
        let officer =
            lazaret_server::auth::create_token(&db.store, Role::Investigator, "t", "t", Utc::now())
                .await
                .unwrap()
                .1;
        let (listener, base) = support::bind_local().await;
        let config = Config {
            template_key: Secret::new(TemplateKey::generate_hex()),
            public_url: Some(base.clone()),
            liveness,
            ..Config::default()
        };
        let app = App::builder(config, db.store.clone())
            .face(engine())
            .unannounced()
            .build()
            .unwrap();
        let tx = support::spawn_server(listener, &app);
        Server {
            api: Api::new(base, officer),
            state: app.state.clone(),
            shutdown: Some(tx),
        }
    }

    #[allow(
        clippy::disallowed_methods,
        reason = "the test needs a wall-clock instant, not the server's clock"
    )]
    async fn new_order(&self, name: &str, language: &str) -> String {
        self.create_order(
            &json!({ "full_name": name, "language": language }),
            Utc::now(),
        )
        .await
    }

    async fn enrolled_order(&self, language: &str) -> String {
        let order = self.new_order("Edmund Stoiber", language).await;
        let (st, e) = self.enroll(&order, photo(ENROL)).await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
        order
    }

    /// The stored check-ins of the prompt whose token is `token`.
    async fn outcomes(&self, token: &str) -> Vec<(CheckinOutcome, Value)> {
        let prompt = self
            .state
            .store
            .prompt_by_token_hash(&hash_token(token))
            .await
            .unwrap()
            .unwrap();
        self.state
            .store
            .checkins_of_prompt(&prompt.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.outcome.unwrap(), c.evidence))
            .collect()
    }

    async fn get_page(&self, path: &str, accept_language: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("Accept-Language", accept_language)
            .send()
            .await
            .unwrap()
    }

    fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_served_with_strict_headers_in_both_languages() {
    let db = TestDb::sqlite().await;
    let s = Server::start(&db, Liveness::On).await;

    for (path, title_en, title_ru) in [
        ("/checkin", "Check-in", "Отметка"),
        (
            "/symptoms",
            "How are you feeling today?",
            "Как вы себя чувствуете сегодня?",
        ),
        ("/enroll", "Your reference photo", "Ваше фото для сверки"),
        ("/my-data", "My data", "Мои данные"),
    ] {
        for (accept, query, lang, title) in [
            ("en-GB,en;q=0.9", "", "en", title_en),
            ("ru-RU,ru;q=0.9,en;q=0.8", "", "ru", title_ru),
            ("fr-CH", "", "en", title_en),
            ("en", "?lang=ru", "ru", title_ru),
        ] {
            let r = s.get_page(&format!("{path}{query}"), accept).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let h = r.headers().clone();
            let header = |k: &str| h.get(k).map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(header("content-type").unwrap(), "text/html; charset=utf-8");
            assert_eq!(header("content-language").as_deref(), Some(lang));
            let csp = header("content-security-policy").unwrap();
            assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
            assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
            assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
            assert_eq!(header("cache-control").as_deref(), Some("no-store"));
            assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
            assert!(header("permissions-policy")
                .unwrap()
                .contains("camera=(self)"));
            let html = r.text().await.unwrap();
            assert!(
                html.contains(&format!("<html lang=\"{lang}\" dir=\"ltr\">")),
                "{path} {accept}"
            );
            assert!(
                html.contains(&format!("<h1>{title}</h1>")),
                "{path} {lang}: {html}"
            );
            // Nothing from anywhere else, no inline script, small.
            assert!(
                !html.contains("http://") && !html.contains("https://"),
                "{html}"
            );
            assert!(!html.contains("<script>") && !html.contains("onclick="));
            assert!(html.len() < 16_000, "{path}: {} bytes", html.len());
        }
    }

    // Every language the person may read, chosen by the browser or by
    // `?lang=`; Arabic right to left. Each page offers all of them.
    for (accept, query, lang, dir, title) in [
        ("ar-EG,ar;q=0.9", "", "ar", "rtl", "تسجيل الحضور"),
        ("zh-CN,zh;q=0.9", "", "zh", "ltr", "在家核验"),
        ("uk-UA", "", "uk", "ltr", "Відмітка"),
        ("pl", "", "pl", "ltr", "Potwierdzenie obecności"),
        ("de-DE", "", "de", "ltr", "Anwesenheitsnachweis"),
        ("en", "?lang=ar", "ar", "rtl", "تسجيل الحضور"),
    ] {
        let r = s.get_page(&format!("/checkin{query}"), accept).await;
        assert_eq!(
            r.headers()["content-language"].to_str().unwrap(),
            lang,
            "{accept}"
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
            "{accept}: {html}"
        );
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{lang}: {html}"
        );
        for code in ["en", "ru", "uk", "pl", "de", "zh", "ar"] {
            assert!(
                html.contains(&format!("hreflang=\"{code}\"")),
                "{lang} lacks {code}"
            );
        }
        assert!(html.contains("id=\"my-data-link\""), "{lang}");
    }

    // The scripts and the style sheet, with the same headers; nothing else.
    let mut total = 0;
    for name in [
        "common.js",
        "checkin.js",
        "symptoms.js",
        "enroll.js",
        "my-data.js",
        "pages.css",
    ] {
        let r = s.get_page(&format!("/assets/{name}"), "en").await;
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert!(r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("'none'"));
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with(if name.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        }));
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{name}"
        );
        total += body.len();
    }
    assert!(total < 40_000, "assets weigh {total} bytes");
    let r = s.get_page("/assets/../Cargo.toml", "en").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = s.get_page("/assets/secret.js", "en").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The prompt look-up: what the check-in page needs, and clear refusals.
    let order = s.enrolled_order("ru").await;
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    let (st, info) = s
        .public_json("/api/v1/checkins/prompt", &json!({ "token": token }))
        .await;
    assert_eq!(st, StatusCode::OK, "{info}");
    assert_eq!(info["poses"], p["challenge"]["poses"]);
    assert_eq!(
        info["frames"],
        json!(p["challenge"]["poses"].as_array().unwrap().len())
    );
    assert_eq!(info["tries_left"], 3);
    assert_eq!(info["language"], "ru");
    assert!(
        info["challenge"]
            .as_str()
            .unwrap()
            .contains("посмотреть прямо в камеру"),
        "{info}"
    );
    // Stored to the millisecond.
    let at = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<chrono::DateTime<Utc>>()
            .unwrap()
    };
    assert!(
        (at(&info["deadline"]) - at(&p["deadline"]))
            .num_milliseconds()
            .abs()
            <= 1
    );
    assert!(
        info.get("order_id").is_none() && info.get("lat").is_none(),
        "{info}"
    );
    let (st, e) = s
        .public_json(
            "/api/v1/checkins/prompt",
            &json!({ "token": "lzp_unknown" }),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    let (st, e) = s
        .public_json("/api/v1/checkins/prompt", &json!({ "token": "" }))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    let (st, _) = s
        .public_json(
            "/api/v1/checkins/prompt",
            &json!({ "token": token, "x": 1 }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // Answered: the link is spent.
    let (_, v) = s
        .checkin(token, &frames_for(&p["challenge"]), NEAR, 10.0, None)
        .await;
    assert_eq!(v["outcome"], "verified", "{v}");
    let (st, e) = s
        .public_json("/api/v1/checkins/prompt", &json!({ "token": token }))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::GONE, Some("token_used"))
    );

    // The symptom form and the enrolment page ask for the person's
    // language the same way, for any link the server knows.
    let (st, form) = s
        .post(&format!("/api/v1/orders/{order}/symptom-forms"), &json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{form}");
    let boris = s.new_order("Boris Petrov", "ru").await;
    let (st, link) = s
        .post(
            &format!("/api/v1/orders/{boris}/enrollment-link"),
            &json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{link}");
    for (path, token, script) in [
        (
            "/api/v1/symptom-reports/form",
            form["token"].as_str().unwrap(),
            "symptoms.js",
        ),
        (
            "/api/v1/enrollment/link",
            link["token"].as_str().unwrap(),
            "enroll.js",
        ),
    ] {
        let (st, v) = s.public_json(path, &json!({ "token": token })).await;
        assert_eq!(
            (st, &v),
            (StatusCode::OK, &json!({ "language": "ru" })),
            "{path}"
        );
        for bad in ["", "lzx_unknown"] {
            let (st, e) = s.public_json(path, &json!({ "token": bad })).await;
            assert_eq!(
                (st, e["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("invalid_token")),
                "{path} {bad:?}"
            );
        }
        let js = s
            .get_page(&format!("/assets/{script}"), "en")
            .await
            .text()
            .await
            .unwrap();
        assert!(js.contains(path), "{script} does not ask {path}");
    }

    // In the OpenAPI document.
    let (_, doc) = s.get("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/checkins/prompt"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/symptom-reports/form"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/enrollment/link"]["post"].is_object());
    assert!(doc["components"]["schemas"]["PromptInfo"].is_object());

    // Self-enrolment links carry their token in the fragment.
    let fresh = s.new_order("Someone New", "en").await;
    let (st, link) = s
        .post(
            &format!("/api/v1/orders/{fresh}/enrollment-link"),
            &json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{link}");
    assert_eq!(
        link["url"].as_str().unwrap(),
        format!(
            "{}/enroll#token={}",
            s.base,
            link["token"].as_str().unwrap()
        )
    );
    s.stop();
}

/// An MJPEG the fake camera plays at 30 pictures a second: `pictures[i]`
/// for `seconds[i]`, then the last one a while longer.
fn mjpeg(path: &Path, pictures: &[Vec<u8>], seconds: &[f64]) {
    let mut out = Vec::new();
    for (p, s) in pictures.iter().zip(seconds) {
        for _ in 0..(s * 30.0).round() as usize {
            out.extend_from_slice(p);
        }
    }
    std::fs::write(path, out).unwrap();
}

/// A video answering the challenge's poses the way the page asks: it takes picture i
/// about 3 s × (i + 1) after the camera opens, so each pose fills the
/// 3 seconds around that moment.
fn pose_video(path: &Path, challenge: &Value) {
    let pictures = frames_for(challenge);
    let mut seconds = vec![3.0; pictures.len()];
    seconds[0] = 4.5;
    *seconds.last_mut().unwrap() += 3.0;
    mjpeg(path, &pictures, &seconds);
}

fn still_video(path: &Path, name: &str) {
    mjpeg(path, &[photo(name)], &[1.0]);
}

/// Opens the check-in link and answers it from `at`; returns the outcome
/// code the page shows and its text.
async fn check_in(b: &Session<'_>, s: &Server, token: &str, at: (f64, f64)) -> (String, String) {
    b.set_location(at.0, at.1, 12.0).await;
    b.goto(&format!("{}/checkin#token={token}", s.base)).await;
    b.text_of("#steps", SHORT).await;
    b.click("#start").await;
    let outcome = b
        .wait_for(
            "the check-in outcome",
            "var e = document.getElementById('outcome'); return e.closest('[hidden]') ? null : e.getAttribute('data-outcome') || e.innerText || null;",
            LONG,
        )
        .await;
    let text = b.text_of("#outcome", SHORT).await;
    (outcome.as_str().unwrap().to_owned(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_pages_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let s = Server::start(&db, Liveness::On).await;
    let dir = tempfile::tempdir().unwrap();

    // 1. The same person follows the challenge at home: verified.
    let order = s.enrolled_order("en").await;
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    let video = dir.path().join("poses.mjpeg");
    pose_video(&video, &p["challenge"]);
    let b = driver.session(&video, "en-US,en").await;
    let (outcome, text) = check_in(&b, &s, token, NEAR).await;
    assert_eq!(outcome, "verified", "{text}");
    assert!(text.contains("your check-in is confirmed"), "{text}");
    let stored = s.outcomes(token).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, CheckinOutcome::Verified, "{}", stored[0].1);
    assert_eq!(
        stored[0].1["frames"],
        json!(p["challenge"]["poses"].as_array().unwrap().len())
    );
    assert_eq!(stored[0].1["liveness"]["passed"], true, "{}", stored[0].1);
    b.assert_self_contained().await;
    // The spent link says so.
    b.goto("about:blank").await;
    b.goto(&format!("{}/checkin#token={token}", s.base)).await;
    let shown = b.text_of("#status", SHORT).await;
    assert!(shown.contains("already completed"), "{shown}");
    b.quit().await;

    // 2. Outside the fence by 5 km: the face passes, the place does not.
    let order = s.enrolled_order("en").await;
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    pose_video(&video, &p["challenge"]);
    let b = driver.session(&video, "en-US,en").await;
    let (outcome, text) = check_in(&b, &s, token, FAR).await;
    assert_eq!(outcome, "outside_geofence", "{text}");
    assert!(
        text.contains("outside the place of your quarantine"),
        "{text}"
    );
    let next = b.text_of("#next", SHORT).await;
    assert!(next.contains("Tries left: 2"), "{next}");
    let stored = s.outcomes(token).await;
    assert_eq!(
        stored[0].0,
        CheckinOutcome::OutsideGeofence,
        "{}",
        stored[0].1
    );
    assert!(stored[0].1["location"]["distance_m"].as_f64().unwrap() > 4_500.0);
    b.quit().await;

    // 3. Someone else, for a person who reads Russian: the page switches to
    //    Russian and says the face was not confirmed; a retry is offered.
    let order = s.enrolled_order("ru").await;
    let p = s.prompt(&order).await;
    let token = p["token"].as_str().unwrap();
    let other = dir.path().join("other.mjpeg");
    still_video(&other, OTHER);
    let b = driver.session(&other, "en-US,en").await;
    let (outcome, text) = check_in(&b, &s, token, NEAR).await;
    assert_eq!(outcome, "face_mismatch", "{text}");
    assert!(text.contains("Не удалось подтвердить"), "{text}");
    let retry = b.text_of("#retry", SHORT).await;
    assert_eq!(retry, "Попробовать ещё раз");
    let lang = b
        .exec(
            "return document.documentElement.lang + ' ' + location.search",
            json!([]),
        )
        .await;
    assert_eq!(lang, "ru ?lang=ru");
    assert_eq!(s.outcomes(token).await[0].0, CheckinOutcome::FaceMismatch);
    // A wrong link, in Russian (from elsewhere: a new fragment alone would
    // not reload the page).
    b.goto("about:blank").await;
    b.goto(&format!("{}/checkin?lang=ru#token=lzp_wrong", s.base))
        .await;
    let shown = b.text_of("#status", SHORT).await;
    assert!(shown.contains("Ссылка недействительна"), "{shown}");
    b.goto(&format!("{}/checkin", s.base)).await;
    let shown = b.text_of("#status", SHORT).await;
    assert!(shown.contains("This link is incomplete"), "{shown}");
    b.assert_self_contained().await;

    // 4. The daily symptom form: fever and something else → an alert.
    let (st, form) = s
        .post(&format!("/api/v1/orders/{order}/symptom-forms"), &json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{form}");
    let ftoken = form["token"].as_str().unwrap();
    b.goto(&format!("{}/symptoms?lang=en#token={ftoken}", s.base))
        .await;
    b.text_of("#form legend", SHORT).await;
    b.click("input[value=none]").await;
    b.click("input[value=fever]").await;
    b.exec(
        "var t = document.getElementById('other'); t.value = 'headache since noon'; t.dispatchEvent(new Event('input', { bubbles: true }));",
        json!([]),
    )
    .await;
    let ticked = b
        .exec(
            "return Array.prototype.map.call(document.querySelectorAll('input[name=symptoms]:checked'), function (b) { return b.value; });",
            json!([]),
        )
        .await;
    assert_eq!(
        ticked,
        json!(["fever", "other"]),
        "none is unticked by a symptom"
    );
    b.click("#send").await;
    let text = b.text_of("#outcome", SHORT).await;
    assert!(text.contains("an investigator will contact you"), "{text}");
    let reports = s
        .state
        .store
        .symptom_reports_of_order(&OrderId::parse(&order).unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    let names: Vec<&str> = r.symptoms.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, ["fever", "other"]);
    assert_eq!(r.other.as_deref(), Some("headache since noon"));
    let (_, alerts) = s.get("/api/v1/alerts?status=open").await;
    assert!(
        alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "symptomatic" && a["order_id"] == order.as_str()),
        "{alerts}"
    );
    // The same link again: already answered.
    b.goto("about:blank").await;
    b.goto(&format!("{}/symptoms?lang=en#token={ftoken}", s.base))
        .await;
    b.text_of("#form legend", SHORT).await;
    b.click("input[value=none]").await;
    b.click("#send").await;
    let text = b.text_of("#outcome", SHORT).await;
    assert!(text.contains("already answered"), "{text}");
    // Without a choice of language, the form of a person who reads Russian
    // opens in Russian in an English browser.
    b.goto("about:blank").await;
    b.goto(&format!("{}/symptoms#token={ftoken}", s.base)).await;
    let legend = b.text_of("#form legend", SHORT).await;
    let lang = b
        .exec(
            "return document.documentElement.lang + ' ' + location.search",
            json!([]),
        )
        .await;
    assert_eq!(lang, "ru ?lang=ru", "{legend}");
    b.assert_self_contained().await;
    b.quit().await;

    // 5. Self-enrolment: a photo without a face is explained, then the
    //    camera's photo is accepted and waits for an officer.
    let fresh = s.new_order("Edmund Stoiber", "en").await;
    let (st, link) = s
        .post(
            &format!("/api/v1/orders/{fresh}/enrollment-link"),
            &json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{link}");
    let blank = dir.path().join("wall.jpg");
    image::RgbImage::from_pixel(320, 320, image::Rgb([180, 170, 160]))
        .save(&blank)
        .unwrap();
    let enrol_video = dir.path().join("enrol.mjpeg");
    still_video(&enrol_video, ENROL);
    let b = driver.session(&enrol_video, "en-US,en").await;
    b.goto(link["url"].as_str().unwrap()).await;
    b.text_of("#form p", SHORT).await;
    b.upload("#file", &blank).await;
    b.click("#send").await;
    let shown = b
        .wait_for(
            "the no-face message",
            "var t = document.getElementById('status').innerText; return t.indexOf('No face') >= 0 ? t : null;",
            LONG,
        )
        .await;
    assert!(shown.as_str().unwrap().contains("whole face"), "{shown}");
    b.click("#camera").await;
    b.wait_for(
        "the camera",
        "var v = document.getElementById('video'); return !v.closest('[hidden]') && v.videoWidth > 0;",
        SHORT,
    )
    .await;
    b.click("#take").await;
    b.text_of("#status", SHORT).await;
    b.click("#send").await;
    let text = b.text_of("#outcome", LONG).await;
    assert!(text.contains("An officer will review it"), "{text}");
    let links = s
        .state
        .store
        .enrollment_links_of_order(&OrderId::parse(&fresh).unwrap())
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].status, LinkStatus::Pending);
    b.assert_self_contained().await;
    b.quit().await;
    s.stop();

    // 6. Liveness off: one picture is enough, and the photo fallback is offered.
    let db = TestDb::sqlite().await;
    let s = Server::start(&db, Liveness::Off).await;
    let order = s.enrolled_order("en").await;
    let p = s.prompt(&order).await;
    assert!(p["challenge"].is_null(), "{p}");
    let token = p["token"].as_str().unwrap();
    let center = dir.path().join("center.mjpeg");
    still_video(&center, CENTER);
    let b = driver.session(&center, "en-US,en").await;
    b.set_location(NEAR.0, NEAR.1, 12.0).await;
    b.goto(&format!("{}/checkin#token={token}", s.base)).await;
    let steps = b.text_of("#steps", SHORT).await;
    assert!(steps.contains("take one photo"), "{steps}");
    b.text_of("#fallback label", SHORT).await;
    let (outcome, text) = check_in(&b, &s, token, NEAR).await;
    assert_eq!(outcome, "verified", "{text}");
    let stored = s.outcomes(token).await;
    assert_eq!(stored[0].0, CheckinOutcome::Verified, "{}", stored[0].1);
    assert_eq!(stored[0].1["frames"], 1);
    b.quit().await;
    s.stop();
}

/// Where `css`'s text sits inside `main`'s content box: `[gap on the left,
/// gap on the right]` in pixels (a block's own box spans the line; its
/// text shows which side it starts from).
const TEXT_GAPS: &str = "var e = document.querySelector(arguments[0]); var r = document.createRange(); \
     r.selectNodeContents(e); var t = r.getBoundingClientRect(); var c = e.getBoundingClientRect(); \
     return [t.left - c.left, c.right - t.right];";

/// The person's pages in Arabic (right to left) and Chinese at phone and
/// laptop size, and the my-data page reached from the check-in page's
/// footer; each saved as a PNG under `target/console-screenshots/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_pages_in_arabic_and_chinese_and_my_data() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let s = Server::start(&db, Liveness::On).await;

    // An Arabic reader with a check-in answered from too far, then from
    // home, a symptom report, a message and an officer's look at the record.
    let ar_order = s.enrolled_order("ar").await;
    let p = s.prompt(&ar_order).await;
    let ar_token = p["token"].as_str().unwrap().to_owned();
    let frames = frames_for(&p["challenge"]);
    let (_, v) = s.checkin(&ar_token, &frames, FAR, 10.0, None).await;
    assert_eq!(v["outcome"], "outside_geofence", "{v}");
    let (_, v) = s.checkin(&ar_token, &frames, NEAR, 10.0, None).await;
    assert_eq!(v["outcome"], "verified", "{v}");
    let (st, f) = s
        .post(
            &format!("/api/v1/orders/{ar_order}/symptom-forms"),
            &json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let (st, r) = s
        .public_json(
            "/api/v1/symptom-reports",
            &json!({"token": f["token"], "symptoms": ["cough", "fatigue"], "temperature_c": 37.9}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let (_, o) = s.get(&format!("/api/v1/orders/{ar_order}")).await;
    let person = o["person_id"].as_str().unwrap().to_owned();
    #[allow(
        clippy::disallowed_methods,
        reason = "the message's time, beside the server's real clock"
    )]
    let now = Utc::now();
    s.state
        .store
        .enqueue_message(&lazaret_store::NewOutboxMessage {
            id: "msg-ar-1".into(),
            dedupe_key: "test:ar:1".into(),
            person_id: lazaret_core::ids::PersonId::parse(&person).unwrap(),
            order_id: Some(OrderId::parse(&ar_order).unwrap()),
            kind: "symptom_form".into(),
            channel: Some(lazaret_store::Channel::Sms),
            language: "ar".into(),
            recipient: Some("+41791112233".into()),
            subject: "الفحص الصحي اليومي: كيف تشعر؟".into(),
            body: "كيف تشعر اليوم؟ https://x.example/symptoms#token=lzs_secret".into(),
            body_redacted: "كيف تشعر اليوم؟ استبيان صحي قصير: [removed]".into(),
            expires_at: now + chrono::Duration::days(1),
            created_at: now,
            max_attempts: 1,
            undeliverable: Some("the test holds the token".into()),
        })
        .await
        .unwrap();
    let (st, _) = s.get(&format!("/api/v1/persons/{person}")).await;
    assert_eq!(st, StatusCode::OK);
    let ar_prompt = s.prompt(&ar_order).await;
    let ar_open = ar_prompt["token"].as_str().unwrap().to_owned();

    // 1. The check-in page in Arabic, in an English browser: it follows the
    //    person's language and lays out right to left.
    for (window, size) in [(browser::PHONE, "phone"), (browser::LAPTOP, "desktop")] {
        let b = driver.window_session(window, "en-US,en").await;
        b.goto(&format!("{}/checkin#token={ar_open}", s.base)).await;
        let steps = b.text_of("#steps", SHORT).await;
        assert!(steps.contains("ستطلب منك الكاميرا"), "{steps}");
        let page = b
            .exec(
                "var h = document.documentElement; return [h.lang, h.dir, getComputedStyle(document.body).direction, location.search];",
                json!([]),
            )
            .await;
        assert_eq!(page, json!(["ar", "rtl", "rtl", "?lang=ar"]));
        // The heading and the text start on the right.
        for css in ["h1", "#steps"] {
            let gaps = b.exec(TEXT_GAPS, json!([css])).await;
            let (left, right) = (gaps[0].as_f64().unwrap(), gaps[1].as_f64().unwrap());
            assert!(
                right < 2.0 && left > right,
                "{css} is not right-aligned: {gaps}"
            );
        }
        // The start button spans the column; the footer link sits on the right.
        let footer = b
            .exec(
                "var a = document.getElementById('my-data-link').getBoundingClientRect(); var f = document.querySelector('footer'); var s = getComputedStyle(f); var b = f.getBoundingClientRect(); return [b.right - parseFloat(s.paddingRight) - a.right, a.left - b.left];",
                json!([]),
            )
            .await;
        assert!(footer[0].as_f64().unwrap().abs() < 2.0, "{footer}");
        let tries = b.text_of("#when", SHORT).await;
        assert!(
            tries.contains("المحاولات المتبقية: 3"),
            "Western digits: {tries}"
        );
        b.assert_self_contained().await;
        b.screenshot(&format!("person-checkin-ar-{size}")).await;
        b.quit().await;
    }

    // 2. The symptom form in Arabic: each box on the right of its label.
    let b = driver.window_session(browser::PHONE, "ar").await;
    let (st, f2) = s
        .post(
            &format!("/api/v1/orders/{ar_order}/symptom-forms"),
            &json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{f2}");
    b.goto(&format!(
        "{}/symptoms#token={}",
        s.base,
        f2["token"].as_str().unwrap()
    ))
    .await;
    b.text_of("#form legend", SHORT).await;
    let boxes = b
        .exec(
            "var l = document.querySelector('label.check'); var i = l.querySelector('input').getBoundingClientRect(); var r = document.createRange(); r.selectNodeContents(l); r.setStartAfter(l.querySelector('input')); var t = r.getBoundingClientRect(); return [i.left, i.right, t.left, t.right];",
            json!([]),
        )
        .await;
    let n = |i: usize| boxes[i].as_f64().unwrap();
    assert!(n(0) > n(3) - 1.0, "the box is right of its text: {boxes}");
    b.screenshot("person-symptoms-ar-phone").await;
    b.quit().await;

    // 3. Chinese.
    let zh_order = s.enrolled_order("zh").await;
    let zh = s.prompt(&zh_order).await;
    let zh_token = zh["token"].as_str().unwrap().to_owned();
    for (window, size) in [(browser::PHONE, "phone"), (browser::LAPTOP, "desktop")] {
        let b = driver.window_session(window, "zh-CN,zh").await;
        b.goto(&format!("{}/checkin#token={zh_token}", s.base))
            .await;
        let steps = b.text_of("#steps", SHORT).await;
        assert!(steps.contains("摄像头会请您"), "{steps}");
        let page = b
            .exec(
                "var h = document.documentElement; return [h.lang, h.dir, document.querySelector('h1').innerText];",
                json!([]),
            )
            .await;
        assert_eq!(page, json!(["zh", "ltr", "在家核验"]));
        let gaps = b.exec(TEXT_GAPS, json!(["h1"])).await;
        assert!(gaps[0].as_f64().unwrap() < 2.0, "left-aligned: {gaps}");
        b.assert_self_contained().await;
        b.screenshot(&format!("person-checkin-zh-{size}")).await;
        b.quit().await;
    }

    // 4. The my-data page from the check-in page's footer, in Arabic: what
    //    was stored, outcomes without the officers' evidence, who looked.
    for (window, size) in [(browser::PHONE, "phone"), (browser::LAPTOP, "desktop")] {
        let b = driver.window_session(window, "en-US,en").await;
        b.goto(&format!("{}/checkin#token={ar_open}", s.base)).await;
        b.text_of("#steps", SHORT).await;
        b.click("#my-data-link").await;
        b.wait_for(
            "the data",
            "var d = document.getElementById('data'); return d && !d.hidden && location.pathname === '/my-data';",
            SHORT,
        )
        .await;
        let shown = b
            .exec(
                "function all(q, a) { return Array.prototype.map.call(document.querySelectorAll(q), function (e) { return a ? e.getAttribute(a) : e.innerText; }); } \
                 return { lang: document.documentElement.lang, dir: document.documentElement.dir, search: location.search, \
                   name: document.getElementById('you-name').innerText, orders: all('#orders > li'), \
                   outcomes: all('#checkins [data-outcome]', 'data-outcome'), requests: all('#checkins > li', 'data-status'), \
                   symptoms: all('#symptoms > li'), messages: all('#messages > li', 'data-kind'), \
                   actions: all('#access > li', 'data-action'), token: document.getElementById('download-token').value, \
                   form: [document.getElementById('download').method, new URL(document.getElementById('download').action).pathname], \
                   text: document.body.innerText, all: document.body.textContent };",
                json!([]),
            )
            .await;
        assert_eq!(shown["lang"], "ar", "{shown}");
        assert_eq!(shown["dir"], "rtl");
        assert_eq!(shown["search"], "?lang=ar");
        assert_eq!(shown["name"], "Edmund Stoiber");
        let orders = shown["orders"].as_array().unwrap();
        assert_eq!(orders.len(), 1, "{shown}");
        assert!(orders[0].as_str().unwrap().contains("Bahnhofstrasse 1"));
        assert!(orders[0].as_str().unwrap().contains("ساري المفعول"));
        assert_eq!(shown["outcomes"], json!(["outside_geofence", "verified"]));
        assert_eq!(shown["requests"], json!(["open", "answered"]));
        let symptoms = shown["symptoms"][0].as_str().unwrap();
        assert!(
            symptoms.contains("سعال") && symptoms.contains("37.9"),
            "{symptoms}"
        );
        assert_eq!(shown["messages"], json!(["symptom_form"]));
        let actions: Vec<&str> = shown["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(actions.contains(&"person.read"), "{actions:?}");
        assert!(actions.contains(&"symptom_report.list") || actions.contains(&"order.create"));
        assert_eq!(shown["token"], ar_open.as_str());
        assert_eq!(shown["form"], json!(["post", "/api/v1/my-data"]));
        let text = shown["text"].as_str().unwrap();
        assert!(text.contains("موقع خارج مكان الحجر") || text.contains("الموقع خارج مكان الحجر"));
        // The kept copy of the message, folded: its link removed.
        let all = shown["all"].as_str().unwrap();
        assert!(
            !all.contains("lzs_secret") && all.contains("[removed]"),
            "{all}"
        );
        for evidence in ["distance", "radius", "47.37"] {
            assert!(!text.contains(evidence), "{evidence} shown");
        }
        let gaps = b.exec(TEXT_GAPS, json!(["h1"])).await;
        assert!(gaps[1].as_f64().unwrap() < 2.0, "right-aligned: {gaps}");
        // Nothing overflows sideways on a phone.
        let wide = b
            .exec(
                "return document.documentElement.scrollWidth <= innerWidth;",
                json!([]),
            )
            .await;
        assert_eq!(wide, json!(true), "{size}");
        b.assert_self_contained().await;
        b.screenshot(&format!("person-my-data-ar-{size}")).await;
        b.quit().await;
    }

    // 5. The my-data page in Chinese, with a wrong token after it.
    let b = driver.window_session(browser::PHONE, "en-US,en").await;
    b.goto(&format!("{}/my-data#token={zh_token}", s.base))
        .await;
    b.wait_for(
        "the data",
        "var d = document.getElementById('data'); return d && !d.hidden;",
        SHORT,
    )
    .await;
    let h1 = b.text_of("h1", SHORT).await;
    assert_eq!(h1, "我的数据");
    let requests = b.text_of("#checkins", SHORT).await;
    assert!(requests.contains("等待您的回应"), "{requests}");
    b.screenshot("person-my-data-zh-phone").await;
    b.goto("about:blank").await;
    b.goto(&format!("{}/my-data?lang=zh#token=lzp_wrong", s.base))
        .await;
    let status = b.text_of("#status", SHORT).await;
    assert!(status.contains("此链接无效"), "{status}");
    b.assert_self_contained().await;
    b.quit().await;
    s.stop();
}

/// The officer API and the person's endpoints of the server under test.
impl std::ops::Deref for Server {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}
