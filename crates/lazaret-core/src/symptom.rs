//! Daily symptom self-reports: a short fixed list, explicitly "none" when
//! the person feels well (an empty form is not read as "none").

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{FollowUpId, OrderId, PersonId, SymptomReportId};

/// Longest free text for `other`.
pub const MAX_OTHER_CHARS: usize = 500;

/// Symptoms a person can tick on the daily form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Symptom {
    Fever,
    Cough,
    ShortnessOfBreath,
    SoreThroat,
    LossOfTasteOrSmell,
    Fatigue,
    /// Described in the report's free text.
    Other,
}

impl Symptom {
    pub const ALL: [Symptom; 7] = [
        Self::Fever,
        Self::Cough,
        Self::ShortnessOfBreath,
        Self::SoreThroat,
        Self::LossOfTasteOrSmell,
        Self::Fatigue,
        Self::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Fever => "fever",
            Self::Cough => "cough",
            Self::ShortnessOfBreath => "shortness_of_breath",
            Self::SoreThroat => "sore_throat",
            Self::LossOfTasteOrSmell => "loss_of_taste_or_smell",
            Self::Fatigue => "fatigue",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    "symptoms",
                    format!(
                        "{raw:?} is not one of none, {}",
                        Self::ALL.map(|s| s.as_str()).join(", ")
                    ),
                )
            })
    }
}

/// What the person ticked, checked: either exactly `none`, or one or more
/// distinct symptoms; `other` needs its text (at most 500 characters) and
/// text needs `other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymptomAnswer {
    pub symptoms: Vec<Symptom>,
    pub other: Option<String>,
}

