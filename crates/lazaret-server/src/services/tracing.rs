//! Contact tracing, the same operations as `lazaret trace|orders|tests|
//! chains`: trace a case, propose or issue its contacts' orders, revise a
//! test result (the cascade releases or shortens what rested on it), and
//! the transmission chains. Contacts are selected by exposure only; every
//! call is audited (by the store, or here for the chains).

use std::collections::HashMap;

use lazaret_core::chains::{build_chains, Chain};
use lazaret_core::district::District;
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::test_result::TestOutcome;
use lazaret_core::tracing_policy::TracingPolicy;
use lazaret_store::{Proposals, RevisionReport, TraceOutcome};

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// The server traces with the built-in rules; a policy file applies to the
/// command line.
fn policy() -> TracingPolicy {
    TracingPolicy::default()
}

/// The case `raw` names: 404 when it cannot be a person id, or, for an
/// officer limited to some districts, when the person is not in one of them
/// (a national officer may trace a case known only from imported tests).
async fn case_id(state: &AppState, actor: &Actor, raw: &str) -> Result<PersonId, ServiceError> {
    let id = PersonId::parse(raw).map_err(|_| ServiceError::not_found("person", raw))?;
    if actor.districts().limit().is_some()
        && state
            .store
            .get_person_in(&id, actor.districts())
            .await?
            .is_none()
    {
        return Err(ServiceError::not_found("person", raw));
    }
    Ok(id)
}

/// A trace and the district each contact lives in (the investigator of
/// the case learns that a contact exists and where; that district's
/// officers hold the rest).
pub struct Traced {
    pub outcome: TraceOutcome,
    pub districts: HashMap<PersonId, District>,
}

/// Traces the contacts of case `case` and stores them.
pub async fn trace(state: &AppState, actor: &Actor, case: &str) -> Result<Traced, ServiceError> {
    let case = case_id(state, actor, case).await?;
    let outcome = state
        .store
        .trace_case(&case, &policy(), state.now(), actor.name())
        .await?;
    let ids: Vec<PersonId> = outcome
        .contacts
        .iter()
        .map(|c| c.person_id.clone())
        .collect();
    let districts = state.store.person_districts(&ids).await?;
    Ok(Traced { outcome, districts })
}

/// What issuing the case's contact orders would do, writing no order.
pub async fn propose_orders(
    state: &AppState,
    actor: &Actor,
    case: &str,
) -> Result<Proposals, ServiceError> {
    let case = case_id(state, actor, case).await?;
    Ok(state
        .store
        .propose_contact_orders(
            &case,
            &policy(),
            state.config.default_time_zone,
            state.now(),
            actor.name(),
        )
        .await?)
}

/// Issues (or extends) the orders of the case's close contacts.
pub async fn issue_orders(
    state: &AppState,
    actor: &Actor,
    case: &str,
) -> Result<Proposals, ServiceError> {
    let case = case_id(state, actor, case).await?;
    Ok(state
        .store
        .issue_contact_orders(
            &case,
            &policy(),
            state.config.default_time_zone,
            state.now(),
            actor.name(),
        )
        .await?)
}

/// Appends a revised result to test `test_id` and runs the cascade.
pub async fn revise_test(
    state: &AppState,
    actor: &Actor,
    test_id: &str,
    result: TestOutcome,
    reason: &str,
) -> Result<RevisionReport, ServiceError> {
    let not_found = || ServiceError::not_found("test", test_id);
    let id = TestId::parse(test_id).map_err(|_| not_found())?;
    if actor.districts().limit().is_some() {
        // The test belongs to its person's district.
        let test = state
            .store
            .get_test_result(&id)
            .await?
            .ok_or_else(not_found)?;
        case_id(state, actor, test.person_id.as_str())
            .await
            .map_err(|_| not_found())?;
    }
    Ok(state
        .store
        .revise_test(&id, result, reason, state.now(), actor.name())
        .await?)
}

/// The transmission chains over every stored case and contact.
pub struct Chains {
    pub cases: usize,
    pub contact_edges: usize,
    pub chains: Vec<Chain>,
}

/// Builds the transmission chains of the cases in the actor's districts;
/// the read is audited.
pub async fn chains(state: &AppState, actor: &Actor) -> Result<Chains, ServiceError> {
    let (cases, edges) = state.store.chain_graph_in(actor.districts()).await?;
    let chains = build_chains(&cases, &edges);
    let audit = actor.audit(
        state.now(),
        "chains.read",
        "chains",
        "*",
        format!("cases={} edges={}", cases.len(), edges.len()),
    );
    state.store.record_audit(&audit).await?;
    Ok(Chains {
        cases: cases.len(),
        contact_edges: edges.len(),
        chains,
    })
}
