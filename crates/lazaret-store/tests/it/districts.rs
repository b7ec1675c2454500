//! Districts in the store: every officer read and list is limited in SQL to
//! the districts it is given, and the statistics count per district.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::Language;
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{AlertId, OrderId, PersonId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_store::testing::TestDb;
use lazaret_store::{
    backends, AlertFilter, NewAlert, OrderFilter, PageRequest, PersonFilter, Store,
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

fn scope(raw: &str) -> DistrictScope {
    DistrictScope::parse(raw).unwrap()
}

/// A person of `district` with an active order and a missed-check-in and a
/// symptomatic alert; the order's id.
async fn resident(s: &Store, id: &str, district: &str) -> OrderId {
    let d = District::parse(district).unwrap();
    let person = Person {
        id: PersonId::parse(id).unwrap(),
        full_name: FullName::parse(id).unwrap(),
        phone: None,
        email: None,
        language: Language::english(),
        district: d.clone(),
    };
    s.insert_person(&person, t0(), &audit("person.create", id))
        .await
        .unwrap();
    let order = QuarantineOrder {
        id: OrderId::generate(),
        person_id: person.id.clone(),
        address: Address::parse("Main St 1").unwrap(),
        geofence: Geofence::new(Coordinates::new(47.0, 8.0).unwrap(), 100.0).unwrap(),
        starts_at: t0(),
        ends_at: t0() + Duration::days(3),
        time_zone: TimeZone::parse("Europe/Zurich").unwrap(),
        bases: vec![OrderBasis::Arrival { area: "X".into() }],
        status: OrderStatus::Active,
        status_reason: None,
        district: d,
        created_at: t0(),
        updated_at: t0(),
    };
    s.insert_order(&order, &audit("order.create", id))
        .await
        .unwrap();
    for kind in [AlertKind::MissedCheckin, AlertKind::Symptomatic] {
        s.open_alert(&NewAlert {
            id: AlertId::generate(),
            kind,
            person_id: person.id.clone(),
            order_id: Some(order.id.clone()),
            cause: format!("{id}:{kind:?}"),
            evidence: serde_json::json!({}),
            at: t0(),
        })
        .await
        .unwrap();
    }
    order.id
}

backends!(reads_and_lists_stay_inside_the_districts_given);
async fn reads_and_lists_stay_inside_the_districts_given(db: TestDb) {
    let s = &db.store;
    let north = resident(s, "N1", "north").await;
    let south = resident(s, "S1", "south").await;
    let (n, so, both, none) = (
        scope("north"),
        scope("south"),
        scope("north,south"),
        scope(""),
    );

    assert!(s.get_order_in(&north, &n).await.unwrap().is_some());
    assert!(s.get_order_in(&south, &n).await.unwrap().is_none());
    assert!(s.get_order_in(&south, &both).await.unwrap().is_some());
    assert!(s.get_order_in(&north, &none).await.unwrap().is_none());
    assert_eq!(
        s.get_order(&south)
            .await
            .unwrap()
            .unwrap()
            .district
            .as_str(),
        "south"
    );
    let pid = PersonId::parse("S1").unwrap();
    assert!(s.get_person_in(&pid, &n).await.unwrap().is_none());
    assert!(s.get_person_in(&pid, &so).await.unwrap().is_some());

    let page = PageRequest::default();
    let persons = |d: &DistrictScope| PersonFilter {
        districts: Some(d.clone()),
        ..PersonFilter::default()
    };
    let ids: Vec<String> = s
        .list_persons(&persons(&n), &page)
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["N1"]);
    assert_eq!(
        s.list_persons(&persons(&both), &page)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert!(s
        .list_persons(&persons(&none), &page)
        .await
        .unwrap()
        .items
        .is_empty());
    let orders = OrderFilter {
        districts: Some(so.clone()),
        ..OrderFilter::default()
    };
    let got = s.list_orders(&orders, &page).await.unwrap().items;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, south);

    // Alerts take their order's district; health alerts can be left out.
    let alerts = |d: &DistrictScope, without_health: bool| AlertFilter {
        districts: Some(d.clone()),
        without_health,
        ..AlertFilter::default()
    };
    let all = s
        .list_alerts(&alerts(&n, false), &page)
        .await
        .unwrap()
        .items;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|a| a.order_id.as_ref() == Some(&north)));
    assert!(all.iter().all(|a| a.district.as_str() == "north"));
    let compliance = s.list_alerts(&alerts(&n, true), &page).await.unwrap().items;
    assert_eq!(compliance.len(), 1);
    assert_eq!(compliance[0].kind, AlertKind::MissedCheckin);
    let health = all
        .iter()
        .find(|a| a.kind == AlertKind::Symptomatic)
        .unwrap();
    assert!(s
        .get_alert_in(&health.id, &n, false)
        .await
        .unwrap()
        .is_some());
    assert!(s
        .get_alert_in(&health.id, &n, true)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .get_alert_in(&health.id, &so, false)
        .await
        .unwrap()
        .is_none());
}

