//! Symptom reports: an officer issues a form now (the worker issues one a
//! day), the person answers it with the form's token, officers list an
//! order's reports. A symptomatic report opens an alert for an investigator
//! in the same transaction.

use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{AlertId, SymptomReportId};
use lazaret_core::order::OrderStatus;
use lazaret_core::symptom::{SymptomAnswer, SymptomReport};
use lazaret_core::ValidationError;
use lazaret_store::NewAlert;

use crate::prompting::IssueError;
use crate::services::subject::{open_symptom_form, Credential, SubjectToken};
use crate::services::{Actor, ServiceError};
use crate::state::AppState;
use crate::symptom_forms::{issue_symptom_form, FormFor, IssuedForm};

/// The person's answer to a form, as the front end read it.
#[derive(Debug, Clone)]
pub struct SubmitSymptomReport {
    /// The form's token from the link: the person's credential.
    pub token: String,
    /// `none`, or the symptoms ticked (`fever`, `cough`, …, `other`).
    pub symptoms: Vec<String>,
    /// What `other` is (at most 500 characters).
    pub other: Option<String>,
    /// Measured body temperature in °C.
    pub temperature_c: Option<f32>,
}

/// Issues a form for the active order `order_id` now, announced to the
/// person when a notifier runs (else the officer relays the token).
pub async fn issue_form(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<IssuedForm, ServiceError> {
    let order = state.load_order_for(actor, order_id).await?;
    if order.status != OrderStatus::Active {
        return Err(ServiceError::OrderState {
            order: order_id.to_owned(),
            status: order.status,
            rule: "only active orders get symptom forms",
        });
    }
    let now = state.now();
    let slot = || format!("now:{}", uuid::Uuid::new_v4());
    let (store, announcer) = (&state.store, state.announcer.as_deref());
    let actor = actor.name();
    let issued = match issue_symptom_form(
        store,
        announcer,
        FormFor::Order(&order),
        &slot(),
        now,
        actor,
    )
    .await
    {
        Err(IssueError::Announce(e)) => {
            // The officer holds the token and can relay it.
            tracing::warn!(error = %e, "could not announce the symptom form to the person");
            issue_symptom_form(store, None, FormFor::Order(&order), &slot(), now, actor).await
        }
        other => other,
    }?;
    // A fresh slot is never taken.
    issued.ok_or(ServiceError::Internal)
}

/// Records the person's report for the form behind the token, with the
/// alert a symptomatic report opens and the audit event, in one store call.
pub async fn submit_report(
    state: &AppState,
    req: SubmitSymptomReport,
) -> Result<SymptomReport, ServiceError> {
    let form = SubjectToken::admitted(state, Credential::SymptomForm, &req.token)?
        .symptom_form(&state.store)
        .await?;
    let now = state.now();
    open_symptom_form(&form, now)?;
    let ticked: Vec<&str> = req.symptoms.iter().map(String::as_str).collect();
    let answer = SymptomAnswer::parse(&ticked, req.other.as_deref())?;
    if let Some(t) = req.temperature_c {
        if !(30.0..=45.0).contains(&t) {
            return Err(ValidationError::new(
                "temperature_c",
                "must be a body temperature between 30 and 45 °C",
            )
            .into());
        }
    }
    // Whose form: a person in quarantine (their order) or a contact
    // monitored without one (their follow-up).
    let (person_id, order_id, follow_up_id) = match (&form.order_id, &form.follow_up_id) {
        (Some(o), _) => {
            let order = state.load_order(o.as_str()).await?;
            (order.person_id, Some(order.id), None)
        }
        (None, Some(f)) => {
            let fu = state
                .store
                .get_follow_up(f, &DistrictScope::All)
                .await?
                .ok_or(ServiceError::Internal)?;
            (fu.person_id, None, Some(fu.id))
        }
        (None, None) => return Err(ServiceError::Internal),
    };
    let report = SymptomReport {
        id: SymptomReportId::generate(),
        order_id: order_id.clone(),
        follow_up_id: follow_up_id.clone(),
        person_id: person_id.clone(),
        day: form.day,
        symptoms: answer.symptoms,
        other: answer.other,
        temperature_c: req.temperature_c,
        received_at: now,
    };
    // The triage item: its severity orders the investigators' queue.
    let alert = report.severity().map(|severity| NewAlert {
        id: AlertId::generate(),
        kind: AlertKind::Symptomatic,
        person_id: person_id.clone(),
        order_id: order_id.clone(),
        cause: format!("symptoms:{}", report.id),
        evidence: serde_json::json!({
            "report_id": report.id,
            "day": report.day,
            "symptoms": report.symptoms.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "other": report.other,
            "temperature_c": report.temperature_c,
            "received_at": report.received_at,
            "severity": severity.as_str(),
            "monitoring": follow_up_id,
        }),
        at: now,
    });
    let (subject_type, subject_id) = match &order_id {
        Some(o) => ("order", o.to_string()),
        None => ("person", person_id.to_string()),
    };
    let audit = AuditRecord {
        at: now,
        actor: format!("subject:symptom-form:{}", form.id),
        action: "symptom_report.submit".into(),
        subject_type: subject_type.into(),
        subject_id,
        details: format!(
            "report={} day={} symptomatic={}",
            report.id,
            report.day,
            report.is_symptomatic()
        ),
    };
    if !state
        .store
        .submit_symptom_report(&form.id, &report, alert.as_ref(), &audit)
        .await?
    {
        // A concurrent submission with the same token won.
        return Err(ServiceError::TokenUsed(Credential::SymptomForm));
    }
    Ok(report)
}

/// The reports of order `order_id`, newest first (at most 500); the read
/// is audited with the ids shown.
pub async fn list_reports(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<Vec<SymptomReport>, ServiceError> {
    let order = state.load_order_for(actor, order_id).await?;
    let reports = state.store.symptom_reports_of_order(&order.id, 500).await?;
    let ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    let audit = actor.audit(
        state.now(),
        "symptom_report.list",
        "order",
        order_id,
        ids.join(","),
    );
    state.store.record_audit(&audit).await?;
    Ok(reports)
}
