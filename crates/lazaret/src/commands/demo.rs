//! `lazaret demo`: a fresh database with a small outbreak scenario, served.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{Duration, Utc};
use clap::Args;
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::{Coordinates, Geofence, DEFAULT_RADIUS_M};
use lazaret_core::ids::{OrderId, PersonId, TestId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_core::user::Role;
use lazaret_server::prompting::{hash_token, random_token};
use lazaret_server::services::{accounts, Actor};
use lazaret_server::symptom_forms::issue_symptom_form;
use lazaret_server::Config;
use lazaret_store::{EnrollmentLink, PageRequest, PersonFilter, Store};

use super::serve::{bind, open_store, serve_on, ServeArgs};

/// The default demo database; recreated on every run.
pub const DEMO_DB: &str = "sqlite://lazaret-demo.db";

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
}

struct DemoPerson {
    id: &'static str,
    name: &'static str,
    phone: &'static str,
    email: &'static str,
    language: &'static str,
}

const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        id: "demo-ana",
        name: "Ana Lima",
        phone: "+41 79 100 00 01",
        email: "ana@example.org",
        language: "en",
    },
    DemoPerson {
        id: "demo-boris",
        name: "Boris Orlov",
        phone: "+41 79 100 00 02",
        email: "boris@example.org",
        language: "ru",
    },
    DemoPerson {
        id: "demo-chen",
        name: "Chen Wei",
        phone: "+41 79 100 00 03",
        email: "chen@example.org",
        language: "en",
    },
    DemoPerson {
        id: "demo-dara",
        name: "Dara Novak",
        phone: "+41 79 100 00 04",
        email: "dara@example.org",
        language: "en",
    },
    DemoPerson {
        id: "demo-emil",
        name: "Emil Keller",
        phone: "+41 79 100 00 05",
        email: "emil@example.org",
        language: "en",
    },
];

/// Seeds the scenario of DESIGN.md: Ana lands with a positive airport test
/// and isolates at home; her neighbour Boris and taxi driver Chen are close
/// contacts under quarantine; Dara arrived from an area under a travel
/// measure; Emil's order is only proposed, awaiting an officer. Returns
/// the orders.
/// The demo's two districts: the case and her household in `north`, the
/// others in `south`, so that a district officer sees only part of it.
fn demo_district(person_id: &str) -> &'static str {
    match person_id {
        "demo-ana" | "demo-boris" | "demo-chen" => "north",
        _ => "south",
    }
}

