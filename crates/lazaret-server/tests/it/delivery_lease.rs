//! A delivery batch never outlives its lease (issue #15): with a gateway slow
//! enough that a whole batch takes far longer than the lease, another instance
//! claiming the queue during every send never gets the message being sent, and
//! every message goes out once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use lazaret_server::notify::sms::{SendFuture, Sms, SmsSender};
use lazaret_server::{App, Clock};
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, Store, NOTIFY_QUEUE};

use crate::notify::{config, issue, person_with_order, Env};
use crate::support::{t0, TestClock};

const MESSAGES: usize = 30;
/// `[worker] lease_secs` here.
const LEASE_SECS: i64 = 10;
/// Clock time each send takes: a batch of 20 would take 30 s, three leases.
const SEND_MS: i64 = 1_500;

/// A slow gateway that, at every send, lets "another instance" claim all it
/// can of the queue (and hand it straight back) and records whether it got
/// the message being sent.
struct Slow {
    clock: Arc<TestClock>,
    store: Store,
    sent: Mutex<Vec<String>>,
    stolen: Mutex<Vec<String>>,
}

impl SmsSender for Slow {
    fn send<'a>(&'a self, sms: &'a Sms) -> SendFuture<'a> {
        Box::pin(async move {
            let now = self.clock.now();
            let lease = Duration::seconds(LEASE_SECS);
            let taken = self
                .store
                .claim_jobs(NOTIFY_QUEUE, "intruder", now, lease, 100)
                .await
                .unwrap();
            for j in &taken {
                if j.payload["message_id"] == sms.message_id.as_str() {
                    self.stolen.lock().unwrap().push(sms.message_id.clone());
                }
                assert!(self.store.release_job(j.id, "intruder", now).await.unwrap());
            }
            self.sent.lock().unwrap().push(sms.message_id.clone());
            self.clock.advance(Duration::milliseconds(SEND_MS));
            Ok(())
        })
    }
}

backends!(a_delivery_batch_never_outlives_its_lease);
async fn a_delivery_batch_never_outlives_its_lease(db: TestDb) {
    let mut cfg = config(None, Some("http://127.0.0.1:9/unused"));
    // A send is cut off after 2 s; the lease is five of those.
    cfg.notify.sms.as_mut().unwrap().timeout_secs = 2;
    cfg.worker.lease_secs = LEASE_SECS as u32;
    let clock = Arc::new(TestClock(Mutex::new(t0())));
    let slow = Arc::new(Slow {
        clock: clock.clone(),
        store: db.store.clone(),
        sent: Mutex::default(),
        stolen: Mutex::default(),
    });
    let app = App::builder(cfg, db.store.clone())
        .clock(clock.clone())
        .sms(slow.clone())
        .build()
        .unwrap();
    let e = Env {
        state: app.state.clone(),
        notifier: app.notifier.clone().expect("the outbox"),
        app,
        clock: clock.clone(),
    };
    for i in 0..MESSAGES {
        let order = person_with_order(
            &db.store,
            &format!("lease-{i:02}"),
            Some(&format!("+4179{i:07}")),
            None,
            "en",
        )
        .await;
        issue(&e, &order, "now:lease").await;
    }
    let started = clock.now();
    let lease = e.state.clock.scale(e.state.config.worker.lease());
    assert_eq!(lease, Duration::seconds(LEASE_SECS));
    let r = e.notifier.deliver_due("w1", lease).await.unwrap();

    assert!(
        slow.stolen.lock().unwrap().is_empty(),
        "{:?}: another instance could claim a message while it was being sent: {:?}",
        db.kind(),
        slow.stolen.lock().unwrap()
    );
    let sent = slow.sent.lock().unwrap().clone();
    let mut times: HashMap<&str, usize> = HashMap::new();
    for id in &sent {
        *times.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(times.len(), MESSAGES, "every message");
    assert!(times.values().all(|n| *n == 1), "each once: {times:?}");
    assert_eq!(r.sent, MESSAGES);
    // The pass took several leases' worth of clock time: batches were handed
    // back and claimed afresh rather than run past their lease.
    assert!(clock.now() - started > Duration::seconds(3 * LEASE_SECS));
    let q = db.store.queue_stats(NOTIFY_QUEUE).await.unwrap();
    assert_eq!(
        (q.done, q.pending, q.running, q.dead),
        (MESSAGES as i64, 0, 0, 0)
    );
}
