//! `lazaret demo`: a fresh database with a small outbreak scenario, served.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{Duration, Utc};
use clap::Args;
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::user::Role;
use lazaret_server::prompting::{hash_token, random_token};
use lazaret_server::services::{accounts, Actor};
use lazaret_server::symptom_forms::{issue_symptom_form, FormFor};
use lazaret_server::Config;
use lazaret_store::{EnrollmentLink, PageRequest, PersonFilter, Store};

use super::demo_scenario;
use super::serve::{bind, open_store, serve_with, ServeArgs};
use lazaret_server::app::load_face_engine;

/// The default demo database; recreated on every run.
pub const DEMO_DB: &str = "sqlite://lazaret-demo.db";

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The demo's officer accounts: name, role, districts.
const ACCOUNTS: [(&str, Role, &str); 6] = [
    ("admin", Role::Admin, "*"),
    ("tracer", Role::Investigator, "*"),
    ("north.officer", Role::ComplianceOfficer, "north"),
    ("south.officer", Role::ComplianceOfficer, "south"),
    ("analyst", Role::Analyst, "*"),
    ("auditor", Role::Auditor, "*"),
];

/// A random password of 20 letters and digits (about 119 bits).
fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Links to the person's pages for trying them in a browser: Boris's
/// symptom form (in Russian, his language) and Dara's self-enrolment.
async fn page_links(
    store: &Store,
    config: &Config,
    base: &str,
    seeded: &demo_scenario::Seeded,
) -> Result<()> {
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let now = Utc::now();
    let base = config.public_url.as_deref().unwrap_or(base);
    let base = base.trim_end_matches('/');
    // The demo prints the links instead of sending them: no message.
    let form = issue_symptom_form(
        store,
        None,
        FormFor::Order(&seeded.boris),
        "demo-link",
        now,
        "demo",
    )
    .await?
    .context("demo symptom form")?;
    let dara = &seeded.dara;
    let token = random_token("lze");
    let link = EnrollmentLink::open(
        dara.id.clone(),
        hash_token(&token),
        "demo".into(),
        now,
        now + Duration::hours(config.enrollment_link_hours.into()),
    );
    let audit = AuditRecord {
        at: now,
        actor: "demo".into(),
        action: "enrollment.link_create".into(),
        subject_type: "order".into(),
        subject_id: dara.id.to_string(),
        details: format!("link={} demo scenario", link.id),
    };
    store.create_enrollment_link(&link, &audit).await?;
    println!(
        "The person's pages (the camera and location need https, or this machine's own browser):"
    );
    println!(
        "  Boris's symptom form: {base}/symptoms#token={}",
        form.token
    );
    println!("  Dara's enrolment:     {base}/enroll#token={token}");
    println!(
        "    then approve her photo on her order's page in the console, and prompt her \
         (POST /api/v1/orders/{}/prompts): its token opens {base}/checkin#token=…",
        dara.id
    );
    Ok(())
}

/// Removes an old demo database file and its WAL companions.
fn remove_sqlite_files(url: &str) -> Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    for suffix in ["", "-wal", "-shm", ".audit-checkpoint", "-audit-spool"] {
        let f = format!("{path}{suffix}");
        if Path::new(&f).exists() {
            std::fs::remove_file(&f).with_context(|| format!("removing old demo file {f}"))?;
        }
    }
    Ok(())
}

