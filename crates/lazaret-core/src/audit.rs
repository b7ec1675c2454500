//! Tamper-evident audit events: each event's hash covers its content, its
//! sequence number and the previous event's hash, so editing, deleting or
//! reordering any past event breaks the chain from there on.
//!
//! Since the chain was keyed, each link is an HMAC-SHA-256 under
//! `audit_key`, a secret kept outside the database: someone who can write
//! the database but does not hold the key cannot recompute the links after
//! an edit. Events written before a database first met the key keep their
//! plain SHA-256 links (see [`AuditRecord::legacy_hash`]); the store records
//! the first keyed `seq` (`audit_head.keyed_from`).

use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Who did something: an officer token, the system itself, or a person
/// acting through their own link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Hash of the first event's predecessor.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest free-text reason an officer may write into the chain (extend,
/// release, resolve, reject, revise): the chain is immutable, so it must
/// not become a place to store documents (security review L10).
pub const MAX_REASON_CHARS: usize = 1000;

/// Refuses a free-text reason longer than [`MAX_REASON_CHARS`]; `field`
/// names it in the message.
pub fn check_reason(field: &str, reason: &str) -> Result<(), crate::error::ValidationError> {
    let n = reason.trim().chars().count();
    if n > MAX_REASON_CHARS {
        return Err(crate::error::ValidationError::new(
            field,
            format!("is {n} characters long; at most {MAX_REASON_CHARS} are kept in the audit log"),
        ));
    }
    Ok(())
}

/// The HMAC key of the chain: at least 32 bytes, given as hex.
#[derive(Clone)]
pub struct AuditKey(Vec<u8>);

/// Shortest key accepted, in bytes.
pub const MIN_AUDIT_KEY_BYTES: usize = 32;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("must be at least {MIN_AUDIT_KEY_BYTES} bytes written as hex (64 hex digits or more)")]
pub struct AuditKeyError;

impl AuditKey {
    pub fn from_hex(s: &str) -> Result<Self, AuditKeyError> {
        let bytes = hex::decode(s.trim()).map_err(|_| AuditKeyError)?;
        if bytes.len() < MIN_AUDIT_KEY_BYTES {
            return Err(AuditKeyError);
        }
        Ok(Self(bytes))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length; the constructor cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }

    /// The signature of a checkpoint line: the head `(seq, hash)` at a
    /// moment, under a label of its own so no chain link can pass for one.
    pub fn checkpoint_mac(&self, seq: i64, hash: &str) -> String {
        let mut m = self.mac();
        for part in ["lazaret-audit-checkpoint-v1", &seq.to_string(), hash] {
            m.update(&(part.len() as u64).to_le_bytes());
            m.update(part.as_bytes());
        }
        hex::encode(m.finalize().into_bytes())
    }

    /// Whether `mac` signs `(seq, hash)`, compared in constant time.
    pub fn checkpoint_ok(&self, seq: i64, hash: &str, mac: &str) -> bool {
        let Ok(given) = hex::decode(mac) else {
            return false;
        };
        let mut m = self.mac();
        for part in ["lazaret-audit-checkpoint-v1", &seq.to_string(), hash] {
            m.update(&(part.len() as u64).to_le_bytes());
            m.update(part.as_bytes());
        }
        m.verify_slice(&given).is_ok()
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey([redacted])")
    }
}

/// The fields of an event before it is chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub details: String,
}

impl AuditRecord {
    fn parts<'a>(&'a self, at: &'a str) -> [&'a str; 6] {
        [
            at,
            &self.actor,
            &self.action,
            &self.subject_type,
            &self.subject_id,
            &self.details,
        ]
    }

    /// The unkeyed link of events written before the chain was keyed:
    /// SHA-256 over the previous hash and the fields, length-prefixed so no
    /// two different records hash alike. Kept to verify old events only.
    pub fn legacy_hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        let at = self.at.timestamp_millis().to_string();
        for part in std::iter::once(prev_hash).chain(self.parts(&at)) {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The keyed link: HMAC-SHA-256 under `key` over a version label, `seq`,
    /// the previous hash and the fields (length-prefixed). Covering `seq`
    /// means an event cannot be moved to another place in the chain.
    pub fn keyed_hash(&self, key: &AuditKey, seq: i64, prev_hash: &str) -> String {
        let mut m = key.mac();
        let at = self.at.timestamp_millis().to_string();
        let seq = seq.to_string();
        for part in ["lazaret-audit-v1", &seq, prev_hash]
            .into_iter()
            .chain(self.parts(&at))
        {
            m.update(&(part.len() as u64).to_le_bytes());
            m.update(part.as_bytes());
        }
        hex::encode(m.finalize().into_bytes())
    }
}

