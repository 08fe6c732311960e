//! `quartet bench --security plain,tls+auth`, the security conditions as a list axis,
//! end to end on a tiny dataset: every API run appears once per condition with the
//! condition's flags, the raw floor runs in plain text and is listed as not run under
//! TLS, the watch scenario runs in plain text and is listed as not run under auth, and
//! the reports open with each protocol's figures per condition against plain. The
//! sweep runs protocol by protocol (each protocol's conditions back to back), and with
//! `--security-rounds` keeps each condition's median round.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use serde_json::Value;

#[test]
fn a_security_sweep_runs_each_condition_and_compares_them() {
    let out = common::out_dir("security-sweep");
    let results = common::tiny_bench(
        &[
            "--security",
            "plain,tls+auth",
            "--protocols",
            "tcp-floor,rest,wire",
            "--scenarios",
            "get_event,hold_cancel,watch",
            "--subscribers",
            "1",
        ],
        &out,
        Duration::from_secs(180),
    );
    assert_eq!(
        results["meta"]["security_sweep"],
        serde_json::json!(["plain", "tls+auth"])
    );
    // A sweep's conditions are per run, not the file's.
    assert!(results["meta"]["tls"].is_null());
    let runs = results["runs"].as_array().unwrap();
    let find = |protocol: &str, scenario: &str, security: &str| -> Option<&Value> {
        runs.iter().find(|r| {
            r["protocol"] == protocol && r["scenario"] == scenario && r["security"] == security
        })
    };
    for protocol in ["rest", "wire"] {
        for scenario in ["get_event", "hold_cancel"] {
            let plain = find(protocol, scenario, "plain")
                .unwrap_or_else(|| panic!("no plain run for {protocol} {scenario}"));
            assert!(plain["tls"].is_null(), "{protocol} {scenario}");
            assert!(plain["auth"].is_null(), "{protocol} {scenario}");
            let secured = find(protocol, scenario, "tls+auth")
                .unwrap_or_else(|| panic!("no tls+auth run for {protocol} {scenario}"));
            assert_eq!(secured["tls"], true, "{protocol} {scenario}");
            assert_eq!(secured["auth"], true, "{protocol} {scenario}");
            for run in [plain, secured] {
                assert_eq!(
                    run["errors"], 0,
                    "{protocol} {scenario}: {}",
                    run["first_error"]
                );
                assert!(run["ops"].as_u64().unwrap() > 0, "{protocol} {scenario}");
            }
        }
        // The watch scenario: measured in plain text, listed as not run under auth.
        assert!(
            find(protocol, "watch", "plain").is_some(),
            "{protocol} watch"
        );
        assert!(
            find(protocol, "watch", "tls+auth").is_none(),
            "{protocol} watch"
        );
    }
    // The raw floor serves plain text only: run plain, listed as not run under TLS.
    assert!(find("tcp-floor", "get_event", "plain").is_some());
    assert!(find("tcp-floor", "get_event", "tls+auth").is_none());
    let skipped = results["skipped"].as_array().unwrap();
    let reason = |protocol: &str, words: &str| {
        skipped.iter().any(|s| {
            let text = s["reason"].as_str().unwrap_or_default();
            s["protocol"] == protocol && text.starts_with("under tls+auth:") && text.contains(words)
        })
    };
    assert!(reason("tcp-floor", "plain text only"), "{skipped:?}");
    assert!(reason("rest", "watch"), "{skipped:?}");
    assert!(reason("wire", "watch"), "{skipped:?}");
    assert!(
        results["failures"].as_array().unwrap().is_empty(),
        "{}",
        results["failures"]
    );

    // Protocol by protocol: each protocol's runs (under both conditions) in one block
    // of the run order, plain before tls+auth within it.
    let order = run_order(runs);
    let protocols: Vec<&str> = order.iter().map(|(p, _)| p.as_str()).collect();
    let mut blocks = protocols.clone();
    blocks.dedup();
    assert_eq!(blocks, ["tcp-floor", "rest", "wire"], "{order:?}");
    for protocol in ["rest", "wire"] {
        let conditions: Vec<&str> = order
            .iter()
            .filter(|(p, _)| p == protocol)
            .map(|(_, c)| c.as_str())
            .collect();
        let turn = conditions.iter().position(|c| *c == "tls+auth").unwrap();
        assert!(turn > 0, "{protocol}: {conditions:?}");
        assert!(
            conditions[..turn].iter().all(|c| *c == "plain")
                && conditions[turn..].iter().all(|c| *c == "tls+auth"),
            "{protocol}: {conditions:?}"
        );
    }
    assert_eq!(results["meta"]["security_rounds"], 1);

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("What security costs"), "the comparison section");
    assert!(md.contains("Run protocol by protocol"), "how it was run");
    assert!(md.contains("tls+auth ops/s (x plain)"), "the ratio column");
    assert!(
        md.match_indices("x plain)")
            .any(|(i, _)| md[..i].ends_with(|c: char| c.is_ascii_digit())),
        "a ratio in a cell"
    );
    assert!(
        md.contains("**Security: tls+auth**"),
        "each condition's part"
    );
    assert!(md.contains("TLS + auth"), "its conditions line");
    assert!(md.contains("not run"), "the floor under TLS");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"security\""), "the comparison section");
    let _ = std::fs::remove_dir_all(&out);
}

