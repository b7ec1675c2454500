//! Officer accounts, console sessions and failed logins (migration 0011).
//! Every change is audited in its own transaction; the password hash and
//! the TOTP secret never leave the server crate's account service.

use chrono::{DateTime, Utc};
use lazaret_core::account::Username;
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::UserId;
use lazaret_core::user::Role;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;

/// An officer account as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: Username,
    pub role: Role,
    pub districts: DistrictScope,
    /// argon2id, PHC string form.
    pub password_hash: String,
    /// The TOTP key once enrolled (base32, or sealed by the server's
    /// account service; this layer does not look inside).
    pub totp_secret: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Wrong answers since the last success or lockout.
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The console's language the officer chose (`en`, `ru`); None follows
    /// the browser.
    pub language: Option<String>,
}

impl std::fmt::Debug for UserRecord {
    /// Without the hash and the TOTP secret, so no log can print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("districts", &self.districts)
            .field("totp", &self.totp_secret.is_some())
            .field("disabled_at", &self.disabled_at)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// A console session as stored (found by the hash of its cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the cookie value.
    pub id_hash: String,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// What a failed login does to the account it named.
#[derive(Debug, Clone, Copy)]
pub struct FailurePolicy {
    /// Failures in a row that lock the account.
    pub max_failures: i64,
    /// Until when a lock set now lasts.
    pub lock_until: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, username, role, districts, password_hash, totp_secret, \
    disabled_at, failed_logins, locked_until, created_at, updated_at, language";

macro_rules! user_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("users", e);
        let opt_ms = |v: Option<i64>| v.map(|ms| from_ms("users", ms)).transpose();
        UserRecord {
            id: UserId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            username: Username::parse(r.try_get::<&str, _>("username")?).map_err(bad)?,
            role: r.try_get::<&str, _>("role")?.parse().map_err(bad)?,
            districts: DistrictScope::parse(r.try_get::<&str, _>("districts")?).map_err(bad)?,
            password_hash: r.try_get("password_hash")?,
            totp_secret: r.try_get("totp_secret")?,
            disabled_at: opt_ms(r.try_get("disabled_at")?)?,
            failed_logins: r.try_get("failed_logins")?,
            locked_until: opt_ms(r.try_get("locked_until")?)?,
            created_at: from_ms("users", r.try_get("created_at")?)?,
            updated_at: from_ms("users", r.try_get("updated_at")?)?,
            language: r.try_get("language")?,
        }
    }};
}

/// One change to an account (`Store::update_user`).
#[derive(Debug, Clone)]
pub enum UserChange {
    /// A new password hash; clears the failure count and any lock, and
    /// ends the account's sessions (whoever knew the old password is out).
    Password(String),
    Districts(DistrictScope),
    /// The TOTP key (base32), replacing any earlier one; ends the
    /// account's sessions, as a password change does.
    Totp(String),
    /// Disables the account and ends its sessions; its tokens stop working
    /// (they are checked against the account on every request).
    Disable,
    /// The console's language (None: the browser's).
    Language(Option<String>),
    /// Clears the failure count and any lock (an administrator's unlock).
    Unlock,
}

