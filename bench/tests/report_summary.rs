//! The verdict's sentences are computed from the figures: change the figures and the
//! sentences follow; every number they quote is in the data.

// Helpers outside #[test] functions too: a panic in a test is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_fixtures;

use bench::report::{View, summary};
use report_fixtures::{eventful, parse, sample_json, top_concurrency};
use serde_json::Value;

fn sentences(value: &Value) -> Vec<String> {
    let results = parse(value);
    summary::sentences(&View::new(&results))
        .iter()
        .map(summary::Sentence::plain)
        .collect()
}

fn runs(value: &Value) -> impl Iterator<Item = &Value> {
    value["runs"].as_array().unwrap().iter()
}

fn name(protocol: &str) -> &str {
    match protocol {
        "rest" => "REST",
        "graphql" => "GraphQL",
        "grpc" => "gRPC",
        other => other,
    }
}

/// The protocol with the highest throughput on a scenario at a concurrency.
fn leader(value: &Value, scenario: &str, concurrency: u64) -> String {
    runs(value)
        .filter(|r| {
            r["scenario"] == scenario
                && r["concurrency"] == concurrency
                && r["rate"].is_null()
                && !r["protocol"].as_str().unwrap().ends_with("-floor")
        })
        .max_by(|a, b| {
            a["throughput_ops_s"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["throughput_ops_s"].as_f64().unwrap())
        })
        .map(|r| r["protocol"].as_str().unwrap().to_owned())
        .unwrap()
}

#[test]
fn the_throughput_sentence_follows_the_figures() {
    let mut value = sample_json();
    let top = top_concurrency(&value);
    let scenarios: Vec<String> = {
        let mut s: Vec<String> = runs(&value)
            .map(|r| r["scenario"].as_str().unwrap().to_owned())
            .collect();
        s.sort();
        s.dedup();
        s
    };
    let leaders: Vec<String> = scenarios.iter().map(|s| leader(&value, s, top)).collect();
    let before = sentences(&value);
    let line = before
        .iter()
        .find(|s| s.starts_with(&format!("Highest throughput at {top} clients: ")))
        .expect("a throughput sentence");
    for l in &leaders {
        assert!(line.contains(name(l)), "{line} does not name {l}");
    }

    // Make another protocol ten times faster on the first scenario: the sentence names
    // it, on that scenario.
    let scenario = &scenarios[0];
    let challenger = ["rest", "graphql", "grpc", "wire"]
        .into_iter()
        .find(|p| *p != leaders[0])
        .unwrap();
    let best = runs(&value)
        .filter(|r| r["scenario"] == scenario.as_str() && r["concurrency"] == top)
        .map(|r| r["throughput_ops_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    for run in value["runs"].as_array_mut().unwrap() {
        if run["scenario"] == scenario.as_str()
            && run["concurrency"] == top
            && run["protocol"] == challenger
            && run["rate"].is_null()
        {
            run["throughput_ops_s"] = (best * 10.0).into();
        }
    }
    let after = sentences(&value);
    let line = after
        .iter()
        .find(|s| s.starts_with(&format!("Highest throughput at {top} clients: ")))
        .unwrap();
    assert!(
        line.contains(&format!("{} in {scenario}", name(challenger))),
        "{line}"
    );
    assert_ne!(before, after);
}

#[test]
fn the_widest_gap_quotes_the_data() {
    let value = sample_json();
    // The largest worst/best p50 ratio over every scenario and closed load.
    let mut widest = (0.0, String::new(), String::new());
    let closed: Vec<&Value> = runs(&value)
        .filter(|r| r["rate"].is_null() && !r["protocol"].as_str().unwrap().ends_with("-floor"))
        .collect();
    for r in &closed {
        let peers = closed
            .iter()
            .filter(|o| o["scenario"] == r["scenario"] && o["concurrency"] == r["concurrency"]);
        let best = peers
            .map(|o| o["latency_us"]["p50"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        let ratio = r["latency_us"]["p50"].as_f64().unwrap() / best;
        if ratio > widest.0 {
            widest = (
                ratio,
                r["protocol"].as_str().unwrap().to_owned(),
                r["scenario"].as_str().unwrap().to_owned(),
            );
        }
    }
    let all = sentences(&value);
    let line = all
        .iter()
        .find(|s| s.starts_with("The widest gap in median latency"))
        .expect("a gap sentence");
    assert!(
        line.contains(&format!("{}'s p50 on {}", name(&widest.1), widest.2)),
        "{line}"
    );
    let shown = if widest.0 >= 9.95 {
        format!("{:.0}x", widest.0)
    } else {
        format!("{:.1}x", widest.0)
    };
    assert!(line.contains(&shown), "{line} does not say {shown}");
}

#[test]
fn what_limits_trust_is_said() {
    let value = eventful();
    let all = sentences(&value).join("\n");
    assert!(all.contains("1 of "), "{all}");
    assert!(all.contains("were client-bound"), "{all}");
    assert!(all.contains("fell behind the rate asked for"), "{all}");
    assert!(all.contains("1 run measured nothing"), "{all}");
    assert!(
        all.contains("timing from the actual send would understate p99 by up to"),
        "{all}"
    );
    assert!(
        all.contains("Noise: throughput second by second varied"),
        "{all}"
    );
    // The committed sample: clean, and it names client-bound runs exactly when it has
    // any (it is regenerated by real runs, so its flags are whatever that run measured).
    let sample = sample_json();
    let said = sentences(&sample).join("\n");
    assert!(said.contains("had 0 failed operations"), "{said}");
    let bound = sample["runs"]
        .as_array()
        .is_some_and(|runs| runs.iter().any(|r| r["client_bound"] == true));
    assert_eq!(said.contains("were client-bound"), bound, "{said}");
    // A version-1 file predates the flag: nothing is called client-bound.
    let v1: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/results-v1.json"),
        )
        .expect("the version-1 fixture"),
    )
    .expect("JSON");
    let old = sentences(&v1).join("\n");
    assert!(!old.contains("client-bound"), "{old}");
}
