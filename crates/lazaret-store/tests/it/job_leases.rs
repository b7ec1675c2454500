//! Job leases under crashes: a job whose worker dies while holding it (the
//! lease runs out with no result) uses an attempt, so a poison job stops at
//! `max_attempts`; a lease can be renewed only by its holder while it lasts;
//! a job handed back unstarted keeps its attempts.

use chrono::{DateTime, Duration};
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, NewJob, LEASE_EXPIRED};
use sqlx::Row;

fn t0() -> DateTime<chrono::Utc> {
    "2026-03-01T08:00:00Z".parse().unwrap()
}

fn poison(max_attempts: i32) -> NewJob {
    NewJob {
        queue: "poison".into(),
        payload: serde_json::json!({ "crash": true }),
        run_at: t0(),
        max_attempts,
        dedupe_key: None,
    }
}

/// The stored status, attempts and last error of job `id`.
async fn row(db: &TestDb, id: i64) -> (String, i32, Option<String>) {
    let sql = "SELECT status, attempts, last_error FROM jobs WHERE id = $1";
    match db.kind() {
        lazaret_store::BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let r = sqlx::query(sql).bind(id).fetch_one(&pool).await.unwrap();
            let out = (r.get("status"), r.get("attempts"), r.get("last_error"));
            pool.close().await;
            out
        }
        lazaret_store::BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let r = sqlx::query(sql).bind(id).fetch_one(&pool).await.unwrap();
            let out = (r.get("status"), r.get("attempts"), r.get("last_error"));
            pool.close().await;
            out
        }
    }
}

backends!(a_job_whose_worker_always_dies_stops_after_max_attempts);
async fn a_job_whose_worker_always_dies_stops_after_max_attempts(db: TestDb) {
    let s = &db.store;
    let lease = Duration::seconds(30);
    let id = s.enqueue(&poison(3), t0()).await.unwrap().unwrap();
    let mut now = t0();
    // Each claimer "crashes": it neither completes nor fails the job, and
    // the next claim comes after its lease ran out.
    for attempt in 1..=3 {
        let got = s
            .claim_jobs("poison", &format!("w{attempt}"), now, lease, 10)
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "attempt {attempt} is claimable");
        assert_eq!(got[0].id, id);
        assert_eq!(got[0].attempts, attempt, "counted at claim time");
        now += lease + Duration::seconds(1);
    }
    for n in 0..3 {
        let got = s
            .claim_jobs("poison", "w-late", now, lease, 10)
            .await
            .unwrap();
        assert!(
            got.is_empty(),
            "{:?}: claimed again after max_attempts (try {n})",
            db.kind()
        );
        now += lease + Duration::seconds(1);
    }
    let (status, attempts, error) = row(&db, id).await;
    assert_eq!(status, "dead", "{:?}", db.kind());
    assert_eq!(attempts, 3);
    assert_eq!(error.as_deref(), Some(LEASE_EXPIRED));
    let stats = s.queue_stats("poison").await.unwrap();
    assert_eq!((stats.dead, stats.running, stats.pending), (1, 0, 0));
}

backends!(a_live_lease_on_the_last_attempt_is_not_buried);
async fn a_live_lease_on_the_last_attempt_is_not_buried(db: TestDb) {
    let s = &db.store;
    let lease = Duration::seconds(30);
    let id = s.enqueue(&poison(1), t0()).await.unwrap().unwrap();
    let got = s.claim_jobs("poison", "w1", t0(), lease, 1).await.unwrap();
    assert_eq!(got.len(), 1);
    // Another worker's claim while the lease lasts leaves it running.
    let later = t0() + Duration::seconds(10);
    assert!(s
        .claim_jobs("poison", "w2", later, lease, 1)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(row(&db, id).await.0, "running");
    assert!(s.complete_job(id, "w1", later).await.unwrap());
    assert_eq!(row(&db, id).await.0, "done");
}

backends!(only_the_holder_renews_a_lease_and_only_while_it_lasts);
async fn only_the_holder_renews_a_lease_and_only_while_it_lasts(db: TestDb) {
    let s = &db.store;
    let lease = Duration::seconds(30);
    let id = s.enqueue(&poison(3), t0()).await.unwrap().unwrap();
    s.claim_jobs("poison", "w1", t0(), lease, 1).await.unwrap();
    let t = t0() + Duration::seconds(20);
    assert!(!s.renew_job_lease(id, "w2", t, t + lease).await.unwrap());
    assert!(s.renew_job_lease(id, "w1", t, t + lease).await.unwrap());
    // Renewed: still w1's past the first lease's end.
    let t = t0() + Duration::seconds(40);
    assert!(s
        .claim_jobs("poison", "w2", t, lease, 1)
        .await
        .unwrap()
        .is_empty());
    // Past the renewed end it is lost, and renewing cannot take it back.
    let t = t0() + Duration::seconds(51);
    assert!(!s.renew_job_lease(id, "w1", t, t + lease).await.unwrap());
    let got = s.claim_jobs("poison", "w2", t, lease, 1).await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(!s.renew_job_lease(id, "w1", t, t + lease).await.unwrap());
}

backends!(a_released_job_keeps_its_attempts);
async fn a_released_job_keeps_its_attempts(db: TestDb) {
    let s = &db.store;
    let lease = Duration::seconds(30);
    let id = s.enqueue(&poison(2), t0()).await.unwrap().unwrap();
    s.claim_jobs("poison", "w1", t0(), lease, 1).await.unwrap();
    assert!(!s.release_job(id, "w2", t0()).await.unwrap(), "not w2's");
    assert!(s.release_job(id, "w1", t0()).await.unwrap());
    assert_eq!(row(&db, id).await, ("pending".into(), 0, None));
    let got = s.claim_jobs("poison", "w2", t0(), lease, 1).await.unwrap();
    assert_eq!(got[0].attempts, 1);
}
