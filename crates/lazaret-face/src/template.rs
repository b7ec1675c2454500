//! The enrolled template: one descriptor plus the model tag that made it. Serialised to a
//! small versioned binary for others to encrypt and store; no photo is kept.

use serde::{Deserialize, Serialize};

use crate::error::FaceError;
use crate::recognition::DESCRIPTOR_LEN;

const MAGIC: &[u8; 4] = b"LZFT";
pub const TEMPLATE_VERSION: u16 = 1;

/// A face template. Compare it only with the frames of the same person's check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub version: u16,
    /// Which networks and alignment produced the descriptor; templates from another model
    /// are refused instead of silently compared.
    pub model: String,
    pub descriptor: Vec<f32>,
}

impl Template {
    /// `LZFT`, version (u16 LE), model tag length (u8) and bytes, 128 × f32 LE.
    pub fn to_bytes(&self) -> Vec<u8> {
        let tag = self.model.as_bytes();
        let mut out = Vec::with_capacity(7 + tag.len() + 4 * self.descriptor.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.push(tag.len().min(255) as u8);
        out.extend_from_slice(&tag[..tag.len().min(255)]);
        for v in &self.descriptor {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, FaceError> {
        let bad = |m: &str| FaceError::BadTemplate(m.to_string());
        if b.len() < 7 || &b[..4] != MAGIC {
            return Err(bad("not a lazaret face template"));
        }
        let version = u16::from_le_bytes([b[4], b[5]]);
        if version != TEMPLATE_VERSION {
            return Err(FaceError::BadTemplate(format!(
                "unsupported template version {version}"
            )));
        }
        let n = b[6] as usize;
        let rest = &b[7..];
        if rest.len() != n + 4 * DESCRIPTOR_LEN {
            return Err(bad("wrong template length"));
        }
        let model = std::str::from_utf8(&rest[..n])
            .map_err(|_| bad("model tag is not UTF-8"))?
            .to_string();
        let descriptor: Vec<f32> = rest[n..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if descriptor.iter().any(|v| !v.is_finite()) {
            return Err(bad("descriptor has non-finite values"));
        }
        Ok(Template {
            version,
            model,
            descriptor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_rejects_garbage() {
        let t = Template {
            version: TEMPLATE_VERSION,
            model: "m".into(),
            descriptor: (0..128).map(|i| i as f32 / 7.0).collect(),
        };
        let b = t.to_bytes();
        assert_eq!(Template::from_bytes(&b).unwrap(), t);
        assert!(Template::from_bytes(&b[..b.len() - 1]).is_err());
        assert!(Template::from_bytes(b"LZFX").is_err());
        let mut nan = b.clone();
        let n = nan.len();
        nan[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(Template::from_bytes(&nan).is_err());
    }
}
