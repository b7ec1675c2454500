//! Durable job queue in the database.
//!
//! A job is claimed with a lease: the claimer owns it until `locked_until`.
//! A worker that dies loses its lease and the job becomes claimable again.
//! On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so any number of
//! server instances share the queue without blocking each other; SQLite
//! serialises writers, which gives the same guarantee on one machine.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::db::{on_pool, to_ms, BackendKind, Store};
use crate::error::StoreError;

#[derive(Debug, Clone)]
pub struct NewJob {
    pub queue: String,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    /// When set, enqueueing a second job with the same key does nothing: the
    /// way to schedule something exactly once from several instances.
    pub dedupe_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: i64,
    pub queue: String,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i32,
    pub max_attempts: i32,
}

/// How long to wait before retry `attempt` (1-based): exponential from
/// `base`, capped at `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::seconds(10),
            max: Duration::hours(1),
        }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: i32) -> Duration {
        let exp = attempt.clamp(1, 20) - 1;
        let factor = 1i64 << exp;
        let ms = self.base.num_milliseconds().saturating_mul(factor);
        Duration::milliseconds(ms.min(self.max.num_milliseconds()))
    }
}

/// What happened to a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    RetryAt(DateTime<Utc>),
    /// Out of attempts: kept with status `dead` for an operator.
    Dead,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

/// Inserts the job `$job` (a `&NewJob`) created at `$now` in the open
/// transaction `$tx`; nothing if its dedupe key exists. True when inserted.
macro_rules! insert_job {
    ($tx:expr, $job:expr, $now:expr) => {{
        let job: &$crate::jobs::NewJob = $job;
        let n = sqlx::query($crate::jobs::INSERT_JOB)
            .bind(&job.queue)
            .bind(job.payload.to_string())
            .bind(job.dedupe_key.as_deref())
            .bind($crate::db::to_ms(job.run_at))
            .bind(job.max_attempts.max(1))
            .bind($crate::db::to_ms($now))
            .execute(&mut *$tx)
            .await?;
        n.rows_affected() == 1
    }};
}
pub(crate) use insert_job;

/// The `last_error` of a job dead-lettered because its last attempt's lease
/// ran out without a result (its worker died or hung).
pub const LEASE_EXPIRED: &str = "lease expired on the last attempt (the worker died or hung)";

pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs (queue, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at) \
                                     VALUES ($1, $2, $3, 'pending', $4, 0, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING";

impl Store {
    /// Enqueues a job; returns its id, or `None` if a job with the same
    /// `dedupe_key` exists already.
    pub async fn enqueue(
        &self,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "INSERT INTO jobs (queue, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at) \
                           VALUES ($1, $2, $3, 'pending', $4, 0, $5, $6, $6) \
                           ON CONFLICT (dedupe_key) DO NOTHING RETURNING id";
        let payload = job.payload.to_string();
        on_pool!(self, pool => {
            let row = sqlx::query(SQL)
                .bind(&job.queue)
                .bind(&payload)
                .bind(job.dedupe_key.as_deref())
                .bind(to_ms(job.run_at))
                .bind(job.max_attempts.max(1))
                .bind(to_ms(now))
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(r) => Some(r.try_get::<i64, _>("id")?),
                None => None,
            })
        })
    }

    /// Claims up to `limit` due jobs of `queue` for `worker` until
    /// `now + lease`. Jobs whose lease ran out are claimable again.
    pub async fn claim_jobs(
        &self,
        queue: &str,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let lock = match self.kind() {
            BackendKind::Postgres => "FOR UPDATE SKIP LOCKED",
            BackendKind::Sqlite => "",
        };
        // The attempt is counted when the job is claimed, so a run that
        // never reports back (its process killed while holding the lease)
        // has used one. A job whose lease ran out with every attempt used is
        // dead-lettered here instead of being claimed again: a job that
        // crashes its worker each time stops after `max_attempts`.
        let bury = format!(
            "UPDATE jobs SET status = 'dead', locked_by = NULL, locked_until = NULL, \
                 last_error = '{LEASE_EXPIRED}', updated_at = $1 \
             WHERE id IN (SELECT id FROM jobs WHERE queue = $2 AND status = 'running' \
                 AND locked_until < $1 AND attempts >= max_attempts {lock})"
        );
        let sql = format!(
            "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, \
                 attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs WHERE queue = $4 AND \
                 ((status = 'pending' AND run_at <= $3) \
                  OR (status = 'running' AND locked_until < $3 AND attempts < max_attempts)) \
                 ORDER BY run_at, id LIMIT $5 {lock}) \
             RETURNING id, queue, payload, attempts, max_attempts"
        );
        on_pool!(self, pool => {
            let buried = sqlx::query(&bury).bind(to_ms(now)).bind(queue).execute(pool).await?;
            if buried.rows_affected() > 0 {
                tracing::warn!(
                    queue,
                    jobs = buried.rows_affected(),
                    "jobs dead-lettered: their lease ran out on the last attempt"
                );
            }
            let rows = sqlx::query(&sql)
                .bind(worker)
                .bind(to_ms(now + lease))
                .bind(to_ms(now))
                .bind(queue)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut jobs = rows
                .iter()
                .map(|r| {
                    let payload: String = r.try_get("payload")?;
                    Ok(ClaimedJob {
                        id: r.try_get("id")?,
                        queue: r.try_get("queue")?,
                        payload: serde_json::from_str(&payload)
                            .map_err(|e| StoreError::corrupt("jobs", e))?,
                        attempts: r.try_get("attempts")?,
                        max_attempts: r.try_get("max_attempts")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            jobs.sort_by_key(|j| j.id);
            Ok(jobs)
        })
    }

    /// Extends `worker`'s lease on a claimed job to `until`. False when the
    /// lease is no longer its own (it ran out, or another worker holds the
    /// job): the caller must then leave the job alone.
    pub async fn renew_job_lease(
        &self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE jobs SET locked_until = $1, updated_at = $2 \
                           WHERE id = $3 AND locked_by = $4 AND status = 'running' AND locked_until > $2";
        on_pool!(self, pool => {
            let n = sqlx::query(SQL)
                .bind(to_ms(until))
                .bind(to_ms(now))
                .bind(id)
                .bind(worker)
                .execute(pool)
                .await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Hands a claimed job that `worker` never started back to the queue,
    /// due now, without spending the attempt its claim counted. False when
    /// the worker no longer held it.
    pub async fn release_job(
        &self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE jobs SET status = 'pending', locked_by = NULL, locked_until = NULL, \
                           attempts = attempts - 1, run_at = $1, updated_at = $1 \
                           WHERE id = $2 AND locked_by = $3 AND status = 'running' AND attempts > 0";
        on_pool!(self, pool => {
            let n = sqlx::query(SQL).bind(to_ms(now)).bind(id).bind(worker).execute(pool).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Marks a claimed job done. Returns false if `worker` no longer holds
    /// it (its lease ran out and someone else claimed it).
    pub async fn complete_job(
        &self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, updated_at = $1 \
                           WHERE id = $2 AND locked_by = $3 AND status = 'running'";
        on_pool!(self, pool => {
            let n = sqlx::query(SQL).bind(to_ms(now)).bind(id).bind(worker).execute(pool).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Records a failed run: retry later with back-off, or dead-letter once
    /// the attempts are used up.
    pub async fn fail_job(
        &self,
        job: &ClaimedJob,
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
        backoff: Backoff,
    ) -> Result<Failure, StoreError> {
        const SQL: &str = "UPDATE jobs SET status = $1, run_at = $2, last_error = $3, locked_by = NULL, \
                           locked_until = NULL, updated_at = $4 WHERE id = $5 AND locked_by = $6 AND status = 'running'";
        let fate = if job.attempts >= job.max_attempts {
            Failure::Dead
        } else {
            Failure::RetryAt(now + backoff.delay(job.attempts))
        };
        let (status, run_at) = match fate {
            Failure::Dead => ("dead", now),
            Failure::RetryAt(at) => ("pending", at),
        };
        on_pool!(self, pool => {
            sqlx::query(SQL)
                .bind(status)
                .bind(to_ms(run_at))
                .bind(error)
                .bind(to_ms(now))
                .bind(job.id)
                .bind(worker)
                .execute(pool)
                .await?;
            Ok(fate)
        })
    }

    pub async fn queue_stats(&self, queue: &str) -> Result<QueueStats, StoreError> {
        const SQL: &str = "SELECT status, COUNT(*) AS n FROM jobs WHERE queue = $1 GROUP BY status";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(queue).fetch_all(pool).await?;
            let mut s = QueueStats::default();
            for r in &rows {
                let n: i64 = r.try_get("n")?;
                match r.try_get::<&str, _>("status")? {
                    "pending" => s.pending = n,
                    "running" => s.running = n,
                    "done" => s.done = n,
                    "dead" => s.dead = n,
                    other => return Err(StoreError::corrupt("jobs", format!("status {other}"))),
                }
            }
            Ok(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(1), Duration::seconds(10));
        assert_eq!(b.delay(2), Duration::seconds(20));
        assert_eq!(b.delay(4), Duration::seconds(80));
        assert_eq!(b.delay(30), Duration::hours(1));
    }
}
