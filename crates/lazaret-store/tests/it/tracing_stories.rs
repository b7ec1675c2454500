//! Contact-tracing stories, run on SQLite and (when configured) PostgreSQL:
//! import → trace → orders → revision → chains. Expected contacts are worked
//! out by hand from the CSVs below.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::chains::build_chains;
use lazaret_core::contact::{ExposureRule, RiskTier};
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::order::{OrderBasis, OrderStatus, TimeZone};
use lazaret_core::test_result::TestOutcome;
use lazaret_core::tracing_policy::TracingPolicy;
use lazaret_store::backends;
use lazaret_store::testing::{first_broken_link, TestDb};
use lazaret_store::{
    ImportKind, ImportOptions, ImportReport, NewJob, OrderFilter, PageRequest, PersonFilter,
    ProposalAction, Store, TraceOutcome,
};

fn now() -> DateTime<Utc> {
    "2026-03-12T12:00:00Z".parse().unwrap()
}

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}

async fn import(s: &Store, kind: ImportKind, csv: &str) -> ImportReport {
    let r = s
        .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), now())
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{kind:?}: {:?}", r.errors);
    assert!(r.committed);
    r
}

const FLIGHT_HEADER: &str = "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref\n";

/// CASE sits in 14C on F1 (inside the window) with companion COMP far back
/// in 30A. Window for a positive test sampled 2026-03-10T00:00Z with no onset:
/// 2026-03-08T00:00Z ..= 2026-03-20T00:00Z.
fn flights_csv() -> String {
    let mut s = String::from(FLIGHT_HEADER);
    let f1 = "F1,LX100,2026-03-09T10:00:00Z,ZRH,LHR";
    for (p, role, seat, bk) in [
        ("CASE", "passenger", "14C", "BK1"),
        ("R12", "passenger", "12A", ""),
        ("R16", "passenger", "16F", "BK9"),
        ("R17", "passenger", "17C", ""),
        ("R11", "passenger", "11C", ""),
        ("COMP", "passenger", "30A", "BK1"),
        ("NEXT", "passenger", "14D", "BK1"),
        ("CREW1", "crew", "", ""),
    ] {
        s.push_str(&format!(
            "{f1},{p},Person {p},+41441234567,,{role},{seat},{bk}\n"
        ));
    }
    // Just inside the window's start, and just outside it.
    for (f, dep, p) in [
        ("F2", "2026-03-08T00:00:00Z", "EDGE_IN"),
        ("F3", "2026-03-07T23:59:00Z", "EDGE_OUT"),
    ] {
        s.push_str(&format!(
            "{f},LX200,{dep},ZRH,CDG,CASE,Person CASE,+41441234567,,passenger,1A,\n"
        ));
        s.push_str(&format!(
            "{f},LX200,{dep},ZRH,CDG,{p},Person {p},,p@example.org,passenger,1B,\n"
        ));
    }
    s
}

const RES_HEADER: &str = "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n";

fn residences_csv() -> String {
    let mut s = String::from(RES_HEADER);
    for (p, unit) in [("CASE", "4"), ("SPOUSE", "4"), ("NEIGH", "5"), ("R12", "6")] {
        s.push_str(&format!(
            "{p},Person {p},,,B1,\"Main St 1, Zürich\",{unit},47.37,8.54\n"
        ));
    }
    s.push_str("FAR,Person FAR,,,B2,Other St 9,4,47.40,8.50\n");
    s
}

const RIDE_HEADER: &str = "ride_id,vehicle_id,start,end,person_id,full_name,phone,email,role\n";

fn rides_csv() -> String {
    let mut s = String::from(RIDE_HEADER);
    let r1 = "RD1,V1,2026-03-11T08:00:00Z,2026-03-11T08:30:00Z";
    s.push_str(&format!("{r1},DRV,Driver D,,,driver\n"));
    s.push_str(&format!("{r1},CASE,Person CASE,,,passenger\n"));
    // NEIGH shares a later ride with the driver, not with the case.
    let r2 = "RD2,V1,2026-03-11T09:00:00Z,2026-03-11T09:10:00Z";
    s.push_str(&format!("{r2},DRV,Driver D,,,driver\n"));
    s.push_str(&format!("{r2},NEIGH,Person NEIGH,,,passenger\n"));
    s
}

const TEST_HEADER: &str = "test_id,person_id,sampled_at,result,lab,symptom_onset\n";

async fn seed(s: &Store) {
    import(s, ImportKind::Flights, &flights_csv()).await;
    import(s, ImportKind::Residences, &residences_csv()).await;
    import(s, ImportKind::Rides, &rides_csv()).await;
    import(
        s,
        ImportKind::Tests,
        &format!("{TEST_HEADER}T-CASE,CASE,2026-03-10T00:00:00Z,positive,Lab A,\n"),
    )
    .await;
}

