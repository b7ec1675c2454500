//! Laboratory test results and their revisions. A result is never
//! overwritten: a correction appends a revision and the history stays.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{PersonId, TestId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Positive,
    Negative,
}

impl TestOutcome {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "positive" => Ok(Self::Positive),
            "negative" => Ok(Self::Negative),
            other => Err(ValidationError::new(
                "result",
                format!("{other:?} is not positive or negative"),
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
        }
    }
}

/// One correction of a test's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRevision {
    pub revised_at: DateTime<Utc>,
    pub previous: TestOutcome,
    pub result: TestOutcome,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub id: TestId,
    pub person_id: PersonId,
    pub sampled_at: DateTime<Utc>,
    /// The result now in force (the last revision's, or the original).
    pub result: TestOutcome,
    pub lab: String,
    pub symptom_onset: Option<NaiveDate>,
    /// Oldest first.
    pub revisions: Vec<TestRevision>,
}

impl TestResult {
    /// The result as first reported.
    pub fn original_result(&self) -> TestOutcome {
        self.revisions.first().map_or(self.result, |r| r.previous)
    }

    /// Corrects the result, keeping the history. A revision must change the
    /// result and give a reason.
    pub fn revise(
        &mut self,
        result: TestOutcome,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<&TestRevision, ValidationError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ValidationError::new("reason", "a revision needs a reason"));
        }
        crate::audit::check_reason("reason", reason)?;
        if result == self.result {
            return Err(ValidationError::new(
                "result",
                format!("the test is already {}", result.as_str()),
            ));
        }
        self.revisions.push(TestRevision {
            revised_at: at,
            previous: self.result,
            result,
            reason: reason.to_owned(),
        });
        self.result = result;
        Ok(self.revisions.last().expect("just pushed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TestResult {
        TestResult {
            id: TestId::parse("T1").unwrap(),
            person_id: PersonId::parse("P1").unwrap(),
            sampled_at: "2026-03-01T10:00:00Z".parse().unwrap(),
            result: TestOutcome::Positive,
            lab: "Lab A".into(),
            symptom_onset: None,
            revisions: vec![],
        }
    }

    #[test]
    fn revision_keeps_history() {
        let mut t = sample();
        let at = "2026-03-03T10:00:00Z".parse().unwrap();
        t.revise(TestOutcome::Negative, "lab error", at).unwrap();
        assert_eq!(t.result, TestOutcome::Negative);
        assert_eq!(t.original_result(), TestOutcome::Positive);
        assert_eq!(t.revisions.len(), 1);
        assert!(t.revise(TestOutcome::Negative, "again", at).is_err());
        assert!(t.revise(TestOutcome::Positive, " ", at).is_err());
        assert_eq!(t.revisions.len(), 1);
    }

    #[test]
    fn outcome_parsing() {
        assert_eq!(
            TestOutcome::parse(" Positive ").unwrap(),
            TestOutcome::Positive
        );
        assert!(TestOutcome::parse("maybe").is_err());
    }
}
