//! What every PostgreSQL test shares, in this crate and in the protocol crates' tests: a
//! schema of its own ([`TestSchema`]), dropped when the guard goes (even when the test
//! panics), and the loud skip when no PostgreSQL is reachable.
//!
//! Without a reachable database a test prints `SKIPPED: ...` and passes, so a newcomer's
//! `cargo test --workspace` works without PostgreSQL; with `QUARTET_REQUIRE_POSTGRES=1`
//! (CI sets it) the same situation is a failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use domain::{Dataset, DatasetSpec};

use crate::{PgConfig, PgStore, PgTicketing};

/// The variable that turns a skip into a failure.
pub const REQUIRE_ENV: &str = "QUARTET_REQUIRE_POSTGRES";

/// A schema that exists for one test.
#[derive(Debug)]
pub struct TestSchema {
    /// Where it is: the test database, this schema.
    pub config: PgConfig,
}

impl TestSchema {
    /// A fresh schema name on the test database, or `None` (after saying so loudly on
    /// stderr) if PostgreSQL is unreachable and [`REQUIRE_ENV`] is not `1`.
    ///
    /// # Panics
    /// If PostgreSQL is unreachable and [`REQUIRE_ENV`] is `1`: in CI that is a failure.
    pub async fn new(tag: &str) -> Option<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let url = PgConfig::url_from_env();
        // Generous: with QUARTET_REQUIRE_POSTGRES=1 a slow connect is a failed test, and
        // a loaded machine running many PostgreSQL tests at once can take seconds to
        // start a backend. An absent server refuses at once, so skipping stays quick.
        let probe = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_postgres::connect(&url, tokio_postgres::NoTls),
        )
        .await;
        if !matches!(probe, Ok(Ok(_))) {
            let why = match probe {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_owned(),
            };
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "PostgreSQL not reachable at {url} ({why}) and {REQUIRE_ENV}=1"
            );
            eprintln!("SKIPPED: PostgreSQL not reachable at {url} ({why})");
            return None;
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "quartet_test_{tag}_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Some(TestSchema {
            config: PgConfig::new(url, schema),
        })
    }

    /// A service over this schema loaded with the dataset `spec` describes.
    ///
    /// # Errors
    /// If the database refuses the migration or the load.
    pub async fn loaded(&self, spec: DatasetSpec) -> Result<Arc<PgTicketing>, crate::SetupError> {
        let store = PgStore::connect(&self.config).await?;
        crate::load(&store, &Dataset::from_spec(spec), false).await?;
        Ok(Arc::new(crate::ticketing(store)))
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let url = self.config.url.clone();
        let schema = self.config.schema.clone();
        // Drop runs inside the test's runtime (or while unwinding); a thread with its own
        // runtime can block on the statement.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}", self.config.schema);
        }
    }
}
