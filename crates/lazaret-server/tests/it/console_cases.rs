//! The console's cases and chains over real HTTP, signed in through the
//! login form, on both backends: a case with a flight, a residence and a
//! ride traced from its page, the trace by tier with rule and evidence, the
//! orders' preview (nothing written) and issue (exactly the previewed set;
//! a proposal that changed in between is refused with 409 and nothing is
//! issued), a test revision's preview (the cascade computed and rolled
//! back) and its confirmation, the chain SVG (well-formed XML, links to
//! case pages, another district's member without name), another district's
//! case as 404 and a compliance officer's 403. Then the pages in headless
//! Chromium, with ~300 members in one drawing.

use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::order::OrderStatus;
use lazaret_core::test_result::TestOutcome;
use lazaret_core::user::Role;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, ImportKind, ImportOptions, OrderFilter, PageRequest, Store};
use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{self, Chromedriver, LAPTOP, TABLET};
use crate::console::{landed, look, sign_in, Console, WAIT};
use crate::support::t0;

const FLIGHTS: &str = "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref,district\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,CASE,Casey Index,,,passenger,14C,,north\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,NEAR,Nadia Near,,,passenger,15A,,north\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,FAR,Fabio Far,,,passenger,30A,,north\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,SOUTHP,Sven South,,,passenger,14D,,south\n";
const RESIDENCES: &str =
    "person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n\
    CASE,Casey Index,,,B1,Lindenweg 1,1,47.3700,8.5400,north\n\
    HOUSE,Hana House,,,B1,Lindenweg 1,1,47.3700,8.5400,north\n\
    NEIGH,Nils Neighbour,,,B1,Lindenweg 1,5,47.3700,8.5400,north\n\
    NEAR,Nadia Near,,,B2,Bergstrasse 3,3,47.3800,8.5500,north\n\
    SOUTHP,Sven South,,,B3,Suedstrasse 9,2,46.0000,8.9000,south\n";
const RIDES: &str = "ride_id,vehicle_id,start,end,person_id,full_name,phone,email,role,district\n\
    RD1,V1,2026-03-09T08:00:00Z,2026-03-09T08:30:00Z,CASE,Casey Index,,,passenger,north\n\
    RD1,V1,2026-03-09T08:00:00Z,2026-03-09T08:30:00Z,DRIVER,Dario Driver,,,driver,north\n";
const TESTS: &str = "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
    T-C,CASE,2026-03-09T12:00:00Z,positive,Lab North,\n";

async fn import(s: &Store, kind: ImportKind, csv: &str) {
    let r = s
        .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), t0())
        .await
        .unwrap();
    assert!(r.committed, "{:?}", r.errors);
}

/// The case, its exposures, and officers: an investigator of north
/// (`ivan`), one of south (`sara`), a compliance officer of north (`nora`).
async fn world(db: &TestDb) -> Console {
    let c = Console::start(db).await;
    let s = &c.app.state.store;
    import(s, ImportKind::Flights, FLIGHTS).await;
    import(s, ImportKind::Residences, RESIDENCES).await;
    import(s, ImportKind::Rides, RIDES).await;
    import(s, ImportKind::Tests, TESTS).await;
    c.user("ivan", Role::Investigator, "north").await;
    c.user("sara", Role::Investigator, "south").await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    c
}

