//! `GET /overview`: each of the officer's districts today. Orders in force,
//! contacts among them, today's prompts and check-ins, open alerts by kind
//! and how long they have waited and, for roles that see them, new cases
//! and the positive tests not yet traced. Every number the officer
//! can work links to the list behind it. Read through
//! `services::overview`, audited. Below each district, the tracing
//! indicators of the last seven days (`services::stats`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lazaret_core::alert::AlertKind;
use lazaret_core::indicators::Indicator;
use lazaret_core::user::Permission;
use lazaret_store::DistrictOverview;
use maud::{html, Markup};

use super::alerts::{kind_label, KINDS};
use super::layout::{error_page, page, respond, time, Nav, Tr};
use super::ConsoleOfficer;
use crate::services::overview::{self, Overview};
use crate::services::stats;
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
    // The tracing indicators, for the roles that read aggregates or trace.
    let indicators = if role.allows(Permission::ReadAggregates) || role.allows(Permission::Trace) {
        let names: Vec<String> = o.districts.iter().map(|d| d.district.clone()).collect();
        match stats::recent_by_district(&state, &actor, &names, INDICATOR_DAYS).await {
            Ok(i) => i,
            Err(e) => return super::failure_page(&officer, e, "c.err.internal"),
        }
    } else {
        Vec::new()
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
            render(tr, &o, &indicators, links),
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

/// The days the overview's indicators cover.
const INDICATOR_DAYS: i64 = 7;

fn render(tr: Tr, o: &Overview, indicators: &[(String, Vec<Indicator>)], links: Links) -> Markup {
    html! {
        div.page-head {
            h1 { (tr.t("c.overview")) }
            p.keys { (tr.t("c.overview_lead")) " " (time(o.now)) }
        }
        @if o.districts.is_empty() {
            p.empty { (tr.t("c.overview_empty")) }
        }
        @for d in &o.districts {
            @let ind = indicators.iter().find(|(n, _)| *n == d.district).map(|(_, i)| i.as_slice());
            (district(tr, d, o.with_cases, ind, links))
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

/// The console text of an indicator's label.
fn indicator_key(name: &str) -> &'static str {
    match name {
        "new_cases" => "c.ind.new_cases",
        "new_cases_already_contacts" => "c.ind.new_cases_already_contacts",
        "contacts_per_case_mean" => "c.ind.contacts_per_case_mean",
        "contacts_per_case_median" => "c.ind.contacts_per_case_median",
        "contacts_reached_within_24h" => "c.ind.contacts_reached_within_24h",
        "median_hours_result_to_interview" => "c.ind.median_hours_result_to_interview",
        "median_hours_result_to_contact_notified" => {
            "c.ind.median_hours_result_to_contact_notified"
        }
        "median_hours_result_to_order_issued" => "c.ind.median_hours_result_to_order_issued",
        "contact_days_followed_up" => "c.ind.contact_days_followed_up",
        "checkin_compliance" => "c.ind.checkin_compliance",
        "alert_backlog_under_24h" => "c.ind.alert_backlog_under_24h",
        "alert_backlog_1_to_3_days" => "c.ind.alert_backlog_1_to_3_days",
        "alert_backlog_over_3_days" => "c.ind.alert_backlog_over_3_days",
        "message_delivery_failures" => "c.ind.message_delivery_failures",
        _ => "c.ind.messages",
    }
}

/// An indicator's value as the console shows it: a share as a percentage
/// with what it counts, hours with one decimal, a dash when absent.
fn indicator_value(i: &Indicator) -> String {
    let Some(v) = i.value else {
        return "–".to_owned();
    };
    match i.unit {
        "share" => format!(
            "{:.0}% ({}/{})",
            v * 100.0,
            i.numerator.unwrap_or(0),
            i.denominator.unwrap_or(0)
        ),
        "hours" => format!("{v:.1} h"),
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

fn indicator_table(tr: Tr, all: &[Indicator]) -> Markup {
    html! {
        h3 { (tr.t("c.ind.title")) }
        table.counts.indicators {
            tbody {
                @for i in all {
                    tr title=(i.definition) {
                        th scope="row" { (tr.t(indicator_key(i.name))) }
                        td.num { (indicator_value(i)) }
                    }
                }
            }
        }
        p.keys { (tr.t("c.ind.lead")) }
    }
}

fn district(
    tr: Tr,
    d: &DistrictOverview,
    with_cases: bool,
    indicators: Option<&[Indicator]>,
    links: Links,
) -> Markup {
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
            @if let Some(i) = indicators {
                (indicator_table(tr, i))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use lazaret_core::indicators::DEFINITIONS;

    use super::*;
    use crate::pages::Lang;

    #[test]
    fn every_indicator_has_its_own_label_in_each_console_language() {
        let mut keys: Vec<&str> = DEFINITIONS.iter().map(|d| indicator_key(d.0)).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            keys.len(),
            DEFINITIONS.len(),
            "two indicators share a label"
        );
        for lang in Lang::CONSOLE {
            let tr = Tr(lang);
            for k in &keys {
                assert_ne!(tr.t(k), *k, "{k} has no {lang:?} text");
            }
        }
    }
}
