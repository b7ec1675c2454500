//! The `lazaret` binary end to end: `token create` and `demo` as a person
//! would run them, over real HTTP.

use crate::support::{listening_on, stdout_lines};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn lazaret() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lazaret"));
    c.env_remove("LAZARET_DATABASE_URL");
    c
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn token_create_prints_the_token_alone_on_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = lazaret()
        .args(["--db", &db, "token", "create", "--role", "admin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("lzt_") && !last.contains(' '), "{last:?}");

    let bad = lazaret()
        .args(["--db", &db, "token", "create", "--role", "root"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("admin, investigator"));
}

#[test]
fn every_command_explains_itself() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["token", "create", "--help"],
    ] {
        let out = lazaret().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}

#[test]
fn demo_serves_health_and_authenticated_persons() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = lazaret()
        .current_dir(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = stdout_lines(&mut child);
    let _guard = Running(child);
    // Bound before it prints anything else, so its links name the real port.
    let (base, _) = listening_on(&lines);
    let mut token = None;
    let mut symptom_link = None;
    let mut summary = String::new();
    let mut console = None;
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(120)) {
        if line.starts_with("Lazaret demo in ") {
            summary = line.clone();
        }
        if let Some(url) = line.strip_prefix("Console: ") {
            console = Some(url.trim().to_owned());
        }
        if let Some((_, link)) = line.split_once("symptom form: ") {
            symptom_link = Some(link.trim().to_owned());
        }
        if line.starts_with("Investigator token") {
            token = lines.recv_timeout(Duration::from_secs(5)).ok();
            break;
        }
    }
    let token = token.expect("demo printed an investigator token");
    let deadline = Instant::now() + Duration::from_secs(30);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let health = loop {
            match client.get(format!("{base}/healthz")).send().await {
                Ok(r) => break r,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("demo never answered: {e}"),
            }
        };
        assert_eq!(health.status(), 200);
        let persons: serde_json::Value = client
            .get(format!("{base}/api/v1/persons"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = persons["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["full_name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"Ana Lima"), "{names:?}");
        let unauth = client
            .get(format!("{base}/api/v1/persons"))
            .send()
            .await
            .unwrap();
        assert_eq!(unauth.status(), 401);
        // The printed symptom-form link opens its page and its token works.
        let link = symptom_link.expect("demo printed a symptom-form link");
        let (page, form_token) = link.split_once("#token=").expect("token in the fragment");
        assert_eq!(page, format!("{base}/symptoms"));
        let r = client.get(page).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client
            .post(format!("{base}/api/v1/symptom-reports"))
            .json(&serde_json::json!({ "token": form_token, "symptoms": ["none"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);

        // A living district: the trace's orders, the lab error's releases,
        // open alerts of what happened.
        assert_eq!(console.as_deref(), Some(format!("{base}/").as_str()));
        let get = |path: &str| {
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send();
            async move { r.await.unwrap().json::<serde_json::Value>().await.unwrap() }
        };
        let count = |v: &serde_json::Value| v["items"].as_array().unwrap().len();
        assert!(summary.contains("7 contact orders issued"), "{summary}");
        assert!(summary.contains("(2 orders released)"), "{summary}");
        let released = get("/api/v1/orders?status=released").await;
        assert_eq!(count(&released), 2, "{released}");
        let active = get("/api/v1/orders?status=active").await;
        assert_eq!(count(&active), 9, "Ana, her 7 contacts and Dara: {active}");
        let alerts = get("/api/v1/alerts").await;
        let kinds: Vec<&str> = alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"symptomatic"), "{kinds:?}");
        if summary.contains("Boris Orlov and Chen Wei enrolled") {
            assert!(kinds.contains(&"failed_checkin"), "{kinds:?}");
        } else {
            assert!(summary.contains("face models unavailable"), "{summary}");
        }
    });
    assert!(dir.path().join("lazaret-demo.db").exists());
}

