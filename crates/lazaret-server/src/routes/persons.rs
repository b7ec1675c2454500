//! `/api/v1/persons`: register, look up and correct people. The use cases
//! are `services::persons`; these handlers parse, authorise and render.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::District;
use lazaret_core::ids::PersonId;
use lazaret_core::person::{FullName, Person};
use lazaret_core::user::Permission;
use lazaret_store::{PageRequest, PersonFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::services::persons::{self, PersonCorrections};
use crate::state::AppState;

/// A new person. There is deliberately no field for nationality,
/// ethnicity, gender or age.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Your system's id for the person; generated when absent.
    pub id: Option<String>,
    pub full_name: String,
    /// International form, e.g. `+41 44 123 45 67`.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// ISO 639-1 code for messages; default `en`.
    pub language: Option<String>,
    /// The district the person lives in, one of yours. Default: your sole
    /// district; an officer of several districts must name it; a national
    /// officer's default is `unassigned`.
    pub district: Option<String>,
}

/// Corrections to a person. A field left out stays as it is. `phone` and
/// `email` set to `null` or `""` are removed; `language` set to `null` or
/// `""` returns to the default `en`; `full_name` cannot be removed.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonChanges {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub full_name: Option<Option<String>>,
    /// International form, e.g. `+41 44 123 45 67`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// ISO 639-1 code for messages and the person's pages.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    /// Moves the person to another of your districts (cannot be removed).
    pub district: Option<String>,
}

/// A key that is present: `Some(None)` for `null`, told apart from a key
/// left out (`None`, by `#[serde(default)]`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `null` and `""` both mean "none".
fn given(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

impl PersonChanges {
    /// The changes as validated values (the core types check each one).
    fn parse(self) -> Result<PersonCorrections, ApiError> {
        Ok(PersonCorrections {
            full_name: self
                .full_name
                .map(|v| FullName::parse(given(v).as_deref().unwrap_or("")))
                .transpose()?,
            phone: self
                .phone
                .map(|v| given(v).as_deref().map(Phone::parse).transpose())
                .transpose()?,
            email: self
                .email
                .map(|v| given(v).as_deref().map(Email::parse).transpose())
                .transpose()?,
            language: self
                .language
                .map(|v| {
                    given(v)
                        .as_deref()
                        .map(Language::parse)
                        .transpose()
                        .map(Option::unwrap_or_default)
                })
                .transpose()?,
            district: self.district.as_deref().map(District::parse).transpose()?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonView {
    pub id: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: String,
    pub district: String,
}

impl From<Person> for PersonView {
    fn from(p: Person) -> Self {
        Self {
            id: p.id.into(),
            full_name: p.full_name.into(),
            phone: p.phone.map(Into::into),
            email: p.email.map(Into::into),
            language: p.language.into(),
            district: p.district.into(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListPersons {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
    /// Case-insensitive part of the name.
    pub name: Option<String>,
}

impl NewPerson {
    fn parse(self) -> Result<Person, ApiError> {
        Ok(Person {
            id: match self.id {
                Some(id) => PersonId::parse(&id)?,
                None => PersonId::generate(),
            },
            full_name: FullName::parse(&self.full_name)?,
            phone: self.phone.as_deref().map(Phone::parse).transpose()?,
            email: self.email.as_deref().map(Email::parse).transpose()?,
            language: self
                .language
                .as_deref()
                .map(Language::parse)
                .transpose()?
                .unwrap_or_default(),
            // Settled by the service from `district` and the officer's.
            district: District::unassigned(),
        })
    }
}

#[utoipa::path(post, path = "/api/v1/persons", tag = "persons", request_body = NewPerson,
    security(("bearer" = [])),
    responses((status = 201, body = PersonView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_person(
    State(state): State<AppState>,
    officer: Officer,
    ApiJson(body): ApiJson<NewPerson>,
) -> Result<(StatusCode, Json<PersonView>), ApiError> {
    officer.require(Permission::WritePersons, "register persons")?;
    let district = body.district.as_deref().map(District::parse).transpose()?;
    let person = body.parse()?;
    let person = persons::register(&state, &officer.as_actor(), person, district).await?;
    Ok((StatusCode::CREATED, Json(person.into())))
}

#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons",
    params(("id" = String, Path, description = "Person id")),
    security(("bearer" = [])),
    responses((status = 200, body = PersonView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_person(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PersonView>, ApiError> {
    officer.require(Permission::ReadPersons, "read personal data")?;
    let person = persons::read(&state, &officer.as_actor(), &id).await?;
    Ok(Json(person.into()))
}

#[utoipa::path(patch, path = "/api/v1/persons/{id}", tag = "persons",
    params(("id" = String, Path, description = "Person id")),
    request_body = PersonChanges,
    security(("bearer" = [])),
    responses((status = 200, body = PersonView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_person(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PersonChanges>,
) -> Result<Json<PersonView>, ApiError> {
    officer.require(Permission::WritePersons, "correct persons")?;
    let corrections = body.parse()?;
    let person = persons::correct(&state, &officer.as_actor(), &id, corrections).await?;
    Ok(Json(person.into()))
}

#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", params(ListPersons),
    security(("bearer" = [])),
    responses((status = 200, body = PersonPage), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_persons(
    State(state): State<AppState>,
    officer: Officer,
    ApiQuery(q): ApiQuery<ListPersons>,
) -> Result<Json<PersonPage>, ApiError> {
    officer.require(Permission::ReadPersons, "read personal data")?;
    let filter = PersonFilter {
        name_contains: q.name.filter(|n| !n.trim().is_empty()),
        ..PersonFilter::default()
    };
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = persons::list(&state, &officer.as_actor(), &filter, &page).await?;
    Ok(Json(PersonPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A person's export: one JSON object with the sections of
/// `Store::export_person`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonExport {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Everything held about the person, for an access request: the person,
/// orders, enrolment metadata (never the template), prompts and check-ins,
/// symptom reports, alerts, messages (redacted bodies), test results, their
/// exposure as a contact, and the audit events about them. Health data is
/// in it, so it takes `ExportPerson` (investigators); audited.
#[utoipa::path(get, path = "/api/v1/persons/{id}/export", tag = "persons",
    params(("id" = String, Path, description = "Person id")),
    security(("bearer" = [])),
    responses((status = 200, body = PersonExport, description = "the person's data as one JSON document"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn export_person(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PersonExport>, ApiError> {
    officer.require(Permission::ExportPerson, "export a person's data")?;
    let data = persons::export(&state, &officer.as_actor(), &id).await?;
    Ok(Json(PersonExport { data }))
}
