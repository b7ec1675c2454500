//! `/api/v1/cases/{person_id}/contacts` and `/api/v1/follow-ups/…`: a
//! case's stored contacts with where each stands, contacts named in an
//! interview, the worklists, call attempts, assignment, and the order of a
//! contact whose address an officer found. The use cases are
//! `services::follow_up`; these handlers parse, authorise and render.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::District;
use lazaret_core::exposure::ContactSetting;
use lazaret_core::follow_up::CallOutcome;
use lazaret_core::geo::Coordinates;
use lazaret_core::ids::PersonId;
use lazaret_core::person::{Address, FullName, Person};
use lazaret_core::user::Permission;
use lazaret_core::ValidationError;
use lazaret_store::{CallRecord, FollowUp, PageRequest, Worklist};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::orders::{written_status, OrderView, WrittenOrderView};
use crate::routes::tracing::TraceView;
use crate::services::follow_up as service;
use crate::services::notices;
use crate::state::AppState;

/// The follow-up routes, to merge into the API router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(case_contacts, name_contact))
        .routes(routes!(list_follow_ups))
        .routes(routes!(get_follow_up))
        .routes(routes!(record_call))
        .routes(routes!(assign_follow_up))
        .routes(routes!(add_address))
        .routes(routes!(send_case_notices))
        .routes(routes!(send_notice))
        .routes(routes!(mark_suspected))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FollowUpView {
    pub id: String,
    /// `case` (the interview) or `contact`.
    pub kind: String,
    /// `to_interview`, `interviewed`, `to_call`, `to_inform`, `reached`,
    /// `unreachable`, `refused`, `not_a_contact`, `quarantined`,
    /// `monitored`, `released` or `suspected`.
    pub status: String,
    pub person_id: String,
    /// Left out for a contact outside your districts.
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub case_id: String,
    pub test_id: String,
    /// `close` or `notify` for a contact.
    pub tier: Option<String>,
    pub district: String,
    pub assignee: Option<String>,
    /// When the next call is due.
    pub due_at: Option<DateTime<Utc>>,
    /// Unanswered calls since the last answered one.
    pub unanswered: u32,
    pub reached_at: Option<DateTime<Utc>>,
    pub informed_at: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The end of a notify-tier contact's monitoring, once informed.
    pub monitor_until: Option<DateTime<Utc>>,
    /// The call log, oldest first (on the single follow-up only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<Vec<CallView>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CallView {
    pub at: DateTime<Utc>,
    pub caller: String,
    /// `reached`, `no_answer`, `wrong_number`, `refused` or `not_a_contact`.
    pub outcome: String,
    pub note: Option<String>,
}

impl From<CallRecord> for CallView {
    fn from(c: CallRecord) -> Self {
        Self {
            at: c.at,
            caller: c.caller,
            outcome: c.outcome.as_str().to_owned(),
            note: c.note,
        }
    }
}

