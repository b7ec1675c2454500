//! Officer accounts over real HTTP: the console's sign-in (`/login`, CSRF,
//! throttling per account and per address, TOTP), its sessions (idle and
//! absolute expiry on the test clock, sign-out), and API tokens owned by
//! accounts (expiry, revocation, a disabled owner, the audit log's names).

use std::sync::{Arc, Mutex};

use chrono::Duration;
use lazaret_core::district::DistrictScope;
use lazaret_core::user::Role;
use lazaret_server::config::AuthConfig;
use lazaret_server::services::accounts::{self, NewAccount};
use lazaret_server::services::Actor;
use lazaret_server::{App, Clock, Config};
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use lazaret_store::AuditFilter;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};

use crate::support::{self, t0, TestClock};

const PASSWORD: &str = "correct horse battery staple";

struct Console {
    base: String,
    client: Client,
    app: App,
    clock: Arc<TestClock>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn admin() -> Actor {
    Actor::new("cli:test", Role::Admin, DistrictScope::All)
}

impl Console {
    async fn start(db: &TestDb, auth: AuthConfig) -> Console {
        let config = Config {
            auth,
            ..Config::default()
        };
        Console::start_with(db, config).await
    }

    async fn start_with(db: &TestDb, config: Config) -> Console {
        let clock = Arc::new(TestClock(Mutex::new(t0())));
        let app = App::builder(config, db.store.clone())
            .clock(clock.clone())
            .unannounced()
            .build()
            .unwrap();
        let (listener, base) = support::bind_local().await;
        let stop = support::spawn_server(listener, &app);
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        Console {
            base,
            client,
            app,
            clock,
            _stop: stop,
        }
    }

    async fn user(&self, name: &str, role: Role, districts: &str) {
        accounts::create_user(
            &self.app.state,
            &admin(),
            NewAccount {
                username: name.into(),
                role,
                districts: DistrictScope::parse(districts).unwrap(),
                password: PASSWORD.into(),
            },
        )
        .await
        .unwrap();
    }

    /// The login form's CSRF nonce and its cookie.
    async fn login_form(&self) -> (String, String) {
        let r = self
            .client
            .get(format!("{}/login", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let cookie = set_cookie(&r, "lazaret_login_csrf").expect("the form sets its CSRF cookie");
        let html = r.text().await.unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        assert_eq!(
            csrf, cookie,
            "double submit: the field and the cookie agree"
        );
        (csrf, cookie)
    }

    async fn post_login<F: serde::Serialize + ?Sized>(
        &self,
        cookie: Option<&str>,
        fields: &F,
    ) -> Response {
        let mut req = self
            .client
            .post(format!("{}/login", self.base))
            .form(fields);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("lazaret_login_csrf={c}"));
        }
        req.send().await.unwrap()
    }

    async fn login(&self, user: &str, password: &str, totp: Option<&str>) -> Response {
        let (csrf, cookie) = self.login_form().await;
        let mut fields = vec![("username", user), ("password", password), ("csrf", &csrf)];
        if let Some(t) = totp {
            fields.push(("totp", t));
        }
        self.post_login(Some(&cookie), &fields).await
    }

    /// Logs in and returns the session cookie's value.
    async fn session(&self, user: &str) -> String {
        let r = self.login(user, PASSWORD, None).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        assert_eq!(
            r.headers()["location"],
            "/alerts",
            "sign-in lands on the queue"
        );
        set_cookie(&r, "lazaret_session").unwrap()
    }

    async fn account(&self, session: &str) -> Response {
        self.client
            .get(format!("{}/account", self.base))
            .header("cookie", format!("lazaret_session={session}"))
            .send()
            .await
            .unwrap()
    }

