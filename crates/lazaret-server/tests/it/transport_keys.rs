//! Transport and keys (issue #15): the database link over TLS as `sslmode` says, plain
//! transports only on loopback, delivery errors kept out of the audit chain, template
//! keys with ids and their rotation, the simulated clock kept off real data.

use chrono::{Duration, TimeZone as _, Utc};
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::OrderId;
use lazaret_core::user::Role;
use lazaret_server::app::{check_clock_against_database, load_face_engine, StartError};
use lazaret_server::config::Secret;
use lazaret_server::services::keys::{check_template_keys, rotate, KeysError};
use lazaret_server::services::self_enrollment::pending_photo;
use lazaret_server::services::Actor;
use lazaret_server::template_crypto::TemplateKey;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, OutboxStatus, Store};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::notify::{config, env, issue, message_actions, person_with_order, prompt_message};
use crate::support::{frames_for, photo, Server, ENROL, NEAR};

fn under_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Says why a test cannot run here: under CI that fails it, elsewhere it is skipped.
fn unavailable(why: &str) {
    assert!(!under_ci(), "{why} (required under CI)");
    eprintln!("SKIPPED: {why}");
}

fn with_query(base: &str, q: &str) -> String {
    format!("{base}{}{q}", if base.contains('?') { '&' } else { '?' })
}

// ---------------------------------------------------------------------------
// PostgreSQL over TLS

#[tokio::test]
async fn postgres_links_are_encrypted_and_verified_as_sslmode_says() {
    let Ok(base) = std::env::var("LAZARET_TEST_POSTGRES_URL") else {
        return unavailable("LAZARET_TEST_POSTGRES_URL is not set");
    };
    // require: TLS, whatever the certificate.
    let store = match Store::connect(&with_query(&base, "sslmode=require")).await {
        Ok(s) => s,
        Err(e) => {
            return unavailable(&format!(
                "the test PostgreSQL does not serve TLS (run scripts/pg-test-tls): {e:?}"
            ))
        }
    };
    assert_eq!(store.database_link_tls().await.unwrap(), Some(true));
    store.close().await;
    // disable: what it says, in clear (the only way to get plaintext from a TLS server).
    let store = Store::connect(&with_query(&base, "sslmode=disable"))
        .await
        .unwrap();
    assert_eq!(store.database_link_tls().await.unwrap(), Some(false));
    store.close().await;
    // The default on loopback: prefer, so TLS where the server offers it.
    let store = Store::connect(&base).await.unwrap();
    assert_eq!(store.database_link_tls().await.unwrap(), Some(true));
    store.close().await;

    let Ok(root) = std::env::var("LAZARET_TEST_POSTGRES_TLS_ROOT") else {
        return unavailable(
            "LAZARET_TEST_POSTGRES_TLS_ROOT (the test CA from scripts/pg-test-tls) is not set",
        );
    };
    // verify-full with the CA that signed the server's certificate: connects, encrypted.
    let url = with_query(&base, &format!("sslmode=verify-full&sslrootcert={root}"));
    let store = Store::connect(&url)
        .await
        .expect("verify-full with the right CA");
    assert_eq!(store.database_link_tls().await.unwrap(), Some(true));
    store.close().await;
    // verify-ca too.
    let url = with_query(&base, &format!("sslmode=verify-ca&sslrootcert={root}"));
    let store = Store::connect(&url)
        .await
        .expect("verify-ca with the right CA");
    assert_eq!(store.database_link_tls().await.unwrap(), Some(true));
    store.close().await;
    // verify-full with another CA: refused, and the error says it is the certificate.
    let wrong = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/tls/unrelated-ca.pem"
    );
    let url = with_query(&base, &format!("sslmode=verify-full&sslrootcert={wrong}"));
    let e = Store::connect(&url)
        .await
        .expect_err("a server certificate from another CA must be refused");
    let text = format!("{e} {:?}", e).to_lowercase();
    assert!(
        text.contains("certificate") || text.contains("unknownissuer"),
        "the error names the certificate: {text}"
    );
}

// ---------------------------------------------------------------------------
// Delivery errors stay out of the immutable audit chain

/// An SMTP server that rejects every recipient, echoing the address as real ones do.
async fn rejecting_smtp() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = conn.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 strict ESMTP\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        "250-strict\r\n250 8BITMIME\r\n".to_owned()
                    } else if cmd.starts_with("RCPT TO") {
                        let addr = line.trim_end()[8..].trim().to_owned();
                        format!("550 5.1.1 {addr}: Recipient address rejected: user unknown\r\n")
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        "250 ok\r\n".to_owned()
                    };
                    if w.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

