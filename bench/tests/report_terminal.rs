//! The terminal table fits a 100-column terminal by default, with the verdict's
//! sentences under it; `--wide` shows every column.

// Helpers outside #[test] functions too: a panic in a test is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_fixtures;

use std::process::Command;

use bench::report;
use report_fixtures::{eventful, parse, sample_json, sample_path};

#[test]
fn the_table_fits_100_columns_and_ends_with_the_verdict() {
    for value in [sample_json(), eventful()] {
        let text = report::console_table(&parse(&value));
        for line in text.lines() {
            assert!(
                line.chars().count() <= 100,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        let verdict = text.find("Verdict (").expect("the verdict under the table");
        let last_table = text.rfind('└').unwrap();
        assert!(last_table < verdict);
        assert!(text[verdict..].contains("- Highest throughput at"));
        // The columns that matter most are there.
        for column in ["ops/s", "p50", "p99", "socket B/op", "CPU µs/op", "flags"] {
            assert!(text.contains(column), "{column}");
        }
    }
    // Long flags wrap inside their cell rather than widening the table.
    let text = report::console_table(&parse(&eventful()));
    assert!(text.contains("RATE NOT MET"));
    assert!(text.contains("CLIENT-BOUND"));
}

#[test]
fn wide_shows_every_column() {
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["report", "--format", "table", "--wide"])
        .arg(sample_path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for column in report::tables::HEADER {
        assert!(text.contains(column), "--wide lacks {column}");
    }
    assert!(text.lines().any(|l| l.chars().count() > 100));
    assert!(text.contains("Verdict ("));
}
