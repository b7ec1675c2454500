//! Quarantine orders and their lifecycle.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::district::District;
use crate::error::{DomainError, ValidationError};
use crate::geo::Geofence;
use crate::ids::{OrderId, PersonId, TestId};
use crate::person::Address;

/// Longest order Lazaret will issue in one go; longer needs an extension,
/// which is a fresh, recorded decision.
pub const MAX_ORDER_DAYS: i64 = 60;

/// Why an order exists. An order can rest on several bases; when a revision
/// removes the last one, the order is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderBasis {
    /// Arrival from an area under a travel measure (about where the person
    /// was, never who they are).
    Arrival { area: String },
    /// Close contact of a case, resting on that case's positive test.
    Contact { case_id: PersonId, test_id: TestId },
    /// The person's own positive test (isolation).
    PositiveTest { test_id: TestId },
}

impl OrderBasis {
    /// The test this basis rests on, if any.
    pub fn test_id(&self) -> Option<&TestId> {
        match self {
            Self::Arrival { .. } => None,
            Self::Contact { test_id, .. } | Self::PositiveTest { test_id } => Some(test_id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Computed by tracing, awaiting an officer's decision.
    Proposed,
    Active,
    /// Ran to its end.
    Completed,
    /// Ended early by a person's decision (or a revision that removed its basis).
    Released,
}

impl OrderStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Released => "released",
        }
    }

    pub fn can_become(&self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Proposed, Active) | (Proposed, Released) | (Active, Completed) | (Active, Released)
        )
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Released)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "proposed" => Ok(Self::Proposed),
            "active" => Ok(Self::Active),
            "completed" => Ok(Self::Completed),
            "released" => Ok(Self::Released),
            other => Err(ValidationError::new(
                "status",
                format!("{other:?} is not one of proposed, active, completed, released"),
            )),
        }
    }
}

/// An IANA time zone name such as `Europe/Zurich`; prompts are placed in the
/// order's local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            ValidationError::new(
                "time_zone",
                format!("{raw:?} is not an IANA time zone like Europe/Zurich"),
            )
        })
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::UTC)
    }
}

impl TryFrom<String> for TimeZone {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TimeZone> for String {
    fn from(t: TimeZone) -> String {
        t.name().to_owned()
    }
}

/// A quarantine order as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineOrder {
    pub id: OrderId,
    pub person_id: PersonId,
    pub address: Address,
    pub geofence: Geofence,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: TimeZone,
    pub bases: Vec<OrderBasis>,
    pub status: OrderStatus,
    /// Why it was released, when it was.
    pub status_reason: Option<String>,
    /// The district the order belongs to; what follows from it (prompts,
    /// check-ins, forms, alerts, messages) belongs there too.
    /// Serialised before districts existed: `unassigned`.
    #[serde(default = "District::unassigned")]
    pub district: District,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Checks the period of an order.
pub fn validate_period(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<(), ValidationError> {
    if ends_at <= starts_at {
        return Err(ValidationError::new("ends_at", "must be after starts_at"));
    }
    if ends_at - starts_at > Duration::days(MAX_ORDER_DAYS) {
        return Err(ValidationError::new(
            "ends_at",
            format!("an order lasts at most {MAX_ORDER_DAYS} days; extend it later if needed"),
        ));
    }
    Ok(())
}

impl QuarantineOrder {
    /// Moves the order to `to`, refusing transitions the lifecycle does not
    /// allow (a completed order never becomes active again).
    pub fn transition(
        &mut self,
        to: OrderStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if !self.status.can_become(to) {
            return Err(DomainError::IllegalTransition {
                entity: "order",
                from: self.status.to_string(),
                to: to.to_string(),
            });
        }
        if to == OrderStatus::Released && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(ValidationError::new("reason", "releasing an order needs a reason").into());
        }
        if let Some(r) = reason {
            crate::audit::check_reason("reason", r)?;
        }
        self.status = to;
        self.status_reason = reason.map(|r| r.trim().to_owned());
        self.updated_at = at;
        Ok(())
    }

    /// Folds another basis for the same person into this order (a person
    /// has at most one active order): the basis is added if new and the end
    /// moves to the later of the two. Returns whether anything changed.
    pub fn add_basis(
        &mut self,
        basis: &OrderBasis,
        ends_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> bool {
        let mut changed = false;
        if !self.bases.contains(basis) {
            self.bases.push(basis.clone());
            changed = true;
        }
        if ends_at > self.ends_at {
            self.ends_at = ends_at;
            changed = true;
        }
        if changed {
            self.updated_at = at;
        }
        changed
    }

    /// Moves the end of a proposed or active order later. An extension is a
    /// fresh decision, so it may reach at most [`MAX_ORDER_DAYS`] past `at`.
    pub fn extend(&mut self, ends_at: DateTime<Utc>, at: DateTime<Utc>) -> Result<(), DomainError> {
        if !matches!(self.status, OrderStatus::Active | OrderStatus::Proposed) {
            return Err(DomainError::IllegalTransition {
                entity: "order",
                from: self.status.to_string(),
                to: "extended".into(),
            });
        }
        if ends_at <= self.ends_at {
            return Err(ValidationError::new(
                "ends_at",
                format!(
                    "must be later than the current end {}",
                    self.ends_at.to_rfc3339()
                ),
            )
            .into());
        }
        if ends_at - at > Duration::days(MAX_ORDER_DAYS) {
            return Err(ValidationError::new(
                "ends_at",
                format!("an extension reaches at most {MAX_ORDER_DAYS} days ahead"),
            )
            .into());
        }
        self.ends_at = ends_at;
        self.updated_at = at;
        Ok(())
    }

    /// Whether the order binds the person at `at`.
    pub fn is_in_force(&self, at: DateTime<Utc>) -> bool {
        self.status == OrderStatus::Active && self.starts_at <= at && at < self.ends_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Coordinates;

    fn order(status: OrderStatus) -> QuarantineOrder {
        let t0: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
        QuarantineOrder {
            id: OrderId::parse("O1").unwrap(),
            person_id: PersonId::parse("P1").unwrap(),
            address: Address::parse("Main St 1").unwrap(),
            geofence: Geofence::new(Coordinates::new(47.0, 8.0).unwrap(), 100.0).unwrap(),
            starts_at: t0,
            ends_at: t0 + Duration::days(14),
            time_zone: TimeZone::parse("Europe/Zurich").unwrap(),
            bases: vec![OrderBasis::Arrival { area: "X".into() }],
            status,
            status_reason: None,
            district: crate::district::District::unassigned(),
            created_at: t0,
            updated_at: t0,
        }
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "any instant will do for these transitions"
    )]
    fn legal_transitions() {
        let now = Utc::now();
        let mut o = order(OrderStatus::Proposed);
        o.transition(OrderStatus::Active, None, now).unwrap();
        o.transition(OrderStatus::Completed, None, now).unwrap();
        assert_eq!(o.status, OrderStatus::Completed);
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "any instant will do for these transitions"
    )]
    fn completed_never_becomes_active() {
        let mut o = order(OrderStatus::Completed);
        let err = o
            .transition(OrderStatus::Active, None, Utc::now())
            .unwrap_err();
        assert!(matches!(err, DomainError::IllegalTransition { .. }));
        assert_eq!(o.status, OrderStatus::Completed);
        assert!(!OrderStatus::Released.can_become(OrderStatus::Active));
        assert!(!OrderStatus::Active.can_become(OrderStatus::Proposed));
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "any instant will do for these transitions"
    )]
    fn release_needs_reason() {
        let mut o = order(OrderStatus::Active);
        assert!(o
            .transition(OrderStatus::Released, Some(" "), Utc::now())
            .is_err());
        o.transition(OrderStatus::Released, Some("lab error"), Utc::now())
            .unwrap();
        assert_eq!(o.status_reason.as_deref(), Some("lab error"));
    }

