//! `GET /what-if`: the supervisors' what-if (roles that read aggregates or
//! trace). A form (people, days, runs, R0, the rule sets to compare); sent,
//! the same page runs `services::what_if` and shows per rule set the
//! infections, the reduction against isolating cases alone, the quarantine
//! person-days, the infections averted per 1,000 of them, and the peak
//! workload, with the epidemic curves and the comparison as a chart.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use lazaret_core::user::Permission;
use lazaret_sim::summary::{Interval, PolicySummary};
use maud::{html, Markup, PreEscaped};

use super::layout::{error_page, page, respond, Nav, Tr};
use super::ConsoleOfficer;
use crate::error::ApiError;
use crate::services::what_if::{self, Variant, WhatIf, WhatIfRequest, MAX_AGENT_DAYS};
use crate::services::ServiceError;
use crate::state::AppState;

/// Who may run it: supervisors reading aggregates, and tracers.
pub(crate) fn allowed(role: lazaret_core::user::Role) -> bool {
    role.allows(Permission::ReadAggregates) || role.allows(Permission::Trace)
}

/// The form's values, as sent.
#[derive(Debug, Clone)]
struct Form {
    population: String,
    days: String,
    runs: String,
    r0: String,
    variants: Vec<String>,
    run: bool,
}

impl Form {
    fn defaults() -> Self {
        let d = WhatIfRequest::default();
        Self {
            population: d.population.to_string(),
            days: d.days.to_string(),
            runs: d.runs.to_string(),
            r0: d.r0.to_string(),
            variants: d.variants.iter().map(|v| v.key().to_owned()).collect(),
            run: false,
        }
    }

    fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Self::defaults();
        };
        let mut f = Self {
            population: String::new(),
            days: String::new(),
            runs: String::new(),
            r0: String::new(),
            variants: Vec::new(),
            run: false,
        };
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let v = v.trim().to_owned();
            match k.as_ref() {
                "population" => f.population = v,
                "days" => f.days = v,
                "runs" => f.runs = v,
                "r0" => f.r0 = v,
                "variant" => f.variants.push(v),
                "run" => f.run = true,
                _ => {}
            }
        }
        f
    }

    /// The service's request, or the field that cannot be one.
    fn request(&self) -> Result<WhatIfRequest, &'static str> {
        let mut variants = Vec::new();
        for v in &self.variants {
            let v = Variant::parse(v).ok_or("variants")?;
            // A box ticked twice (a hand-made URL) is one rule set.
            if !variants.contains(&v) {
                variants.push(v);
            }
        }
        Ok(WhatIfRequest {
            population: self
                .population
                .replace([',', '_', ' '], "")
                .parse()
                .map_err(|_| "population")?,
            days: self.days.parse().map_err(|_| "days")?,
            runs: self.runs.parse().map_err(|_| "runs")?,
            r0: self.r0.replace(',', ".").parse().map_err(|_| "r0")?,
            variants,
        })
    }
}

/// `GET /what-if`: the form, and the results once it is sent.
pub async fn page_get(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    let tr = officer.tr;
    if !allowed(officer.session.role) {
        return error_page(
            tr,
            Some(&officer.session),
            StatusCode::FORBIDDEN,
            tr.t("c.err.role_what_if"),
        );
    }
    let form = Form::parse(raw.as_deref());
    if !form.run {
        return show(&officer, StatusCode::OK, &form, None, None);
    }
    let req = match form.request() {
        Ok(r) => r,
        Err(field) => {
            return show(
                &officer,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                Some(field),
                None,
            )
        }
    };
    match what_if::run(&state, &officer.as_actor(), req).await {
        Ok(result) => show(&officer, StatusCode::OK, &form, None, Some(&result)),
        Err(ServiceError::RateLimited { .. }) => show(
            &officer,
            StatusCode::TOO_MANY_REQUESTS,
            &form,
            Some("busy"),
            None,
        ),
        Err(e) => match ApiError::from(e) {
            ApiError::Validation(v) => {
                let field = ["population", "days", "runs", "r0", "variants"]
                    .into_iter()
                    .find(|f| *f == v.field)
                    .unwrap_or("runs");
                show(
                    &officer,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form,
                    Some(field),
                    None,
                )
            }
            api => {
                tracing::error!(error = %api, "a what-if simulation failed");
                error_page(
                    tr,
                    Some(&officer.session),
                    api.code().status(),
                    tr.t("c.err.internal"),
                )
            }
        },
    }
}

