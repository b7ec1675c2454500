//! Order and bounds for login attempts in one process.
//!
//! The failure counts that lock an account or a client address live in the
//! database and are read before the password is checked. Attempts sent in
//! parallel would all read the count before any of them recorded its
//! failure, and so try far more passwords than the limit allows. The gate
//! runs the attempts on one account, and those from one address, one after
//! the other, so each reads the count its predecessors left. (Several
//! server instances on one PostgreSQL database each have their own gate:
//! parallel attempts then get at most one extra try per instance.)
//!
//! Password hashing takes 19 MiB and tens of milliseconds of CPU per call;
//! `hashing_permit` bounds how many run at once, so a burst of logins
//! queues instead of exhausting memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Semaphore, SemaphorePermit};

/// At most this many password hashes are computed at once (4 × 19 MiB).
const HASHING_AT_ONCE: usize = 4;

static HASHING: Semaphore = Semaphore::const_new(HASHING_AT_ONCE);

/// Waits for a turn to hash a password; hold the permit while hashing.
pub(crate) async fn hashing_permit() -> SemaphorePermit<'static> {
    HASHING
        .acquire()
        .await
        .expect("the hashing semaphore is never closed")
}

type Turn = Arc<tokio::sync::Mutex<()>>;

/// The attempts in flight, by account name and by client address.
#[derive(Default)]
pub struct LoginGate {
    turns: Mutex<HashMap<String, Turn>>,
}

impl std::fmt::Debug for LoginGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGate").finish_non_exhaustive()
    }
}

/// The right to judge one attempt; the next attempt on the same account or
/// from the same address waits until this is dropped.
pub struct Pass<'a> {
    gate: &'a LoginGate,
    keys: [String; 2],
    guards: Vec<tokio::sync::OwnedMutexGuard<()>>,
}

impl LoginGate {
    /// Waits until no other attempt on `username` (compared without case)
    /// or from `address` is being judged in this process.
    pub async fn enter(&self, username: &str, address: &str) -> Pass<'_> {
        // Always the account first, then the address: two attempts never
        // wait on each other in opposite orders.
        let keys = [
            format!("user:{}", username.trim().to_lowercase()),
            format!("address:{address}"),
        ];
        let mut guards = Vec::with_capacity(2);
        for key in &keys {
            let turn = {
                let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
                turns.entry(key.clone()).or_default().clone()
            };
            guards.push(turn.lock_owned().await);
        }
        Pass {
            gate: self,
            keys,
            guards,
        }
    }

    /// How many keys are held or waited on (for tests: nothing is left
    /// behind once the attempts end).
    pub fn in_flight(&self) -> usize {
        self.turns.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.guards.clear();
        let mut turns = self.gate.turns.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            // Only the map holds it: nobody holds or waits for this turn.
            if turns.get(key).is_some_and(|t| Arc::strong_count(t) == 1) {
                turns.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn attempts_on_one_account_or_address_run_one_at_a_time() {
        let gate = Arc::new(LoginGate::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (gate, inside, most) = (gate.clone(), inside.clone(), most.clone());
            // Half share the account (in other cases), half the address.
            let (user, address) = if i % 2 == 0 {
                (format!("Alice{}", " ".repeat(i % 3)), format!("10.0.0.{i}"))
            } else {
                (format!("user{i}"), "10.0.0.99".to_owned())
            };
            tasks.push(tokio::spawn(async move {
                let _pass = gate.enter(&user, &address).await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // At most one "alice" attempt and one "10.0.0.99" attempt at a time.
        assert!(most.load(Ordering::SeqCst) <= 2, "{most:?}");
        assert_eq!(gate.in_flight(), 0, "every turn is cleaned up");
    }

    #[tokio::test]
    async fn different_accounts_and_addresses_do_not_wait() {
        let gate = LoginGate::default();
        let a = gate.enter("alice", "10.0.0.1").await;
        let b = tokio::time::timeout(Duration::from_secs(5), gate.enter("bob", "10.0.0.2"))
            .await
            .expect("no shared key, no wait");
        assert_eq!(gate.in_flight(), 4);
        drop((a, b));
        assert_eq!(gate.in_flight(), 0);
    }
}
