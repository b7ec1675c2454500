//! The console's order pages over real HTTP, signed in through the login
//! form: the orders list (paging, the status filter that persists, only the
//! officer's districts), the order form (a new person and an order through
//! the services of `POST /api/v1/persons` and `/orders`; a bad field shown
//! at its place, nothing stored), extend and release with and without a
//! reason, CSRF, another district's order as 404, and the enrolment: an
//! officer's photo (a bad one explained), a self-enrolment link the system
//! sends by SMS, the photo the person submits seen by the officer (and only
//! by an officer of the order's district), approved or rejected, then gone.
//! Everything the pages change is checked in the store and the audit log.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use lazaret_core::contact_info::{Language, Phone};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{EnrollmentLinkId, OrderId, PersonId};
use lazaret_core::order::{OrderBasis, OrderStatus, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_core::user::Role;
use lazaret_server::config::Secret;
use lazaret_server::notify::{SendFuture, Sms, SmsSender};
use lazaret_server::services::{self, Actor};
use lazaret_server::template_crypto::TemplateKey;
use lazaret_server::{App, Config};
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, Channel, LinkStatus, OrderFilter, PageRequest};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{self, Chromedriver, LAPTOP, TABLET};
use crate::console::{landed, look, set_cookie, sign_in, Console, WAIT};
use crate::support::{self, photo, t0, TestClock, ENROL, OTHER};

/// Keeps every SMS the outbox hands it.
#[derive(Default)]
pub struct SmsBox(pub Mutex<Vec<Sms>>);

impl SmsSender for SmsBox {
    fn send<'a>(&'a self, sms: &'a Sms) -> SendFuture<'a> {
        Box::pin(async move {
            self.0.lock().unwrap().push(sms.clone());
            Ok(())
        })
    }
}

/// A console with the face engine and the outbox (SMS to [`SmsBox`]).
async fn console_with_outbox(db: &TestDb) -> (Console, Arc<SmsBox>) {
    let phone = Arc::new(SmsBox::default());
    let config = Config {
        template_key: Secret::new(TemplateKey::generate_hex()),
        public_url: Some("http://lazaret.example".into()),
        ..Config::default()
    };
    let app = App::builder(config, db.store.clone())
        .clock(Arc::new(TestClock(Mutex::new(t0()))))
        .face(support::engine())
        .sms(phone.clone())
        .build()
        .unwrap();
    (Console::serve(app).await, phone)
}

fn officer(districts: &str) -> Actor {
    Actor::new(
        "cli:test",
        Role::Investigator,
        DistrictScope::parse(districts).unwrap(),
    )
}

/// A person in `district` with an active 14-day order at Zürich's station;
/// the order id.
async fn order_in(
    c: &Console,
    district: &str,
    name: &str,
    phone: Option<&str>,
    lang: &str,
) -> String {
    let state = &c.app.state;
    let actor = officer(district);
    let person = services::persons::register(
        state,
        &actor,
        Person {
            id: PersonId::generate(),
            full_name: FullName::parse(name).unwrap(),
            phone: phone.map(|p| Phone::parse(p).unwrap()),
            email: None,
            language: Language::parse(lang).unwrap(),
            district: District::unassigned(),
        },
        None,
    )
    .await
    .unwrap();
    let w = services::orders::create_or_extend(
        state,
        &actor,
        services::orders::NewOrder {
            person_id: person.id,
            address: Address::parse("Bahnhofplatz 1, Zürich").unwrap(),
            geofence: Geofence::new(Coordinates::new(47.3779, 8.5403).unwrap(), 150.0).unwrap(),
            starts_at: t0() - Duration::hours(1),
            ends_at: t0() + Duration::days(14),
            time_zone: TimeZone::parse("Europe/Zurich").unwrap(),
            basis: OrderBasis::Arrival { area: "X".into() },
            status: OrderStatus::Active,
            district: None,
        },
    )
    .await
    .unwrap();
    w.order.id.to_string()
}

/// The order ids a list page shows, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<tr data-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