backends!(an_smtp_answer_echoing_the_address_stays_out_of_the_audit_chain);
async fn an_smtp_answer_echoing_the_address_stays_out_of_the_audit_chain(db: TestDb) {
    let port = rejecting_smtp().await;
    let e = env(&db, config(Some(port), None));
    let o = person_with_order(&db.store, "fritz", None, Some("fritz@example.org"), "en").await;
    let a = issue(&e, &o, "2026-03-10#0").await;
    // max_attempts = 3 (the notify tests' config): two retries, then given up.
    for _ in 0..4 {
        e.notifier
            .deliver_due("w1", Duration::minutes(5))
            .await
            .unwrap();
        e.clock.advance(Duration::seconds(40));
    }
    let m = prompt_message(&db.store, &a).await;
    assert_eq!(m.status, OutboxStatus::Failed);
    // The raw answer is kept where it can be erased: the outbox row.
    let raw = m.last_error.as_deref().unwrap_or_default();
    assert!(raw.contains("fritz@example.org"), "{raw}");
    assert_eq!(
        message_actions(&db.store, &m.id).await,
        [
            "notify.enqueue",
            "notify.retry",
            "notify.retry",
            "notify.fail"
        ]
    );
    let events = db.store.audit_events_for("message", &m.id).await.unwrap();
    for ev in &events[1..] {
        assert!(
            !ev.details.contains("fritz") && !ev.details.contains('@'),
            "{}: {}",
            ev.action,
            ev.details
        );
        assert_eq!(ev.details, "SMTP: permanent error 550", "{}", ev.action);
    }
}

// ---------------------------------------------------------------------------
// Template keys with ids, rotation, and a wrong key

fn keyed(key: &str, id: &str, previous: &[(&str, &str)]) -> lazaret_server::Config {
    let mut c = lazaret_server::Config {
        template_key: Secret::new(key),
        template_key_id: id.into(),
        prompt_schedule_key: Secret::new(SCHEDULE_KEY),
        ..lazaret_server::Config::default()
    };
    for (pid, k) in previous {
        c.previous_template_keys
            .insert((*pid).into(), Secret::new(*k));
    }
    c.validate().unwrap();
    c
}

const SCHEDULE_KEY: &str = "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c";

