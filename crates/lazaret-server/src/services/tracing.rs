//! Contact tracing, the same operations as `lazaret trace|orders|tests|
//! chains`: trace a case, propose or issue its contacts' orders, revise a
//! test result (the cascade releases or shortens what rested on it), and
//! the transmission chains. Contacts are selected by exposure only; every
//! call is audited (by the store, or here for the chains).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::chains::{build_chains, Chain};
use lazaret_core::contact::Contact;
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::exposure_rules::{infectious_window, Window};
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::person::Person;
use lazaret_core::test_result::{TestOutcome, TestResult};
use lazaret_core::tracing_policy::TracingPolicy;
use lazaret_store::{
    CaseRow, Page, PageRequest, Proposals, RevisionMode, RevisionReport, TraceOutcome,
};
use sha2::{Digest, Sha256};

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// The server traces with the built-in rules; a policy file applies to the
/// command line.
pub(crate) fn policy() -> TracingPolicy {
    TracingPolicy::default()
}

/// The fence radius (metres) of a new contact order under the built-in rules.
pub fn contact_fence_radius_m() -> f64 {
    policy().quarantine.geofence_radius_m
}

/// The case `raw` names: 404 when it cannot be a person id, or, for an
/// officer limited to some districts, when the person is not in one of them
/// (a national officer may trace a case known only from imported tests).
pub(crate) async fn case_id(
    state: &AppState,
    actor: &Actor,
    raw: &str,
) -> Result<PersonId, ServiceError> {
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

/// The infectious window of `test` under the server's rules.
pub(crate) fn window_of(test: &TestResult) -> Window {
    infectious_window(test, &policy().window)
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

/// What an officer may see of a proposal: for a contact outside their
/// districts only that the contact and the order exist and where (the
/// district); address and coordinates are left out (that district's
/// officers hold them). The API's answer and the console's preview alike.
pub fn redact_proposals(p: &mut Proposals, scope: &DistrictScope) {
    for x in &mut p.proposals {
        if !scope.covers(&x.district) {
            x.address = None;
            x.coordinates = None;
        }
    }
}

/// A short digest of a proposal as the officer saw it (after
/// [`redact_proposals`]): who gets which order, from and to when, where,
/// in which district and zone. A new order's start is left out (it is the
/// moment of issuing).
pub fn proposal_fingerprint(p: &Proposals) -> String {
    let items: Vec<serde_json::Value> = p
        .proposals
        .iter()
        .map(|x| {
            serde_json::json!([
                x.person_id,
                x.action,
                x.order_id,
                x.basis,
                x.basis_ends_at,
                (x.action != lazaret_store::ProposalAction::Create).then_some(x.starts_at),
                x.ends_at,
                x.address,
                x.coordinates.map(|c| (c.lat(), c.lon())),
                x.time_zone.name(),
                x.district,
            ])
        })
        .collect();
    let test = p.trace.test.as_ref().map(|t| t.id.as_str());
    digest(&serde_json::json!([p.trace.case_id, test, items]))
}

/// A short digest of what a revision's cascade does: the result, the orders
/// released (and what each end closes) or kept (with their new end and
/// bases), the contacts withdrawn.
pub fn revision_fingerprint(r: &RevisionReport) -> String {
    digest(&serde_json::json!([
        r.test.id,
        r.test.result.as_str(),
        r.released,
        r.kept,
        r.contacts_withdrawn,
    ]))
}

fn digest(v: &serde_json::Value) -> String {
    hex::encode(&Sha256::digest(v.to_string().as_bytes())[..16])
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

/// Issues exactly the proposal an officer previewed: the fresh proposal
/// (redacted for the officer, as shown) must have `fingerprint`, else
/// nothing is issued and the answer is a conflict.
pub async fn issue_previewed(
    state: &AppState,
    actor: &Actor,
    case: &str,
    fingerprint: &str,
) -> Result<Proposals, ServiceError> {
    let case = case_id(state, actor, case).await?;
    let scope = actor.districts().clone();
    let accept = move |p: &Proposals| {
        let mut seen = p.clone();
        redact_proposals(&mut seen, &scope);
        proposal_fingerprint(&seen) == fingerprint
    };
    Ok(state
        .store
        .issue_contact_orders_if(
            &case,
            &policy(),
            state.config.default_time_zone,
            state.now(),
            actor.name(),
            Some(&accept),
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
    revise(state, actor, test_id, result, reason, RevisionMode::Commit).await
}

/// What [`revise_test`] would do, through the same cascade in a
/// transaction that is rolled back; the preview is audited as a read
/// (`test.revise.preview`).
pub async fn preview_revision(
    state: &AppState,
    actor: &Actor,
    test_id: &str,
    result: TestOutcome,
    reason: &str,
) -> Result<RevisionReport, ServiceError> {
    let r = revise(state, actor, test_id, result, reason, RevisionMode::DryRun).await?;
    let audit = actor.audit(
        state.now(),
        "test.revise.preview",
        "test",
        r.test.id.as_str(),
        serde_json::json!({
            "result": result,
            "released": r.released.iter().map(|x| &x.order_id).collect::<Vec<_>>(),
            "kept": r.kept.iter().map(|x| &x.order_id).collect::<Vec<_>>(),
        })
        .to_string(),
    );
    state.store.record_audit(&audit).await?;
    Ok(r)
}

/// [`revise_test`], committed only when the cascade is the one previewed
/// (its [`revision_fingerprint`]); else nothing changes and the answer is
/// a conflict.
pub async fn revise_previewed(
    state: &AppState,
    actor: &Actor,
    test_id: &str,
    result: TestOutcome,
    reason: &str,
    fingerprint: &str,
) -> Result<RevisionReport, ServiceError> {
    let accept = |r: &RevisionReport| revision_fingerprint(r) == fingerprint;
    revise(
        state,
        actor,
        test_id,
        result,
        reason,
        RevisionMode::CommitIf(&accept),
    )
    .await
}

async fn revise(
    state: &AppState,
    actor: &Actor,
    test_id: &str,
    result: TestOutcome,
    reason: &str,
    mode: RevisionMode<'_>,
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
        .revise_test_as(&id, result, reason, state.now(), actor.name(), mode)
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
    let built = select_chains(state, actor, &ChainSelect::All).await?;
    Ok(Chains {
        cases: built.cases,
        contact_edges: built.contact_edges,
        chains: built.chains,
    })
}

/// Which chains to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainSelect {
    /// Every chain of the officer's cases.
    All,
    /// The chain that holds this case (a person of the officer's).
    Case(String),
    /// The chains with a case whose d0 falls in these days (inclusive).
    Days { from: NaiveDate, to: NaiveDate },
}

/// Chains with what the console draws beside them: the members the officer
/// may see (by id; the others are drawn without name or link) and the
/// district of every member.
pub struct SelectedChains {
    pub cases: usize,
    pub contact_edges: usize,
    pub chains: Vec<Chain>,
    pub visible: HashMap<PersonId, Person>,
    pub districts: HashMap<PersonId, District>,
}

/// The chains `select` names among the cases of the actor's districts; the
/// read is audited (`chains.read`, with the selection). A case of another
/// district is not found.
pub async fn select_chains(
    state: &AppState,
    actor: &Actor,
    select: &ChainSelect,
) -> Result<SelectedChains, ServiceError> {
    let wanted = match select {
        ChainSelect::Case(raw) => Some(case_id(state, actor, raw).await?),
        _ => None,
    };
    let (cases, edges) = state.store.chain_graph_in(actor.districts()).await?;
    let d0: HashMap<&PersonId, DateTime<Utc>> =
        cases.iter().map(|c| (&c.person_id, c.day_zero)).collect();
    let mut chains = build_chains(&cases, &edges);
    match select {
        ChainSelect::All => {}
        ChainSelect::Case(_) => {
            let id = wanted.as_ref().expect("a case was parsed");
            chains.retain(|c| c.members.iter().any(|m| &m.person_id == id));
        }
        ChainSelect::Days { from, to } => chains.retain(|c| {
            c.members.iter().filter(|m| m.is_case).any(|m| {
                d0.get(&m.person_id)
                    .is_some_and(|t| (*from..=*to).contains(&t.date_naive()))
            })
        }),
    }
    let ids: Vec<PersonId> = chains
        .iter()
        .flat_map(|c| c.members.iter().map(|m| m.person_id.clone()))
        .collect();
    let visible = state.store.persons_in(&ids, actor.districts()).await?;
    let districts = state.store.person_districts(&ids).await?;
    let selection = match select {
        ChainSelect::All => "*".to_owned(),
        ChainSelect::Case(c) => format!("case={c}"),
        ChainSelect::Days { from, to } => format!("from={from} to={to}"),
    };
    let audit = actor.audit(
        state.now(),
        "chains.read",
        "chains",
        "*",
        format!(
            "cases={} edges={} select={selection} chains={} members={}",
            cases.len(),
            edges.len(),
            chains.len(),
            ids.len()
        ),
    );
    state.store.record_audit(&audit).await?;
    Ok(SelectedChains {
        cases: cases.len(),
        contact_edges: edges.len(),
        chains,
        visible,
        districts,
    })
}

/// A page of the cases of the officer's districts, newest test first; the
/// ids listed are audited (`case.list`).
pub async fn cases(
    state: &AppState,
    actor: &Actor,
    page: &PageRequest,
) -> Result<Page<CaseRow>, ServiceError> {
    let listed = state.store.list_cases(actor.districts(), page).await?;
    let ids: Vec<&str> = listed.items.iter().map(|c| c.person_id.as_str()).collect();
    let audit = actor.audit(state.now(), "case.list", "person", "*", ids.join(","));
    state.store.record_audit(&audit).await?;
    Ok(listed)
}

/// The positive test in force of a case and its stored trace.
pub struct CurrentTest {
    pub test: TestResult,
    /// The infectious window the built-in rules give that test.
    pub window: Window,
    /// When it was last traced (`None`: not yet, or revised since).
    pub traced_at: Option<DateTime<Utc>>,
    /// The contacts that trace stored, by person id.
    pub contacts: Vec<Contact>,
}

/// What the case page shows: the person, their tests (newest first), the
/// test in force with its trace, each contact's district and the contacts
/// the officer may see (the others are shown by id and district only).
pub struct CaseFile {
    pub person: Person,
    pub tests: Vec<TestResult>,
    pub current: Option<CurrentTest>,
    pub districts: HashMap<PersonId, District>,
    pub visible: HashMap<PersonId, Person>,
}

/// Case `id` (a person of the officer's districts, else not found). Audited
/// as `person.read` and `case.read` (the tests and contacts shown).
pub async fn case_file(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<CaseFile, ServiceError> {
    let person = crate::services::persons::read(state, actor, id).await?;
    let tests = state.store.tests_of_person(&person.id).await?;
    let current = match state.store.current_positive_test(&person.id).await? {
        None => None,
        Some(test) => Some(CurrentTest {
            window: infectious_window(&test, &policy().window),
            traced_at: state.store.test_traced_at(&test.id).await?,
            contacts: state.store.contacts_of_test(&test.id).await?,
            test,
        }),
    };
    let ids: Vec<PersonId> = current
        .iter()
        .flat_map(|c| c.contacts.iter().map(|x| x.person_id.clone()))
        .collect();
    let districts = state.store.person_districts(&ids).await?;
    let visible = state.store.persons_in(&ids, actor.districts()).await?;
    let audit = actor.audit(
        state.now(),
        "case.read",
        "person",
        person.id.as_str(),
        serde_json::json!({
            "tests": tests.iter().map(|t| &t.id).collect::<Vec<_>>(),
            "contacts": ids.len(),
        })
        .to_string(),
    );
    state.store.record_audit(&audit).await?;
    Ok(CaseFile {
        person,
        tests,
        current,
        districts,
        visible,
    })
}
