//! Everything held about one person, for an access request
//! (`GET /api/v1/persons/{id}/export`). Secrets stay out: no template (only
//! its metadata), no token hash, no message body with a live link (only the
//! redacted body). Contacts show the person's own exposure, not the case's
//! identity or evidence (another person's data).

use lazaret_core::district::DistrictScope;
use lazaret_core::ids::PersonId;
use serde_json::{Map, Value};
use sqlx::Row;

use crate::db::{from_ms, on_pool, Store};
use crate::error::StoreError;
use crate::scope;

/// One section of the export: its name, the query (`$1` = the person;
/// `{orders}` = "in the person's orders of the officer's districts",
/// `{district}` = "and the row's `district` is one of the officer's", so a
/// person's records kept by another district stay out) and its columns as `name:kind` (`t` text, `i` integer, `f` real, `m` Unix ms
/// shown as RFC 3339, `j` JSON text).
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "orders",
        "SELECT id, address, lat, lon, radius_m, starts_at, ends_at, time_zone, bases, status, \
         status_reason, district, created_at, updated_at, ended_at FROM orders \
         WHERE id {orders} ORDER BY created_at, id",
        "id:t address:t lat:f lon:f radius_m:f starts_at:m ends_at:m time_zone:t bases:j status:t \
         status_reason:t district:t created_at:m updated_at:m ended_at:m",
    ),
    (
        "enrollments",
        "SELECT e.order_id, e.model, e.created_at FROM enrollments e \
         WHERE e.order_id {orders} ORDER BY e.created_at",
        "order_id:t model:t created_at:m",
    ),
    (
        "enrollment_links",
        "SELECT l.id, l.order_id, l.created_by, l.created_at, l.expires_at, l.status, l.model, \
         l.submitted_at, l.decided_at, l.decided_by, l.reason FROM enrollment_links l \
         WHERE l.order_id {orders} ORDER BY l.created_at, l.id",
        "id:t order_id:t created_by:t created_at:m expires_at:m status:t model:t submitted_at:m \
         decided_at:m decided_by:t reason:t",
    ),
    (
        "prompts",
        "SELECT p.id, p.order_id, p.slot, p.issued_at, p.deadline, p.status, \
         CAST(p.attempts AS BIGINT) AS attempts \
         FROM prompts p WHERE p.order_id {orders} ORDER BY p.issued_at, p.id",
        "id:t order_id:t slot:t issued_at:m deadline:m status:t attempts:i",
    ),
    (
        "checkins",
        "SELECT c.id, c.prompt_id, CAST(c.attempt AS BIGINT) AS attempt, c.received_at, c.outcome, c.evidence FROM checkins c \
         JOIN prompts p ON p.id = c.prompt_id \
         WHERE p.order_id {orders} ORDER BY c.received_at, c.id",
        "id:t prompt_id:t attempt:i received_at:m outcome:t evidence:j",
    ),
    (
        "symptom_reports",
        "SELECT id, order_id, follow_up_id, day, symptoms, other, temperature_c, received_at FROM symptom_reports \
         WHERE person_id = $1 AND (order_id IS NULL OR order_id {orders}) ORDER BY received_at, id",
        "id:t order_id:t follow_up_id:t day:t symptoms:j other:t temperature_c:f received_at:m",
    ),
    (
        "alerts",
        "SELECT id, kind, order_id, status, evidence, assignee, resolution, district, created_at, \
         updated_at FROM alerts WHERE person_id = $1 {district} ORDER BY created_at, id",
        "id:t kind:t order_id:t status:t evidence:j assignee:t resolution:t district:t \
         created_at:m updated_at:m",
    ),
    (
        "messages",
        "SELECT id, order_id, kind, channel, language, recipient, subject, body_redacted, status, \
         CAST(attempts AS BIGINT) AS attempts, created_at, sent_at FROM outbox \
         WHERE person_id = $1 AND (order_id IS NULL OR order_id {orders}) ORDER BY created_at, id",
        "id:t order_id:t kind:t channel:t language:t recipient:t subject:t body_redacted:t \
         status:t attempts:i created_at:m sent_at:m",
    ),
    (
        "test_results",
        "SELECT id, sampled_at, result, lab, symptom_onset, revisions, updated_at FROM test_results \
         WHERE person_id = $1 ORDER BY sampled_at, id",
        "id:t sampled_at:m result:t lab:t symptom_onset:t revisions:j updated_at:m",
    ),
    (
        "contact_of",
        "SELECT tier, rules, last_exposure, generation, traced_at FROM contacts \
         WHERE person_id = $1 ORDER BY traced_at",
        "tier:t rules:j last_exposure:m generation:i traced_at:m",
    ),
    (
        "audit_events",
        "SELECT seq, at, actor, action, subject_type, subject_id, details FROM audit_events \
         WHERE (subject_type = 'person' AND subject_id = $1) \
         OR (subject_type = 'order' AND subject_id {orders}) \
         OR (subject_type = 'alert' AND subject_id IN (SELECT id FROM alerts WHERE person_id = $1 {district})) \
         ORDER BY seq",
        "seq:i at:m actor:t action:t subject_type:t subject_id:t details:t",
    ),
];

