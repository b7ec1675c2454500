//! What is held about the person, for the person (`/my-data`): their
//! details, orders (place and period), check-in requests with each try's
//! outcome and time, symptom reports, the messages sent to them (redacted
//! bodies) and the officers' work on their record from the audit log.
//!
//! The credential is any link the person was sent (check-in prompt, symptom
//! form, self-enrolment), whatever its state (answered, expired, replaced):
//! it says who they are. It opens their data until [`GRACE_DAYS`] after the
//! order it came with ended (or is to end); after that the person asks the
//! authority (an officer's export). Every access is audited
//! (`person.self_access`, acting as the link).
//!
//! Left out on purpose: a check-in's evidence (face distance, threshold,
//! coordinates, distance from home) and the order's fence (coordinates,
//! radius) are the officers' evidence; the answer never reveals the fence
//! (issue #15's rule). No template, token hash or live link either.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{FollowUpId, OrderId, TokenId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::services::subject::{Credential, SubjectToken};
use crate::services::ServiceError;
use crate::state::AppState;

/// How long after the link's order ended the link still opens the data.
pub const GRACE_DAYS: i64 = 14;

/// Everything the page shows, and the download.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyData {
    pub generated_at: DateTime<Utc>,
    /// Until when the link that asked opens this.
    pub access_until: DateTime<Utc>,
    pub person: MyPerson,
    /// Oldest first.
    pub orders: Vec<MyOrder>,
    /// Check-in requests, oldest first, each with its tries.
    pub checkins: Vec<MyCheckinRequest>,
    pub symptom_reports: Vec<MySymptomReport>,
    pub messages: Vec<MyMessage>,
    /// Officers' reads and changes of the record, oldest first.
    pub access_log: Vec<MyAccess>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyPerson {
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The language of their messages (`en`, `ar`, …).
    pub language: String,
}

/// An order: the place as its address and the period; not the fence.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyOrder {
    pub id: String,
    pub address: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// When it ended early or ran out (`completed`, `released`).
    pub ended_at: Option<DateTime<Utc>>,
    pub time_zone: String,
    /// `proposed`, `active`, `completed` or `released`.
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyCheckinRequest {
    pub order_id: String,
    pub issued_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// `open`, `answered`, `missed`, `cancelled` or `not_delivered`.
    pub status: String,
    pub tries: Vec<MyTry>,
}

