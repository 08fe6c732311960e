//! `PgConfig`: where the database is and how long to wait for it.

use std::time::Duration;

use domain::Limits;

use crate::error::SetupError;

/// The environment variable naming the database when no URL is given.
pub const DATABASE_URL_ENV: &str = "QUARTET_DATABASE_URL";
/// The URL used when neither a flag nor [`DATABASE_URL_ENV`] names one.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The schema used when none is named.
pub const DEFAULT_SCHEMA: &str = "quartet";
/// Hash partitions of the inventory tables when none is named.
pub const DEFAULT_PARTITIONS: u32 = 8;

/// How to reach the database and how long to wait for it.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// A `postgres://` URL (or key=value string) tokio-postgres understands.
    pub url: String,
    /// The schema every table lives in (the connections' `search_path`): lower-case
    /// letters, digits and `_`, starting with a letter or `_`, at most 63 bytes.
    pub schema: String,
    /// Connections in the pool.
    pub pool_size: usize,
    /// Longest wait for a pooled connection, including opening a new one. Past it an
    /// operation answers `UNAVAILABLE`.
    pub checkout_timeout: Duration,
    /// Longest wait for a TCP connection and the startup handshake.
    pub connect_timeout: Duration,
    /// The server's `statement_timeout`, also the client's bound on one operation's
    /// queries (plus the checkout timeout). Past it an operation answers `UNAVAILABLE`.
    pub statement_timeout: Duration,
    /// Hash partitions of bookings, seat claims, inventory and idempotency keys; read
    /// only when the schema is first migrated.
    pub partitions: u32,
    /// Business limits (the hold TTL is the store's).
    pub limits: Limits,
    /// How often this replica sweeps lapsed holds (see [`crate::sweeper`]); `None`
    /// leaves them to lazy expiry and the next hold on their event.
    pub sweep_interval: Option<Duration>,
}

impl PgConfig {
    /// The defaults for `url` and `schema`.
    pub fn new(url: impl Into<String>, schema: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            schema: schema.into(),
            pool_size: 16,
            checkout_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
            partitions: DEFAULT_PARTITIONS,
            limits: Limits::default(),
            sweep_interval: Some(crate::sweeper::DEFAULT_SWEEP_INTERVAL),
        }
    }

    /// The URL from [`DATABASE_URL_ENV`], else [`DEFAULT_DATABASE_URL`].
    pub fn url_from_env() -> String {
        std::env::var(DATABASE_URL_ENV).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
    }

    /// Checks the schema name and the partition count.
    ///
    /// # Errors
    /// [`SetupError::Config`] naming what is wrong.
    pub fn check(&self) -> Result<(), SetupError> {
        check_schema_name(&self.schema)?;
        if !(1..=1024).contains(&self.partitions) {
            return Err(SetupError::Config(format!(
                "partitions must be 1 to 1024, not {}",
                self.partitions
            )));
        }
        if self.sweep_interval.is_some_and(|every| every.is_zero()) {
            return Err(SetupError::Config("sweep interval must not be zero".into()));
        }
        if self.pool_size == 0 {
            return Err(SetupError::Config("pool size must be at least 1".into()));
        }
        Ok(())
    }
}

/// A schema name is spliced into DDL, so only a plain identifier is accepted.
///
/// # Errors
/// [`SetupError::Config`] for anything else.
pub fn check_schema_name(schema: &str) -> Result<(), SetupError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(SetupError::Config(format!(
            "schema {schema:?} must be 1 to 63 of a-z, 0-9 and _, not starting with a digit"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        for ok in ["quartet", "quartet_test_1a", "_x"] {
            assert!(check_schema_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "Quartet",
            "a-b",
            "a;drop",
            "x\"y",
            &"a".repeat(64),
        ] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }
}
