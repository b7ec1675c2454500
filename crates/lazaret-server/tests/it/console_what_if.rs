//! The console's what-if simulation over real HTTP: the page and its menu
//! entry for analysts and investigators only, a run's table and chart with
//! every rule set chosen and the baseline, a refused request shown with the
//! form kept (and nothing run or audited), the run audited as the session's
//! user; and the page in headless Chromium at laptop and phone size.

use lazaret_core::user::Role;
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use reqwest::StatusCode;

use crate::browser::{self, Chromedriver, LAPTOP, PHONE};
use crate::console::{look, sign_in, Console, WAIT};

async fn world(db: &TestDb) -> Console {
    let c = Console::start(db).await;
    c.user("ana", Role::Analyst, "north").await;
    c.user("ivan", Role::Investigator, "north").await;
    c.user("cora", Role::ComplianceOfficer, "north").await;
    c
}

const RUN: &str =
    "/what-if?run=1&population=2000&days=40&runs=3&r0=2.5&variant=in_force&variant=whole_building";

backends!(the_what_if_page_compares_rule_sets_for_supervisors);
async fn the_what_if_page_compares_rule_sets_for_supervisors(db: TestDb) {
    let c = world(&db).await;
    let ana = c.session("ana").await;
    let (st, html) = c.html(&ana, "/what-if").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(
        html.contains("href=\"/what-if\" aria-current=\"page\""),
        "{html}"
    );
    assert!(
        !html.contains("id=\"what-if-results\""),
        "the form alone runs nothing"
    );
    assert!(c.audit("whatif.run").await.is_empty());

    let (st, html) = c.html(&ana, RUN).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"what-if-results\""), "{html}");
    for name in [
        "Isolation of cases only",
        "Rules in force",
        "Whole building quarantined",
    ] {
        assert!(
            html.contains(&format!("<th scope=\"row\">{name}</th>")),
            "{name}: {html}"
        );
    }
    assert!(
        !html.contains("Household only</th>"),
        "only the chosen rule sets"
    );
    assert!(html.contains("<svg") && html.contains("Infections averted per 1,000 quarantine days"));
    // The choices are kept in the form.
    assert!(html.contains("value=\"whole_building\" checked"), "{html}");
    assert!(!html.contains("value=\"ten_days\" checked"), "{html}");
    let events = c.audit("whatif.run").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "user:ana");
    assert!(
        events[0].details.contains("population=2000")
            && events[0].details.contains("whole_building")
    );

    // Refused at its field, the form kept, nothing run.
    let (st, html) = c
        .html(
            &ana,
            "/what-if?run=1&population=2000000&days=40&runs=3&r0=2.5&variant=in_force",
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("People: a whole number from 1,000 to 50,000."),
        "{html}"
    );
    assert!(html.contains("value=\"2000000\""), "{html}");
    let (st, html) = c
        .html(
            &ana,
            "/what-if?run=1&population=50000&days=120&runs=40&r0=2.5&variant=in_force",
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("at most 60 million person-days"), "{html}");
    let (st, html) = c
        .html(&ana, "/what-if?run=1&population=2000&days=40&runs=3&r0=2.5")
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Choose at least one"), "{html}");
    assert_eq!(c.audit("whatif.run").await.len(), 1);

    // An investigator runs it too; a compliance officer neither sees nor opens it.
    let ivan = c.session("ivan").await;
    let (st, _) = c.html(&ivan, "/what-if").await;
    assert_eq!(st, StatusCode::OK);
    let cora = c.session("cora").await;
    let (st, html) = c.html(&cora, "/what-if").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(!html.contains("href=\"/what-if\""), "{html}");
    let (st, _) = c.html(&cora, RUN).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(c.audit("whatif.run").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_what_if_page_in_headless_chromium() {
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
        b.goto(&format!("{}/what-if", c.base)).await;
        b.text_of("#what-if-lead", WAIT).await;
        look(&b, axe.as_deref(), &format!("what-if-{tag}"), &mut failures).await;
        b.exec(
            "document.getElementById('w-population').value = '2000';\
             document.getElementById('w-days').value = '40';\
             document.getElementById('w-runs').value = '3';",
            serde_json::json!([]),
        )
        .await;
        b.click("#what-if-run").await;
        b.text_of("#what-if-results-title", WAIT).await;
        look(
            &b,
            axe.as_deref(),
            &format!("what-if-results-{tag}"),
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
