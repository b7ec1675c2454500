//! Test-only pauses at named points, for the binary's `kill -9` tests
//! (`crates/lazaret/tests/it/crash.rs`), so that a test kills a process at
//! a known point instead of racing the work: with
//! `LAZARET_CRASH_STALL=<point>` in its environment, a process logs
//! `crash hook: stalling` and blocks the calling thread for
//! `LAZARET_CRASH_STALL_SECS` (default 60) the first time it passes
//! `<point>` with at least `LAZARET_CRASH_STALL_AT` (default 0) units of
//! progress.
//!
//! Only with the `crash-hooks` feature, which only the `lazaret` crate's
//! dev-dependencies enable: in a shipped build [`stall`] is empty and no
//! variable is read.
//!
//! Points: `face` (a check-in's face work, after its try is reserved and
//! before its outcome is recorded; progress 0), `import` (`lazaret import`
//! after a batch; progress = rows read so far).

/// Stalls here when the environment names `point` (test builds only).
#[inline]
pub fn stall(point: &str, progress: u64) {
    #[cfg(feature = "crash-hooks")]
    enabled::stall(point, progress);
    #[cfg(not(feature = "crash-hooks"))]
    let _ = (point, progress);
}

#[cfg(feature = "crash-hooks")]
mod enabled {
    use std::sync::atomic::{AtomicBool, Ordering};

    static STALLED: AtomicBool = AtomicBool::new(false);

    pub fn stall(point: &str, progress: u64) {
        if std::env::var("LAZARET_CRASH_STALL").ok().as_deref() != Some(point) {
            return;
        }
        let number = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(default)
        };
        if progress < number("LAZARET_CRASH_STALL_AT", 0) || STALLED.swap(true, Ordering::SeqCst) {
            return;
        }
        let secs = number("LAZARET_CRASH_STALL_SECS", 60);
        tracing::warn!(point, progress, secs, "crash hook: stalling (test build)");
        std::thread::sleep(std::time::Duration::from_secs(secs));
    }
}
