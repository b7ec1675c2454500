//! The photo a person submits with a self-enrolment link waits, sealed,
//! only until the decision: approval, rejection, the order's end and the
//! retention purge each erase it with the pending template (SQLite and,
//! when configured, PostgreSQL).

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::Language;
use lazaret_core::district::District;
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_store::testing::{first_broken_link, TestDb};
use lazaret_store::{backends, EnrollmentLink, LinkStatus, PendingTemplate, SealedPhoto, Store};

fn t0() -> DateTime<Utc> {
    "2026-03-01T08:00:00Z".parse().unwrap()
}

fn audit(action: &str, subject: &str) -> AuditRecord {
    AuditRecord {
        at: t0(),
        actor: "test".into(),
        action: action.into(),
        subject_type: "order".into(),
        subject_id: subject.into(),
        details: String::new(),
    }
}

/// Order `O{n}` with a submitted photo waiting for a decision.
async fn pending(s: &Store, n: usize) -> (QuarantineOrder, EnrollmentLink) {
    let person = Person {
        id: PersonId::parse(&format!("P{n}")).unwrap(),
        full_name: FullName::parse("Ana Lima").unwrap(),
        phone: None,
        email: None,
        language: Language::english(),
        district: District::unassigned(),
    };
    s.insert_person(&person, t0(), &audit("person.create", "P"))
        .await
        .unwrap();
    let order = QuarantineOrder {
        id: OrderId::parse(&format!("O{n}")).unwrap(),
        person_id: person.id.clone(),
        address: Address::parse("Main St 1").unwrap(),
        geofence: Geofence::new(Coordinates::new(47.0, 8.0).unwrap(), 100.0).unwrap(),
        starts_at: t0(),
        ends_at: t0() + Duration::days(10),
        time_zone: TimeZone::default(),
        bases: vec![OrderBasis::Arrival { area: "X".into() }],
        status: OrderStatus::Active,
        status_reason: None,
        district: District::unassigned(),
        created_at: t0(),
        updated_at: t0(),
    };
    s.insert_order(&order, &audit("order.create", order.id.as_str()))
        .await
        .unwrap();
    let link = EnrollmentLink::open(
        order.id.clone(),
        format!("hash-{n}"),
        "test".into(),
        t0(),
        t0() + Duration::hours(48),
    );
    s.create_enrollment_link(&link, &audit("enrollment.link_create", order.id.as_str()))
        .await
        .unwrap();
    let photo = SealedPhoto {
        ciphertext: vec![7; 64],
        nonce: vec![3; 24],
        key_id: "k1".into(),
    };
    let t = PendingTemplate {
        ciphertext: vec![1; 32],
        nonce: vec![2; 24],
        key_id: "k1".into(),
        model: "m".into(),
        photo: Some(photo.clone()),
    };
    assert!(s
        .submit_self_enrollment(&link.id, &t, t0(), &audit("enrollment.submit", "x"))
        .await
        .unwrap());
    assert!(s.link_holds_photo(&link.id).await.unwrap());
    let (id, kept) = s
        .pending_enrollment_photo(&order.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((id, kept), (link.id.clone(), photo));
    (order, link)
}

backends!(the_submitted_photo_is_erased_by_every_decision_and_end);
async fn the_submitted_photo_is_erased_by_every_decision_and_end(db: TestDb) {
    let s = &db.store;
    let now = t0() + Duration::hours(1);

    // Approved: the template becomes the enrolment, the photo is gone.
    let (order, link) = pending(s, 1).await;
    s.approve_self_enrollment(&order.id, "test", now, &audit("enrollment.approve", "O1"))
        .await
        .unwrap()
        .unwrap();
    assert!(!s.link_holds_photo(&link.id).await.unwrap());
    assert!(s
        .pending_enrollment_photo(&order.id)
        .await
        .unwrap()
        .is_none());
    assert!(s.get_enrollment(&order.id).await.unwrap().is_some());

    // Rejected.
    let (order, link) = pending(s, 2).await;
    s.reject_self_enrollment(
        &order.id,
        "not her",
        "test",
        now,
        &audit("enrollment.reject", "O2"),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!s.link_holds_photo(&link.id).await.unwrap());
    assert!(s
        .pending_enrollment_photo(&order.id)
        .await
        .unwrap()
        .is_none());

    // The order released before anyone decided.
    let (mut order, link) = pending(s, 3).await;
    let read_at = order.updated_at;
    order
        .transition(OrderStatus::Released, Some("test result negative"), now)
        .unwrap();
    s.end_order(&order, read_at, &audit("order.transition", "O3"))
        .await
        .unwrap();
    assert!(!s.link_holds_photo(&link.id).await.unwrap());
    assert!(!s.link_holds_template(&link.id).await.unwrap());
    assert!(s
        .pending_enrollment_photo(&order.id)
        .await
        .unwrap()
        .is_none());

    // Nobody decided and the retention ran out (the order's end plus grace).
    let (order, link) = pending(s, 4).await;
    let grace = Duration::days(7);
    let end = order.ends_at + grace;
    assert_eq!(
        s.purge_expired_pending_enrollments(end - Duration::seconds(1), grace)
            .await
            .unwrap(),
        0
    );
    assert!(
        s.link_holds_photo(&link.id).await.unwrap(),
        "kept until then"
    );
    assert_eq!(
        s.purge_expired_pending_enrollments(end, grace)
            .await
            .unwrap(),
        1
    );
    assert!(!s.link_holds_photo(&link.id).await.unwrap());
    assert!(s
        .pending_enrollment_photo(&order.id)
        .await
        .unwrap()
        .is_none());

    for (n, status) in [
        (1, LinkStatus::Approved),
        (2, LinkStatus::Rejected),
        (3, LinkStatus::Rejected),
        (4, LinkStatus::Rejected),
    ] {
        let links = s
            .enrollment_links_of_order(&OrderId::parse(&format!("O{n}")).unwrap())
            .await
            .unwrap();
        assert_eq!(links[0].status, status, "O{n}");
    }
    let events = s.audit_events(0, 1000).await.unwrap();
    assert_eq!(first_broken_link(&events), None);
}