    #[test]
    fn a_second_basis_extends_once() {
        let mut o = order(OrderStatus::Active);
        let later = o.ends_at + Duration::days(3);
        let at = o.starts_at + Duration::days(1);
        let contact = OrderBasis::PositiveTest {
            test_id: TestId::parse("T1").unwrap(),
        };
        assert!(o.add_basis(&contact, later, at));
        assert_eq!(o.bases.len(), 2);
        assert_eq!(o.ends_at, later);
        assert_eq!(o.updated_at, at);
        // The same basis again, ending earlier: nothing changes.
        assert!(!o.add_basis(&contact, later - Duration::days(5), at + Duration::hours(1)));
        assert_eq!(o.ends_at, later);
        assert_eq!(o.updated_at, at);
    }

    #[test]
    fn extension_rules() {
        let mut o = order(OrderStatus::Active);
        let at = o.starts_at + Duration::days(1);
        let end = o.ends_at;
        assert!(matches!(
            o.extend(end, at),
            Err(DomainError::Invalid(ref v)) if v.field == "ends_at"
        ));
        assert!(o
            .extend(at + Duration::days(MAX_ORDER_DAYS + 1), at)
            .is_err());
        assert_eq!(o.ends_at, end, "a refused extension changes nothing");
        o.extend(end + Duration::days(7), at).unwrap();
        assert_eq!(o.ends_at, end + Duration::days(7));
        let mut done = order(OrderStatus::Completed);
        assert!(matches!(
            done.extend(end + Duration::days(7), at),
            Err(DomainError::IllegalTransition { .. })
        ));
    }

    #[test]
    fn period_rules() {
        let t0: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
        assert!(validate_period(t0, t0).is_err());
        assert!(validate_period(t0, t0 + Duration::days(61)).is_err());
        assert!(validate_period(t0, t0 + Duration::days(14)).is_ok());
    }

    #[test]
    fn time_zones() {
        assert_eq!(
            TimeZone::parse("Europe/Moscow").unwrap().name(),
            "Europe/Moscow"
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn in_force_only_while_active_and_in_period() {
        let o = order(OrderStatus::Active);
        assert!(o.is_in_force(o.starts_at));
        assert!(!o.is_in_force(o.ends_at));
        assert!(!order(OrderStatus::Proposed).is_in_force(o.starts_at));
    }
}
