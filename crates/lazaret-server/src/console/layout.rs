//! The console's frame: the top bar (product, navigation, who is signed
//! in, sign out), the skip link and the page's `<main>`; the error page;
//! the texts of one language.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use lazaret_core::district::DistrictScope;
use lazaret_core::user::{Permission, Role};
use maud::{html, Markup, DOCTYPE};

use crate::pages::Lang;
use crate::services::accounts::ConsoleSession;

/// The texts of one language (`pages::i18n`'s console table, keys `c.…`;
/// the console is written in [`Lang::CONSOLE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; a missing one shows as its key (the console's test
    /// checks every key it names exists).
    pub fn t(self, key: &'static str) -> &'static str {
        self.0.text(key).unwrap_or(key)
    }

    /// The text of `key` with its `{name}` holes filled.
    pub fn f(self, key: &'static str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_owned();
        for (k, v) in args {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// A role's name in this language.
    pub fn role(self, r: Role) -> &'static str {
        match r {
            Role::Admin => self.t("c.role.admin"),
            Role::Investigator => self.t("c.role.investigator"),
            Role::ComplianceOfficer => self.t("c.role.compliance_officer"),
            Role::Analyst => self.t("c.role.analyst"),
            Role::Auditor => self.t("c.role.auditor"),
        }
    }

    pub fn districts(self, d: &DistrictScope) -> String {
        match d {
            DistrictScope::All => self.t("c.districts_all").to_owned(),
            DistrictScope::Only(set) if set.is_empty() => self.t("c.none").to_owned(),
            DistrictScope::Only(set) => set
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// How long ago, shortly: `5 min`, `3 h`, `2 d`.
    pub fn age(self, now: DateTime<Utc>, t: DateTime<Utc>) -> String {
        let m = (now - t).num_minutes().max(0);
        let n;
        let key = if m < 60 {
            n = m;
            "c.age_min"
        } else if m < 48 * 60 {
            n = m / 60;
            "c.age_h"
        } else {
            n = m / (24 * 60);
            "c.age_d"
        };
        self.f(key, &[("n", &n.to_string())])
    }
}

/// A time as officers read it (UTC, to the minute).
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `<time>` with its machine-readable value.
pub fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (when(t)) } }
}

/// Which entry of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Alerts,
    Orders,
    Persons,
    Cases,
    FollowUp,
    Chains,
    Imports,
    Exports,
    WhatIf,
    Accounts,
    Account,
}

/// A whole page: the bar (with the officer, when signed in), `title` and `body`.
pub fn page(
    tr: Tr,
    officer: Option<&ConsoleSession>,
    active: Option<Nav>,
    title: &str,
    body: Markup,
) -> Markup {
    let nav_item = |nav: Nav, href: &str, key: &'static str| {
        html! {
            li { a href=(href) aria-current=[(active == Some(nav)).then_some("page")] { (tr.t(key)) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang=(tr.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex";
                title { (title) " · " (tr.t("c.product")) }
                link rel="stylesheet" href="/assets/console.css";
                @if officer.is_some() {
                    script src="/assets/console.js" defer {}
                }
            }
            body.console {
                a.skip href="#main" { (tr.t("c.skip")) }
                header.bar {
                    a.brand href="/" { "Lazaret" }
                    @if let Some(s) = officer {
                        nav aria-label=(tr.t("c.nav")) {
                            ul {
                                @if s.role.allows(Permission::ReadOrders) || s.role.allows(Permission::ReadAggregates) {
                                    (nav_item(Nav::Overview, "/overview", "c.nav.overview"))
                                }
                                @if s.role.allows(Permission::WorkAlerts) {
                                    (nav_item(Nav::Alerts, "/alerts", "c.nav.alerts"))
                                }
                                @if s.role.allows(Permission::ReadOrders) {
                                    (nav_item(Nav::Orders, "/orders", "c.nav.orders"))
                                }
                                @if s.role.allows(Permission::ReadPersons) {
                                    (nav_item(Nav::Persons, "/persons", "c.nav.persons"))
                                }
                                @if s.role.allows(Permission::Trace) {
                                    (nav_item(Nav::Cases, "/cases", "c.nav.cases"))
                                    (nav_item(Nav::FollowUp, "/follow-ups", "c.nav.follow_up"))
                                    (nav_item(Nav::Chains, "/chains", "c.nav.chains"))
                                }
                                @if !crate::services::imports::kinds_for(s.role).is_empty() {
                                    (nav_item(Nav::Imports, "/imports", "c.nav.imports"))
                                }
                                @if s.role.allows(Permission::ExportSurveillance) {
                                    (nav_item(Nav::Exports, "/exports", "c.nav.exports"))
                                }
                                @if super::what_if::allowed(s.role) {
                                    (nav_item(Nav::WhatIf, "/what-if", "c.nav.what_if"))
                                }
                                @if s.role.allows(Permission::ManageUsers) {
                                    (nav_item(Nav::Accounts, "/users", "c.nav.accounts"))
                                }
                                (nav_item(Nav::Account, "/account", "c.nav.account"))
                            }
                        }
                        div.who {
                            span.name { (s.username.as_str()) }
                            span.meta { (tr.role(s.role)) " · " (tr.districts(&s.districts)) }
                        }
                        form.signout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button.link type="submit" { (tr.t("c.sign_out")) }
                        }
                    } @else {
                        span.where { (tr.t("c.console")) }
                    }
                }
                main #main tabindex="-1" class=[officer.is_none().then_some("narrow")] {
                    (body)
                }
            }
        }
    }
}

/// An HTML response with `cookies` set.
pub fn respond(status: StatusCode, markup: Markup, cookies: &[HeaderValue]) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response();
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    resp
}

/// A page saying why a request was refused or failed.
pub fn error_page(
    tr: Tr,
    officer: Option<&ConsoleSession>,
    status: StatusCode,
    message: &str,
) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => tr.t("c.err.not_found_title"),
        StatusCode::FORBIDDEN => tr.t("c.err.forbidden_title"),
        _ => tr.t("c.err.title"),
    };
    let back = if let Some(s) = officer {
        (super::home_of(s.role), tr.t("c.back_home"))
    } else {
        ("/login", tr.t("c.back_to_login"))
    };
    let body = html! {
        section.card.narrow-card {
            h1 { (title) }
            p.alert.bad role="alert" { (message) }
            p { a href=(back.0) { (back.1) } }
        }
    };
    respond(status, page(tr, officer, None, title, body), &[])
}
