//! Limiting a query to an officer's districts, in SQL: the clause and its
//! values are built from the [`DistrictScope`] and bound as parameters, so a
//! record outside the scope is never fetched.

use lazaret_core::district::DistrictScope;

/// `AND <column> IN ($first, …)` for a limited scope (the empty set matches
/// nothing), nothing for a national one; the values to bind, in order.
pub(crate) fn clause(column: &str, scope: &DistrictScope, first: usize) -> (String, Vec<String>) {
    match scope.limit() {
        None => (String::new(), Vec::new()),
        Some(set) if set.is_empty() => (" AND 1 = 0".to_owned(), Vec::new()),
        Some(set) => {
            let params: Vec<String> = (first..first + set.len())
                .map(|i| format!("${i}"))
                .collect();
            (
                format!(" AND {column} IN ({})", params.join(", ")),
                set.iter().map(|d| d.as_str().to_owned()).collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses() {
        let all = DistrictScope::All;
        assert_eq!(clause("d", &all, 3), (String::new(), vec![]));
        let none = DistrictScope::parse("").unwrap();
        assert_eq!(clause("d", &none, 3).0, " AND 1 = 0");
        let two = DistrictScope::parse("south,north").unwrap();
        assert_eq!(
            clause("o.district", &two, 3),
            (
                " AND o.district IN ($3, $4)".to_owned(),
                vec!["north".to_owned(), "south".to_owned()]
            )
        );
    }
}
