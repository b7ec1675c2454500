//! axe-core, the accessibility checker, fetched at test time like the face
//! models: `npm pack` of a pinned version, checked against the registry's
//! integrity, `axe.min.js` kept under `target/axe-core/`. [`check`] runs it
//! in a page and returns the serious and critical violations.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha512};

use super::Session;

const PACKAGE: &str = "axe-core@4.10.3";
const TARBALL: &str = "axe-core-4.10.3.tgz";
/// The registry's `dist.integrity` of the tarball.
const INTEGRITY: &str =
    "sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg==";

fn cache_dir() -> PathBuf {
    super::screenshot_dir()
        .parent()
        .expect("the target directory")
        .join("axe-core")
}

fn fail_or_skip(why: String) -> Option<String> {
    if std::env::var_os("CI").is_some() {
        panic!("CI: axe-core is required: {why}");
    }
    eprintln!("SKIPPED: the accessibility check: {why}");
    None
}

/// The source of `axe.min.js`, fetched once; None (SKIPPED) when npm or
/// the registry cannot be reached, except under CI where that fails.
pub fn source() -> Option<String> {
    let dir = cache_dir();
    let script = dir.join("axe.min.js");
    let tarball = dir.join(TARBALL);
    if !script.is_file() {
        std::fs::create_dir_all(&dir).unwrap();
        if !tarball.is_file() {
            let out = match Command::new("npm")
                .args(["pack", PACKAGE, "--silent", "--pack-destination"])
                .arg(&dir)
                .output()
            {
                Ok(o) => o,
                Err(e) => return fail_or_skip(format!("npm: {e}")),
            };
            if !out.status.success() {
                return fail_or_skip(format!(
                    "npm pack {PACKAGE}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let bytes = std::fs::read(&tarball).unwrap();
        let got = format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
        );
        if got != INTEGRITY {
            let _ = std::fs::remove_file(&tarball);
            panic!("{TARBALL} does not match its pinned integrity ({got})");
        }
        let status = Command::new("tar")
            .args(["-xzf"])
            .arg(&tarball)
            .arg("-C")
            .arg(&dir)
            .args(["--strip-components=1", "package/axe.min.js"])
            .status()
            .expect("tar");
        assert!(status.success(), "extracting axe.min.js");
    }
    Some(std::fs::read_to_string(&script).unwrap())
}

/// Injects axe into the page (through WebDriver, which the page's CSP does
/// not govern) and runs it; the serious and critical violations, each as
/// `rule: target…`.
pub async fn check(b: &Session<'_>, axe: &str) -> Vec<String> {
    let loaded = b
        .exec(&format!("{axe}\n;return typeof window.axe;"), json!([]))
        .await;
    assert_eq!(loaded, "object", "axe loaded");
    let v = b
        .exec_async(
            "var done = arguments[arguments.length - 1];\
             window.axe.run(document, { resultTypes: ['violations'] }).then(function (r) {\
               done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })\
                 .map(function (v) { return v.id + ' (' + v.impact + '): ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); }));\
             }, function (e) { done(['axe failed: ' + e]); });",
            json!([]),
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
}
