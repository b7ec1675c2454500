//! A FHIR R4 body sent to `POST /api/v1/fhir`, up to the service: the JSON
//! parse, the Bundle reader (Observations, DiagnosticReports, Patients,
//! LOINC and SNOMED codes, times, references) and the checks made on each
//! test before anything is written.
//!
//! Input: the request body as sent.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = lazaret_server::fuzzing::fhir_bundle(data);
    });
}
