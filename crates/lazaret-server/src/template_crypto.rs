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

    /// Key material for the prompt schedule, separate from the AEAD key.
    pub fn schedule_secret(&self) -> Vec<u8> {
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
