//! The tables an import writes and their upsert statements, for both
//! backends.

use super::ImportKind;

/// How one table is upserted.
pub(super) struct Upsert {
    /// Tells apart two upserts of one table (statement caches key on it).
    pub name: &'static str,
    pub table: &'static str,
    pub cols: &'static [&'static str],
    /// The primary key: the first `key_cols` of `cols`.
    pub key_cols: usize,
    /// Columns overwritten on conflict.
    update: &'static [&'static str],
    /// Columns whose difference justifies an update (others ride along).
    compare: &'static [&'static str],
    /// Extra condition for updating an existing row.
    guard: Option<&'static str>,
    /// Columns where an empty cell means "not given here": the stored value
    /// stays (a ride log without phone numbers must not erase them).
    keep_when_empty: &'static [&'static str],
}

pub(super) const PERSONS: Upsert = Upsert {
    name: "persons",
    table: "persons",
    cols: &[
        "id",
        "full_name",
        "phone",
        "email",
        "language",
        "created_at",
        "updated_at",
        // Set for a new person only: an import never moves anyone.
        "district",
    ],
    key_cols: 1,
    update: &["full_name", "phone", "email", "updated_at"],
    compare: &["full_name", "phone", "email"],
    guard: None,
    keep_when_empty: &["phone", "email"],
};
/// The language a row gives for its person. Apart from `PERSONS` because
/// an empty cell must keep the stored language, yet the column has no
/// empty value to insert for a new person (`PERSONS` inserts `en`); this
/// upsert runs after `PERSONS` in the same batch, so its row always exists.
pub(super) const PERSON_LANGUAGES: Upsert = Upsert {
    name: "person_languages",
    table: "persons",
    cols: PERSONS.cols,
    key_cols: 1,
    update: &["language", "updated_at"],
    compare: &["language"],
    guard: None,
    keep_when_empty: &[],
};
pub(super) const FLIGHTS: Upsert = Upsert {
    name: "flights",
    table: "flights",
    cols: &["id", "flight_no", "departure", "origin", "destination"],
    key_cols: 1,
    update: &["flight_no", "departure", "origin", "destination"],
    compare: &["flight_no", "departure", "origin", "destination"],
    guard: None,
    keep_when_empty: &[],
};
pub(super) const FLIGHT_OCCUPANTS: Upsert = Upsert {
    name: "flight_occupants",
    table: "flight_occupants",
    cols: &["flight_id", "person_id", "role", "seat", "booking_ref"],
    key_cols: 2,
    update: &["role", "seat", "booking_ref"],
    compare: &["role", "seat", "booking_ref"],
    guard: None,
    keep_when_empty: &[],
};
pub(super) const RESIDENCES: Upsert = Upsert {
    name: "residences",
    table: "residences",
    cols: &["person_id", "building_id", "unit", "address", "lat", "lon"],
    key_cols: 1,
    update: &["building_id", "unit", "address", "lat", "lon"],
    compare: &["building_id", "unit", "address", "lat", "lon"],
    guard: None,
    keep_when_empty: &[],
};
pub(super) const RIDES: Upsert = Upsert {
    name: "rides",
    table: "rides",
    cols: &["id", "vehicle_id", "start_at", "end_at"],
    key_cols: 1,
    update: &["vehicle_id", "start_at", "end_at"],
    compare: &["vehicle_id", "start_at", "end_at"],
    guard: None,
    keep_when_empty: &[],
};
pub(super) const RIDE_OCCUPANTS: Upsert = Upsert {
    name: "ride_occupants",
    table: "ride_occupants",
    cols: &["ride_id", "person_id", "role"],
    key_cols: 2,
    update: &["role"],
    compare: &["role"],
    guard: None,
    keep_when_empty: &[],
};
pub(super) const TESTS: Upsert = Upsert {
    name: "tests",
    table: "test_results",
    cols: &[
        "id",
        "person_id",
        "sampled_at",
        "result",
        "lab",
        "symptom_onset",
        "revisions",
        "updated_at",
    ],
    key_cols: 1,
    update: &[
        "person_id",
        "sampled_at",
        "result",
        "lab",
        "symptom_onset",
        "updated_at",
    ],
    compare: &["person_id", "sampled_at", "result", "lab", "symptom_onset"],
    // A revised result keeps its corrected value and history.
    guard: Some("test_results.revisions = '[]'"),
    keep_when_empty: &[],
};

