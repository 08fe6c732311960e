//! `quartet bench --store postgres --search database,index` with tiny settings: every
//! run names its search mode, each mode is reported on its own, and the index runs
//! measure staleness from commit to searchable (recorded in `search_staleness`, shown
//! in report.md and the terminal), every change seen.
//!
//! The schema name comes from `pgstore::testing` (which skips loudly without a database,
//! and fails under `QUARTET_REQUIRE_POSTGRES=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use pgstore::testing::TestSchema;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_and_index_search_runs_record_their_mode_and_the_index_staleness() {
    let Some(schema) = TestSchema::new("bsearch").await else {
        return;
    };
    let out = std::env::temp_dir().join(format!("quartet-pg-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["bench", "--store", "postgres", "--search", "database,index"])
        .args(["--database-url", &schema.config.url])
        .args(["--events", "200", "--seed", "5", "--protocols", "wire"])
        .args(["--scenarios", "search_events"])
        .args(["--concurrency", "1", "--duration", "0.5", "--warmup", "0"])
        .args(["--staleness-rate", "50", "--staleness-changes", "40"])
        .args(["--staleness-seconds", "5", "--pin", "off", "--out"])
        .arg(&out)
        .output()
        .expect("run quartet bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "quartet bench failed:\n{stderr}");

    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["meta"]["search"], "database, index");
    let runs = results["runs"].as_array().unwrap();
    for mode in ["database", "index"] {
        let run = runs
            .iter()
            .find(|r| r["protocol"] == "wire" && r["search"] == mode)
            .unwrap_or_else(|| panic!("no wire run with search {mode}:\n{stderr}"));
        assert_eq!(run["scenario"], "search_events");
        assert_eq!(run["errors"], 0, "{mode}: {}", run["first_error"]);
        assert!(run["ops"].as_u64().unwrap() > 0, "{mode}");
    }
    let staleness = results["search_staleness"].as_array().unwrap();
    assert_eq!(staleness.len(), 1, "one index run: {staleness:?}");
    let wire = &staleness[0];
    assert_eq!(wire["protocol"], "wire");
    assert_eq!(wire["events"], 200);
    assert!(wire["changes"].as_u64().unwrap() > 0, "{wire}");
    assert_eq!(wire["not_seen"], 0, "{wire}");
    let p50 = wire["latency_us"]["p50"].as_u64().unwrap();
    let p99 = wire["latency_us"]["p99"].as_u64().unwrap();
    assert!(p50 > 0 && p99 >= p50, "{wire}");
    assert!(
        results["failures"].as_array().is_none_or(Vec::is_empty),
        "{}",
        results["failures"]
    );

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Search index staleness"), "{md}");
    assert!(md.contains("search: index") && md.contains("search: database"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"staleness\""));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("search index staleness"), "{stdout}");
    let _ = std::fs::remove_dir_all(&out);
}