impl AuditEvent {
    pub fn record(&self) -> AuditRecord {
        AuditRecord {
            at: self.at,
            actor: self.actor.clone(),
            action: self.action.clone(),
            subject_type: self.subject_type.clone(),
            subject_id: self.subject_id.clone(),
            details: self.details.clone(),
        }
    }
}

/// The first thing found wrong in a chain: which entry, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainFault {
    pub seq: i64,
    pub what: String,
}

impl fmt::Display for ChainFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry seq {}: {}", self.seq, self.what)
    }
}

/// Walks a chain in `seq` order, one event at a time (so a long chain is
/// read in pages): sequence continuity, the link to the previous event, and
/// each event's own hash — keyed from `keyed_from` on, SHA-256 before.
#[derive(Debug)]
pub struct ChainVerifier<'k> {
    key: Option<&'k AuditKey>,
    keyed_from: Option<i64>,
    next_seq: i64,
    prev_hash: String,
}

impl<'k> ChainVerifier<'k> {
    /// `keyed_from`: the first keyed `seq` (`None`: the chain was never
    /// keyed). Keyed events need `key`; without it they count as broken.
    pub fn new(key: Option<&'k AuditKey>, keyed_from: Option<i64>) -> Self {
        Self {
            key,
            keyed_from,
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }

    /// The `seq` the next event must have.
    pub fn next_seq(&self) -> i64 {
        self.next_seq
    }

    /// The hash of the last event accepted (the genesis hash before any).
    pub fn last_hash(&self) -> &str {
        &self.prev_hash
    }

    pub fn check(&mut self, e: &AuditEvent) -> Result<(), ChainFault> {
        let fault = |seq: i64, what: String| Err(ChainFault { seq, what });
        if e.seq > self.next_seq {
            let what = if e.seq == self.next_seq + 1 {
                "missing (deleted): the chain goes on at the next seq".to_owned()
            } else {
                format!(
                    "missing (deleted), with every entry up to seq {}",
                    e.seq - 1
                )
            };
            return fault(self.next_seq, what);
        }
        if e.seq < self.next_seq {
            return fault(
                e.seq,
                format!("out of order: expected seq {}", self.next_seq),
            );
        }
        if e.prev_hash != self.prev_hash {
            return fault(
                e.seq,
                "its link does not match the previous entry's hash (an entry before it was \
                 replaced, or entries were reordered)"
                    .to_owned(),
            );
        }
        let keyed = self.keyed_from.is_some_and(|k| e.seq >= k);
        let want = match (keyed, self.key) {
            (true, Some(key)) => e.record().keyed_hash(key, e.seq, &self.prev_hash),
            (true, None) => {
                return fault(
                    e.seq,
                    "the entry is keyed and no audit_key was given".to_owned(),
                )
            }
            (false, _) => e.record().legacy_hash(&self.prev_hash),
        };
        if want != e.hash {
            return fault(
                e.seq,
                "its content does not match its hash (edited, or written without the key)"
                    .to_owned(),
            );
        }
        self.prev_hash = e.hash.clone();
        self.next_seq += 1;
        Ok(())
    }
}

/// Checks a whole chain held in memory (tests, small exports); returns the
/// `seq` of the first bad entry, or `None` when the chain is intact.
pub fn first_broken_link(
    key: Option<&AuditKey>,
    keyed_from: Option<i64>,
    events: &[AuditEvent],
) -> Option<i64> {
    let mut v = ChainVerifier::new(key, keyed_from);
    events.iter().find_map(|e| v.check(e).err()).map(|f| f.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    /// `n` events, keyed from `keyed_from` on.
    fn chain(n: usize, keyed_from: Option<i64>) -> Vec<AuditEvent> {
        let key = key();
        let mut prev = GENESIS_HASH.to_owned();
        (0..n)
            .map(|i| {
                let seq = i as i64 + 1;
                let r = AuditRecord {
                    at: DateTime::from_timestamp_millis(1_700_000_000_000 + i as i64).unwrap(),
                    actor: "token:abc".into(),
                    action: "person.read".into(),
                    subject_type: "person".into(),
                    subject_id: format!("P{i}"),
                    details: String::new(),
                };
                let hash = match keyed_from {
                    Some(k) if seq >= k => r.keyed_hash(&key, seq, &prev),
                    _ => r.legacy_hash(&prev),
                };
                let e = AuditEvent {
                    seq,
                    at: r.at,
                    actor: r.actor,
                    action: r.action,
                    subject_type: r.subject_type,
                    subject_id: r.subject_id,
                    details: r.details,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn intact_chains_verify_legacy_keyed_and_mixed() {
        let k = key();
        assert_eq!(first_broken_link(None, None, &chain(5, None)), None);
        assert_eq!(
            first_broken_link(Some(&k), Some(1), &chain(5, Some(1))),
            None
        );
        assert_eq!(
            first_broken_link(Some(&k), Some(3), &chain(5, Some(3))),
            None
        );
    }

    #[test]
    fn edited_event_breaks_chain() {
        let k = key();
        for keyed_from in [None, Some(1)] {
            let mut c = chain(5, keyed_from);
            c[2].subject_id = "P99".into();
            assert_eq!(first_broken_link(Some(&k), keyed_from, &c), Some(3));
        }
    }

    #[test]
    fn deleted_event_is_named() {
        let mut c = chain(5, Some(1));
        c.remove(1);
        let k = key();
        let mut v = ChainVerifier::new(Some(&k), Some(1));
        let fault = c.iter().find_map(|e| v.check(e).err()).unwrap();
        assert_eq!(fault.seq, 2);
        assert!(fault.what.contains("missing"), "{fault}");
    }

    #[test]
    fn keyed_events_cannot_be_recomputed_without_the_key() {
        let mut c = chain(3, Some(1));
        // An attacker without the key edits and re-links with SHA-256.
        c[1].subject_id = "P99".into();
        c[1].hash = c[1].record().legacy_hash(&c[1].prev_hash);
        c[2].prev_hash = c[1].hash.clone();
        c[2].hash = c[2].record().legacy_hash(&c[2].prev_hash);
        assert_eq!(first_broken_link(Some(&key()), Some(1), &c), Some(2));
        // Nor with another key.
        let other = AuditKey::from_hex(&"cd".repeat(32)).unwrap();
        assert_eq!(
            first_broken_link(Some(&other), Some(1), &chain(3, Some(1))),
            Some(1)
        );
    }

    #[test]
    fn the_hash_covers_seq() {
        let c = chain(2, Some(1));
        let r = c[1].record();
        assert_ne!(
            r.keyed_hash(&key(), 2, &c[1].prev_hash),
            r.keyed_hash(&key(), 3, &c[1].prev_hash)
        );
    }

    #[test]
    fn keys_are_hex_of_at_least_32_bytes() {
        assert!(AuditKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(AuditKey::from_hex(&"ab".repeat(48)).is_ok());
        assert_eq!(
            AuditKey::from_hex(&"ab".repeat(31)).unwrap_err(),
            AuditKeyError
        );
        assert!(AuditKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(!format!("{:?}", key()).contains("ab"));
    }

    #[test]
    fn checkpoint_macs_verify_and_refuse_changes() {
        let k = key();
        let mac = k.checkpoint_mac(7, "abc");
        assert!(k.checkpoint_ok(7, "abc", &mac));
        assert!(!k.checkpoint_ok(8, "abc", &mac));
        assert!(!k.checkpoint_ok(7, "abd", &mac));
        assert!(!k.checkpoint_ok(7, "abc", "zz"));
    }

    #[test]
    fn long_reasons_are_refused() {
        assert!(check_reason("reason", &"x".repeat(MAX_REASON_CHARS)).is_ok());
        let e = check_reason("reason", &"é".repeat(MAX_REASON_CHARS + 1)).unwrap_err();
        assert_eq!(e.field, "reason");
        assert!(e.reason.contains("1001 characters"), "{e}");
    }
}