/// The tables a file of `kind` fills, in the order they are written: a
/// row's persons (then their languages), flight or ride come before the
/// occupants that refer to them. Files with persons have them at 0 and 1.
pub(super) fn tables_for(kind: ImportKind) -> &'static [&'static Upsert] {
    match kind {
        ImportKind::Flights => &[&PERSONS, &PERSON_LANGUAGES, &FLIGHTS, &FLIGHT_OCCUPANTS],
        ImportKind::Residences => &[&PERSONS, &PERSON_LANGUAGES, &RESIDENCES],
        ImportKind::Rides => &[&PERSONS, &PERSON_LANGUAGES, &RIDES, &RIDE_OCCUPANTS],
        ImportKind::Tests => &[&TESTS],
    }
}

/// Parameter style of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Params {
    /// `?`: SQLite, whose numbered parameters are looked up by name per
    /// argument (quadratic when binding thousands of them).
    Anonymous,
    /// `$1, $2, …`: PostgreSQL.
    Numbered,
}

impl Upsert {
    /// The upsert of `rows` rows (multi-row `VALUES`); a conflicting row is
    /// updated only when a compared column differs, so re-importing the
    /// same file changes nothing.
    pub fn sql(&self, rows: usize, params: Params) -> String {
        let n = self.cols.len();
        let mut s = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.cols.join(", ")
        );
        for r in 0..rows {
            if r > 0 {
                s.push(',');
            }
            s.push('(');
            for c in 0..n {
                if c > 0 {
                    s.push(',');
                }
                match params {
                    Params::Numbered => s.push_str(&format!("${}", r * n + c + 1)),
                    Params::Anonymous => s.push('?'),
                }
            }
            s.push(')');
        }
        let t = self.table;
        let set: Vec<String> = self
            .update
            .iter()
            .map(|c| {
                if self.keep_when_empty.contains(c) {
                    format!("{c} = COALESCE(excluded.{c}, {t}.{c})")
                } else {
                    format!("{c} = excluded.{c}")
                }
            })
            .collect();
        let cond: Vec<String> = self
            .compare
            .iter()
            .map(|c| {
                if self.keep_when_empty.contains(c) {
                    format!("(excluded.{c} IS NOT NULL AND {t}.{c} IS DISTINCT FROM excluded.{c})")
                } else {
                    format!("{t}.{c} IS DISTINCT FROM excluded.{c}")
                }
            })
            .collect();
        let cond = format!("({})", cond.join(" OR "));
        let cond = match self.guard {
            Some(g) => format!("{g} AND {cond}"),
            None => cond,
        };
        s.push_str(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {} WHERE {cond}",
            self.cols[..self.key_cols].join(", "),
            set.join(", ")
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_sql_names_the_key_and_keeps_empty_contact_details() {
        let one = PERSONS.sql(1, Params::Anonymous);
        assert!(one.starts_with("INSERT INTO persons (id, full_name, phone, email, language, created_at, updated_at, district) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"));
        // The district is set on insert only: an import never moves anyone.
        assert!(!one.contains("district = "), "{one}");
        assert!(one.contains("phone = COALESCE(excluded.phone, persons.phone)"));
        let two = RIDE_OCCUPANTS.sql(2, Params::Numbered);
        assert!(two.contains("VALUES ($1,$2,$3),($4,$5,$6) ON CONFLICT (ride_id, person_id)"));
        assert!(TESTS
            .sql(1, Params::Anonymous)
            .contains("WHERE test_results.revisions = '[]' AND ("));
    }
}