async fn stored(c: &Console, id: &str) -> lazaret_core::order::QuarantineOrder {
    c.app
        .state
        .store
        .get_order(&OrderId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

backends!(the_orders_list_pages_filters_and_keeps_to_the_districts);
async fn the_orders_list_pages_filters_and_keeps_to_the_districts(db: TestDb) {
    let c = Console::start(&db).await;
    let mut north = Vec::new();
    for i in 0..52 {
        north.push(order_in(&c, "north", &format!("North {i}"), None, "en").await);
    }
    let south = order_in(&c, "south", "South One", None, "en").await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    c.user("adam", Role::Admin, "*").await;
    let nora = c.session("nora").await;

    // A plain /orders without a saved filter goes to the whole list.
    let r = c.get(&nora, "/orders", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/orders?");
    let (st, first) = c.html(&nora, "/orders?").await;
    assert_eq!(st, StatusCode::OK);
    let page1 = listed(&first);
    assert_eq!(page1.len(), 50, "50 a page");
    let next = first
        .split("id=\"next-page\" rel=\"next\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&");
    let (_, second) = c.html(&nora, &next).await;
    let page2 = listed(&second);
    assert_eq!(page2.len(), 2);
    assert!(!second.contains("id=\"next-page\""));
    let mut all: Vec<String> = page1.into_iter().chain(page2).collect();
    all.sort();
    let mut expected = north.clone();
    expected.sort();
    assert_eq!(all, expected, "every north order once, no south order");
    assert!(!first.contains(&south) && !second.contains(&south));
    // Each row links to its order and its person.
    assert!(first.contains(&format!("href=\"/orders/{}\"", north[0])));
    assert!(first.contains("href=\"/persons/"));

    // The status filter, kept for the next plain /orders.
    services::orders::transition(
        &c.app.state,
        &officer("north"),
        &north[3],
        OrderStatus::Released,
        Some("negative test"),
    )
    .await
    .unwrap();
    let r = c.get(&nora, "/orders?status=released", &[]).await;
    let saved = set_cookie(&r, "lazaret_orders_query").unwrap();
    assert_eq!(saved, "status=released");
    let html = r.text().await.unwrap();
    assert_eq!(listed(&html), vec![north[3].clone()]);
    let r = c
        .get(&nora, "/orders", &[("lazaret_orders_query", &saved)])
        .await;
    assert_eq!(location(&r), "/orders?status=released");
    let (_, active) = c.html(&nora, "/orders?status=active&cursor=").await;
    assert!(!listed(&active).contains(&north[3]));

    // Another district's order is as unknown as a missing one.
    let (st, html) = c.html(&nora, &format!("/orders/{south}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains("South One"));
    let (st, _) = c.html(&nora, "/orders/no-such-order").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // An administrator does not read orders.
    let adam = c.session("adam").await;
    let (st, _) = c.html(&adam, "/orders?").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = c.html(&adam, &format!("/orders/{}", north[0])).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

backends!(an_order_from_the_form);
async fn an_order_from_the_form(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ivan", Role::Investigator, "north").await;
    let ivan = c.session("ivan").await;
    let csrf = c.csrf(&ivan).await;
    let store = &c.app.state.store;
    let persons_before = store
        .list_persons(&Default::default(), &PageRequest::default())
        .await
        .unwrap()
        .items
        .len();

    let (st, form) = c.html(&ivan, "/orders/new").await;
    assert_eq!(st, StatusCode::OK);
    assert!(form.contains("name=\"full_name\"") && form.contains("name=\"lat\""));

    // A bad latitude and no address: shown at their fields, values kept,
    // nobody registered.
    let bad = [
        ("csrf", csrf.as_str()),
        ("full_name", "Olga Petrova"),
        ("phone", "+79123456789"),
        ("language", "ru"),
        ("address", ""),
        ("lat", "91"),
        ("lon", "8.5403"),
        ("radius_m", "120"),
        ("district", "north"),
        ("time_zone", ""),
        ("starts_at", "2026-03-10T10:00"),
        ("ends_at", "2026-03-24T10:00"),
        ("basis", "arrival"),
        ("area", "Region X"),
        ("status", "active"),
    ];
    let r = c.post(&ivan, "/orders", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-lat-error\""), "{html}");
    assert!(html.contains("id=\"f-address-error\""), "{html}");
    assert!(html.contains("value=\"Olga Petrova\""), "values kept");
    assert!(html.contains("value=\"+79123456789\""));
    assert_eq!(
        store
            .list_persons(&Default::default(), &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        persons_before,
        "nothing stored"
    );

    // Without the session's CSRF token: refused, nothing stored.
    let mut forged = bad.to_vec();
    forged[0] = ("csrf", "forged");
    let r = c.post(&ivan, "/orders", &forged).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Corrected: a new person and their order; the zone from the coordinates.
    let mut good = bad.to_vec();
    good[4] = ("address", "Bahnhofplatz 1, Zürich");
    good[5] = ("lat", "47.3779");
    let r = c.post(&ivan, "/orders", &good).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let id = to.strip_prefix("/orders/").unwrap().to_owned();
    let o = stored(&c, &id).await;
    assert_eq!(o.district.as_str(), "north");
    assert_eq!(o.time_zone.name(), "Europe/Zurich");
    assert_eq!(o.geofence.radius_m, 120.0);
    assert_eq!(o.status, OrderStatus::Active);
    // 10:00 in Zürich (UTC+1 in March) is 09:00 UTC.
    assert_eq!(
        o.starts_at,
        "2026-03-10T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let person = store.get_person(&o.person_id).await.unwrap().unwrap();
    assert_eq!(person.full_name.as_str(), "Olga Petrova");
    assert_eq!(person.language.as_str(), "ru");
    assert_eq!(person.district.as_str(), "north");
    let flash = set_cookie(&r, "lazaret_order_flash").unwrap();
    let r = c.get(&ivan, &to, &[("lazaret_order_flash", &flash)]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"flash\""), "{html}");
    assert!(html.contains("Bahnhofplatz 1, Zürich") && html.contains("id=\"fence\""));

    // From the person page's "New order": the person by name; a second
    // active order folds into the first.
    let (_, page) = c.html(&ivan, &format!("/persons/{}", o.person_id)).await;
    let new_link = format!("/orders/new?person={}", o.person_id);
    assert!(page.contains(&format!("href=\"{new_link}\"")), "{page}");
    assert!(page.contains(&format!("href=\"/orders/{id}\"")));
    let (_, form) = c.html(&ivan, &new_link).await;
    assert!(form.contains("id=\"chosen-person\"") && form.contains("Olga Petrova"));
    let again = [
        ("csrf", csrf.as_str()),
        ("person_id", o.person_id.as_str()),
        ("address", "Bahnhofplatz 1, Zürich"),
        ("lat", "47.3779"),
        ("lon", "8.5403"),
        ("radius_m", "120"),
        ("district", "north"),
        ("time_zone", "Europe/Zurich"),
        ("starts_at", "2026-03-10T10:00"),
        ("ends_at", "2026-03-30T10:00"),
        ("basis", "arrival"),
        ("area", "Region Y"),
        ("status", "active"),
    ];
    let r = c.post(&ivan, "/orders", &again).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/orders/{id}"));
    assert_eq!(
        set_cookie(&r, "lazaret_order_flash").unwrap(),
        "extended_existing"
    );
    let o = stored(&c, &id).await;
    assert_eq!(o.bases.len(), 2);
    let events = store.audit_events(0, 10_000).await.unwrap();
    for action in ["person.create", "order.create", "order.extend"] {
        assert!(
            events
                .iter()
                .any(|e| e.actor == "user:ivan" && e.action == action),
            "{action}"
        );
    }
}

backends!(extend_and_release_need_a_reason);
async fn extend_and_release_need_a_reason(db: TestDb) {
    let c = Console::start(&db).await;
    let id = order_in(&c, "north", "Boris Orlov", None, "en").await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    c.user("sven", Role::ComplianceOfficer, "south").await;
    let nora = c.session("nora").await;
    let csrf = c.csrf(&nora).await;
    let before = stored(&c, &id).await;

    // No reason: shown at the form, the date kept, nothing changed.
    let path = format!("/orders/{id}/extend");
    let r = c
        .post(
            &nora,
            &path,
            &[
                ("csrf", &csrf),
                ("ends_at", "2026-03-30T18:00"),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"extend-error\""), "{html}");
    assert!(html.contains("value=\"2026-03-30T18:00\""));
    assert_eq!(stored(&c, &id).await.ends_at, before.ends_at);
    // A forged form and another district's officer change nothing.
    let r = c
        .post(
            &nora,
            &path,
            &[
                ("csrf", "x"),
                ("ends_at", "2026-03-30T18:00"),
                ("reason", "positive test"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let sven = c.session("sven").await;
    let sven_csrf = c.csrf(&sven).await;
    let r = c
        .post(
            &sven,
            &path,
            &[
                ("csrf", &sven_csrf),
                ("ends_at", "2026-03-30T18:00"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(stored(&c, &id).await.ends_at, before.ends_at);
    // With a reason: 18:00 in Zürich.
    let r = c
        .post(
            &nora,
            &path,
            &[
                ("csrf", &csrf),
                ("ends_at", "2026-03-30T18:00"),
                ("reason", "household contact tested positive"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        stored(&c, &id).await.ends_at,
        "2026-03-30T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let events = c.app.state.store.audit_events(0, 10_000).await.unwrap();
    assert!(events.iter().any(|e| e.action == "order.extend"
        && e.actor == "user:nora"
        && e.details.contains("household contact tested positive")));

    // Release: a reason is required too.
    let path = format!("/orders/{id}/release");
    let r = c
        .post(&nora, &path, &[("csrf", &csrf), ("reason", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"release-error\""));
    assert_eq!(stored(&c, &id).await.status, OrderStatus::Active);
    let r = c
        .post(&nora, &path, &[("csrf", "x"), ("reason", "negative")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(
            &nora,
            &path,
            &[("csrf", &csrf), ("reason", "second test negative")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let o = stored(&c, &id).await;
    assert_eq!(o.status, OrderStatus::Released);
    assert_eq!(o.status_reason.as_deref(), Some("second test negative"));
    // An ended order offers no actions.
    let (_, html) = c.html(&nora, &format!("/orders/{id}")).await;
    assert!(!html.contains("id=\"extend-submit\"") && !html.contains("id=\"send-link\""));
}

/// `POST path` as multipart with the session, the CSRF field and a photo.
async fn upload(
    c: &Console,
    session: &str,
    path: &str,
    csrf: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new()
        .text("csrf", csrf.to_owned())
        .part("photo", Part::bytes(bytes).file_name("p.jpg"));
    c.client
        .post(format!("{}{path}", c.base))
        .header("cookie", format!("lazaret_session={session}"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The person's own upload with their link's token.
async fn self_enrol(c: &Console, token: &str, bytes: Vec<u8>) -> StatusCode {
    let form = Form::new()
        .text("token", token.to_owned())
        .part("photo", Part::bytes(bytes).file_name("me.jpg"));
    c.client
        .post(format!("{}/api/v1/enrollment", c.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status()
}

/// Sends the due outbox messages; the token of the newest SMS's link.
async fn deliver_link(c: &Console, phone: &SmsBox) -> String {
    c.app
        .notifier
        .as_ref()
        .unwrap()
        .deliver_due("test", Duration::minutes(1))
        .await
        .unwrap();
    let sms = phone.0.lock().unwrap();
    let body = &sms.last().expect("an SMS").body;
    body.split("/enroll#token=")
        .nth(1)
        .expect("the link in the SMS")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

backends!(
    a_self_enrolment_is_sent_seen_and_decided,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn a_self_enrolment_is_sent_seen_and_decided(db: TestDb) {
    let (c, phone) = console_with_outbox(&db).await;
    let id = order_in(&c, "north", "Dara Ivanova", Some("+41790000012"), "ru").await;
    let oid = OrderId::parse(&id).unwrap();
    c.user("nora", Role::ComplianceOfficer, "north").await;
    c.user("sven", Role::Investigator, "south").await;
    let nora = c.session("nora").await;
    let csrf = c.csrf(&nora).await;
    let store = &c.app.state.store;

    // An officer's photo: a bad one is explained at the form.
    let path = format!("/orders/{id}/enrollment");
    let r = upload(&c, &nora, &path, &csrf, b"not an image".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"enrol-error\""));
    let r = upload(&c, &nora, &path, "forged", photo(ENROL)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(store.get_enrollment(&oid).await.unwrap().is_none());

    // The link: the system sends it by SMS, in Russian; the page says
    // where it went, never the token.
    let r = c
        .post(
            &nora,
            &format!("/orders/{id}/enrollment-link"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let link = store.enrollment_links_of_order(&oid).await.unwrap()[0].clone();
    assert_eq!(link.status, LinkStatus::Open);
    let m = store
        .get_message_by_dedupe_key(&format!("enrollment_link:{}", link.id))
        .await
        .unwrap()
        .expect("the link's message, stored with it");
    assert_eq!(
        (m.kind.as_str(), m.channel, m.language.as_str()),
        ("enrollment_link", Some(Channel::Sms), "ru")
    );
    assert_eq!(m.recipient.as_deref(), Some("+41790000012"));
    let (_, html) = c.html(&nora, &format!("/orders/{id}")).await;
    assert!(html.contains("+41…12"), "{html}");
    assert!(!html.contains("lze_") && !html.contains("+41790000012"));
    let token = deliver_link(&c, &phone).await;
    assert!(token.starts_with("lze_"));
    assert!(
        phone.0.lock().unwrap()[0].body.contains("фото"),
        "in her language"
    );

    // She sends her photo; an officer of the order's district sees it.
    assert_eq!(
        self_enrol(&c, &token, photo(ENROL)).await,
        StatusCode::ACCEPTED
    );
    let photo_path = format!("/orders/{id}/enrollment/photo");
    let r = c.get(&nora, &photo_path, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), photo(ENROL));
    let sven = c.session("sven").await;
    let r = c.get(&sven, &photo_path, &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (st, _) = c.html(&sven, &format!("/orders/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, html) = c.html(&nora, &format!("/orders/{id}")).await;
    assert!(html.contains("id=\"pending-photo\"") && html.contains("id=\"approve\""));
    let held = EnrollmentLinkId::parse(link.id.as_str()).unwrap();
    assert!(store.link_holds_photo(&held).await.unwrap());
    let events = store.audit_events(0, 10_000).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.action == "enrollment.photo_read" && e.actor == "user:nora"));

    // Approve: CSRF first, then the template becomes the enrolment and the
    // photo is gone.
    let approve = format!("/orders/{id}/enrollment/approve");
    let r = c.post(&nora, &approve, &[("csrf", "x")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.post(&nora, &approve, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(store.get_enrollment(&oid).await.unwrap().is_some());
    assert!(!store.link_holds_photo(&held).await.unwrap());
    assert_eq!(
        c.get(&nora, &photo_path, &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    // A second link, someone else's photo: rejected with a reason, erased.
    let r = c
        .post(
            &nora,
            &format!("/orders/{id}/enrollment-link"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let token = deliver_link(&c, &phone).await;
    assert_eq!(
        self_enrol(&c, &token, photo(OTHER)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        c.get(&nora, &photo_path, &[]).await.status(),
        StatusCode::OK
    );
    let reject = format!("/orders/{id}/enrollment/reject");
    let r = c
        .post(&nora, &reject, &[("csrf", &csrf), ("reason", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"decide-error\""));
    let r = c
        .post(
            &nora,
            &reject,
            &[("csrf", &csrf), ("reason", "not the person on the order")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let l2 = store.enrollment_links_of_order(&oid).await.unwrap()[0].clone();
    assert_eq!(l2.status, LinkStatus::Rejected);
    assert!(!store.link_holds_photo(&l2.id).await.unwrap());
    assert!(!store.link_holds_template(&l2.id).await.unwrap());
    assert_eq!(
        c.get(&nora, &photo_path, &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    // The officer's own photo replaces the enrolment.
    let r = upload(&c, &nora, &path, &csrf, photo(ENROL)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The JSON API still answers with the token and the URL, and sends too.
    let token = c.token("north").await;
    let r = c
        .client
        .post(format!("{}/api/v1/orders/{id}/enrollment-link", c.base))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["token"].as_str().unwrap().starts_with("lze_"));
    assert!(v["url"]
        .as_str()
        .unwrap()
        .starts_with("http://lazaret.example/enroll#token="));
    let l3 = EnrollmentLinkId::parse(v["id"].as_str().unwrap()).unwrap();
    assert!(store
        .get_message_by_dedupe_key(&format!("enrollment_link:{l3}"))
        .await
        .unwrap()
        .is_some());
    let events = store.audit_events(0, 10_000).await.unwrap();
    assert_eq!(lazaret_store::testing::first_broken_link(&events), None);
    let orders = store
        .list_orders(&OrderFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(orders.items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_pages_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let (c, phone) = console_with_outbox(&db).await;
    for i in 0..3 {
        order_in(
            &c,
            "north",
            &format!("Lena Example {i}"),
            Some("+41790000020"),
            "en",
        )
        .await;
    }
    c.user("ivan", Role::Investigator, "north").await;
    let mut failures = Vec::new();

    for (size, tag) in [(LAPTOP, "laptop"), (TABLET, "tablet")] {
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ivan").await;
        b.goto(&format!("{}/orders", c.base)).await;
        landed(&b, "the orders", "/orders").await;
        b.text_of("#orders", WAIT).await;
        look(&b, axe.as_deref(), &format!("orders-{tag}"), &mut failures).await;

        // Create an order through the form.
        b.click("#new-order").await;
        landed(&b, "the order form", "/orders/new").await;
        look(
            &b,
            axe.as_deref(),
            &format!("order-form-{tag}"),
            &mut failures,
        )
        .await;
        b.type_into("#f-full_name", &format!("Mira Novak {tag}"))
            .await;
        b.type_into("#f-phone", "+41790000031").await;
        b.type_into("#f-address", "Limmatquai 2, Zürich").await;
        b.type_into("#f-lat", "47.3717").await;
        b.type_into("#f-lon", "8.5435").await;
        b.type_into("#f-area", "Region X").await;
        b.click("#create-order").await;
        b.wait_for(
            "the new order's page",
            "return location.pathname.indexOf('/orders/') === 0 && document.getElementById('flash') !== null;",
            WAIT,
        )
        .await;
        let title = b.text_of("#order-title", WAIT).await;
        assert!(title.contains(&format!("Mira Novak {tag}")), "{title}");
        let id = b
            .exec("return location.pathname.split('/')[2];", json!([]))
            .await
            .as_str()
            .unwrap()
            .to_owned();

        // Send a link; the person answers with her photo; approve it seeing it.
        b.click("#send-link").await;
        b.text_of("#link-message", WAIT).await;
        look(
            &b,
            axe.as_deref(),
            &format!("order-link-sent-{tag}"),
            &mut failures,
        )
        .await;
        let token = deliver_link(&c, &phone).await;
        assert_eq!(
            self_enrol(&c, &token, photo(ENROL)).await,
            StatusCode::ACCEPTED
        );
        b.goto(&format!("{}/orders/{id}", c.base)).await;
        b.wait_for(
            "the submitted photo",
            "var i = document.getElementById('pending-photo'); return i !== null && i.complete && i.naturalWidth > 0;",
            WAIT,
        )
        .await;
        look(
            &b,
            axe.as_deref(),
            &format!("order-pending-{tag}"),
            &mut failures,
        )
        .await;
        b.click("#approve").await;
        b.wait_for(
            "the approved enrolment",
            "return document.getElementById('pending-photo') === null && document.getElementById('flash') !== null;",
            WAIT,
        )
        .await;
        assert!(c
            .app
            .state
            .store
            .get_enrollment(&OrderId::parse(&id).unwrap())
            .await
            .unwrap()
            .is_some());
        look(&b, axe.as_deref(), &format!("order-{tag}"), &mut failures).await;
        b.quit().await;
    }
    assert!(
        failures.is_empty(),
        "accessibility:\n{}",
        failures.join("\n")
    );
}
