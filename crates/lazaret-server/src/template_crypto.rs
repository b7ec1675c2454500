//! Face templates encrypted at rest with XChaCha20-Poly1305.
//!
//! The order id is the associated data, so a ciphertext copied onto another
//! order's row fails to decrypt instead of verifying the wrong person.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TemplateKeyError {
    #[error("no template key is configured (set template_key to 64 hex digits)")]
    Missing,
    #[error("template_key must be 64 hex digits (32 bytes)")]
    Malformed,
    #[error("a stored template could not be decrypted (wrong key or tampered row)")]
    Undecryptable,
    /// A value sealed with a key whose id the configuration does not hold.
    #[error("a stored value is sealed with template key {0:?}, which is not configured (template_key_id or previous_template_keys)")]
    UnknownKeyId(String),
    #[error("prompt_schedule_key must be 64 hex digits (32 bytes)")]
    MalformedScheduleKey,
}

/// A value sealed by [`TemplateKeys::seal`]: which key, and what to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
}

/// The configured template keys: the current one, which seals, and earlier
/// ones by id, which only open (while `lazaret keys rotate` re-seals their
/// values under the current key).
pub struct TemplateKeys {
    current_id: String,
    current: TemplateKey,
    previous: Vec<(String, TemplateKey)>,
}

impl TemplateKeys {
    /// The keys of a configuration (`template_key`, `template_key_id`,
    /// `previous_template_keys`).
    pub fn from_config(c: &crate::config::Config) -> Result<Self, TemplateKeyError> {
        let current = TemplateKey::from_hex(c.template_key.expose())?;
        let previous = c
            .previous_template_keys
            .iter()
            .map(|(id, k)| Ok((id.clone(), TemplateKey::from_hex(k.expose())?)))
            .collect::<Result<_, TemplateKeyError>>()?;
        Ok(Self {
            current_id: c.template_key_id.clone(),
            current,
            previous,
        })
    }

    /// The id new values are sealed under.
    pub fn current_id(&self) -> &str {
        &self.current_id
    }

    /// Whether a key with this id is configured.
    pub fn knows(&self, key_id: &str) -> bool {
        self.key(key_id).is_some()
    }

    fn key(&self, key_id: &str) -> Option<&TemplateKey> {
        if key_id == self.current_id {
            return Some(&self.current);
        }
        self.previous
            .iter()
            .find(|(id, _)| id == key_id)
            .map(|(_, k)| k)
    }

    /// Seals under the current key.
    pub fn seal(&self, aad: &str, plain: &[u8]) -> Sealed {
        let (ciphertext, nonce) = self.current.seal(aad, plain);
        Sealed {
            key_id: self.current_id.clone(),
            ciphertext,
            nonce,
        }
    }

    /// Opens a value sealed under `key_id`, the current key or a previous one.
    pub fn open(
        &self,
        key_id: &str,
        aad: &str,
        ciphertext: &[u8],
        nonce: &[u8],
    ) -> Result<Vec<u8>, TemplateKeyError> {
        self.key(key_id)
            .ok_or_else(|| TemplateKeyError::UnknownKeyId(key_id.to_owned()))?
            .open(aad, ciphertext, nonce)
    }
}

/// The prompt schedule's secret: `prompt_schedule_key` when set; otherwise
/// the value it had before it was a key of its own (derived from the
/// current `template_key`, so that an upgrade moves no prompt).
pub fn schedule_secret(c: &crate::config::Config) -> Result<Vec<u8>, TemplateKeyError> {
    let own = c.prompt_schedule_key.expose().trim();
    if !own.is_empty() {
        let bytes = hex::decode(own).map_err(|_| TemplateKeyError::MalformedScheduleKey)?;
        if bytes.len() != 32 {
            return Err(TemplateKeyError::MalformedScheduleKey);
        }
        return Ok(bytes);
    }
    Ok(TemplateKey::from_hex(c.template_key.expose())?.legacy_schedule_secret())
}

/// The key that seals and opens templates.
pub struct TemplateKey {
    cipher: XChaCha20Poly1305,
    raw: [u8; 32],
}

