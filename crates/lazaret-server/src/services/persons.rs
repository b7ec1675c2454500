//! People: register, read, list and correct (phone, e-mail, language,
//! name). Every read and write is audited; a correction's audit event names
//! the fields changed, never their values.

use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::District;
use lazaret_core::ids::PersonId;
use lazaret_core::person::{FullName, Person};
use lazaret_store::{Page, PageRequest, PersonFilter};

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
