//! An orders file (`lazaret orders create --csv`, `POST /api/v1/orders/bulk`)
//! through parsing, validation, the district rules and the person look-ups,
//! as a dry run against a store holding persons P1 (north) and P2 (south).
//!
//! Input: one byte of options, then the CSV file. Bits 0-1: the officer's
//! scope (national, north, north and south, none); bit 2: the file's
//! default district is `north`.

use std::collections::BTreeSet;

use lazaret_core::district::{District, DistrictScope};
use lazaret_fuzz::{harness, now};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&opts, csv)) = data.split_first() else {
            return;
        };
        let north = District::parse("north").unwrap();
        let south = District::parse("south").unwrap();
        let scope = match opts & 3 {
            0 => DistrictScope::All,
            1 => DistrictScope::Only(BTreeSet::from([north.clone()])),
            2 => DistrictScope::Only(BTreeSet::from([north.clone(), south])),
            _ => DistrictScope::Only(BTreeSet::new()),
        };
        let default = (opts & 4 != 0).then_some(north);
        let h = harness();
        let report = h.rt.block_on(h.store.import_orders_csv(
            csv,
            true,
            &scope,
            default.as_ref(),
            "fuzz",
            now(),
        ));
        if let Ok(r) = report {
            assert!(!r.committed, "a dry run committed");
            assert!(r.errors.is_empty() || r.results.is_empty());
        }
    });
}
