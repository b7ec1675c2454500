//! The PostgreSQL side of an import: multi-row upserts through the pool's
//! transaction, sent while the caller parses the next batch (the server
//! does the work in its own process).

use std::collections::HashMap;

use sqlx::PgConnection;

use super::rows::{Batch, Value};
use super::tables::Params;
use crate::error::StoreError;

/// PostgreSQL accepts up to 65,535 parameters per statement.
const MAX_PARAMS: usize = 30_000;
/// Rows per statement at most: larger ones save nothing measurable.
const MAX_STATEMENT_ROWS: usize = 1024;

/// Statement texts by (table, rows): a power-of-two number of rows per
/// statement, so a whole import prepares a dozen statements per table and
/// then takes them from the connection's statement cache.
#[derive(Default)]
pub(super) struct Statements {
    sql: HashMap<(&'static str, usize), String>, // (upsert name, rows)
}

/// Upserts every table of the batch, in order; the number of rows changed.
pub(super) async fn write_batch(
    conn: &mut PgConnection,
    batch: &Batch,
    statements: &mut Statements,
) -> Result<u64, StoreError> {
    let mut changed = 0u64;
    for rows in &batch.tables {
        let table = rows.table;
        let order = rows.order();
        let cap = (MAX_PARAMS / table.cols.len()).clamp(1, MAX_STATEMENT_ROWS);
        let mut next = order;
        while !next.is_empty() {
            let n = 1 << next.len().min(cap).ilog2();
            let (chunk, rest) = next.split_at(n);
            next = rest;
            let sql = statements
                .sql
                .entry((table.name, n))
                .or_insert_with(|| table.sql(n, Params::Numbered));
            let mut q = sqlx::query(sql);
            for &i in chunk {
                for v in rows.row(i) {
                    q = match v {
                        Value::Text(s) => q.bind(s),
                        Value::Null => q.bind(None::<&str>),
                        Value::Int(i) => q.bind(i),
                        Value::Real(f) => q.bind(f),
                    };
                }
            }
            changed += q.execute(&mut *conn).await?.rows_affected();
        }
    }
    Ok(changed)
}
