//! Self-enrolment: an officer's single-use link lets the person upload their
//! own reference photo. The template it makes waits, encrypted, as
//! `pending` until an officer approves it (then it becomes the order's
//! enrolment) or rejects it (then it is erased). The photo itself waits with
//! it, sealed too, so the deciding officer can see it (migration 0016); it is
//! erased with the pending template by every path that decides or ends the
//! wait: approval, rejection, the order's end, the retention purge. Tokens
//! are stored hashed. The message that sends a new link to the person is
//! written in the link's transaction.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{EnrollmentLinkId, OrderId};
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::outbox::{insert_message, NewOutboxMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    /// Waiting for a photo.
    Open,
    /// A template waits for an officer's decision.
    Pending,
    Approved,
    Rejected,
    /// Replaced by a newer link.
    Revoked,
}

impl LinkStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Revoked => "revoked",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "open" => Self::Open,
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "revoked" => Self::Revoked,
            other => {
                return Err(StoreError::corrupt(
                    "enrollment_links",
                    format!("status {other}"),
                ))
            }
        })
    }
}

/// A self-enrolment link (never the template itself).
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentLink {
    pub id: EnrollmentLinkId,
    pub order_id: OrderId,
    pub token_hash: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: LinkStatus,
    pub model: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
}

impl EnrollmentLink {
    /// A new open link: nothing submitted or decided yet.
    pub fn open(
        order_id: OrderId,
        token_hash: String,
        created_by: String,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: EnrollmentLinkId::generate(),
            order_id,
            token_hash,
            created_by,
            created_at,
            expires_at,
            status: LinkStatus::Open,
            model: None,
            submitted_at: None,
            decided_at: None,
            decided_by: None,
            reason: None,
        }
    }
}

/// The template a person submitted, sealed by the server, and the photo it
/// was made from, sealed as well (kept only until the decision).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingTemplate {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    /// The id of the template key that sealed it.
    pub key_id: String,
    pub model: String,
    pub photo: Option<SealedPhoto>,
}

/// A submitted photo as AEAD ciphertext and its nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPhoto {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    /// The id of the template key that sealed it.
    pub key_id: String,
}

const COLUMNS: &str = "id, order_id, token_hash, created_by, created_at, expires_at, status, \
                       model, submitted_at, decided_at, decided_by, reason";

fn opt_time(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(|m| from_ms("enrollment_links", m)).transpose()
}

macro_rules! link_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("enrollment_links", e);
        EnrollmentLink {
            id: EnrollmentLinkId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            order_id: OrderId::parse(r.try_get::<&str, _>("order_id")?).map_err(bad)?,
            token_hash: r.try_get("token_hash")?,
            created_by: r.try_get("created_by")?,
            created_at: from_ms("enrollment_links", r.try_get("created_at")?)?,
            expires_at: from_ms("enrollment_links", r.try_get("expires_at")?)?,
            status: LinkStatus::parse(r.try_get::<&str, _>("status")?)?,
            model: r.try_get("model")?,
            submitted_at: opt_time(r.try_get("submitted_at")?)?,
            decided_at: opt_time(r.try_get("decided_at")?)?,
            decided_by: r.try_get("decided_by")?,
            reason: r.try_get("reason")?,
        }
    }};
}

impl Store {
    /// Stores a new open link for its order, revoking an earlier open one.
    /// `Conflict` while a submitted template still waits for a decision.
    pub async fn create_enrollment_link(
        &self,
        link: &EnrollmentLink,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        self.create_enrollment_link_sending(link, None, audit).await
    }