/// The measured runs (the watch scenario's aside) as `(protocol, condition)`, in the
/// order their windows began.
fn run_order(runs: &[Value]) -> Vec<(String, String)> {
    let mut timed: Vec<(f64, String, String)> = runs
        .iter()
        .filter(|r| r["scenario"] != "watch")
        .map(|r| {
            (
                r["window_start_unix_s"].as_f64().unwrap(),
                r["protocol"].as_str().unwrap().to_owned(),
                r["security"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    timed.sort_by(|a, b| a.0.total_cmp(&b.0));
    timed.into_iter().map(|(_, p, c)| (p, c)).collect()
}

/// `--security-rounds 2`: every run kept is one round's, naming both rounds' ops/s, and
/// the report's multiple pairs the rounds and says so.
#[test]
fn security_rounds_keep_the_median_round_and_pair_rounds_in_the_report() {
    let out = common::out_dir("security-rounds");
    let results = common::tiny_bench(
        &[
            "--security",
            "plain,tls+auth",
            "--security-rounds",
            "2",
            "--protocols",
            "rest,wire",
            "--scenarios",
            "get_event",
        ],
        &out,
        Duration::from_secs(120),
    );
    assert_eq!(results["meta"]["security_rounds"], 2);
    let runs = results["runs"].as_array().unwrap();
    // One run per protocol and condition (the other round's dropped), in protocol blocks.
    assert_eq!(runs.len(), 4, "{runs:?}");
    let order = run_order(runs);
    let mut blocks: Vec<&str> = order.iter().map(|(p, _)| p.as_str()).collect();
    blocks.dedup();
    assert_eq!(blocks, ["rest", "wire"], "{order:?}");
    for run in runs {
        let rounds = run["round_throughput_ops_s"].as_array().unwrap();
        assert_eq!(rounds.len(), 2, "{run}");
        let each: Vec<f64> = rounds.iter().map(|r| r.as_f64().unwrap()).collect();
        let kept = run["throughput_ops_s"].as_f64().unwrap();
        // The lower middle of two: the slower round's run.
        assert_eq!(kept.to_bits(), each[0].min(each[1]).to_bits(), "{run}");
        assert_eq!(run["errors"], 0, "{run}");
        // Its interval log is written under the name it gives.
        let hlog = run["hlog"].as_str().unwrap();
        assert!(out.join(hlog).is_file(), "{hlog}");
    }
    // The dropped rounds' logs are not written.
    let logs = std::fs::read_dir(out.join("hlog")).unwrap().count();
    assert_eq!(logs, runs.len());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("protocol by protocol in 2 rounds"),
        "how it was run"
    );
    assert!(md.contains("x plain; rounds "), "the per-round multiples");
    let _ = std::fs::remove_dir_all(&out);
}
