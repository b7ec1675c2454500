//! `GET /exports`: the surveillance exports for the roles that make them
//! (`ExportSurveillance`): a form (what, format, district, first and last
//! UTC day) whose submission, `GET /exports/file`, downloads the file
//! through `services::exports` exactly as the API's
//! `GET /api/v1/exports/…` does (same districts, least data, audit events,
//! streaming). A refused request shows the form again with the reason.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate, NaiveTime};
use lazaret_core::district::District;
use lazaret_core::user::Permission;
use maud::{html, Markup};

use super::layout::{page, respond, Nav};
use super::{refuse_without, ConsoleOfficer};
use crate::error::ApiError;
use crate::routes::exports::file_response;
use crate::services::alerts::filter_districts;
use crate::services::exports::{self, ExportRequest, DEFAULT_DAYS};
use crate::state::AppState;
use crate::surveillance::{Format, Kind};

/// The form's values, as sent.
#[derive(Debug, Default, Clone)]
struct ExportForm {
    kind: String,
    format: String,
    district: String,
    from: String,
    to: String,
}

impl ExportForm {
    fn parse(raw: Option<&str>) -> Self {
        let mut f = ExportForm::default();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let v = v.trim().to_owned();
            match k.as_ref() {
                "kind" => f.kind = v,
                "format" => f.format = v,
                "district" => f.district = v,
                "from" => f.from = v,
                "to" => f.to = v,
                _ => {}
            }
        }
        f
    }

    /// The service's request: `to` is the last day, inclusive.
    fn request(&self) -> Result<ExportRequest, (&'static str, &'static str)> {
        let day = |field: &'static str, raw: &str| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| (field, "c.export_bad_date"))
        };
        let from = day("from", &self.from)?;
        let to = day("to", &self.to)?;
        Ok(ExportRequest {
            kind: Kind::parse(&self.kind).ok_or(("kind", "c.export_bad_choice"))?,
            format: Format::parse(&self.format).ok_or(("format", "c.export_bad_choice"))?,
            from: Some(from.and_time(NaiveTime::MIN).and_utc()),
            to: Some((to + Duration::days(1)).and_time(NaiveTime::MIN).and_utc()),
            district: if self.district.is_empty() {
                None
            } else {
                Some(
                    District::parse(&self.district)
                        .map_err(|_| ("district", "c.export_bad_choice"))?,
                )
            },
        })
    }
}

/// `GET /exports`.
pub async fn page_get(State(state): State<AppState>, officer: ConsoleOfficer) -> Response {
    if let Some(r) = refuse_without(
        &officer,
        Permission::ExportSurveillance,
        "c.err.role_exports",
    ) {
        return r;
    }
    let today = state.now().date_naive();
    let form = ExportForm {
        kind: Kind::Cases.as_str().into(),
        format: Format::Csv.as_str().into(),
        district: String::new(),
        from: (today - Duration::days(DEFAULT_DAYS))
            .format("%Y-%m-%d")
            .to_string(),
        to: today.format("%Y-%m-%d").to_string(),
    };
    show(&officer, StatusCode::OK, &form, None)
}

/// `GET /exports/file`: the download, or the form with the reason.
pub async fn file(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_without(
        &officer,
        Permission::ExportSurveillance,
        "c.err.role_exports",
    ) {
        return r;
    }
    let form = ExportForm::parse(raw.as_deref());
    let tr = officer.tr;
    let req = match form.request() {
        Ok(r) => r,
        Err((field, key)) => {
            return show(
                &officer,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                Some((field, tr.t(key).to_owned())),
            )
        }
    };
    match exports::export(&state, &officer.as_actor(), req).await {
        Ok(file) => file_response(file),
        Err(e) => {
            let api = ApiError::from(e);
            if let ApiError::Validation(v) = &api {
                // The service's refusals in the page's words and language.
                let (field, message) = match v.field.as_str() {
                    "to" => ("to", tr.t("c.export_to_before_from").to_owned()),
                    "from" => ("from", tr.t("c.export_too_long").to_owned()),
                    "district" => ("district", tr.t("c.export_not_yours").to_owned()),
                    _ => ("", v.reason.clone()),
                };
                show(
                    &officer,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form,
                    Some((field, message)),
                )
            } else {
                tracing::error!(error = %api, "a console export failed");
                super::layout::error_page(
                    tr,
                    Some(&officer.session),
                    api.code().status(),
                    tr.t("c.err.internal"),
                )
            }
        }
    }
}

fn show(
    officer: &ConsoleOfficer,
    status: StatusCode,
    form: &ExportForm,
    error: Option<(&str, String)>,
) -> Response {
    let tr = officer.tr;
    respond(
        status,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Exports),
            tr.t("c.exports"),
            render(officer, form, error.as_ref().map(|(f, m)| (*f, m.as_str()))),
        ),
        &[],
    )
}