fn show(
    officer: &ConsoleOfficer,
    status: StatusCode,
    form: &Form,
    error: Option<&str>,
    result: Option<&WhatIf>,
) -> Response {
    let tr = officer.tr;
    respond(
        status,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::WhatIf),
            tr.t("c.what_if"),
            render(tr, form, error, result),
        ),
        &[],
    )
}

/// A rule set's name in the officer's language.
fn label(tr: Tr, key: &str) -> String {
    super::cases::label(tr, "c.what_if.v.", key)
}

/// The refusal of a field, in the officer's language.
fn refusal(tr: Tr, field: &str) -> String {
    super::cases::label(tr, "c.what_if_bad.", field)
}

fn render(tr: Tr, f: &Form, error: Option<&str>, result: Option<&WhatIf>) -> Markup {
    let message = error.map(|field| refusal(tr, field));
    let invalid = |field: &str| (error == Some(field)).then_some("true");
    let described = |field: &str| (error == Some(field)).then(|| "w-error".to_owned());
    let chosen = |key: &str| f.variants.iter().any(|v| v == key);
    html! {
        div.page-head {
            h1 { (tr.t("c.what_if")) }
        }
        p.lead #what-if-lead { (tr.t("c.what_if_lead")) }
        @if let Some(m) = &message {
            div.alert.bad role="alert" #w-error { p { (m) } }
        }
        form.order-form #what-if-form method="get" action="/what-if" {
            input type="hidden" name="run" value="1";
            fieldset {
                legend { (tr.t("c.what_if_region")) }
                div.form-grid {
                    div.field {
                        label for="w-population" { (tr.t("c.what_if_population")) }
                        input #w-population name="population" type="number" min="1000" max="50000" step="1000" required
                            value=(f.population) aria-invalid=[invalid("population")] aria-describedby=[described("population")];
                    }
                    div.field {
                        label for="w-days" { (tr.t("c.what_if_days")) }
                        input #w-days name="days" type="number" min="30" max="120" required
                            value=(f.days) aria-invalid=[invalid("days")] aria-describedby=[described("days")];
                    }
                    div.field {
                        label for="w-runs" { (tr.t("c.what_if_runs")) }
                        input #w-runs name="runs" type="number" min="1" max="40" required
                            value=(f.runs) aria-invalid=[invalid("runs")] aria-describedby=[described("runs")];
                    }
                    div.field {
                        label for="w-r0" { (tr.t("c.what_if_r0")) }
                        input #w-r0 name="r0" type="number" min="0.5" max="5" step="0.1" required
                            value=(f.r0) aria-invalid=[invalid("r0")] aria-describedby=[described("r0")];
                    }
                }
                p.hint { (tr.f("c.what_if_bound", &[("max", &(MAX_AGENT_DAYS / 1_000_000).to_string())])) }
            }
            fieldset aria-invalid=[invalid("variants")] {
                legend { (tr.t("c.what_if_variants")) }
                p.hint { (tr.t("c.what_if_baseline")) }
                @for v in Variant::ALL {
                    label.check {
                        input type="checkbox" name="variant" value=(v.key()) checked[chosen(v.key())];
                        " " (label(tr, v.key()))
                    }
                }
            }
            div.field.buttons {
                button #what-if-run type="submit" { (tr.t("c.what_if_run")) }
            }
        }
        @if let Some(r) = result {
            (results(tr, r))
        }
    }
}

fn span(tr: Tr, i: &Interval) -> String {
    format!(
        "{} ({}–{})",
        num(tr, i.median),
        num(tr, i.low),
        num(tr, i.high)
    )
}

/// A figure as officers read it: whole numbers from 100 on, in groups of
/// three (a comma in English, a no-break space in Russian).
fn num(tr: Tr, x: f64) -> String {
    if x.abs() < 100.0 && x.fract() != 0.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x.abs());
    let sep = if tr.code() == "ru" { '\u{a0}' } else { ',' };
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '−');
    }
    out
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), |x| format!("{:.0}%", x * 100.0))
}

