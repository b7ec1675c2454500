//! Fresh databases for tests, on every configured backend.
//!
//! SQLite always runs (a file in a temporary directory). PostgreSQL runs when
//! `LAZARET_TEST_POSTGRES_URL` points at a server: each test gets its own
//! database, dropped afterwards. When `CI` is set the PostgreSQL URL is
//! required, so CI can never skip the PostgreSQL case silently; elsewhere the
//! case prints one `SKIPPED` line and passes.
//!
//! A story runs on each backend as its own test through [`backends!`](crate::backends):
//! `backends!(story)` above `async fn story(db: TestDb)` makes the tests
//! `story::sqlite` and `story::postgres`, so each backend reports its own
//! result and `cargo test -- ::postgres` runs one backend.

use std::io::Write as _;
use std::time::Duration;

use sqlx::Connection;

use lazaret_core::audit::{AuditEvent, AuditKey};

use crate::audit::AuditSettings;
use crate::db::{BackendKind, Store};

pub const POSTGRES_ENV: &str = "LAZARET_TEST_POSTGRES_URL";

/// The `audit_key` of every test database (hex).
pub const AUDIT_KEY_HEX: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

pub fn audit_key() -> AuditKey {
    AuditKey::from_hex(AUDIT_KEY_HEX).expect("a valid test key")
}

/// The audit settings of a test store: the test key, a checkpoint file in
/// `dir`, a checkpoint every 10 events.
pub fn audit_settings(dir: &std::path::Path) -> AuditSettings {
    AuditSettings {
        key: Some(audit_key()),
        checkpoint: Some(dir.join("audit-checkpoint")),
        checkpoint_every: 10,
    }
}

/// [`lazaret_core::audit::first_broken_link`] for a test database's whole
/// chain (keyed with the test key from its first event).
pub fn first_broken_link(events: &[AuditEvent]) -> Option<i64> {
    lazaret_core::audit::first_broken_link(Some(&audit_key()), Some(1), events)
}

/// A migrated, empty database that is removed when dropped.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    /// The SQLite file and the audit checkpoint file (PostgreSQL: the latter).
    files: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl TestDb {
    /// Another store on the same database, keyed and anchored like this one
    /// (a second process).
    pub async fn reopen(&self) -> Store {
        let dir = self
            .files
            .as_ref()
            .expect("every test database has a directory");
        Store::open(&self.url)
            .await
            .expect("reopen test database")
            .with_audit(audit_settings(dir.path()))
            .await
            .expect("audit settings")
    }

    pub fn kind(&self) -> BackendKind {
        self.store.kind()
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("lazaret.db").display());
        let store = Store::open(&url)
            .await
            .expect("open test SQLite database")
            .with_audit(audit_settings(dir.path()))
            .await
            .expect("audit settings");
        TestDb {
            store,
            url,
            files: Some(dir),
            pg_cleanup: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` when no server is configured
    /// (outside CI). Panics when one is configured but unreachable.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = match std::env::var(POSTGRES_ENV) {
            Ok(u) if !u.is_empty() => u,
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{POSTGRES_ENV} must be set in CI: PostgreSQL tests may not be skipped"
                );
                let test = std::thread::current()
                    .name()
                    .filter(|n| *n != "main")
                    .unwrap_or("this test")
                    .to_owned();
                // One write of one line: libtest does not capture direct writes to
                // stderr, so the skip shows although the case passes.
                let _ = std::io::stderr()
                    .write_all(format!("SKIPPED {test}: {POSTGRES_ENV} is not set\n").as_bytes());
                return None;
            }
        };
        let name = format!("lazaret_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {POSTGRES_ENV} unreachable: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(&url)
            .await
            .expect("open test PostgreSQL database")
            .with_audit(audit_settings(dir.path()))
            .await
            .expect("audit settings");
        Some(TestDb {
            store,
            url,
            files: Some(dir),
            pg_cleanup: Some((admin_url, name)),
        })
    }

    /// SQLite, and PostgreSQL when configured. Prefer [`backends!`](crate::backends), which
    /// reports each backend as its own test.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite().await];
        dbs.extend(TestDb::postgres().await);
        dbs
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg_cleanup.take() else {
            return;
        };
        // The test's runtime may be blocked in this very call, so anything
        // that needs it (closing the pool) would deadlock: use a private
        // runtime and let FORCE end the pool's connections.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(10),
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut c),
                    )
                    .await;
                }
            });
        })
        .join();
    }
}

/// Runs the story `async fn $name(db: TestDb)` on each backend as its own
/// test: `$name::sqlite` and `$name::postgres` (which fails under `CI`
/// without a PostgreSQL server and otherwise says `SKIPPED`). Arguments after
/// the name go to `#[tokio::test(…)]`. The story stays an ordinary function
/// beside the macro, so rustfmt and clippy see it.
///
/// ```ignore
/// backends!(jobs_are_claimed_once, flavor = "multi_thread", worker_threads = 2);
/// /// Two workers never get the same job.
/// async fn jobs_are_claimed_once(db: TestDb) { /* … */ }
/// ```
#[macro_export]
macro_rules! backends {
    ($name:ident $(, $($arg:tt)+)?) => {
        mod $name {
            #[tokio::test$(($($arg)+))?]
            async fn sqlite() {
                super::$name($crate::testing::TestDb::sqlite().await).await;
            }

            #[tokio::test$(($($arg)+))?]
            async fn postgres() {
                if let Some(db) = $crate::testing::TestDb::postgres().await {
                    super::$name(db).await;
                }
            }
        }
    };
}

/// Whether some connection holds the write lock of the SQLite database at
/// `url` right now (an import does for its whole transaction).
pub async fn sqlite_write_lock_held(url: &str) -> bool {
    let mut c = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open the test database");
    sqlx::raw_sql("PRAGMA busy_timeout = 0")
        .execute(&mut c)
        .await
        .expect("set busy_timeout");
    let held = match sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut c).await {
        Ok(_) => {
            sqlx::raw_sql("ROLLBACK")
                .execute(&mut c)
                .await
                .expect("roll back the probe");
            false
        }
        Err(_) => true,
    };
    c.close().await.ok();
    held
}

/// Another process's writer on an SQLite database: holds its write lock
/// (`BEGIN IMMEDIATE`) until [`SqliteWriter::release`], as a long import does.
pub struct SqliteWriter(sqlx::SqliteConnection);

impl SqliteWriter {
    pub async fn hold(url: &str) -> SqliteWriter {
        let mut c = sqlx::SqliteConnection::connect(url)
            .await
            .expect("open the test database");
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut c)
            .await
            .expect("take the write lock");
        SqliteWriter(c)
    }

    pub async fn release(mut self) {
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut self.0)
            .await
            .expect("release the write lock");
        self.0.close().await.ok();
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping its query.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// SQL that removes the database's refusal to change audit events
/// (migration 0013), as someone with raw write access could: the tamper tests
/// run it first, since the keyed chain must catch what the triggers no
/// longer stop.
pub fn drop_audit_guards(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => {
            "DROP TRIGGER IF EXISTS audit_events_no_update; \
             DROP TRIGGER IF EXISTS audit_events_no_delete;"
        }
        BackendKind::Postgres => "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events;",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_database() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/test", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://127.0.0.1?sslmode=disable", "x"),
            "postgres://127.0.0.1/x?sslmode=disable"
        );
    }
}
