//! `lazaret serve` runs the background worker beside the API and stops both
//! cleanly on SIGTERM; `worker.enabled = false` gives an API-only instance.

use crate::support::{listening_on, stdout_lines, KEY};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Starts `serve` with `env`, waits until stderr shows every line of
/// `expect`, sends SIGTERM and returns the exit status with all of stderr.
fn serve_until(env: &[(&str, &str)], expect: &[&str]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lazaret"));
    cmd.env_remove("LAZARET_DATABASE_URL")
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = stdout_lines(&mut child);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = tx.send(std::mem::take(&mut line));
        }
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        let _ = tx.send(rest);
    });
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !expect.iter().all(|e| log.contains(e)) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => log.push_str(&l),
            Err(_) => {
                let _ = child.kill();
                panic!("serve never logged {expect:?}:\n{log}");
            }
        }
    }
    let (base, _) = listening_on(&stdout);
    let addr = base.trim_start_matches("http://");
    // Serving requests means the shutdown signal handler is installed.
    assert!(healthz_ok(addr), "serve never answered /healthz:\n{log}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop on SIGTERM:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(2)) {
        log.push_str(&l);
    }
    (status, log)
}

fn healthz_ok(addr: &str) -> bool {
    use std::io::Write;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut c) = std::net::TcpStream::connect(addr) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = c.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut resp = String::new();
            let _ = c.read_to_string(&mut resp);
            if resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn serve_runs_the_worker_warns_without_senders_and_stops_on_sigterm() {
    let (status, log) = serve_until(
        &[
            ("LAZARET_TEMPLATE_KEY", KEY),
            ("LAZARET_WORKER__INTERVAL_SECS", "1"),
        ],
        &[
            "background worker started",
            "no notification sender configured",
        ],
    );
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("shut down cleanly"), "{log}");
    assert_eq!(
        log.matches("no notification sender configured").count(),
        1,
        "warned once:\n{log}"
    );
}

#[test]
fn serve_without_the_worker_is_api_only() {
    let (status, log) = serve_until(
        &[
            ("LAZARET_TEMPLATE_KEY", KEY),
            ("LAZARET_WORKER__ENABLED", "false"),
        ],
        &["background worker disabled", "serving"],
    );
    assert!(status.success(), "{status:?}\n{log}");
    assert!(!log.contains("background worker started"), "{log}");
}

#[test]
fn a_bad_notification_setting_stops_serve_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_lazaret"))
        .env_remove("LAZARET_DATABASE_URL")
        .env("LAZARET_TEMPLATE_KEY", KEY)
        .env("LAZARET_NOTIFY__SMS__WEBHOOK_URL", "not a url")
        .current_dir(dir.path())
        .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // Refused when the configuration loads, naming the section and the field.
    assert!(
        err.contains("[notify.sms]") && err.contains("webhook_url"),
        "{err}"
    );
}