fn results(tr: Tr, r: &WhatIf) -> Markup {
    let named: Vec<PolicySummary> = r
        .summaries
        .iter()
        .map(|s| PolicySummary {
            name: label(tr, &s.name),
            ..s.clone()
        })
        .collect();
    let title = tr.f(
        "c.what_if_chart_title",
        &[
            ("people", &r.request.population.to_string()),
            ("days", &r.request.days.to_string()),
            ("runs", &r.request.runs.to_string()),
        ],
    );
    let curves = lazaret_sim::chart::render_curves(&named);
    let bars = lazaret_sim::chart::render_bars(&named);
    html! {
        section #what-if-results aria-labelledby="what-if-results-title" {
            h2 #what-if-results-title { (tr.t("c.what_if_results")) }
            p.keys { (tr.f("c.what_if_took", &[
                ("runs", &r.request.runs.to_string()),
                ("n", &r.summaries.len().to_string()),
                ("s", &format!("{:.1}", r.seconds)),
            ])) }
            // Scrolls sideways on a phone: focusable, so a keyboard can scroll it too.
            div.table-wrap.plain tabindex="0" role="region" aria-labelledby="what-if-results-title" {
                table.list #what-if-table {
                    caption.visually-hidden { (tr.t("c.what_if_results")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.what_if.col.rules")) }
                        th scope="col" { (tr.t("c.what_if.col.infections")) }
                        th scope="col" { (tr.t("c.what_if.col.reduction")) }
                        th scope="col" { (tr.t("c.what_if.col.qdays")) }
                        th scope="col" { (tr.t("c.what_if.col.per_qdays")) }
                        th scope="col" { (tr.t("c.what_if.col.q_infected")) }
                        th scope="col" { (tr.t("c.what_if.col.peak_checkins")) }
                        th scope="col" { (tr.t("c.what_if.col.peak_alerts")) }
                    } }
                    tbody {
                        @for s in &named {
                            tr {
                                th scope="row" { (s.name) }
                                td.num { (span(tr, &s.infections)) }
                                td.num { (s.reduction.map_or_else(|| "–".to_owned(), |x| format!("{:.0}%", x.median * 100.0))) }
                                td.num { (span(tr, &s.quarantine_person_days)) }
                                td.num { (s.averted_per_1000_quarantine_days.as_ref().map_or_else(|| "–".to_owned(), |i| span(tr, i))) }
                                td.num { (pct(s.quarantined_infected_share)) }
                                td.num { (num(tr, s.peak_checkins_per_day.median)) }
                                td.num { (num(tr, s.peak_alerts_per_day.median)) }
                            }
                        }
                    }
                }
            }
            p.hint { (tr.t("c.what_if_reading")) }
            // Drawn by lazaret_sim::chart, which escapes every name it writes.
            figure.chart #what-if-chart {
                figcaption { (title) }
                div.chart-panels tabindex="0" role="region" aria-label=(title) {
                    (PreEscaped(curves))
                    (PreEscaped(bars))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_grouped_in_the_officers_language() {
        let en = Tr(crate::pages::Lang::En);
        assert_eq!(num(en, 1_234_567.0), "1,234,567");
        assert_eq!(num(en, 999.0), "999");
        assert_eq!(num(en, 70.55), "70.5");
        assert_eq!(num(en, 0.0), "0");
        assert_eq!(num(en, -1500.0), "−1,500");
        assert_eq!(num(Tr(crate::pages::Lang::Ru), 12_583.0), "12\u{a0}583");
    }

    #[test]
    fn the_form_becomes_a_request_or_names_its_field() {
        let f = Form::parse(Some("run=1&population=20%2C000&days=60&runs=5&r0=1,5&variant=in_force&variant=whole_building&variant=in_force"));
        assert!(f.run);
        let r = f.request().unwrap();
        assert_eq!((r.population, r.days, r.runs, r.r0), (20_000, 60, 5, 1.5));
        assert_eq!(r.variants, vec![Variant::InForce, Variant::WholeBuilding]);
        let bad = Form::parse(Some("run=1&population=many&days=60&runs=5&r0=2"));
        assert_eq!(bad.request().unwrap_err(), "population");
        let bad = Form::parse(Some(
            "run=1&population=1000&days=60&runs=5&r0=2&variant=everyone",
        ));
        assert_eq!(bad.request().unwrap_err(), "variants");
        assert!(!Form::parse(None).run);
    }
}
