//! The console's surveillance exports over real HTTP on both backends: the
//! page and its menu entry only for analysts, the download the API's rows
//! exactly (the last day included), a refused request shown at its field
//! with the form kept, the export audited as the session's user; and the
//! page in headless Chromium at laptop and phone size (screenshots, axe,
//! no request elsewhere), with a download fetched from the page.

use lazaret_core::user::Role;
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{self, Chromedriver, LAPTOP, PHONE};
use crate::console::{look, sign_in, Console, WAIT};
use crate::exports::{scenario, CASES_HEADER, NORTH_CASES};

async fn world(db: &TestDb) -> Console {
    let c = Console::start(db).await;
    scenario(&c.app.state.store).await;
    c.user("ana", Role::Analyst, "north").await;
    c.user("ivan", Role::Investigator, "north").await;
    c
}

const FILE: &str = "/exports/file?kind=cases&format=csv&district=&from=2026-03-01&to=2026-03-08";

backends!(the_exports_page_downloads_the_analysts_districts);
async fn the_exports_page_downloads_the_analysts_districts(db: TestDb) {
    let c = world(&db).await;
    let ana = c.session("ana").await;
    let (st, html) = c.html(&ana, "/exports").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains("href=\"/exports\" aria-current=\"page\""),
        "{html}"
    );
    assert!(html.contains("action=\"/exports/file\""));
    // The defaults: cases, CSV, all of ana's districts, the last 30 days.
    assert!(html.contains("value=\"2026-02-08\"") && html.contains("value=\"2026-03-10\""));
    assert!(
        html.contains("<option value=\"north\">north</option>"),
        "{html}"
    );

    let r = c.get(&ana, FILE, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("lazaret-cases-all-20260301T0000Z-20260309T0000Z.csv"));
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines, [CASES_HEADER, NORTH_CASES[0], NORTH_CASES[1]]);
    let events = c.audit("export.surveillance").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "user:ana");
    assert!(events[0].details.contains("districts=north"), "{events:?}");

    // Refused, with the form kept and the reason at its field.
    let (st, html) = c
        .html(
            &ana,
            "/exports/file?kind=contacts&format=fhir&district=south&from=2026-03-01&to=2026-03-08",
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"x-district-error\""), "{html}");
    assert!(html.contains("not one of your districts"), "{html}");
    assert!(html.contains("<option value=\"fhir\" selected>"), "{html}");
    let (st, html) = c
        .html(
            &ana,
            "/exports/file?kind=cases&format=csv&from=2026-03-09&to=2026-03-01",
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"x-to-error\""), "{html}");
    assert!(html.contains("cannot come before the first day"), "{html}");
    let (st, html) = c
        .html(
            &ana,
            "/exports/file?kind=cases&format=csv&from=1.3.2026&to=2026-03-01",
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("YYYY-MM-DD") && html.contains("id=\"x-from-error\""));
    // Nothing refused was exported.
    assert_eq!(c.audit("export.surveillance").await.len(), 1);

    // An investigator has no exports: no menu entry, 403 on both.
    let ivan = c.session("ivan").await;
    let (st, html) = c.html(&ivan, "/exports").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(!html.contains("href=\"/exports\""), "{html}");
    let r = c.get(&ivan, FILE, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, html) = c.html(&ivan, "/cases").await;
    assert!(!html.contains("href=\"/exports\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exports_page_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let c = world(&db).await;
    let mut failures = Vec::new();
    for (size, tag) in [(LAPTOP, "laptop"), (PHONE, "phone")] {
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ana").await;
        b.goto(&format!("{}/exports", c.base)).await;
        b.text_of("#export-lead", WAIT).await;
        look(&b, axe.as_deref(), &format!("exports-{tag}"), &mut failures).await;
        // The download, fetched as the browser would with the session.
        let got = b
            .exec_async(
                "const done = arguments[arguments.length - 1];\
                 fetch(arguments[0]).then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t.split('\\r\\n').length])));",
                json!([FILE]),
            )
            .await;
        assert_eq!(got, json!([200, "text/csv; charset=utf-8", 4]), "{got}");
        // A period ending before it starts: the form again, with the reason.
        b.exec(
            "document.getElementById('x-from').value = '2026-03-09';\
             document.getElementById('x-to').value = '2026-03-01';",
            json!([]),
        )
        .await;
        b.click("#export-download").await;
        b.text_of("#x-to-error", WAIT).await;
        look(
            &b,
            axe.as_deref(),
            &format!("exports-refused-{tag}"),
            &mut failures,
        )
        .await;
        b.quit().await;
    }
    assert!(
        failures.is_empty(),
        "accessibility:\n{}",
        failures.join("\n")
    );
}