backends!(
    template_keys_rotate_without_downtime_and_a_wrong_key_is_a_clear_error,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn template_keys_rotate_without_downtime_and_a_wrong_key_is_a_clear_error(db: TestDb) {
    let k1 = TemplateKey::generate_hex();
    let k2 = TemplateKey::generate_hex();
    let start = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let officer = Actor::new("t", Role::Investigator, DistrictScope::All);

    // Under the first key (id k1): an enrolment, and a self-enrolment waiting with its photo.
    let a = Server::start_with(&db, start, keyed(&k1, "k1", &[])).await;
    let order = a.new_order("Edmund Stoiber").await;
    let oid = OrderId::parse(&order).unwrap();
    let (st, e) = a.enroll(&order, photo(ENROL)).await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    assert_eq!(
        db.store.get_enrollment(&oid).await.unwrap().unwrap().key_id,
        "k1"
    );
    let pending = a.new_order("Erika Pending").await;
    let (st, link) = a
        .post(
            &format!("/api/v1/orders/{pending}/enrollment-link"),
            &json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{link}");
    let (st, e) = a
        .self_enroll(Some(link["token"].as_str().unwrap()), photo(ENROL))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{e}");
    a.stop();

    // A wrong key under the same id: refused at start, and a check-in is a clear 503
    // (not a 500), with no try spent.
    let wrong = keyed(&TemplateKey::generate_hex(), "k1", &[]);
    let e = check_template_keys(&db.store, &wrong).await.unwrap_err();
    assert!(
        matches!(e, KeysError::WrongKey { ref key_id, .. } if key_id == "k1"),
        "{e}"
    );
    assert!(
        e.to_string().contains("does not open the stored template"),
        "{e}"
    );
    let w = Server::start_with(&db, start, wrong).await;
    let p = w.prompt(&order).await;
    let token = p["token"].as_str().unwrap().to_owned();
    let frames = frames_for(&p["challenge"]);
    let (st, v) = w.checkin(&token, &frames, NEAR, 15.0, None).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["code"], "template_key_wrong", "{v}");
    w.stop();
    // A new key without the old one: its id is named.
    let e = check_template_keys(&db.store, &keyed(&k2, "k2", &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, KeysError::UnknownKeyId { ref key_id, count: 3 } if key_id == "k1"),
        "{e}"
    );

    // The new key current, the old one previous: everything still opens (the same prompt,
    // its try unspent, verifies), then the rotation re-seals while the server runs.
    let during = keyed(&k2, "k2", &[("k1", &k1)]);
    let b = Server::start_with(&db, start, during.clone()).await;
    let (st, v) = b.checkin(&token, &frames, NEAR, 15.0, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "verified", "{v}");
    assert_eq!(
        check_template_keys(&db.store, &during).await.unwrap(),
        [("k1".to_owned(), 3)]
    );
    let r = rotate(&db.store, &during, "test:rotate", start)
        .await
        .unwrap();
    assert_eq!((r.resealed, r.changed_meanwhile), (3, 0), "{r:?}");
    assert!(r.unreadable.is_empty() && r.left.is_empty(), "{r:?}");
    let again = rotate(&db.store, &during, "test:rotate", start)
        .await
        .unwrap();
    assert_eq!(again.resealed, 0, "nothing left to re-seal");
    b.stop();
    let audited = db.store.audit_events_for("order", &order).await.unwrap();
    assert!(
        audited
            .iter()
            .any(|e| e.action == "keys.reseal" && e.details.contains("from=k1 to=k2")),
        "{audited:?}"
    );

    // The old key gone: the template, the pending template and its photo all open.
    let after = keyed(&k2, "k2", &[]);
    assert_eq!(
        check_template_keys(&db.store, &after).await.unwrap(),
        [("k2".to_owned(), 3)]
    );
    let c = Server::start_with(&db, start, after).await;
    let seen = pending_photo(&c.state, &officer, &pending).await.unwrap();
    assert!(!seen.bytes.is_empty());
    let (st, e) = c
        .post(
            &format!("/api/v1/orders/{pending}/enrollment/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    for o in [&order, &pending] {
        let p = c.prompt(o).await;
        let frames = frames_for(&p["challenge"]);
        let (st, v) = c
            .checkin(p["token"].as_str().unwrap(), &frames, NEAR, 15.0, None)
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["outcome"], "verified", "{o}: {v}");
    }
    c.stop();
}

// ---------------------------------------------------------------------------
// The simulated clock and real data

backends!(a_simulated_clock_refuses_a_database_with_real_data);
async fn a_simulated_clock_refuses_a_database_with_real_data(db: TestDb) {
    // A fresh database takes the kind of clock that starts on it first: here the system's.
    assert_eq!(
        check_clock_against_database(&db.store, false)
            .await
            .unwrap(),
        "system"
    );
    let e = check_clock_against_database(&db.store, true)
        .await
        .unwrap_err();
    assert!(matches!(e, StartError::SimulatedClockOnRealData), "{e}");
    assert!(e.to_string().contains("holds real data"), "{e}");
}

backends!(a_drill_database_stays_a_drill_database);
async fn a_drill_database_stays_a_drill_database(db: TestDb) {
    assert_eq!(
        check_clock_against_database(&db.store, true).await.unwrap(),
        "simulated"
    );
    // Again with the simulated clock: fine. The system clock is warned about, not refused.
    assert_eq!(
        check_clock_against_database(&db.store, true).await.unwrap(),
        "simulated"
    );
    assert_eq!(
        check_clock_against_database(&db.store, false)
            .await
            .unwrap(),
        "simulated"
    );
}

backends!(records_from_before_the_mark_count_as_real);
async fn records_from_before_the_mark_count_as_real(db: TestDb) {
    // Data written before databases were marked: a simulated clock is refused.
    person_with_order(&db.store, "gerd", Some("+41 79 100 00 09"), None, "en").await;
    let e = check_clock_against_database(&db.store, true)
        .await
        .unwrap_err();
    assert!(matches!(e, StartError::SimulatedClockOnRealData), "{e}");
}

// ---------------------------------------------------------------------------
// Face models: fetched beforehand, never by the server

#[tokio::test]
async fn a_missing_model_is_a_start_up_error_unless_face_work_is_off() {
    let empty = tempfile::tempdir().unwrap();
    let mut c = lazaret_server::Config {
        models_dir: Some(empty.path().to_owned()),
        ..lazaret_server::Config::default()
    };
    let Err(e) = load_face_engine(&c).await else {
        panic!("no models, no start");
    };
    assert!(matches!(e, StartError::FaceModelsMissing(_)), "{e}");
    assert!(e.to_string().contains("lazaret models fetch"), "{e}");
    // Nothing was fetched into the folder (no npm at start-up).
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
    c.face.enabled = false;
    assert!(load_face_engine(&c).await.unwrap().is_none());
}
