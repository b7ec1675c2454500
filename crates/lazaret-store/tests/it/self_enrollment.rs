//! Retention of self-enrolment templates nobody decided on, on SQLite and
//! (when configured) PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::Language;
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_store::backends;
use lazaret_store::testing::{first_broken_link, TestDb};
use lazaret_store::{EnrollmentLink, LinkStatus, PendingTemplate};

fn t0() -> DateTime<Utc> {
    "2026-03-01T08:00:00Z".parse().unwrap()
}

fn audit(action: &str) -> AuditRecord {
    AuditRecord {
        at: t0(),
        actor: "test".into(),
        action: action.into(),
        subject_type: "order".into(),
        subject_id: "O1".into(),
        details: String::new(),
    }
}

backends!(undecided_templates_are_erased_when_their_retention_ends);
async fn undecided_templates_are_erased_when_their_retention_ends(db: TestDb) {
    let s = &db.store;
    let person = Person {
        id: PersonId::parse("P1").unwrap(),
        full_name: FullName::parse("Ana Lima").unwrap(),
        phone: None,
        email: None,
        language: Language::english(),
        district: lazaret_core::district::District::unassigned(),
    };
    s.insert_person(&person, t0(), &audit("person.create"))
        .await
        .unwrap();
    let order = QuarantineOrder {
        id: OrderId::parse("O1").unwrap(),
        person_id: person.id.clone(),
        address: Address::parse("Main St 1").unwrap(),
        geofence: Geofence::new(Coordinates::new(47.0, 8.0).unwrap(), 100.0).unwrap(),
        starts_at: t0(),
        ends_at: t0() + Duration::days(10),
        time_zone: TimeZone::default(),
        bases: vec![OrderBasis::Arrival { area: "X".into() }],
        status: OrderStatus::Active,
        status_reason: None,
        district: lazaret_core::district::District::unassigned(),
        created_at: t0(),
        updated_at: t0(),
    };
    s.insert_order(&order, &audit("order.create"))
        .await
        .unwrap();
    let link = EnrollmentLink::open(
        order.id.clone(),
        "h1".into(),
        "test".into(),
        t0(),
        t0() + Duration::hours(48),
    );
    s.create_enrollment_link(&link, &audit("enrollment.link_create"))
        .await
        .unwrap();
    let pending = PendingTemplate {
        ciphertext: vec![1; 32],
        nonce: vec![2; 24],
        key_id: "k1".into(),
        model: "m".into(),
        photo: None,
    };
    // An expired link takes nothing.
    assert!(!s
        .submit_self_enrollment(&link.id, &pending, link.expires_at, &audit("x"))
        .await
        .unwrap());
    assert!(s
        .submit_self_enrollment(&link.id, &pending, t0(), &audit("enrollment.submit"))
        .await
        .unwrap());
    assert!(s.link_holds_template(&link.id).await.unwrap());

    // Kept until its retention ends (the order's end plus the grace),
    // then erased (and audited).
    let grace = Duration::days(7);
    let retained_until = order.ends_at + grace;
    let just_before = retained_until - Duration::seconds(1);
    assert_eq!(
        s.purge_expired_pending_enrollments(just_before, grace)
            .await
            .unwrap(),
        0
    );
    assert!(s.link_holds_template(&link.id).await.unwrap());
    assert_eq!(
        s.purge_expired_pending_enrollments(retained_until, grace)
            .await
            .unwrap(),
        1
    );
    assert!(!s.link_holds_template(&link.id).await.unwrap());
    let links = s.enrollment_links_of_order(&order.id).await.unwrap();
    assert_eq!(links[0].status, LinkStatus::Rejected);
    assert_eq!(links[0].decided_by.as_deref(), Some("system:retention"));
    // Nothing is left to approve, and nothing became an enrolment.
    assert!(s
        .approve_self_enrollment(&order.id, "test", t0(), &audit("enrollment.approve"))
        .await
        .unwrap()
        .is_none());
    assert!(s.get_enrollment(&order.id).await.unwrap().is_none());
    let events = s.audit_events(0, 1000).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.action == "enrollment.pending_purge"));
    assert_eq!(first_broken_link(&events), None);
}

backends!(an_undecided_template_follows_its_order);
/// Issue #11, defect 1: an undecided template follows its order. Extended,
/// it outlives the original end plus the grace; released, it is erased at
/// once (nothing can be approved for an ended order).
async fn an_undecided_template_follows_its_order(db: TestDb) {
    let s = &db.store;
    let person = Person {
        id: PersonId::parse("P1").unwrap(),
        full_name: FullName::parse("Ana Lima").unwrap(),
        phone: None,
        email: None,
        language: Language::english(),
        district: lazaret_core::district::District::unassigned(),
    };
    s.insert_person(&person, t0(), &audit("person.create"))
        .await
        .unwrap();
    let mut order = QuarantineOrder {
        id: OrderId::parse("O1").unwrap(),
        person_id: person.id.clone(),
        address: Address::parse("Main St 1").unwrap(),
        geofence: Geofence::new(Coordinates::new(47.0, 8.0).unwrap(), 100.0).unwrap(),
        starts_at: t0(),
        ends_at: t0() + Duration::days(10),
        time_zone: TimeZone::default(),
        bases: vec![OrderBasis::Arrival { area: "X".into() }],
        status: OrderStatus::Active,
        status_reason: None,
        district: lazaret_core::district::District::unassigned(),
        created_at: t0(),
        updated_at: t0(),
    };
    s.insert_order(&order, &audit("order.create"))
        .await
        .unwrap();
    let link = EnrollmentLink::open(
        order.id.clone(),
        "h1".into(),
        "test".into(),
        t0(),
        t0() + Duration::hours(48),
    );
    s.create_enrollment_link(&link, &audit("enrollment.link_create"))
        .await
        .unwrap();
    let pending = PendingTemplate {
        ciphertext: vec![1; 32],
        nonce: vec![2; 24],
        key_id: "k1".into(),
        model: "m".into(),
        photo: None,
    };
    assert!(s
        .submit_self_enrollment(&link.id, &pending, t0(), &audit("enrollment.submit"))
        .await
        .unwrap());

    // Extended by 20 days: past the original end plus the grace it stays.
    let grace = Duration::days(7);
    let read_at = order.updated_at;
    order
        .extend(t0() + Duration::days(30), t0() + Duration::hours(1))
        .unwrap();
    s.update_order(&order, read_at, &audit("order.extend"))
        .await
        .unwrap();
    let past_original = t0() + Duration::days(10) + grace + Duration::hours(1);
    assert_eq!(
        s.purge_expired_pending_enrollments(past_original, grace)
            .await
            .unwrap(),
        0
    );
    assert!(s.link_holds_template(&link.id).await.unwrap());

    // Released: erased in the same transaction, with the reason.
    let read_at = order.updated_at;
    order
        .transition(
            OrderStatus::Released,
            Some("test was negative"),
            t0() + Duration::days(2),
        )
        .unwrap();
    s.update_order(&order, read_at, &audit("order.transition"))
        .await
        .unwrap();
    assert!(!s.link_holds_template(&link.id).await.unwrap());
    let links = s.enrollment_links_of_order(&order.id).await.unwrap();
    assert_eq!(links[0].status, LinkStatus::Rejected);
    assert_eq!(
        links[0].reason.as_deref(),
        Some("the order ended before a decision")
    );
    assert!(s
        .approve_self_enrollment(&order.id, "test", t0(), &audit("enrollment.approve"))
        .await
        .unwrap()
        .is_none());
}
