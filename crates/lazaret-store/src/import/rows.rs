//! Staged rows: what one batch of a CSV file becomes before it is written.
//!
//! A table's rows live in one text buffer plus a flat list of cells, so
//! staging a row allocates nothing and a whole batch moves between threads
//! (and is reused) as a handful of buffers instead of a dozen strings per
//! row. On a 2.5M-row file the per-value strings handed to another thread
//! were a sizeable share of the import (allocator contention included).

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use super::tables::{tables_for, Upsert};
use super::ImportKind;

/// One value of a staged row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value<'a> {
    Text(&'a str),
    Null,
    Int(i64),
    Real(f64),
}

/// A stored cell: text is a range of the table's buffer.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Text { start: u32, len: u32 },
    Null,
    Int(i64),
    Real(f64),
}

/// The staged rows of one table.
pub(super) struct Rows {
    pub table: &'static Upsert,
    text: String,
    cells: Vec<Cell>,
    /// Set by [`Batch::seal`]: see [`Rows::order`].
    order: Vec<usize>,
}

impl Rows {
    fn new(table: &'static Upsert) -> Self {
        Self {
            table,
            text: String::new(),
            cells: Vec::new(),
            order: Vec::new(),
        }
    }

    /// Stages one row; `row` has one value per column of the table.
    pub fn push(&mut self, row: &[Value<'_>]) {
        debug_assert_eq!(row.len(), self.table.cols.len(), "{}", self.table.table);
        self.push_cells(row);
    }

    /// Stages a text cell written by `args` (a formatted value, no
    /// temporary string), for rows built cell by cell with [`Rows::cell`].
    pub fn formatted(&mut self, args: fmt::Arguments<'_>) {
        let cell = self.store(|t| {
            // Writing into a String cannot fail.
            let _ = t.write_fmt(args);
        });
        self.cells.push(cell);
    }

    /// Stages one value of a row built cell by cell.
    pub fn cell(&mut self, v: Value<'_>) {
        self.push_cells(&[v]);
    }

    fn push_cells(&mut self, vs: &[Value<'_>]) {
        for v in vs {
            let cell = match *v {
                Value::Text(s) => self.store(|t| t.push_str(s)),
                Value::Null => Cell::Null,
                Value::Int(i) => Cell::Int(i),
                Value::Real(f) => Cell::Real(f),
            };
            self.cells.push(cell);
        }
    }

    fn store(&mut self, write: impl FnOnce(&mut String)) -> Cell {
        let start = self.text.len();
        write(&mut self.text);
        // A batch is capped (see `MAX_BATCH_ROWS`) far below 4 GiB of text.
        Cell::Text {
            start: start as u32,
            len: (self.text.len() - start) as u32,
        }
    }

    pub fn len(&self) -> usize {
        self.cells.len() / self.table.cols.len()
    }

    fn value(&self, c: Cell) -> Value<'_> {
        match c {
            Cell::Text { start, len } => {
                Value::Text(&self.text[start as usize..(start + len) as usize])
            }
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Int(i),
            Cell::Real(f) => Value::Real(f),
        }
    }

    /// The values of row `i`.
    pub fn row(&self, i: usize) -> impl Iterator<Item = Value<'_>> + '_ {
        let n = self.table.cols.len();
        self.cells[i * n..(i + 1) * n]
            .iter()
            .map(|&c| self.value(c))
    }

    fn key(&self, i: usize) -> impl Iterator<Item = Value<'_>> + '_ {
        self.row(i).take(self.table.key_cols)
    }

    /// The rows to write (after [`Batch::seal`]), in key order, each key
    /// once with the last value staged for it: one statement may not touch
    /// a row twice, and neighbouring keys land on neighbouring B-tree pages.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    fn seal(&mut self) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        // Stable: equal keys stay in file order, so the last one wins below.
        order.sort_by(|&a, &b| {
            self.key(a)
                .zip(self.key(b))
                .map(|(x, y)| key_cmp(x, y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut kept: Vec<usize> = Vec::with_capacity(order.len());
        for i in order {
            match kept.last_mut() {
                Some(last) if self.key(*last).eq(self.key(i)) => *last = i,
                _ => kept.push(i),
            }
        }
        self.order = kept;
    }

    fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
        self.order.clear();
    }
}

/// Keys are text; anything else sorts after it, as equal.
fn key_cmp(a: Value<'_>, b: Value<'_>) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Text(a), Value::Text(b)) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    }
}

/// The staged rows of every table of one batch, in write order.
pub(super) struct Batch {
    pub tables: Vec<Rows>,
}

impl Batch {
    pub fn new(kind: ImportKind) -> Self {
        Self {
            tables: tables_for(kind).iter().map(|t| Rows::new(t)).collect(),
        }
    }