#[test]
fn orders_create_from_csv_is_all_or_nothing_and_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // Persons come from a residence register.
    let residents = write(
        "residents.csv",
        "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n\
         P1,Ana Lima,,,B1,Main St 1,1,47.37,8.54\n\
         P2,Ivan Petrov,,,B1,Main St 1,2,47.37,8.54\n",
    );
    let out = lazaret()
        .args(["--db", &db, "import", "residences", &residents])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let header = "person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone\n";
    let broken = write(
        "broken.csv",
        &format!(
            "{header}P1,Main St 1,47.37,8.54,,2026-03-10T00:00:00Z,2026-03-20T00:00:00Z,arrival:X,\n\
             P2,Main St 1,x,8.54,,2026-03-10T00:00:00Z,2026-03-20T00:00:00Z,arrival:X,\n"
        ),
    );
    let out = lazaret()
        .args(["--db", &db, "orders", "create", "--csv", &broken])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.csv:3: column lat"), "{err}");
    assert!(err.contains("nothing was stored"), "{err}");

    let good = write(
        "good.csv",
        &format!(
            "{header}P1,Main St 1,47.37,8.54,,2026-03-10T00:00:00Z,2026-03-20T00:00:00Z,arrival:X,Europe/Zurich\n\
             P2,Main St 1,47.37,8.54,150,2026-03-10T00:00:00Z,2026-03-21T00:00:00Z,positive_test:T1,\n"
        ),
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["--db", &db, "orders", "create", "--csv", &good, "--json"];
        args.extend_from_slice(extra);
        let out = lazaret().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["created"].as_u64().unwrap(),
            v["extended"].as_u64().unwrap(),
            v["unchanged"].as_u64().unwrap(),
            v["committed"].as_bool().unwrap(),
        )
    };
    assert_eq!(run(&["--dry-run"]), (2, 0, 0, false));
    assert_eq!(run(&[]), (2, 0, 0, true), "the dry run stored nothing");
    assert_eq!(
        run(&[]),
        (0, 0, 2, true),
        "the same file again changes nothing"
    );
}

#[test]
fn serve_refuses_a_prompt_policy_that_cannot_fit_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lazaret.toml");
    std::fs::write(&config, "[prompts]\nper_day = 8\n").unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut child = lazaret()
        .current_dir(dir.path())
        .args(["--config", config.to_str().unwrap(), "--db", &db])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that started would never exit by itself: give it time, then
    // stop it so the test reports the failure instead of hanging.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status = status.expect("the server started with a policy that plans no prompts");
    assert!(!status.success());
    assert!(
        stderr.contains("invalid [prompts] setting per_day"),
        "{stderr}"
    );
}

/// Rows of `table` in the SQLite database at `url`.
fn count_rows(url: &str, table: &str) -> i64 {
    use sqlx::Connection as _;
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut conn)
                .await
                .unwrap()
        })
}

#[test]
fn sim_trace_bench_reads_and_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = lazaret().arg("--db").arg(&db).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let data_arg = data.to_str().unwrap();
    run(&[
        "sim",
        "generate",
        "--out",
        data_arg,
        "--residents",
        "300",
        "--flights",
        "2",
        "--rides",
        "100",
    ]);
    for kind in ["residences", "flights", "rides", "tests"] {
        let file = data.join(format!("{kind}.csv"));
        run(&["import", kind, file.to_str().unwrap()]);
    }
    let (contacts, audit) = (count_rows(&db, "contacts"), count_rows(&db, "audit_events"));
    let out = run(&["sim", "trace-bench", "--sample", "5", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["traced"], 5, "{v}");
    assert!(v["contacts"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(
        count_rows(&db, "contacts"),
        contacts,
        "no contacts were stored"
    );
    assert_eq!(
        count_rows(&db, "audit_events"),
        audit,
        "nothing was audited as if an officer had traced"
    );
}

/// `sim outbreak` compares policies in memory: a table on stdout, CSV, JSON
/// and SVG files, no database touched (a `--db` that does not exist stays
/// absent); a bad policy file is refused with its reason.
#[test]
fn sim_outbreak_writes_its_comparison_and_touches_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let db_file = dir.path().join("never.db");
    let db = format!("sqlite://{}", db_file.display());
    let policy = dir.path().join("household-only.toml");
    std::fs::write(&policy, "[residence]\nbuilding_notify = false\n").unwrap();
    let (csv, json, svg) = (
        dir.path().join("out.csv"),
        dir.path().join("out.json"),
        dir.path().join("out.svg"),
    );
    let out = lazaret()
        .args([
            "--db",
            &db,
            "sim",
            "outbreak",
            "--population",
            "3000",
            "--days",
            "40",
        ])
        .args(["--runs", "3", "--policy", "none", "--policy"])
        .arg(&policy)
        .arg("--csv")
        .arg(&csv)
        .arg("--json")
        .arg(&json)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    for name in ["isolation", "none", "household-only"] {
        assert!(
            table.lines().any(|l| l.starts_with(name)),
            "{name}: {table}"
        );
    }
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("policy,runs,infections_median"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(json["summaries"].as_array().unwrap().len(), 3);
    assert_eq!(json["results"]["population"], 3000);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert!(!db_file.exists(), "the simulation opened no database");

    std::fs::write(&policy, "[flight]\nseat_rows = 99\n").unwrap();
    let bad = lazaret()
        .args([
            "sim",
            "outbreak",
            "--population",
            "3000",
            "--runs",
            "1",
            "--policy",
        ])
        .arg(&policy)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("seat_rows must be at most 10"), "{err}");
    let missing = lazaret()
        .args([
            "sim",
            "outbreak",
            "--runs",
            "1",
            "--policy",
            "no-such-policy",
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("not one of none, isolation, default")
    );
}
