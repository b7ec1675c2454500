//! Template keys in operation: the start-up check that the configured keys open what the
//! database holds, and `lazaret keys rotate`, which re-seals every value under the current
//! key while the server runs (earlier keys stay readable by id until it is done).

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::OrderId;
use lazaret_store::{Resealed, SealedPart, SealedRow, Store, StoreError};
use thiserror::Error;

use crate::config::Config;
use crate::services::accounts::{open_totp_with, seal_totp_with, totp_key_id};
use crate::services::self_enrollment::photo_aad;
use crate::template_crypto::{TemplateKeyError, TemplateKeys};

#[derive(Debug, Error)]
pub enum KeysError {
    #[error(transparent)]
    Key(#[from] TemplateKeyError),
    /// Values are sealed under a key id the configuration lacks.
    #[error(
        "{count} stored value(s) are sealed with template key {key_id:?}, which is not configured: \
         set it as template_key (with template_key_id = \"{key_id}\") or under \
         [previous_template_keys]"
    )]
    UnknownKeyId { key_id: String, count: i64 },
    /// The key configured under an id does not open what that id sealed.
    #[error(
        "the template key configured as {key_id:?} does not open the stored template of order \
         {order}: it is not the key that sealed it (check template_key / previous_template_keys)"
    )]
    WrongKey { key_id: String, order: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks, before serving, that every key id the database uses is configured and that the
/// key under each opens one stored template; returns the ids in use with their counts.
/// Without any template key configured nothing can be opened and nothing is checked.
pub async fn check_template_keys(
    store: &Store,
    config: &Config,
) -> Result<Vec<(String, i64)>, KeysError> {
    if config.template_key.is_empty() {
        return Ok(Vec::new());
    }
    let keys = TemplateKeys::from_config(config)?;
    let in_use = store.sealed_key_ids().await?;
    for (key_id, count) in &in_use {
        if !keys.knows(key_id) {
            return Err(KeysError::UnknownKeyId {
                key_id: key_id.clone(),
                count: *count,
            });
        }
        if let Some(row) = store.one_template_under(key_id).await? {
            keys.open(key_id, &row.order_id, &row.ciphertext, &row.nonce)
                .map_err(|_| KeysError::WrongKey {
                    key_id: key_id.clone(),
                    order: row.order_id.clone(),
                })?;
        }
    }
    Ok(in_use)
}

/// What a rotation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// Templates, pending templates and photos re-sealed under the current key.
    pub resealed: u64,
    /// TOTP keys re-sealed.
    pub totp_resealed: u64,
    /// Values that changed while being re-sealed (a new enrolment, a decision): already
    /// current or gone, left alone.
    pub changed_meanwhile: u64,
    /// Values that could not be opened: `(part, row id, key id)`.
    pub unreadable: Vec<(String, String, String)>,
    /// What remains under other keys afterwards, by id.
    pub left: Vec<(String, i64)>,
}

const BATCH: i64 = 200;

fn aad(row: &SealedRow) -> Result<String, KeysError> {
    Ok(match row.part {
        SealedPart::Template | SealedPart::PendingTemplate => row.order_id.clone(),
        SealedPart::PendingPhoto => {
            let order = OrderId::parse(&row.order_id).map_err(|e| StoreError::Corrupt {
                table: "enrollment_links",
                reason: e.to_string(),
            })?;
            photo_aad(&order)
        }
    })
}

