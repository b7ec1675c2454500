//! What the CSV commands (`import`, `orders create`) print about a file's
//! bad rows and its outcome.

use std::path::Path;

use anyhow::{bail, Result};
use lazaret_store::RowError;

/// One line per bad row, `file:line: column c: reason`, as compilers print
/// errors (editors can jump to them).
pub fn print_row_errors(file: &Path, errors: &[RowError]) {
    for e in errors {
        eprintln!(
            "{}:{}: column {}: {}",
            file.display(),
            e.line,
            e.column,
            e.reason
        );
    }
}

/// The end of the summary line: whether anything was stored.
pub fn stored_note(dry_run: bool, committed: bool) -> &'static str {
    match (dry_run, committed) {
        (true, _) => " — dry run, nothing stored",
        (false, true) => "",
        (false, false) => " — nothing stored",
    }
}

/// Fails the command (exit status 1) when the file had bad rows.
pub fn fail_on_row_errors(file: &Path, errors: &[RowError], total: u64) -> Result<()> {
    if !errors.is_empty() {
        let shown = if total > errors.len() as u64 {
            format!(" (the first {} shown)", errors.len())
        } else {
            String::new()
        };
        bail!(
            "{total} error(s) in {}{shown}; nothing was stored",
            file.display()
        );
    }
    Ok(())
}
