//! Laboratory results arriving one by one (`POST /api/v1/tests`) or as a
//! FHIR bundle (`POST /api/v1/fhir`): idempotent by test id; a new positive
//! opens the case's interview; a different result for a stored test is a
//! correction and goes through the revision cascade (only when the sender
//! says it is one).

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::person::{FullName, Person};
use lazaret_core::test_result::{TestOutcome, TestResult};
use lazaret_core::ValidationError;
use lazaret_store::RevisionReport;

use crate::fhir::{self, Bundle, BundleKind, Entry, LabTest};
use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// A result as a laboratory sends it.
#[derive(Debug, Clone)]
pub struct NewTest {
    pub test_id: String,
    pub person_id: String,
    pub sampled_at: DateTime<Utc>,
    pub result: TestOutcome,
    pub lab: String,
    pub symptom_onset: Option<NaiveDate>,
    pub resulted_at: Option<DateTime<Utc>>,
    /// Set when the sender corrects a result it sent before.
    pub correction_reason: Option<String>,
    /// Who the person is, for one not on record yet (FHIR `Patient`).
    pub patient: Option<fhir::PatientInfo>,
}

/// What became of one result.
#[derive(Debug)]
pub enum Ingested {
    Created {
        test: TestResult,
    },
    /// The same result was stored already: nothing changed.
    Unchanged {
        test: TestResult,
    },
    /// A correction: the test's revision and what its cascade did.
    Revised(Box<RevisionReport>),
}

impl Ingested {
    pub fn test(&self) -> &TestResult {
        match self {
            Self::Created { test } | Self::Unchanged { test } => test,
            Self::Revised(r) => &r.test,
        }
    }
}

/// Checks a result without writing anything: what [`ingest`] would refuse
/// before touching the database (ids, lab name, times).
fn validate(state: &AppState, t: &NewTest) -> Result<(TestId, PersonId), ServiceError> {
    let test_id = TestId::parse(&t.test_id)?;
    let person_id = PersonId::parse(&t.person_id)?;
    if t.lab.trim().is_empty() || t.lab.chars().count() > 200 {
        return Err(ValidationError::new("lab", "must be 1 to 200 characters").into());
    }
    let now = state.now();
    if t.sampled_at > now {
        return Err(ValidationError::new("sampled_at", "is in the future").into());
    }
    if let Some(r) = t.resulted_at {
        if r < t.sampled_at {
            return Err(
                ValidationError::new("resulted_at", "is before the sample was taken").into(),
            );
        }
    }
    Ok((test_id, person_id))
}

/// The person the result is about: on record in the officer's districts,
/// or registered from the Patient the bundle carries (in the officer's
/// district). Someone in another district is as unknown as a missing one.
async fn person_of(
    state: &AppState,
    actor: &Actor,
    id: &PersonId,
    patient: Option<&fhir::PatientInfo>,
) -> Result<(), ServiceError> {
    if state
        .store
        .get_person_in(id, actor.districts())
        .await?
        .is_some()
    {
        return Ok(());
    }
    let missing = || ServiceError::MissingReference {
        entity: "person",
        id: id.to_string(),
    };
    let exists_elsewhere = state.store.get_person(id).await?.is_some();
    match patient.and_then(|p| p.full_name.as_deref().map(|n| (p, n))) {
        Some((p, name)) if !exists_elsewhere => {
            let person = Person {
                id: id.clone(),
                full_name: FullName::parse(name)?,
                phone: p.phone.as_deref().map(Phone::parse).transpose()?,
                email: p.email.as_deref().map(Email::parse).transpose()?,
                language: p
                    .language
                    .as_deref()
                    .and_then(|l| Language::parse(l).ok())
                    .unwrap_or_default(),
                district: lazaret_core::district::District::unassigned(),
            };
            crate::services::persons::register(state, actor, person, None).await?;
            Ok(())
        }
        _ => Err(missing()),
    }
}

