//! Follow-up after a trace: the stored contacts of a case with where each
//! stands, contacts named in an interview, call attempts, assignment, the
//! worklists, and the order of a contact who had no address on record.
//! The JSON API and the console both call these; every write is audited.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::contact::Contact;
use lazaret_core::district::District;
use lazaret_core::exposure::{ContactSetting, NamedContact};
use lazaret_core::follow_up::{CallOutcome, CallPolicy};
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{FollowUpId, PersonId};
use lazaret_core::order::{OrderBasis, OrderStatus};
use lazaret_core::person::{Address, Person};
use lazaret_core::zone_lookup::order_time_zone;
use lazaret_core::ValidationError;
use lazaret_store::{CallRecord, FollowUp, Page, PageRequest, Worklist, WrittenOrder};

use crate::services::orders::{create_or_extend, NewOrder};
use crate::services::tracing::{self as tracing_service, Traced};
use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// The pace of calls: three unanswered calls, four hours apart.
fn call_policy() -> CallPolicy {
    CallPolicy::default()
}

/// One stored contact of a case and where they stand.
pub struct ContactStanding {
    pub contact: Contact,
    /// The contact's district, when the person is on record.
    pub district: Option<District>,
    /// The follow-up, when one was opened. For a contact outside the
    /// officer's districts only the status is kept (name, phone and the
    /// rest belong to that district's officers).
    pub follow_up: Option<FollowUp>,
}

/// The stored contacts of case `case` (its positive test in force), as
/// last traced, with their follow-up.
pub struct CaseContacts {
    pub case_id: PersonId,
    pub test_id: Option<String>,
    pub contacts: Vec<ContactStanding>,
}

pub(crate) fn follow_up_id(raw: &str) -> Result<FollowUpId, ServiceError> {
    FollowUpId::parse(raw).map_err(|_| ServiceError::not_found("follow-up", raw))
}

/// Strips what another district's officers hold from a follow-up.
fn redact(mut f: FollowUp) -> FollowUp {
    f.full_name = String::new();
    f.phone = None;
    f.email = None;
    f.assignee = None;
    f
}

/// The stored contacts of `case` with their follow-up. Audited as a read
/// of the case's contacts.
pub async fn contacts_of_case(
    state: &AppState,
    actor: &Actor,
    case: &str,
) -> Result<CaseContacts, ServiceError> {
    let case_id = tracing_service::case_id(state, actor, case).await?;
    let Some(test) = state.store.current_positive_test(&case_id).await? else {
        return Ok(CaseContacts {
            case_id,
            test_id: None,
            contacts: Vec::new(),
        });
    };
    let contacts = state.store.contacts_of_test(&test.id).await?;
    let ids: Vec<PersonId> = contacts.iter().map(|c| c.person_id.clone()).collect();
    let districts = state.store.person_districts(&ids).await?;
    let mut follow_ups = state.store.contact_follow_ups(&ids).await?;
    let scope = actor.districts();
    let audit = actor.audit(
        state.now(),
        "contacts.read",
        "person",
        case_id.as_str(),
        serde_json::json!({ "test_id": test.id, "contacts": contacts.len() }).to_string(),
    );
    state.store.record_audit(&audit).await?;
    let contacts = contacts
        .into_iter()
        .map(|contact| {
            let district = districts.get(&contact.person_id).cloned();
            let follow_up = follow_ups
                .iter()
                .position(|f| f.person_id == contact.person_id)
                .map(|i| follow_ups.swap_remove(i))
                .map(|f| {
                    if district.as_ref().is_some_and(|d| scope.covers(d)) {
                        f
                    } else {
                        redact(f)
                    }
                });
            ContactStanding {
                contact,
                district,
                follow_up,
            }
        })
        .collect();
    Ok(CaseContacts {
        case_id,
        test_id: Some(test.id.to_string()),
        contacts,
    })
}

/// The follow-up of each of `persons` (a case's contacts) for the case
/// page: another district's contact shows the status only.
pub async fn standings(
    state: &AppState,
    actor: &Actor,
    persons: &[PersonId],
) -> Result<std::collections::HashMap<PersonId, FollowUp>, ServiceError> {
    let scope = actor.districts();
    Ok(state
        .store
        .contact_follow_ups(persons)
        .await?
        .into_iter()
        .map(|f| {
            let own = District::parse(&f.district).is_ok_and(|d| scope.covers(&d));
            (f.person_id.clone(), if own { f } else { redact(f) })
        })
        .collect())
}

