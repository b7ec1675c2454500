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

/// `$1, $2, …, $n`: the placeholders of an `IN (…)` list of `n` values
/// bound first.
pub(crate) fn numbered(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A list query's WHERE clause with only the conditions that apply, each
/// value a numbered text parameter. (`($1 IS NULL OR col = $1)` for an
/// absent filter keeps the planner from using an index on `col`, and on
/// the cursor key it turns every page into a scan from the first row.)
#[derive(Debug, Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    pub(crate) values: Vec<String>,
}

impl Where {
    /// Adds `cond` with its `?` replaced by the next parameter, bound to `value`.
    pub(crate) fn bind(&mut self, cond: &str, value: impl Into<String>) -> &mut Self {
        self.values.push(value.into());
        self.clauses
            .push(cond.replace('?', &format!("${}", self.values.len())));
        self
    }

    /// Adds `cond` (no parameter) as it is.
    pub(crate) fn raw(&mut self, cond: impl Into<String>) -> &mut Self {
        self.clauses.push(cond.into());
        self
    }

    /// Limits `column` to `scope` (nothing for a national scope).
    pub(crate) fn scope(&mut self, column: &str, scope: &DistrictScope) -> &mut Self {
        let (sql, values) = clause(column, scope, self.values.len() + 1);
        if let Some(cond) = sql.strip_prefix(" AND ") {
            self.clauses.push(cond.to_owned());
            self.values.extend(values);
        }
        self
    }

    /// ` WHERE a AND b`, or nothing.
    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The number of the next parameter (for the LIMIT after the values).
    pub(crate) fn next(&self) -> usize {
        self.values.len() + 1
    }
}

#[cfg(test)]
mod where_tests {
    use super::*;

    #[test]
    fn only_the_conditions_given_with_numbered_parameters() {
        assert_eq!(Where::default().sql(), "");
        let mut w = Where::default();
        w.bind("id > ?", "k")
            .raw("kind <> 'x'")
            .scope("district", &DistrictScope::parse("b,a").unwrap())
            .bind("status = ?", "open");
        assert_eq!(
            w.sql(),
            " WHERE id > $1 AND kind <> 'x' AND district IN ($2, $3) AND status = $4"
        );
        assert_eq!(w.values, ["k", "a", "b", "open"]);
        assert_eq!(w.next(), 5);
        let mut none = Where::default();
        none.scope("district", &DistrictScope::parse("").unwrap());
        assert_eq!(none.sql(), " WHERE 1 = 0");
        let mut all = Where::default();
        all.scope("district", &DistrictScope::All);
        assert_eq!(all.sql(), "");
        assert_eq!(numbered(3), "$1, $2, $3");
    }
}