impl TemplateKey {
    /// Parses the configured hex key.
    pub fn from_hex(hex_key: &str) -> Result<Self, TemplateKeyError> {
        if hex_key.is_empty() {
            return Err(TemplateKeyError::Missing);
        }
        let bytes = hex::decode(hex_key.trim()).map_err(|_| TemplateKeyError::Malformed)?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| TemplateKeyError::Malformed)?;
        Ok(Self {
            cipher: XChaCha20Poly1305::new((&raw).into()),
            raw,
        })
    }

    /// A fresh random key as hex (for `demo` and first-time setup).
    pub fn generate_hex() -> String {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        hex::encode(k)
    }

    /// Encrypts; returns (ciphertext, nonce).
    pub fn seal(&self, order_id: &str, plain: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: order_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of a small buffer cannot fail");
        (ct, nonce.to_vec())
    }

    pub fn open(
        &self,
        order_id: &str,
        ciphertext: &[u8],
        nonce: &[u8],
    ) -> Result<Vec<u8>, TemplateKeyError> {
        if nonce.len() != 24 {
            return Err(TemplateKeyError::Undecryptable);
        }
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: order_id.as_bytes(),
                },
            )
            .map_err(|_| TemplateKeyError::Undecryptable)
    }

    /// The prompt schedule's secret as it was derived from the template key
    /// before `prompt_schedule_key` existed (see [`schedule_secret`]).
    pub fn legacy_schedule_secret(&self) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"lazaret prompt schedule v1");
        h.update(self.raw);
        h.finalize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_seals_under_the_current_id_and_opens_previous_ones() {
        let old = TemplateKey::generate_hex();
        let mut c = crate::config::Config {
            template_key: crate::config::Secret::new(old.clone()),
            ..Default::default()
        };
        let before = TemplateKeys::from_config(&c).unwrap();
        let s1 = before.seal("o-1", b"t");
        assert_eq!(s1.key_id, "k1");
        let schedule_before = schedule_secret(&c).unwrap();

        c.template_key = crate::config::Secret::new(TemplateKey::generate_hex());
        c.template_key_id = "k2".into();
        c.previous_template_keys
            .insert("k1".into(), crate::config::Secret::new(old));
        let ring = TemplateKeys::from_config(&c).unwrap();
        assert_eq!(
            ring.open("k1", "o-1", &s1.ciphertext, &s1.nonce).unwrap(),
            b"t"
        );
        let s2 = ring.seal("o-1", b"u");
        assert_eq!(s2.key_id, "k2");
        assert!(matches!(
            ring.open("k1", "o-1", &s2.ciphertext, &s2.nonce),
            Err(TemplateKeyError::Undecryptable)
        ));
        assert!(matches!(
            ring.open("k9", "o-1", &s2.ciphertext, &s2.nonce),
            Err(TemplateKeyError::UnknownKeyId(id)) if id == "k9"
        ));
        // Without a key of its own the schedule follows the template key...
        assert_ne!(schedule_secret(&c).unwrap(), schedule_before);
        // ...and pinned to the value it had, rotation moves no prompt.
        c.prompt_schedule_key = crate::config::Secret::new(hex::encode(&schedule_before));
        assert_eq!(schedule_secret(&c).unwrap(), schedule_before);
    }

    #[test]
    fn seal_open_and_refuse_tampering() {
        let k = TemplateKey::from_hex(&TemplateKey::generate_hex()).unwrap();
        let (ct, nonce) = k.seal("order-1", b"template bytes");
        assert_ne!(&ct[..], b"template bytes");
        assert_eq!(k.open("order-1", &ct, &nonce).unwrap(), b"template bytes");
        assert!(
            k.open("order-2", &ct, &nonce).is_err(),
            "bound to its order"
        );
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(k.open("order-1", &bad, &nonce).is_err());
        let other = TemplateKey::from_hex(&TemplateKey::generate_hex()).unwrap();
        assert!(other.open("order-1", &ct, &nonce).is_err());
        assert!(matches!(
            TemplateKey::from_hex(""),
            Err(TemplateKeyError::Missing)
        ));
        assert!(matches!(
            TemplateKey::from_hex("abcd"),
            Err(TemplateKeyError::Malformed)
        ));
    }
}
