//! The surveillance line lists as files: CSV (a header row, then one line
//! per case or contact) and a FHIR R4 `Bundle` of type `collection`
//! (`application/fhir+json`), written a row at a time so that an export of
//! any size is streamed. Pure: no I/O here; `services::exports` feeds it.
//!
//! Least data: pseudonymous person ids (`urn:lazaret:person`), districts,
//! dates, results, tiers, rules and statuses. The rows it takes carry no
//! name, phone, e-mail, address or coordinate, so none can be written.
//!
//! FHIR mapping (docs/exports.md has the tables):
//! - a case is a `Patient` with an identifier only (no name, no telecom,
//!   no address), tagged with its district (`meta.tag`
//!   `urn:lazaret:district`), and a laboratory `Observation` of it:
//!   identifier the test id, `effectiveDateTime` the sampling time, `issued`
//!   the laboratory's result time, `valueCodeableConcept` SNOMED CT
//!   260373001 *Detected* (260415000 *Not detected*). Lazaret does not keep
//!   the LOINC code a laboratory sent, so `code` is the text "SARS-CoV-2
//!   detection test" without a coding rather than a guessed LOINC code.
//! - a contact is an `Observation` of the contact (`subject` by identifier)
//!   with `code` SNOMED CT 840546002 *Exposure to severe acute respiratory
//!   syndrome coronavirus 2 (event)*, `effectiveDateTime` the last
//!   exposure, `derivedFrom` the case's test (by identifier) and components
//!   (codes of `urn:lazaret:export`): `case` (the case's person id), `tier`,
//!   one `rule` per exposure rule, one `setting` per interview setting and
//!   `follow-up-status`, each coded in a `urn:lazaret:…` system.
//!
//! Ids are letters, digits and `-_.:` only (`lazaret_core::ids`), so no
//! cell can start a spreadsheet formula.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use lazaret_core::test_result::TestOutcome;
use lazaret_store::{CaseLine, ContactLine};
use serde_json::{json, Value};

/// The SNOMED CT code of a contact's exposure.
pub const EXPOSURE_SNOMED: (&str, &str) = (
    "840546002",
    "Exposure to severe acute respiratory syndrome coronavirus 2 (event)",
);
/// SNOMED CT result codes.
pub const DETECTED: (&str, &str) = ("260373001", "Detected");
pub const NOT_DETECTED: (&str, &str) = ("260415000", "Not detected");

const SNOMED: &str = "http://snomed.info/sct";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const PERSON: &str = "urn:lazaret:person";
const TEST: &str = "urn:lazaret:test";
const DISTRICT: &str = "urn:lazaret:district";
const EXPORT: &str = "urn:lazaret:export";

/// What an export lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cases,
    Contacts,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cases => "cases",
            Self::Contacts => "contacts",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Cases, Self::Contacts]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Fhir,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Fhir => "fhir",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Csv, Self::Fhir]
            .into_iter()
            .find(|f| f.as_str() == raw)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Fhir => "application/fhir+json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Fhir => "json",
        }
    }
}

/// The columns of the cases' CSV.
pub const CASE_COLUMNS: [&str; 8] = [
    "person_id",
    "district",
    "test_id",
    "result",
    "sampled_at",
    "resulted_at",
    "reported_at",
    "symptom_onset",
];

/// The columns of the contacts' CSV.
pub const CONTACT_COLUMNS: [&str; 10] = [
    "case_person_id",
    "case_test_id",
    "case_district",
    "contact_person_id",
    "contact_district",
    "tier",
    "rules",
    "settings",
    "last_exposure",
    "follow_up_status",
];

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn opt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(time).unwrap_or_default()
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// One row of a line list, in either format.
pub trait Line {
    const COLUMNS: &'static [&'static str];
    /// The CSV cells, in [`Line::COLUMNS`]' order.
    fn cells(&self) -> Vec<String>;
    /// The FHIR resources.
    fn resources(&self) -> Vec<Value>;
}

impl Line for CaseLine {
    const COLUMNS: &'static [&'static str] = &CASE_COLUMNS;

    fn cells(&self) -> Vec<String> {
        vec![
            self.person_id.to_string(),
            self.district.clone(),
            self.test_id.to_string(),
            self.result.as_str().to_owned(),
            time(self.sampled_at),
            opt_time(self.resulted_at),
            opt_time(self.reported_at),
            date(self.symptom_onset),
        ]
    }

    fn resources(&self) -> Vec<Value> {
        let patient_url = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let (code, display) = match self.result {
            TestOutcome::Positive => DETECTED,
            TestOutcome::Negative => NOT_DETECTED,
        };
        let person = json!({ "system": PERSON, "value": self.person_id });
        let mut observation = json!({
            "resourceType": "Observation",
            "identifier": [{ "system": TEST, "value": self.test_id }],
            "status": "final",
            "category": [{ "coding": [{ "system": CATEGORY, "code": "laboratory" }] }],
            "code": { "text": "SARS-CoV-2 detection test" },
            "subject": { "reference": patient_url, "identifier": person },
            "effectiveDateTime": time(self.sampled_at),
            "valueCodeableConcept": {
                "coding": [{ "system": SNOMED, "code": code, "display": display }]
            },
        });
        if let Some(issued) = self.resulted_at {
            observation["issued"] = json!(time(issued));
        }
        vec![
            json!({
                "fullUrl": patient_url,
                "resource": {
                    "resourceType": "Patient",
                    "meta": { "tag": [{ "system": DISTRICT, "code": self.district }] },
                    "identifier": [person],
                },
            }),
            json!({
                "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
                "resource": observation,
            }),
        ]
    }
}