    pub fn clear(&mut self) {
        self.tables.iter_mut().for_each(Rows::clear);
    }

    /// Puts each table's rows in write order; done by the parsing thread,
    /// which has time to spare, not by the writer, which has none.
    pub fn seal(&mut self) {
        self.tables.iter_mut().for_each(Rows::seal);
    }

    pub fn rows(&self) -> usize {
        self.tables.iter().map(Rows::len).sum()
    }
}

/// The persons this import has already staged, with the details given:
/// a driver on fifty rides or crew on many flights is upserted once, not
/// fifty times, as the later upserts could not change anything. Bounded
/// (cleared when full), so memory stays flat however long the file.
pub(super) struct PersonMemo {
    seen: HashMap<Box<str>, Box<str>>,
    details: String,
}

/// Entries kept at most: more than a file's recurring people (drivers, crew)
/// need, small next to the page cache.
const MEMO_CAPACITY: usize = 65_536;

impl PersonMemo {
    pub fn new() -> Self {
        Self {
            seen: HashMap::new(),
            details: String::new(),
        }
    }

    /// True when `id` was already staged by this import with exactly these
    /// details; otherwise remembers them and returns false.
    pub fn seen(
        &mut self,
        id: &str,
        name: &str,
        phone: Option<&str>,
        email: Option<&str>,
        language: Option<&str>,
    ) -> bool {
        self.details.clear();
        // NUL cannot occur in a validated name, phone, e-mail address or
        // language code.
        for part in [
            name,
            phone.unwrap_or("\u{1}"),
            email.unwrap_or("\u{1}"),
            language.unwrap_or("\u{1}"),
        ] {
            self.details.push_str(part);
            self.details.push('\0');
        }
        if self.seen.get(id).is_some_and(|d| **d == *self.details) {
            return true;
        }
        if self.seen.len() >= MEMO_CAPACITY {
            self.seen.clear();
        }
        self.seen.insert(id.into(), self.details.as_str().into());
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::tables::{PERSONS, RIDE_OCCUPANTS};
    use super::*;

    fn texts(rows: &Rows, i: usize) -> Vec<String> {
        rows.row(i)
            .map(|v| match v {
                Value::Text(s) => s.to_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn order_sorts_by_the_whole_key_and_keeps_the_last_of_equal_keys() {
        let mut r = Rows::new(&RIDE_OCCUPANTS);
        for (ride, person, role) in [
            ("RD2", "P1", "passenger"),
            ("RD1", "P9", "passenger"),
            ("RD2", "P1", "driver"),
            ("RD1", "P2", "driver"),
        ] {
            r.push(&[Value::Text(ride), Value::Text(person), Value::Text(role)]);
        }
        r.seal();
        let rows: Vec<Vec<String>> = r.order().iter().map(|&i| texts(&r, i)).collect();
        assert_eq!(
            rows,
            vec![
                vec!["RD1", "P2", "driver"],
                vec!["RD1", "P9", "passenger"],
                vec!["RD2", "P1", "driver"],
            ]
        );
    }

    #[test]
    fn cells_keep_their_types_and_formatted_text() {
        let mut r = Rows::new(&PERSONS);
        r.cell(Value::Text("P1"));
        r.formatted(format_args!("{} {}", "Ada", 7));
        r.push_cells(&[Value::Null, Value::Text("a@b.org"), Value::Text("en")]);
        r.push_cells(&[Value::Int(5), Value::Real(2.5), Value::Text("north")]);
        assert_eq!(r.len(), 1);
        let row: Vec<Value<'_>> = r.row(0).collect();
        assert_eq!(
            row,
            vec![
                Value::Text("P1"),
                Value::Text("Ada 7"),
                Value::Null,
                Value::Text("a@b.org"),
                Value::Text("en"),
                Value::Int(5),
                Value::Real(2.5),
                Value::Text("north"),
            ]
        );
    }

    #[test]
    fn memo_skips_only_the_same_details_again() {
        let mut m = PersonMemo::new();
        assert!(!m.seen("D1", "Driver One", None, None, None));
        assert!(m.seen("D1", "Driver One", None, None, None));
        // A phone given now is news; an e-mail left out is different too.
        assert!(!m.seen("D1", "Driver One", Some("+41790000000"), None, None));
        assert!(m.seen("D1", "Driver One", Some("+41790000000"), None, None));
        assert!(!m.seen("D1", "Driver One", None, None, None));
        assert!(!m.seen("D2", "Driver One", None, None, None));
        assert!(!m.seen("D2", "Driver One", None, None, Some("ru")));
        assert!(m.seen("D2", "Driver One", None, None, Some("ru")));
    }
}
