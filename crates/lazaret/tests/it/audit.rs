//! `lazaret audit verify` and `lazaret audit export` as an auditor runs them,
//! on an SQLite file the test then tampers with.

use std::path::Path;
use std::process::{Command, Output};

use sqlx::Connection;

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn lazaret(db: &str, key: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lazaret"));
    c.env_remove("LAZARET_DATABASE_URL")
        .env_remove("LAZARET_AUDIT_KEY")
        .env_remove("LAZARET_AUDIT_CHECKPOINT")
        .args(["--db", db])
        .args(args);
    if let Some(k) = key {
        c.env("LAZARET_AUDIT_KEY", k);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn tamper(db: &str, sql: &str) {
    let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
    let guards = lazaret_store::testing::drop_audit_guards(lazaret_store::BackendKind::Sqlite);
    sqlx::raw_sql(guards).execute(&mut c).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}

#[tokio::test]
async fn verify_passes_an_intact_chain_and_names_a_cut_tail() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.db");
    let db = format!("sqlite://{}", file.display());
    for _ in 0..3 {
        let out = lazaret(&db, Some(KEY), &["token", "create", "--role", "auditor"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    // Each command signed the head on its way out, beside the database.
    let checkpoint = format!("{}.audit-checkpoint", file.display());
    assert_eq!(
        std::fs::read_to_string(&checkpoint)
            .unwrap()
            .lines()
            .count(),
        3
    );

    let ok = lazaret(&db, Some(KEY), &["audit", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("audit chain intact: 3 entries"),
        "{}",
        text(&ok.stdout)
    );

    let export = lazaret(
        &db,
        Some(KEY),
        &["audit", "export", "--action", "token.create"],
    );
    assert!(export.status.success(), "{}", text(&export.stderr));
    let lines: Vec<serde_json::Value> = text(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // L11: the actor is the operating-system account, not `$USER`.
    for l in &lines {
        assert!(l["actor"].as_str().unwrap().starts_with("cli:uid="), "{l}");
    }
    let out_file = dir.path().join("audit.jsonl");
    let to_file = lazaret(
        &db,
        Some(KEY),
        &["audit", "export", "--out", out_file.to_str().unwrap()],
    );
    assert!(to_file.status.success());
    // Token creations, the verify and the first export: all in the file.
    let all = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        all.contains("\"audit.verify\"") && all.contains("\"audit.export\""),
        "{all}"
    );

    // Without the key the keyed chain is neither verified nor appended to.
    let keyless = lazaret(&db, None, &["audit", "verify"]);
    assert!(!keyless.status.success());
    assert!(
        text(&keyless.stderr).contains("set audit_key"),
        "{}",
        text(&keyless.stderr)
    );

    // The review's repro: the tail deleted and the head rewound with it.
    tamper(
        &db,
        "DELETE FROM audit_events WHERE seq > 2; \
         UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_events WHERE seq = 2);",
    )
    .await;
    let cut = lazaret(&db, Some(KEY), &["audit", "verify"]);
    assert_eq!(cut.status.code(), Some(1));
    let err = text(&cut.stderr);
    assert!(
        err.contains("entry seq 3") && err.contains("tail was cut off"),
        "{err}"
    );
    assert!(Path::new(&checkpoint).exists());
}

#[tokio::test]
async fn verify_names_an_edited_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    for _ in 0..3 {
        assert!(
            lazaret(&db, Some(KEY), &["token", "create", "--role", "admin"])
                .status
                .success()
        );
    }
    tamper(
        &db,
        "UPDATE audit_events SET actor = 'someone else' WHERE seq = 2",
    )
    .await;
    let out = lazaret(&db, Some(KEY), &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("entry seq 2") && err.contains("does not match its hash"),
        "{err}"
    );
}
