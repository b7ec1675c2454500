//! People: register, read, list and correct (phone, e-mail, language,
//! name). Every read and write is audited; a correction's audit event names
//! the fields changed, never their values.

use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::ids::PersonId;
use lazaret_core::person::{FullName, Person};
use lazaret_store::{Page, PageRequest, PersonFilter};

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
        fields
    }
}

/// The person `id` names (404 when it cannot be a person id or is unknown).
async fn load(state: &AppState, id: &str) -> Result<Person, ServiceError> {
    let pid = PersonId::parse(id).map_err(|_| ServiceError::not_found("person", id))?;
    state
        .store
        .get_person(&pid)
        .await?
        .ok_or_else(|| ServiceError::not_found("person", id))
}

/// Registers `person` (a conflict when the id is taken).
pub async fn register(
    state: &AppState,
    actor: &Actor,
    person: Person,
) -> Result<Person, ServiceError> {
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
    let person = load(state, id).await?;
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
    let mut person = load(state, id).await?;
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
    let page = state.store.list_persons(filter, page).await?;
    let ids: Vec<&str> = page.items.iter().map(|p| p.id.as_str()).collect();
    let audit = actor.audit(state.now(), "person.list", "person", "*", ids.join(","));
    state.store.record_audit(&audit).await?;
    Ok(page)
}
