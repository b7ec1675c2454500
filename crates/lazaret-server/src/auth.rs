//! Officer authentication with API tokens, and role checks.
//!
//! A token reads `lzt_<id>_<secret>`. Only the SHA-256 of the 256-bit random
//! secret is stored: a high-entropy secret needs no slow hash, and a leaked
//! database yields no usable token. A token belongs to an account (it acts
//! with the account's role and districts as they are at each request, and
//! stops when the account is disabled) or to a named service; it stops at
//! its expiry or when revoked, judged by the app's clock.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use lazaret_core::account::Username;
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{TokenId, UserId};
use lazaret_core::user::{Permission, Role};
use lazaret_store::{Store, StoreError, TokenRecord};
use rand::RngCore;

use crate::error::ApiError;
use crate::prompting::hash_token;
use crate::services::Actor;
use crate::state::AppState;

const PREFIX: &str = "lzt_";

/// The authenticated caller of an officer route.
#[derive(Debug, Clone)]
pub struct Officer {
    pub token_id: TokenId,
    pub role: Role,
    /// The districts this officer works in.
    pub districts: DistrictScope,
    /// The account the token belongs to; `None` for a service token.
    pub username: Option<Username>,
}

impl Officer {
    /// This caller as the services' plain [`Actor`] (no extractor): the
    /// audit log names the account and the token
    /// (`user:<name>/token:<id>`), or a service token alone (`token:<id>`).
    pub fn as_actor(&self) -> Actor {
        let name = match &self.username {
            Some(u) => format!("user:{u}/token:{}", self.token_id),
            None => format!("token:{}", self.token_id),
        };
        Actor::new(name, self.role, self.districts.clone())
    }

    /// The audit log's name for this caller.
    pub fn actor(&self) -> String {
        self.as_actor().name().to_owned()
    }

    /// Refuses the request (403) unless the role allows `p`.
    pub fn require(&self, p: Permission, what: &'static str) -> Result<(), ApiError> {
        if self.role.allows(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(what))
        }
    }

    /// An audit record of something this officer did.
    pub fn audit(
        &self,
        at: DateTime<Utc>,
        action: &str,
        subject_type: &str,
        subject_id: &str,
        details: String,
    ) -> AuditRecord {
        self.as_actor()
            .audit(at, action, subject_type, subject_id, details)
    }
}

/// Constant-time comparison, so response timing says nothing about how much
/// of a guessed hash matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn split_token(token: &str) -> Option<(TokenId, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    Some((TokenId::parse(id).ok()?, secret))
}

/// Creates a national service token for `role` that never expires (for
/// tests and embedding; `lazaret token create` always sets an expiry);
/// returns the record and the token text, which is shown once and never
/// stored.
pub async fn create_token(
    store: &Store,
    role: Role,
    label: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(TokenRecord, String), StoreError> {
    create_token_in(store, role, &DistrictScope::All, label, actor, now).await
}

/// Creates a service token for `role` that works in `districts` and never
/// expires (see [`create_token`]).
pub async fn create_token_in(
    store: &Store,
    role: Role,
    districts: &DistrictScope,
    label: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(TokenRecord, String), StoreError> {
    issue_token(
        store,
        NewToken {
            role,
            districts,
            label,
            user: None,
            expires_at: None,
        },
        actor,
        now,
    )
    .await
}

/// A token to issue.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    /// For an account's token, the account's role and districts at issue
    /// (the live ones apply at each use).
    pub role: Role,
    pub districts: &'a DistrictScope,
    pub label: &'a str,
    /// The owning account; `None` for a service token.
    pub user: Option<&'a UserId>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Issues a token, audited as `token.create` by `actor`; returns the record
/// and the token text (shown once, never stored).
pub async fn issue_token(
    store: &Store,
    new: NewToken<'_>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(TokenRecord, String), StoreError> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let secret = hex::encode(secret);
    let id = TokenId::parse(&hex::encode(&uuid_bytes()[..8])).expect("hex id is valid");
    let record = TokenRecord {
        id: id.clone(),
        secret_hash: hash_token(&secret),
        role: new.role,
        districts: new.districts.clone(),
        label: new.label.to_owned(),
        created_at: now,
        revoked_at: None,
        user_id: new.user.cloned(),
        expires_at: new.expires_at,
    };
    let expires = new
        .expires_at
        .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
    let audit = AuditRecord {
        at: now,
        actor: actor.to_owned(),
        action: "token.create".into(),
        subject_type: "token".into(),
        subject_id: id.to_string(),
        details: format!(
            "role={} districts={} label={} expires={expires}",
            new.role, new.districts, new.label
        ),
    };
    store.insert_token(&record, &audit).await?;
    Ok((record, format!("{PREFIX}{id}_{secret}")))
}

fn uuid_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// Checks a presented token at `now`; `None` when unknown, wrong, revoked,
/// expired, or its account is gone or disabled.
pub async fn verify_token(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Officer>, StoreError> {
    let Some((id, secret)) = split_token(token) else {
        return Ok(None);
    };
    let Some(rec) = store.get_token(&id).await? else {
        return Ok(None);
    };
    if !same(&rec.secret_hash, &hash_token(secret))
        || rec.revoked_at.is_some()
        || rec.expires_at.is_some_and(|t| now >= t)
    {
        return Ok(None);
    }
    let Some(user_id) = &rec.user_id else {
        return Ok(Some(Officer {
            token_id: rec.id,
            role: rec.role,
            districts: rec.districts,
            username: None,
        }));
    };
    // The account's role and districts now, not those at issue.
    match store.get_user(user_id).await? {
        Some(user) if user.disabled_at.is_none() => Ok(Some(Officer {
            token_id: rec.id,
            role: user.role,
            districts: user.districts,
            username: Some(user.username),
        })),
        _ => Ok(None),
    }
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthorized)?
            .trim();
        match verify_token(&state.store, token, state.now()).await? {
            Some(officer) => {
                // Per account (all its tokens and its console session
                // together), or per service token.
                let key = match &officer.username {
                    Some(u) => format!("user:{u}"),
                    None => format!("token:{}", officer.token_id),
                };
                state.guards.officer.check(&key)?;
                Ok(officer)
            }
            None => {
                tracing::info!("rejected an invalid API token");
                Err(ApiError::Unauthorized)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape() {
        let (id, secret) = split_token("lzt_abc123_deadbeef").unwrap();
        assert_eq!(id.as_str(), "abc123");
        assert_eq!(secret, "deadbeef");
        assert!(split_token("abc123_deadbeef").is_none());
        assert!(split_token("lzt_nounderscore").is_none());
    }

    #[test]
    fn comparison() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
