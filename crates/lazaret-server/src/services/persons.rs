//! People: register, read, list and correct (phone, e-mail, language,
//! name). Every read and write is audited; a correction's audit event names
//! the fields changed, never their values.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::District;
use lazaret_core::ids::PersonId;
use lazaret_core::order::QuarantineOrder;
use lazaret_core::person::{FullName, Person};
use lazaret_core::user::Permission;
use lazaret_store::{OrderFilter, Page, PageRequest, PersonFilter};
use serde_json::Value;

use crate::services::orders::choose_district;
use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// Corrections to a person, each already validated; `None` leaves a field
/// as it is.
#[derive(Debug, Clone, Default)]
pub struct PersonCorrections {
    pub full_name: Option<FullName>,
    /// `Some(None)` removes the phone.
    pub phone: Option<Option<Phone>>,
    /// `Some(None)` removes the e-mail.
    pub email: Option<Option<Email>>,
    /// The default `en` to go back to it.
    pub language: Option<Language>,
    /// Moves the person to another of the officer's districts; out of
    /// `unassigned`, their `unassigned` orders and alerts follow them.
    pub district: Option<District>,
}

impl PersonCorrections {
    /// Applies the corrections to `p`; the names of the fields given, for
    /// the audit log.
    fn apply(self, p: &mut Person) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if let Some(v) = self.full_name {
            p.full_name = v;
            fields.push("full_name");
        }
        if let Some(v) = self.phone {
            p.phone = v;
            fields.push("phone");
        }
        if let Some(v) = self.email {
            p.email = v;
            fields.push("email");
        }
        if let Some(v) = self.language {
            p.language = v;
            fields.push("language");
        }
        if let Some(v) = self.district {
            p.district = v;
            fields.push("district");
        }
        fields
    }
}

/// The person `id` names (404 when it cannot be a person id or is unknown).
async fn load(state: &AppState, actor: &Actor, id: &str) -> Result<Person, ServiceError> {
    let pid = PersonId::parse(id).map_err(|_| ServiceError::not_found("person", id))?;
    state
        .store
        .get_person_in(&pid, actor.districts())
        .await?
        .ok_or_else(|| ServiceError::not_found("person", id))
}

/// Registers `person` in `district` (see [`choose_district`]; a national
/// officer who names none registers them `unassigned`); a conflict when the
/// id is taken.
pub async fn register(
    state: &AppState,
    actor: &Actor,
    mut person: Person,
    district: Option<District>,
) -> Result<Person, ServiceError> {
    person.district = choose_district(actor, district, District::unassigned)?;
    let now = state.now();
    let audit = actor.audit(
        now,
        "person.create",
        "person",
        person.id.as_str(),
        String::new(),
    );
    state.store.insert_person(&person, now, &audit).await?;
    Ok(person)
}

/// Person `id`; the read is audited.
pub async fn read(state: &AppState, actor: &Actor, id: &str) -> Result<Person, ServiceError> {
    let person = load(state, actor, id).await?;
    let audit = actor.audit(
        state.now(),
        "person.read",
        "person",
        person.id.as_str(),
        String::new(),
    );
    state.store.record_audit(&audit).await?;
    Ok(person)
}

/// Corrects person `id`; the audit event lists the fields given.
pub async fn correct(
    state: &AppState,
    actor: &Actor,
    id: &str,
    corrections: PersonCorrections,
) -> Result<Person, ServiceError> {
    let mut person = load(state, actor, id).await?;
    if let Some(d) = &corrections.district {
        choose_district(actor, Some(d.clone()), District::unassigned)?;
    }
    let fields = corrections.apply(&mut person);
    let now = state.now();
    let audit = actor.audit(
        now,
        "person.update",
        "person",
        person.id.as_str(),
        serde_json::json!({ "fields": fields }).to_string(),
    );
    state.store.update_person(&person, now, &audit).await?;
    Ok(person)
}

/// A page of people; the ids shown are audited.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &PersonFilter,
    page: &PageRequest,
) -> Result<Page<Person>, ServiceError> {
    let filter = PersonFilter {
        districts: Some(actor.districts().clone()),
        ..filter.clone()
    };
    let page = state.store.list_persons(&filter, page).await?;
    let ids: Vec<&str> = page.items.iter().map(|p| p.id.as_str()).collect();
    let audit = actor.audit(state.now(), "person.list", "person", "*", ids.join(","));
    state.store.record_audit(&audit).await?;
    Ok(page)
}

