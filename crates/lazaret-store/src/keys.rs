//! What is sealed with the template keys, by key id: the rows `lazaret keys rotate`
//! re-seals under the current key, and the facts the start-up checks read (one sealed
//! template per key id, the kind of clock the data was written with).

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{on_pool, to_ms, Store};
use crate::error::StoreError;

/// The id of the one key that sealed everything stored before keys had ids.
pub const LEGACY_KEY_ID: &str = "k1";

/// Which sealed value a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedPart {
    /// An order's enrolled template (`enrollments`; associated data: the order id).
    Template,
    /// A self-enrolment link's pending template (associated data: the order id).
    PendingTemplate,
    /// A self-enrolment link's submitted photo (associated data: `enrollment-photo:<order id>`).
    PendingPhoto,
}

impl SealedPart {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Template => "template",
            Self::PendingTemplate => "pending_template",
            Self::PendingPhoto => "pending_photo",
        }
    }
}

/// One sealed value as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedRow {
    pub part: SealedPart,
    /// The order whose value it is (the associated data derives from it).
    pub order_id: String,
    /// The row's own id: the order for a template, the link otherwise.
    pub row_id: String,
    pub key_id: String,
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
}

/// A value sealed anew: `(key_id, ciphertext, nonce)`.
pub struct Resealed<'a> {
    pub key_id: &'a str,
    pub ciphertext: &'a [u8],
    pub nonce: &'a [u8],
}

const SELECT_NOT_UNDER: [(SealedPart, &str); 3] = [
    (
        SealedPart::Template,
        "SELECT order_id, order_id AS row_id, key_id, ciphertext, nonce FROM enrollments \
         WHERE key_id <> $1 ORDER BY order_id LIMIT $2",
    ),
    (
        SealedPart::PendingTemplate,
        "SELECT order_id, id AS row_id, key_id, ciphertext, nonce FROM enrollment_links \
         WHERE ciphertext IS NOT NULL AND nonce IS NOT NULL AND COALESCE(key_id, 'k1') <> $1 \
         ORDER BY id LIMIT $2",
    ),
    (
        SealedPart::PendingPhoto,
        "SELECT order_id, id AS row_id, photo_key_id AS key_id, photo_ciphertext AS ciphertext, \
         photo_nonce AS nonce FROM enrollment_links \
         WHERE photo_ciphertext IS NOT NULL AND photo_nonce IS NOT NULL \
         AND COALESCE(photo_key_id, 'k1') <> $1 ORDER BY id LIMIT $2",
    ),
];

impl Store {
    /// Up to `limit` sealed values of each part not under key `key_id`.
    pub async fn sealed_not_under(
        &self,
        key_id: &str,
        limit: i64,
    ) -> Result<Vec<SealedRow>, StoreError> {
        let mut out = Vec::new();
        for (part, sql) in SELECT_NOT_UNDER {
            on_pool!(self, pool => {
                let rows = sqlx::query(sql).bind(key_id).bind(limit).fetch_all(pool).await?;
                for r in &rows {
                    let key_id: Option<String> = r.try_get("key_id")?;
                    out.push(SealedRow {
                        part,
                        order_id: r.try_get("order_id")?,
                        row_id: r.try_get("row_id")?,
                        key_id: key_id.unwrap_or_else(|| LEGACY_KEY_ID.to_owned()),
                        ciphertext: r.try_get("ciphertext")?,
                        nonce: r.try_get("nonce")?,
                    });
                }
            });
        }
        Ok(out)
    }

