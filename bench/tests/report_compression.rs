//! Runs under several compressions (`--compression none,zstd`): every report splits them
//! by condition and names each, and a protocol skipped under one (here the wire
//! protocol, as results files written before it compressed say) is a note beside that
//! condition's figures, not a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_fixtures;

use serde_json::{Value, json};

/// The sample run twice: as it is (no compression) and again under zstd without the
/// wire protocol, which is skipped there with its reason.
fn with_zstd() -> Value {
    let mut value = report_fixtures::sample_json();
    let runs = value["runs"].as_array().unwrap().clone();
    let mut all = Vec::new();
    for run in &runs {
        let mut plain = run.clone();
        plain["compression"] = json!("none");
        all.push(plain);
        if run["protocol"] != "wire" && !run["protocol"].as_str().unwrap().ends_with("floor") {
            let mut packed = run.clone();
            packed["compression"] = json!("zstd");
            all.push(packed);
        }
    }
    value["runs"] = Value::Array(all);
    value["skipped"] = json!([{
        "protocol": "wire",
        "link": "loopback",
        "compression": "zstd",
        "reason": "the wire protocol has no compression yet",
    }]);
    value
}

#[test]
fn every_report_names_each_compression_and_notes_what_was_skipped() {
    let results = report_fixtures::parse(&with_zstd());
    assert_eq!(results.skipped.len(), 1);
    let note = "wire not run with compression zstd over loopback: the wire protocol has no compression yet";

    let console = bench::report::console_table(&results);
    let none_at = console
        .find("== link: loopback, compression: none")
        .unwrap();
    let zstd_at = console
        .find("== link: loopback, compression: zstd")
        .unwrap();
    let note_at = console.find(note).unwrap();
    assert!(
        none_at < zstd_at && zstd_at < note_at,
        "the note sits with the zstd part"
    );
    assert!(!console.contains("FAILED"), "a skip is not a failure");

    let markdown = bench::report::markdown(&results);
    assert!(
        markdown.contains("compression: zstd"),
        "the zstd part says so"
    );
    assert!(markdown.contains(note));

    let html = bench::report::html(&results);
    assert!(html.contains("compression: zstd"));
    assert!(html.contains("id=\"skipped\""));
}

#[test]
fn skipped_conditions_survive_the_results_file() {
    let results = report_fixtures::parse(&with_zstd());
    let text = serde_json::to_string(&results).unwrap();
    let again = bench::results::parse(&text).unwrap();
    assert_eq!(again.skipped, results.skipped);
    // A file that skipped nothing does not mention it.
    let plain = report_fixtures::parse(&report_fixtures::sample_json());
    assert!(
        serde_json::to_value(&plain)
            .unwrap()
            .get("skipped")
            .is_none()
    );
}