pub async fn run(mut config: Config, db_given: bool) -> Result<()> {
    if !db_given {
        config.database_url = lazaret_server::config::Secret::new(DEMO_DB);
        remove_sqlite_files(DEMO_DB)?;
    }
    if config.template_key.is_empty() {
        // The demo's templates live only as long as its database: a fresh
        // random key per run lets enrolment work without any set-up.
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        config.template_key = lazaret_server::config::Secret::new(hex);
    }
    if config.prompt_schedule_key.is_empty() {
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        config.prompt_schedule_key = lazaret_server::config::Secret::new(hex);
    }
    // Exposure and order notices name a number to call: an obvious placeholder.
    if config.notify.contact_phone.is_none() {
        config.notify.contact_phone = Some("+41 00 000 00 00".into());
    }
    // Likewise the audit chain's key (a fresh database each run); shown, so
    // that `audit verify` can be tried on the demo's chain.
    let demo_audit_key = config.audit_key.is_empty().then(|| {
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        config.audit_key = lazaret_server::config::Secret::new(hex.clone());
        hex
    });
    let store = open_store(&config).await?;
    let existing = store
        .list_persons(
            &PersonFilter::default(),
            &PageRequest {
                cursor: None,
                limit: Some(1),
            },
        )
        .await?;
    if !existing.items.is_empty() {
        bail!(
            "{} already holds data; the demo seeds only an empty database (omit --db to use a fresh {DEMO_DB})",
            config.database_url_for_display()
        );
    }
    // The database is empty: this marks it with the demo's kind of clock.
    lazaret_server::app::check_before_serving(&store, &config).await?;
    // The face engine first: the demo enrols two people with it. Unlike
    // `serve`, the demo fetches missing models (`lazaret models fetch`'s
    // checksum-pinned download); without them it runs with face work off.
    if config.face.enabled {
        let dir = config
            .models_dir
            .clone()
            .unwrap_or_else(lazaret_face::models_fetch::default_models_dir);
        let fetched =
            tokio::task::spawn_blocking(move || lazaret_face::models_fetch::ensure_models(&dir))
                .await?;
        if let Err(e) = fetched {
            tracing::warn!(error = %e, "face models unavailable; the demo runs without enrolment and check-ins");
            config.face.enabled = false;
        }
    }
    let face = match load_face_engine(&config).await {
        Ok(face) => face,
        Err(e) => {
            tracing::warn!(error = %e, "the demo runs without enrolment and check-ins");
            config.face.enabled = false;
            None
        }
    };
    let mut state = lazaret_server::AppState::new(store.clone(), config.clone());
    state.face = face.clone();
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let now = Utc::now();
    let seeded = demo_scenario::seed(&state, now).await?;
    // Officer accounts with random passwords, and the tracer's API token.
    let demo = Actor::new("demo", Role::Admin, DistrictScope::All);
    let mut logins = Vec::new();
    for (username, role, districts) in ACCOUNTS {
        let password = random_password();
        accounts::create_user(
            &state,
            &demo,
            accounts::NewAccount {
                username: username.into(),
                role,
                districts: DistrictScope::parse(districts)?,
                password: password.clone(),
            },
        )
        .await?;
        logins.push((username, role, districts, password));
    }
    let (_, token) = accounts::create_account_token(&state, &demo, "tracer", None).await?;
    // Bound first, so the links name the real port (`--listen 127.0.0.1:0`).
    let (listener, addr) = bind(&config).await?;
    let base = format!("http://{addr}");
    println!(
        "Lazaret demo in {}: {} persons; Ana's flight, building and taxi traced, {} contact orders \
         issued; {} enrolled with check-ins; a lab error corrected ({} orders released).",
        config.database_url_for_display(),
        seeded.persons,
        seeded.orders_issued,
        if seeded.enrolled.is_empty() {
            "nobody (face models unavailable)".to_owned()
        } else {
            seeded.enrolled.join(" and ")
        },
        seeded.released_by_revision,
    );
    println!();
    println!("Console: {base}/");
    println!("  Sign in as one of these (passwords shown once):");
    for (username, role, districts, password) in &logins {
        println!("  {username:<14} {password}  ({role}, districts {districts})");
    }
    println!(
        "  Start as `tracer` (everything), or `north.officer` (the alert queue of one district)."
    );
    println!();
    page_links(&store, &config, &base, &seeded).await?;
    println!();
    println!("API:");
    println!("  Health:  curl {base}/healthz");
    println!("  Persons: curl -H 'Authorization: Bearer {token}' {base}/api/v1/persons");
    println!("  Orders:  curl -H 'Authorization: Bearer {token}' {base}/api/v1/orders");
    println!("  OpenAPI: curl -H 'Authorization: Bearer {token}' {base}/api/v1/openapi.json");
    if let Some(key) = demo_audit_key {
        println!(
            "  Audit:   LAZARET_AUDIT_KEY={key} lazaret --db {} audit verify",
            config.database_url_for_display()
        );
    }
    println!("Investigator token (the tracer's, 90 days):");
    println!("{token}");
    serve_with(listener, config, store, face).await
}
