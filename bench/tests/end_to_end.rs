//! A short end-to-end run of `quartet bench` on a tiny dataset with very short windows:
//! results.json must have every protocol and scenario, no errors, no double booking,
//! and positive latencies and byte counts; the reports must be written. Bounded: every
//! window is a fraction of a second and the whole command gets two minutes.

mod common;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

#[test]
fn a_tiny_bench_writes_complete_results() {
    let out = common::out_dir("e2e");
    let results = common::tiny_bench(&[], &out, Duration::from_secs(120));
    assert_eq!(results["schema_version"], 2);
    assert_eq!(results["meta"]["dataset_events"], 400);
    let runs = results["runs"].as_array().unwrap();
    for protocol in ["rest", "graphql", "grpc", "wire"] {
        for scenario in [
            "get_event",
            "list_events",
            "search_events",
            "event_detail",
            "seat_map",
            "hold_cancel",
            "contended_hold",
        ] {
            let run = runs
                .iter()
                .find(|r| r["protocol"] == protocol && r["scenario"] == scenario)
                .unwrap_or_else(|| panic!("no run for {protocol} {scenario}"));
            assert_eq!(
                run["errors"], 0,
                "{protocol} {scenario}: {}",
                run["first_error"]
            );
            assert!(
                run["ops"].as_u64().unwrap() > 0,
                "{protocol} {scenario} ran nothing"
            );
            assert!(run["latency_us"]["p50"].as_u64().unwrap() > 0);
            assert!(run["latency_us"]["p99"].as_u64() >= run["latency_us"]["p50"].as_u64());
            assert!(
                run["bytes_per_op"]["response_payload"].as_f64().unwrap() > 0.0,
                "{protocol} {scenario}"
            );
            assert!(
                run["bytes_per_op"]["socket_received"].as_f64().unwrap() > 0.0,
                "{protocol} {scenario}"
            );
            assert!(
                run["bytes_per_op"]["socket_sent"].as_f64().unwrap() > 0.0,
                "{protocol} {scenario}"
            );
            assert!(run["server_cpu_us_per_op"].as_f64().is_some());
            assert!(run["server_rss_bytes"].as_u64().unwrap() > 0);
            assert!(!run["histogram"].as_str().unwrap().is_empty());
            if scenario == "contended_hold" {
                assert_eq!(
                    run["double_bookings"], 0,
                    "{protocol}: a seat in two live bookings"
                );
            }
        }
    }
    let floor = runs
        .iter()
        .find(|r| r["protocol"] == "tcp-floor")
        .expect("the floor ran");
    assert_eq!(floor["errors"], 0);
    // The floor's socket bytes are exactly its exchange: counting is exact end to end.
    assert_eq!(
        floor["bytes_per_op"]["socket_sent"],
        floor["bytes_per_op"]["request_payload"]
    );
    assert_eq!(
        floor["bytes_per_op"]["socket_received"],
        floor["bytes_per_op"]["response_payload"]
    );
    // The framework floors ran get_event only, cleanly, each serving its protocol's bytes.
    for (floor, protocol) in [("http1-floor", "rest"), ("h2-floor", "grpc")] {
        let runs: Vec<&Value> = runs.iter().filter(|r| r["protocol"] == floor).collect();
        assert_eq!(runs.len(), 1, "{floor}");
        assert_eq!(runs[0]["scenario"], "get_event");
        assert_eq!(runs[0]["errors"], 0, "{floor}: {}", runs[0]["first_error"]);
        assert!(runs[0]["floor"].is_null());
        let api = runs_of(runs_all(&results), protocol, "get_event");
        assert_eq!(api["floor"], floor);
        // The floor answers exactly the protocol's own get_event body for event 1;
        // the API answers random events, so compare the order of magnitude only.
        let floor_body = runs[0]["bytes_per_op"]["response_payload"]
            .as_f64()
            .unwrap();
        let api_body = api["bytes_per_op"]["response_payload"].as_f64().unwrap();
        assert!(
            floor_body > api_body / 3.0 && floor_body < api_body * 3.0,
            "{floor}"
        );
    }
    assert_eq!(results["meta"]["connections"], 1);
    assert_eq!(results["meta"]["lean_clients"], true);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("get_event c=2"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg"), "the HTML report has charts");
    assert!(
        !html.contains("src=\"http"),
        "the HTML report loads nothing from the network"
    );
    let _ = std::fs::remove_dir_all(&out);
}

fn runs_all(results: &Value) -> &[Value] {
    results["runs"].as_array().map_or(&[], Vec::as_slice)
}

fn runs_of<'a>(runs: &'a [Value], protocol: &str, scenario: &str) -> &'a Value {
    runs.iter()
        .find(|r| r["protocol"] == protocol && r["scenario"] == scenario)
        .unwrap_or_else(|| panic!("no run for {protocol} {scenario}"))
}

/// `quartet payloads` on a tiny dataset: every operation over every protocol, with the
/// captured response compressed.
#[test]
fn payloads_measures_every_operation_of_every_protocol() {
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["payloads", "--json", "--events", "200", "--seed", "3"])
        .output()
        .expect("run quartet payloads");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4 * 11);
    for row in rows {
        assert!(row["response_payload"].as_u64().unwrap() > 0, "{row}");
        assert!(row["response_gzip"].as_u64().unwrap() > 0, "{row}");
    }
    // get_event(42)'s request: no body over REST, a protobuf varint field, a postcard
    // varint.
    for (protocol, request) in [("rest", 0), ("grpc", 2), ("wire", 1)] {
        let row = rows
            .iter()
            .find(|r| r["protocol"] == protocol && r["operation"] == "get_event")
            .unwrap();
        assert_eq!(row["request_payload"], request, "{row}");
    }
}
