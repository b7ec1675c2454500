//! Connecting to a backend and running its migrations.
//!
//! SQLite and PostgreSQL each keep their own append-only migrations
//! (`migrations/<backend>/NNNN_name.sql`), embedded in the binary. Queries are
//! written once in portable SQL with `$n` parameters and run on either pool
//! through [`on_pool!`].

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use crate::error::StoreError;

/// Runs the same body against whichever pool the store holds. The body is
/// compiled once per backend, so it may only use what both drivers support.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::db::Backend::Sqlite($pool) => $body,
            $crate::db::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    /// Picks the backend from the URL scheme.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Handle to the database. Cheap to clone; holds a connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Key, checkpoint file and spool of the audit chain (see
    /// [`Store::with_audit`]); shared by clones.
    pub(crate) audit: std::sync::Arc<crate::audit::AuditState>,
}

/// How long a connection waits for another writer's lock (SQLite).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A transaction that writes. On SQLite it starts with `BEGIN IMMEDIATE`:
/// a deferred `BEGIN` takes the write lock only at its first write, and
/// when another connection commits in between, SQLite answers `database is
/// locked` at once instead of waiting out `busy_timeout` (it cannot upgrade
/// a stale snapshot). Under concurrent writers that was a 500 per lost race
/// (the load run of issue #15). Taken up front, the lock is waited for.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

macro_rules! embed_migrations {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        vec![$(
            Migration::new(
                $version,
                Cow::Borrowed($name),
                MigrationType::Simple,
                Cow::Borrowed(include_str!(concat!("../migrations/", $dir, "/", $name, ".sql"))),
                false,
            )
        ),*]
    };
}

fn migrator(kind: BackendKind) -> Migrator {
    let migrations = match kind {
        BackendKind::Sqlite => {
            embed_migrations!("sqlite": 1 "0001_foundation", 2 "0002_tracing", 3 "0003_checkins",
                4 "0004_notifications", 5 "0005_self_enrollment_symptoms", 6 "0006_without_rowid",
                7 "0007_order_end", 8 "0008_not_delivered", 9 "0009_audit_keyed",
                10 "0010_token_districts", 11 "0011_accounts", 12 "0012_districts", 13 "0013_audit_append_only",
                14 "0014_alert_outcome", 15 "0015_user_language", 16 "0016_enrollment_photo", 17 "0017_imports", 18 "0018_case_traced_at", 19 "0019_person_name_search",
                21 "0021_key_ids_clock_mark", 23 "0023_follow_up", 24 "0024_monitoring")
        }
        BackendKind::Postgres => {
            embed_migrations!("postgres": 1 "0001_foundation", 2 "0002_tracing", 3 "0003_checkins",
                4 "0004_notifications", 5 "0005_self_enrollment_symptoms", 7 "0007_order_end", 8 "0008_not_delivered",
                9 "0009_audit_keyed", 10 "0010_token_districts", 11 "0011_accounts", 12 "0012_districts",
                13 "0013_audit_append_only", 14 "0014_alert_outcome",
                15 "0015_user_language", 16 "0016_enrollment_photo", 17 "0017_imports", 18 "0018_case_traced_at", 19 "0019_person_name_search",
                21 "0021_key_ids_clock_mark", 23 "0023_follow_up", 24 "0024_monitoring")
        }
    };
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// The SQL text of every migration of a backend, for schema checks.
pub fn migration_sql(kind: BackendKind) -> Vec<String> {
    migrator(kind)
        .migrations
        .iter()
        .map(|m| m.sql.to_string())
        .collect()
}

/// The PostgreSQL connection options of `url`, with Lazaret's TLS default.
///
/// `sslmode` in the URL (or `PGSSLMODE`) is honoured as libpq does —
/// `disable`, `prefer`, `require`, `verify-ca`, `verify-full`, with
/// `sslrootcert` naming the CA file to trust besides the public web roots.
/// Without one, a remote host gets `verify-full` (TLS with the certificate
/// and host name checked), never a silent plaintext fallback; a loopback
/// host or a Unix socket gets `prefer` (TLS when the server offers it). A
/// remote host with `disable`, `allow` or `prefer` is warned about.
pub fn pg_connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    let mut opts = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
    let explicit = url_query_has(url, &["sslmode", "ssl-mode"])
        || std::env::var_os("PGSSLMODE").is_some_and(|v| !v.is_empty());
    let local = is_local_pg_host(opts.get_host());
    if !explicit {
        opts = opts.ssl_mode(if local {
            PgSslMode::Prefer
        } else {
            PgSslMode::VerifyFull
        });
    }
    let mode = opts.get_ssl_mode();
    if !local
        && matches!(
            mode,
            PgSslMode::Disable | PgSslMode::Allow | PgSslMode::Prefer
        )
    {
        tracing::warn!(
            host = opts.get_host(),
            sslmode = ?mode,
            "the database link to a remote host may run without TLS: health data in clear on \
             the network; use sslmode=verify-full"
        );
    }
    Ok(opts)
}

