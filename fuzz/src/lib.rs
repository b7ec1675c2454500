//! What several fuzz targets share: a Tokio runtime and a migrated in-memory
//! store, made once per fuzzed process.
//!
//! Both are made lazily inside the fuzzed closure, never before `fuzz!`:
//! AFL forks the process at `fuzz!` (deferred fork server), and threads (the
//! runtime's, SQLite's) do not survive a fork.

use std::sync::OnceLock;

use chrono::{DateTime, TimeZone as _, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::Language;
use lazaret_core::district::District;
use lazaret_core::ids::PersonId;
use lazaret_core::person::{FullName, Person};
use lazaret_store::Store;

/// A fixed clock: the same input must take the same path.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

pub struct Harness {
    pub rt: &'static tokio::runtime::Runtime,
    pub store: Store,
}

/// The process's Tokio runtime (one thread: the fuzzer runs on one core).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime")
    })
}

/// The process's runtime and store: an in-memory SQLite database, migrated,
/// with persons `P1` (district `north`) and `P2` (`south`) so that order rows
/// naming them get past "person does not exist".
pub fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = runtime();
        let store = rt.block_on(async {
            let store = Store::open("sqlite::memory:")
                .await
                .expect("an in-memory store");
            for (id, district) in [("P1", "north"), ("P2", "south")] {
                let p = Person {
                    id: PersonId::parse(id).unwrap(),
                    full_name: FullName::parse("Fuzz Person").unwrap(),
                    phone: None,
                    email: None,
                    language: Language::parse("en").unwrap(),
                    district: District::parse(district).unwrap(),
                };
                let audit = AuditRecord {
                    at: now(),
                    actor: "fuzz".into(),
                    action: "person.create".into(),
                    subject_type: "person".into(),
                    subject_id: id.into(),
                    details: String::new(),
                };
                store
                    .insert_person(&p, now(), &audit)
                    .await
                    .expect("a seeded person");
            }
            store
        });
        Harness { rt, store }
    })
}