backends!(statistics_count_per_district_and_day);
async fn statistics_count_per_district_and_day(db: TestDb) {
    let s = &db.store;
    resident(s, "N1", "north").await;
    resident(s, "N2", "north").await;
    resident(s, "S1", "south").await;
    let from = t0() - Duration::days(1);
    let to = t0() + Duration::days(10);
    let rows = s.stats(from, to, &scope("north")).await.unwrap();
    assert!(rows.iter().all(|r| r.district == "north"));
    let first = rows.iter().find(|r| r.day == t0().date_naive()).unwrap();
    assert_eq!(
        (
            first.orders_active,
            first.orders_started,
            first.alerts_opened
        ),
        (2, 2, 4)
    );
    // In force three days (starts 08:00, ends three days later 08:00: four
    // calendar days touched).
    let active_days = rows.iter().filter(|r| r.orders_active == 2).count();
    assert_eq!(active_days, 4, "{rows:?}");
    let everywhere = s.stats(from, to, &DistrictScope::All).await.unwrap();
    let south = everywhere
        .iter()
        .find(|r| r.district == "south" && r.day == t0().date_naive())
        .unwrap();
    assert_eq!(south.orders_active, 1);
    assert_eq!(south.checkin_pass_rate, None);
}

backends!(a_persons_export_leaves_out_what_another_district_keeps);
async fn a_persons_export_leaves_out_what_another_district_keeps(db: TestDb) {
    let s = &db.store;
    let north = resident(s, "N1", "north").await;
    // An earlier order of the same person, kept by the south district
    // (e.g. before the person moved), with its own alert.
    let south = QuarantineOrder {
        id: OrderId::generate(),
        person_id: PersonId::parse("N1").unwrap(),
        address: Address::parse("South St 9").unwrap(),
        geofence: Geofence::new(Coordinates::new(46.0, 8.0).unwrap(), 100.0).unwrap(),
        starts_at: t0() - Duration::days(30),
        ends_at: t0() - Duration::days(20),
        time_zone: TimeZone::parse("Europe/Zurich").unwrap(),
        bases: vec![OrderBasis::Arrival { area: "Y".into() }],
        status: OrderStatus::Completed,
        status_reason: None,
        district: District::parse("south").unwrap(),
        created_at: t0() - Duration::days(30),
        updated_at: t0() - Duration::days(20),
    };
    s.insert_order(&south, &audit("order.create", "N1"))
        .await
        .unwrap();
    let ids = |doc: &serde_json::Value, section: &str, field: &str| -> Vec<String> {
        doc[section]
            .as_array()
            .unwrap_or_else(|| panic!("{section} in {doc}"))
            .iter()
            .map(|r| r[field].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let pid = PersonId::parse("N1").unwrap();
    let mine = s
        .export_person(&pid, &scope("north"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids(&mine, "orders", "id"), vec![north.to_string()]);
    assert!(!mine.to_string().contains("South St 9"), "{mine}");
    let everything = s
        .export_person(&pid, &DistrictScope::All)
        .await
        .unwrap()
        .unwrap();
    let mut all = ids(&everything, "orders", "id");
    all.sort();
    let mut want = vec![north.to_string(), south.id.to_string()];
    want.sort();
    assert_eq!(all, want);
    assert_eq!(ids(&everything, "alerts", "kind").len(), 2);
    // Outside the person's district: no export at all.
    assert!(s
        .export_person(&pid, &scope("south"))
        .await
        .unwrap()
        .is_none());
}
