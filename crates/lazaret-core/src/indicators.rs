//! The indicators health authorities report on tracing (after WHO and
//! Resolve to Save Lives): how many new cases were already on a contact
//! list, how many contacts each case had, how fast cases were interviewed
//! and contacts notified and quarantined, how well contacts were followed
//! up, and the state of the officers' queues. Computed here from plain
//! facts the store reads (no names); each figure carries the name of its
//! definition in `docs/indicators.md`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

/// A positive test inside the period or the reinfection window before it.
#[derive(Debug, Clone, PartialEq)]
pub struct PositiveFact {
    pub person: String,
    pub test: String,
    /// When the laboratory resulted it (else when sampled).
    pub resulted_at: DateTime<Utc>,
    /// When Lazaret received it (else the result time).
    pub reported_at: DateTime<Utc>,
}

/// A stored contact of a positive test.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactFact {
    pub test: String,
    pub person: String,
    /// First reached by a call or informed by a notice, for this case.
    pub notified_at: Option<DateTime<Utc>>,
    /// First order resting on this case's test.
    pub order_issued_at: Option<DateTime<Utc>>,
}

/// A contact's period of follow-up: an order resting on someone else's
/// test, or the monitoring of a notify-tier contact.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactPeriodFact {
    /// The order's or the follow-up's id, as in [`Facts::followed_up`].
    pub key: String,
    pub starts_at: DateTime<Utc>,
    /// When it ended or will end.
    pub ends_at: DateTime<Utc>,
}

/// What the store reads for one district scope and period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Positive tests resulted in `[from − REINFECTION_DAYS, to)`.
    pub positives: Vec<PositiveFact>,
    /// When each person who tested positive was first listed as a contact.
    pub first_listed: HashMap<String, DateTime<Utc>>,
    /// The interview of each case (by test): its follow-up reached.
    pub interviews: HashMap<String, DateTime<Utc>>,
    pub contacts: Vec<ContactFact>,
    pub contact_periods: Vec<ContactPeriodFact>,
    /// (period key, UTC day) with a verified check-in or a symptom report.
    pub followed_up: HashSet<(String, NaiveDate)>,
    pub prompts_answered: i64,
    pub prompts_missed: i64,
    /// Creation times of the alerts still open (not resolved).
    pub open_alerts: Vec<DateTime<Utc>>,
    pub messages: i64,
    pub messages_failed: i64,
}

/// A positive test is a new case unless the person had one resulted in the
/// days before it.
pub const REINFECTION_DAYS: i64 = 90;

/// One figure: a value with, for shares, what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// The name of its definition (`docs/indicators.md`).
    pub name: &'static str,
    /// `None` when there is nothing to compute it from (no case, no contact).
    pub value: Option<f64>,
    pub unit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numerator: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<i64>,
    /// How many observations a mean or median was taken over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observations: Option<i64>,
    /// The definition in one sentence.
    pub definition: &'static str,
}

/// Every indicator's name and definition, in the order they are reported.
pub const DEFINITIONS: [(&str, &str, &str); 15] = [
    ("new_cases", "cases",
     "Persons with a positive test resulted in the period (result time, else sample time) and none resulted in the 90 days before it."),
    ("new_cases_already_contacts", "share",
     "Of the new cases, those listed as someone's contact before their test was resulted."),
    ("contacts_per_case_mean", "contacts",
     "Stored contacts (close and notify tiers) of each new case's positive test, averaged over the new cases."),
    ("contacts_per_case_median", "contacts",
     "The median of the same counts."),
    ("contacts_reached_within_24h", "share",
     "Of the contacts of new cases, those reached by a call or informed by a notice within 24 hours of the case's report to Lazaret."),
    ("median_hours_result_to_interview", "hours",
     "Median, over new cases interviewed, of the hours from the result to the interview (the case's follow-up reached)."),
    ("median_hours_result_to_contact_notified", "hours",
     "Median, over contacts of new cases reached or informed, of the hours from the case's result to the first call that reached them or notice that informed them."),
    ("median_hours_result_to_order_issued", "hours",
     "Median, over contacts of new cases with an order resting on the case's test, of the hours from the case's result to the order's creation."),
    ("contact_days_followed_up", "share",
     "Whole UTC days of the period that a contact's order or monitoring covered entirely, and of those the days with a verified check-in or a symptom report."),
    ("checkin_compliance", "share",
     "Prompts issued in the period that were answered, of those answered or missed."),
    ("alert_backlog_under_24h", "alerts",
     "Alerts opened before the period's end and not resolved, younger than 24 hours at its end."),
    ("alert_backlog_1_to_3_days", "alerts",
     "The same, 24 to 72 hours old."),
    ("alert_backlog_over_3_days", "alerts",
     "The same, older than 72 hours."),
    ("message_delivery_failures", "share",
     "Messages to persons created in the period that failed (not deliverable or given up), of all messages created."),
    ("messages", "messages",
     "Messages to persons created in the period."),
];

