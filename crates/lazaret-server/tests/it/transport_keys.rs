//! Transport and keys (issue #15): the database link over TLS as `sslmode` says, plain
//! transports only on loopback, delivery errors kept out of the audit chain, template
//! keys with ids and their rotation, the simulated clock kept off real data.

use chrono::Duration;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, OutboxStatus, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::notify::{config, env, issue, message_actions, person_with_order, prompt_message};

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
