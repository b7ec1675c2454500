//! A bulk import file (flights, residences, rides, tests) through the row
//! reader and validation, as `lazaret import` and the console run it, as a
//! dry run (nothing is written: the writes are parameterised upserts of rows
//! that passed this validation).
//!
//! Input: one byte of options, then the CSV file. Bits 0-1: the kind;
//! bit 2: an officer limited to `north` (the named persons are looked up);
//! bit 3: the file's `--district` is `north`; bits 4-7: the batch size
//! (1 to 16 rows, so batch boundaries are crossed).

use std::collections::BTreeSet;

use lazaret_core::district::{District, DistrictScope};
use lazaret_fuzz::{harness, now};
use lazaret_store::{ImportKind, ImportOptions};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&opts, csv)) = data.split_first() else {
            return;
        };
        let kind = [
            ImportKind::Flights,
            ImportKind::Residences,
            ImportKind::Rides,
            ImportKind::Tests,
        ][usize::from(opts & 3)];
        let north = District::parse("north").unwrap();
        let options = ImportOptions {
            dry_run: true,
            batch_rows: usize::from(opts >> 4) + 1,
            scope: (opts & 4 != 0).then(|| DistrictScope::Only(BTreeSet::from([north.clone()]))),
            district: (opts & 8 != 0).then_some(north),
            ..Default::default()
        };
        let h = harness();
        let report =
            h.rt.block_on(h.store.import_csv(kind, csv, &options, now()));
        if let Ok(r) = report {
            assert!(!r.committed, "a dry run committed");
            assert!(r.errors.len() <= lazaret_store::ROW_ERRORS_KEPT);
        }
    });
}
