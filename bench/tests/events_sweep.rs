//! `quartet bench --events 200,400` with tiny settings: every run names its catalogue
//! size, `meta.events_sweep` lists both, and report.md and report.html show latency
//! against catalogue size; `--search` without `--store postgres` is refused, saying why.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use serde_json::Value;

#[test]
fn a_sweep_of_two_sizes_records_both_and_reports_latency_against_size() {
    let out = std::env::temp_dir().join(format!("quartet-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["bench", "--events", "200,400", "--seed", "3"])
        .args(["--protocols", "rest,wire", "--scenarios", "get_event"])
        .args(["--concurrency", "1", "--duration", "1", "--warmup", "0"])
        .args(["--pin", "off", "--out"])
        .arg(&out)
        .output()
        .expect("run quartet bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "quartet bench failed:\n{stderr}");

    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(
        results["meta"]["events_sweep"],
        serde_json::json!([200, 400])
    );
    assert_eq!(results["meta"]["dataset_events"], 200);
    let runs = results["runs"].as_array().unwrap();
    for protocol in ["rest", "wire"] {
        for events in [200, 400] {
            let run = runs
                .iter()
                .find(|r| r["protocol"] == protocol && r["events"] == events)
                .unwrap_or_else(|| panic!("no {protocol} run at {events} events:\n{stderr}"));
            assert_eq!(run["scenario"], "get_event");
            assert_eq!(
                run["errors"], 0,
                "{protocol} {events}: {}",
                run["first_error"]
            );
            assert!(run["latency_us"]["p50"].as_u64().unwrap() > 0);
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## Median latency against catalogue size"),
        "{md}"
    );
    assert!(md.contains("p50 µs at 400 events"), "{md}");
    assert!(
        md.contains("**400 events**"),
        "each size reported on its own"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"scale\""));
    assert!(html.contains("p50 by catalogue size"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("median latency against catalogue size"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn search_without_the_postgres_store_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["bench", "--search", "database,index", "--protocols", "wire"])
        .args(["--pin", "off", "--out"])
        .arg(std::env::temp_dir().join(format!("quartet-nosearch-{}", std::process::id())))
        .output()
        .expect("run quartet bench");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--search needs --store postgres"),
        "{stderr}"
    );
}