/// Stores one result (see the module docs).
pub async fn ingest(state: &AppState, actor: &Actor, t: NewTest) -> Result<Ingested, ServiceError> {
    let (test_id, person_id) = validate(state, &t)?;
    if let Some(stored) = state.store.get_test_result(&test_id).await? {
        // Nothing of another district's person is revealed: only that the id is taken.
        if stored.person_id != person_id {
            return Err(ServiceError::TestOfAnotherPerson {
                test: test_id.to_string(),
            });
        }
        person_of(state, actor, &person_id, None).await?;
        if stored.result == t.result {
            return Ok(Ingested::Unchanged { test: stored });
        }
        let Some(reason) = t.correction_reason.as_deref() else {
            return Err(ServiceError::ResultConflict {
                test: test_id.to_string(),
                stored: stored.result.as_str(),
            });
        };
        let report =
            crate::services::tracing::revise_test(state, actor, test_id.as_str(), t.result, reason)
                .await?;
        return Ok(Ingested::Revised(Box::new(report)));
    }
    person_of(state, actor, &person_id, t.patient.as_ref()).await?;
    let test = TestResult {
        id: test_id,
        person_id,
        sampled_at: t.sampled_at,
        result: t.result,
        lab: t.lab.trim().to_owned(),
        symptom_onset: t.symptom_onset,
        revisions: Vec::new(),
    };
    let now = state.now();
    let audit = actor.audit(
        now,
        "test.report",
        "person",
        test.person_id.as_str(),
        serde_json::json!({ "test_id": test.id, "result": test.result }).to_string(),
    );
    let created = state
        .store
        .record_lab_result(&test, t.resulted_at, now, &audit)
        .await?;
    if !created {
        // Another request stored the same id in between: answer as if it came second.
        return Box::pin(ingest(state, actor, t)).await;
    }
    if test.result == TestOutcome::Positive {
        state.store.open_case_follow_ups(now).await?;
    }
    Ok(Ingested::Created { test })
}

fn new_test(t: &LabTest) -> NewTest {
    NewTest {
        test_id: t.test_id.clone(),
        person_id: t.person_id.clone(),
        sampled_at: t.sampled_at,
        result: t.result,
        lab: t.lab.clone(),
        symptom_onset: None,
        resulted_at: t.resulted_at,
        correction_reason: t.correction.clone(),
        patient: t.patient.clone(),
    }
}

/// What became of one bundle entry.
#[derive(Debug)]
pub enum EntryOutcome {
    Done(Ingested),
    /// A Patient or DiagnosticReport: read with the observations.
    Read {
        what: &'static str,
    },
    Refused(String),
    /// A transaction with a refused entry stores none of its entries.
    NotProcessed,
}

/// Stores the tests of a FHIR bundle. A `transaction` is all or nothing:
/// every entry is checked first and one refusal refuses the bundle (the
/// answer says which and why). A `collection` stores what it can, entry by
/// entry.
pub async fn ingest_bundle(
    state: &AppState,
    actor: &Actor,
    bundle: Bundle,
) -> Result<(BundleKind, Vec<EntryOutcome>), ServiceError> {
    let mut outcomes: Vec<Option<EntryOutcome>> = Vec::with_capacity(bundle.entries.len());
    // What can be refused without writing: the reading, then the checks.
    for e in &bundle.entries {
        outcomes.push(match e {
            Entry::Refused(why) => Some(EntryOutcome::Refused(why.clone())),
            Entry::Patient(_) => Some(EntryOutcome::Read { what: "Patient" }),
            Entry::Report { .. } => Some(EntryOutcome::Read {
                what: "DiagnosticReport",
            }),
            Entry::Test(t) => match validate(state, &new_test(t)) {
                Err(e) => Some(EntryOutcome::Refused(e.to_string())),
                Ok(_) => None,
            },
        });
    }
    let refused = outcomes
        .iter()
        .any(|o| matches!(o, Some(EntryOutcome::Refused(_))));
    if bundle.kind == BundleKind::Transaction && refused {
        let done = outcomes
            .into_iter()
            .map(|o| o.unwrap_or(EntryOutcome::NotProcessed))
            .collect();
        return Ok((bundle.kind, done));
    }
    let mut done = Vec::with_capacity(outcomes.len());
    for (o, e) in outcomes.into_iter().zip(&bundle.entries) {
        done.push(match (o, e) {
            (Some(o), _) => o,
            (None, Entry::Test(t)) => match ingest(state, actor, new_test(t)).await {
                Ok(i) => EntryOutcome::Done(i),
                Err(e @ (ServiceError::Store(_) | ServiceError::Internal)) => return Err(e),
                Err(e) => EntryOutcome::Refused(e.to_string()),
            },
            (None, _) => EntryOutcome::NotProcessed,
        });
    }
    Ok((bundle.kind, done))
}
