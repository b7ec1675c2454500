//! `lazaret users` and `lazaret token` through the binary: accounts made
//! with the password on standard input, listed without secrets, changed and
//! disabled, tokens of an account and of a service listed and revoked; each
//! change audited with the command line's actor.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use sqlx::{Connection, Row};

fn lazaret(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lazaret"));
    c.env_remove("LAZARET_DATABASE_URL")
        .env_remove("LAZARET_AUDIT_KEY")
        .env_remove("LAZARET_AUDIT_CHECKPOINT")
        .args(["--db", db])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn err(out: &Output) -> String {
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn user_row(db: &str, name: &str) -> (String, String, Option<i64>) {
    let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
    let r =
        sqlx::query("SELECT password_hash, districts, disabled_at FROM users WHERE username = $1")
            .bind(name)
            .fetch_one(&mut c)
            .await
            .unwrap();
    (
        r.get("password_hash"),
        r.get("districts"),
        r.get("disabled_at"),
    )
}

async fn audit_actors(db: &str, action: &str) -> Vec<String> {
    let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
    sqlx::query("SELECT actor FROM audit_events WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("actor"))
        .collect()
}

#[tokio::test]
async fn users_and_their_tokens_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let password = "correct horse battery staple";

    // Create: the password from standard input, never an argument.
    ok(&lazaret(
        &db,
        &[
            "users",
            "create",
            "alice",
            "--role",
            "investigator",
            "--district",
            "north",
            "--district",
            "south",
            "--password-stdin",
        ],
        Some(&format!("{password}\n")),
    ));
    ok(&lazaret(
        &db,
        &[
            "users",
            "create",
            "root",
            "--role",
            "admin",
            "--district",
            "*",
            "--password-stdin",
        ],
        Some("another long passphrase\n"),
    ));
    let (hash, districts, disabled) = user_row(&db, "alice").await;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(password));
    assert_eq!(districts, "north,south");
    assert_eq!(disabled, None);
    assert_eq!(user_row(&db, "root").await.1, "*");

    // Refusals: no --password-stdin, a short password (the rule is stated), a taken
    // name, a bad role.
    let e = err(&lazaret(
        &db,
        &[
            "users",
            "create",
            "bob",
            "--role",
            "analyst",
            "--district",
            "north",
        ],
        Some(&format!("{password}\n")),
    ));
    assert!(e.contains("--password-stdin"), "{e}");
    let e = err(&lazaret(
        &db,
        &[
            "users",
            "create",
            "bob",
            "--role",
            "analyst",
            "--district",
            "north",
            "--password-stdin",
        ],
        Some("short\n"),
    ));
    assert!(e.contains("at least 12 characters"), "{e}");
    let e = err(&lazaret(
        &db,
        &[
            "users",
            "create",
            "alice",
            "--role",
            "analyst",
            "--district",
            "north",
            "--password-stdin",
        ],
        Some(&format!("{password}\n")),
    ));
    assert!(e.contains("exists already"), "{e}");
    let e = err(&lazaret(
        &db,
        &[
            "users",
            "create",
            "bob",
            "--role",
            "root",
            "--district",
            "north",
            "--password-stdin",
        ],
        Some(&format!("{password}\n")),
    ));
    assert!(e.contains("admin, investigator"), "{e}");

    // List: names, roles, districts, never a hash.
    let list = ok(&lazaret(&db, &["users", "list"], None));
    assert!(
        list.contains("alice") && list.contains("investigator") && list.contains("north,south"),
        "{list}"
    );
    assert!(list.contains("root") && list.contains("admin"), "{list}");
    assert!(!list.contains("argon2"), "{list}");

    // Set districts, reset the password.
    ok(&lazaret(
        &db,
        &["users", "set-districts", "alice", "--district", "east"],
        None,
    ));
    assert_eq!(user_row(&db, "alice").await.1, "east");
    ok(&lazaret(
        &db,
        &["users", "reset-password", "alice", "--password-stdin"],
        Some("a brand new passphrase\n"),
    ));
    assert_ne!(user_row(&db, "alice").await.0, hash);

    // TOTP: the URI once on stdout.
    let uri = ok(&lazaret(&db, &["users", "totp-enroll", "root"], None));
    assert!(
        uri.trim()
            .starts_with("otpauth://totp/Lazaret:root?secret="),
        "{uri}"
    );
    let list = ok(&lazaret(&db, &["users", "list"], None));
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(!list.contains(secret));

    // Tokens: an account's, a service's; listed with owner and expiry; revoked.
    let out = ok(&lazaret(
        &db,
        &["token", "create", "--user", "alice", "--expires-days", "7"],
        None,
    ));
    let alice_token = out.lines().last().unwrap().to_owned();
    assert!(alice_token.starts_with("lzt_"), "{alice_token}");
    let alice_id = alice_token.split('_').nth(1).unwrap().to_owned();
    let out = ok(&lazaret(
        &db,
        &[
            "token",
            "create",
            "--service",
            "lab-feed",
            "--role",
            "investigator",
            "--district",
            "north",
        ],
        None,
    ));
    let service_id = out
        .lines()
        .last()
        .unwrap()
        .split('_')
        .nth(1)
        .unwrap()
        .to_owned();
    let list = ok(&lazaret(&db, &["token", "list"], None));
    let row = |id: &str| list.lines().find(|l| l.starts_with(id)).unwrap().to_owned();
    assert!(
        row(&alice_id).contains("user:alice") && row(&alice_id).contains("east"),
        "{list}"
    );
    assert!(
        row(&service_id).contains("service:lab-feed") && row(&service_id).contains("north"),
        "{list}"
    );
    assert!(
        !list.contains(alice_token.rsplit('_').next().unwrap()),
        "no secret listed"
    );
    ok(&lazaret(&db, &["token", "revoke", &service_id], None));
    let list = ok(&lazaret(&db, &["token", "list"], None));
    let revoked = list.lines().find(|l| l.starts_with(&service_id)).unwrap();
    assert!(!revoked.trim_end().ends_with('-'), "{revoked}");
    let e = err(&lazaret(&db, &["token", "revoke", "nosuchtoken"], None));
    assert!(e.contains("no token"), "{e}");

    // Disable.
    ok(&lazaret(&db, &["users", "disable", "alice"], None));
    assert!(user_row(&db, "alice").await.2.is_some());
    let list = ok(&lazaret(&db, &["users", "list"], None));
    assert!(
        list.lines()
            .any(|l| l.starts_with("alice") && l.contains("disabled")),
        "{list}"
    );
    let e = err(&lazaret(&db, &["token", "create", "--user", "alice"], None));
    assert!(e.contains("disabled"), "{e}");

    // Every change is audited with the command line's actor.
    for action in [
        "user.create",
        "user.set_districts",
        "user.reset_password",
        "user.totp_enroll",
        "user.disable",
        "token.create",
        "token.revoke",
    ] {
        let actors = audit_actors(&db, action).await;
        assert!(!actors.is_empty(), "{action}");
        assert!(
            actors.iter().all(|a| a.starts_with("cli:")),
            "{action}: {actors:?}"
        );
    }
}