    async fn api(&self, token: &str) -> StatusCode {
        self.client
            .get(format!("{}/api/v1/orders", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }

    async fn audit(&self, action: &str) -> Vec<lazaret_core::audit::AuditEvent> {
        self.app
            .state
            .store
            .audit_search(
                &AuditFilter {
                    action: Some(action.into()),
                    ..Default::default()
                },
                1000,
            )
            .await
            .unwrap()
    }
}

/// The value a `Set-Cookie` header of the response gives `name`.
fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn redirects_to_login(r: &Response) -> bool {
    r.status() == StatusCode::SEE_OTHER && r.headers()["location"] == "/login"
}

backends!(a_right_password_opens_a_session_shown_on_the_account_page);
async fn a_right_password_opens_a_session_shown_on_the_account_page(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north,south").await;
    let r = c.login("alice", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let header = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("lazaret_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(header.contains(attr), "{header}");
    }
    assert!(!header.contains("Secure"), "http here: {header}");
    let session = set_cookie(&r, "lazaret_session").unwrap();
    let page = c.account(&session).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Signed in as alice"), "{html}");
    assert!(!html.contains("{{"), "every placeholder filled: {html}");
    assert!(
        html.contains("investigator") && html.contains("north, south"),
        "{html}"
    );
    // Idle end: 30 minutes from now; absolute end: 12 hours after login.
    assert!(html.contains("2026-03-10 09:30 UTC") && html.contains("2026-03-10 21:00 UTC"));
    // The stored session is the cookie's hash, never the cookie.
    let login = c.audit("auth.login").await;
    assert_eq!(login.len(), 1);
    assert_eq!(login[0].actor, "user:alice");
    assert!(c
        .app
        .state
        .store
        .get_session(&session)
        .await
        .unwrap()
        .is_none());
    // Already signed in: the form sends you on.
    let again = c
        .client
        .get(format!("{}/login", c.base))
        .header("cookie", format!("lazaret_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["location"], "/alerts");
}

backends!(a_wrong_password_or_an_unknown_name_is_refused_alike_and_audited);
async fn a_wrong_password_or_an_unknown_name_is_refused_alike_and_audited(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    let wrong = c.login("alice", "not the password at all", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong, "lazaret_session").is_none());
    let wrong = wrong.text().await.unwrap();
    let unknown = c.login("mallory", PASSWORD, None).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    let message = |html: &str| {
        html.split("id=\"login-error\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_owned()
    };
    assert_eq!(message(&wrong), message(&unknown), "no username leaks");
    assert!(!wrong.contains("{{"), "{wrong}");
    // The name stays filled in; the password field takes the focus.
    assert!(wrong.contains("value=\"alice\""), "{wrong}");
    assert!(
        wrong.contains("aria-describedby=\"password-hint\" autofocus"),
        "{wrong}"
    );
    let failed = c.audit("auth.login_failed").await;
    let reasons: Vec<_> = failed
        .iter()
        .map(|e| (e.subject_id.as_str(), e.details.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("alice", "reason=wrong_password"),
            ("mallory", "reason=unknown_user")
        ]
    );
    assert!(
        failed[0].actor.starts_with("client:127.0.0.1"),
        "{}",
        failed[0].actor
    );
}

backends!(csrf_missing_or_wrong_is_refused);
async fn csrf_missing_or_wrong_is_refused(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    let (csrf, cookie) = c.login_form().await;
    let fields = |csrf: &str| {
        [
            ("username", "alice".to_owned()),
            ("password", PASSWORD.to_owned()),
            ("csrf", csrf.to_owned()),
        ]
    };
    // No field, no cookie, a field that is not the cookie's: all refused.
    let none = c.post_login(Some(&cookie), &fields("")).await;
    assert_eq!(none.status(), StatusCode::FORBIDDEN);
    let no_cookie = c.post_login(None, &fields(&csrf)).await;
    assert_eq!(no_cookie.status(), StatusCode::FORBIDDEN);
    let other = c.post_login(Some("0123abcd"), &fields(&csrf)).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&other, "lazaret_session").is_none());
    assert_eq!(c.audit("auth.login_failed").await.len(), 3);
    // With both it works.
    let ok = c.post_login(Some(&cookie), &fields(&csrf)).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&ok, "lazaret_session").unwrap();

    // Signing out needs the session's own token.
    let logout = |csrf: String, session: String| {
        c.client
            .post(format!("{}/logout", c.base))
            .header("cookie", format!("lazaret_session={session}"))
            .form(&[("csrf", csrf)])
            .send()
    };
    let r = logout("0".repeat(64), session.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.account(&session).await.status(),
        StatusCode::OK,
        "still signed in"
    );
    let r = logout(csrf, session.clone()).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the login nonce is not the session's"
    );
}

backends!(logout_ends_the_session);
async fn logout_ends_the_session(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    let session = c.session("alice").await;
    let html = c.account(&session).await.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let r = c
        .client
        .post(format!("{}/logout", c.base))
        .header("cookie", format!("lazaret_session={session}"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert!(redirects_to_login(&r));
    assert_eq!(set_cookie(&r, "lazaret_session").as_deref(), Some(""));
    assert!(
        redirects_to_login(&c.account(&session).await),
        "the old cookie is dead"
    );
    assert_eq!(c.audit("auth.logout").await[0].actor, "user:alice");
    // Without any session, a page sends you to sign in.
    assert!(redirects_to_login(&c.account("nonsense").await));
}

backends!(sessions_expire_when_idle_and_at_their_absolute_end);
async fn sessions_expire_when_idle_and_at_their_absolute_end(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    // Idle: 29 minutes keep it alive (and restart the idle time), 30 end it.
    let s = c.session("alice").await;
    c.clock.advance(Duration::minutes(29));
    assert_eq!(c.account(&s).await.status(), StatusCode::OK);
    c.clock.advance(Duration::minutes(29));
    assert_eq!(c.account(&s).await.status(), StatusCode::OK);
    c.clock.advance(Duration::minutes(30));
    assert!(redirects_to_login(&c.account(&s).await));

    // Absolute: busy all the time, it still ends 12 hours after login.
    let s = c.session("alice").await;
    for _ in 0..23 {
        c.clock.advance(Duration::minutes(29));
        assert_eq!(c.account(&s).await.status(), StatusCode::OK);
    }
    c.clock.advance(Duration::minutes(29)); // 24 × 29 min = 11 h 36 min
    assert_eq!(c.account(&s).await.status(), StatusCode::OK);
    c.clock.advance(Duration::minutes(24));
    assert!(redirects_to_login(&c.account(&s).await));
}

/// A long SQLite import holds the write lock for minutes: the console's
/// pages must still open (recording the session's activity is best effort),
/// and the activity is recorded again once the lock is free.
#[tokio::test]
async fn pages_open_while_another_writer_holds_the_sqlite_lock() {
    let db = TestDb::sqlite().await;
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    let s = c.session("alice").await;
    c.clock.advance(Duration::minutes(20));
    let writer = lazaret_store::testing::SqliteWriter::hold(&db.url).await;
    assert!(lazaret_store::testing::sqlite_write_lock_held(&db.url).await);
    let r = c.account(&s).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    writer.release().await;
    // Not recorded under the lock: the idle time still runs from sign-in…
    let at = |id_hash: String| {
        let store = db.store.clone();
        async move {
            store
                .get_session(&id_hash)
                .await
                .unwrap()
                .unwrap()
                .0
                .last_seen_at
        }
    };
    let id_hash = lazaret_server::prompting::hash_token(&s);
    assert_eq!(at(id_hash.clone()).await, t0());
    // …and the next page records it.
    assert_eq!(c.account(&s).await.status(), StatusCode::OK);
    assert_eq!(at(id_hash).await, t0() + Duration::minutes(20));
}

backends!(an_account_locks_after_repeated_failures_and_unlocks_later);
async fn an_account_locks_after_repeated_failures_and_unlocks_later(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    for _ in 0..5 {
        let r = c.login("alice", "a wrong password!", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with the same message.
    let r = c.login("alice", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let reasons: Vec<_> = c
        .audit("auth.login_failed")
        .await
        .into_iter()
        .map(|e| e.details)
        .collect();
    assert_eq!(reasons.len(), 6);
    assert_eq!(reasons[5], "reason=locked");
    c.clock.advance(Duration::minutes(14));
    assert_eq!(
        c.login("alice", PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED,
        "still locked"
    );
    c.clock.advance(Duration::minutes(2));
    c.session("alice").await;
}

backends!(parallel_attempts_try_no_more_passwords_than_the_limit);
async fn parallel_attempts_try_no_more_passwords_than_the_limit(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    // Twelve guesses at once (review finding 4: each read the failure count
    // before any recorded its own, so all twelve passwords were checked).
    let mut forms = Vec::new();
    for _ in 0..12 {
        forms.push(c.login_form().await);
    }
    let guesses: Vec<_> = forms
        .into_iter()
        .enumerate()
        .map(|(i, (csrf, cookie))| {
            let (client, url) = (c.client.clone(), format!("{}/login", c.base));
            tokio::spawn(async move {
                let password = format!("wrong password number {i}");
                let fields = [
                    ("username", "alice"),
                    ("password", password.as_str()),
                    ("csrf", csrf.as_str()),
                ];
                client
                    .post(url)
                    .form(&fields)
                    .header("cookie", format!("lazaret_login_csrf={cookie}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED));
    let reasons: Vec<String> = c
        .audit("auth.login_failed")
        .await
        .into_iter()
        .map(|e| e.details)
        .collect();
    let checked = reasons
        .iter()
        .filter(|r| *r == "reason=wrong_password")
        .count();
    assert_eq!(checked, 5, "only five passwords are tried: {reasons:?}");
    assert_eq!(
        reasons.iter().filter(|r| *r == "reason=locked").count(),
        7,
        "{reasons:?}"
    );
    assert_eq!(c.app.state.logins.in_flight(), 0);
}

backends!(a_new_password_or_second_factor_ends_the_accounts_sessions);
async fn a_new_password_or_second_factor_ends_the_accounts_sessions(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "north").await;
    let session = c.session("alice").await;
    assert_eq!(c.account(&session).await.status(), StatusCode::OK);
    accounts::reset_password(&c.app.state, &admin(), "alice", PASSWORD)
        .await
        .unwrap();
    assert!(
        redirects_to_login(&c.account(&session).await),
        "a reset password ends the sessions opened with the old one"
    );
    let session = c.session("alice").await;
    accounts::enroll_totp(&c.app.state, &admin(), "alice")
        .await
        .unwrap();
    assert!(redirects_to_login(&c.account(&session).await));
}

backends!(a_client_address_is_limited_across_accounts);
async fn a_client_address_is_limited_across_accounts(db: TestDb) {
    let auth = AuthConfig {
        address_max_failures: 3,
        ..AuthConfig::default()
    };
    let c = Console::start(&db, auth).await;
    c.user("alice", Role::Investigator, "north").await;
    // Three different names, one failure each: no account is locked…
    for name in ["bob", "carol", "dave"] {
        assert_eq!(
            c.login(name, PASSWORD, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // …but the address is: alice's right password is refused too.
    assert_eq!(
        c.login("alice", PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let last = c.audit("auth.login_failed").await.pop().unwrap();
    assert_eq!(last.details, "reason=address_limited");
    // The window moves on.
    c.clock.advance(Duration::minutes(16));
    c.session("alice").await;
}

backends!(a_disabled_account_cannot_log_in_and_loses_its_sessions_and_tokens);
async fn a_disabled_account_cannot_log_in_and_loses_its_sessions_and_tokens(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "*").await;
    let session = c.session("alice").await;
    let (_, token) = accounts::create_account_token(&c.app.state, &admin(), "alice", None)
        .await
        .unwrap();
    assert_eq!(c.api(&token).await, StatusCode::OK);
    accounts::disable_user(&c.app.state, &admin(), "alice")
        .await
        .unwrap();
    assert_eq!(c.api(&token).await, StatusCode::UNAUTHORIZED);
    assert!(redirects_to_login(&c.account(&session).await));
    assert_eq!(
        c.login("alice", PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let last = c.audit("auth.login_failed").await.pop().unwrap();
    assert_eq!(last.details, "reason=disabled");
    assert_eq!(c.audit("user.disable").await[0].actor, "cli:test");
}

backends!(tokens_expire_and_are_revoked_and_carry_the_accounts_role_and_name);
async fn tokens_expire_and_are_revoked_and_carry_the_accounts_role_and_name(db: TestDb) {
    let c = Console::start(&db, AuthConfig::default()).await;
    c.user("alice", Role::Investigator, "*").await;
    let state = &c.app.state;
    let (rec, token) = accounts::create_account_token(state, &admin(), "alice", Some(2))
        .await
        .unwrap();
    assert_eq!(rec.expires_at, Some(t0() + Duration::days(2)));
    assert_eq!(c.api(&token).await, StatusCode::OK);
    // The audit log names the account and the token.
    let reads = c.audit("order.list").await;
    let actor = format!("user:alice/token:{}", rec.id);
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].actor, actor);
    let r = c
        .client
        .post(format!("{}/api/v1/persons", c.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"id": "P1", "full_name": "Vera Lind", "phone": "+41791234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let created = c.audit("person.create").await;
    assert_eq!(created[0].actor, actor);
    // `actor=user:alice` finds the token's events (and the console's).
    let mine = state
        .store
        .audit_search(
            &AuditFilter {
                actor: Some("user:alice".into()),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    assert!(mine.iter().any(|e| e.action == "person.create"), "{mine:?}");
    assert!(mine.iter().all(|e| e.actor.starts_with("user:alice")));
    let not_prefix = state
        .store
        .audit_search(
            &AuditFilter {
                actor: Some("user:ali".into()),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    assert!(not_prefix.is_empty(), "{not_prefix:?}");

    // A change to the account applies to its token at once.
    accounts::set_districts(
        state,
        &admin(),
        "alice",
        DistrictScope::parse("north").unwrap(),
    )
    .await
    .unwrap();
    let officer = lazaret_server::auth::verify_token(&state.store, &token, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(officer.districts, DistrictScope::parse("north").unwrap());

    // Expiry on the clock.
    c.clock.advance(Duration::days(2));
    assert_eq!(c.api(&token).await, StatusCode::UNAUTHORIZED);

    // Revocation.
    let (rec, token) = accounts::create_service_token(
        state,
        &admin(),
        "hospital-feed",
        Role::Investigator,
        &DistrictScope::All,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        rec.expires_at,
        Some(t0() + Duration::days(2) + Duration::days(90)),
        "90 days by default"
    );
    assert_eq!(c.api(&token).await, StatusCode::OK);
    assert!(accounts::revoke_token(state, &admin(), rec.id.as_str())
        .await
        .unwrap());
    assert_eq!(c.api(&token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(c.audit("token.revoke").await.len(), 1);
}

backends!(totp_is_checked_and_can_be_required_per_role);
async fn totp_is_checked_and_can_be_required_per_role(db: TestDb) {
    let auth = AuthConfig {
        require_totp_roles: vec![Role::Admin],
        ..AuthConfig::default()
    };
    let c = Console::start(&db, auth).await;
    c.user("root", Role::Admin, "*").await;
    c.user("ivan", Role::Investigator, "north").await;
    // An admin without a second factor cannot log in, and is told why.
    let r = c.login("root", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("second factor"));
    // Other roles need none.
    c.session("ivan").await;

    let uri = accounts::enroll_totp(&c.app.state, &admin(), "root")
        .await
        .unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Lazaret:root?secret="),
        "{uri}"
    );
    let secret = uri
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap();
    let code = accounts::totp_code(secret, t0()).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        c.login("root", PASSWORD, Some(wrong)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        c.login("root", PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = c.login("root", PASSWORD, Some(&code)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A code works once.
    assert_eq!(
        c.login("root", PASSWORD, Some(&code)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    c.clock.advance(Duration::seconds(30));
    let next = accounts::totp_code(secret, c.clock.now()).unwrap();
    assert_eq!(
        c.login("root", PASSWORD, Some(&next)).await.status(),
        StatusCode::SEE_OTHER
    );
    let reasons: Vec<_> = c
        .audit("auth.login_failed")
        .await
        .into_iter()
        .map(|e| e.details)
        .collect();
    assert_eq!(
        reasons,
        [
            "reason=totp_not_enrolled",
            "reason=totp",
            "reason=totp",
            "reason=totp"
        ]
    );
    // The secret is stored for checking only and never listed.
    let listed = format!("{:?}", accounts::list_users(&c.app.state).await.unwrap());
    assert!(!listed.contains(secret));
}

#[tokio::test]
async fn a_secure_cookie_when_served_over_https() {
    let db = TestDb::sqlite().await;
    let clock = Arc::new(TestClock(Mutex::new(t0())));
    let config = Config {
        public_url: Some("https://lazaret.example.org".into()),
        ..Config::default()
    };
    let app = App::builder(config, db.store.clone())
        .clock(clock)
        .unannounced()
        .build()
        .unwrap();
    let (listener, base) = support::bind_local().await;
    let _stop = support::spawn_server(listener, &app);
    let r = Client::new()
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap();
    let c = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        c.starts_with("__Host-lazaret_login_csrf=") && c.contains("; Secure"),
        "{c}"
    );
}

backends!(totp_keys_are_sealed_with_the_template_key);
async fn totp_keys_are_sealed_with_the_template_key(db: TestDb) {
    let config = Config {
        template_key: lazaret_server::config::Secret::new(
            lazaret_server::template_crypto::TemplateKey::generate_hex(),
        ),
        ..Config::default()
    };
    let c = Console::start_with(&db, config).await;
    c.user("root", Role::Admin, "*").await;
    let uri = accounts::enroll_totp(&c.app.state, &admin(), "root")
        .await
        .unwrap();
    let secret = uri
        .split("secret=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap();
    let stored = c
        .app
        .state
        .store
        .get_user_by_name("root")
        .await
        .unwrap()
        .unwrap()
        .totp_secret
        .unwrap();
    assert!(
        stored.starts_with("x2:k1:") && !stored.contains(secret),
        "{stored}"
    );
    let code = accounts::totp_code(secret, t0()).unwrap();
    let r = c.login("root", PASSWORD, Some(&code)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
