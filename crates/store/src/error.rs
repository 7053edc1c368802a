//! The one error type of the storage layer.
//!
//! Callers (services) turn any of these into an internal API error, so the variants only need to
//! separate what an operator acts on differently: a backend failure, a store already shut down,
//! damaged data, or a database written by a newer tclocal. Messages never carry stored values,
//! because records may hold secret keys.

/// Result of every store operation.
pub type Result<T> = std::result::Result<T, StoreError>;

/// What went wrong in the store.
///
/// `Clone` because one failed group commit must be reported to every caller in the group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, SQL, connection). The message names the operation, never a value or
    /// a credential.
    #[error("storage backend error: {0}")]
    Backend(String),

    /// The store has been shut down, or its writer stopped unexpectedly.
    #[error("store is closed")]
    Closed,

    /// A stored record cannot be read back.
    #[error("corrupt record {table:?}/{key:?}: {reason}")]
    Corrupt {
        /// Table of the record.
        table: String,
        /// Key of the record.
        key: String,
        /// Why it could not be read (never the record's content).
        reason: String,
    },

    /// The database was written by a newer tclocal whose schema this build does not know.
    #[error(
        "database schema version {found} is newer than the newest this tclocal knows ({supported}); \
         upgrade tclocal or use another data directory"
    )]
    SchemaTooNew {
        /// Schema version recorded in the database.
        found: u32,
        /// Newest schema version this build can migrate to.
        supported: u32,
    },
}