/// Sections only the console's person page reads (not part of the export:
/// the export keeps its shape): the contacts traced from the person as a
/// case, counted by tier (another person's identity stays out).
const EXTRA_SECTIONS: &[(&str, &str, &str)] = &[(
    "traced_by_tier",
    "SELECT tier, COUNT(*) AS n FROM contacts WHERE case_id = $1 GROUP BY tier ORDER BY tier",
    "tier:t n:i",
)];

/// The names of the export's sections, in order.
pub fn export_sections() -> Vec<&'static str> {
    SECTIONS.iter().map(|s| s.0).collect()
}

macro_rules! row_json {
    ($r:expr, $table:expr, $cols:expr) => {{
        let r = $r;
        let mut obj = Map::new();
        for spec in $cols.split_whitespace() {
            let (name, kind) = spec.split_once(':').expect("name:kind");
            let v = match kind {
                "t" => r.try_get::<Option<String>, _>(name)?.map(Value::from),
                "i" => r.try_get::<Option<i64>, _>(name)?.map(Value::from),
                "f" => r.try_get::<Option<f64>, _>(name)?.map(Value::from),
                "m" => match r.try_get::<Option<i64>, _>(name)? {
                    Some(ms) => Some(Value::from(from_ms($table, ms)?.to_rfc3339())),
                    None => None,
                },
                _ => match r.try_get::<Option<String>, _>(name)? {
                    Some(s) => Some(serde_json::from_str(&s).unwrap_or(Value::String(s))),
                    None => None,
                },
            };
            obj.insert(name.to_owned(), v.unwrap_or(Value::Null));
        }
        Value::Object(obj)
    }};
}

impl Store {
    /// What is held about person `id` as one JSON document (sections as in
    /// the module's `SECTIONS`, plus `person` and the number of contacts traced from the
    /// person as a case); `None` when the person is unknown or outside
    /// `districts`.
    pub async fn export_person(
        &self,
        id: &PersonId,
        districts: &DistrictScope,
    ) -> Result<Option<Value>, StoreError> {
        let Some(mut doc) = self
            .person_sections(id, districts, &export_sections())
            .await?
        else {
            return Ok(None);
        };
        let traced: i64 = on_pool!(self, pool => {
            sqlx::query("SELECT COUNT(*) AS n FROM contacts WHERE case_id = $1")
                .bind(id.as_str())
                .fetch_one(pool)
                .await?
                .try_get("n")?
        });
        if let Value::Object(map) = &mut doc {
            map.insert("contacts_traced_as_case".into(), Value::from(traced));
        }
        Ok(Some(doc))
    }

    /// `person` and the named sections (of the export's, or
    /// `traced_by_tier`) of what is held about person `id`, each limited to
    /// `districts` as in the export; an unknown name is left out. `None`
    /// when the person is unknown or outside `districts`. A section not
    /// named is not read at all (a role without health access never has
    /// those rows fetched).
    pub async fn person_sections(
        &self,
        id: &PersonId,
        districts: &DistrictScope,
        names: &[&str],
    ) -> Result<Option<Value>, StoreError> {
        let Some(p) = self.get_person_in(id, districts).await? else {
            return Ok(None);
        };
        let mut doc = Map::new();
        doc.insert(
            "person".into(),
            serde_json::json!({
                "id": p.id, "full_name": p.full_name, "phone": p.phone, "email": p.email,
                "language": p.language, "district": p.district,
            }),
        );
        let (in_district, values) = scope::clause("district", districts, 2);
        let orders = format!("IN (SELECT id FROM orders WHERE person_id = $1{in_district})");
        let chosen = SECTIONS
            .iter()
            .chain(EXTRA_SECTIONS)
            .filter(|s| names.contains(&s.0));
        on_pool!(self, pool => {
            for (name, sql, cols) in chosen {
                let scoped = sql.contains("{orders}") || sql.contains("{district}");
                let sql = sql.replace("{orders}", &orders).replace("{district}", &in_district);
                let mut q = sqlx::query(&sql).bind(id.as_str());
                if scoped {
                    for v in &values {
                        q = q.bind(v);
                    }
                }
                let rows = q.fetch_all(pool).await?;
                let mut items = Vec::with_capacity(rows.len());
                for r in &rows {
                    items.push(row_json!(r, "export", cols));
                }
                doc.insert((*name).to_owned(), Value::Array(items));
            }
            Ok::<(), StoreError>(())
        })?;
        Ok(Some(Value::Object(doc)))
    }
}
