//! The revision cascade for orders: when a test result is corrected, every
//! order that rested on it loses that basis; an order with no basis left is
//! released, one with other bases is kept with its end recomputed from them.

use chrono::{DateTime, Utc};

use crate::ids::TestId;
use crate::order::{OrderBasis, QuarantineOrder};

/// What a revision means for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRevision {
    /// No basis is left: release with this reason.
    Release { reason: String },
    /// Other bases remain: keep the order with these bases and end.
    Keep {
        bases: Vec<OrderBasis>,
        ends_at: DateTime<Utc>,
    },
}

/// Plans the effect of revising `test` on `order`; `None` when the order does
/// not rest on that test or has already ended. `basis_end` gives the end a
/// remaining basis calls for, or `None` when that basis carries no end of its
/// own (an arrival measure): then the current end is kept, because nothing
/// known justifies shortening it.
pub fn plan_order_revision(
    order: &QuarantineOrder,
    test: &TestId,
    reason: &str,
    basis_end: impl Fn(&OrderBasis) -> Option<DateTime<Utc>>,
) -> Option<OrderRevision> {
    if order.status.is_terminal() {
        return None;
    }
    plan_basis_revision(&order.bases, order.ends_at, test, reason, basis_end)
}

/// The same rule on an order in force given as its bases and end: what the
/// outbreak simulator calls, so its corrections follow production's rule.
pub fn plan_basis_revision(
    bases: &[OrderBasis],
    ends_at: DateTime<Utc>,
    test: &TestId,
    reason: &str,
    basis_end: impl Fn(&OrderBasis) -> Option<DateTime<Utc>>,
) -> Option<OrderRevision> {
    if !bases.iter().any(|b| b.test_id() == Some(test)) {
        return None;
    }
    let remaining: Vec<OrderBasis> = bases
        .iter()
        .filter(|b| b.test_id() != Some(test))
        .cloned()
        .collect();
    if remaining.is_empty() {
        return Some(OrderRevision::Release {
            reason: format!("test {test} revised: {}", reason.trim()),
        });
    }
    let mut new_end: Option<DateTime<Utc>> = None;
    for b in &remaining {
        match basis_end(b) {
            Some(e) => new_end = Some(new_end.map_or(e, |x| x.max(e))),
            None => {
                new_end = Some(ends_at);
                break;
            }
        }
    }
    Some(OrderRevision::Keep {
        bases: remaining,
        ends_at: new_end.unwrap_or(ends_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{Coordinates, Geofence};
    use crate::ids::{OrderId, PersonId};
    use crate::order::{OrderStatus, TimeZone};
    use crate::person::Address;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        "2026-03-01T00:00:00Z".parse().unwrap()
    }

    fn contact(case: &str, test: &str) -> OrderBasis {
        OrderBasis::Contact {
            case_id: PersonId::parse(case).unwrap(),
            test_id: TestId::parse(test).unwrap(),
        }
    }

    fn order(bases: Vec<OrderBasis>) -> QuarantineOrder {
        QuarantineOrder {
            id: OrderId::parse("O1").unwrap(),
            person_id: PersonId::parse("P1").unwrap(),
            address: Address::parse("Main St 1").unwrap(),
            geofence: Geofence::new(Coordinates::new(47.0, 8.0).unwrap(), 100.0).unwrap(),
            starts_at: t0(),
            ends_at: t0() + Duration::days(20),
            time_zone: TimeZone::default(),
            bases,
            status: OrderStatus::Active,
            status_reason: None,
            district: crate::district::District::unassigned(),
            created_at: t0(),
            updated_at: t0(),
        }
    }

    #[test]
    fn last_basis_gone_releases() {
        let o = order(vec![contact("C1", "T1")]);
        let t1 = TestId::parse("T1").unwrap();
        match plan_order_revision(&o, &t1, " lab error ", |_| None) {
            Some(OrderRevision::Release { reason }) => {
                assert_eq!(reason, "test T1 revised: lab error")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_basis_keeps_and_recomputes_end() {
        let o = order(vec![contact("C1", "T1"), contact("C2", "T2")]);
        let t1 = TestId::parse("T1").unwrap();
        let end2 = t0() + Duration::days(9);
        let got = plan_order_revision(&o, &t1, "x", |b| {
            (b.test_id().map(TestId::as_str) == Some("T2")).then_some(end2)
        });
        assert_eq!(
            got,
            Some(OrderRevision::Keep {
                bases: vec![contact("C2", "T2")],
                ends_at: end2
            })
        );
    }

    #[test]
    fn basis_without_own_end_keeps_current_end() {
        let o = order(vec![
            contact("C1", "T1"),
            OrderBasis::Arrival { area: "A".into() },
        ]);
        let t1 = TestId::parse("T1").unwrap();
        let got = plan_order_revision(&o, &t1, "x", |_| None).unwrap();
        assert!(matches!(got, OrderRevision::Keep { ends_at, .. } if ends_at == o.ends_at));
    }

    #[test]
    fn unrelated_or_ended_orders_are_untouched() {
        let t9 = TestId::parse("T9").unwrap();
        assert_eq!(
            plan_order_revision(&order(vec![contact("C1", "T1")]), &t9, "x", |_| None),
            None
        );
        let mut done = order(vec![contact("C1", "T9")]);
        done.status = OrderStatus::Completed;
        assert_eq!(plan_order_revision(&done, &t9, "x", |_| None), None);
    }
}