fn render(officer: &ConsoleOfficer, v: &ExportForm, error: Option<(&str, &str)>) -> Markup {
    let tr = officer.tr;
    let districts = filter_districts(&officer.as_actor());
    let err_at = |field: &str| error.filter(|(f, _)| *f == field).map(|(_, m)| m);
    let invalid = |field: &str| err_at(field).map(|_| "true");
    let described = |field: &str| err_at(field).map(|_| format!("x-{field}-error"));
    let field_error = |field: &str| {
        html! {
            @if let Some(m) = err_at(field) { p.field-error id=(format!("x-{field}-error")) { (m) } }
        }
    };
    html! {
        div.page-head {
            h1 { (tr.t("c.exports")) }
        }
        p.lead #export-lead { (tr.t("c.exports_lead")) }
        @if let Some((_, m)) = error {
            div.alert.bad role="alert" #export-error { p { (m) } }
        }
        form.order-form #export-form method="get" action="/exports/file" {
            fieldset {
                legend { (tr.t("c.export_what")) }
                div.form-grid {
                    div.field {
                        label for="x-kind" { (tr.t("c.export_kind")) }
                        select #x-kind name="kind" aria-invalid=[invalid("kind")] aria-describedby=[described("kind")] {
                            option value="cases" selected[v.kind == "cases"] { (tr.t("c.export_cases")) }
                            option value="contacts" selected[v.kind == "contacts"] { (tr.t("c.export_contacts")) }
                        }
                        (field_error("kind"))
                    }
                    div.field {
                        label for="x-format" { (tr.t("c.export_format")) }
                        select #x-format name="format" aria-invalid=[invalid("format")] aria-describedby=[described("format")] {
                            option value="csv" selected[v.format == "csv"] { (tr.t("c.export_csv")) }
                            option value="fhir" selected[v.format == "fhir"] { (tr.t("c.export_fhir")) }
                        }
                        (field_error("format"))
                    }
                    div.field {
                        label for="x-district" { (tr.t("c.col.district")) }
                        @if districts.is_empty() {
                            input #x-district name="district" type="text" maxlength="64" autocomplete="off"
                                placeholder=(tr.t("c.all_mine")) value=(v.district)
                                aria-invalid=[invalid("district")] aria-describedby=[described("district")];
                        } @else {
                            select #x-district name="district" aria-invalid=[invalid("district")] aria-describedby=[described("district")] {
                                option value="" selected[v.district.is_empty()] { (tr.t("c.all_mine")) }
                                @for d in &districts {
                                    option value=(d.as_str()) selected[v.district == d.as_str()] { (d.as_str()) }
                                }
                            }
                        }
                        (field_error("district"))
                    }
                }
            }
            fieldset {
                legend { (tr.t("c.export_period")) }
                p.hint #x-period-hint { (tr.t("c.export_period_hint")) }
                div.form-grid {
                    div.field {
                        label for="x-from" { (tr.t("c.export_from")) }
                        input #x-from type="date" name="from" value=(v.from) required
                            aria-invalid=[invalid("from")] aria-describedby=[described("from")];
                        (field_error("from"))
                    }
                    div.field {
                        label for="x-to" { (tr.t("c.export_to")) }
                        input #x-to type="date" name="to" value=(v.to) required
                            aria-invalid=[invalid("to")] aria-describedby=[described("to")];
                        (field_error("to"))
                    }
                }
            }
            div.field.buttons {
                button #export-download type="submit" { (tr.t("c.download")) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_day_is_inclusive_and_bad_values_name_their_field() {
        let f = ExportForm::parse(Some(
            "kind=contacts&format=fhir&district=north&from=2026-03-01&to=2026-03-08",
        ));
        let r = f.request().unwrap();
        assert_eq!(r.kind, Kind::Contacts);
        assert_eq!(r.format, Format::Fhir);
        assert_eq!(r.district.unwrap().as_str(), "north");
        assert_eq!(r.from.unwrap().to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(r.to.unwrap().to_rfc3339(), "2026-03-09T00:00:00+00:00");
        let bad = ExportForm::parse(Some("kind=cases&format=csv&from=1.3.2026&to=2026-03-08"));
        assert_eq!(bad.request().unwrap_err().0, "from");
        let bad = ExportForm::parse(Some("kind=all&format=csv&from=2026-03-01&to=2026-03-08"));
        assert_eq!(bad.request().unwrap_err().0, "kind");
        let all = ExportForm::parse(Some(
            "kind=cases&format=csv&district=&from=2026-03-01&to=2026-03-01",
        ));
        assert!(all.request().unwrap().district.is_none());
    }
}