    /// How many sealed values each key id holds (templates, pending templates and
    /// photos together), by id.
    pub async fn sealed_key_ids(&self) -> Result<Vec<(String, i64)>, StoreError> {
        const SQL: &str = "SELECT k, COUNT(*) AS n FROM ( \
             SELECT key_id AS k FROM enrollments \
             UNION ALL SELECT COALESCE(key_id, 'k1') FROM enrollment_links WHERE ciphertext IS NOT NULL \
             UNION ALL SELECT COALESCE(photo_key_id, 'k1') FROM enrollment_links WHERE photo_ciphertext IS NOT NULL \
           ) s GROUP BY k ORDER BY k";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter().map(|r| Ok((r.try_get("k")?, r.try_get("n")?))).collect()
        })
    }

    /// One enrolled template sealed with `key_id`, if any (the start-up check opens it).
    pub async fn one_template_under(&self, key_id: &str) -> Result<Option<SealedRow>, StoreError> {
        const SQL: &str = "SELECT order_id, key_id, ciphertext, nonce FROM enrollments \
                           WHERE key_id = $1 ORDER BY order_id LIMIT 1";
        on_pool!(self, pool => {
            let Some(r) = sqlx::query(SQL).bind(key_id).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let order_id: String = r.try_get("order_id")?;
            Ok(Some(SealedRow {
                part: SealedPart::Template,
                row_id: order_id.clone(),
                order_id,
                key_id: r.try_get("key_id")?,
                ciphertext: r.try_get("ciphertext")?,
                nonce: r.try_get("nonce")?,
            }))
        })
    }

    /// Replaces a sealed value with the same value sealed under another key, audited in
    /// the same transaction. False (nothing written) when the row changed meanwhile (a
    /// new enrolment, a decision): the new value is then already under the current key or
    /// gone.
    pub async fn reseal(
        &self,
        old: &SealedRow,
        new: &Resealed<'_>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let sql = match old.part {
            SealedPart::Template => {
                "UPDATE enrollments SET key_id = $1, ciphertext = $2, nonce = $3 \
                 WHERE order_id = $4 AND key_id = $5 AND nonce = $6"
            }
            SealedPart::PendingTemplate => {
                "UPDATE enrollment_links SET key_id = $1, ciphertext = $2, nonce = $3 \
                 WHERE id = $4 AND COALESCE(key_id, 'k1') = $5 AND nonce = $6"
            }
            SealedPart::PendingPhoto => {
                "UPDATE enrollment_links SET photo_key_id = $1, photo_ciphertext = $2, photo_nonce = $3 \
                 WHERE id = $4 AND COALESCE(photo_key_id, 'k1') = $5 AND photo_nonce = $6"
            }
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(sql)
                .bind(new.key_id)
                .bind(new.ciphertext)
                .bind(new.nonce)
                .bind(&old.row_id)
                .bind(&old.key_id)
                .bind(&old.nonce)
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() != 1 {
                return Ok(false);
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Every account's stored TOTP key: `(user id, stored form)`.
    pub async fn stored_totp_secrets(&self) -> Result<Vec<(String, String)>, StoreError> {
        const SQL: &str =
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("totp_secret")?))).collect()
        })
    }

    /// Replaces an account's stored TOTP key if it is still `old`, audited; false if it
    /// changed meanwhile.
    pub async fn reseal_totp_secret(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SQL).bind(new).bind(user_id).bind(old).execute(&mut *tx).await?;
            if n.rows_affected() != 1 {
                return Ok(false);
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// A fact about the database set once (see [`Store::mark_database`]).
    pub async fn database_mark(&self, name: &str) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT value FROM database_marks WHERE name = $1";
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar(SQL).bind(name).fetch_optional(pool).await?)
        })
    }

    /// Sets the fact `name` unless it is set; returns the value that holds afterwards
    /// (the one set first, by whichever instance).
    pub async fn mark_database(
        &self,
        name: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        const SQL: &str = "INSERT INTO database_marks (name, value, set_at) VALUES ($1, $2, $3) \
                           ON CONFLICT (name) DO NOTHING";
        on_pool!(self, pool => {
            sqlx::query(SQL).bind(name).bind(value).bind(to_ms(now)).execute(pool).await?;
        });
        Ok(self
            .database_mark(name)
            .await?
            .unwrap_or_else(|| value.to_owned()))
    }

    /// Whether the database holds any person or order (data someone entered).
    pub async fn holds_records(&self) -> Result<bool, StoreError> {
        const SQL: &str =
            "SELECT (EXISTS (SELECT 1 FROM persons) OR EXISTS (SELECT 1 FROM orders)) AS any";
        on_pool!(self, pool => {
            let any: bool = sqlx::query_scalar(SQL).fetch_one(pool).await?;
            Ok(any)
        })
    }
}
