//! The harness over PostgreSQL, with tiny settings: `quartet bench --store postgres
//! --replicas 2` records the store and the replicas, fails nothing, books no seat twice,
//! delivers the watch scenario across replicas, runs the pgbench floor (or says loudly
//! why not) and drops its schemas; `quartet torture --store postgres` over two replicas
//! per protocol is linearizable; `quartet dataset --store postgres` refuses a loaded
//! schema unless told.
//!
//! Each test takes a schema name from `pgstore::testing` (which skips loudly without a
//! database, and fails under `QUARTET_REQUIRE_POSTGRES=1`); the bench makes and drops
//! its own `quartet_bench_*` schemas, which the test checks are gone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgstore::testing::TestSchema;
use serde_json::Value;

/// The `quartet_bench_*` schemas on the test database whose names end with one of
/// `suffixes` (the tests here run at once: each looks at its own command's schemas).
async fn bench_schemas(schema: &TestSchema, suffixes: &[&str]) -> BTreeSet<String> {
    let store =
        pgstore::PgStore::lazy(&schema.config, Arc::new(domain::SystemClock)).expect("a pool");
    let client = store.pool().get().await.expect("a connection");
    client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'quartet\\_bench\\_%'",
            &[],
        )
        .await
        .expect("list schemas")
        .iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|name| suffixes.iter().any(|s| name.ends_with(s)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_postgres_bench_over_two_replicas_records_them_and_books_nothing_twice() {
    let Some(schema) = TestSchema::new("bench").await else {
        return;
    };
    let ours = ["_rest", "_wire", "_pgbench"];
    let before = bench_schemas(&schema, &ours).await;
    let out = std::env::temp_dir().join(format!("quartet-pg-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["bench", "--store", "postgres", "--replicas", "2"])
        .args(["--database-url", &schema.config.url])
        .args(["--events", "200", "--seed", "3", "--protocols", "rest,wire"])
        .args(["--scenarios", "get_event,hold_cancel,contended_hold,watch"])
        .args(["--concurrency", "2", "--duration", "0.5", "--warmup", "0"])
        .args(["--subscribers", "2", "--watch-rate", "50", "--pin", "off"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run quartet bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "quartet bench failed:\n{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "took {:?}",
        started.elapsed()
    );

    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["meta"]["store"], "postgres");
    assert_eq!(results["meta"]["replicas"], 2);
    let runs = results["runs"].as_array().unwrap();
    for protocol in ["rest", "wire"] {
        for scenario in ["get_event", "hold_cancel", "contended_hold", "watch"] {
            let run = runs
                .iter()
                .find(|r| r["protocol"] == protocol && r["scenario"] == scenario)
                .unwrap_or_else(|| panic!("no run for {protocol} {scenario}:\n{stderr}"));
            assert_eq!(run["store"], "postgres", "{protocol} {scenario}");
            assert_eq!(run["replicas"], 2, "{protocol} {scenario}");
            assert_eq!(
                run["errors"], 0,
                "{protocol} {scenario}: {}",
                run["first_error"]
            );
            assert!(run["ops"].as_u64().unwrap() > 0, "{protocol} {scenario}");
            // Summed over both replicas: a server CPU and RSS were read.
            assert!(
                run["server_rss_bytes"].as_u64().unwrap() > 0,
                "{protocol} {scenario}"
            );
        }
        let contended = runs
            .iter()
            .find(|r| r["protocol"] == protocol && r["scenario"] == "contended_hold")
            .unwrap();
        assert_eq!(contended["double_bookings"], 0, "{protocol}");
    }
    let pgbench = results["meta"]["pgbench"].as_str().unwrap();
    if pgbench.starts_with("not run") {
        eprintln!("SKIPPED the database floor: {pgbench}");
        assert!(
            results["skipped"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["protocol"] == "pgbench-floor"),
            "a missing pgbench must be listed as skipped"
        );
    } else {
        for scenario in ["get_event", "hold_cancel", "contended_hold"] {
            let run = runs
                .iter()
                .find(|r| r["protocol"] == "pgbench-floor" && r["scenario"] == scenario)
                .unwrap_or_else(|| panic!("no pgbench floor for {scenario}:\n{stderr}"));
            assert_eq!(run["errors"], 0, "pgbench {scenario}");
            assert!(run["ops"].as_u64().unwrap() > 0, "pgbench {scenario}");
            assert!(run["latency_us"]["p50"].as_u64().unwrap() > 0);
        }
        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(report.contains("pgbench"), "report.md names the floor");
    }
    assert!(
        results["failures"].as_array().is_none_or(Vec::is_empty),
        "{}",
        results["failures"]
    );
    let after = bench_schemas(&schema, &ours).await;
    assert!(
        after.is_subset(&before),
        "schemas left behind: {:?}",
        after.difference(&before).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torture_over_two_postgres_replicas_per_protocol_is_linearizable() {
    let Some(schema) = TestSchema::new("torture").await else {
        return;
    };
    let before = bench_schemas(&schema, &["_torture"]).await;
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["torture", "--store", "postgres", "--replicas", "2"])
        .args(["--database-url", &schema.config.url])
        .args(["--protocols", "rest,wire", "--clients", "2", "--seats", "3"])
        .args(["--duration", "1", "--events", "50"])
        .output()
        .expect("run quartet torture");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("2 server process(es) per protocol"),
        "{stdout}"
    );
    assert!(stdout.contains("linearizable"), "{stdout}");
    let after = bench_schemas(&schema, &["_torture"]).await;
    assert!(after.is_subset(&before), "schemas left behind");
}

#[tokio::test]
async fn the_dataset_command_refuses_a_loaded_schema_unless_told() {
    let Some(schema) = TestSchema::new("dataset").await else {
        return;
    };
    let load = |replace: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quartet"));
        command
            .args(["dataset", "--store", "postgres", "--events", "60"])
            .args(["--database-url", &schema.config.url])
            .args(["--schema", &schema.config.schema]);
        if replace {
            command.arg("--replace");
        }
        command.output().expect("run quartet dataset")
    };
    let first = load(false);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("60 events loaded"));
    let again = load(false);
    assert!(!again.status.success(), "a loaded schema must be refused");
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(
        why.contains("--replace"),
        "the refusal names the way out: {why}"
    );
    let replaced = load(true);
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
}