/// Who a case named: a person on record, or a new one to register.
pub enum NamedPerson {
    Existing(PersonId),
    New {
        person: Person,
        district: Option<District>,
    },
}

/// Adds a contact the case named in an interview, then traces the case
/// again so the contact is tiered by the same rules, gets a follow-up and
/// joins the chains. A new person is registered in the officer's district
/// first. A last exposure outside the case's infectious window is refused
/// (it could not have infected them) with the window in the message.
pub async fn name_contact(
    state: &AppState,
    actor: &Actor,
    case: &str,
    who: NamedPerson,
    setting: ContactSetting,
    last_exposure: DateTime<Utc>,
) -> Result<Traced, ServiceError> {
    let case_id = tracing_service::case_id(state, actor, case).await?;
    let Some(test) = state.store.current_positive_test(&case_id).await? else {
        return Err(ValidationError::new(
            "case",
            "this person has no positive test in force: there is nothing to trace",
        )
        .into());
    };
    let window = tracing_service::window_of(&test);
    if !window.contains(last_exposure) {
        return Err(ValidationError::new(
            "last_exposure",
            format!(
                "is outside the case's infectious window ({} to {})",
                window.start.format("%Y-%m-%d %H:%M UTC"),
                window.end.format("%Y-%m-%d %H:%M UTC")
            ),
        )
        .into());
    }
    if last_exposure > state.now() {
        return Err(ValidationError::new("last_exposure", "is in the future").into());
    }
    let person_id = match who {
        NamedPerson::Existing(id) => {
            if state.store.get_person(&id).await?.is_none() {
                return Err(ServiceError::MissingReference {
                    entity: "person",
                    id: id.to_string(),
                });
            }
            id
        }
        NamedPerson::New { person, district } => {
            crate::services::persons::register(state, actor, person, district)
                .await?
                .id
        }
    };
    if person_id == case_id {
        return Err(ValidationError::new("person_id", "a case is not its own contact").into());
    }
    let now = state.now();
    let named = NamedContact {
        person_id: person_id.clone(),
        setting,
        last_exposure,
        named_by: actor.name().to_owned(),
    };
    let audit = actor.audit(
        now,
        "contacts.name",
        "person",
        case_id.as_str(),
        serde_json::json!({
            "contact": person_id,
            "setting": setting.as_str(),
            "last_exposure": last_exposure,
        })
        .to_string(),
    );
    state
        .store
        .add_named_contact(&case_id, &named, now, &audit)
        .await?;
    tracing_service::trace(state, actor, case_id.as_str()).await
}

/// A follow-up with its call log and, for a contact, the stored contact
/// (rules and evidence: the flight, seat and booking for one without an
/// address).
pub struct FollowUpFile {
    pub follow_up: FollowUp,
    pub calls: Vec<CallRecord>,
    pub contact: Option<Contact>,
}

/// A follow-up of the officer's districts with its calls; the read is
/// audited.
pub async fn read(state: &AppState, actor: &Actor, id: &str) -> Result<FollowUpFile, ServiceError> {
    let id = follow_up_id(id)?;
    let f = state
        .store
        .get_follow_up(&id, actor.districts())
        .await?
        .ok_or_else(|| ServiceError::not_found("follow-up", &id))?;
    let calls = state.store.follow_up_calls(&id).await?;
    let contact = match f.kind {
        lazaret_core::follow_up::FollowUpKind::Contact => state
            .store
            .contacts_of_test(&f.test_id)
            .await?
            .into_iter()
            .find(|c| c.person_id == f.person_id),
        lazaret_core::follow_up::FollowUpKind::Case => None,
    };
    let audit = actor.audit(
        state.now(),
        "follow_up.read",
        "person",
        f.person_id.as_str(),
        serde_json::json!({ "follow_up": f.id }).to_string(),
    );
    state.store.record_audit(&audit).await?;
    Ok(FollowUpFile {
        follow_up: f,
        calls,
        contact,
    })
}