/// A component of a contact's Observation: `code` of `urn:lazaret:export`
/// with a coded value of `system`.
fn component(code: &str, system: &str, value: &str) -> Value {
    json!({
        "code": { "coding": [{ "system": EXPORT, "code": code }] },
        "valueCodeableConcept": { "coding": [{ "system": system, "code": value }] },
    })
}

impl Line for ContactLine {
    const COLUMNS: &'static [&'static str] = &CONTACT_COLUMNS;

    fn cells(&self) -> Vec<String> {
        vec![
            self.case_person_id.to_string(),
            self.case_test_id.to_string(),
            self.case_district.clone(),
            self.contact_person_id.to_string(),
            self.contact_district.clone().unwrap_or_default(),
            self.tier.as_str().to_owned(),
            self.rules
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            self.settings.join(";"),
            time(self.last_exposure),
            self.follow_up_status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
        ]
    }

    fn resources(&self) -> Vec<Value> {
        let mut components = vec![
            json!({
                "code": { "coding": [{ "system": EXPORT, "code": "case" }] },
                "valueString": self.case_person_id,
            }),
            component("tier", "urn:lazaret:risk-tier", self.tier.as_str()),
        ];
        for r in &self.rules {
            components.push(component("rule", "urn:lazaret:exposure-rule", r.as_str()));
        }
        for s in &self.settings {
            components.push(component("setting", "urn:lazaret:contact-setting", s));
        }
        if let Some(s) = self.follow_up_status {
            components.push(component(
                "follow-up-status",
                "urn:lazaret:follow-up-status",
                s.as_str(),
            ));
        }
        vec![json!({
            "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            "resource": {
                "resourceType": "Observation",
                "meta": { "tag": [{ "system": DISTRICT, "code": self.case_district }] },
                "status": "final",
                "category": [{ "coding": [{ "system": CATEGORY, "code": "social-history" }] }],
                "code": { "coding": [{
                    "system": SNOMED, "code": EXPOSURE_SNOMED.0, "display": EXPOSURE_SNOMED.1
                }] },
                "subject": { "identifier": { "system": PERSON, "value": self.contact_person_id } },
                "effectiveDateTime": time(self.last_exposure),
                "derivedFrom": [{
                    "type": "Observation",
                    "identifier": { "system": TEST, "value": self.case_test_id },
                }],
                "component": components,
            },
        })]
    }
}

/// Writes a line list in one format, a piece at a time: [`Writer::head`],
/// [`Writer::rows`] for each page, [`Writer::tail`].
#[derive(Debug)]
pub struct Writer {
    format: Format,
    /// Rows written so far.
    written: u64,
    /// FHIR entries written so far (the first opens `entry`).
    entries: u64,
}

impl Writer {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            written: 0,
            entries: 0,
        }
    }

    /// The rows written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The start of the file: the CSV header row, or the Bundle up to its
    /// entries (which come last, so that an empty Bundle has no `entry`:
    /// FHIR's JSON has no empty arrays).
    pub fn head<L: Line>(&self, timestamp: DateTime<Utc>) -> Vec<u8> {
        match self.format {
            Format::Csv => csv_line(L::COLUMNS.iter().copied()),
            Format::Fhir => {
                let mut s = String::from("{\"resourceType\":\"Bundle\",\"id\":");
                s.push_str(&json!(uuid::Uuid::new_v4().to_string()).to_string());
                s.push_str(",\"type\":\"collection\",\"timestamp\":");
                s.push_str(&json!(time(timestamp)).to_string());
                s.into_bytes()
            }
        }
    }

    /// `rows` in the file's format.
    pub fn rows<L: Line>(&mut self, rows: &[L]) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            match self.format {
                Format::Csv => out.extend(csv_line(row.cells().iter().map(String::as_str))),
                Format::Fhir => {
                    for entry in row.resources() {
                        out.extend_from_slice(if self.entries == 0 {
                            b",\"entry\":[\n"
                        } else {
                            b",\n"
                        });
                        serde_json::to_writer(&mut out, &entry).expect("JSON to a Vec");
                        self.entries += 1;
                    }
                }
            }
            self.written += 1;
        }
        out
    }

    /// The end of the file.
    pub fn tail(&self) -> Vec<u8> {
        match self.format {
            Format::Csv => Vec::new(),
            Format::Fhir if self.entries == 0 => b"}\n".to_vec(),
            Format::Fhir => b"]}\n".to_vec(),
        }
    }
}

