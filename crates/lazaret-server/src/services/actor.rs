//! Who a use case acts for, as a plain value: the JSON API passes the
//! officer behind an API token, the console will pass its session's
//! officer, and no service sees an axum extractor.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::user::Role;

/// The officer a use case acts for: the name the audit log gives them, their
/// role and the districts they work in (a service limits what it reads and
/// changes to those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    name: String,
    role: Role,
    districts: DistrictScope,
}

impl Actor {
    pub fn new(name: impl Into<String>, role: Role, districts: DistrictScope) -> Self {
        Self {
            name: name.into(),
            role,
            districts,
        }
    }

    /// The audit log's name for this actor.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The districts this actor may see and change.
    pub fn districts(&self) -> &DistrictScope {
        &self.districts
    }

    /// The actor's districts narrowed to `wanted` when a caller asks for
    /// some (a filter): what lies outside the actor's own never comes back.
    pub fn narrow(&self, wanted: Option<&DistrictScope>) -> DistrictScope {
        match (&self.districts, wanted) {
            (mine, None) | (mine, Some(DistrictScope::All)) => mine.clone(),
            (DistrictScope::All, Some(w)) => w.clone(),
            (DistrictScope::Only(mine), Some(DistrictScope::Only(w))) => {
                DistrictScope::Only(mine.intersection(w).cloned().collect())
            }
        }
    }

    /// An audit record of something this actor did.
    pub fn audit(
        &self,
        at: DateTime<Utc>,
        action: &str,
        subject_type: &str,
        subject_id: &str,
        details: String,
    ) -> AuditRecord {
        AuditRecord {
            at,
            actor: self.name.clone(),
            action: action.to_owned(),
            subject_type: subject_type.to_owned(),
            subject_id: subject_id.to_owned(),
            details,
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}