fn definition(name: &'static str) -> (&'static str, &'static str) {
    DEFINITIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, unit, def)| (*unit, *def))
        .expect("every reported indicator is defined")
}

fn count(name: &'static str, n: i64) -> Indicator {
    let (unit, definition) = definition(name);
    Indicator {
        name,
        value: Some(n as f64),
        unit,
        numerator: None,
        denominator: None,
        observations: None,
        definition,
    }
}

fn share(name: &'static str, num: i64, den: i64) -> Indicator {
    let (unit, definition) = definition(name);
    Indicator {
        name,
        value: (den > 0).then(|| num as f64 / den as f64),
        unit,
        numerator: Some(num),
        denominator: Some(den),
        observations: None,
        definition,
    }
}

fn over(name: &'static str, value: Option<f64>, n: usize) -> Indicator {
    let (unit, definition) = definition(name);
    Indicator {
        name,
        value,
        unit,
        numerator: None,
        denominator: None,
        observations: Some(n as i64),
        definition,
    }
}

/// The median (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let m = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[m]
    } else {
        (values[m - 1] + values[m]) / 2.0
    })
}

fn hours(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 3_600_000.0
}

/// The new cases of `[from, to)`: the first positive test of each person
/// in the period with none resulted in the reinfection window before it.
fn new_cases(
    positives: &[PositiveFact],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<&PositiveFact> {
    let mut by_person: BTreeMap<&str, Vec<&PositiveFact>> = BTreeMap::new();
    for p in positives {
        by_person.entry(&p.person).or_default().push(p);
    }
    let window = Duration::days(REINFECTION_DAYS);
    let mut cases = Vec::new();
    for tests in by_person.values_mut() {
        tests.sort_by_key(|t| (t.resulted_at, t.test.clone()));
        let mut last: Option<DateTime<Utc>> = None;
        for t in tests.iter() {
            let new = last.is_none_or(|l| t.resulted_at - l > window);
            if new && t.resulted_at >= from && t.resulted_at < to {
                cases.push(*t);
            }
            last = Some(t.resulted_at);
        }
    }
    cases.sort_by_key(|c| (c.resulted_at, c.test.clone()));
    cases
}

/// The UTC days of `[from, to)` that `[start, end)` covers entirely.
fn whole_days(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> impl Iterator<Item = NaiveDate> {
    let lo = start.max(from);
    let hi = end.min(to);
    let mut day = lo.date_naive();
    if day.and_hms_opt(0, 0, 0).expect("midnight").and_utc() < lo {
        day = day.succ_opt().unwrap_or(day);
    }
    std::iter::from_fn(move || {
        let next = day.succ_opt()?;
        (next.and_hms_opt(0, 0, 0).expect("midnight").and_utc() <= hi).then(|| {
            let d = day;
            day = next;
            d
        })
    })
}

/// The indicators of `[from, to)` from `facts`, in [`DEFINITIONS`] order.
pub fn compute(facts: &Facts, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Indicator> {
    let cases = new_cases(&facts.positives, from, to);
    let already = cases
        .iter()
        .filter(|c| {
            facts
                .first_listed
                .get(&c.person)
                .is_some_and(|t| *t < c.resulted_at)
        })
        .count() as i64;

    let mut per_case: HashMap<&str, Vec<&ContactFact>> = cases
        .iter()
        .map(|c| (c.test.as_str(), Vec::new()))
        .collect();
    for k in &facts.contacts {
        if let Some(v) = per_case.get_mut(k.test.as_str()) {
            v.push(k);
        }
    }
    let mut counts: Vec<f64> = cases
        .iter()
        .map(|c| per_case[c.test.as_str()].len() as f64)
        .collect();
    let mean = (!counts.is_empty()).then(|| counts.iter().sum::<f64>() / counts.len() as f64);
    let n_cases = counts.len();
    let med = median(&mut counts);

    let (mut contacts, mut within) = (0i64, 0i64);
    let mut to_notified = Vec::new();
    let mut to_order = Vec::new();
    for c in &cases {
        for k in &per_case[c.test.as_str()] {
            contacts += 1;
            if let Some(n) = k.notified_at {
                if n <= c.reported_at + Duration::hours(24) {
                    within += 1;
                }
                to_notified.push(hours(n - c.resulted_at));
            }
            if let Some(o) = k.order_issued_at {
                to_order.push(hours(o - c.resulted_at));
            }
        }
    }
    let mut to_interview: Vec<f64> = cases
        .iter()
        .filter_map(|c| {
            facts
                .interviews
                .get(&c.test)
                .map(|t| hours(*t - c.resulted_at))
        })
        .collect();

    let (mut days, mut followed) = (0i64, 0i64);
    for o in &facts.contact_periods {
        for d in whole_days(o.starts_at, o.ends_at, from, to) {
            days += 1;
            if facts.followed_up.contains(&(o.key.clone(), d)) {
                followed += 1;
            }
        }
    }

    let age = |t: &DateTime<Utc>| to - *t;
    let backlog = |lo: i64, hi: Option<i64>| {
        facts
            .open_alerts
            .iter()
            .filter(|t| {
                let a = age(t);
                a >= Duration::hours(lo) && hi.is_none_or(|h| a < Duration::hours(h))
            })
            .count() as i64
    };

    let n = (to_interview.len(), to_notified.len(), to_order.len());
    vec![
        count("new_cases", cases.len() as i64),
        share("new_cases_already_contacts", already, cases.len() as i64),
        over("contacts_per_case_mean", mean, n_cases),
        over("contacts_per_case_median", med, n_cases),
        share("contacts_reached_within_24h", within, contacts),
        over(
            "median_hours_result_to_interview",
            median(&mut to_interview),
            n.0,
        ),
        over(
            "median_hours_result_to_contact_notified",
            median(&mut to_notified),
            n.1,
        ),
        over(
            "median_hours_result_to_order_issued",
            median(&mut to_order),
            n.2,
        ),
        share("contact_days_followed_up", followed, days),
        share(
            "checkin_compliance",
            facts.prompts_answered,
            facts.prompts_answered + facts.prompts_missed,
        ),
        count("alert_backlog_under_24h", backlog(0, Some(24))),
        count("alert_backlog_1_to_3_days", backlog(24, Some(72))),
        count("alert_backlog_over_3_days", backlog(72, None)),
        share(
            "message_delivery_failures",
            facts.messages_failed,
            facts.messages,
        ),
        count("messages", facts.messages),
    ]
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    fn pos(person: &str, test: &str, resulted: DateTime<Utc>) -> PositiveFact {
        PositiveFact {
            person: person.into(),
            test: test.into(),
            resulted_at: resulted,
            reported_at: resulted + Duration::hours(1),
        }
    }

    fn value(all: &[Indicator], name: &str) -> Option<f64> {
        all.iter().find(|i| i.name == name).unwrap().value
    }

    #[test]
    fn every_definition_is_reported_once_in_order() {
        let all = compute(&Facts::default(), at(1, 0), at(2, 0));
        let names: Vec<_> = all.iter().map(|i| i.name).collect();
        let defined: Vec<_> = DEFINITIONS.iter().map(|d| d.0).collect();
        assert_eq!(names, defined);
        // Nothing to compute from: shares and medians are absent, counts zero.
        assert_eq!(value(&all, "new_cases"), Some(0.0));
        assert_eq!(value(&all, "new_cases_already_contacts"), None);
        assert_eq!(value(&all, "median_hours_result_to_interview"), None);
    }

    #[test]
    fn every_definition_is_documented() {
        let doc = include_str!("../../../docs/indicators.md");
        for (name, unit, _) in DEFINITIONS {
            assert!(
                doc.contains(&format!("| `{name}` | {unit} |")),
                "{name} in docs/indicators.md"
            );
        }
    }

    #[test]
    fn a_reinfection_window_keeps_repeat_positives_out() {
        let facts = Facts {
            positives: vec![
                // Positive before the period and again inside the window: not new.
                pos("A", "A1", at(1, 0) - Duration::days(30)),
                pos("A", "A2", at(2, 0)),
                // Two positives inside the period: one case, the first.
                pos("B", "B1", at(2, 0)),
                pos("B", "B2", at(3, 0)),
                // Before the period only.
                pos("C", "C1", at(1, 0) - Duration::days(1)),
            ],
            ..Facts::default()
        };
        let cases = new_cases(&facts.positives, at(1, 0), at(5, 0));
        assert_eq!(
            cases.iter().map(|c| c.test.as_str()).collect::<Vec<_>>(),
            ["B1"]
        );
        let long_after = Facts {
            positives: vec![
                pos("A", "A1", at(1, 0) - Duration::days(91)),
                pos("A", "A2", at(2, 0)),
            ],
            ..Facts::default()
        };
        assert_eq!(
            new_cases(&long_after.positives, at(1, 0), at(5, 0)).len(),
            1
        );
    }

    #[test]
    fn the_tracing_figures_by_hand() {
        // Case X resulted on day 2 at 10:00 (reported 11:00), interviewed at 14:00;
        // contacts K1 (notified 20:00 the same day, order at 22:00),
        // K2 (notified the next day at 12:00: 25 h after the report), K3 never.
        // Case Y resulted on day 3 at 08:00 with no contact, listed earlier as someone's contact.
        let mut facts = Facts {
            positives: vec![pos("X", "TX", at(2, 10)), pos("Y", "TY", at(3, 8))],
            ..Facts::default()
        };
        facts.first_listed.insert("Y".into(), at(2, 9));
        facts.first_listed.insert("X".into(), at(4, 0)); // after its result: not counted
        facts.interviews.insert("TX".into(), at(2, 14));
        let k = |p: &str, n: Option<DateTime<Utc>>, o: Option<DateTime<Utc>>| ContactFact {
            test: "TX".into(),
            person: p.into(),
            notified_at: n,
            order_issued_at: o,
        };
        facts.contacts = vec![
            k("K1", Some(at(2, 20)), Some(at(2, 22))),
            k("K2", Some(at(3, 12)), None),
            k("K3", None, None),
        ];
        let all = compute(&facts, at(1, 0), at(5, 0));
        assert_eq!(value(&all, "new_cases"), Some(2.0));
        assert_eq!(value(&all, "new_cases_already_contacts"), Some(0.5));
        assert_eq!(value(&all, "contacts_per_case_mean"), Some(1.5));
        assert_eq!(value(&all, "contacts_per_case_median"), Some(1.5));
        assert_eq!(value(&all, "contacts_reached_within_24h"), Some(1.0 / 3.0));
        assert_eq!(value(&all, "median_hours_result_to_interview"), Some(4.0));
        // 10 h and 26 h.
        assert_eq!(
            value(&all, "median_hours_result_to_contact_notified"),
            Some(18.0)
        );
        assert_eq!(
            value(&all, "median_hours_result_to_order_issued"),
            Some(12.0)
        );
    }

    #[test]
    fn follow_up_days_count_whole_days_only() {
        // Issued day 1 at 18:00, ends day 4 at 12:00: days 2 and 3 are whole.
        let facts = Facts {
            contact_periods: vec![ContactPeriodFact {
                key: "O".into(),
                starts_at: at(1, 18),
                ends_at: at(4, 12),
            }],
            followed_up: [("O".to_owned(), at(3, 0).date_naive())].into(),
            ..Facts::default()
        };
        let all = compute(&facts, at(1, 0), at(10, 0));
        let f = all
            .iter()
            .find(|i| i.name == "contact_days_followed_up")
            .unwrap();
        assert_eq!((f.numerator, f.denominator), (Some(1), Some(2)));
        // The period cuts the order: only day 2 is inside [day 2, day 3).
        let cut = compute(&facts, at(2, 0), at(3, 0));
        let f = cut
            .iter()
            .find(|i| i.name == "contact_days_followed_up")
            .unwrap();
        assert_eq!((f.numerator, f.denominator), (Some(0), Some(1)));
    }

    #[test]
    fn backlog_by_age_at_the_period_end() {
        let end = at(10, 0);
        let facts = Facts {
            open_alerts: vec![
                end - Duration::hours(1),
                end - Duration::hours(30),
                end - Duration::hours(72),
                end - Duration::days(9),
            ],
            prompts_answered: 3,
            prompts_missed: 1,
            messages: 4,
            messages_failed: 1,
            ..Facts::default()
        };
        let all = compute(&facts, at(1, 0), end);
        assert_eq!(value(&all, "alert_backlog_under_24h"), Some(1.0));
        assert_eq!(value(&all, "alert_backlog_1_to_3_days"), Some(1.0));
        assert_eq!(value(&all, "alert_backlog_over_3_days"), Some(2.0));
        assert_eq!(value(&all, "checkin_compliance"), Some(0.75));
        assert_eq!(value(&all, "message_delivery_failures"), Some(0.25));
    }
}
