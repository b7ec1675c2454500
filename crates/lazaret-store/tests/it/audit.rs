//! The audit chain under tampering: each test edits the database directly
//! (as someone with write access but without `audit_key` would) and checks
//! that `verify_audit` names the first bad entry. On both backends.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_store::backends;
use lazaret_store::testing::{drop_audit_guards, TestDb};
use lazaret_store::{AuditFilter, AuditSettings, BackendKind, Store, StoreError};
use sqlx::Connection;

fn t0() -> DateTime<Utc> {
    "2026-03-10T08:00:00Z".parse().unwrap()
}

fn rec(i: i64) -> AuditRecord {
    AuditRecord {
        at: t0() + Duration::minutes(i),
        actor: format!("token:T{}", i % 3),
        action: if i % 2 == 0 {
            "person.read"
        } else {
            "order.read"
        }
        .into(),
        subject_type: "person".into(),
        subject_id: format!("P{}", i % 4),
        details: format!("n={i}"),
    }
}

/// Runs `sql` on a connection of its own, outside the store, after dropping
/// the triggers that refuse changes to audit events.
async fn tamper(db: &TestDb, sql: &str) {
    let sql = format!("{} {sql}", drop_audit_guards(db.kind()));
    raw(db, &sql).await.unwrap();
}

/// Runs `sql` on a connection of its own, outside the store.
async fn raw(db: &TestDb, sql: &str) -> Result<(), sqlx::Error> {
    match db.kind() {
        BackendKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await?;
            c.close().await
        }
        BackendKind::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await?;
            sqlx::raw_sql(sql).execute(&mut c).await?;
            c.close().await
        }
    }
}

