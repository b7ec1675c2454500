//! Storage stories, run on SQLite and (when configured) PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::{Language, Phone};
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{OrderId, PersonId, TokenId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_core::user::Role;
use lazaret_store::backends;
use lazaret_store::testing::{first_broken_link, TestDb};
use lazaret_store::{
    migration_sql, BackendKind, OrderFilter, PageRequest, PersonFilter, Store, StoreError,
    TokenRecord,
};

fn t0() -> DateTime<Utc> {
    "2026-03-01T08:00:00Z".parse().unwrap()
}

fn audit(action: &str, id: &str) -> AuditRecord {
    AuditRecord {
        at: t0(),
        actor: "test".into(),
        action: action.into(),
        subject_type: "person".into(),
        subject_id: id.into(),
        details: String::new(),
    }
}

fn person(id: &str, name: &str) -> Person {
    Person {
        id: PersonId::parse(id).unwrap(),
        full_name: FullName::parse(name).unwrap(),
        phone: Some(Phone::parse("+41441234567").unwrap()),
        email: None,
        language: Language::parse("ru").unwrap(),
        district: lazaret_core::district::District::unassigned(),
    }
}

fn order(id: &str, person: &str) -> QuarantineOrder {
    QuarantineOrder {
        id: OrderId::parse(id).unwrap(),
        person_id: PersonId::parse(person).unwrap(),
        address: Address::parse("Bahnhofstrasse 1, Zürich").unwrap(),
        geofence: Geofence::new(Coordinates::new(47.3769, 8.5417).unwrap(), 100.0).unwrap(),
        starts_at: t0(),
        ends_at: t0() + Duration::days(14),
        time_zone: TimeZone::parse("Europe/Zurich").unwrap(),
        bases: vec![OrderBasis::Arrival {
            area: "area-7".into(),
        }],
        status: OrderStatus::Active,
        status_reason: None,
        district: lazaret_core::district::District::unassigned(),
        created_at: t0(),
        updated_at: t0(),
    }
}

async fn add_person(s: &Store, id: &str, name: &str) {
    s.insert_person(&person(id, name), t0(), &audit("person.create", id))
        .await
        .unwrap();
}

/// The ids a name search lists.
async fn found(s: &Store, needle: &str) -> Vec<String> {
    let f = PersonFilter {
        name_contains: Some(needle.into()),
        districts: None,
    };
    let page = s.list_persons(&f, &PageRequest::default()).await.unwrap();
    page.items.iter().map(|p| p.id.to_string()).collect()
}

// The name search runs on an index (SQLite: FTS5 trigrams kept by triggers;
// PostgreSQL: pg_trgm), and must find exactly what a substring search finds.
backends!(name_search_finds_substrings_through_renames_and_imports);
async fn name_search_finds_substrings_through_renames_and_imports(db: TestDb) {
    let s = &db.store;
    add_person(s, "N1", "Lea Sato").await;
    add_person(s, "N2", "Leander Ito").await;
    add_person(s, "N3", "Иван Петров").await;
    add_person(s, "N4", "Mia \"Mo\" Kato").await;

    assert_eq!(found(s, "sato").await, ["N1"]);
    assert_eq!(found(s, "LEA").await, ["N1", "N2"]);
    assert_eq!(found(s, "a sa").await, ["N1"], "across the space");
    assert_eq!(found(s, "ato").await, ["N1", "N4"]);
    assert_eq!(found(s, "to").await, ["N1", "N2", "N4"], "two letters");
    assert_eq!(found(s, "ван п").await, ["N3"]);
    assert_eq!(found(s, "\"mo\"").await, ["N4"], "a quote is literal");
    assert!(found(s, "satoo").await.is_empty());
    if db.kind() == lazaret_store::BackendKind::Sqlite {
        // FTS5 folds case in every script; SQLite's LOWER only ASCII.
        assert_eq!(found(s, "ИВАН").await, ["N3"]);
    }

    // A rename moves the person in the index, and the old name is gone.
    let mut renamed = person("N1", "Lea Watanabe");
    renamed.district = lazaret_core::district::District::unassigned();
    s.update_person(&renamed, t0(), &audit("person.update", "N1"))
        .await
        .unwrap();
    assert!(found(s, "sato").await.is_empty());
    assert_eq!(found(s, "watanabe").await, ["N1"]);

    // Persons an import writes are found too.
    let csv = "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n\
               N9,Nils Sato,+41441234567,,B1,Main St 1,1,47.37,8.54\n";
    s.import_csv(
        lazaret_store::ImportKind::Residences,
        csv.as_bytes(),
        &lazaret_store::ImportOptions::default(),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(found(s, "sato").await, ["N9"]);
}

backends!(persons_round_trip_page_and_filter);
async fn persons_round_trip_page_and_filter(db: TestDb) {
    let s = &db.store;
    for i in 0..7 {
        add_person(s, &format!("P{i}"), &format!("Person {i}")).await;
    }
    add_person(s, "Q1", "Ana 100% Lima").await;
    let got = s.get_person(&PersonId::parse("P3").unwrap()).await.unwrap();
    assert_eq!(got, Some(person("P3", "Person 3")), "{:?}", db.kind());
    assert!(s
        .get_person(&PersonId::parse("nope").unwrap())
        .await
        .unwrap()
        .is_none());

    // Paging visits every row exactly once.
    let mut seen = vec![];
    let mut req = PageRequest {
        cursor: None,
        limit: Some(3),
    };
    loop {
        let page = s
            .list_persons(&PersonFilter::default(), &req)
            .await
            .unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|p| p.id.to_string()));
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, vec!["P0", "P1", "P2", "P3", "P4", "P5", "P6", "Q1"]);

    // LIKE wildcards in the filter are literal.
    let f = PersonFilter {
        name_contains: Some("100%".into()),
        districts: None,
    };
    let page = s.list_persons(&f, &PageRequest::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let f = PersonFilter {
        name_contains: Some("%".into()),
        districts: None,
    };
    assert_eq!(
        s.list_persons(&f, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    let bad = PageRequest {
        cursor: Some("!!".into()),
        limit: None,
    };
    assert!(matches!(
        s.list_persons(&PersonFilter::default(), &bad).await,
        Err(StoreError::InvalidCursor)
    ));
}

backends!(duplicate_person_conflicts_and_changes_nothing);
async fn duplicate_person_conflicts_and_changes_nothing(db: TestDb) {
    let s = &db.store;
    add_person(s, "P1", "First").await;
    let err = s
        .insert_person(&person("P1", "Second"), t0(), &audit("person.create", "P1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let p = s
        .get_person(&PersonId::parse("P1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.full_name.as_str(), "First");
    // The failed insert left no audit event behind.
    assert_eq!(s.audit_events(0, 100).await.unwrap().len(), 1);
}

backends!(orders_round_trip_filters_and_optimistic_update);
async fn orders_round_trip_filters_and_optimistic_update(db: TestDb) {
    let s = &db.store;
    add_person(s, "P1", "Ana").await;
    add_person(s, "P2", "Ben").await;
    let a = order("O1", "P1");
    let mut b = order("O2", "P2");
    b.status = OrderStatus::Proposed;
    s.insert_order(&a, &audit("order.create", "O1"))
        .await
        .unwrap();
    s.insert_order(&b, &audit("order.create", "O2"))
        .await
        .unwrap();
    assert_eq!(s.get_order(&a.id).await.unwrap().unwrap(), a);

    let f = OrderFilter {
        status: Some(OrderStatus::Proposed),
        person_id: None,
        districts: None,
    };
    let page = s.list_orders(&f, &PageRequest::default()).await.unwrap();
    assert_eq!(
        page.items.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["O2"]
    );
    let f = OrderFilter {
        status: None,
        person_id: Some(PersonId::parse("P1").unwrap()),
        districts: None,
    };
    assert_eq!(
        s.list_orders(&f, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // A stale writer loses; the first write stays.
    let read_at = a.updated_at;
    let mut first = a.clone();
    first
        .transition(
            OrderStatus::Released,
            Some("lab error"),
            t0() + Duration::hours(1),
        )
        .unwrap();
    s.update_order(&first, read_at, &audit("order.release", "O1"))
        .await
        .unwrap();
    let mut second = a.clone();
    second
        .transition(OrderStatus::Completed, None, t0() + Duration::hours(2))
        .unwrap();
    let err = s
        .update_order(&second, read_at, &audit("order.complete", "O1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }), "{err:?}");
    let stored = s.get_order(&a.id).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Released);
    assert_eq!(stored.status_reason.as_deref(), Some("lab error"));
}

backends!(order_for_unknown_person_is_refused);
async fn order_for_unknown_person_is_refused(db: TestDb) {
    let s = &db.store;
    let err = s
        .insert_order(&order("O1", "ghost"), &audit("order.create", "O1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "{err:?}");
    assert!(s
        .get_order(&OrderId::parse("O1").unwrap())
        .await
        .unwrap()
        .is_none());
}

backends!(tokens_store_hash_and_revoke);
async fn tokens_store_hash_and_revoke(db: TestDb) {
    let s = &db.store;
    let t = TokenRecord {
        id: TokenId::parse("tok1").unwrap(),
        secret_hash: "ab".repeat(32),
        role: Role::ComplianceOfficer,
        districts: lazaret_core::district::DistrictScope::parse("north,south").unwrap(),
        label: "desk 3".into(),
        created_at: t0(),
        revoked_at: None,
        user_id: None,
        expires_at: Some(t0() + chrono::Duration::days(90)),
    };
    s.insert_token(&t, &audit("token.create", "tok1"))
        .await
        .unwrap();
    assert_eq!(s.get_token(&t.id).await.unwrap(), Some(t.clone()));
    assert!(s
        .revoke_token(&t.id, t0(), &audit("token.revoke", "tok1"))
        .await
        .unwrap());
    assert!(!s
        .revoke_token(&t.id, t0(), &audit("token.revoke", "tok1"))
        .await
        .unwrap());
    assert!(s
        .get_token(&t.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
}

backends!(audit_chain_is_intact_under_concurrent_writers);
async fn audit_chain_is_intact_under_concurrent_writers(db: TestDb) {
    let s = db.store.clone();
    let mut tasks = vec![];
    for w in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                s.record_audit(&audit("person.read", &format!("P{w}-{i}")))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // On SQLite an append that waited too long for the lock was spooled.
    s.drain_audit_spool().await.unwrap();
    let events = s.audit_events(0, 1000).await.unwrap();
    assert_eq!(events.len(), 100);
    assert_eq!(first_broken_link(&events), None, "{:?}", db.kind());
    assert_eq!(s.audit_events_for("person", "P2-7").await.unwrap().len(), 1);
}

const FORBIDDEN: [&str; 9] = [
    "nationality",
    "ethnic",
    "race",
    "gender",
    "sex",
    "age",
    "birth",
    "religion",
    "citizenship",
];

fn demographic(name: &str) -> bool {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| {
            FORBIDDEN
                .iter()
                .any(|f| part == *f || (f.len() > 4 && part.starts_with(f)))
        })
}

#[test]
fn demographic_detector_catches_variants() {
    assert!(demographic("nationality"));
    assert!(demographic("person_gender"));
    assert!(demographic("ethnicity_code"));
    assert!(demographic("date_of_birth"));
    assert!(!demographic("language"));
    assert!(!demographic("status"));
}

/// The migrations' code (comments aside) has no column that could hold a
/// demographic attribute.
#[test]
fn migrations_have_no_demographic_columns() {
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let sql = migration_sql(kind).join("\n");
        let code: String = sql
            .lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            code.to_lowercase().contains("create table persons"),
            "migrations not read"
        );
        for word in code.split_whitespace() {
            assert!(!demographic(word), "{kind:?} migration mentions {word:?}");
        }
    }
}

backends!(schema_has_no_demographic_columns);
/// Nor has the live schema on each backend.
async fn schema_has_no_demographic_columns(db: TestDb) {
    let cols = db.store.columns().await.unwrap();
    assert!(cols.iter().any(|(t, c)| t == "persons" && c == "full_name"));
    for (t, c) in cols {
        assert!(!demographic(&c), "{:?}: column {t}.{c}", db.kind());
    }
}
