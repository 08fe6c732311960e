//! Errors: what a failed setup says ([`SetupError`]), and how a database failure becomes a
//! domain error ([`to_domain`]): the store unreachable, a connection lost or a statement
//! timed out is `UNAVAILABLE` (retry); anything else is `INTERNAL`, logged here.

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

/// Why connecting, migrating or loading failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A configuration value is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The database refused or failed a statement.
    #[error("database: {}", described(.0))]
    Db(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[error("connection pool: {0}")]
    Pool(#[from] PoolError),
    /// Building the pool failed.
    #[error("connection pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] refinery::Error),
    /// The schema already holds data and replacing it was not asked for.
    #[error("schema {schema} already holds {events} events; pass replace to overwrite it")]
    NotEmpty {
        /// The schema.
        schema: String,
        /// How many events it holds.
        events: i64,
    },
}

/// The server's own message and SQLSTATE where there is one: tokio-postgres's `Display`
/// says only "db error" for everything the server refused.
fn described(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

/// Whether a database error means "the store is not reachable right now".
pub fn is_unavailable(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        return *code == SqlState::QUERY_CANCELED
            || *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CRASH_SHUTDOWN
            || *code == SqlState::CANNOT_CONNECT_NOW
            || *code == SqlState::TOO_MANY_CONNECTIONS
            || code.code().starts_with("08");
    }
    // No SQLSTATE: an I/O or protocol failure on the connection.
    true
}

/// A database error as a domain error.
pub fn to_domain(error: &tokio_postgres::Error) -> domain::Error {
    if is_unavailable(error) {
        tracing::warn!(%error, "database unavailable");
        unavailable("the database is unreachable; retry".to_owned())
    } else {
        domain::Error::internal(format!("database: {error}"))
    }
}

/// A pool checkout failure as a domain error: every one means "no connection now".
pub fn pool_to_domain(error: &PoolError) -> domain::Error {
    tracing::warn!(%error, "no database connection");
    unavailable("no database connection could be had; retry".to_owned())
}

/// `UNAVAILABLE` with `reason` (a sentence with no internals: the cause is logged).
pub fn unavailable(reason: String) -> domain::Error {
    domain::Error::unavailable(reason)
}