/// Without dropping the triggers first, the database itself refuses to edit,
/// delete (or, on PostgreSQL, truncate) an event, and the chain stays whole.
async fn the_database_refuses_to_change_an_event(db: TestDb) {
    chain_of_25(&db.store).await;
    let mut attempts = vec![
        "UPDATE audit_events SET details = 'n=999' WHERE seq = 7",
        "DELETE FROM audit_events WHERE seq > 20",
    ];
    if db.kind() == BackendKind::Postgres {
        attempts.push("TRUNCATE audit_events");
    }
    for sql in attempts {
        let err = raw(&db, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(fault(&db.store).await, None, "{:?}", db.kind());
    assert_eq!(
        db.store.verify_audit(&mut |_, _| {}).await.unwrap().checked,
        25
    );
}
backends!(the_database_refuses_to_change_an_event);

/// 25 events (checkpoints every 10, so at 10 and 20), then the head
/// checkpointed as at shutdown (25).
async fn chain_of_25(s: &Store) {
    for i in 1..=25 {
        s.record_audit(&rec(i)).await.unwrap();
    }
    s.checkpoint_audit().await.unwrap();
}

async fn fault(s: &Store) -> Option<(i64, String)> {
    s.verify_audit(&mut |_, _| {})
        .await
        .unwrap()
        .fault
        .map(|f| (f.seq, f.what))
}

async fn an_intact_chain_verifies_with_its_checkpoints(db: TestDb) {
    let s = &db.store;
    chain_of_25(s).await;
    let mut calls = 0;
    let r = s.verify_audit(&mut |_, _| calls += 1).await.unwrap();
    assert_eq!(r.fault, None, "{:?}", db.kind());
    assert_eq!(r.checked, 25);
    assert_eq!(r.head.seq, 25);
    assert_eq!(r.head.keyed_from, Some(1));
    assert_eq!(r.checkpoints, Some(3));
    assert_eq!(r.last_checkpoint, Some(25));
    assert!(calls >= 1);
    let lines = s.audit_checkpoints().unwrap().unwrap();
    assert_eq!(
        lines.iter().map(|l| l.seq).collect::<Vec<_>>(),
        [10, 20, 25]
    );
}
backends!(an_intact_chain_verifies_with_its_checkpoints);

async fn an_edited_entry_is_named(db: TestDb) {
    chain_of_25(&db.store).await;
    tamper(
        &db,
        "UPDATE audit_events SET details = 'n=999' WHERE seq = 7",
    )
    .await;
    let (seq, what) = fault(&db.store).await.unwrap();
    assert_eq!(seq, 7, "{:?}", db.kind());
    assert!(what.contains("does not match its hash"), "{what}");
}
backends!(an_edited_entry_is_named);

async fn a_deleted_middle_entry_is_named(db: TestDb) {
    chain_of_25(&db.store).await;
    tamper(&db, "DELETE FROM audit_events WHERE seq = 7").await;
    let (seq, what) = fault(&db.store).await.unwrap();
    assert_eq!(seq, 7, "{:?}", db.kind());
    assert!(what.contains("missing"), "{what}");
}
backends!(a_deleted_middle_entry_is_named);

async fn reordered_entries_are_named(db: TestDb) {
    chain_of_25(&db.store).await;
    tamper(
        &db,
        "UPDATE audit_events SET seq = -7 WHERE seq = 7; \
         UPDATE audit_events SET seq = 7 WHERE seq = 8; \
         UPDATE audit_events SET seq = 8 WHERE seq = -7;",
    )
    .await;
    let (seq, what) = fault(&db.store).await.unwrap();
    assert_eq!(seq, 7, "{:?}", db.kind());
    assert!(what.contains("link"), "{what}");
}
backends!(reordered_entries_are_named);

/// The review's repro: the last entries deleted and `audit_head` rewound to
/// match. The chain itself is consistent; the signed checkpoint is not.
async fn a_cut_tail_with_a_rewound_head_is_found_by_the_checkpoint(db: TestDb) {
    chain_of_25(&db.store).await;
    tamper(
        &db,
        "DELETE FROM audit_events WHERE seq > 22; \
         UPDATE audit_head SET seq = 22, \
           hash = (SELECT hash FROM audit_events WHERE seq = 22) WHERE id = 1;",
    )
    .await;
    let (seq, what) = fault(&db.store).await.unwrap();
    assert_eq!(seq, 23, "{:?}", db.kind());
    assert!(what.contains("tail was cut off"), "{what}");
    assert!(what.contains("signed seq 25"), "{what}");
}
backends!(a_cut_tail_with_a_rewound_head_is_found_by_the_checkpoint);

async fn a_cut_tail_without_a_rewound_head_is_found(db: TestDb) {
    let s = &db.store;
    for i in 1..=5 {
        s.record_audit(&rec(i)).await.unwrap();
    }
    tamper(&db, "DELETE FROM audit_events WHERE seq > 3").await;
    let (seq, what) = fault(s).await.unwrap();
    assert_eq!(seq, 4, "{:?}", db.kind());
    assert!(what.contains("its head is seq 5"), "{what}");
}
backends!(a_cut_tail_without_a_rewound_head_is_found);

/// Someone without the key cannot pass keyed entries off as unkeyed ones.
async fn unmarking_the_keyed_chain_is_found(db: TestDb) {
    chain_of_25(&db.store).await;
    tamper(&db, "UPDATE audit_head SET keyed_from = NULL WHERE id = 1").await;
    let (seq, _) = fault(&db.store).await.unwrap();
    assert_eq!(seq, 1, "{:?}", db.kind());
}
backends!(unmarking_the_keyed_chain_is_found);

async fn an_edited_checkpoint_file_is_refused(db: TestDb) {
    chain_of_25(&db.store).await;
    let path = db.store.audit_checkpoint_path().unwrap().to_owned();
    let text = std::fs::read_to_string(&path).unwrap();
    // The last line claims a later head, with the signature of 25.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replacen("25", "26", 1);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (seq, what) = fault(&db.store).await.unwrap();
    assert_eq!(seq, 0);
    assert!(what.contains("line 3"), "{what}");
}
backends!(an_edited_checkpoint_file_is_refused);

/// A database whose events predate the key keeps their SHA-256 links; the
/// keyed chain starts at the first append with the key, and from then on
/// the database cannot be opened for appending without it.
async fn events_before_the_key_keep_their_links(db: TestDb) {
    let unkeyed = db.reopen().await;
    // The test store already keyed the chain: a fresh head, as an
    // existing database would have before this version.
    tamper(&db, "UPDATE audit_head SET keyed_from = NULL WHERE id = 1").await;
    let unkeyed = unkeyed.with_audit(AuditSettings::default()).await.unwrap();
    for i in 1..=3 {
        unkeyed.record_audit(&rec(i)).await.unwrap();
    }
    let keyed = db.reopen().await;
    for i in 4..=6 {
        keyed.record_audit(&rec(i)).await.unwrap();
    }
    let r = keyed.verify_audit(&mut |_, _| {}).await.unwrap();
    assert_eq!(r.fault, None, "{:?}", db.kind());
    assert_eq!(r.head.keyed_from, Some(4));
    let refused = Store::open(&db.url)
        .await
        .unwrap()
        .with_audit(AuditSettings::default())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::AuditKeyRequired(4)),
        "{refused}"
    );
    // Nor may a keyless store that was already open append.
    let err = unkeyed.record_audit(&rec(7)).await.unwrap_err();
    assert!(matches!(err, StoreError::AuditKeyMissing), "{err}");
}
backends!(events_before_the_key_keep_their_links);

