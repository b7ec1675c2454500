//! The console's follow-up over real HTTP, signed in through the login
//! form, on both backends: the worklists as tabs, a follow-up's page with
//! the flight, seat and booking of a contact without an address, a call
//! logged through the form (and a bad one refused at its field, nothing
//! logged), the place form that issues the order, a contact named from the
//! case page, and another district's follow-up as 404. Then the pages in
//! headless Chromium at laptop and phone size.

use lazaret_core::ids::PersonId;
use lazaret_core::user::Role;
use lazaret_server::services::Actor;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, ImportKind, ImportOptions, PageRequest, Store, Worklist};
use reqwest::StatusCode;

use crate::browser::{self, Chromedriver, LAPTOP, PHONE};
use crate::console::{landed, look, sign_in, Console, WAIT};
use crate::support::t0;

const FLIGHTS: &str = "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref,district\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,CASE,Casey Index,,,passenger,14C,BKC,north\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,SEAT,Sam Seat,+41441110001,,passenger,15A,BKS,north\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,NOADDR,Nina Noaddr,+41441110002,,passenger,14D,BKN,north\n\
    F1,LX1,2026-03-08T10:00:00Z,ZRH,LHR,CABIN,Carl Cabin,,,passenger,30A,BKX,north\n";
const RESIDENCES: &str =
    "person_id,full_name,phone,email,building_id,address,unit,lat,lon,district\n\
    CASE,Casey Index,,,B1,Lindenweg 1,1,47.3700,8.5400,north\n\
    SEAT,Sam Seat,+41441110001,,B2,Bergstrasse 3,3,47.3800,8.5500,north\n\
    CABIN,Carl Cabin,,,B3,Seeweg 8,1,47.3600,8.5300,north\n";
const TESTS: &str = "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
    T-C,CASE,2026-03-09T12:00:00Z,positive,Lab North,\n";

async fn import(s: &Store, kind: ImportKind, csv: &str) {
    let r = s
        .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), t0())
        .await
        .unwrap();
    assert!(r.committed, "{:?}", r.errors);
}

/// The case traced, and officers: `ivan` (investigator, north), `sara`
/// (investigator, south).
async fn world(db: &TestDb) -> Console {
    let c = Console::start(db).await;
    let s = &c.app.state.store;
    import(s, ImportKind::Flights, FLIGHTS).await;
    import(s, ImportKind::Residences, RESIDENCES).await;
    import(s, ImportKind::Tests, TESTS).await;
    c.user("ivan", Role::Investigator, "north").await;
    c.user("sara", Role::Investigator, "south").await;
    let actor = Actor::new(
        "user:ivan",
        Role::Investigator,
        lazaret_core::district::DistrictScope::parse("north").unwrap(),
    );
    lazaret_server::services::tracing::trace(&c.app.state, &actor, "CASE")
        .await
        .unwrap();
    c
}

