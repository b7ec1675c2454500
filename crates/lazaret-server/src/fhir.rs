//! FHIR R4 laboratory input: a `Bundle` (`transaction` or `collection`) of
//! `Observation`s, optionally grouped by `DiagnosticReport`s, with the
//! `Patient`s they refer to, read into test results. Only SARS-CoV-2
//! detection tests (RNA or antigen, by LOINC code) are understood; anything
//! else is refused entry by entry with the reason. Pure: no I/O here.

use chrono::{DateTime, Utc};
use lazaret_core::test_result::TestOutcome;
use serde_json::Value;

/// SARS-CoV-2 detection tests (nucleic acid or antigen) by LOINC code.
/// Antibody (serology) codes are left out on purpose: they do not show a
/// current infection and must not start a trace.
pub const SARS_COV_2_LOINC: &[(&str, &str)] = &[
    ("94500-6", "SARS-CoV-2 RNA, respiratory, NAA with probe"),
    ("94309-2", "SARS-CoV-2 RNA, specimen, NAA with probe"),
    ("94533-7", "SARS-CoV-2 N gene, respiratory, NAA with probe"),
    (
        "94534-5",
        "SARS-CoV-2 RdRp gene, respiratory, NAA with probe",
    ),
    ("94759-8", "SARS-CoV-2 RNA, nasopharynx, NAA with probe"),
    ("94845-5", "SARS-CoV-2 RNA, saliva, NAA with probe"),
    (
        "94558-4",
        "SARS-CoV-2 antigen, respiratory, rapid immunoassay",
    ),
    (
        "95209-3",
        "SARS-CoV-2 antigen, respiratory, rapid immunoassay",
    ),
];

/// Result codes (SNOMED CT) and words read as a positive or negative result.
const POSITIVE: &[&str] = &["260373001", "10828004", "positive", "detected"];
const NEGATIVE: &[&str] = &["260415000", "260385009", "negative", "not detected"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// All or nothing: one refused entry refuses the bundle.
    Transaction,
    /// Each entry on its own.
    Collection,
}

/// A person as a `Patient` resource names them.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientInfo {
    pub person_id: String,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
}

/// A test result read from an `Observation`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabTest {
    pub test_id: String,
    pub person_id: String,
    /// The Patient resource, when the bundle carries it.
    pub patient: Option<PatientInfo>,
    pub result: TestOutcome,
    pub sampled_at: DateTime<Utc>,
    /// `issued`: when the laboratory released the result.
    pub resulted_at: Option<DateTime<Utc>>,
    pub lab: String,
    /// `corrected` or `amended`: a change to a result sent before, with the
    /// reason (the Observation's note, else the status).
    pub correction: Option<String>,
    pub loinc: String,
}

/// What one entry of the bundle is.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Test(Box<LabTest>),
    /// A Patient: stored with the test that refers to it.
    Patient(String),
    /// A DiagnosticReport: its Observations are the entries that count.
    Report {
        observations: usize,
    },
    Refused(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub kind: BundleKind,
    pub entries: Vec<Entry>,
}

/// Why the body is not a bundle at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    #[error("the body is not a FHIR Bundle (resourceType {0:?})")]
    NotABundle(String),
    #[error("Bundle.type {0:?} is not accepted: send a transaction or a collection")]
    BundleType(String),
    #[error("the Bundle has no entry")]
    Empty,
    #[error("the Bundle has {0} entries; at most {1} are accepted in one request")]
    TooManyEntries(usize, usize),
}

/// Entries in one request at most: a lab's daily batch fits; more is split.
pub const MAX_ENTRIES: usize = 5000;

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn first_identifier(r: &Value) -> Option<&str> {
    r.get("identifier")?
        .as_array()?
        .iter()
        .find_map(|i| text(i, "value"))
}

fn time(v: &Value, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    match text(v, key) {
        None => Ok(None),
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| format!("{key} {raw:?} is not a date-time with a time zone")),
    }
}

