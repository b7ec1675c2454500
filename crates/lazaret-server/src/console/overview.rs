//! `GET /overview`: each of the officer's districts today. Orders in force,
//! contacts among them, today's prompts and check-ins, open alerts by kind
//! and how long they have waited and, for roles that see them, new cases
//! and the positive tests not yet traced. Every number the officer
//! can work links to the list behind it. Read through
//! `services::overview`, audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lazaret_core::alert::AlertKind;
use lazaret_core::user::Permission;
use lazaret_store::DistrictOverview;
use maud::{html, Markup};

use super::alerts::{kind_label, KINDS};
use super::layout::{error_page, page, respond, time, Nav, Tr};
use super::ConsoleOfficer;
use crate::services::overview::{self, Overview};
use crate::state::AppState;

/// `GET /overview`.
pub async fn page_get(State(state): State<AppState>, officer: ConsoleOfficer) -> Response {
    let role = officer.session.role;
    if !(role.allows(Permission::ReadOrders) || role.allows(Permission::ReadAggregates)) {
        let tr = officer.tr;
        return error_page(
            tr,
            Some(&officer.session),
            StatusCode::FORBIDDEN,
            tr.t("c.err.role_overview"),
        );
    }
    let actor = officer.as_actor();
    let o = match overview::read(&state, &actor).await {
        Ok(o) => o,
        Err(e) => return super::failure_page(&officer, e, "c.err.internal"),
    };
    let tr = officer.tr;
    let links = Links {
        orders: role.allows(Permission::ReadOrders),
        alerts: role.allows(Permission::WorkAlerts),
        cases: role.allows(Permission::Trace),
    };
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Overview),
            tr.t("c.overview"),
            render(tr, &o, links),
        ),
        &[],
    )
}

/// Which lists the officer may open (a number without its list is plain).
#[derive(Debug, Clone, Copy)]
struct Links {
    orders: bool,
    alerts: bool,
    cases: bool,
}

fn render(tr: Tr, o: &Overview, links: Links) -> Markup {
    html! {
        div.page-head {
            h1 { (tr.t("c.overview")) }
            p.keys { (tr.t("c.overview_lead")) " " (time(o.now)) }
        }
        @if o.districts.is_empty() {
            p.empty { (tr.t("c.overview_empty")) }
        }
        @for d in &o.districts {
            (district(tr, d, o.with_cases, links))
        }
    }
}

/// A number, as a link to its list when the officer may open it.
fn figure(n: i64, href: Option<String>, label: &str) -> Markup {
    html! {
        div.figure {
            @match href {
                Some(h) => { a.n href=(h) aria-label=(format!("{n} {label}")) { (n) } }
                None => { span.n { (n) } }
            }
            span.label { (label) }
        }
    }
}

fn alerts_href(links: Links, district: &str, kind: Option<&str>) -> Option<String> {
    links.alerts.then(|| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(k) = kind {
            s.append_pair("kind", k);
        }
        s.append_pair("district", district);
        format!("/alerts?{}", s.finish())
    })
}

fn district(tr: Tr, d: &DistrictOverview, with_cases: bool, links: Links) -> Markup {
    let dq: String = form_urlencoded::byte_serialize(d.district.as_bytes()).collect();
    let orders = links
        .orders
        .then(|| format!("/orders?status=active&district={dq}"));
    let t = &d.today;
    let pass = t
        .checkin_pass_rate
        .map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "–".to_owned());
    let heading_id = format!("d-{}", d.district);
    html! {
        section.card.district aria-labelledby=(heading_id) {
            h2 #(heading_id) { (tr.t("c.district")) " " (d.district) }
            div.figures {
                (figure(d.orders_active, orders, tr.t("c.ov.orders_active")))
                (figure(d.contacts_in_quarantine, None, tr.t("c.ov.contacts_in_quarantine")))
            }
            h3 { (tr.t("c.ov.today_prompts")) }
            div.figures {
                (figure(t.prompts_issued, None, tr.t("c.ov.prompts_issued")))
                (figure(t.prompts_answered, None, tr.t("c.ov.prompts_answered")))
                (figure(t.prompts_missed, alerts_href(links, &d.district, Some(AlertKind::MissedCheckin.as_str())), tr.t("c.ov.prompts_missed")))
                (figure(t.prompts_not_delivered, alerts_href(links, &d.district, Some(AlertKind::NotDelivered.as_str())), tr.t("c.ov.prompts_not_delivered")))
                div.figure {
                    span.n { (t.checkins_verified) " / " (t.checkins) }
                    span.label { (tr.t("c.ov.checkins_verified")) " (" (pass) ")" }
                }
            }
            @if let Some(c) = d.cases.as_ref().filter(|_| with_cases) {
                h3 { (tr.t("c.ov.cases")) }
                div.figures {
                    (figure(c.new_today, None, tr.t("c.ov.cases_new")))
                    div.figure {
                        span.n { (c.new_today_on_contact_list) }
                        span.label {
                            (tr.t("c.ov.cases_on_list"))
                            @if c.new_today > 0 {
                                " (" (format!("{:.0}%", 100.0 * c.new_today_on_contact_list as f64 / c.new_today as f64)) ")"
                            }
                        }
                    }
                    (figure(c.untraced, links.cases.then(|| "/cases".to_owned()), tr.t("c.ov.cases_untraced")))
                }
            }
            h3 { (tr.t("c.ov.open_alerts")) }
            @if d.alerts.is_empty() {
                p.empty { (tr.t("c.ov.no_open_alerts")) }
            } @else {
                table.counts {
                    thead { tr {
                        th scope="col" { (tr.t("c.kind")) }
                        th.num scope="col" { (tr.t("c.ov.under_1h")) }
                        th.num scope="col" { (tr.t("c.ov.under_24h")) }
                        th.num scope="col" { (tr.t("c.ov.older")) }
                        th.num scope="col" { (tr.t("c.ov.total")) }
                    } }
                    tbody {
                        @for a in &d.alerts {
                            @let kind = KINDS.into_iter().find(|k| k.as_str() == a.kind);
                            tr {
                                th scope="row" { (kind.map_or(a.kind.as_str(), |k| kind_label(tr, k))) }
                                td.num { (a.under_1h) }
                                td.num { (a.under_24h) }
                                td.num class=[(a.older > 0).then_some("late")] { (a.older) }
                                td.num {
                                    @match alerts_href(links, &d.district, Some(&a.kind)) {
                                        Some(h) => { a href=(h) { (a.total()) } }
                                        None => { (a.total()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