fn summary(t: &TraceOutcome) -> Vec<(String, RiskTier, Vec<ExposureRule>)> {
    t.contacts
        .iter()
        .map(|c| (c.person_id.to_string(), c.tier, c.rules.clone()))
        .collect()
}

async fn trace(s: &Store, p: &str) -> TraceOutcome {
    s.trace_case(&pid(p), &TracingPolicy::default(), now(), "officer:1")
        .await
        .unwrap()
}

backends!(trace_finds_contacts_by_every_rule);
async fn trace_finds_contacts_by_every_rule(db: TestDb) {
    use ExposureRule::*;
    use RiskTier::*;
    let s = &db.store;
    seed(s).await;
    let t = trace(s, "CASE").await;
    let w = t.window.unwrap();
    assert_eq!(
        w.start,
        "2026-03-08T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(
        w.end,
        "2026-03-20T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(
        summary(&t),
        vec![
            ("COMP".into(), Close, vec![FlightCompanion]),
            ("CREW1".into(), Close, vec![FlightCrew]),
            ("DRV".into(), Close, vec![Ride]),
            ("EDGE_IN".into(), Close, vec![FlightSeat]),
            ("NEIGH".into(), Notify, vec![Building]),
            ("NEXT".into(), Close, vec![FlightSeat, FlightCompanion]),
            ("R11".into(), Notify, vec![FlightCabin]),
            ("R12".into(), Close, vec![FlightSeat, Building]),
            ("R16".into(), Close, vec![FlightSeat]),
            ("R17".into(), Notify, vec![FlightCabin]),
            ("SPOUSE".into(), Close, vec![Household]),
        ],
        "{:?}",
        db.kind()
    );
    // Evidence names the flight and both seats.
    let comp = &t.contacts[0];
    assert_eq!(comp.evidence[0]["flight_id"], "F1");
    assert_eq!(comp.evidence[0]["contact_seat"], "30A");
    assert_eq!(comp.generation, 1);
    // Stored, and the trace is audited.
    let stored = s
        .contacts_of_test(&TestId::parse("T-CASE").unwrap())
        .await
        .unwrap();
    assert_eq!(stored, t.contacts);
    let audit = s.audit_events_for("person", "CASE").await.unwrap();
    assert!(audit.iter().any(|e| e.action == "contacts.trace"));

    // No positive test: an empty list and a reason.
    let none = trace(s, "SPOUSE").await;
    assert!(none.contacts.is_empty());
    assert!(none.reason.is_some());
}

backends!(bad_rows_are_all_reported_and_nothing_is_stored);
async fn bad_rows_are_all_reported_and_nothing_is_stored(db: TestDb) {
    let s = &db.store;
    let csv = format!(
        "{FLIGHT_HEADER}\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,P1,Ana,+41441234567,,passenger,1A,\n\
         F1,LX1,yesterday,ZRH,LHR,P2,Bo,0441234567,,passenger,1B,\n\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,P 3,Cy,,,pilot,1C,\n\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,P4,Di,,,crew,2A,\n\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,P5,,,x@y,passenger,ZZ,\n"
    );
    for dry_run in [true, false] {
        let opts = ImportOptions {
            dry_run,
            ..Default::default()
        };
        let r = s
            .import_csv(ImportKind::Flights, csv.as_bytes(), &opts, now())
            .await
            .unwrap();
        let got: Vec<(u64, &str)> = r
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, "departure"),
                (3, "phone"),
                (4, "person_id"),
                (4, "role"),
                (5, "seat"),
                (6, "full_name"),
                (6, "email"),
                (6, "seat"),
            ],
            "{:?}",
            db.kind()
        );
        assert!(r.errors.iter().all(|e| !e.reason.is_empty()));
        assert_eq!(r.rows, 5);
        assert!(!r.committed);
    }
    // The good first row was not kept either.
    let persons = s
        .list_persons(&PersonFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert!(persons.items.is_empty(), "{:?}", db.kind());

    // A missing column is reported against the header.
    let r = s
        .import_csv(
            ImportKind::Tests,
            "test_id,person_id,result\nT1,P1,positive\n".as_bytes(),
            &ImportOptions::default(),
            now(),
        )
        .await
        .unwrap();
    let cols: Vec<_> = r
        .errors
        .iter()
        .map(|e| (e.line, e.column.clone()))
        .collect();
    assert_eq!(
        cols,
        vec![
            (1, "sampled_at".to_string()),
            (1, "lab".to_string()),
            (1, "symptom_onset".to_string())
        ]
    );
}

