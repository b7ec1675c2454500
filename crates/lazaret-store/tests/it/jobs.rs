//! The durable job queue: retries, dead letters, and exactly-once delivery
//! to competing workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use lazaret_store::{Backoff, Failure, NewJob};

fn t0() -> DateTime<Utc> {
    "2026-03-01T08:00:00Z".parse().unwrap()
}

fn job(n: i64, key: Option<&str>) -> NewJob {
    NewJob {
        queue: "q".into(),
        payload: serde_json::json!({ "n": n }),
        run_at: t0(),
        max_attempts: 3,
        dedupe_key: key.map(str::to_owned),
    }
}

backends!(due_time_dedupe_retry_and_dead_letter);
async fn due_time_dedupe_retry_and_dead_letter(db: TestDb) {
    let s = &db.store;
    let mut later = job(1, None);
    later.run_at = t0() + Duration::minutes(5);
    s.enqueue(&later, t0()).await.unwrap();
    assert!(s.enqueue(&job(2, Some("k")), t0()).await.unwrap().is_some());
    assert!(
        s.enqueue(&job(3, Some("k")), t0()).await.unwrap().is_none(),
        "dedupe"
    );

    let got = s
        .claim_jobs("q", "w1", t0(), Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "only the due job");
    assert_eq!(got[0].payload["n"], 2);
    // Leased: nobody else gets it.
    assert!(s
        .claim_jobs("q", "w2", t0(), Duration::seconds(30), 10)
        .await
        .unwrap()
        .is_empty());

    // Fail it until it is dead-lettered, with growing back-off.
    let backoff = Backoff::default();
    let mut now = t0();
    let mut j = got[0].clone();
    for attempt in 1..=3 {
        assert_eq!(j.attempts, attempt);
        let fate = s.fail_job(&j, "w1", "boom", now, backoff).await.unwrap();
        if attempt < 3 {
            assert_eq!(fate, Failure::RetryAt(now + backoff.delay(attempt)));
            now += backoff.delay(attempt);
            let again = s
                .claim_jobs("q", "w1", now, Duration::seconds(30), 1)
                .await
                .unwrap();
            assert_eq!(again.len(), 1);
            j = again[0].clone();
        } else {
            assert_eq!(fate, Failure::Dead);
        }
    }
    let stats = s.queue_stats("q").await.unwrap();
    assert_eq!((stats.dead, stats.pending), (1, 1));
}

backends!(expired_lease_is_reclaimed_and_old_owner_cannot_complete);
async fn expired_lease_is_reclaimed_and_old_owner_cannot_complete(db: TestDb) {
    let s = &db.store;
    s.enqueue(&job(1, None), t0()).await.unwrap();
    let a = s
        .claim_jobs("q", "w1", t0(), Duration::seconds(30), 1)
        .await
        .unwrap();
    let later = t0() + Duration::seconds(31);
    let b = s
        .claim_jobs("q", "w2", later, Duration::seconds(30), 1)
        .await
        .unwrap();
    assert_eq!(a[0].id, b[0].id);
    assert!(!s.complete_job(a[0].id, "w1", later).await.unwrap());
    assert!(s.complete_job(b[0].id, "w2", later).await.unwrap());
    assert_eq!(s.queue_stats("q").await.unwrap().done, 1);
}

/// Two workers, each on its own connection pool, drain 1,000 jobs; every
/// job runs exactly once.
#[allow(
    clippy::disallowed_methods,
    reason = "the workers run on real time, as in production"
)]
async fn exactly_once(db: &TestDb) {
    const N: i64 = 1000;
    let s = &db.store;
    for n in 0..N {
        s.enqueue(&job(n, None), t0()).await.unwrap();
    }
    let runs: Arc<Mutex<HashMap<i64, u32>>> = Arc::default();
    let mut workers = vec![];
    for w in 0..2 {
        let store = db.reopen().await;
        let runs = runs.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("worker-{w}");
            loop {
                let now = Utc::now();
                let jobs = store
                    .claim_jobs("q", &name, now, Duration::minutes(5), 25)
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    break;
                }
                for j in jobs {
                    *runs
                        .lock()
                        .unwrap()
                        .entry(j.payload["n"].as_i64().unwrap())
                        .or_default() += 1;
                    assert!(store.complete_job(j.id, &name, Utc::now()).await.unwrap());
                }
            }
            store.close().await;
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let runs = std::mem::take(&mut *runs.lock().unwrap());
    assert_eq!(runs.len() as i64, N, "{:?}: every job ran", db.kind());
    assert!(
        runs.values().all(|&c| c == 1),
        "{:?}: a job ran twice",
        db.kind()
    );
    assert_eq!(s.queue_stats("q").await.unwrap().done, N);
}

backends!(
    two_pools_run_each_job_exactly_once,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn two_pools_run_each_job_exactly_once(db: TestDb) {
    exactly_once(&db).await;
}