fn codings(concept: Option<&Value>) -> Vec<(&str, &str)> {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        text(c, "system").unwrap_or(""),
                        text(c, "code").unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn patient_info(r: &Value) -> Option<PatientInfo> {
    let person_id = first_identifier(r).or_else(|| text(r, "id"))?.to_owned();
    let name = r
        .get("name")
        .and_then(Value::as_array)
        .and_then(|ns| ns.first())
        .and_then(|n| {
            text(n, "text").map(str::to_owned).or_else(|| {
                let given: Vec<&str> = n
                    .get("given")
                    .and_then(Value::as_array)
                    .map(|g| g.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut parts = given;
                if let Some(f) = text(n, "family") {
                    parts.push(f);
                }
                (!parts.is_empty()).then(|| parts.join(" "))
            })
        });
    let telecom = |system: &str| {
        r.get("telecom")
            .and_then(Value::as_array)
            .and_then(|ts| {
                ts.iter()
                    .find(|t| text(t, "system") == Some(system))
                    .and_then(|t| text(t, "value"))
            })
            .map(str::to_owned)
    };
    let language = r
        .get("communication")
        .and_then(Value::as_array)
        .and_then(|cs| cs.first())
        .and_then(|c| {
            codings(c.get("language"))
                .first()
                .map(|(_, code)| code.to_string())
        })
        .filter(|c| !c.is_empty());
    Some(PatientInfo {
        person_id,
        full_name: name,
        phone: telecom("phone"),
        email: telecom("email"),
        language,
    })
}

/// The keys a resource can be referred to by inside the bundle: its
/// `fullUrl` and `Type/id`.
fn keys_of(entry: &Value, r: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(u) = text(entry, "fullUrl") {
        keys.push(u.to_owned());
    }
    if let (Some(t), Some(id)) = (text(r, "resourceType"), text(r, "id")) {
        keys.push(format!("{t}/{id}"));
    }
    keys
}

/// Reads a bundle. Each entry becomes a test, a patient, a report or a
/// refusal with its reason; the bundle itself must be a Bundle of type
/// `transaction` or `collection`.
pub fn read_bundle(body: &Value) -> Result<Bundle, FhirError> {
    let rt = text(body, "resourceType").unwrap_or("");
    if rt != "Bundle" {
        return Err(FhirError::NotABundle(rt.to_owned()));
    }
    let kind = match text(body, "type").unwrap_or("") {
        "transaction" => BundleKind::Transaction,
        "collection" => BundleKind::Collection,
        other => return Err(FhirError::BundleType(other.to_owned())),
    };
    let raw: &[Value] = body
        .get("entry")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if raw.is_empty() {
        return Err(FhirError::Empty);
    }
    if raw.len() > MAX_ENTRIES {
        return Err(FhirError::TooManyEntries(raw.len(), MAX_ENTRIES));
    }
    let null = Value::Null;
    let resource = |e: &'_ Value| -> Value { e.get("resource").cloned().unwrap_or(Value::Null) };
    // Patients and reports first: observations refer to them in any order.
    let mut patients: Vec<(Vec<String>, PatientInfo)> = Vec::new();
    let mut reports: Vec<(Vec<String>, Value)> = Vec::new();
    for e in raw {
        let r = resource(e);
        match text(&r, "resourceType") {
            Some("Patient") => {
                if let Some(p) = patient_info(&r) {
                    patients.push((keys_of(e, &r), p));
                }
            }
            Some("DiagnosticReport") => {
                let refs: Vec<String> = r
                    .get("result")
                    .and_then(Value::as_array)
                    .map(|rs| {
                        rs.iter()
                            .filter_map(|x| text(x, "reference").map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                reports.push((refs, r));
            }
            _ => {}
        }
    }
    let entries = raw
        .iter()
        .map(|e| {
            let r = resource(e);
            match text(&r, "resourceType") {
                Some("Patient") => match patient_info(&r) {
                    Some(p) => Entry::Patient(p.person_id),
                    None => Entry::Refused("Patient has neither identifier nor id".into()),
                },
                Some("DiagnosticReport") => {
                    let refs = r.get("result").and_then(Value::as_array).map_or(0, Vec::len);
                    if refs == 0 {
                        Entry::Refused(
                            "DiagnosticReport refers to no Observation (result is empty)".into(),
                        )
                    } else {
                        Entry::Report { observations: refs }
                    }
                }
                Some("Observation") => {
                    let keys = keys_of(e, &r);
                    let report = reports
                        .iter()
                        .find(|(refs, _)| refs.iter().any(|x| keys.contains(x)))
                        .map_or(&null, |(_, rep)| rep);
                    match observation(&r, report, &patients) {
                        Ok(t) => Entry::Test(Box::new(t)),
                        Err(why) => Entry::Refused(why),
                    }
                }
                Some(other) => Entry::Refused(format!(
                    "{other} resources are not read here: send Observation, DiagnosticReport and Patient"
                )),
                None => Entry::Refused("the entry has no resource with a resourceType".into()),
            }
        })
        .collect();
    Ok(Bundle { kind, entries })
}

fn observation(
    r: &Value,
    report: &Value,
    patients: &[(Vec<String>, PatientInfo)],
) -> Result<LabTest, String> {
    let status = text(r, "status").unwrap_or("");
    let correction = match status {
        "final" => None,
        "corrected" | "amended" => Some(
            r.get("note")
                .and_then(Value::as_array)
                .and_then(|n| n.first())
                .and_then(|n| text(n, "text"))
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{status} by the laboratory")),
        ),
        "entered-in-error" => {
            return Err(
                "status entered-in-error: a withdrawn result is corrected through a revision \
                 (POST /api/v1/tests/{id}/revisions) with its reason"
                    .into(),
            )
        }
        other => {
            return Err(format!(
                "status {other:?}: only final, corrected or amended results are stored"
            ))
        }
    };
    let codes = codings(r.get("code"));
    let loinc = codes
        .iter()
        .filter(|(system, _)| system.is_empty() || *system == "http://loinc.org")
        .find_map(|(_, code)| SARS_COV_2_LOINC.iter().find(|(c, _)| c == code))
        .map(|(c, _)| (*c).to_owned())
        .ok_or_else(|| {
            let seen: Vec<&str> = codes.iter().map(|(_, c)| *c).collect();
            format!(
                "code {seen:?} is not a SARS-CoV-2 detection test (LOINC {})",
                SARS_COV_2_LOINC
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let test_id = first_identifier(r)
        .or_else(|| text(r, "id"))
        .ok_or("Observation has neither identifier nor id")?
        .to_owned();
    let subject = r
        .get("subject")
        .and_then(|s| text(s, "reference"))
        .or_else(|| report.get("subject").and_then(|s| text(s, "reference")))
        .ok_or("Observation has no subject (a Patient reference)")?;
    let patient = patients
        .iter()
        .find(|(keys, _)| keys.iter().any(|k| k == subject))
        .map(|(_, p)| p.clone());
    let person_id = match (&patient, subject.strip_prefix("Patient/")) {
        (Some(p), _) => p.person_id.clone(),
        (None, Some(id)) if !id.is_empty() => id.to_owned(),
        (None, _) => {
            return Err(format!(
                "subject {subject:?} is neither Patient/<id> nor a Patient in this bundle"
            ))
        }
    };
    let result = result_of(r)?;
    let sampled_at = time(r, "effectiveDateTime")?
        .or(r
            .get("effectivePeriod")
            .map(|p| time(p, "start"))
            .transpose()?
            .flatten())
        .or(time(report, "effectiveDateTime")?)
        .ok_or("Observation has no effectiveDateTime (when the sample was taken)")?;
    let resulted_at = time(r, "issued")?.or(time(report, "issued")?);
    let lab = [r, report]
        .iter()
        .find_map(|x| {
            x.get("performer")
                .and_then(Value::as_array)
                .and_then(|p| p.iter().find_map(|p| text(p, "display")))
        })
        .unwrap_or("unnamed laboratory")
        .to_owned();
    Ok(LabTest {
        test_id,
        person_id,
        patient,
        result,
        sampled_at,
        resulted_at,
        lab,
        correction,
        loinc,
    })
}

fn result_of(r: &Value) -> Result<TestOutcome, String> {
    let mut words: Vec<String> = codings(r.get("valueCodeableConcept"))
        .into_iter()
        .map(|(_, c)| c.to_ascii_lowercase())
        .collect();
    if let Some(t) = r
        .get("valueCodeableConcept")
        .and_then(|c| text(c, "text"))
        .or_else(|| text(r, "valueString"))
    {
        words.push(t.to_ascii_lowercase());
    }
    if words.is_empty() {
        return Err("Observation has no valueCodeableConcept or valueString result".into());
    }
    let is = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    match (is(POSITIVE), is(NEGATIVE)) {
        (true, false) => Ok(TestOutcome::Positive),
        (false, true) => Ok(TestOutcome::Negative),
        _ => Err(format!(
            "result {words:?} is not read as positive or negative (e.g. SNOMED 260373001 \
             Detected, 260415000 Not detected); inconclusive results are not stored"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(kind: &str, entries: Value) -> Value {
        json!({ "resourceType": "Bundle", "type": kind, "entry": entries })
    }

    fn obs(id: &str, subject: &str, code: &str, value: &str) -> Value {
        json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": {
            "resourceType": "Observation", "id": id, "status": "final",
            "identifier": [{ "system": "urn:lab", "value": format!("T-{id}") }],
            "code": { "coding": [{ "system": "http://loinc.org", "code": code }] },
            "subject": { "reference": subject },
            "effectiveDateTime": "2026-03-09T12:00:00Z",
            "issued": "2026-03-10T08:30:00+01:00",
            "performer": [{ "display": "Lab North" }],
            "valueCodeableConcept": { "coding": [{ "system": "http://snomed.info/sct", "code": value }] }
        }})
    }

    #[test]
    fn observations_with_patients_and_reports() {
        let b = bundle(
            "transaction",
            json!([
                { "fullUrl": "urn:uuid:p1", "resource": { "resourceType": "Patient", "id": "p1",
                  "identifier": [{ "value": "ANA" }],
                  "name": [{ "family": "Lima", "given": ["Ana"] }],
                  "telecom": [{ "system": "phone", "value": "+41441234567" }] } },
                obs("o1", "urn:uuid:p1", "94500-6", "260373001"),
                obs("o2", "Patient/BORIS", "94558-4", "260415000"),
                { "resource": { "resourceType": "DiagnosticReport", "status": "final",
                  "result": [{ "reference": "urn:uuid:o1" }] } },
            ]),
        );
        let got = read_bundle(&b).unwrap();
        assert_eq!(got.kind, BundleKind::Transaction);
        assert_eq!(got.entries[0], Entry::Patient("ANA".into()));
        let Entry::Test(t) = &got.entries[1] else {
            panic!("{:?}", got.entries[1])
        };
        assert_eq!(t.test_id, "T-o1");
        assert_eq!(t.person_id, "ANA");
        assert_eq!(t.result, TestOutcome::Positive);
        assert_eq!(
            t.resulted_at.unwrap(),
            "2026-03-10T07:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            t.patient.as_ref().unwrap().full_name.as_deref(),
            Some("Ana Lima")
        );
        assert_eq!(t.lab, "Lab North");
        let Entry::Test(t2) = &got.entries[2] else {
            panic!()
        };
        assert_eq!(
            (t2.person_id.as_str(), t2.result),
            ("BORIS", TestOutcome::Negative)
        );
        assert!(t2.patient.is_none());
        assert_eq!(got.entries[3], Entry::Report { observations: 1 });
    }

    #[test]
    fn what_is_not_understood_is_refused_with_the_reason() {
        let mut serology = obs("s", "Patient/X", "94563-4", "260373001");
        let mut prelim = obs("p", "Patient/X", "94500-6", "260373001");
        prelim["resource"]["status"] = json!("preliminary");
        let mut unclear = obs("u", "Patient/X", "94500-6", "419984006");
        unclear["resource"]["valueCodeableConcept"]["text"] = json!("inconclusive");
        let mut no_time = obs("n", "Patient/X", "94500-6", "260373001");
        no_time["resource"]
            .as_object_mut()
            .unwrap()
            .remove("effectiveDateTime");
        let mut corrected = obs("c", "Patient/X", "94500-6", "260415000");
        corrected["resource"]["status"] = json!("corrected");
        corrected["resource"]["note"] = json!([{ "text": "sample mix-up" }]);
        serology["resource"]["code"]["coding"][0]["system"] = json!("http://loinc.org");
        let b = bundle(
            "collection",
            json!([serology, prelim, unclear, no_time, corrected,
                   { "resource": { "resourceType": "Condition" } }]),
        );
        let got = read_bundle(&b).unwrap();
        let why = |i: usize| match &got.entries[i] {
            Entry::Refused(w) => w.clone(),
            other => panic!("{other:?}"),
        };
        assert!(
            why(0).contains("not a SARS-CoV-2 detection test"),
            "{}",
            why(0)
        );
        assert!(why(1).contains("preliminary"));
        assert!(why(2).contains("inconclusive"));
        assert!(why(3).contains("effectiveDateTime"));
        let Entry::Test(c) = &got.entries[4] else {
            panic!()
        };
        assert_eq!(c.correction.as_deref(), Some("sample mix-up"));
        assert!(why(5).contains("Condition"));
    }

    #[test]
    fn not_a_bundle() {
        assert_eq!(
            read_bundle(&json!({ "resourceType": "Observation" })),
            Err(FhirError::NotABundle("Observation".into()))
        );
        assert_eq!(
            read_bundle(&bundle("searchset", json!([{}]))),
            Err(FhirError::BundleType("searchset".into()))
        );
        assert_eq!(
            read_bundle(&bundle("batch", json!([]))),
            Err(FhirError::BundleType("batch".into()))
        );
        assert_eq!(
            read_bundle(&bundle("collection", json!([]))),
            Err(FhirError::Empty)
        );
    }
}