impl SymptomAnswer {
    pub fn parse(ticked: &[&str], other: Option<&str>) -> Result<Self, ValidationError> {
        let other = other.map(str::trim).filter(|t| !t.is_empty());
        let ticked: Vec<&str> = ticked.iter().map(|t| t.trim()).collect();
        if ticked.is_empty() {
            return Err(ValidationError::new(
                "symptoms",
                "tick at least one symptom, or none",
            ));
        }
        if ticked.contains(&"none") {
            if ticked.len() > 1 {
                return Err(ValidationError::new(
                    "symptoms",
                    "none cannot be combined with a symptom",
                ));
            }
            if other.is_some() {
                return Err(ValidationError::new(
                    "other",
                    "describe another symptom only when other is ticked",
                ));
            }
            return Ok(Self {
                symptoms: Vec::new(),
                other: None,
            });
        }
        let mut symptoms = Vec::with_capacity(ticked.len());
        for t in ticked {
            let s = Symptom::parse(t)?;
            if symptoms.contains(&s) {
                return Err(ValidationError::new(
                    "symptoms",
                    format!("{} is ticked twice", s.as_str()),
                ));
            }
            symptoms.push(s);
        }
        match (symptoms.contains(&Symptom::Other), other) {
            (true, None) => Err(ValidationError::new("other", "describe the other symptom")),
            (false, Some(_)) => Err(ValidationError::new(
                "other",
                "describe another symptom only when other is ticked",
            )),
            (_, Some(t)) if t.chars().count() > MAX_OTHER_CHARS => Err(ValidationError::new(
                "other",
                format!("must be at most {MAX_OTHER_CHARS} characters"),
            )),
            (_, Some(t)) if t.chars().any(|c| c.is_control() && c != '\n') => Err(
                ValidationError::new("other", "must not contain control characters"),
            ),
            (_, other) => Ok(Self {
                symptoms,
                other: other.map(str::to_owned),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymptomReport {
    pub id: SymptomReportId,
    /// The order of a person in quarantine, or
    pub order_id: Option<OrderId>,
    /// the follow-up of a contact monitored without quarantine.
    pub follow_up_id: Option<FollowUpId>,
    pub person_id: PersonId,
    /// The local day (order's time zone) the form was issued for.
    pub day: NaiveDate,
    pub symptoms: Vec<Symptom>,
    pub other: Option<String>,
    pub temperature_c: Option<f32>,
    pub received_at: DateTime<Utc>,
}

impl SymptomReport {
    /// A report opens an alert for an investigator when any symptom is
    /// ticked or the temperature is 38.0 °C or higher.
    pub fn is_symptomatic(&self) -> bool {
        !self.symptoms.is_empty() || self.temperature_c.is_some_and(|t| t >= 38.0)
    }

    /// How soon the report's triage must be looked at; `None` when it is
    /// not symptomatic.
    pub fn severity(&self) -> Option<Severity> {
        let has = |s| self.symptoms.contains(&s);
        let fever = has(Symptom::Fever) || self.temperature_c.is_some_and(|t| t >= 38.0);
        Some(if has(Symptom::ShortnessOfBreath) {
            Severity::Urgent
        } else if fever || has(Symptom::LossOfTasteOrSmell) {
            Severity::High
        } else if has(Symptom::Cough) || has(Symptom::SoreThroat) || has(Symptom::Other) {
            Severity::Moderate
        } else if has(Symptom::Fatigue) {
            Severity::Low
        } else {
            return None;
        })
    }
}

/// The triage order of symptomatic reports: shortness of breath (a sign
/// of severe disease) first, then fever or loss of taste or smell (the
/// signs most specific to infection), then other respiratory symptoms,
/// then fatigue alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Moderate,
    High,
    Urgent,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Moderate => "moderate",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(symptoms: &[Symptom], temperature_c: Option<f32>) -> SymptomReport {
        SymptomReport {
            id: SymptomReportId::generate(),
            order_id: None,
            follow_up_id: None,
            person_id: PersonId::parse("P").unwrap(),
            day: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
            symptoms: symptoms.to_vec(),
            other: None,
            temperature_c,
            received_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn shortness_of_breath_is_triaged_before_fatigue() {
        use Symptom::*;
        let sev = |s: &[Symptom], t| report(s, t).severity();
        assert_eq!(
            sev(&[Fatigue, ShortnessOfBreath], None),
            Some(Severity::Urgent)
        );
        assert_eq!(
            sev(&[Fatigue, LossOfTasteOrSmell], None),
            Some(Severity::High)
        );
        assert_eq!(sev(&[Fatigue], Some(38.4)), Some(Severity::High));
        assert_eq!(sev(&[Cough, Fatigue], None), Some(Severity::Moderate));
        assert_eq!(sev(&[Fatigue], None), Some(Severity::Low));
        assert_eq!(sev(&[], Some(37.2)), None);
        assert!(Severity::Urgent > Severity::High && Severity::Moderate > Severity::Low);
    }

    #[test]
    fn none_or_symptoms_never_both() {
        let a = SymptomAnswer::parse(&["none"], None).unwrap();
        assert!(a.symptoms.is_empty());
        let a = SymptomAnswer::parse(&["fever", "cough"], None).unwrap();
        assert_eq!(a.symptoms, vec![Symptom::Fever, Symptom::Cough]);
        for bad in [
            &[][..],
            &["none", "fever"],
            &["fever", "fever"],
            &["sneezing"],
        ] {
            assert_eq!(
                SymptomAnswer::parse(bad, None).unwrap_err().field,
                "symptoms",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn other_needs_its_text_and_a_bound() {
        let a = SymptomAnswer::parse(&["other"], Some(" rash ")).unwrap();
        assert_eq!(a.other.as_deref(), Some("rash"));
        assert_eq!(
            SymptomAnswer::parse(&["other"], None).unwrap_err().field,
            "other"
        );
        assert_eq!(
            SymptomAnswer::parse(&["fever"], Some("rash"))
                .unwrap_err()
                .field,
            "other"
        );
        let long = "x".repeat(MAX_OTHER_CHARS + 1);
        assert!(SymptomAnswer::parse(&["other"], Some(&long)).is_err());
        assert!(SymptomAnswer::parse(&["other"], Some(&long[1..])).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for s in Symptom::ALL {
            assert_eq!(Symptom::parse(s.as_str()).unwrap(), s);
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(json, s.as_str());
        }
    }
}