/// Whether the query of `url` sets one of `keys`.
fn url_query_has(url: &str, keys: &[&str]) -> bool {
    url.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .filter_map(|kv| kv.split('=').next())
            .any(|k| keys.iter().any(|want| k.eq_ignore_ascii_case(want)))
    })
}

/// A Unix socket directory, `localhost` or a loopback address.
fn is_local_pg_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.starts_with('/')
        || h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Store {
    /// Opens the database named by `url` (creating an SQLite file if needed).
    /// Does not migrate; call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = match BackendKind::from_url(url)? {
            BackendKind::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(StoreError::Connect)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: every commit carries its audit event, and the
                    // checkpoint file outside the database is synced per
                    // line; with NORMAL a power cut could lose the last
                    // commits while that file keeps their line, which
                    // `audit verify` would report as a cut tail. (A killed
                    // process loses nothing either way: WAL frames are in
                    // the OS's cache.) Cost: ARCHITECTURE.md, "Durability".
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(BUSY_TIMEOUT);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await
                    .map_err(StoreError::Connect)?;
                Backend::Sqlite(pool)
            }
            BackendKind::Postgres => {
                let opts = pg_connect_options(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(StoreError::Connect)?;
                Backend::Postgres(pool)
            }
        };
        Ok(Self {
            backend,
            audit: Default::default(),
        })
    }

    /// Opens and migrates: what a server or command normally wants.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations; safe to run from several processes at
    /// once (sqlx takes a database lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let m = migrator(self.kind());
        match &self.backend {
            Backend::Postgres(pool) => m.run(pool).await?,
            Backend::Sqlite(pool) => {
                // On a connection of its own with foreign keys off: SQLite
                // rebuilds a table by copy, drop and rename, and dropping a
                // table others refer to fails with them on. (The pragma is a
                // no-op inside the migration's transaction, hence here.)
                let opts = (*pool.connect_options()).clone().foreign_keys(false);
                let mut conn = opts.connect().await.map_err(StoreError::Connect)?;
                let applied = applied_migrations(&mut conn).await?;
                m.run(&mut conn).await?;
                // Every reference still holds (a full scan: only after a
                // migration ran).
                let broken: Vec<(String, String)> =
                    if applied_migrations(&mut conn).await? != applied {
                        sqlx::query_as(
                            "SELECT \"table\", parent FROM pragma_foreign_key_check GROUP BY 1, 2",
                        )
                        .fetch_all(&mut conn)
                        .await?
                    } else {
                        Vec::new()
                    };
                conn.close().await?;
                if let Some((table, parent)) = broken.first() {
                    return Err(StoreError::MissingReference(format!(
                        "after migrating, rows of {table} refer to missing {parent} rows"
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Checks the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Whether this connection to the database is encrypted: `None` on
    /// SQLite (no link), else what PostgreSQL says of the session
    /// (`pg_stat_ssl`), for the start-up log and the transport tests.
    pub async fn database_link_tls(&self) -> Result<Option<bool>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(None),
            Backend::Postgres(pool) => {
                let tls: bool =
                    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                        .fetch_one(pool)
                        .await?;
                Ok(Some(tls))
            }
        }
    }

    /// Every `(table, column)` of the live schema, for schema checks.
    pub async fn columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = match self.kind() {
            BackendKind::Sqlite => {
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
                 JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1, 2"
            }
            BackendKind::Postgres => {
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
                 WHERE table_schema = current_schema() ORDER BY 1, 2"
            }
        };
        on_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((sqlx::Row::try_get(r, "t")?, sqlx::Row::try_get(r, "c")?)))
                .collect()
        })
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// How many migrations the database has (none before the first run).
async fn applied_migrations(conn: &mut sqlx::SqliteConnection) -> Result<i64, StoreError> {
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_none() {
        return Ok(0);
    }
    Ok(sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await?)
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(table: &'static str, ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::corrupt(table, format!("timestamp {ms} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_postgres_defaults_to_verified_tls_and_sslmode_is_honoured() {
        if std::env::var_os("PGSSLMODE").is_some() {
            eprintln!("SKIPPED: PGSSLMODE is set, the URL defaults cannot be checked");
            return;
        }
        let mode = |url: &str| pg_connect_options(url).unwrap().get_ssl_mode();
        assert!(matches!(
            mode("postgres://u@db.example/x"),
            PgSslMode::VerifyFull
        ));
        assert!(matches!(
            mode("postgres://u@10.0.0.7:5432/x"),
            PgSslMode::VerifyFull
        ));
        assert!(matches!(
            mode("postgres://u@127.0.0.1/x"),
            PgSslMode::Prefer
        ));
        assert!(matches!(
            mode("postgres://u@localhost/x"),
            PgSslMode::Prefer
        ));
        assert!(matches!(mode("postgres://u@[::1]/x"), PgSslMode::Prefer));
        assert!(matches!(
            mode("postgres://u@db.example/x?sslmode=require"),
            PgSslMode::Require
        ));
        assert!(matches!(
            mode("postgres://u@db.example/x?sslmode=disable"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@127.0.0.1/x?sslmode=verify-ca"),
            PgSslMode::VerifyCa
        ));
        assert!(matches!(
            mode("postgres://u@127.0.0.1/x?application_name=a&sslmode=verify-full"),
            PgSslMode::VerifyFull
        ));
    }

    /// A database made by the first five migrations, with data in every
    /// rebuilt table and a table that refers to them, is upgraded by
    /// `Store::open`: rows kept, tables WITHOUT ROWID, indexes back, and
    /// foreign keys still enforced on the pool's connections.
    #[tokio::test]
    async fn without_rowid_migration_keeps_rows_and_references() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let opts = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let mut conn = opts.connect().await.unwrap();
        let mut old = migrator(BackendKind::Sqlite);
        old.migrations.to_mut().retain(|m| m.version <= 5);
        old.run(&mut conn).await.unwrap();
        for sql in [
            "INSERT INTO persons (id, full_name, phone, created_at, updated_at) VALUES \
             ('P1', 'Ana', '+41441234567', 1, 1), ('P2', 'Bo', NULL, 1, 1)",
            "INSERT INTO residences VALUES ('P1', 'B1', '3', 'Street 1', 47.3, 8.5)",
            "INSERT INTO flights VALUES ('F1', 'LX1', 5, 'ZRH', 'LHR')",
            "INSERT INTO flight_occupants VALUES ('F1', 'P1', 'passenger', '1A', 'BK1'), \
             ('F1', 'P2', 'crew', NULL, NULL)",
            "INSERT INTO rides VALUES ('R1', 'V1', 5, 6)",
            "INSERT INTO ride_occupants VALUES ('R1', 'P2', 'driver')",
            "INSERT INTO orders (id, person_id, address, lat, lon, radius_m, starts_at, ends_at, \
             time_zone, bases, status, created_at, updated_at) VALUES ('O1', 'P1', 'Street 1', \
             47.3, 8.5, 100, 1, 2, 'UTC', '[]', 'active', 1, 1)",
        ] {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();

        let store = Store::open(&url).await.unwrap();
        let Backend::Sqlite(pool) = &store.backend else {
            unreachable!()
        };
        let counts: (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM residences), \
             (SELECT count(*) FROM flight_occupants), (SELECT count(*) FROM ride_occupants), \
             (SELECT count(*) FROM orders)",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(counts, (2, 1, 2, 1, 1));
        let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM persons WHERE id = 'P1'")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(phone.as_deref(), Some("+41441234567"));
        let without_rowid: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID' \
             AND name NOT LIKE 'person_names_%' ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        // (The name search's FTS5 shadow tables, migration 0019, are left out.)
        assert_eq!(
            without_rowid,
            [
                "flight_occupants",
                "persons",
                "residences",
                "ride_occupants",
                "rides"
            ]
        );
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN \
             ('residences_building', 'flight_occupants_person', 'ride_occupants_person') ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(
            indexes,
            [
                "flight_occupants_person",
                "residences_building",
                "ride_occupants_person"
            ]
        );
        // References resolve to the rebuilt tables and are still enforced.
        for sql in [
            "INSERT INTO ride_occupants VALUES ('R1', 'NOBODY', 'passenger')",
            "DELETE FROM persons WHERE id = 'P1'",
        ] {
            let err = sqlx::query(sql).execute(pool).await.unwrap_err();
            let err = StoreError::from(err);
            assert!(
                matches!(err, StoreError::MissingReference(_)),
                "{sql}: {err}"
            );
        }
        // Opening again migrates nothing and finds nothing wrong.
        store.close().await;
        Store::open(&url).await.unwrap().close().await;
    }
}