/// One CSV record with its line end (RFC 4180 quoting by the `csv` crate).
fn csv_line<'a>(cells: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(cells).expect("CSV to a Vec");
    w.into_inner().expect("CSV to a Vec")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use lazaret_core::contact::{ExposureRule, RiskTier};
    use lazaret_core::follow_up::FollowUpStatus;
    use lazaret_core::ids::{PersonId, TestId};

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0).unwrap()
    }

    fn case() -> CaseLine {
        CaseLine {
            person_id: PersonId::parse("P-1").unwrap(),
            district: "north".into(),
            test_id: TestId::parse("T-1").unwrap(),
            result: TestOutcome::Positive,
            sampled_at: at(8),
            resulted_at: Some(at(12)),
            reported_at: None,
            symptom_onset: NaiveDate::from_ymd_opt(2026, 2, 27),
            result_time: at(12),
        }
    }

    fn contact() -> ContactLine {
        ContactLine {
            case_person_id: PersonId::parse("P-1").unwrap(),
            case_test_id: TestId::parse("T-1").unwrap(),
            case_district: "north".into(),
            case_result_time: at(12),
            contact_person_id: PersonId::parse("C-1").unwrap(),
            contact_district: None,
            tier: RiskTier::Close,
            rules: vec![ExposureRule::Household, ExposureRule::Interview],
            settings: vec!["household".into(), "social".into()],
            last_exposure: at(6),
            follow_up_status: Some(FollowUpStatus::ToCall),
        }
    }

    #[test]
    fn csv_has_a_header_and_one_line_per_row() {
        let mut w = Writer::new(Format::Csv);
        let mut out = w.head::<CaseLine>(at(0));
        out.extend(w.rows(&[case()]));
        out.extend(w.tail());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "person_id,district,test_id,result,sampled_at,resulted_at,reported_at,symptom_onset\r\n\
             P-1,north,T-1,positive,2026-03-01T08:00:00Z,2026-03-01T12:00:00Z,,2026-02-27\r\n"
        );
        let mut w = Writer::new(Format::Csv);
        let out = String::from_utf8(w.rows(&[contact()])).unwrap();
        assert_eq!(
            out,
            "P-1,T-1,north,C-1,,close,household;interview,household;social,\
             2026-03-01T06:00:00Z,to_call\r\n"
        );
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(
            csv_line(["a,b", "say \"hi\"", "x"]),
            b"\"a,b\",\"say \"\"hi\"\"\",x\r\n"
        );
    }

    fn bundle<L: Line>(rows: &[L]) -> Value {
        let mut w = Writer::new(Format::Fhir);
        let mut out = w.head::<L>(at(0));
        out.extend(w.rows(rows));
        out.extend(w.tail());
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn an_empty_bundle_is_valid_json_without_entries() {
        let b = bundle::<CaseLine>(&[]);
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        assert!(b.get("entry").is_none(), "{b}");
    }

    #[test]
    fn a_case_is_a_patient_without_name_and_its_observation() {
        let b = bundle(&[case(), case()]);
        let entries = b["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 4);
        let patient = &entries[0]["resource"];
        assert_eq!(patient["resourceType"], "Patient");
        assert_eq!(patient["identifier"][0]["value"], "P-1");
        assert!(patient.get("name").is_none() && patient.get("telecom").is_none());
        let obs = &entries[1]["resource"];
        assert_eq!(obs["subject"]["reference"], entries[0]["fullUrl"]);
        assert_eq!(
            obs["valueCodeableConcept"]["coding"][0]["code"],
            "260373001"
        );
        assert_eq!(obs["issued"], "2026-03-01T12:00:00Z");
        assert_eq!(obs["effectiveDateTime"], "2026-03-01T08:00:00Z");
    }

    #[test]
    fn a_contact_is_an_exposure_observation() {
        let b = bundle(&[contact()]);
        let obs = &b["entry"][0]["resource"];
        assert_eq!(obs["code"]["coding"][0]["code"], "840546002");
        assert_eq!(obs["subject"]["identifier"]["value"], "C-1");
        assert_eq!(obs["derivedFrom"][0]["identifier"]["value"], "T-1");
        let codes: Vec<(&str, &str)> = obs["component"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["code"]["coding"][0]["code"].as_str().unwrap(),
                    c["valueCodeableConcept"]["coding"][0]["code"]
                        .as_str()
                        .or(c["valueString"].as_str())
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                ("case", "P-1"),
                ("tier", "close"),
                ("rule", "household"),
                ("rule", "interview"),
                ("setting", "household"),
                ("setting", "social"),
                ("follow-up-status", "to_call"),
            ]
        );
    }
}
