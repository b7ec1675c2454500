//! Loader for TF.js weights manifests (`<model>-weights_manifest.json` + `.bin` shards).
//!
//! The `.bin` holds the tensors back to back in manifest order. A tensor with a `quantization`
//! entry takes one byte per element (value = byte·scale + min); otherwise it is little-endian
//! f32. Tensors are looked up by name and checked against the shape the network expects.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a weights file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("cannot read weights file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("weights manifest is not valid JSON: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error("tensor `{name}` has unsupported dtype `{dtype}`")]
    UnsupportedDtype { name: String, dtype: String },
    #[error("weights data truncated at tensor `{name}`: needs {needed} bytes from offset {offset}, only {available} available")]
    Truncated {
        name: String,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("weights data has {extra} unexpected bytes after the last tensor")]
    TrailingBytes { extra: usize },
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("tensor `{name}` is missing from the weights manifest")]
    Missing { name: String },
}

#[derive(Debug, Deserialize)]
struct ManifestGroup {
    paths: Vec<String>,
    weights: Vec<ManifestEntry>,
}

#[derive(Debug, Deserialize)]
struct ManifestEntry {
    name: String,
    shape: Vec<usize>,
    dtype: String,
    quantization: Option<Quantization>,
}

#[derive(Debug, Deserialize)]
struct Quantization {
    dtype: String,
    scale: f64,
    min: f64,
}

/// One dequantized tensor, row-major in the TF.js layout given by `shape`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// All tensors of one model, by name.
#[derive(Debug, Clone, Default)]
pub struct WeightMap {
    tensors: HashMap<String, WeightTensor>,
}

impl WeightMap {
    /// Reads a manifest and the `.bin` shards it names (relative to the manifest's folder).
    pub fn load(manifest_path: &Path) -> Result<Self, WeightsError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| WeightsError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let manifest = read(manifest_path)?;
        let groups: Vec<ManifestGroup> = serde_json::from_slice(&manifest)?;
        let dir = manifest_path.parent().unwrap_or(Path::new("."));
        let mut map = WeightMap::default();
        for group in &groups {
            let mut data = Vec::new();
            for p in &group.paths {
                data.extend_from_slice(&read(&dir.join(p))?);
            }
            map.decode_group(&group.weights, &data)?;
        }
        Ok(map)
    }

    /// Decodes a manifest whose shards are given already concatenated (single group).
    pub fn from_bytes(manifest: &[u8], data: &[u8]) -> Result<Self, WeightsError> {
        let groups: Vec<ManifestGroup> = serde_json::from_slice(manifest)?;
        let mut map = WeightMap::default();
        let entries: Vec<&ManifestEntry> = groups.iter().flat_map(|g| g.weights.iter()).collect();
        map.decode_entries(&entries, data)?;
        Ok(map)
    }

    fn decode_group(&mut self, entries: &[ManifestEntry], data: &[u8]) -> Result<(), WeightsError> {
        let refs: Vec<&ManifestEntry> = entries.iter().collect();
        self.decode_entries(&refs, data)
    }

    fn decode_entries(
        &mut self,
        entries: &[&ManifestEntry],
        data: &[u8],
    ) -> Result<(), WeightsError> {
        let mut offset = 0usize;
        for e in entries {
            let count: usize = e.shape.iter().product();
            // Quantized: one byte per value, dequantized in f64 and stored as f32 like TF.js.
            let quant = match (&e.quantization, e.dtype.as_str()) {
                (Some(q), "float32") if q.dtype == "uint8" => Some((q.scale, q.min)),
                (None, "float32") => None,
                (q, dtype) => {
                    return Err(WeightsError::UnsupportedDtype {
                        name: e.name.clone(),
                        dtype: match q {
                            Some(q) => format!("{dtype} quantized as {}", q.dtype),
                            None => dtype.to_string(),
                        },
                    })
                }
            };
            let bytes_per = if quant.is_some() { 1 } else { 4 };
            let needed = count * bytes_per;
            if offset + needed > data.len() {
                return Err(WeightsError::Truncated {
                    name: e.name.clone(),
                    offset,
                    needed,
                    available: data.len().saturating_sub(offset),
                });
            }
            let raw = &data[offset..offset + needed];
            let values: Vec<f32> = match quant {
                Some((scale, min)) => raw
                    .iter()
                    .map(|&v| (v as f64 * scale + min) as f32)
                    .collect(),
                None => raw
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            };
            offset += needed;
            self.tensors.insert(
                e.name.clone(),
                WeightTensor {
                    shape: e.shape.clone(),
                    data: values,
                },
            );
        }
        if offset != data.len() {
            return Err(WeightsError::TrailingBytes {
                extra: data.len() - offset,
            });
        }
        Ok(())
    }

    /// The tensor `name`, which must have exactly `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<&WeightTensor, WeightsError> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| WeightsError::Missing {
                name: name.to_string(),
            })?;
        if t.shape != shape {
            return Err(WeightsError::ShapeMismatch {
                name: name.to_string(),
                expected: shape.to_vec(),
                found: t.shape.clone(),
            });
        }
        Ok(t)
    }

    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(|s| s.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[{"paths":["m.bin"],"weights":[
        {"name":"a","shape":[2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1.0}},
        {"name":"b","shape":[1,2],"dtype":"float32"}]}]"#;

    fn data() -> Vec<u8> {
        let mut d = vec![0u8, 4u8];
        d.extend_from_slice(&1.5f32.to_le_bytes());
        d.extend_from_slice(&(-2.0f32).to_le_bytes());
        d
    }

    #[test]
    fn decodes_quantized_and_float() {
        let m = WeightMap::from_bytes(MANIFEST.as_bytes(), &data()).unwrap();
        assert_eq!(m.get("a", &[2]).unwrap().data, vec![-1.0, 1.0]);
        assert_eq!(m.get("b", &[1, 2]).unwrap().data, vec![1.5, -2.0]);
    }

    #[test]
    fn typed_errors() {
        let d = data();
        let e = WeightMap::from_bytes(MANIFEST.as_bytes(), &d[..7]).unwrap_err();
        assert!(
            matches!(e, WeightsError::Truncated { ref name, .. } if name == "b"),
            "{e}"
        );
        let mut long = d.clone();
        long.push(0);
        assert!(matches!(
            WeightMap::from_bytes(MANIFEST.as_bytes(), &long),
            Err(WeightsError::TrailingBytes { extra: 1 })
        ));
        let m = WeightMap::from_bytes(MANIFEST.as_bytes(), &d).unwrap();
        assert!(matches!(
            m.get("b", &[2, 1]),
            Err(WeightsError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            m.get("zz", &[2]),
            Err(WeightsError::Missing { .. })
        ));
        assert!(matches!(
            WeightMap::from_bytes(b"{not json", &d),
            Err(WeightsError::Manifest(_))
        ));
    }
}