    /// [`Store::create_enrollment_link`], with the outbox message that sends
    /// the link to the person (and its delivery job) in the same
    /// transaction: the link exists only if its message does.
    pub async fn create_enrollment_link_sending(
        &self,
        link: &EnrollmentLink,
        message: Option<&NewOutboxMessage>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const REVOKE: &str = "UPDATE enrollment_links SET status = 'revoked', updated_at = $1 \
                              WHERE order_id = $2 AND status = 'open'";
        const INSERT: &str = "INSERT INTO enrollment_links (id, order_id, token_hash, created_by, \
                              created_at, expires_at, status, updated_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, 'open', $5)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(REVOKE)
                .bind(to_ms(link.created_at))
                .bind(link.order_id.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT)
                .bind(link.id.as_str())
                .bind(link.order_id.as_str())
                .bind(&link.token_hash)
                .bind(&link.created_by)
                .bind(to_ms(link.created_at))
                .bind(to_ms(link.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "pending self-enrolment of order", link.order_id.as_str()))?;
            if let Some(m) = message {
                // A new link's key is new: a duplicate is a caller's bug.
                if !insert_message!(self, tx, m) {
                    return Err(StoreError::Unsupported(
                        "the message of a new enrolment link was enqueued before",
                    ));
                }
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn enrollment_link_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<EnrollmentLink>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM enrollment_links WHERE token_hash = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(token_hash).fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(link_from_row!(&r)), None => None })
        })
    }

    /// The links of an order, newest first.
    pub async fn enrollment_links_of_order(
        &self,
        order_id: &OrderId,
    ) -> Result<Vec<EnrollmentLink>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM enrollment_links WHERE order_id = $1 ORDER BY created_at DESC, id DESC"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(order_id.as_str()).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(link_from_row!(r))).collect()
        })
    }

    /// Whether a pending template is stored for the link (for tests and
    /// retention checks; the template itself never leaves the store here).
    pub async fn link_holds_template(&self, id: &EnrollmentLinkId) -> Result<bool, StoreError> {
        const SQL: &str =
            "SELECT ciphertext IS NOT NULL AS held FROM enrollment_links WHERE id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(id.as_str()).fetch_optional(pool).await?;
            Ok(match row { Some(r) => r.try_get::<bool, _>("held")?, None => false })
        })
    }

    /// Whether a submitted photo is stored for the link (for tests and
    /// retention checks).
    pub async fn link_holds_photo(&self, id: &EnrollmentLinkId) -> Result<bool, StoreError> {
        const SQL: &str =
            "SELECT (photo_ciphertext IS NOT NULL OR photo_nonce IS NOT NULL) AS held \
                           FROM enrollment_links WHERE id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(id.as_str()).fetch_optional(pool).await?;
            Ok(match row { Some(r) => r.try_get::<bool, _>("held")?, None => false })
        })
    }

    /// The sealed photo of the order's pending self-enrolment, with its
    /// link; `None` when nothing is pending or no photo was kept.
    pub async fn pending_enrollment_photo(
        &self,
        order_id: &OrderId,
    ) -> Result<Option<(EnrollmentLinkId, SealedPhoto)>, StoreError> {
        const SQL: &str =
            "SELECT id, photo_ciphertext, photo_nonce, photo_key_id FROM enrollment_links \
                           WHERE order_id = $1 AND status = 'pending'";
        on_pool!(self, pool => {
            let Some(r) = sqlx::query(SQL).bind(order_id.as_str()).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let id = EnrollmentLinkId::parse(r.try_get::<&str, _>("id")?)
                .map_err(|e| StoreError::corrupt("enrollment_links", e))?;
            let ciphertext: Option<Vec<u8>> = r.try_get("photo_ciphertext")?;
            let nonce: Option<Vec<u8>> = r.try_get("photo_nonce")?;
            let key_id: Option<String> = r.try_get("photo_key_id")?;
            Ok(match (ciphertext, nonce) {
                (Some(ciphertext), Some(nonce)) => Some((id, SealedPhoto {
                    ciphertext,
                    nonce,
                    key_id: key_id.unwrap_or_else(|| crate::LEGACY_KEY_ID.to_owned()),
                })),
                _ => None,
            })
        })
    }

    /// Stores the person's template as pending, spending the link; false
    /// (and nothing stored) if the link is no longer open or has expired.
    pub async fn submit_self_enrollment(
        &self,
        link_id: &EnrollmentLinkId,
        t: &PendingTemplate,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "UPDATE enrollment_links SET status = 'pending', ciphertext = $1, nonce = $2, \
                           model = $3, submitted_at = $4, updated_at = $4, \
                           photo_ciphertext = $6, photo_nonce = $7, key_id = $8, photo_key_id = $9 \
                           WHERE id = $5 AND status = 'open' AND expires_at > $4";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SQL)
                .bind(&t.ciphertext)
                .bind(&t.nonce)
                .bind(&t.model)
                .bind(to_ms(now))
                .bind(link_id.as_str())
                .bind(t.photo.as_ref().map(|p| p.ciphertext.as_slice()))
                .bind(t.photo.as_ref().map(|p| p.nonce.as_slice()))
                .bind(&t.key_id)
                .bind(t.photo.as_ref().map(|p| p.key_id.as_str()))
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

    /// Makes the order's pending template its enrolment (replacing an
    /// earlier one) and erases it from the link. `None` if nothing is pending.
    pub async fn approve_self_enrollment(
        &self,
        order_id: &OrderId,
        decided_by: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<EnrollmentLink>, StoreError> {
        const PENDING: &str = "SELECT id, ciphertext, nonce, model, key_id FROM enrollment_links \
                               WHERE order_id = $1 AND status = 'pending'";
        const DECIDE: &str = "UPDATE enrollment_links SET status = 'approved', ciphertext = NULL, nonce = NULL, \
                              photo_ciphertext = NULL, photo_nonce = NULL, decided_at = $1, decided_by = $2, updated_at = $1 WHERE id = $3 AND status = 'pending'";
        const ENROL: &str = "INSERT INTO enrollments (order_id, ciphertext, nonce, model, created_at, key_id) \
                             VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (order_id) DO UPDATE SET ciphertext = excluded.ciphertext, \
                             nonce = excluded.nonce, model = excluded.model, created_at = excluded.created_at, \
                             key_id = excluded.key_id";
        let sql = format!("SELECT {COLUMNS} FROM enrollment_links WHERE id = $1");
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let Some(r) = sqlx::query(PENDING).bind(order_id.as_str()).fetch_optional(&mut *tx).await? else {
                return Ok(None);
            };
            let id: String = r.try_get("id")?;
            let ciphertext: Option<Vec<u8>> = r.try_get("ciphertext")?;
            let nonce: Option<Vec<u8>> = r.try_get("nonce")?;
            let model: Option<String> = r.try_get("model")?;
            let key_id: Option<String> = r.try_get("key_id")?;
            let key_id = key_id.unwrap_or_else(|| crate::LEGACY_KEY_ID.to_owned());
            let (Some(ciphertext), Some(nonce), Some(model)) = (ciphertext, nonce, model) else {
                return Err(StoreError::corrupt("enrollment_links", format!("pending link {id} has no template")));
            };
            let n = sqlx::query(DECIDE).bind(to_ms(now)).bind(decided_by).bind(&id).execute(&mut *tx).await?;
            if n.rows_affected() != 1 {
                return Err(StoreError::Stale { entity: "self-enrolment", id });
            }
            sqlx::query(ENROL)
                .bind(order_id.as_str())
                .bind(&ciphertext)
                .bind(&nonce)
                .bind(&model)
                .bind(to_ms(now))
                .bind(&key_id)
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            let r = sqlx::query(&sql).bind(&id).fetch_one(&mut *tx).await?;
            let link = link_from_row!(&r);
            tx.commit().await?;
            Ok(Some(link))
        })
    }

    /// Rejects the order's pending template with a reason and erases it.
    /// `None` if nothing is pending.
    pub async fn reject_self_enrollment(
        &self,
        order_id: &OrderId,
        reason: &str,
        decided_by: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<EnrollmentLink>, StoreError> {
        const SQL: &str =
            "UPDATE enrollment_links SET status = 'rejected', ciphertext = NULL, nonce = NULL, \
                           photo_ciphertext = NULL, photo_nonce = NULL, reason = $1, decided_at = $2, decided_by = $3, updated_at = $2 \
                           WHERE order_id = $4 AND status = 'pending' RETURNING id";
        let sql = format!("SELECT {COLUMNS} FROM enrollment_links WHERE id = $1");
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let Some(r) = sqlx::query(SQL)
                .bind(reason)
                .bind(to_ms(now))
                .bind(decided_by)
                .bind(order_id.as_str())
                .fetch_optional(&mut *tx)
                .await? else {
                return Ok(None);
            };
            let id: String = r.try_get("id")?;
            append_audit!(self, tx, audit);
            let r = sqlx::query(&sql).bind(&id).fetch_one(&mut *tx).await?;
            let link = link_from_row!(&r);
            tx.commit().await?;
            Ok(Some(link))
        })
    }

    /// Erases undecided templates whose retention ran out, as for enrolled
    /// ones: `grace` after the order's end (ending an order erases its
    /// pending template at once). Each is audited; returns how many.
    pub async fn purge_expired_pending_enrollments(
        &self,
        now: DateTime<Utc>,
        grace: Duration,
    ) -> Result<u64, StoreError> {
        const SQL: &str =
            "UPDATE enrollment_links SET status = 'rejected', ciphertext = NULL, nonce = NULL, \
                           photo_ciphertext = NULL, photo_nonce = NULL, \
                           reason = 'retention ended before a decision', decided_at = $1, \
                           decided_by = 'system:retention', updated_at = $1 \
                           WHERE status = 'pending' AND order_id IN \
                           (SELECT id FROM orders WHERE COALESCE(ended_at, ends_at) <= $2) \
                           RETURNING order_id";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let rows = sqlx::query(SQL).bind(to_ms(now)).bind(to_ms(now - grace))
                .fetch_all(&mut *tx).await?;
            for r in &rows {
                let rec = AuditRecord {
                    at: now,
                    actor: "system:retention".into(),
                    action: "enrollment.pending_purge".into(),
                    subject_type: "order".into(),
                    subject_id: r.try_get("order_id")?,
                    details: "undecided self-enrolment template erased".into(),
                };
                append_audit!(self, tx, &rec);
            }
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }
}