async fn follow_up_of(s: &Store, list: Worklist, person: &str) -> String {
    let page = s
        .worklist(
            list,
            &lazaret_core::district::DistrictScope::All,
            t0(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    page.items
        .iter()
        .find(|f| f.person_id.as_str() == person)
        .unwrap_or_else(|| panic!("{person} not on {list:?}"))
        .id
        .to_string()
}

backends!(the_worklists_the_call_log_and_the_place_form);
async fn the_worklists_the_call_log_and_the_place_form(db: TestDb) {
    let c = world(&db).await;
    let s = &c.app.state.store;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;

    let (st, html) = c.html(&ivan, "/follow-ups?list=to_call").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("Sam Seat") && html.contains("Nina Noaddr"),
        "{html}"
    );
    assert!(
        !html.contains("Carl Cabin"),
        "a notify-tier contact is not called"
    );
    let (_, html) = c.html(&ivan, "/follow-ups?list=to_inform").await;
    assert!(html.contains("Carl Cabin"));
    let (_, html) = c.html(&ivan, "/follow-ups?list=interview").await;
    assert!(html.contains("Casey Index") || html.contains("id=\"empty\""));

    // The contact without an address: why (flight, seat, booking) and the place form.
    let noaddr = follow_up_of(s, Worklist::NoAddress, "NOADDR").await;
    let (st, html) = c.html(&ivan, &format!("/follow-ups/{noaddr}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("LX1") && html.contains("14D") && html.contains("BKN"),
        "{html}"
    );
    assert!(html.contains("id=\"place\""));

    // A call with no outcome: refused at the field, nothing logged.
    let r = c
        .post(
            &ivan,
            &format!("/follow-ups/{noaddr}/calls"),
            &[("csrf", &csrf), ("note", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let id = lazaret_core::ids::FollowUpId::parse(&noaddr).unwrap();
    assert!(s.follow_up_calls(&id).await.unwrap().is_empty());
    // Without this session's CSRF token: 403, nothing logged.
    let r = c
        .post(
            &ivan,
            &format!("/follow-ups/{noaddr}/calls"),
            &[("csrf", "forged"), ("outcome", "reached")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(
            &ivan,
            &format!("/follow-ups/{noaddr}/calls"),
            &[
                ("csrf", &csrf),
                ("outcome", "reached"),
                ("note", "staying at a hotel"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let calls = s.follow_up_calls(&id).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].caller, "user:ivan");
    assert_eq!(calls[0].note.as_deref(), Some("staying at a hotel"));
    let (_, html) = c.html(&ivan, &format!("/follow-ups/{noaddr}")).await;
    assert!(html.contains("staying at a hotel") && html.contains("data-status=\"reached\""));

    // A bad coordinate: refused at the field, no order.
    let r = c
        .post(
            &ivan,
            &format!("/follow-ups/{noaddr}/address"),
            &[
                ("csrf", &csrf),
                ("address", "Hotel Central"),
                ("lat", "north"),
                ("lon", "8.5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let person = PersonId::parse("NOADDR").unwrap();
    assert!(s.get_person(&person).await.unwrap().is_some());
    let r = c
        .post(
            &ivan,
            &format!("/follow-ups/{noaddr}/address"),
            &[
                ("csrf", &csrf),
                ("address", "Hotel Central, room 12"),
                ("lat", "47,378"),
                ("lon", "8.540"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/orders/"), "{to}");
    let (_, html) = c.html(&ivan, &to).await;
    assert!(html.contains("Hotel Central, room 12"));
    let (_, html) = c.html(&ivan, "/follow-ups?list=no_address").await;
    assert!(!html.contains("Nina Noaddr"));

    // Named from the case page: a new person, on the case's close tier.
    let r = c
        .post(
            &ivan,
            "/cases/CASE/contacts",
            &[
                ("csrf", &csrf),
                ("full_name", "Fay Friend"),
                ("phone", "+41441110009"),
                ("setting", "household"),
                ("last_exposure", "2026-03-09T18:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = c.html(&ivan, "/cases/CASE").await;
    assert!(
        html.contains("Fay Friend") && html.contains("Household"),
        "{html}"
    );

    // South's investigator: no such follow-up.
    let sara = c.session("sara").await;
    let (st, _) = c.html(&sara, &format!("/follow-ups/{noaddr}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, html) = c.html(&sara, "/follow-ups?list=to_call").await;
    assert!(!html.contains("Sam Seat"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let c = world(&db).await;
    let mut failures = Vec::new();
    for (size, tag) in [(LAPTOP, "laptop"), (PHONE, "phone")] {
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ivan").await;
        b.goto(&format!("{}/follow-ups?list=to_call", c.base)).await;
        landed(&b, "the call list", "/follow-ups?list=to_call").await;
        let rows = b
            .exec(
                "return document.querySelectorAll('#worklist tbody tr').length;",
                serde_json::json!([]),
            )
            .await;
        assert_eq!(rows, 2);
        look(
            &b,
            axe.as_deref(),
            &format!("follow-up-list-{tag}"),
            &mut failures,
        )
        .await;
        b.click("nav.tabs a[href='/follow-ups?list=no_address']")
            .await;
        landed(&b, "the no-address list", "/follow-ups?list=no_address").await;
        b.click("#worklist tbody tr td.person a").await;
        b.text_of("#place-title", WAIT).await;
        if tag == "laptop" {
            b.click("input[name=outcome][value=no_answer]").await;
            b.type_into("#call-note", "voicemail").await;
            b.click("#save-call").await;
            b.wait_for(
                "the logged call",
                "return document.querySelectorAll('#call-log li').length === 1 && document.getElementById('flash') !== null;",
                WAIT,
            )
            .await;
        }
        look(
            &b,
            axe.as_deref(),
            &format!("follow-up-page-{tag}"),
            &mut failures,
        )
        .await;
        if tag == "phone" {
            b.type_into("#pl-address", "Hotel Central, room 12").await;
            b.type_into("#pl-lat", "47.378").await;
            b.type_into("#pl-lon", "8.540").await;
            b.click("#issue-order").await;
            b.wait_for(
                "the issued order",
                "return location.pathname.indexOf('/orders/') === 0 && document.querySelector('h1') !== null;",
                WAIT,
            )
            .await;
            look(&b, axe.as_deref(), "follow-up-order-phone", &mut failures).await;
        }
        b.goto(&format!("{}/cases/CASE", c.base)).await;
        b.text_of("#name-contact-title", WAIT).await;
        look(
            &b,
            axe.as_deref(),
            &format!("case-with-follow-up-{tag}"),
            &mut failures,
        )
        .await;
        if tag == "laptop" {
            // This server sends no messages: nobody is informed, and the list says why.
            b.click("#send-notices").await;
            b.wait_for(
                "the to-inform list with the unsent notices",
                "return location.search.indexOf('list=to_inform') >= 0 && document.getElementById('not-informed') !== null;",
                WAIT,
            )
            .await;
            look(
                &b,
                axe.as_deref(),
                "follow-up-notices-laptop",
                &mut failures,
            )
            .await;
        } else {
            b.goto(&format!("{}/follow-ups?list=to_inform", c.base))
                .await;
            landed(&b, "the to-inform list", "/follow-ups?list=to_inform").await;
            b.click("#worklist tbody tr td.person a").await;
            b.text_of("#notice-title", WAIT).await;
            b.click("#send-notice").await;
            b.wait_for(
                "the reason no notice went out",
                "return document.getElementById('form-error') !== null;",
                WAIT,
            )
            .await;
            look(&b, axe.as_deref(), "follow-up-notice-phone", &mut failures).await;
        }
        b.quit().await;
    }
    assert!(
        failures.is_empty(),
        "accessibility:\n{}",
        failures.join("\n")
    );
}
