//! What the binary's test modules share.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A template-encryption key for the `serve` processes (32 bytes in hex).
pub const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// What `serve` and `demo` print on stdout once bound, before the address.
pub const LISTENING: &str = "Lazaret is listening on ";

/// The lines `child` prints on its (piped) stdout, read on a thread of their own so the
/// process never blocks on a full pipe.
pub fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The base URL (`http://127.0.0.1:PORT`) that a `serve` or `demo` process started with
/// `--listen 127.0.0.1:0` announced on stdout; the lines before it are returned too.
/// The port is the one it holds: nothing can take it between bind and use.
pub fn listening_on(lines: &mpsc::Receiver<String>) -> (String, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut before = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => match l.strip_prefix(LISTENING) {
                Some(base) => return (base.trim().to_owned(), before),
                None => before.push(l),
            },
            Err(e) => panic!("no `{LISTENING}…` line on stdout ({e}); it printed {before:?}"),
        }
    }
}
