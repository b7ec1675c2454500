//! Errors of the storage layer.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://HOST/DB")]
    UnsupportedUrl(String),
    // The cause is the source, not part of the message, so that a printed
    // chain (`main`'s `{e:#}`) names it once.
    #[error("cannot open database")]
    Connect(#[source] sqlx::Error),
    #[error("migrating the schema failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{entity} {id} already exists")]
    Conflict { entity: &'static str, id: String },
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} {id} was changed by someone else; reload and retry")]
    Stale { entity: &'static str, id: String },
    #[error("a referenced record does not exist: {0}")]
    MissingReference(String),
    #[error("stored {table} row is unreadable: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("invalid cursor")]
    InvalidCursor,
    /// The driver's own message says it is the database's (`error returned
    /// from database: …`), and logs that print only this error keep it.
    #[error(transparent)]
    Database(sqlx::Error),
    /// From the bulk importer's own SQLite connection.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Unsupported(&'static str),
    /// The database's audit chain is keyed and this store has no key.
    #[error("the audit chain is keyed and no audit_key is configured")]
    AuditKeyMissing,
    #[error("this database's audit chain is keyed from seq {0}: set audit_key (the key it was written with)")]
    AuditKeyRequired(i64),
    #[error("writing the audit checkpoint file {}", .0.display())]
    Checkpoint(std::path::PathBuf, #[source] std::io::Error),
    /// A background part of an operation ended without saying why.
    #[error("{0}")]
    Interrupted(&'static str),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_foreign_key_violation() {
                return StoreError::MissingReference(db.message().to_owned());
            }
        }
        StoreError::Database(e)
    }
}

impl StoreError {
    pub(crate) fn corrupt(table: &'static str, reason: impl ToString) -> Self {
        StoreError::Corrupt {
            table,
            reason: reason.to_string(),
        }
    }

    /// Maps a unique violation to `Conflict`, anything else as usual.
    pub(crate) fn on_insert(e: sqlx::Error, entity: &'static str, id: &str) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict {
                    entity,
                    id: id.to_owned(),
                };
            }
        }
        e.into()
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// The error and its causes as `main` prints them (`{e:#}` of anyhow):
    /// each message in the chain, joined by ": ".
    fn chain(e: &StoreError) -> String {
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        text
    }

    #[test]
    fn each_cause_is_printed_once() {
        let hung_up = || sqlx::Error::Protocol("the server hung up".into());
        let cases = [
            (StoreError::Connect(hung_up()), "the server hung up"),
            (StoreError::from(hung_up()), "the server hung up"),
            (
                StoreError::Migrate(sqlx::migrate::MigrateError::VersionMissing(7)),
                "migration 7 was previously applied",
            ),
            (
                StoreError::Sqlite(rusqlite::Error::InvalidColumnName("ghost".into())),
                "ghost",
            ),
        ];
        for (e, cause) in cases {
            let text = chain(&e);
            assert_eq!(text.matches(cause).count(), 1, "{text}");
        }
    }

    #[test]
    fn a_failed_connection_still_says_what_failed() {
        let e = StoreError::Connect(sqlx::Error::Protocol("the server hung up".into()));
        assert!(
            chain(&e).starts_with("cannot open database: "),
            "{}",
            chain(&e)
        );
    }
}
