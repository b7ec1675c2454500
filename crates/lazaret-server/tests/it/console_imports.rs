//! The console's imports over real HTTP, signed in through the login form:
//! a dry run lists every bad row (line, column, reason) and stores nothing;
//! a clean file is committed, written in the background and shows in the
//! history with its counts; an oversize upload is refused with a clear
//! message; another district (named on the form, in a row, or a person
//! stored there) is refused and its imports are invisible; CSRF and roles.
//! Then the accounts pages. Everything is checked in the store and the
//! audit log, not only in the HTML.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use lazaret_core::ids::PersonId;
use lazaret_core::user::Role;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, AuditFilter, OrderFilter, PageRequest};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::browser::{self, Chromedriver, LAPTOP, TABLET};
use crate::console::{look, sign_in, Console, WAIT};
use crate::support::t0;

const RES_HEADER: &str = "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n";

/// A residence register of `persons` (id prefix `p`), in building B1.
fn residences(p: &str, n: usize) -> String {
    let mut s = String::from(RES_HEADER);
    for i in 1..=n {
        s.push_str(&format!(
            "{p}-{i},Person {p} {i},,,B1,\"Main St 1, Zürich\",{i},47.37,8.54\n"
        ));
    }
    s
}

/// Orders for `persons`, starting an hour before the test clock's now.
fn orders(persons: &[&str]) -> String {
    let mut s =
        String::from("person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone\n");
    let start = (t0() - Duration::hours(1)).to_rfc3339();
    let end = (t0() + Duration::days(14)).to_rfc3339();
    for p in persons {
        s.push_str(&format!(
            "{p},\"Main St 1, Zürich\",47.37,8.54,,{start},{end},arrival:Region X,Europe/Zurich\n"
        ));
    }
    s
}