async fn the_log_is_filtered_and_paged(db: TestDb) {
    let s = &db.store;
    for i in 1..=12 {
        s.record_audit(&rec(i)).await.unwrap();
    }
    let seqs =
        |v: Vec<lazaret_core::audit::AuditEvent>| v.iter().map(|e| e.seq).collect::<Vec<_>>();
    let by_actor = AuditFilter {
        actor: Some("token:T1".into()),
        ..Default::default()
    };
    assert_eq!(
        seqs(s.audit_search(&by_actor, 100).await.unwrap()),
        [1, 4, 7, 10]
    );
    let page = AuditFilter {
        after: 4,
        ..by_actor.clone()
    };
    assert_eq!(seqs(s.audit_search(&page, 1).await.unwrap()), [7]);
    let person_and_action = AuditFilter {
        person: Some("P2".into()),
        action: Some("person.read".into()),
        ..Default::default()
    };
    assert_eq!(
        seqs(s.audit_search(&person_and_action, 100).await.unwrap()),
        [2, 6, 10]
    );
    let window = AuditFilter {
        from: Some(t0() + Duration::minutes(3)),
        to: Some(t0() + Duration::minutes(6)),
        ..Default::default()
    };
    assert_eq!(seqs(s.audit_search(&window, 100).await.unwrap()), [3, 4, 5]);
}
backends!(the_log_is_filtered_and_paged);

/// M10: while another connection holds SQLite's write lock (as an import
/// does), a stand-alone event is spooled instead of failing, then appended
/// in order once the lock frees; the chain stays intact.
#[tokio::test]
async fn a_read_event_is_spooled_while_the_write_lock_is_held() {
    let db = TestDb::sqlite().await;
    let s = &db.store;
    s.record_audit(&rec(1)).await.unwrap();
    let mut holder = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let spooled = s.record_audit(&rec(2)).await.unwrap();
    assert_eq!(spooled, None, "appended although the lock was held");
    assert_eq!(s.audit_spooled().await.unwrap(), 1);
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    // The store's own background appender may be first; a second process
    // draining the same spool must not append the event twice either.
    let other = db.reopen().await;
    let moved = s.drain_audit_spool().await.unwrap() + other.drain_audit_spool().await.unwrap();
    assert!(moved <= 1);
    assert_eq!(s.audit_spooled().await.unwrap(), 0);
    let events = s.audit_events(0, 100).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].details, "n=2");
    assert_eq!(events[1].at, rec(2).at);
    assert_eq!(fault(s).await, None);
}