/// The named indexes of the database, sorted.
async fn index_names(db: &TestDb) -> Vec<String> {
    use sqlx::{Connection, Row};
    match db.kind() {
        lazaret_store::BackendKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let sql = "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name";
            let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
            // The rebuilt indexes must also match their tables row for row.
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut c)
                .await
                .unwrap();
            assert_eq!(check, "ok");
            rows.iter().map(|r| r.get("name")).collect()
        }
        lazaret_store::BackendKind::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let sql = "SELECT indexname::text AS name FROM pg_indexes \
                       WHERE schemaname = current_schema() ORDER BY 1";
            let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
            rows.iter().map(|r| r.get("name")).collect()
        }
    }
}

backends!(first_import_keeps_every_index_when_it_fails_or_commits);
/// A first import into empty tables (SQLite drops and rebuilds their
/// secondary indexes around it) leaves every index in place whether it fails
/// after writing some batches or commits.
async fn first_import_keeps_every_index_when_it_fails_or_commits(db: TestDb) {
    let s = &db.store;
    let before = index_names(&db).await;
    assert!(before.iter().any(|n| n == "flight_occupants_person"));
    let good = format!(
        "{FLIGHT_HEADER}\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,P1,Ana,,,passenger,1A,\n\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,P2,Bo,,,passenger,1B,\n\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,P3,Cy,,,passenger,1C,\n\
         F2,LX2,2026-03-10T10:00:00Z,LHR,ZRH,P1,Ana,,,passenger,3A,\n"
    );
    // Two rows per batch: the first two batches are written before the
    // bad row in the third is read.
    let opts = ImportOptions {
        batch_rows: 2,
        ..Default::default()
    };
    let bad = format!("{good}F2,LX2,2026-03-10T10:00:00Z,LHR,ZRH,P4,Di,,,crew,9Z,\n");
    let r = s
        .import_csv(ImportKind::Flights, bad.as_bytes(), &opts, now())
        .await
        .unwrap();
    assert_eq!((r.rows, r.committed), (5, false), "{:?}", db.kind());
    assert_eq!(r.errors.len(), 1);
    assert_eq!((r.errors[0].line, r.errors[0].column.as_str()), (6, "seat"));
    let persons = s
        .list_persons(&PersonFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert!(persons.items.is_empty(), "{:?}", db.kind());
    assert_eq!(index_names(&db).await, before, "{:?}", db.kind());

    let r = s
        .import_csv(ImportKind::Flights, good.as_bytes(), &opts, now())
        .await
        .unwrap();
    assert!(r.committed && r.errors.is_empty(), "{:?}", r.errors);
    // 3 persons, 2 flights, 4 seats.
    assert_eq!((r.rows, r.changed), (4, 9), "{:?}", db.kind());
    assert_eq!(index_names(&db).await, before, "{:?}", db.kind());
    // The rebuilt person index answers the trace's lookups.
    import(
        s,
        ImportKind::Tests,
        &format!("{TEST_HEADER}T-P1,P1,2026-03-10T00:00:00Z,positive,Lab A,\n"),
    )
    .await;
    let t = trace(s, "P1").await;
    let ids: Vec<&str> = t.contacts.iter().map(|c| c.person_id.as_str()).collect();
    assert_eq!(ids, vec!["P2", "P3"], "{:?}", db.kind());
}

backends!(reimport_changes_nothing);
async fn reimport_changes_nothing(db: TestDb) {
    let s = &db.store;
    let first = import(s, ImportKind::Flights, &flights_csv()).await;
    assert!(first.changed > 0);
    let persons = |s: &Store| {
        let s = s.clone();
        async move {
            s.list_persons(
                &PersonFilter::default(),
                &PageRequest {
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items
        }
    };
    let before = persons(s).await;
    // 8 on F1 plus EDGE_IN and EDGE_OUT; CASE appears three times.
    assert_eq!(before.len(), 10);
    let again = import(s, ImportKind::Flights, &flights_csv()).await;
    assert_eq!(again.changed, 0, "{:?}", db.kind());
    assert_eq!(persons(s).await, before);
    // Small batches (keys repeated across batches) behave the same.
    let opts = ImportOptions {
        batch_rows: 3,
        ..Default::default()
    };
    let r = s
        .import_csv(ImportKind::Flights, flights_csv().as_bytes(), &opts, now())
        .await
        .unwrap();
    assert_eq!((r.changed, r.committed), (0, true));
}

backends!(imports_set_the_language_and_an_empty_cell_keeps_it);
async fn imports_set_the_language_and_an_empty_cell_keeps_it(db: TestDb) {
    let s = &db.store;
    let lang = |s: &Store, p: &'static str| {
        let s = s.clone();
        async move {
            s.get_person(&pid(p))
                .await
                .unwrap()
                .unwrap()
                .language
                .as_str()
                .to_owned()
        }
    };
    // Without the column, new people get `en` (as before).
    import(
        s,
        ImportKind::Residences,
        &format!("{RES_HEADER}BORIS,Boris,,,B1,Main St 1,1,47.37,8.54\n"),
    )
    .await;
    assert_eq!(lang(s, "BORIS").await, "en");
    let with_lang = "person_id,full_name,phone,email,building_id,address,unit,lat,lon,language\n";
    let register = format!(
        "{with_lang}BORIS,Boris,,,B1,Main St 1,1,47.37,8.54,ru\n\
         ANA,Ana,,,B1,Main St 1,2,47.37,8.54,PT\n\
         NEW,New Person,,,B1,Main St 1,3,47.37,8.54,\n"
    );
    import(s, ImportKind::Residences, &register).await;
    assert_eq!(
        import(s, ImportKind::Residences, &register).await.changed,
        0
    );
    assert_eq!(lang(s, "BORIS").await, "ru", "{:?}", db.kind());
    assert_eq!(lang(s, "ANA").await, "pt");
    assert_eq!(lang(s, "NEW").await, "en");
    // A ride log with an empty language cell, and one without the
    // column, keep the stored language; the same file again changes
    // nothing.
    let rides = format!(
        "{RIDE_HEADER}RD1,V1,2026-03-10T08:00:00Z,2026-03-10T08:30:00Z,BORIS,Boris,,,passenger\n"
    );
    import(s, ImportKind::Rides, &rides).await;
    let rides_lang = "ride_id,vehicle_id,start,end,person_id,full_name,phone,email,role,language\n\
         RD1,V1,2026-03-10T08:00:00Z,2026-03-10T08:30:00Z,BORIS,Boris,,,passenger,\n";
    import(s, ImportKind::Rides, rides_lang).await;
    assert_eq!(lang(s, "BORIS").await, "ru", "{:?}", db.kind());
    let flights = "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref,language\n\
         F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,ANA,Ana,,,passenger,3A,,de\n";
    import(s, ImportKind::Flights, flights).await;
    assert_eq!(lang(s, "ANA").await, "de");
    assert_eq!(import(s, ImportKind::Flights, flights).await.changed, 0);
    // A bad code is a row error naming the column.
    let r = s
        .import_csv(
            ImportKind::Residences,
            format!("{with_lang}ANA,Ana,,,B1,Main St 1,2,47.37,8.54,portuguese\n").as_bytes(),
            &ImportOptions::default(),
            now(),
        )
        .await
        .unwrap();
    assert!(!r.committed);
    assert_eq!(r.errors[0].column, "language", "{:?}", r.errors);
    assert_eq!(lang(s, "ANA").await, "de");
}

backends!(a_recurring_person_keeps_the_last_details_given);
/// A person listed on many rows is written once per change of details, in
/// any batch: repeats change nothing, a new phone is kept, an empty one
/// keeps the stored phone.
async fn a_recurring_person_keeps_the_last_details_given(db: TestDb) {
    let s = &db.store;
    let ride = |n: u32, phone: &str| {
        format!(
            "R{n},V1,2026-03-09T0{n}:00:00Z,2026-03-09T0{n}:30:00Z,D1,Driver One,{phone},,driver\n"
        )
    };
    let mut csv = String::from(RIDE_HEADER);
    for n in 1..=3 {
        csv.push_str(&ride(n, "+41441234567"));
    }
    csv.push_str(&ride(4, "+41449999999"));
    csv.push_str(&ride(5, ""));
    for batch_rows in [1, 2000] {
        let opts = ImportOptions {
            batch_rows,
            ..Default::default()
        };
        let r = s
            .import_csv(ImportKind::Rides, csv.as_bytes(), &opts, now())
            .await
            .unwrap();
        assert!(r.committed && r.errors.is_empty(), "{:?}", r.errors);
        let p = s.get_person(&pid("D1")).await.unwrap().unwrap();
        assert_eq!(
            p.phone.as_ref().map(|p| p.as_str()),
            Some("+41449999999"),
            "{:?} batch {batch_rows}",
            db.kind()
        );
        if batch_rows == 1 {
            // 5 rides, 5 seats, the person inserted then updated once.
            assert_eq!(r.changed, 12, "{:?}", db.kind());
        }
    }
}

backends!(an_import_is_audited_in_the_chain);
/// A committed import appends one event to the audit chain, with its rows
/// and changes, in the import's own transaction; a refused one appends none.
async fn an_import_is_audited_in_the_chain(db: TestDb) {
    let s = &db.store;
    let before = s.audit_events(0, 10_000).await.unwrap().len();
    let bad = format!("{FLIGHT_HEADER}F1,LX1,yesterday,ZRH,LHR,P1,Ana,,,passenger,1A,\n");
    let r = s
        .import_csv(
            ImportKind::Flights,
            bad.as_bytes(),
            &ImportOptions::default(),
            now(),
        )
        .await
        .unwrap();
    assert!(!r.committed);
    assert_eq!(s.audit_events(0, 10_000).await.unwrap().len(), before);

    let r = import(s, ImportKind::Flights, &flights_csv()).await;
    let events = s.audit_events(0, 10_000).await.unwrap();
    assert_eq!(events.len(), before + 1, "{:?}", db.kind());
    let last = events.last().unwrap();
    assert_eq!(last.action, "import.flights");
    let details: serde_json::Value = serde_json::from_str(&last.details).unwrap();
    assert_eq!(details["rows"], r.rows);
    assert_eq!(details["changed"], r.changed);
    assert!(r.changed > 0);
    assert_eq!(first_broken_link(&events), None, "{:?}", db.kind());
}

/// The SQLite importer writes on a connection of its own, which an
/// in-memory database would not share: refused with a clear error, and the
/// database stays usable.
#[tokio::test]
async fn importing_into_an_in_memory_sqlite_database_is_refused() {
    let s = Store::open("sqlite::memory:").await.unwrap();
    let err = s
        .import_csv(
            ImportKind::Tests,
            "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
             T1,P1,2026-03-10T08:00:00Z,positive,Lab,\n"
                .as_bytes(),
            &ImportOptions::default(),
            now(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("in-memory"), "{err}");
    s.ping().await.unwrap();
}

backends!(orders_for_close_contacts_only_idempotent_and_extended);
async fn orders_for_close_contacts_only_idempotent_and_extended(db: TestDb) {
    let s = &db.store;
    seed(s).await;
    let policy = TracingPolicy::default();
    let proposed = s
        .propose_contact_orders(
            &pid("CASE"),
            &policy,
            TimeZone::default(),
            now(),
            "officer:1",
        )
        .await
        .unwrap();
    let actions: Vec<(String, ProposalAction)> = proposed
        .proposals
        .iter()
        .map(|p| (p.person_id.to_string(), p.action))
        .collect();
    use ProposalAction::*;
    // Close contacts only; only SPOUSE and R12 have a registered residence.
    assert_eq!(
        actions,
        vec![
            ("COMP".into(), NeedsAddress),
            ("CREW1".into(), NeedsAddress),
            ("DRV".into(), NeedsAddress),
            ("EDGE_IN".into(), NeedsAddress),
            ("NEXT".into(), NeedsAddress),
            ("R12".into(), Create),
            ("R16".into(), NeedsAddress),
            ("SPOUSE".into(), Create),
        ],
        "{:?}",
        db.kind()
    );
    // Nothing written by proposing.
    let all = OrderFilter::default();
    assert!(s
        .list_orders(&all, &PageRequest::default())
        .await
        .unwrap()
        .items
        .is_empty());

    let issued = s
        .issue_contact_orders(
            &pid("CASE"),
            &policy,
            TimeZone::default(),
            now(),
            "officer:1",
        )
        .await
        .unwrap();
    let created: Vec<_> = issued
        .proposals
        .iter()
        .filter(|p| p.action == Create)
        .collect();
    assert_eq!(created.len(), 2);
    let orders = s
        .list_orders(&all, &PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(orders.len(), 2);
    let spouse = orders
        .iter()
        .find(|o| o.person_id == pid("SPOUSE"))
        .unwrap();
    // Household: exposed to the window end (2026-03-20), plus 14 days.
    assert_eq!(
        spouse.ends_at,
        "2026-04-03T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(spouse.address.as_str(), "Main St 1, Zürich");
    assert_eq!(spouse.status, OrderStatus::Active);
    assert_eq!(
        spouse.bases,
        vec![OrderBasis::Contact {
            case_id: pid("CASE"),
            test_id: TestId::parse("T-CASE").unwrap()
        }]
    );
    // R12's last exposure is also the building (window end).
    let r12 = orders.iter().find(|o| o.person_id == pid("R12")).unwrap();
    assert_eq!(r12.ends_at, spouse.ends_at);

    // Again: nothing new.
    let again = s
        .issue_contact_orders(
            &pid("CASE"),
            &policy,
            TimeZone::default(),
            now(),
            "officer:1",
        )
        .await
        .unwrap();
    assert!(again
        .proposals
        .iter()
        .all(|p| matches!(p.action, Unchanged | NeedsAddress)));
    assert_eq!(
        s.list_orders(&all, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

backends!(contact_orders_take_the_zone_of_their_place_and_the_radius_of_the_policy);
async fn contact_orders_take_the_zone_of_their_place_and_the_radius_of_the_policy(db: TestDb) {
    let s = &db.store;
    // A household in Moscow and one with a residence the lookup places
    // in Zürich; the configured default zone is New York.
    import(
        s,
        ImportKind::Residences,
        &format!(
            "{RES_HEADER}MCASE,Case Moscow,,,BM,Tverskaya 1,5,55.7570,37.6150\n\
             MHOME,Boris Moscow,,,BM,Tverskaya 1,5,55.7570,37.6150\n\
             ZCASE,Case Zurich,,,BZ,Limmatquai 70,2,47.3717,8.5441\n\
             ZHOME,Ana Zurich,,,BZ,Limmatquai 70,2,47.3717,8.5441\n"
        ),
    )
    .await;
    import(
        s,
        ImportKind::Tests,
        &format!(
            "{TEST_HEADER}T-M,MCASE,2026-03-10T00:00:00Z,positive,Lab A,\n\
             T-Z,ZCASE,2026-03-10T00:00:00Z,positive,Lab A,\n"
        ),
    )
    .await;
    let mut policy = TracingPolicy::default();
    policy.quarantine.geofence_radius_m = 250.0;
    let new_york = TimeZone::parse("America/New_York").unwrap();
    for case in ["MCASE", "ZCASE"] {
        let issued = s
            .issue_contact_orders(&pid(case), &policy, new_york, now(), "officer:1")
            .await
            .unwrap();
        assert_eq!(issued.proposals.len(), 1, "{:?}", db.kind());
    }
    let orders = s
        .list_orders(&OrderFilter::default(), &PageRequest::default())
        .await
        .unwrap()
        .items;
    let zone_of = |p: &str| {
        let o = orders.iter().find(|o| o.person_id == pid(p)).unwrap();
        (o.time_zone.name(), o.geofence.radius_m)
    };
    assert_eq!(
        zone_of("MHOME"),
        ("Europe/Moscow", 250.0),
        "{:?}",
        db.kind()
    );
    assert_eq!(
        zone_of("ZHOME"),
        ("Europe/Zurich", 250.0),
        "{:?}",
        db.kind()
    );
}

/// A second case, CASE2, sat next to R12 on a later flight: R12 then has
/// two bases (CASE's building, CASE2's flight).
fn second_case_csv() -> String {
    let mut s = String::from(FLIGHT_HEADER);
    let f = "F9,LX900,2026-03-12T06:00:00Z,LHR,ZRH";
    s.push_str(&format!("{f},CASE2,Person CASE2,,,passenger,5A,\n"));
    s.push_str(&format!("{f},R12,Person R12,,,passenger,6A,\n"));
    s
}

backends!(revision_releases_or_keeps_orders);
async fn revision_releases_or_keeps_orders(db: TestDb) {
    let s = &db.store;
    seed(s).await;
    import(s, ImportKind::Flights, &second_case_csv()).await;
    import(
        s,
        ImportKind::Tests,
        &format!("{TEST_HEADER}T-CASE2,CASE2,2026-03-12T10:00:00Z,positive,Lab B,\n"),
    )
    .await;
    let policy = TracingPolicy::default();
    s.issue_contact_orders(
        &pid("CASE"),
        &policy,
        TimeZone::default(),
        now(),
        "officer:1",
    )
    .await
    .unwrap();
    let second = s
        .issue_contact_orders(
            &pid("CASE2"),
            &policy,
            TimeZone::default(),
            now(),
            "officer:1",
        )
        .await
        .unwrap();
    // R12 already had an order: it is extended, not duplicated.
    let r12p = second
        .proposals
        .iter()
        .find(|p| p.person_id == pid("R12"))
        .unwrap();
    assert_eq!(r12p.action, ProposalAction::Extend, "{:?}", db.kind());
    let r12_orders = s
        .list_orders(
            &OrderFilter {
                person_id: Some(pid("R12")),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(r12_orders.len(), 1);
    assert_eq!(r12_orders[0].bases.len(), 2);
    // CASE's building basis ends later (2026-04-03) than the F9 flight
    // basis (2026-03-26), so the end stays.
    assert_eq!(
        r12_orders[0].ends_at,
        "2026-04-03T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );

    let at = now() + Duration::hours(1);
    let report = s
        .revise_test(
            &TestId::parse("T-CASE").unwrap(),
            TestOutcome::Negative,
            "lab error: sample swap",
            at,
            "officer:2",
        )
        .await
        .unwrap();
    let released: Vec<_> = report
        .released
        .iter()
        .map(|r| r.person_id.to_string())
        .collect();
    assert_eq!(released, vec!["SPOUSE"], "{:?}", db.kind());
    assert!(report.released[0].reason.contains("lab error"));
    assert_eq!(report.kept.len(), 1);
    assert_eq!(report.kept[0].person_id, pid("R12"));
    // The remaining basis (F9 departing 2026-03-12T06:00Z) + 14 days.
    let f9_end: DateTime<Utc> = "2026-03-26T06:00:00Z".parse().unwrap();
    assert_eq!(report.kept[0].ends_at, f9_end);
    assert!(report.contacts_withdrawn > 0);

    let spouse = s
        .list_orders(
            &OrderFilter {
                person_id: Some(pid("SPOUSE")),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(spouse[0].status, OrderStatus::Released);
    assert!(spouse[0]
        .status_reason
        .as_deref()
        .unwrap()
        .contains("sample swap"));
    let r12 = s.get_order(&r12_orders[0].id).await.unwrap().unwrap();
    assert_eq!(r12.status, OrderStatus::Active);
    assert_eq!(r12.ends_at, f9_end);
    assert_eq!(r12.bases.len(), 1);

    // The original result stays in the history; contacts are withdrawn.
    let t = s
        .get_test_result(&TestId::parse("T-CASE").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.result, TestOutcome::Negative);
    assert_eq!(t.original_result(), TestOutcome::Positive);
    assert!(s
        .contacts_of_test(&TestId::parse("T-CASE").unwrap())
        .await
        .unwrap()
        .is_empty());
    let none = trace(s, "CASE").await;
    assert!(none.contacts.is_empty());
    // Revising again to the same result is refused; re-importing the
    // original CSV does not undo the correction.
    assert!(s
        .revise_test(
            &TestId::parse("T-CASE").unwrap(),
            TestOutcome::Negative,
            "again",
            at,
            "officer:2"
        )
        .await
        .is_err());
    import(
        s,
        ImportKind::Tests,
        &format!("{TEST_HEADER}T-CASE,CASE,2026-03-10T00:00:00Z,positive,Lab A,\n"),
    )
    .await;
    let t2 = s
        .get_test_result(&TestId::parse("T-CASE").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t2, t);
    let audit = s.audit_events_for("test", "T-CASE").await.unwrap();
    assert!(audit.iter().any(|e| e.action == "test.revise"));
}

backends!(two_generation_chain);
async fn two_generation_chain(db: TestDb) {
    let s = &db.store;
    seed(s).await;
    trace(s, "CASE").await;
    // SPOUSE (a household contact) tests positive two days later and
    // rides with GRAN.
    import(
        s,
        ImportKind::Tests,
        &format!("{TEST_HEADER}T-SP,SPOUSE,2026-03-12T09:00:00Z,positive,Lab A,2026-03-11\n"),
    )
    .await;
    import(
        s,
        ImportKind::Rides,
        &format!(
            "{RIDE_HEADER}RD7,V7,2026-03-12T07:00:00Z,2026-03-12T07:20:00Z,SPOUSE,Person SPOUSE,,,driver\n\
             RD7,V7,2026-03-12T07:00:00Z,2026-03-12T07:20:00Z,GRAN,Person GRAN,,,passenger\n"
        ),
    )
    .await;
    let t2 = trace(s, "SPOUSE").await;
    let gran = t2
        .contacts
        .iter()
        .find(|c| c.person_id == pid("GRAN"))
        .unwrap();
    assert_eq!(gran.generation, 2, "{:?}", db.kind());
    // CASE (d0 earlier) is SPOUSE's household contact too, but is not a
    // descendant.
    let (cases, edges) = s.chain_graph().await.unwrap();
    assert_eq!(cases.len(), 2);
    let chains = build_chains(&cases, &edges);
    assert_eq!(chains.len(), 1);
    let c = &chains[0];
    assert_eq!(c.index_case, pid("CASE"));
    assert_eq!(c.depth, 2);
    let sp = c
        .members
        .iter()
        .find(|m| m.person_id == pid("SPOUSE"))
        .unwrap();
    assert_eq!((sp.generation, sp.is_case), (1, true));
    let g = c
        .members
        .iter()
        .find(|m| m.person_id == pid("GRAN"))
        .unwrap();
    assert_eq!(
        (g.generation, g.exposed_by.clone()),
        (2, Some(pid("SPOUSE")))
    );
    let case = c
        .members
        .iter()
        .find(|m| m.person_id == pid("CASE"))
        .unwrap();
    assert_eq!(case.generation, 0);
    assert_eq!(
        c.members
            .iter()
            .filter(|m| m.person_id == pid("CASE"))
            .count(),
        1
    );
}

backends!(a_revision_that_releases_an_order_ends_its_prompts_forms_and_alerts);
/// Issue #11, defect 2, on the revision path: a corrected test releases the
/// contact's order, and in the same transaction its open prompt is
/// cancelled, its unused symptom form withdrawn and its open alert closed
/// with the reason.
async fn a_revision_that_releases_an_order_ends_its_prompts_forms_and_alerts(db: TestDb) {
    use lazaret_core::alert::{AlertKind, AlertStatus};
    use lazaret_core::checkin::PromptStatus;
    use lazaret_core::ids::{AlertId, PromptId, SymptomFormId};
    use lazaret_store::{NewAlert, PromptRecord, SymptomForm};
    let s = &db.store;
    seed(s).await;
    let policy = TracingPolicy::default();
    s.issue_contact_orders(
        &pid("CASE"),
        &policy,
        TimeZone::default(),
        now(),
        "officer:1",
    )
    .await
    .unwrap();
    let order = s
        .list_orders(
            &OrderFilter {
                person_id: Some(pid("SPOUSE")),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    let audit = |action: &str| lazaret_core::audit::AuditRecord {
        at: now(),
        actor: "test".into(),
        action: action.into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: String::new(),
    };
    let prompt = PromptRecord {
        id: PromptId::generate(),
        order_id: order.id.clone(),
        slot: "now:1".into(),
        token_hash: "p-hash".into(),
        issued_at: now(),
        deadline: now() + Duration::minutes(30),
        challenge: None,
        status: PromptStatus::Open,
        attempts: 0,
    };
    let deadline_job = NewJob {
        queue: "prompt.deadline".into(),
        payload: serde_json::json!({ "prompt_id": prompt.id }),
        run_at: prompt.deadline,
        max_attempts: 5,
        dedupe_key: Some(format!("deadline:{}", prompt.id)),
    };
    assert!(s
        .issue_prompt(&prompt, &deadline_job, None, &audit("prompt.issue"))
        .await
        .unwrap());
    let form = SymptomForm {
        id: SymptomFormId::generate(),
        order_id: Some(order.id.clone()),
        follow_up_id: None,
        slot: "now:1".into(),
        day: now().date_naive(),
        token_hash: "f-hash".into(),
        issued_at: now(),
        expires_at: now() + Duration::hours(10),
        used_at: None,
        cancelled_at: None,
    };
    assert!(s
        .issue_symptom_form(&form, None, &audit("symptom_form.issue"))
        .await
        .unwrap());
    let alert = NewAlert {
        id: AlertId::generate(),
        kind: AlertKind::FailedCheckin,
        person_id: pid("SPOUSE"),
        order_id: Some(order.id.clone()),
        cause: "test:failed".into(),
        evidence: serde_json::json!({}),
        at: now(),
    };
    assert!(s.open_alert(&alert).await.unwrap());

    let at = now() + Duration::hours(1);
    let report = s
        .revise_test(
            &TestId::parse("T-CASE").unwrap(),
            TestOutcome::Negative,
            "lab error: sample swap",
            at,
            "officer:2",
        )
        .await
        .unwrap();
    assert!(report.released.iter().any(|r| r.order_id == order.id));

    let p = s.get_prompt(&prompt.id).await.unwrap().unwrap();
    assert_eq!(p.status, PromptStatus::Cancelled, "{:?}", db.kind());
    let f = s.get_symptom_form(&form.id).await.unwrap().unwrap();
    assert!(f.cancelled_at.is_some());
    let a = s.get_alert(&alert.id).await.unwrap().unwrap();
    assert_eq!(a.status, AlertStatus::Resolved);
    let resolution = a.resolution.unwrap();
    assert!(
        resolution.starts_with("order released: ") && resolution.contains("sample swap"),
        "{resolution}"
    );
    // A deadline that fires afterwards opens nothing against the person.
    let missed = NewAlert {
        id: AlertId::generate(),
        kind: AlertKind::MissedCheckin,
        cause: format!("prompt:{}", prompt.id),
        ..alert.clone()
    };
    assert!(!s
        .close_unanswered_prompt(
            &prompt.id,
            PromptStatus::Missed,
            &missed,
            None,
            &audit("prompt.miss")
        )
        .await
        .unwrap());
    assert!(!s.open_alert(&missed).await.unwrap());
    assert!(s.get_alert(&missed.id).await.unwrap().is_none());
    let events = s
        .audit_events_for("order", order.id.as_str())
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.action == "order.end"));
    assert!(events.iter().any(|e| e.action == "order.release"));
}