/// Re-seals every template, pending template, pending photo and TOTP key that is not
/// under the current key (`template_key_id`), each in its own audited transaction, so
/// the server keeps running; a value that changes meanwhile is left to its new state.
pub async fn rotate(
    store: &Store,
    config: &Config,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RotationReport, KeysError> {
    let keys = TemplateKeys::from_config(config)?;
    let current = keys.current_id().to_owned();
    let mut r = RotationReport::default();
    let mut skip: std::collections::HashSet<(&'static str, String, Vec<u8>)> = Default::default();
    loop {
        let batch = store.sealed_not_under(&current, BATCH).await?;
        let todo: Vec<_> = batch
            .into_iter()
            .filter(|row| {
                !skip.contains(&(row.part.as_str(), row.row_id.clone(), row.nonce.clone()))
            })
            .collect();
        if todo.is_empty() {
            break;
        }
        for row in todo {
            let plain = match keys.open(&row.key_id, &aad(&row)?, &row.ciphertext, &row.nonce) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(part = row.part.as_str(), row = %row.row_id, key_id = %row.key_id, error = %e, "cannot re-seal");
                    r.unreadable.push((
                        row.part.as_str().to_owned(),
                        row.row_id.clone(),
                        row.key_id.clone(),
                    ));
                    skip.insert((row.part.as_str(), row.row_id.clone(), row.nonce.clone()));
                    continue;
                }
            };
            let sealed = keys.seal(&aad(&row)?, &plain);
            let audit = AuditRecord {
                at: now,
                actor: actor.to_owned(),
                action: "keys.reseal".into(),
                subject_type: "order".into(),
                subject_id: row.order_id.clone(),
                details: format!(
                    "part={} row={} from={} to={}",
                    row.part.as_str(),
                    row.row_id,
                    row.key_id,
                    sealed.key_id
                ),
            };
            let new = Resealed {
                key_id: &sealed.key_id,
                ciphertext: &sealed.ciphertext,
                nonce: &sealed.nonce,
            };
            if store.reseal(&row, &new, &audit).await? {
                r.resealed += 1;
            } else {
                r.changed_meanwhile += 1;
                skip.insert((row.part.as_str(), row.row_id.clone(), row.nonce.clone()));
            }
        }
    }
    for (user, stored) in store.stored_totp_secrets().await? {
        match totp_key_id(&stored) {
            Some(id) if id != current => {}
            _ => continue,
        }
        let Some(secret) = open_totp_with(&keys, &user, &stored) else {
            let id = totp_key_id(&stored).unwrap_or_default().to_owned();
            tracing::error!(user = %user, key_id = %id, "cannot re-seal a TOTP key");
            r.unreadable.push(("totp".into(), user.clone(), id));
            continue;
        };
        let new = seal_totp_with(&keys, &user, &secret);
        let audit = AuditRecord {
            at: now,
            actor: actor.to_owned(),
            action: "keys.reseal".into(),
            subject_type: "user".into(),
            subject_id: user.clone(),
            details: format!(
                "part=totp from={} to={current}",
                totp_key_id(&stored).unwrap_or_default()
            ),
        };
        if store
            .reseal_totp_secret(&user, &stored, &new, &audit)
            .await?
        {
            r.totp_resealed += 1;
        } else {
            r.changed_meanwhile += 1;
        }
    }
    r.left = store
        .sealed_key_ids()
        .await?
        .into_iter()
        .filter(|(id, _)| *id != current)
        .collect();
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::template_crypto::TemplateKey;

    #[test]
    fn totp_keys_sealed_before_key_ids_open_and_reseal_under_the_current_id() {
        let old = TemplateKey::generate_hex();
        let key = TemplateKey::from_hex(&old).unwrap();
        let (ct, nonce) = key.seal("totp:u-1", b"JBSWY3DPEHPK3PXP");
        let v1 = format!("x1:{}:{}", hex::encode(nonce), hex::encode(ct));
        assert_eq!(totp_key_id(&v1), Some("k1"));
        let mut c = Config {
            template_key: Secret::new(TemplateKey::generate_hex()),
            template_key_id: "k2".into(),
            ..Config::default()
        };
        c.previous_template_keys
            .insert("k1".into(), Secret::new(old));
        let keys = TemplateKeys::from_config(&c).unwrap();
        assert_eq!(
            open_totp_with(&keys, "u-1", &v1).as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert_eq!(
            open_totp_with(&keys, "u-2", &v1),
            None,
            "bound to the account"
        );
        let v2 = seal_totp_with(&keys, "u-1", "JBSWY3DPEHPK3PXP");
        assert!(v2.starts_with("x2:k2:"), "{v2}");
        assert_eq!(totp_key_id(&v2), Some("k2"));
        c.previous_template_keys.clear();
        let only_new = TemplateKeys::from_config(&c).unwrap();
        assert_eq!(
            open_totp_with(&only_new, "u-1", &v2).as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert_eq!(open_totp_with(&only_new, "u-1", &v1), None);
        assert_eq!(totp_key_id("JBSWY3DPEHPK3PXP"), None, "an unsealed key");
    }
}