/// The demo's officer accounts: name, role, districts.
const ACCOUNTS: [(&str, Role, &str); 4] = [
    ("admin", Role::Admin, "*"),
    ("tracer", Role::Investigator, "*"),
    ("north.officer", Role::ComplianceOfficer, "north"),
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

async fn seed(store: &Store) -> Result<Vec<QuarantineOrder>> {
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let now = Utc::now();
    let audit = |action: &str, kind: &str, id: &str| AuditRecord {
        at: now,
        actor: "demo".into(),
        action: action.into(),
        subject_type: kind.into(),
        subject_id: id.into(),
        details: "demo scenario".into(),
    };
    for p in PEOPLE {
        let person = Person {
            id: PersonId::parse(p.id)?,
            full_name: FullName::parse(p.name)?,
            phone: Some(Phone::parse(p.phone)?),
            email: Some(Email::parse(p.email)?),
            language: Language::parse(p.language)?,
            district: District::parse(demo_district(p.id))?,
        };
        store
            .insert_person(&person, now, &audit("person.create", "person", p.id))
            .await?;
    }
    let case_test = TestId::parse("demo-test-ana")?;
    let ana = PersonId::parse("demo-ana")?;
    let orders = [
        (
            "demo-ana",
            "Seefeldstrasse 12, 8008 Zürich",
            47.3594,
            8.5532,
            OrderBasis::PositiveTest {
                test_id: case_test.clone(),
            },
            OrderStatus::Active,
        ),
        (
            "demo-boris",
            "Seefeldstrasse 12, 8008 Zürich",
            47.3594,
            8.5532,
            OrderBasis::Contact {
                case_id: ana.clone(),
                test_id: case_test.clone(),
            },
            OrderStatus::Active,
        ),
        (
            "demo-chen",
            "Badenerstrasse 300, 8004 Zürich",
            47.3790,
            8.5120,
            OrderBasis::Contact {
                case_id: ana.clone(),
                test_id: case_test.clone(),
            },
            OrderStatus::Active,
        ),
        (
            "demo-dara",
            "Limmatquai 70, 8001 Zürich",
            47.3725,
            8.5440,
            OrderBasis::Arrival {
                area: "area under travel measure A".into(),
            },
            OrderStatus::Active,
        ),
        (
            "demo-emil",
            "Hardturmstrasse 5, 8005 Zürich",
            47.3920,
            8.5060,
            OrderBasis::Contact {
                case_id: ana.clone(),
                test_id: case_test.clone(),
            },
            OrderStatus::Proposed,
        ),
    ];
    let mut seeded = Vec::new();
    for (person, address, lat, lon, basis, status) in orders {
        let order = QuarantineOrder {
            id: OrderId::generate(),
            person_id: PersonId::parse(person)?,
            address: Address::parse(address)?,
            geofence: Geofence::new(Coordinates::new(lat, lon)?, DEFAULT_RADIUS_M)?,
            starts_at: now - Duration::days(1),
            ends_at: now + Duration::days(13),
            time_zone: TimeZone::parse("Europe/Zurich")?,
            bases: vec![basis],
            status,
            status_reason: None,
            district: District::parse(demo_district(person))?,
            created_at: now,
            updated_at: now,
        };
        store
            .insert_order(&order, &audit("order.create", "order", order.id.as_str()))
            .await?;
        seeded.push(order);
    }
    Ok(seeded)
}

/// Links to the person's pages for trying them in a browser: Boris's
/// symptom form (in Russian, his language) and Dara's self-enrolment.
async fn page_links(
    store: &Store,
    config: &Config,
    base: &str,
    orders: &[QuarantineOrder],
) -> Result<()> {
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let now = Utc::now();
    let of = |person: &str| {
        orders
            .iter()
            .find(|o| o.person_id.as_str() == person)
            .context("demo order missing")
    };
    let base = config.public_url.as_deref().unwrap_or(base);
    let base = base.trim_end_matches('/');
    let boris = of("demo-boris")?;
    // The demo prints the link instead of sending it: no message.
    let form = issue_symptom_form(store, None, boris, "demo", now, "demo")
        .await?
        .context("demo symptom form")?;
    let dara = of("demo-dara")?;
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
    println!("Pages (the camera and location need https, or this machine's own browser):");
    println!(
        "  Boris's symptom form: {base}/symptoms#token={}",
        form.token
    );
    println!("  Dara's enrolment:     {base}/enroll#token={token}");
    println!(
        "  then approve it (POST /api/v1/orders/{}/enrollment/approve) and prompt her \
         (POST /api/v1/orders/{}/prompts): its token opens {base}/checkin#token=…",
        dara.id, dara.id
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
    let orders = seed(&store).await?;
    // Officer accounts with random passwords, and the tracer's API token.
    let state = lazaret_server::AppState::new(store.clone(), config.clone());
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
        "Lazaret demo: {} persons and orders seeded in {}",
        PEOPLE.len(),
        config.database_url_for_display()
    );
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
    page_links(&store, &config, &base, &orders).await?;
    println!("Console: {base}/login — sign in as one of these (passwords shown once):");
    for (username, role, districts, password) in &logins {
        println!("  {username:<14} {password}  ({role}, districts {districts})");
    }
    println!("Investigator token (the tracer's, 90 days):");
    println!("{token}");
    serve_on(listener, config, store).await
}
