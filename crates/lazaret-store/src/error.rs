//! Errors of the storage layer.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot open database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migrating the schema failed: {0}")]
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
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// From the bulk importer's own SQLite connection.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Unsupported(&'static str),
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
