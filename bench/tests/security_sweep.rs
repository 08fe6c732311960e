//! `quartet bench --security plain,tls+auth`, the security conditions as a list axis,
//! end to end on a tiny dataset: every API run appears once per condition with the
//! condition's flags, the raw floor runs in plain text and is listed as not run under
//! TLS, the watch scenario runs in plain text and is listed as not run under auth, and
//! the reports open with each protocol's figures per condition against plain.

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

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("What security costs"), "the comparison section");
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