/// Records a call attempt; the follow-up moves on by the outcome.
pub async fn record_call(
    state: &AppState,
    actor: &Actor,
    id: &str,
    outcome: CallOutcome,
    note: Option<&str>,
) -> Result<FollowUp, ServiceError> {
    let id = follow_up_id(id)?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        if n.chars().count() > 2000 {
            return Err(ValidationError::new("note", "is longer than 2000 characters").into());
        }
    }
    let done = state
        .store
        .record_call(
            &id,
            actor.districts(),
            outcome,
            note,
            actor.name(),
            &call_policy(),
            state.now(),
        )
        .await
        .map_err(|e| match e {
            lazaret_store::StoreError::NotFound { .. } => ServiceError::not_found("follow-up", &id),
            e => e.into(),
        })?;
    Ok(done?)
}

/// Assigns a follow-up to `assignee` (an officer's name; `None` to the pool).
pub async fn assign(
    state: &AppState,
    actor: &Actor,
    id: &str,
    assignee: Option<&str>,
) -> Result<FollowUp, ServiceError> {
    let id = follow_up_id(id)?;
    let assignee = assignee.map(str::trim).filter(|a| !a.is_empty());
    if let Some(a) = assignee {
        if state.store.get_user_by_name(a).await?.is_none() {
            return Err(ValidationError::new("assignee", format!("no officer named {a:?}")).into());
        }
    }
    let now = state.now();
    let audit = actor.audit(
        now,
        "follow_up.assign",
        "follow_up",
        id.as_str(),
        serde_json::json!({ "assignee": assignee }).to_string(),
    );
    state
        .store
        .assign_follow_up(&id, actor.districts(), assignee, now, &audit)
        .await
        .map_err(|e| match e {
            lazaret_store::StoreError::NotFound { .. } => ServiceError::not_found("follow-up", &id),
            e => e.into(),
        })
}

/// A page of worklist `list` for the officer's districts.
pub async fn worklist(
    state: &AppState,
    actor: &Actor,
    list: Worklist,
    page: &PageRequest,
) -> Result<Page<FollowUp>, ServiceError> {
    Ok(state
        .store
        .worklist(list, actor.districts(), state.now(), page)
        .await?)
}

/// The place a contact without an address on record is to stay.
pub struct NewPlace {
    pub address: Address,
    pub coordinates: Coordinates,
}

/// Issues the order of a close contact who had no address on record, at
/// the place an officer found: from now until the last exposure plus the
/// quarantine days, fenced like any contact order.
pub async fn add_address(
    state: &AppState,
    actor: &Actor,
    id: &str,
    place: NewPlace,
) -> Result<WrittenOrder, ServiceError> {
    let id = follow_up_id(id)?;
    let f = state
        .store
        .get_follow_up(&id, actor.districts())
        .await?
        .ok_or_else(|| ServiceError::not_found("follow-up", &id))?;
    if f.kind != lazaret_core::follow_up::FollowUpKind::Contact
        || f.tier != Some(lazaret_core::contact::RiskTier::Close)
    {
        return Err(ValidationError::new(
            "follow_up",
            "only a close contact's follow-up takes an address for an order",
        )
        .into());
    }
    if f.status.is_closed() {
        return Err(ValidationError::new(
            "follow_up",
            format!("the follow-up is {}", f.status.as_str()),
        )
        .into());
    }
    let contact = state
        .store
        .contacts_of_test(&f.test_id)
        .await?
        .into_iter()
        .find(|c| c.person_id == f.person_id)
        .ok_or_else(|| {
            ValidationError::new(
                "follow_up",
                "the contact is no longer on the case's list (traced again or revised)",
            )
        })?;
    let policy = tracing_service::policy();
    let now = state.now();
    let ends_at = contact.last_exposure
        + Duration::days(i64::from(policy.quarantine.days_after_last_exposure));
    if ends_at <= now {
        return Err(ValidationError::new(
            "follow_up",
            "the quarantine period after the last exposure is already over",
        )
        .into());
    }
    let new = NewOrder {
        person_id: f.person_id.clone(),
        address: place.address,
        geofence: Geofence::new(place.coordinates, policy.quarantine.geofence_radius_m)?,
        starts_at: now,
        ends_at,
        time_zone: order_time_zone(Some(&place.coordinates), state.config.default_time_zone),
        basis: OrderBasis::Contact {
            case_id: f.case_id.clone(),
            test_id: f.test_id.clone(),
        },
        status: OrderStatus::Active,
        district: District::parse(&f.district).ok(),
    };
    create_or_extend(state, actor, new).await
}
