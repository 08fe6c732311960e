//! `quartet compare OLD NEW` prints its table and writes an HTML page beside NEW: a grid
//! of changes flagged only beyond the noise, and both runs' spectra overlaid, fetching
//! nothing.

// Helpers outside #[test] functions too: a panic in a test is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;

use report_fixtures::{
    charts, check_charts, check_colours, external_references, sample_json, sample_path,
};
use serde_json::Value;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("quartet-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn compare(old: &Path, new: &Path, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .arg("compare")
        .arg(old)
        .arg(new)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The sample with wire's throughput at the busiest load halved, every second of it
/// halved too (a real change, as steady as before).
fn slower_wire() -> (Value, String) {
    let mut value = sample_json();
    let top = report_fixtures::top_concurrency(&value);
    let mut scenario = String::new();
    for run in value["runs"].as_array_mut().unwrap() {
        if run["protocol"] == "wire" && run["concurrency"] == top && scenario.is_empty() {
            run["scenario"].as_str().unwrap().clone_into(&mut scenario);
            let t = run["throughput_ops_s"].as_f64().unwrap();
            run["throughput_ops_s"] = (t / 2.0).into();
            for s in run["throughput_per_second"].as_array_mut().unwrap() {
                *s = (s.as_f64().unwrap() / 2.0).into();
            }
        }
    }
    (value, scenario)
}

#[test]
fn the_page_shows_changes_beyond_the_noise_and_spectra_overlaid() {
    let dir = TempDir::new("compare-page");
    let (value, scenario) = slower_wire();
    let new = dir.0.join("results.json");
    std::fs::write(&new, value.to_string()).unwrap();
    let text = compare(&sample_path(), &new, &[]);
    // The page goes beside NEW by default.
    let page_path = dir.0.join("compare.html");
    assert!(
        text.contains(&format!("page: {}", page_path.display())),
        "{text}"
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert_eq!(external_references(&page), Vec::<String>::new());
    check_colours(&check_charts(&page));

    // The text flags one change (wire's halved throughput), the page marks the same one
    // worse and nothing better.
    assert_eq!(text.matches(" !").count(), 1, "{text}");
    assert_eq!(page.matches("<td class=\"worse\"").count(), 1);
    assert_eq!(page.matches("<td class=\"better\"").count(), 0);
    let worse = page.find("<td class=\"worse\"").unwrap();
    assert!(
        page[worse..worse + 400].contains("-50%"),
        "{}",
        &page[worse..worse + 400]
    );
    assert!(page.contains(&format!("wire</b> {scenario}")));

    // One overlay per scenario and load, old dashed and new solid.
    let overlays: Vec<&str> = charts(&page)
        .into_iter()
        .filter(|c| c.contains(": old and new</title>"))
        .collect();
    let pairs: std::collections::BTreeSet<(String, u64)> = value["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["scenario"].as_str().unwrap().to_owned(),
                r["concurrency"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(overlays.len(), pairs.len());
    for chart in overlays {
        assert!(chart.contains(">old</text>") && chart.contains(">new</text>"));
        let dashed = chart.matches("<polyline").count();
        assert!(dashed >= 8, "both runs' lines for every protocol: {dashed}");
        assert_eq!(
            chart.matches("stroke-dasharray=\"5 4\" points").count() * 2,
            dashed,
            "half the lines (the old run's) are dashed"
        );
    }
}

#[test]
fn identical_runs_flag_nothing_and_html_goes_where_asked() {
    let dir = TempDir::new("compare-same");
    let path = dir.0.join("same.html");
    let text = compare(
        &sample_path(),
        &sample_path(),
        &["--html", path.to_str().unwrap()],
    );
    assert!(!text.contains(" !"), "{text}");
    let page = std::fs::read_to_string(&path).unwrap();
    assert_eq!(page.matches("class=\"worse\"").count(), 1, "only the key");
    assert!(page.contains("Same machine, toolchain, dataset and settings."));
    assert!(!page.contains("<td class=\"better\""));
}

/// Two files whose runs differ only in their security condition, or only in their
/// catalogue size, have nothing to compare: `pairs` never sets such runs side by side,
/// while files written before either was recorded (neither named) still pair.
#[test]
fn runs_of_another_condition_or_catalogue_are_not_paired() {
    use bench::report::compare::pairs;
    use bench::results::{Results, Run};

    let file = |runs: Vec<Run>, events: u32| {
        let mut results = Results {
            runs,
            ..Results::default()
        };
        results.meta.dataset_events = events;
        results
    };
    let run = Run {
        protocol: "grpc".into(),
        scenario: "get_event".into(),
        mode: "closed".into(),
        concurrency: 32,
        throughput_ops_s: 1_000.0,
        ..Run::default()
    };
    let old = file(vec![run.clone()], 10_000);
    assert_eq!(pairs(&old, &old).len(), 1, "the same run pairs");

    // Security: named by a sweep, or by the single condition's `tls`/`auth`.
    let tls_auth = Run {
        security: Some("tls+auth".into()),
        ..run.clone()
    };
    assert!(pairs(&old, &file(vec![tls_auth], 10_000)).is_empty());
    let tls = Run {
        tls: Some(true),
        ..run.clone()
    };
    assert!(pairs(&old, &file(vec![tls], 10_000)).is_empty());
    // An old plain file pairs with a sweep's plain runs.
    let plain = Run {
        security: Some("plain".into()),
        ..run.clone()
    };
    assert_eq!(pairs(&old, &file(vec![plain], 10_000)).len(), 1);

    // Events: a sweep's own size, or the file's when the run names none.
    let bigger = Run {
        events: Some(1_000_000),
        ..run.clone()
    };
    assert!(pairs(&old, &file(vec![bigger], 10_000)).is_empty());
    assert!(pairs(&old, &file(vec![run.clone()], 1_000_000)).is_empty());
    let named = Run {
        events: Some(10_000),
        ..run.clone()
    };
    assert_eq!(pairs(&old, &file(vec![named], 1_000_000)).len(), 1);

    // Search mode: database against index over PostgreSQL.
    let index = Run {
        store: Some("postgres".into()),
        search: Some("index".into()),
        ..run.clone()
    };
    let database = Run {
        store: Some("postgres".into()),
        ..run
    };
    assert!(pairs(&file(vec![database], 10_000), &file(vec![index], 10_000)).is_empty());
}
