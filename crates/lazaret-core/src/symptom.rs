//! Daily symptom self-reports.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{PersonId, SymptomReportId};

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
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymptomReport {
    pub id: SymptomReportId,
    pub person_id: PersonId,
    pub day: NaiveDate,
    pub symptoms: Vec<Symptom>,
    pub temperature_c: Option<f32>,
    pub received_at: DateTime<Utc>,
}

impl SymptomReport {
    /// A report opens an alert for an investigator when any symptom is
    /// ticked or the temperature is 38.0 °C or higher.
    pub fn is_symptomatic(&self) -> bool {
        !self.symptoms.is_empty() || self.temperature_c.is_some_and(|t| t >= 38.0)
    }
}