async fn orders_of(s: &Store, person: &str) -> Vec<lazaret_core::order::QuarantineOrder> {
    s.list_orders(
        &OrderFilter {
            person_id: Some(PersonId::parse(person).unwrap()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap()
    .items
}

/// The value of the hidden field `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no field {name}: {html}"))
        .to_owned()
}

/// The `data-id`s of the rows of the table `#id` (or of the section `#id`).
fn rows(html: &str, id: &str) -> Vec<String> {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else {
        return Vec::new();
    };
    let part = &html[start..];
    let end = part.find("</table>").unwrap_or(part.len());
    part[..end]
        .split("<tr data-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

backends!(a_case_is_traced_from_its_page_with_rule_and_evidence);
async fn a_case_is_traced_from_its_page_with_rule_and_evidence(db: TestDb) {
    let c = world(&db).await;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;

    // Listed, not yet traced.
    let (st, list) = c.html(&ivan, "/cases").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rows(&list, "cases"), ["CASE"], "{list}");
    assert!(list.contains("Not traced"), "{list}");
    assert!(
        list.contains("href=\"/cases\""),
        "the navigation names Cases"
    );
    let (_, page) = c.html(&ivan, "/cases/CASE").await;
    assert!(page.contains("id=\"not-traced\""), "{page}");
    assert!(page.contains("T-C") && page.contains("Infectious window"));

    // Without this session's token nothing is traced.
    let r = c
        .post(&ivan, "/cases/CASE/trace", &[("csrf", "nope")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(db
        .store
        .contacts_of_test(&TestId::parse("T-C").unwrap())
        .await
        .unwrap()
        .is_empty());

    let r = c.post(&ivan, "/cases/CASE/trace", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let stored = db
        .store
        .contacts_of_test(&TestId::parse("T-C").unwrap())
        .await
        .unwrap();
    assert_eq!(to, format!("/cases/CASE?traced={}", stored.len()));
    let (_, page) = c.html(&ivan, &to).await;
    assert!(page.contains("id=\"flash\""), "{page}");
    let close = rows(&page, "tier-close");
    let notify = rows(&page, "tier-notify");
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(close.clone()),
        ["DRIVER", "HOUSE", "NEAR", "SOUTHP"],
        "{page}"
    );
    assert_eq!(sorted(notify), ["FAR", "NEIGH"], "{page}");
    // The rule and its evidence: the seats and rows between them, the unit, the ride.
    assert!(page.contains("Flight, nearby seat"), "{page}");
    assert!(page.contains("seats 14C / 15A") && page.contains("1 row(s) apart"));
    assert!(page.contains("Household") && page.contains("units 1 / 1"));
    assert!(page.contains("Shared ride") && page.contains("V1"));
    // A contact of north links to their person page; south's contact shows
    // only id and district.
    assert!(
        page.contains("<a href=\"/persons/NEAR\">Nadia Near</a>"),
        "{page}"
    );
    assert!(!page.contains("Sven South"), "south's name: {page}");
    assert!(page.contains("SOUTHP") && page.contains(">south<"));
    // Traced, with the counts, on the list.
    let (_, list) = c.html(&ivan, "/cases").await;
    assert!(list.contains("6 contact(s), 4 close"), "{list}");
    // The page embeds the chain.
    assert!(page.contains("<svg") && page.contains("href=\"/cases/CASE\""));
}

backends!(orders_are_previewed_then_exactly_that_set_is_issued);
async fn orders_are_previewed_then_exactly_that_set_is_issued(db: TestDb) {
    let c = world(&db).await;
    let s = &c.app.state.store;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;

    let r = c
        .post(&ivan, "/cases/CASE/orders/preview", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let preview = r.text().await.unwrap();
    let mut shown = rows(&preview, "proposals");
    shown.sort();
    assert_eq!(shown, ["DRIVER", "HOUSE", "NEAR", "SOUTHP"], "{preview}");
    assert!(preview.contains("data-id=\"DRIVER\" data-action=\"needs_address\""));
    assert!(preview.contains("data-id=\"NEAR\" data-action=\"create\""));
    assert!(preview.contains("Bergstrasse 3"), "{preview}");
    // South's contact: the district, never the address.
    assert!(preview.contains("data-id=\"SOUTHP\" data-action=\"create\""));
    assert!(!preview.contains("Suedstrasse"), "{preview}");
    // The preview wrote no order.
    for p in ["NEAR", "HOUSE", "SOUTHP", "DRIVER"] {
        assert!(orders_of(s, p).await.is_empty(), "{p}");
    }
    let fingerprint = hidden(&preview, "fingerprint");

    // The proposal changes before "Issue": the driver's residence arrives.
    import(
        s,
        ImportKind::Residences,
        "person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n\
         DRIVER,Dario Driver,,,B4,Taxiweg 4,1,47.3900,8.5600,north\n",
    )
    .await;
    let r = c
        .post(
            &ivan,
            "/cases/CASE/orders/issue",
            &[("csrf", &csrf), ("fingerprint", &fingerprint)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    for p in ["NEAR", "HOUSE", "SOUTHP", "DRIVER"] {
        assert!(orders_of(s, p).await.is_empty(), "nothing issued: {p}");
    }
    // Without the session's token, nothing either.
    let r = c
        .post(
            &ivan,
            "/cases/CASE/orders/issue",
            &[("csrf", "x"), ("fingerprint", &fingerprint)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Previewed again, issued: exactly those four, each in its own district.
    let r = c
        .post(&ivan, "/cases/CASE/orders/preview", &[("csrf", &csrf)])
        .await;
    let preview = r.text().await.unwrap();
    assert!(preview.contains("data-id=\"DRIVER\" data-action=\"create\""));
    let r = c
        .post(
            &ivan,
            "/cases/CASE/orders/issue",
            &[
                ("csrf", &csrf),
                ("fingerprint", &hidden(&preview, "fingerprint")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let issued = r.text().await.unwrap();
    assert!(issued.contains("id=\"flash\""), "{issued}");
    for (p, district) in [
        ("NEAR", "north"),
        ("HOUSE", "north"),
        ("DRIVER", "north"),
        ("SOUTHP", "south"),
    ] {
        let o = orders_of(s, p).await;
        assert_eq!(o.len(), 1, "{p}");
        assert_eq!(o[0].status, OrderStatus::Active);
        assert_eq!(o[0].district.as_str(), district);
        assert!(issued.contains(o[0].id.as_str()), "{p}: {issued}");
    }
    for p in ["FAR", "NEIGH", "CASE"] {
        assert!(orders_of(s, p).await.is_empty(), "no order for {p}");
    }
    let events = s
        .audit_search(
            &lazaret_store::AuditFilter {
                action: Some("order.create".into()),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.actor == "user:ivan"));
}

backends!(a_revision_is_previewed_without_writing_and_committed_on_confirm);
async fn a_revision_is_previewed_without_writing_and_committed_on_confirm(db: TestDb) {
    let c = world(&db).await;
    let s = &c.app.state.store;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;
    let r = c
        .post(&ivan, "/cases/CASE/orders/preview", &[("csrf", &csrf)])
        .await;
    let fp = hidden(&r.text().await.unwrap(), "fingerprint");
    let r = c
        .post(
            &ivan,
            "/cases/CASE/orders/issue",
            &[("csrf", &csrf), ("fingerprint", &fp)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let near = orders_of(s, "NEAR").await.remove(0);
    let south = orders_of(s, "SOUTHP").await.remove(0);
    let test = TestId::parse("T-C").unwrap();
    let contacts = s.contacts_of_test(&test).await.unwrap().len();
    let audit_len = s
        .audit_search(&Default::default(), 10_000)
        .await
        .unwrap()
        .len();

    let form = [
        ("csrf", csrf.as_str()),
        ("test", "T-C"),
        ("result", "negative"),
        ("reason", "lab error: samples swapped"),
    ];
    let r = c.post(&ivan, "/cases/CASE/revision/preview", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let preview = r.text().await.unwrap();
    // What the cascade will release, and that nothing was written.
    assert!(preview.contains(near.id.as_str()), "{preview}");
    assert!(preview.contains(south.id.as_str()), "{preview}");
    assert!(preview.contains("Orders released (3)"), "{preview}");
    assert!(
        preview.contains(&format!("id=\"rv-withdrawn\">{contacts}<")),
        "{preview}"
    );
    assert_eq!(
        s.get_test_result(&test).await.unwrap().unwrap().result,
        TestOutcome::Positive
    );
    assert_eq!(s.contacts_of_test(&test).await.unwrap().len(), contacts);
    assert_eq!(orders_of(s, "NEAR").await[0].status, OrderStatus::Active);
    // The preview's own read is the only new event (the dry run's were rolled back).
    let events = s.audit_search(&Default::default(), 10_000).await.unwrap();
    assert_eq!(events.len(), audit_len + 1);
    assert_eq!(events.last().unwrap().action, "test.revise.preview");
    let report = s.verify_audit(&mut |_, _| {}).await.unwrap();
    assert!(report.fault.is_none(), "{report:?}");

    // Confirm with a cascade that no longer matches: refused, nothing changes.
    let mut stale = form.to_vec();
    let fp = hidden(&preview, "fingerprint");
    stale.push(("fingerprint", "0123456789abcdef0123456789abcdef"));
    let r = c.post(&ivan, "/cases/CASE/revision", &stale).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        s.get_test_result(&test).await.unwrap().unwrap().result,
        TestOutcome::Positive
    );

    let mut confirm = form.to_vec();
    confirm.push(("fingerprint", &fp));
    let r = c.post(&ivan, "/cases/CASE/revision", &confirm).await;
    assert_eq!(r.status(), StatusCode::OK);
    let done = r.text().await.unwrap();
    assert!(done.contains("id=\"flash\""), "{done}");
    let t = s.get_test_result(&test).await.unwrap().unwrap();
    assert_eq!(t.result, TestOutcome::Negative);
    assert_eq!(t.revisions[0].reason, "lab error: samples swapped");
    assert_eq!(orders_of(s, "NEAR").await[0].status, OrderStatus::Released);
    assert_eq!(
        orders_of(s, "SOUTHP").await[0].status,
        OrderStatus::Released
    );
    assert!(s.contacts_of_test(&test).await.unwrap().is_empty());
    // No longer a case.
    let (_, list) = c.html(&ivan, "/cases").await;
    assert!(rows(&list, "cases").is_empty(), "{list}");
}

backends!(the_chain_svg_is_well_formed_with_links_to_case_pages);
async fn the_chain_svg_is_well_formed_with_links_to_case_pages(db: TestDb) {
    let c = world(&db).await;
    let s = &c.app.state.store;
    // NEAR becomes a case too, and is traced: a chain of two generations.
    import(
        s,
        ImportKind::Tests,
        "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
         T-N,NEAR,2026-03-10T08:00:00Z,positive,Lab North,\n",
    )
    .await;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;
    for case in ["CASE", "NEAR"] {
        let r = c
            .post(&ivan, &format!("/cases/{case}/trace"), &[("csrf", &csrf)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = c.get(&ivan, "/chains.svg?case=CASE", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/svg+xml"));
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let body = r.text().await.unwrap();
    let doc = roxmltree::Document::parse(&body).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert!(
        !doc.descendants().any(|n| n.tag_name().name() == "script"),
        "no script"
    );
    let links: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "a")
        .filter_map(|n| n.attribute("href"))
        .collect();
    assert!(links.contains(&"/cases/CASE"), "{links:?}");
    assert!(links.contains(&"/cases/NEAR"), "{links:?}");
    assert!(links.contains(&"/persons/FAR"), "{links:?}");
    assert!(!links.iter().any(|l| l.contains("SOUTHP")), "{links:?}");
    assert!(body.contains("Casey Index") && body.contains("Nadia Near"));
    assert!(!body.contains("Sven South"), "south's name in the drawing");
    assert!(body.contains("other district · south"));

    // By days of onset: the chain has cases on 03-09 and 03-10.
    let (st, page) = c.html(&ivan, "/chains?from=2026-03-09&to=2026-03-09").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("href=\"/cases/CASE\""), "{page}");
    let (_, none) = c.html(&ivan, "/chains?from=2026-01-01&to=2026-01-31").await;
    assert!(none.contains("id=\"no-chains\""), "{none}");
    let (st, _) = c.html(&ivan, "/chains?from=yesterday").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // South's investigator: north's case is not found, its chain neither.
    let sara = c.session("sara").await;
    assert_eq!(
        c.get(&sara, "/chains.svg?case=CASE", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
}

backends!(another_districts_case_is_not_found_and_compliance_is_refused);
async fn another_districts_case_is_not_found_and_compliance_is_refused(db: TestDb) {
    let c = world(&db).await;
    let sara = c.session("sara").await;
    let csrf = c.csrf(&sara).await;
    let (st, page) = c.html(&sara, "/cases/CASE").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(page.contains("no such case"), "{page}");
    let (_, list) = c.html(&sara, "/cases").await;
    assert!(rows(&list, "cases").is_empty(), "{list}");
    for path in [
        "/cases/CASE/trace",
        "/cases/CASE/orders/preview",
        "/cases/CASE/orders/issue",
    ] {
        let r = c.post(&sara, path, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = c
        .post(
            &sara,
            "/cases/CASE/revision/preview",
            &[
                ("csrf", &csrf),
                ("test", "T-C"),
                ("result", "negative"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let nora = c.session("nora").await;
    let ncsrf = c.csrf(&nora).await;
    for path in ["/cases", "/cases/CASE", "/chains", "/chains.svg?case=CASE"] {
        let (st, page) = c.html(&nora, path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("does not trace"), "{path}: {page}");
        assert!(!page.contains("Casey Index"));
    }
    let r = c
        .post(&nora, "/cases/CASE/trace", &[("csrf", &ncsrf)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Cases and Chains are not in her navigation.
    let (_, account) = c.html(&nora, "/account").await;
    assert!(!account.contains("href=\"/cases\"") && !account.contains("href=\"/chains\""));
}

backends!(the_cases_list_pages_newest_first);
async fn the_cases_list_pages_newest_first(db: TestDb) {
    let c = world(&db).await;
    let s = &c.app.state.store;
    let mut csv =
        String::from("person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n");
    let mut tests = String::from("test_id,person_id,sampled_at,result,lab,symptom_onset\n");
    for i in 0..60 {
        csv.push_str(&format!(
            "P{i:02},Person {i:02},,,BX{i},Weg {i},1,47.0,8.0,north\n"
        ));
        tests.push_str(&format!(
            "TP{i:02},P{i:02},2026-03-0{}T{:02}:00:00Z,positive,Lab,\n",
            1 + i / 24,
            i % 24
        ));
    }
    import(s, ImportKind::Residences, &csv).await;
    import(s, ImportKind::Tests, &tests).await;
    // South's case is never listed to north.
    import(
        s,
        ImportKind::Tests,
        "test_id,person_id,sampled_at,result,lab,symptom_onset\nT-S,SOUTHP,2026-03-09T13:00:00Z,positive,Lab,\n",
    )
    .await;
    let ivan = c.session("ivan").await;
    let (_, first) = c.html(&ivan, "/cases").await;
    let a = rows(&first, "cases");
    assert_eq!(a.len(), 50);
    assert_eq!(a[0], "CASE", "the newest test first");
    assert_eq!(a[1], "P59");
    let next = first
        .split("id=\"next-page\" rel=\"next\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let (_, second) = c.html(&ivan, &next).await;
    let b = rows(&second, "cases");
    assert_eq!(b.len(), 11);
    assert_eq!(b.last().unwrap(), "P00");
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    assert!(!all.contains(&"SOUTHP".to_owned()));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 61);
    assert!(!second.contains("id=\"next-page\""));
}

/// ~300 people on one flight with the case, five of them later cases with
/// households of six: one chain of about 330 members.
async fn big_chain(c: &Console) {
    let s = &c.app.state.store;
    let mut flights = String::from(
        "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref,district\n",
    );
    let letters = ['A', 'B', 'C', 'D', 'E', 'F'];
    for i in 0..300 {
        let seat = format!("{}{}", 1 + i / 6, letters[i % 6]);
        flights.push_str(&format!(
            "F9,LX9,2026-03-07T10:00:00Z,ZRH,JFK,PAX{i:03},Passenger {i:03},,,passenger,{seat},,north\n"
        ));
    }
    flights
        .push_str("F9,LX9,2026-03-07T10:00:00Z,ZRH,JFK,BIG,Bianca Index,,,passenger,20C,,north\n");
    import(s, ImportKind::Flights, &flights).await;
    let mut res =
        String::from("person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n");
    let mut tests = String::from(
        "test_id,person_id,sampled_at,result,lab,symptom_onset\nT-BIG,BIG,2026-03-08T09:00:00Z,positive,Lab,\n",
    );
    for k in 0..5 {
        let p = format!("PAX{:03}", 100 + k * 7);
        res.push_str(&format!(
            "{p},Passenger {},,,H{k},Hof {k},1,47.1,8.1,north\n",
            100 + k * 7
        ));
        for j in 0..6 {
            res.push_str(&format!(
                "H{k}M{j},Household {k}-{j},,,H{k},Hof {k},1,47.1,8.1,north\n"
            ));
        }
        tests.push_str(&format!("T-{p},{p},2026-03-09T1{k}:00:00Z,positive,Lab,\n"));
    }
    import(s, ImportKind::Residences, &res).await;
    import(s, ImportKind::Tests, &tests).await;
    let state = &c.app.state;
    let actor = lazaret_server::services::Actor::new(
        "cli:test",
        Role::Investigator,
        lazaret_core::district::DistrictScope::All,
    );
    let mut cases = vec!["BIG".to_owned()];
    cases.extend((0..5).map(|k| format!("PAX{:03}", 100 + k * 7)));
    for case in cases {
        lazaret_server::services::tracing::trace(state, &actor, &case)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_and_chains_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let c = world(&db).await;
    let mut failures = Vec::new();

    for (size, tag) in [(LAPTOP, "laptop"), (TABLET, "tablet")] {
        // A fresh world per size would repeat the data; the laptop pass
        // traces and issues, the tablet pass looks at the same pages.
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ivan").await;
        b.click("nav a[href='/cases']").await;
        landed(&b, "the cases list", "/cases").await;
        look(&b, axe.as_deref(), &format!("cases-{tag}"), &mut failures).await;
        b.click("#cases tbody tr td.person a").await;
        landed(&b, "the case page", "/cases/CASE").await;
        if tag == "laptop" {
            b.click("#trace").await;
            b.wait_for(
                "the traced case",
                "return document.getElementById('flash') !== null && document.getElementById('tier-close') !== null;",
                WAIT,
            )
            .await;
        }
        let close = b
            .exec(
                "return document.querySelectorAll('#tier-close tbody tr').length;",
                json!([]),
            )
            .await;
        assert_eq!(close, 4);
        look(&b, axe.as_deref(), &format!("case-{tag}"), &mut failures).await;

        b.click("#propose").await;
        b.wait_for(
            "the preview",
            "return document.getElementById('proposals') !== null;",
            WAIT,
        )
        .await;
        look(
            &b,
            axe.as_deref(),
            &format!("orders-preview-{tag}"),
            &mut failures,
        )
        .await;
        if tag == "laptop" {
            b.click("#issue").await;
            b.wait_for(
                "the issued orders",
                "return document.getElementById('flash') !== null;",
                WAIT,
            )
            .await;
            look(&b, axe.as_deref(), "orders-issued-laptop", &mut failures).await;
            assert_eq!(orders_of(&db.store, "NEAR").await.len(), 1);
        }

        // The chain SVG on its own: an <a> to a case page inside.
        b.goto(&format!("{}/chains.svg?case=CASE", c.base)).await;
        let href = b
            .wait_for(
                "the drawing",
                "var a = document.querySelector('a[href^=\"/cases/\"]'); return document.documentElement.localName === 'svg' && a ? a.getAttribute('href') : null;",
                WAIT,
            )
            .await;
        assert_eq!(href, "/cases/CASE");
        b.assert_self_contained().await;
        b.screenshot(&format!("chain-svg-{tag}")).await;

        // The revision preview (not confirmed).
        b.goto(&format!("{}/cases/CASE", c.base)).await;
        b.text_of("#revise-title", WAIT).await;
        b.type_into("#rv-reason", "lab error").await;
        b.click("#revise-preview").await;
        b.wait_for(
            "the revision preview",
            "return document.getElementById('confirm-revision') !== null;",
            WAIT,
        )
        .await;
        look(
            &b,
            axe.as_deref(),
            &format!("revision-preview-{tag}"),
            &mut failures,
        )
        .await;
        b.quit().await;
    }

    // A chain of ~330 members, on the chains page and as a file.
    big_chain(&c).await;
    for (size, tag) in [(LAPTOP, "laptop"), (TABLET, "tablet")] {
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ivan").await;
        b.click("nav a[href='/chains']").await;
        b.goto(&format!("{}/chains?from=2026-03-01&to=2026-03-10", c.base))
            .await;
        let nodes = b
            .wait_for(
                "the chains",
                "var n = document.querySelectorAll('svg.chains .node').length; return n > 0 ? n : null;",
                WAIT,
            )
            .await;
        assert!(nodes.as_u64().unwrap() > 300, "{nodes}");
        look(&b, axe.as_deref(), &format!("chains-{tag}"), &mut failures).await;
        b.goto(&format!("{}/chains.svg?case=BIG", c.base)).await;
        b.wait_for(
            "the big drawing",
            "return document.documentElement.localName === 'svg';",
            WAIT,
        )
        .await;
        b.assert_self_contained().await;
        b.screenshot(&format!("chain-big-svg-{tag}")).await;
        b.quit().await;
    }
    assert!(
        failures.is_empty(),
        "accessibility:\n{}",
        failures.join("\n")
    );
}