/// Everything held about person `id` (see `Store::export_person`), for an
/// access request; the export is audited (after it was read, so the event
/// is not in the document it answers).
pub async fn export(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<serde_json::Value, ServiceError> {
    let pid = PersonId::parse(id).map_err(|_| ServiceError::not_found("person", id))?;
    let doc = state
        .store
        .export_person(&pid, actor.districts())
        .await?
        .ok_or_else(|| ServiceError::not_found("person", id))?;
    let audit = actor.audit(
        state.now(),
        "person.export",
        "person",
        pid.as_str(),
        String::new(),
    );
    state.store.record_audit(&audit).await?;
    Ok(doc)
}

/// The persons of `ids` the officer may see, in one query: the names a
/// page that already listed (and audited) those ids shows beside them.
/// Not audited again; unknown ids and other districts' persons are left out.
pub async fn names(
    state: &AppState,
    actor: &Actor,
    ids: &[PersonId],
) -> Result<HashMap<PersonId, Person>, ServiceError> {
    Ok(state.store.persons_in(ids, actor.districts()).await?)
}

/// The end of each listed person's active order (of the officer's
/// districts), in one query: the persons list's column. The ids were
/// audited by [`list`].
pub async fn active_order_ends(
    state: &AppState,
    actor: &Actor,
    ids: &[PersonId],
) -> Result<HashMap<PersonId, DateTime<Utc>>, ServiceError> {
    Ok(state
        .store
        .active_order_ends(ids, actor.districts())
        .await?)
}

/// The sections of [`Store::person_sections`] every officer's person page
/// reads; [`HEALTH_SECTIONS`] only for a role with `ReadHealth`.
///
/// [`Store::person_sections`]: lazaret_store::Store::person_sections
pub const FILE_SECTIONS: &[&str] = &["prompts", "checkins", "alerts", "messages"];
/// Health data: symptom reports, tests with their revisions, the person as
/// a contact and the contacts traced from them as a case (by tier).
pub const HEALTH_SECTIONS: &[&str] = &[
    "symptom_reports",
    "test_results",
    "contact_of",
    "traced_by_tier",
];

/// What an officer's person page shows: the person, their orders of the
/// officer's districts (newest first) and the rows of each section, as the
/// export holds them (`Store::person_sections`, JSON rows). Without
/// `ReadHealth` the health sections are not read at all and `symptomatic`
/// alerts are left out, as the alert queue does.
#[derive(Debug, Clone)]
pub struct PersonFile {
    pub person: Person,
    pub orders: Vec<QuarantineOrder>,
    /// Whether the health sections were read (the officer's role allows it).
    pub health: bool,
    /// `prompts`, `checkins`, `alerts`, `messages` and, with `health`,
    /// `symptom_reports`, `test_results`, `contact_of`, `traced_by_tier`.
    pub sections: Value,
}

impl PersonFile {
    /// The rows of section `name` (empty when it was not read).
    pub fn rows(&self, name: &str) -> &[Value] {
        self.sections
            .get(name)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
}

/// Person `id` with their orders (for a role that reads orders) and
/// history as the officer may see it.
/// Audited as the API's reads are: `person.read`, `order.list` with the
/// order ids, and `person.history` naming the sections read and the ids of
/// the alerts, symptom reports and tests shown. Another district's person
/// is not found, as an unknown id.
pub async fn file(state: &AppState, actor: &Actor, id: &str) -> Result<PersonFile, ServiceError> {
    let person = read(state, actor, id).await?;
    let reads_orders = actor.role().allows(Permission::ReadOrders);
    let orders = if !reads_orders {
        Vec::new()
    } else {
        crate::services::orders::list(
            state,
            actor,
            &OrderFilter {
                person_id: Some(person.id.clone()),
                ..OrderFilter::default()
            },
            &PageRequest {
                cursor: None,
                limit: Some(lazaret_store::MAX_LIMIT),
            },
        )
        .await?
        .items
    };
    let mut orders = orders;
    orders.sort_by_key(|o| std::cmp::Reverse(o.starts_at));
    let health = actor.role().allows(Permission::ReadHealth);
    let mut names: Vec<&str> = FILE_SECTIONS.to_vec();
    if health {
        names.extend_from_slice(HEALTH_SECTIONS);
    }
    let mut sections = state
        .store
        .person_sections(&person.id, actor.districts(), &names)
        .await?
        .ok_or_else(|| ServiceError::not_found("person", id))?;
    if !health {
        if let Some(Value::Array(alerts)) = sections.get_mut("alerts") {
            alerts.retain(|a| a.get("kind").and_then(Value::as_str) != Some("symptomatic"));
        }
    }
    let ids_of = |name: &str| -> Vec<String> {
        sections
            .get(name)
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let details = serde_json::json!({
        "sections": names,
        "alerts": ids_of("alerts"),
        "symptom_reports": ids_of("symptom_reports"),
        "test_results": ids_of("test_results"),
    })
    .to_string();
    let audit = actor.audit(
        state.now(),
        "person.history",
        "person",
        person.id.as_str(),
        details,
    );
    state.store.record_audit(&audit).await?;
    Ok(PersonFile {
        person,
        orders,
        health,
        sections,
    })
}