/// One try: its outcome and time only.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyTry {
    pub received_at: DateTime<Utc>,
    /// `verified`, `face_mismatch`, `outside_geofence`, … (no evidence).
    pub outcome: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MySymptomReport {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub symptoms: Vec<String>,
    pub other: Option<String>,
    pub temperature_c: Option<f64>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyMessage {
    /// `checkin_prompt`, `symptom_form`, `enrollment_link`, …
    pub kind: String,
    /// `sms` or `email`.
    pub channel: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    /// The copy kept: links are `[removed]`.
    pub body: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One entry of the audit log about the record, by an officer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyAccess {
    pub at: DateTime<Utc>,
    pub who: Who,
    /// The audit log's action (`person.read`, `order.extend`, …).
    pub action: String,
    /// The action in plain words' terms: `viewed`, `viewed_health`,
    /// `viewed_photo`, `changed`, `order`, `checkins`, `alert` or `other`.
    pub category: String,
}

/// Who acted: an officer's account and role, a connected system (a
/// service token) and its role, or a command on the server.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Who {
    /// `officer`, `service`, `administrator` or `other`.
    pub kind: String,
    /// The account's name (officers), else the actor as logged.
    pub name: Option<String>,
    /// `investigator`, `compliance_officer`, … when known.
    pub role: Option<String>,
}

/// The sections of the store's per-person document this reads.
const SECTIONS: &[&str] = &[
    "orders",
    "prompts",
    "checkins",
    "symptom_reports",
    "messages",
    "audit_events",
];

/// The person's data for the link `token` (see the module's rules), audited.
pub async fn my_data(state: &AppState, token: &str) -> Result<MyData, ServiceError> {
    let credential = credential_of(token);
    let token = SubjectToken::admitted(state, credential, token)?;
    let store = &state.store;
    // What the link belongs to: an order, or a contact's monitoring.
    let (held, link): (Held, String) = match credential {
        Credential::Prompt => {
            let p = token.prompt(store).await?;
            (Held::Order(p.order_id), format!("prompt:{}", p.id))
        }
        Credential::SymptomForm => {
            let f = token.symptom_form(store).await?;
            let held = match (f.order_id, f.follow_up_id) {
                (Some(o), _) => Held::Order(o),
                (None, Some(m)) => Held::Monitoring(m),
                (None, None) => return Err(token.unknown()),
            };
            (held, format!("symptom-form:{}", f.id))
        }
        Credential::EnrollmentLink => {
            let l = token.enrollment_link(store).await?;
            (Held::Order(l.order_id), format!("enrollment-link:{}", l.id))
        }
        Credential::Link => return Err(token.unknown()),
    };
    let now = state.now();
    let (person_id, order_id, planned_end) = match &held {
        Held::Order(id) => {
            let order = store.get_order(id).await?.ok_or_else(|| token.unknown())?;
            (order.person_id, Some(id.clone()), order.ends_at)
        }
        Held::Monitoring(id) => {
            let f = store
                .get_follow_up(id, &DistrictScope::All)
                .await?
                .ok_or_else(|| token.unknown())?;
            let end = f.closed_at.or(f.monitor_until).unwrap_or(now);
            (f.person_id, None, end)
        }
    };
    let doc = store
        .person_sections(&person_id, &DistrictScope::All, SECTIONS)
        .await?
        .ok_or_else(|| token.unknown())?;
    let orders: Vec<MyOrder> = items(&doc, "orders").iter().filter_map(order_of).collect();
    // The link's order ends when it ended, else when it is to end; a
    // monitoring when it ended or is to end.
    let end = orders
        .iter()
        .find(|o| order_id.as_ref().is_some_and(|id| o.id == id.as_str()))
        .map_or(planned_end, |o| o.ended_at.unwrap_or(o.ends_at));
    let access_until = end + Duration::days(GRACE_DAYS);
    if now > access_until {
        return Err(ServiceError::DataAccessOver);
    }
    let data = MyData {
        generated_at: now,
        access_until,
        person: person_of(&doc),
        orders,
        checkins: checkins_of(&doc),
        symptom_reports: items(&doc, "symptom_reports")
            .iter()
            .filter_map(report_of)
            .collect(),
        messages: items(&doc, "messages")
            .iter()
            .filter_map(message_of)
            .collect(),
        access_log: access_log_of(state, &doc).await?,
    };
    // Written before the answer leaves: a read that cannot be audited is
    // not answered.
    let audit = AuditRecord {
        at: now,
        actor: format!("subject:{link}"),
        action: "person.self_access".into(),
        subject_type: "person".into(),
        subject_id: person_id.to_string(),
        details: match &held {
            Held::Order(id) => format!("order={id}"),
            Held::Monitoring(id) => format!("follow_up={id}"),
        },
    };
    store.record_audit(&audit).await?;
    Ok(data)
}

/// What a person's link belongs to.
enum Held {
    Order(OrderId),
    Monitoring(FollowUpId),
}

/// Which kind of link a token is, by its prefix (`lzp_`, `lzs_`, `lze_`).
fn credential_of(token: &str) -> Credential {
    match token.trim().split_once('_').map(|(p, _)| p) {
        Some("lzp") => Credential::Prompt,
        Some("lzs") => Credential::SymptomForm,
        Some("lze") => Credential::EnrollmentLink,
        _ => Credential::Link,
    }
}

fn items<'a>(doc: &'a Value, section: &str) -> &'a [Value] {
    doc.get(section)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn time(v: &Value, field: &str) -> Option<DateTime<Utc>> {
    v.get(field)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn person_of(doc: &Value) -> MyPerson {
    let p = doc.get("person").unwrap_or(&Value::Null);
    MyPerson {
        full_name: text(p, "full_name").unwrap_or_default(),
        phone: text(p, "phone"),
        email: text(p, "email"),
        language: text(p, "language").unwrap_or_else(|| "en".into()),
    }
}

fn order_of(v: &Value) -> Option<MyOrder> {
    Some(MyOrder {
        id: text(v, "id")?,
        address: text(v, "address").unwrap_or_default(),
        starts_at: time(v, "starts_at")?,
        ends_at: time(v, "ends_at")?,
        ended_at: time(v, "ended_at"),
        time_zone: text(v, "time_zone").unwrap_or_default(),
        status: text(v, "status")?,
    })
}

fn checkins_of(doc: &Value) -> Vec<MyCheckinRequest> {
    let mut tries: HashMap<String, Vec<MyTry>> = HashMap::new();
    for c in items(doc, "checkins") {
        if let (Some(prompt), Some(received_at), Some(outcome)) = (
            text(c, "prompt_id"),
            time(c, "received_at"),
            text(c, "outcome"),
        ) {
            tries.entry(prompt).or_default().push(MyTry {
                received_at,
                outcome,
            });
        }
    }
    items(doc, "prompts")
        .iter()
        .filter_map(|p| {
            let id = text(p, "id")?;
            Some(MyCheckinRequest {
                order_id: text(p, "order_id")?,
                issued_at: time(p, "issued_at")?,
                deadline: time(p, "deadline")?,
                status: text(p, "status")?,
                tries: tries.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

fn report_of(v: &Value) -> Option<MySymptomReport> {
    Some(MySymptomReport {
        day: text(v, "day")?.parse().ok()?,
        symptoms: v
            .get("symptoms")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        other: text(v, "other"),
        temperature_c: v.get("temperature_c").and_then(Value::as_f64),
        received_at: time(v, "received_at")?,
    })
}

fn message_of(v: &Value) -> Option<MyMessage> {
    Some(MyMessage {
        kind: text(v, "kind")?,
        channel: text(v, "channel")?,
        recipient: text(v, "recipient"),
        subject: text(v, "subject"),
        body: text(v, "body_redacted"),
        status: text(v, "status")?,
        created_at: time(v, "created_at")?,
        sent_at: time(v, "sent_at"),
    })
}

/// The audit entries about the record by officers (and commands on the
/// server); the person's own answers and the system's work are shown in
/// their sections instead.
async fn access_log_of(state: &AppState, doc: &Value) -> Result<Vec<MyAccess>, ServiceError> {
    let mut roles: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::new();
    for e in items(doc, "audit_events") {
        let (Some(actor), Some(action), Some(at)) =
            (text(e, "actor"), text(e, "action"), time(e, "at"))
        else {
            continue;
        };
        if actor.starts_with("subject:") || actor.starts_with("system") {
            continue;
        }
        let who = match who_of(state, &actor, &mut roles).await? {
            Some(w) => w,
            None => continue,
        };
        out.push(MyAccess {
            at,
            who,
            category: category(&action).to_owned(),
            action,
        });
    }
    Ok(out)
}

/// `user:<name>[/token:<id>]` is an officer, `token:<id>` a service token,
/// `cli:…` a command on the server; their roles as the store has them now.
async fn who_of(
    state: &AppState,
    actor: &str,
    roles: &mut HashMap<String, Option<String>>,
) -> Result<Option<Who>, ServiceError> {
    let store = &state.store;
    if let Some(rest) = actor.strip_prefix("user:") {
        let name = rest.split('/').next().unwrap_or(rest).to_owned();
        let role = match roles.get(&name) {
            Some(r) => r.clone(),
            None => {
                let r = store
                    .get_user_by_name(&name)
                    .await?
                    .map(|u| u.role.as_str().to_owned());
                roles.insert(name.clone(), r.clone());
                r
            }
        };
        return Ok(Some(Who {
            kind: "officer".into(),
            name: Some(name),
            role,
        }));
    }
    if let Some(id) = actor.strip_prefix("token:") {
        let role = match TokenId::parse(id) {
            Ok(id) => store
                .get_token(&id)
                .await?
                .map(|t| t.role.as_str().to_owned()),
            Err(_) => None,
        };
        return Ok(Some(Who {
            kind: "service".into(),
            name: None,
            role,
        }));
    }
    if actor.starts_with("cli:") || actor == "cli" {
        return Ok(Some(Who {
            kind: "administrator".into(),
            name: None,
            role: None,
        }));
    }
    Ok(Some(Who {
        kind: "other".into(),
        name: Some(actor.to_owned()),
        role: None,
    }))
}

/// An audit action in the page's terms (`js.md_act.<category>`).
fn category(action: &str) -> &'static str {
    match action {
        "person.read" | "person.history" | "person.export" | "case.read" | "order.read"
        | "alert.read" | "chains.read" => "viewed",
        "symptom_report.list" => "viewed_health",
        "enrollment.photo_read" => "viewed_photo",
        "person.create" | "person.update" | "test.revise" | "contacts.trace" => "changed",
        "enrollment.create"
        | "enrollment.link_create"
        | "enrollment.approve"
        | "enrollment.reject"
        | "symptoms.issue"
        | "symptom_form.issue"
        | "prompt.issue" => "checkins",
        a if a.starts_with("order.") => "order",
        a if a.starts_with("alert.") => "alert",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_told_apart_by_prefix() {
        assert_eq!(credential_of(" lzp_ab "), Credential::Prompt);
        assert_eq!(credential_of("lzs_ab"), Credential::SymptomForm);
        assert_eq!(credential_of("lze_ab"), Credential::EnrollmentLink);
        assert_eq!(credential_of("lzt_ab_cd"), Credential::Link);
        assert_eq!(credential_of("nonsense"), Credential::Link);
    }

    #[test]
    fn actions_in_plain_terms() {
        assert_eq!(category("person.history"), "viewed");
        assert_eq!(category("symptom_report.list"), "viewed_health");
        assert_eq!(category("enrollment.photo_read"), "viewed_photo");
        assert_eq!(category("order.extend"), "order");
        assert_eq!(category("order.read"), "viewed");
        assert_eq!(category("alert.resolve"), "alert");
        assert_eq!(category("keys.reseal"), "other");
    }

    #[test]
    fn a_try_keeps_its_outcome_and_time_only() {
        let doc = serde_json::json!({
            "prompts": [{"id": "p1", "order_id": "o1", "issued_at": "2026-03-10T08:00:00Z",
                         "deadline": "2026-03-10T08:30:00Z", "status": "answered"}],
            "checkins": [{"id": "c1", "prompt_id": "p1", "attempt": 1,
                          "received_at": "2026-03-10T08:05:00Z", "outcome": "outside_geofence",
                          "evidence": {"distance_m": 812.0, "radius_m": 150.0, "lat": 47.1, "lon": 8.5}}],
        });
        let requests = checkins_of(&doc);
        let json = serde_json::to_string(&requests).unwrap();
        assert!(json.contains("outside_geofence"), "{json}");
        for secret in ["812", "150", "47.1", "distance", "radius", "evidence"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
    }
}