impl Store {
    /// Stores a new account; `Conflict` when the username is taken.
    pub async fn insert_user(&self, u: &UserRecord, audit: &AuditRecord) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&sql)
                .bind(u.id.as_str())
                .bind(u.username.as_str())
                .bind(u.role.as_str())
                .bind(u.districts.to_string())
                .bind(&u.password_hash)
                .bind(&u.totp_secret)
                .bind(u.disabled_at.map(to_ms))
                .bind(u.failed_logins)
                .bind(u.locked_until.map(to_ms))
                .bind(to_ms(u.created_at))
                .bind(to_ms(u.updated_at))
                .bind(&u.language)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "user", u.username.as_str()))?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn get_user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        on_pool!(self, pool => {
            match sqlx::query(&sql).bind(name).fetch_optional(pool).await? {
                Some(r) => Ok(Some(user_from_row!(&r))),
                None => Ok(None),
            }
        })
    }

    pub async fn get_user(&self, id: &UserId) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        on_pool!(self, pool => {
            match sqlx::query(&sql).bind(id.as_str()).fetch_optional(pool).await? {
                Some(r) => Ok(Some(user_from_row!(&r))),
                None => Ok(None),
            }
        })
    }

    /// Every account, by username.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(user_from_row!(r))).collect()
        })
    }

    /// Applies `change` to the account `id` with its audit event; `NotFound`
    /// when there is no such account.
    pub async fn update_user(
        &self,
        id: &UserId,
        change: &UserChange,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let q = match change {
                UserChange::Password(h) => sqlx::query(
                    "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL, \
                     updated_at = $2 WHERE id = $3",
                )
                .bind(h.clone()),
                UserChange::Districts(d) => {
                    sqlx::query("UPDATE users SET districts = $1, updated_at = $2 WHERE id = $3")
                        .bind(d.to_string())
                }
                UserChange::Totp(secret) => {
                    sqlx::query("UPDATE users SET totp_secret = $1, updated_at = $2 WHERE id = $3")
                        .bind(secret.clone())
                }
                UserChange::Disable => sqlx::query(
                    "UPDATE users SET disabled_at = COALESCE(disabled_at, $1), updated_at = $1 \
                     WHERE id = $2",
                ),
                UserChange::Language(l) => {
                    sqlx::query("UPDATE users SET language = $1, updated_at = $2 WHERE id = $3")
                        .bind(l.clone())
                }
                UserChange::Unlock => sqlx::query(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $1 \
                     WHERE id = $2",
                ),
            };
            let n = q.bind(to_ms(at)).bind(id.as_str()).execute(&mut *tx).await?;
            if n.rows_affected() == 0 {
                return Err(StoreError::NotFound { entity: "user", id: id.to_string() });
            }
            if matches!(
                change,
                UserChange::Disable | UserChange::Password(_) | UserChange::Totp(_)
            ) {
                sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
                    .bind(to_ms(at))
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records that the account's TOTP code of `step` (30-second steps
    /// since the epoch) was used; `false` when that step or a later one was
    /// used already, so that a seen code cannot be replayed.
    pub async fn claim_totp_step(&self, id: &UserId, step: i64) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE users SET totp_last_step = $1 \
                           WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)";
        on_pool!(self, pool => {
            let n = sqlx::query(SQL).bind(step).bind(id.as_str()).execute(pool).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Failed logins from `address` since `since`.
    pub async fn login_failures_since(
        &self,
        address: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT count(*) AS n FROM login_failures WHERE address = $1 AND at > $2";
        on_pool!(self, pool => {
            let r = sqlx::query(SQL).bind(address).bind(to_ms(since)).fetch_one(pool).await?;
            Ok(r.try_get::<i64, _>("n")?)
        })
    }

    /// Records a failed login from `address` (rows before `forget_before`
    /// are dropped) with its audit event; with `account`, also counts it
    /// against that account, which is locked once the count reaches the
    /// policy's maximum. Returns whether this failure locked the account.
    pub async fn record_login_failure(
        &self,
        address: &str,
        account: Option<(&UserId, FailurePolicy)>,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM login_failures WHERE at <= $1")
                .bind(to_ms(forget_before))
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO login_failures (address, at) VALUES ($1, $2)")
                .bind(address)
                .bind(to_ms(at))
                .execute(&mut *tx)
                .await?;
            let mut locked = false;
            if let Some((id, policy)) = account {
                // The right-hand sides all see the row as it was.
                let r = sqlx::query(
                    "UPDATE users SET \
                       failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END, \
                       locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END \
                     WHERE id = $3 RETURNING locked_until",
                )
                .bind(policy.max_failures)
                .bind(to_ms(policy.lock_until))
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(r) = r {
                    locked = r.try_get::<Option<i64>, _>("locked_until")? == Some(to_ms(policy.lock_until));
                }
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(locked)
        })
    }

    /// Starts a session: stores it, clears the account's failure count,
    /// audits the login.
    pub async fn insert_session(
        &self,
        s: &SessionRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ended_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&s.id_hash)
            .bind(s.user_id.as_str())
            .bind(to_ms(s.created_at))
            .bind(to_ms(s.last_seen_at))
            .bind(to_ms(s.expires_at))
            .bind(s.ended_at.map(to_ms))
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(s.user_id.as_str())
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The session with this hash and its account.
    pub async fn get_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        const SQL: &str =
            "SELECT id_hash, user_id, created_at, last_seen_at, expires_at, ended_at \
                           FROM sessions WHERE id_hash = $1";
        let session = on_pool!(self, pool => {
            let Some(r) = sqlx::query(SQL).bind(id_hash).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("sessions", e);
            SessionRecord {
                id_hash: r.try_get("id_hash")?,
                user_id: UserId::parse(r.try_get::<&str, _>("user_id")?).map_err(bad)?,
                created_at: from_ms("sessions", r.try_get("created_at")?)?,
                last_seen_at: from_ms("sessions", r.try_get("last_seen_at")?)?,
                expires_at: from_ms("sessions", r.try_get("expires_at")?)?,
                ended_at: r
                    .try_get::<Option<i64>, _>("ended_at")?
                    .map(|ms| from_ms("sessions", ms))
                    .transpose()?,
            }
        });
        let Some(user) = self.get_user(&session.user_id).await? else {
            return Err(StoreError::corrupt(
                "sessions",
                "the session's account is gone",
            ));
        };
        Ok(Some((session, user)))
    }

    /// Marks the session as used at `at` (its idle time restarts).
    /// When each account last signed in to the console (its newest
    /// session's start); accounts that never did are absent.
    pub async fn last_logins(
        &self,
    ) -> Result<std::collections::HashMap<UserId, DateTime<Utc>>, StoreError> {
        const SQL: &str = "SELECT user_id, MAX(created_at) AS at FROM sessions GROUP BY user_id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            let mut out = std::collections::HashMap::with_capacity(rows.len());
            for r in &rows {
                let id = UserId::parse(r.try_get::<&str, _>("user_id")?)
                    .map_err(|e| StoreError::corrupt("sessions", e))?;
                out.insert(id, from_ms("sessions", r.try_get("at")?)?);
            }
            Ok(out)
        })
    }

    pub async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1")
                .bind(to_ms(at))
                .bind(id_hash)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Ends a session (logout); returns whether it was open. Audited only
    /// when it was.
    pub async fn end_session(
        &self,
        id_hash: &str,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL")
                .bind(to_ms(at))
                .bind(id_hash)
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() == 1 {
                append_audit!(self, tx, audit);
            }
            tx.commit().await?;
            Ok(n.rows_affected() == 1)
        })
    }
}