impl From<FollowUp> for FollowUpView {
    fn from(f: FollowUp) -> Self {
        Self {
            id: f.id.into(),
            kind: f.kind.as_str().to_owned(),
            status: f.status.as_str().to_owned(),
            person_id: f.person_id.into(),
            full_name: (!f.full_name.is_empty()).then_some(f.full_name),
            phone: f.phone,
            email: f.email,
            case_id: f.case_id.into(),
            test_id: f.test_id.into(),
            tier: f.tier.map(|t| t.as_str().to_owned()),
            district: f.district,
            assignee: f.assignee,
            due_at: f.due_at,
            unanswered: f.unanswered,
            reached_at: f.reached_at,
            informed_at: f.informed_at,
            opened_at: f.opened_at,
            closed_at: f.closed_at,
            monitor_until: f.monitor_until,
            calls: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseContactView {
    pub person_id: String,
    /// `close` or `notify`.
    pub tier: String,
    /// Exposure rules that matched, e.g. `flight-seat`, `household`, `interview`.
    pub rules: Vec<String>,
    pub last_exposure: DateTime<Utc>,
    pub generation: u32,
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<serde_json::Value>,
    pub district: Option<String>,
    /// Absent when no follow-up was opened (traced before follow-up existed).
    pub follow_up: Option<FollowUpView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseContactsView {
    pub case: String,
    /// The positive test in force the contacts were traced from.
    pub test_id: Option<String>,
    pub contacts: Vec<CaseContactView>,
}

#[utoipa::path(get, path = "/api/v1/cases/{person_id}/contacts", tag = "follow-up",
    params(("person_id" = String, Path, description = "The case")),
    security(("bearer" = [])),
    responses((status = 200, body = CaseContactsView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn case_contacts(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(person_id): ApiPath<String>,
) -> Result<Json<CaseContactsView>, ApiError> {
    officer.require(Permission::Trace, "read a case's contacts")?;
    let c = service::contacts_of_case(&state, &officer.as_actor(), &person_id).await?;
    Ok(Json(CaseContactsView {
        case: c.case_id.into(),
        test_id: c.test_id,
        contacts: c
            .contacts
            .into_iter()
            .map(|s| CaseContactView {
                person_id: s.contact.person_id.into(),
                tier: s.contact.tier.as_str().to_owned(),
                rules: s
                    .contact
                    .rules
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
                last_exposure: s.contact.last_exposure,
                generation: s.contact.generation,
                evidence: s.contact.evidence,
                district: s.district.map(|d| d.to_string()),
                follow_up: s.follow_up.map(Into::into),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPersonBody {
    /// Your own id for the person (e.g. the register's); must be new.
    pub id: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Language of messages (`en`, `de`, …); default `en`.
    pub language: Option<String>,
    /// One of your districts; default your sole district.
    pub district: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedContactBody {
    /// A person on record …
    pub person_id: Option<String>,
    /// … or a new one to register (exactly one of the two).
    pub person: Option<NewPersonBody>,
    /// `household`, `workplace`, `school`, `social`, `healthcare` or `other`.
    pub setting: String,
    /// When they last met; inside the case's infectious window.
    pub last_exposure: DateTime<Utc>,
}

/// Adds a contact the case named in an interview and traces the case again:
/// the answer is the new trace, the contact tiered by the same rules.
#[utoipa::path(post, path = "/api/v1/cases/{person_id}/contacts", tag = "follow-up",
    params(("person_id" = String, Path, description = "The case")),
    request_body = NamedContactBody,
    security(("bearer" = [])),
    responses((status = 200, body = TraceView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn name_contact(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(person_id): ApiPath<String>,
    ApiJson(body): ApiJson<NamedContactBody>,
) -> Result<Json<TraceView>, ApiError> {
    officer.require(Permission::Trace, "add contacts to a case")?;
    let who = match (body.person_id, body.person) {
        (Some(id), None) => service::NamedPerson::Existing(PersonId::parse(&id)?),
        (None, Some(p)) => service::NamedPerson::New {
            person: Person {
                id: PersonId::parse(&p.id)?,
                full_name: FullName::parse(&p.full_name)?,
                phone: p.phone.as_deref().map(Phone::parse).transpose()?,
                email: p.email.as_deref().map(Email::parse).transpose()?,
                language: p
                    .language
                    .as_deref()
                    .map(Language::parse)
                    .transpose()?
                    .unwrap_or_default(),
                district: District::unassigned(),
            },
            district: p.district.as_deref().map(District::parse).transpose()?,
        },
        _ => {
            return Err(ValidationError::new(
                "person_id",
                "give either person_id (someone on record) or person (someone new)",
            )
            .into())
        }
    };
    let setting = ContactSetting::parse(&body.setting)?;
    let t = service::name_contact(
        &state,
        &officer.as_actor(),
        &person_id,
        who,
        setting,
        body.last_exposure,
    )
    .await?;
    Ok(Json(t.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListFollowUps {
    /// `interview` (cases to interview or trace), `to_call` (close contacts
    /// due by the end of today), `no_address` (close contacts with no
    /// residence and no order), `to_inform` (notify-tier contacts).
    pub list: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500; default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FollowUpPage {
    pub items: Vec<FollowUpView>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/follow-ups", tag = "follow-up", params(ListFollowUps),
    security(("bearer" = [])),
    responses((status = 200, body = FollowUpPage), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn list_follow_ups(
    State(state): State<AppState>,
    officer: Officer,
    ApiQuery(q): ApiQuery<ListFollowUps>,
) -> Result<Json<FollowUpPage>, ApiError> {
    officer.require(Permission::Trace, "work the follow-up lists")?;
    // Optional in the query's type so that a role without access hears 403 first.
    let raw = q.list.unwrap_or_default();
    let list = Worklist::parse(&raw).ok_or_else(|| {
        ValidationError::new(
            "list",
            format!("{raw:?} is not one of interview, to_call, no_address, to_inform"),
        )
    })?;
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    let p = service::worklist(&state, &officer.as_actor(), list, &page).await?;
    Ok(Json(FollowUpPage {
        items: p.items.into_iter().map(Into::into).collect(),
        next_cursor: p.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/follow-ups/{id}", tag = "follow-up",
    params(("id" = String, Path, description = "The follow-up")),
    security(("bearer" = [])),
    responses((status = 200, body = FollowUpView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_follow_up(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FollowUpView>, ApiError> {
    officer.require(Permission::Trace, "read follow-ups")?;
    let file = service::read(&state, &officer.as_actor(), &id).await?;
    let mut v = FollowUpView::from(file.follow_up);
    v.calls = Some(file.calls.into_iter().map(Into::into).collect());
    Ok(Json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// `reached`, `no_answer`, `wrong_number`, `refused` or `not_a_contact`.
    pub outcome: String,
    /// What was said or agreed (at most 2000 characters).
    pub note: Option<String>,
}

/// Records a call attempt; the follow-up moves on by its outcome (three
/// unanswered calls make a contact `unreachable`).
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/calls", tag = "follow-up",
    params(("id" = String, Path, description = "The follow-up")), request_body = NewCall,
    security(("bearer" = [])),
    responses((status = 200, body = FollowUpView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_call(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<NewCall>,
) -> Result<Json<FollowUpView>, ApiError> {
    officer.require(Permission::Trace, "log follow-up calls")?;
    let outcome = CallOutcome::parse(&body.outcome)?;
    let f = service::record_call(
        &state,
        &officer.as_actor(),
        &id,
        outcome,
        body.note.as_deref(),
    )
    .await?;
    Ok(Json(f.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// An officer's name; null or empty puts it back in the pool.
    pub assignee: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/assign", tag = "follow-up",
    params(("id" = String, Path, description = "The follow-up")), request_body = Assignment,
    security(("bearer" = [])),
    responses((status = 200, body = FollowUpView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn assign_follow_up(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Assignment>,
) -> Result<Json<FollowUpView>, ApiError> {
    officer.require(Permission::Trace, "assign follow-ups")?;
    let f = service::assign(&state, &officer.as_actor(), &id, body.assignee.as_deref()).await?;
    Ok(Json(f.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddress {
    /// Where the contact is to stay, as one line.
    pub address: String,
    pub lat: f64,
    pub lon: f64,
}

/// The place of a close contact who had no address on record: issues their
/// order there (from now to the last exposure plus the quarantine days).
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/address", tag = "follow-up",
    params(("id" = String, Path, description = "The follow-up")), request_body = NewAddress,
    security(("bearer" = [])),
    responses((status = 201, body = WrittenOrderView, description = "the order, created"),
        (status = 200, body = WrittenOrderView, description = "the person's active order, extended"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_address(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<NewAddress>,
) -> Result<(StatusCode, Json<WrittenOrderView>), ApiError> {
    officer.require(Permission::Trace, "issue a contact's order")?;
    officer.require(Permission::WriteOrders, "issue a contact's order")?;
    let place = service::NewPlace {
        address: Address::parse(&body.address)?,
        coordinates: Coordinates::new(body.lat, body.lon)?,
    };
    let w = service::add_address(&state, &officer.as_actor(), &id, place).await?;
    Ok((
        written_status(w.write),
        Json(WrittenOrderView {
            order: OrderView::seen_by(w.order, &officer),
            written: w.write.into(),
        }),
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotInformedView {
    pub follow_up: FollowUpView,
    /// Why no notice went out (no phone or e-mail, no sender, the period
    /// over, …): the contact stays to be informed, by a call.
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InformedView {
    /// Sent their exposure notice and monitored from now on (`monitored`,
    /// with `monitor_until`).
    pub informed: Vec<FollowUpView>,
    pub not_informed: Vec<NotInformedView>,
}

impl From<notices::Informed> for InformedView {
    fn from(i: notices::Informed) -> Self {
        Self {
            informed: i.informed.into_iter().map(Into::into).collect(),
            not_informed: i
                .not_informed
                .into_iter()
                .map(|(f, reason)| NotInformedView {
                    follow_up: f.into(),
                    reason,
                })
                .collect(),
        }
    }
}

/// Sends the exposure notice (what happened, what to watch for, whom to
/// call) to every notify-tier contact of the case in your districts still
/// to be informed; each is then monitored (a daily symptom form, no
/// quarantine) until the last exposure plus the policy's days.
#[utoipa::path(post, path = "/api/v1/cases/{person_id}/notices", tag = "follow-up",
    params(("person_id" = String, Path, description = "The case")),
    security(("bearer" = [])),
    responses((status = 200, body = InformedView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn send_case_notices(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(person_id): ApiPath<String>,
) -> Result<Json<InformedView>, ApiError> {
    officer.require(Permission::Trace, "send exposure notices")?;
    let done = notices::inform_case_contacts(&state, &officer.as_actor(), &person_id).await?;
    Ok(Json(done.into()))
}

/// Sends one notify-tier contact's exposure notice.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/notice", tag = "follow-up",
    params(("id" = String, Path, description = "The follow-up")),
    security(("bearer" = [])),
    responses((status = 200, body = InformedView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn send_notice(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InformedView>, ApiError> {
    officer.require(Permission::Trace, "send exposure notices")?;
    let done = notices::inform_contact(&state, &officer.as_actor(), &id).await?;
    Ok(Json(done.into()))
}

/// Makes a monitored (or reached) contact a suspected case, after a
/// symptomatic report: on the `suspected` worklist, to be tested.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/suspected", tag = "follow-up",
    params(("id" = String, Path, description = "The follow-up")),
    security(("bearer" = [])),
    responses((status = 200, body = FollowUpView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn mark_suspected(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FollowUpView>, ApiError> {
    officer.require(Permission::Trace, "mark suspected cases")?;
    let f = notices::mark_suspected(&state, &officer.as_actor(), &id).await?;
    Ok(Json(f.into()))
}