impl Console {
    /// `POST /imports` as the browser's form sends it; `csrf` None: no field.
    pub async fn upload(
        &self,
        session: &str,
        csrf: Option<&str>,
        kind: &str,
        district: &str,
        file_name: &str,
        content: Vec<u8>,
    ) -> Response {
        let mut form = Form::new();
        if let Some(c) = csrf {
            form = form.text("csrf", c.to_owned());
        }
        let form = form
            .text("kind", kind.to_owned())
            .text("district", district.to_owned())
            .part(
                "file",
                Part::bytes(content)
                    .file_name(file_name.to_owned())
                    .mime_str("text/csv")
                    .unwrap(),
            );
        self.client
            .post(format!("{}/imports", self.base))
            .header("cookie", format!("lazaret_session={session}"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a file that must pass its check; the import's id.
    pub async fn checked(&self, session: &str, kind: &str, district: &str, csv: &str) -> String {
        let csrf = self.csrf(session).await;
        let r = self
            .upload(
                session,
                Some(&csrf),
                kind,
                district,
                "file.csv",
                csv.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        let id = import_id(&r);
        let (s, page) = self.html(session, &format!("/imports/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("id=\"import-clean\""), "{page}");
        id
    }

    /// Commits import `id` and waits until its page says it is done; the page.
    pub async fn commit_and_wait(&self, session: &str, id: &str) -> String {
        let csrf = self.csrf(session).await;
        let r = self
            .post(
                session,
                &format!("/imports/{id}/commit"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], format!("/imports/{id}").as_str());
        self.wait_done(session, id).await
    }

    async fn wait_done(&self, session: &str, id: &str) -> String {
        let started = Instant::now();
        loop {
            let (_, page) = self.html(session, &format!("/imports/{id}")).await;
            if page.contains("id=\"import-done\"") || page.contains("id=\"import-refused\"") {
                return page;
            }
            assert!(started.elapsed() < StdDuration::from_secs(60), "{page}");
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }

    async fn person_exists(&self, id: &str) -> bool {
        self.app
            .state
            .store
            .get_person(&PersonId::parse(id).unwrap())
            .await
            .unwrap()
            .is_some()
    }

    async fn actions(&self, actor: &str) -> Vec<String> {
        self.app
            .state
            .store
            .audit_search(
                &AuditFilter {
                    actor: Some(actor.to_owned()),
                    ..Default::default()
                },
                1000,
            )
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

impl Console {
    /// A checked import of 400 rows taken for writing with nothing writing
    /// it, 160 rows done: its page shows the progress until its silence
    /// passes (never, on the test clock, which stands still).
    async fn held_half_way(&self, session: &str) -> String {
        let csrf = self.csrf(session).await;
        let r = self
            .upload(
                session,
                Some(&csrf),
                "residences",
                "north",
                "held.csv",
                residences("H", 400).into_bytes(),
            )
            .await;
        let id = import_id(&r);
        let audit = lazaret_core::audit::AuditRecord {
            at: t0(),
            actor: "user:ivan".into(),
            action: "import.commit".into(),
            subject_type: "import".into(),
            subject_id: id.clone(),
            details: String::new(),
        };
        let store = &self.app.state.store;
        let all = lazaret_core::district::DistrictScope::All;
        assert!(store
            .claim_import(&id, &all, t0(), &audit)
            .await
            .unwrap()
            .is_some());
        assert!(store.import_progress(&id, 160, t0()).await.unwrap());
        id
    }
}

fn import_id(r: &Response) -> String {
    let loc = r.headers()["location"].to_str().unwrap();
    loc.strip_prefix("/imports/").unwrap().to_owned()
}

backends!(a_dry_run_shows_every_bad_row_and_stores_nothing);
async fn a_dry_run_shows_every_bad_row_and_stores_nothing(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;
    let mut csv = residences("R", 3);
    // Line 5: a latitude that is no number.
    csv.push_str("R-4,Person R 4,,,B1,\"Main St 1, Zürich\",4,north-ish,8.54\n");
    let r = c
        .upload(
            &ivan,
            Some(&csrf),
            "residences",
            "north",
            "register.csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = import_id(&r);
    let (s, page) = c.html(&ivan, &format!("/imports/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"import-refused\""), "{page}");
    let row = page.split("<tbody>").nth(1).unwrap();
    assert!(
        row.contains("<td class=\"num\">5</td><td class=\"mono\">lat</td><td>&quot;north-ish&quot; is not a number</td>"),
        "{row}"
    );
    assert!(!page.contains("commit-button"), "no commit for a bad file");
    // Nothing stored, not even the good rows.
    for p in ["R-1", "R-2", "R-3", "R-4"] {
        assert!(!c.person_exists(p).await, "{p}");
    }
    // In the history: refused, 4 rows, 1 error.
    let (_, list) = c.html(&ivan, "/imports").await;
    let tr = list.split(&format!("data-id=\"{id}\"")).nth(1).unwrap();
    let tr = tr.split("</tr>").next().unwrap();
    assert!(
        tr.contains("register.csv") && tr.contains("Bad rows"),
        "{tr}"
    );
    assert!(
        tr.contains("<td class=\"num\">4</td>") && tr.contains("<strong>1</strong>"),
        "{tr}"
    );
    // Committing a refused import writes nothing.
    let r = c
        .post(&ivan, &format!("/imports/{id}/commit"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!c.person_exists("R-1").await);
    assert!(c
        .actions("user:ivan")
        .await
        .contains(&"import.check".to_owned()));
}

backends!(a_good_file_is_imported_in_the_background_and_in_the_history);
async fn a_good_file_is_imported_in_the_background_and_in_the_history(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    let ivan = c.session("ivan").await;
    let id = c
        .checked(&ivan, "residences", "north", &residences("G", 250))
        .await;
    // Checked is not stored.
    assert!(!c.person_exists("G-1").await);
    let page = c.commit_and_wait(&ivan, &id).await;
    assert!(page.contains("id=\"import-done\""), "{page}");
    assert!(page.contains("250 rows imported"), "{page}");
    for p in ["G-1", "G-250"] {
        assert!(c.person_exists(p).await, "{p}");
    }
    let p = c
        .app
        .state
        .store
        .get_person(&PersonId::parse("G-7").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.district.as_str(), "north", "the form's district");

    // Orders for three of them: created, counted, in the history.
    let id2 = c
        .checked(&ivan, "orders", "north", &orders(&["G-1", "G-2", "G-3"]))
        .await;
    let page = c.commit_and_wait(&ivan, &id2).await;
    assert!(page.contains("id=\"import-done\""), "{page}");
    let active = c
        .app
        .state
        .store
        .list_orders(&OrderFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(active.items.len(), 3);
    assert!(active.items.iter().all(|o| o.district.as_str() == "north"));
    // A second click on the commit button imports nothing again.
    let csrf = c.csrf(&ivan).await;
    let r = c
        .post(&ivan, &format!("/imports/{id2}/commit"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again = c
        .app
        .state
        .store
        .list_orders(&OrderFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(again.items.len(), 3);

    let (_, list) = c.html(&ivan, "/imports").await;
    let newest = list.find(&id2).unwrap();
    let older = list.find(&id).unwrap();
    assert!(newest < older, "newest first");
    let tr = list.split(&format!("data-id=\"{id}\"")).nth(1).unwrap();
    let tr = tr.split("</tr>").next().unwrap();
    assert!(
        tr.contains("Imported") && tr.contains("<td class=\"num\">250</td>"),
        "{tr}"
    );
    let record = lazaret_server::services::imports::read(
        &c.app.state,
        &lazaret_server::services::Actor::new(
            "user:ivan",
            Role::Investigator,
            lazaret_core::district::DistrictScope::parse("north").unwrap(),
        ),
        &id2,
    )
    .await
    .unwrap();
    assert_eq!((record.rows, record.rows_done, record.changed), (3, 3, 3));
    assert_eq!(record.summary["created"], json!(3));
    let actions = c.actions("user:ivan").await;
    for a in [
        "import.check",
        "import.commit",
        "import.residences",
        "order.create",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
}

backends!(an_import_whose_server_stopped_is_failed_not_running_forever);
async fn an_import_whose_server_stopped_is_failed_not_running_forever(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    let ivan = c.session("ivan").await;
    let id = c
        .checked(&ivan, "residences", "north", &residences("Z", 2))
        .await;
    // Taken for writing by a process that then stopped (no writer here, no
    // heartbeat for longer than the silence allowed).
    let audit = lazaret_core::audit::AuditRecord {
        at: t0(),
        actor: "user:ivan".into(),
        action: "import.commit".into(),
        subject_type: "import".into(),
        subject_id: id.clone(),
        details: String::new(),
    };
    let taken = c
        .app
        .state
        .store
        .claim_import(
            &id,
            &lazaret_core::district::DistrictScope::All,
            t0() - Duration::minutes(10),
            &audit,
        )
        .await
        .unwrap();
    assert!(taken.is_some());
    let (_, page) = c.html(&ivan, &format!("/imports/{id}")).await;
    assert!(
        page.contains("id=\"import-refused\"") && page.contains("The import failed"),
        "{page}"
    );
    assert!(!c.person_exists("Z-1").await);
    // A running one heard of recently stays running.
    let id2 = c
        .checked(&ivan, "residences", "north", &residences("Y", 2))
        .await;
    c.app
        .state
        .store
        .claim_import(
            &id2,
            &lazaret_core::district::DistrictScope::All,
            t0() - Duration::seconds(30),
            &audit,
        )
        .await
        .unwrap();
    let (_, page) = c.html(&ivan, &format!("/imports/{id2}")).await;
    assert!(page.contains("id=\"progress\""), "{page}");
}

backends!(an_oversize_upload_is_refused_clearly);
async fn an_oversize_upload_is_refused_clearly(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;
    let max = c.app.state.config.max_body_bytes;
    let mut big = residences("B", 1).into_bytes();
    big.resize(max + 1024, b'\n');
    let r = c
        .upload(&ivan, Some(&csrf), "residences", "north", "big.csv", big)
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("The file is too large: at most {} MiB", max >> 20)),
        "{page}"
    );
    assert!(!c.person_exists("B-1").await);
    let (_, list) = c.html(&ivan, "/imports").await;
    assert!(list.contains("id=\"no-imports\""), "nothing recorded");
}

backends!(another_district_is_refused_and_its_imports_are_invisible);
async fn another_district_is_refused_and_its_imports_are_invisible(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    c.user("sam", Role::Investigator, "south").await;
    let ivan = c.session("ivan").await;
    let sam = c.session("sam").await;
    let csrf = c.csrf(&ivan).await;
    // The form's district must be hers.
    let r = c
        .upload(
            &ivan,
            Some(&csrf),
            "residences",
            "south",
            "r.csv",
            residences("X", 2).into_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Choose one of your districts"));
    // South's own import of S-1 and S-2.
    let south = c
        .checked(&sam, "residences", "south", &residences("S", 2))
        .await;
    c.commit_and_wait(&sam, &south).await;
    assert!(c.person_exists("S-1").await);
    // Not in north's history, and its page is not found.
    let (_, list) = c.html(&ivan, "/imports").await;
    assert!(!list.contains(&south), "{list}");
    let (s, _) = c.html(&ivan, &format!("/imports/{south}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = c
        .post(
            &ivan,
            &format!("/imports/{south}/commit"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A row naming south, and a person stored in south: bad rows.
    let mut csv =
        String::from("person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n");
    csv.push_str("N-1,Person N 1,,,B2,\"Main St 2, Zürich\",1,47.37,8.54,\n");
    csv.push_str("N-2,Person N 2,,,B2,\"Main St 2, Zürich\",2,47.37,8.54,south\n");
    csv.push_str("S-1,Renamed by north,,,B2,\"Main St 2, Zürich\",3,47.37,8.54,\n");
    let r = c
        .upload(
            &ivan,
            Some(&csrf),
            "residences",
            "north",
            "mixed.csv",
            csv.into_bytes(),
        )
        .await;
    let id = import_id(&r);
    let (_, page) = c.html(&ivan, &format!("/imports/{id}")).await;
    assert!(page.contains("<td class=\"num\">3</td><td class=\"mono\">district</td><td>south is not one of your districts</td>"), "{page}");
    assert!(page.contains("<td class=\"num\">4</td><td class=\"mono\">person_id</td><td>person S-1 is stored in a district that is not yours</td>"), "{page}");
    assert!(!c.person_exists("N-1").await);
    let s1 = c
        .app
        .state
        .store
        .get_person(&PersonId::parse("S-1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s1.full_name.as_str(),
        "Person S 1",
        "south's person untouched"
    );
    // Test results for a person of south: bad rows too.
    let tests = "test_id,person_id,sampled_at,result,lab,symptom_onset\nT-1,S-1,2026-03-08T10:00:00Z,positive,Lab,\n";
    let r = c
        .upload(
            &ivan,
            Some(&csrf),
            "tests",
            "north",
            "tests.csv",
            tests.as_bytes().to_vec(),
        )
        .await;
    let (_, page) = c.html(&ivan, &format!("/imports/{}", import_id(&r))).await;
    assert!(
        page.contains("person S-1 is stored in a district that is not yours"),
        "{page}"
    );
}

backends!(forms_need_the_csrf_token_and_the_role);
async fn forms_need_the_csrf_token_and_the_role(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    c.user("ada", Role::Admin, "*").await;
    c.user("ann", Role::Analyst, "north").await;
    let ivan = c.session("ivan").await;
    // No token, or another session's: refused, nothing recorded.
    let r = c
        .upload(
            &ivan,
            None,
            "residences",
            "north",
            "r.csv",
            residences("C", 1).into_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let nora = c.session("nora").await;
    let noras = c.csrf(&nora).await;
    let r = c
        .upload(
            &ivan,
            Some(&noras),
            "residences",
            "north",
            "r.csv",
            residences("C", 1).into_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, list) = c.html(&ivan, "/imports").await;
    assert!(list.contains("id=\"no-imports\""));
    // A commit without the token leaves the file waiting.
    let id = c
        .checked(&ivan, "residences", "north", &residences("C", 1))
        .await;
    let r = c.post(&ivan, &format!("/imports/{id}/commit"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert!(!c.person_exists("C-1").await);
    let (_, page) = c.html(&ivan, &format!("/imports/{id}")).await;
    assert!(page.contains("commit-button"));

    // A compliance officer imports orders only, and sees only those.
    let (s, form) = c.html(&nora, "/imports").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains("value=\"orders\"") && !form.contains("value=\"residences\""),
        "{form}"
    );
    assert!(!form.contains(&id), "an exposure import is not hers to see");
    let (s, _) = c.html(&nora, &format!("/imports/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = c
        .upload(
            &nora,
            Some(&noras),
            "residences",
            "north",
            "r.csv",
            residences("D", 1).into_bytes(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!c.person_exists("D-1").await);
    // Roles that import nothing: no page, no entry in the navigation.
    for who in ["ada", "ann"] {
        let s = c.session(who).await;
        let (status, _) = c.html(&s, "/imports").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        let (_, account) = c.html(&s, "/account").await;
        assert!(!account.contains("href=\"/imports\""), "{who}");
    }
    let (_, account) = c.html(&ivan, "/account").await;
    assert!(account.contains("href=\"/imports\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("register-bad.csv");
    let mut csv = residences("W", 3);
    csv.push_str("W-4,Person W 4,,,B1,\"Main St 1, Zürich\",4,47.37,east\n");
    std::fs::write(&bad, csv).unwrap();
    let good = dir.path().join("register.csv");
    // Large enough that the progress page shows before the end.
    std::fs::write(&good, residences("W", 150_000)).unwrap();
    let mut failures = Vec::new();
    let ivan_session = c.session("ivan").await;
    let mut held = String::new();

    for (size, tag) in [(LAPTOP, "laptop"), (TABLET, "tablet")] {
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ivan").await;
        b.goto(&format!("{}/imports", c.base)).await;
        b.text_of("#upload-title", WAIT).await;
        look(&b, axe.as_deref(), &format!("imports-{tag}"), &mut failures).await;
        if tag == "laptop" {
            // A file with one bad row: its line, column and reason; nothing stored.
            b.click("#i-kind option[value=residences]").await;
            b.upload("#i-file", &bad).await;
            b.click("#check").await;
            let reason = b.text_of("#errors tbody tr", WAIT).await;
            assert!(
                reason.contains("lon") && reason.contains("\"east\" is not a number"),
                "{reason}"
            );
            assert!(!c.person_exists("W-1").await);
            look(
                &b,
                axe.as_deref(),
                &format!("import-errors-{tag}"),
                &mut failures,
            )
            .await;
            // Then a good one: checked, committed, progress until done.
            b.goto(&format!("{}/imports", c.base)).await;
            b.click("#i-kind option[value=residences]").await;
            b.upload("#i-file", &good).await;
            b.click("#check").await;
            b.text_of("#import-clean", std::time::Duration::from_secs(60))
                .await;
            look(
                &b,
                axe.as_deref(),
                &format!("import-checked-{tag}"),
                &mut failures,
            )
            .await;
            b.click("#commit-button").await;
            b.wait_for(
                "the import's page",
                "return document.getElementById('progress-text') !== null || document.getElementById('import-done') !== null;",
                WAIT,
            )
            .await;
            b.wait_for(
                "the import to finish (the page reloads itself)",
                "return document.getElementById('import-done') !== null;",
                std::time::Duration::from_secs(60),
            )
            .await;
            assert!(c.person_exists("W-150000").await);
            look(
                &b,
                axe.as_deref(),
                &format!("import-done-{tag}"),
                &mut failures,
            )
            .await;
            // An import caught half-way, held there (taken for writing with
            // nothing writing it), for the progress page: it reloads itself.
            held = c.held_half_way(&ivan_session).await;
            b.goto(&format!("{}/imports/{held}", c.base)).await;
            b.text_of("#progress-text", WAIT).await;
            b.exec("window.lazaretMark = 1; return null;", json!([]))
                .await;
            b.wait_for(
                "the progress page to reload itself",
                "return window.lazaretMark === undefined && document.getElementById('progress-text') !== null;",
                WAIT,
            )
            .await;
            look(
                &b,
                axe.as_deref(),
                &format!("import-progress-{tag}"),
                &mut failures,
            )
            .await;
        } else {
            // The same pages at the tablet's size: the progress, and the
            // refused and done imports.
            b.goto(&format!("{}/imports/{held}", c.base)).await;
            b.text_of("#progress-text", WAIT).await;
            look(
                &b,
                axe.as_deref(),
                &format!("import-progress-{tag}"),
                &mut failures,
            )
            .await;
            let all = c
                .app
                .state
                .store
                .list_imports(
                    &lazaret_core::district::DistrictScope::All,
                    &["residences"],
                    10,
                )
                .await
                .unwrap();
            let id_of = |name: &str| {
                all.iter()
                    .find(|r| r.file_name == name)
                    .map(|r| r.id.clone())
                    .unwrap()
            };
            b.goto(&format!("{}/imports/{}", c.base, id_of("register-bad.csv")))
                .await;
            b.text_of("#import-refused", WAIT).await;
            look(
                &b,
                axe.as_deref(),
                &format!("import-errors-{tag}"),
                &mut failures,
            )
            .await;
            b.goto(&format!("{}/imports/{}", c.base, id_of("register.csv")))
                .await;
            b.text_of("#import-done", WAIT).await;
            look(
                &b,
                axe.as_deref(),
                &format!("import-done-{tag}"),
                &mut failures,
            )
            .await;
        }
        b.quit().await;
    }
    // And in Russian.
    let b = driver.window_session(LAPTOP, "ru-RU,ru").await;
    sign_in(&b, &c.base, "ivan").await;
    b.goto(&format!("{}/imports", c.base)).await;
    assert_eq!(b.text_of("h1", WAIT).await, "Импорт");
    look(&b, axe.as_deref(), "imports-ru-laptop", &mut failures).await;
    b.goto(&format!("{}/imports/{held}", c.base)).await;
    b.text_of("#progress-text", WAIT).await;
    look(
        &b,
        axe.as_deref(),
        "import-progress-ru-laptop",
        &mut failures,
    )
    .await;
    b.quit().await;
    assert!(
        failures.is_empty(),
        "accessibility:\n{}",
        failures.join("\n")
    );
}

// The accounts pages (administrators).

/// Signs `name` in with `password` through the form; the session cookie,
/// or None when the login is refused.
async fn sign_in_with(c: &Console, name: &str, password: &str) -> Option<String> {
    let r = c
        .client
        .get(format!("{}/login", c.base))
        .send()
        .await
        .unwrap();
    let nonce = crate::console::set_cookie(&r, "lazaret_login_csrf").unwrap();
    let r = c
        .client
        .post(format!("{}/login", c.base))
        .header("cookie", format!("lazaret_login_csrf={nonce}"))
        .form(&[
            ("username", name),
            ("password", password),
            ("csrf", nonce.as_str()),
        ])
        .send()
        .await
        .unwrap();
    (r.status() == StatusCode::SEE_OTHER)
        .then(|| crate::console::set_cookie(&r, "lazaret_session"))
        .flatten()
}

/// The secret a page shows once.
fn secret_of(page: &str) -> String {
    page.split("id=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned()
}

async fn user_record(c: &Console, name: &str) -> lazaret_store::UserRecord {
    c.app
        .state
        .store
        .get_user_by_name(name)
        .await
        .unwrap()
        .unwrap()
}

backends!(an_admin_creates_disables_and_unlocks_accounts);
async fn an_admin_creates_disables_and_unlocks_accounts(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ada", Role::Admin, "*").await;
    let ada = c.session("ada").await;
    let csrf = c.csrf(&ada).await;
    // Create olga with a generated password, shown once.
    let r = c
        .post(
            &ada,
            "/users",
            &[
                ("csrf", &csrf),
                ("username", "olga"),
                ("role", "investigator"),
                ("districts", "north"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let password = secret_of(&r.text().await.unwrap());
    assert_eq!(password.len(), 20);
    let olga = user_record(&c, "olga").await;
    assert_eq!(
        (olga.role, olga.districts.to_string()),
        (Role::Investigator, "north".to_owned())
    );
    let (_, page) = c.html(&ada, "/users/olga").await;
    assert!(!page.contains(&password), "never shown again");
    // She signs in with it.
    let olga_session = sign_in_with(&c, "olga", &password)
        .await
        .expect("olga signs in");
    let (_, list) = c.html(&ada, "/users").await;
    let row = list
        .split("data-id=\"olga\"")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        row.contains("Investigator") && row.contains("north") && row.contains("Active"),
        "{row}"
    );
    assert!(!row.contains("Never"), "her last sign-in: {row}");
    // The same name again: refused.
    let r = c
        .post(
            &ada,
            "/users",
            &[
                ("csrf", &csrf),
                ("username", "olga"),
                ("role", "analyst"),
                ("districts", "north"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Locked out after failures; the admin unlocks her.
    c.app
        .state
        .store
        .record_login_failure(
            "10.0.0.9",
            Some((
                &olga.id,
                lazaret_store::FailurePolicy {
                    max_failures: 1,
                    lock_until: t0() + Duration::minutes(15),
                },
            )),
            t0(),
            t0() - Duration::hours(1),
            &lazaret_core::audit::AuditRecord {
                at: t0(),
                actor: "client:10.0.0.9".into(),
                action: "auth.login_failed".into(),
                subject_type: "user".into(),
                subject_id: "olga".into(),
                details: "reason=wrong_password".into(),
            },
        )
        .await
        .unwrap();
    assert!(
        sign_in_with(&c, "olga", &password).await.is_none(),
        "locked"
    );
    let (_, page) = c.html(&ada, "/users/olga").await;
    assert!(
        page.contains("Locked") && page.contains("id=\"unlock\""),
        "{page}"
    );
    let r = c.post(&ada, "/users/olga/unlock", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let u = user_record(&c, "olga").await;
    assert_eq!((u.failed_logins, u.locked_until), (0, None));
    assert!(
        sign_in_with(&c, "olga", &password).await.is_some(),
        "unlocked"
    );

    // Districts, a new password, a token.
    let r = c
        .post(
            &ada,
            "/users/olga/districts",
            &[("csrf", &csrf), ("districts", "north,south")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        user_record(&c, "olga").await.districts.to_string(),
        "north,south"
    );
    let r = c
        .post(&ada, "/users/olga/password", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let new_password = secret_of(&r.text().await.unwrap());
    assert_ne!(new_password, password);
    assert!(
        sign_in_with(&c, "olga", &password).await.is_none(),
        "the old one is gone"
    );
    assert!(sign_in_with(&c, "olga", &new_password).await.is_some());
    let r = c
        .post(
            &ada,
            "/users/olga/tokens",
            &[("csrf", &csrf), ("days", "30")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = secret_of(&r.text().await.unwrap());
    assert!(token.starts_with("lzt_"), "{token}");
    let me = c
        .client
        .get(format!("{}/api/v1/persons", c.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK, "the token works");
    let tokens = c.app.state.store.list_tokens().await.unwrap();
    let t = tokens
        .iter()
        .find(|l| l.username.as_deref() == Some("olga"))
        .unwrap();
    let (_, page) = c.html(&ada, "/users/olga").await;
    assert!(
        page.contains(t.token.id.as_str()) && !page.contains(&token),
        "listed, secret not shown"
    );
    // Revoking through another account's path is not found.
    c.user("bob", Role::Analyst, "north").await;
    let r = c
        .post(
            &ada,
            &format!("/users/bob/tokens/{}/revoke", t.token.id.as_str()),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .post(
            &ada,
            &format!("/users/olga/tokens/{}/revoke", t.token.id.as_str()),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let me = c
        .client
        .get(format!("{}/api/v1/persons", c.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "revoked");

    // Disabled: her session ends and she cannot sign in.
    let r = c
        .post(&ada, "/users/olga/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(user_record(&c, "olga").await.disabled_at.is_some());
    let r = c.get(&olga_session, "/account", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out");
    assert!(sign_in_with(&c, "olga", &new_password).await.is_none());
    let (_, page) = c.html(&ada, "/users/olga").await;
    assert!(
        page.contains("Disabled") && !page.contains("id=\"disable\""),
        "{page}"
    );

    let actions = c.actions("user:ada").await;
    for a in [
        "user.create",
        "user.unlock",
        "user.set_districts",
        "user.reset_password",
        "token.revoke",
        "user.disable",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
}

backends!(only_an_admin_manages_accounts);
async fn only_an_admin_manages_accounts(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ada", Role::Admin, "*").await;
    c.user("ivan", Role::Investigator, "*").await;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;
    for path in ["/users", "/users/ada"] {
        let (s, page) = c.html(&ivan, path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("Only administrators manage accounts."));
    }
    let r = c
        .post(
            &ivan,
            "/users",
            &[
                ("csrf", &csrf),
                ("username", "eve"),
                ("role", "admin"),
                ("districts", "*"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(c
        .app
        .state
        .store
        .get_user_by_name("eve")
        .await
        .unwrap()
        .is_none());
    let r = c
        .post(&ivan, "/users/ada/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(user_record(&c, "ada").await.disabled_at.is_none());
    let (_, account) = c.html(&ivan, "/account").await;
    assert!(!account.contains("href=\"/users\""));
    // The admin: the entry, and a form without the session's token refused.
    let ada = c.session("ada").await;
    let (_, account) = c.html(&ada, "/account").await;
    assert!(account.contains("href=\"/users\""));
    let r = c
        .post(&ada, "/users/ivan/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "ivan's token is not ada's"
    );
    let r = c.post(&ada, "/users/ivan/disable", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(user_record(&c, "ivan").await.disabled_at.is_none());
    let (s, _) = c.html(&ada, "/users/nobody").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Not her own account.
    let own = c.csrf(&ada).await;
    let r = c.post(&ada, "/users/ada/disable", &[("csrf", &own)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(user_record(&c, "ada").await.disabled_at.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let c = Console::start(&db).await;
    c.user("ada", Role::Admin, "*").await;
    c.user("ivan", Role::Investigator, "north").await;
    let mut failures = Vec::new();
    for (size, tag) in [(LAPTOP, "laptop"), (TABLET, "tablet")] {
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ada").await;
        b.click("nav a[href='/users']").await;
        b.text_of("#users", WAIT).await;
        look(&b, axe.as_deref(), &format!("users-{tag}"), &mut failures).await;
        // A new account: its password shown once.
        let name = format!("olga-{tag}");
        b.type_into("#u-name", &name).await;
        b.type_into("#u-districts", "north").await;
        b.click("#create-user").await;
        let secret = b.text_of("#secret", WAIT).await;
        assert_eq!(secret.len(), 20, "{secret}");
        assert!(c
            .app
            .state
            .store
            .get_user_by_name(&name)
            .await
            .unwrap()
            .is_some());
        look(
            &b,
            axe.as_deref(),
            &format!("user-created-{tag}"),
            &mut failures,
        )
        .await;
        b.goto(&format!("{}/users/ivan", c.base)).await;
        b.text_of("#user-name", WAIT).await;
        look(&b, axe.as_deref(), &format!("user-{tag}"), &mut failures).await;
        b.quit().await;
    }
    assert!(
        failures.is_empty(),
        "accessibility:\n{}",
        failures.join("\n")
    );
}
