//! What every PostgreSQL test shares: a schema of its own, dropped when the guard goes
//! (even when the test panics), and the loud skip when no PostgreSQL is reachable.

#![allow(dead_code, clippy::expect_used, clippy::missing_panics_doc)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pgstore::PgConfig;

/// A schema that exists for one test.
pub struct TestSchema {
    pub config: PgConfig,
}

impl TestSchema {
    /// A fresh schema name on the test database, or `None` (after saying so loudly) if
    /// PostgreSQL is unreachable and `QUARTET_REQUIRE_POSTGRES` is not `1`.
    pub async fn new(tag: &str) -> Option<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let url = PgConfig::url_from_env();
        let probe = tokio::time::timeout(
            Duration::from_secs(3),
            tokio_postgres::connect(&url, tokio_postgres::NoTls),
        )
        .await;
        if !matches!(probe, Ok(Ok(_))) {
            let why = match probe {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_owned(),
            };
            assert!(
                std::env::var("QUARTET_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PostgreSQL not reachable at {url} ({why}) and QUARTET_REQUIRE_POSTGRES=1"
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
                .expect("runtime");
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}", self.config.schema);
        }
    }
}
