//! Tamper-evident audit events: each event's hash covers its content and the
//! previous event's hash, so editing or deleting any past event breaks the
//! chain from there on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// The chained hash of this record after `prev_hash`. Fields are
    /// length-prefixed so no two different records hash alike.
    pub fn chain_hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        for part in [
            prev_hash,
            &self.at.timestamp_millis().to_string(),
            &self.actor,
            &self.action,
            &self.subject_type,
            &self.subject_id,
            &self.details,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
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

/// Checks a chain of events in `seq` order; returns the `seq` of the first
/// event whose hash does not match, or `None` when the chain is intact.
pub fn first_broken_link(events: &[AuditEvent]) -> Option<i64> {
    let mut prev = GENESIS_HASH.to_owned();
    for e in events {
        if e.prev_hash != prev || e.record().chain_hash(&prev) != e.hash {
            return Some(e.seq);
        }
        prev = e.hash.clone();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (0..n)
            .map(|i| {
                let r = AuditRecord {
                    at: DateTime::from_timestamp_millis(1_700_000_000_000 + i as i64).unwrap(),
                    actor: "token:abc".into(),
                    action: "person.read".into(),
                    subject_type: "person".into(),
                    subject_id: format!("P{i}"),
                    details: String::new(),
                };
                let hash = r.chain_hash(&prev);
                let e = AuditEvent {
                    seq: i as i64 + 1,
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
    fn intact_chain_verifies() {
        assert_eq!(first_broken_link(&chain(5)), None);
    }

    #[test]
    fn edited_event_breaks_chain() {
        let mut c = chain(5);
        c[2].subject_id = "P99".into();
        assert_eq!(first_broken_link(&c), Some(3));
    }

    #[test]
    fn deleted_event_breaks_chain() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(first_broken_link(&c), Some(3));
    }
}
