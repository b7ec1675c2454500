//! The console's overview over real HTTP: each district's counts, only the
//! officer's districts, health counts only for the roles that see them,
//! and numbers that link to the lists behind them.

use chrono::Duration;
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact::{Contact, ExposureRule, RiskTier};
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::test_result::{TestOutcome, TestResult};
use lazaret_core::user::Role;
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use reqwest::StatusCode;

use crate::console::Console;
use crate::support::t0;

fn audit(action: &str) -> AuditRecord {
    AuditRecord {
        at: t0(),
        actor: "cli:test".into(),
        action: action.into(),
        subject_type: "person".into(),
        subject_id: "N-1".into(),
        details: String::new(),
    }
}

async fn positive(c: &Console, test: &str, person: &str, sampled: chrono::DateTime<chrono::Utc>) {
    c.app
        .state
        .store
        .upsert_test_result(
            &TestResult {
                id: TestId::parse(test).unwrap(),
                person_id: PersonId::parse(person).unwrap(),
                sampled_at: sampled,
                result: TestOutcome::Positive,
                lab: "Zeta Lab".into(),
                symptom_onset: None,
                revisions: vec![],
            },
            t0(),
            &audit("test.upsert"),
        )
        .await
        .unwrap();
}

/// N-1 a case of two days ago whose trace named N-2 (two hours ago); N-2
/// tested positive an hour ago: one new case today, already on a contact
/// list, and one positive test (N-2's) not yet traced.
async fn seed_cases(c: &Console) {
    positive(c, "T-N1", "N-1", t0() - Duration::days(2)).await;
    c.app
        .state
        .store
        .replace_contacts(
            &TestId::parse("T-N1").unwrap(),
            &[Contact {
                person_id: PersonId::parse("N-2").unwrap(),
                case_id: PersonId::parse("N-1").unwrap(),
                tier: RiskTier::Close,
                rules: vec![ExposureRule::FlightCompanion],
                evidence: vec![],
                last_exposure: t0() - Duration::days(3),
                generation: 1,
            }],
            t0() - Duration::hours(2),
            &audit("contacts.trace"),
        )
        .await
        .unwrap();
    positive(c, "T-N2", "N-2", t0() - Duration::hours(1)).await;
}

/// The text of the figure whose label is `label`, e.g. `2` of
/// "2 orders in force".
fn figure(html: &str, label: &str) -> Option<String> {
    let at = html.find(&format!("<span class=\"label\">{label}"))?;
    let before = &html[..at];
    let n_at = before.rfind("class=\"n\"")?;
    let rest = &before[n_at..];
    let value = rest.split('>').nth(1)?.split('<').next()?;
    Some(value.trim().to_owned())
}

backends!(the_overview_counts_the_officers_districts);
async fn the_overview_counts_the_officers_districts(db: TestDb) {
    let c = Console::start(&db).await;
    c.seed().await;
    seed_cases(&c).await;
    c.user("nora", Role::Investigator, "north").await;
    c.user("cole", Role::ComplianceOfficer, "north").await;
    c.user("ana", Role::Analyst, "north").await;
    c.user("nat", Role::Investigator, "*").await;
    c.user("adam", Role::Admin, "*").await;

    // An investigator of north: north only, with its links.
    let nora = c.session("nora").await;
    let (st, html) = c.html(&nora, "/overview").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"d-north\""), "{html}");
    assert!(!html.contains("id=\"d-south\""), "south is not nora's");
    assert_eq!(figure(&html, "orders in force").as_deref(), Some("2"));
    assert!(html.contains("href=\"/orders?status=active&amp;district=north\""));
    // Two missed check-ins (one linked list), one failed, one symptomatic.
    assert!(
        html.contains("href=\"/alerts?kind=missed_checkin&amp;district=north\">2</a>"),
        "{html}"
    );
    assert!(html.contains("href=\"/alerts?kind=failed_checkin&amp;district=north\">1</a>"));
    assert!(html.contains("href=\"/alerts?kind=symptomatic&amp;district=north\">1</a>"));
    // The cases: one new today, already on a list; N-2's test is not traced.
    assert_eq!(figure(&html, "new cases").as_deref(), Some("1"));
    assert_eq!(
        figure(&html, "of them already on a contact list").as_deref(),
        Some("1")
    );
    assert!(html.contains("(100%)"));
    assert_eq!(
        figure(&html, "positive tests of the last 14 days not yet traced").as_deref(),
        Some("1")
    );
    // Today's failed prompt of N-2: sent, with two tries, none verified.
    assert!(html.contains("0 / 2"), "{html}");

    // A compliance officer: no health counts, no symptomatic alert.
    let cole = c.session("cole").await;
    let (st, html) = c.html(&cole, "/overview").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("kind=symptomatic"), "{html}");
    assert!(!html.contains("new cases"), "{html}");
    assert!(html.contains("href=\"/alerts?kind=missed_checkin&amp;district=north\">2</a>"));

    // An analyst: the counts, cases included, but no links to lists of
    // persons they may not open.
    let ana = c.session("ana").await;
    let (st, html) = c.html(&ana, "/overview").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(figure(&html, "new cases").as_deref(), Some("1"));
    assert!(!html.contains("href=\"/alerts?"), "{html}");
    assert!(!html.contains("href=\"/orders?"), "{html}");

    // A national investigator sees both districts, each with its own counts.
    let nat = c.session("nat").await;
    let (_, html) = c.html(&nat, "/overview").await;
    assert!(html.contains("id=\"d-north\"") && html.contains("id=\"d-south\""));
    assert!(html.contains("href=\"/alerts?kind=missed_checkin&amp;district=south\">1</a>"));
    // The number's link opens exactly its list: south's active order.
    let (st, html) = c.html(&nat, "/orders?status=active&district=south").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("/persons/S-1") && !html.contains("/persons/N-1"),
        "{html}"
    );
    // A district outside the officer's own is never widened to.
    let (_, html) = c.html(&nora, "/orders?status=active&district=south").await;
    assert!(!html.contains("/persons/S-1"), "{html}");

    // An administrator reads no orders or counts.
    let adam = c.session("adam").await;
    let (st, html) = c.html(&adam, "/overview").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("no overview"), "{html}");

    // Each read is audited.
    let reads = c.audit("overview.read").await;
    assert_eq!(reads.len(), 4, "{reads:?}");
}
