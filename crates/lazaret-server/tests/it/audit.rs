//! `GET /api/v1/audit` (the auditor's, itself audited) and audited reads
//! that keep answering while a large SQLite import holds the write lock.

use std::time::Duration;

use lazaret_core::user::Role;
use lazaret_server::{App, Config};
use lazaret_store::backends;
use lazaret_store::testing::{first_broken_link, sqlite_write_lock_held, TestDb};
use lazaret_store::{AuditFilter, ImportKind, ImportOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{self, t0, Api};

async fn token(db: &TestDb, role: Role) -> String {
    lazaret_server::auth::create_token(&db.store, role, "t", "t", t0())
        .await
        .unwrap()
        .1
}

/// A server on the test database (no face engine: none of these routes
/// needs one).
async fn serve(db: &TestDb) -> (String, tokio::sync::oneshot::Sender<()>) {
    let (listener, base) = support::bind_local().await;
    let app = App::builder(Config::default(), db.store.clone())
        .build()
        .unwrap();
    (base.clone(), support::spawn_server(listener, &app))
}

fn seqs(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}

async fn the_auditor_reads_the_log_and_the_reading_is_audited(db: TestDb) {
    let auditor = token(&db, Role::Auditor).await;
    let admin = token(&db, Role::Admin).await;
    let investigator = token(&db, Role::Investigator).await;
    let (base, stop) = serve(&db).await;
    let api = Api::new(base.clone(), auditor.clone());

    let (st, page) = api.get("/api/v1/audit?action=token.create").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(seqs(&page), [1, 2, 3], "{:?}", db.kind());
    assert_eq!(page["items"][0]["actor"], "t");
    assert!(page["next_after"].is_null());

    let (_, first) = api.get("/api/v1/audit?action=token.create&limit=2").await;
    assert_eq!(seqs(&first), [1, 2]);
    assert_eq!(first["next_after"], 2);
    let (_, rest) = api
        .get("/api/v1/audit?action=token.create&limit=2&after=2")
        .await;
    assert_eq!(seqs(&rest), [3]);
    let (_, none) = api
        .get("/api/v1/audit?action=token.create&to=2026-03-10T08:59:59Z")
        .await;
    assert_eq!(seqs(&none), Vec::<i64>::new());

    for (query, field) in [
        ("limit=1001", "limit"),
        ("limit=0", "limit"),
        ("from=yesterday", "from"),
    ] {
        let (st, body) = api.get(&format!("/api/v1/audit?{query}")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["field"], field, "{body}");
    }
    // Officers of every other role, the administrator included, are refused.
    for other in [&admin, &investigator] {
        let (st, _) = Api::new(base.clone(), other.clone())
            .get("/api/v1/audit")
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }

    // Each answered read is in the chain, naming the auditor's token
    // and the filters.
    let reads = db
        .store
        .audit_search(
            &AuditFilter {
                action: Some("audit.read".into()),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(reads.len(), 4, "{reads:?}");
    assert!(reads.iter().all(|e| e.actor.starts_with("token:")));
    assert!(
        reads[1].details.contains("\"limit\":2"),
        "{}",
        reads[1].details
    );
    let events = db.store.audit_events(0, 10_000).await.unwrap();
    assert_eq!(first_broken_link(&events), None);
    let _ = stop.send(());
}
backends!(the_auditor_reads_the_log_and_the_reading_is_audited);

/// Security review M10: an import holds SQLite's write lock for its whole
/// transaction. A person read meanwhile must answer (its audit event goes
/// to the spool) and its event must be in the chain afterwards.
#[tokio::test]
async fn a_read_during_a_large_sqlite_import_answers_and_is_audited() {
    const ROWS: usize = 300_000;
    let db = TestDb::sqlite().await;
    let investigator = token(&db, Role::Investigator).await;
    let (base, stop) = serve(&db).await;
    let api = Api::new(base, investigator);
    let (st, person) = api
        .post(
            "/api/v1/persons",
            &json!({"id": "P-ana", "full_name": "Ana Lima"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{person}");

    let mut csv =
        String::from("person_id,full_name,phone,email,building_id,address,unit,lat,lon\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "R{i},Resident {i},,,B{},Street {} ,{},47.3{},8.5{}\n",
            i / 8,
            i / 8,
            i % 8,
            i % 10,
            i % 7
        ));
    }
    let store = db.store.clone();
    let import = tokio::spawn(async move {
        store
            .import_csv(
                ImportKind::Residences,
                std::io::Cursor::new(csv.into_bytes()),
                &ImportOptions::default(),
                t0(),
            )
            .await
    });
    while !sqlite_write_lock_held(&db.url).await {
        assert!(
            !import.is_finished(),
            "the import ended before it was seen holding the lock: make it larger"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (st, got) = api.get("/api/v1/persons/P-ana").await;
    assert_eq!(st, StatusCode::OK, "{got}");
    assert_eq!(got["full_name"], "Ana Lima");

    let report = import.await.unwrap().unwrap();
    assert!(
        report.committed && report.errors.is_empty(),
        "{:?}",
        report.errors
    );
    assert_eq!(report.rows, ROWS as u64);
    db.store.drain_audit_spool().await.unwrap();
    let reads = db
        .store
        .audit_search(
            &AuditFilter {
                person: Some("P-ana".into()),
                action: Some("person.read".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(reads.len(), 1, "the read's audit event is missing");
    let events = db.store.audit_events(0, 10_000).await.unwrap();
    assert!(events.iter().any(|e| e.action == "import.residences"));
    assert_eq!(first_broken_link(&events), None);
    let _ = stop.send(());
}
