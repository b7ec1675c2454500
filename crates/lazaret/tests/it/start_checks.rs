//! What `serve` checks before it listens (issue #15): the face models are fetched
//! beforehand (`lazaret models fetch`), never by the server; a simulated clock never
//! runs on a database with real data; and `lazaret keys` around a key rotation.

use crate::support::{listening_on, stdout_lines, KEY};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn lazaret(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lazaret"));
    c.env_remove("LAZARET_DATABASE_URL")
        .env_remove("LAZARET_MODELS_DIR")
        .env("NO_COLOR", "1")
        .current_dir(dir);
    c
}

/// Runs `serve` expecting it to stop by itself (a refusal); kills it after 30 s.
fn serve_refused(mut cmd: Command) -> Output {
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let exited = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        exited,
        "serve started: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());
    out
}

/// Starts `serve`, waits until it listens, then stops it.
fn serve_starts(mut cmd: Command) {
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = stdout_lines(&mut child);
    let _ = listening_on(&lines);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn serve_needs_fetched_models_unless_face_work_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("no-models");
    std::fs::create_dir(&models).unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let mut cmd = lazaret(dir.path());
    cmd.env("LAZARET_MODELS_DIR", &models)
        .env("LAZARET_TEMPLATE_KEY", KEY)
        .env("PATH", "/nonexistent")
        .args(["--db", &db]);
    let out = serve_refused(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("face models are not in") && stderr.contains("lazaret models fetch"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&models).unwrap().count(),
        0,
        "nothing fetched"
    );

    let mut cmd = lazaret(dir.path());
    cmd.env("LAZARET_MODELS_DIR", &models)
        .env("LAZARET_FACE__ENABLED", "false")
        .args(["--db", &db]);
    serve_starts(cmd);
}

#[test]
fn a_simulated_clock_will_not_serve_a_database_that_served_real_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let mut cmd = lazaret(dir.path());
    cmd.env("LAZARET_FACE__ENABLED", "false")
        .args(["--db", &db]);
    serve_starts(cmd);
    let mut cmd = lazaret(dir.path());
    cmd.env("LAZARET_FACE__ENABLED", "false")
        .env("LAZARET_CLOCK__MODE", "simulated")
        .env("LAZARET_CLOCK__START", "2026-03-10T06:00:00Z")
        .args(["--db", &db]);
    let out = serve_refused(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds real data"), "{stderr}");
}

#[test]
fn keys_commands_guide_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("k.db").display());
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = lazaret(dir.path());
        c.env("LAZARET_TEMPLATE_KEY", KEY)
            .args(["--db", &db])
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = run(&[], &["keys", "schedule-key"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let schedule = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(schedule.len(), 64, "{schedule}");
    let new_key = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
    let rotating = [
        ("LAZARET_TEMPLATE_KEY", new_key),
        ("LAZARET_TEMPLATE_KEY_ID", "k2"),
        ("LAZARET_PREVIOUS_TEMPLATE_KEYS__K1", KEY),
    ];
    // Rotating without the schedule pinned would move every prompt: refused.
    let out = run(&rotating, &["keys", "rotate"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("prompt_schedule_key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pinned = rotating.to_vec();
    pinned.push(("LAZARET_PROMPT_SCHEDULE_KEY", &schedule));
    let out = run(&pinned, &["keys", "rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("re-sealed 0") && stdout.contains("may now be removed"),
        "{stdout}"
    );
}
