//! `quartet report` and `quartet compare` read results files of every schema version:
//! a version-1 sample (part of docs/sample-run, with `wire_sent`/`wire_received`) and
//! the same figures written as version 2 (`socket_sent`/`socket_received`).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn sample_v1() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/results-v1.json")
}

/// The sample rewritten as schema version 2, in a temporary file.
fn sample_v2(dir: &Path) -> Result<PathBuf> {
    let mut results: Value = serde_json::from_str(&std::fs::read_to_string(sample_v1())?)?;
    results["schema_version"] = 2.into();
    for run in results["runs"].as_array_mut().ok_or("no runs")? {
        let bytes = run["bytes_per_op"].as_object_mut().ok_or("no bytes")?;
        let sent = bytes.remove("wire_sent").ok_or("no wire_sent")?;
        let received = bytes.remove("wire_received").ok_or("no wire_received")?;
        bytes.insert("socket_sent".into(), sent);
        bytes.insert("socket_received".into(), received);
    }
    let path = dir.join("results-v2.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)?)?;
    Ok(path)
}

fn quartet(args: &[&Path], command: &str) -> Result<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .arg(command)
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "quartet {command}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

#[test]
fn report_and_compare_read_both_versions() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("quartet-versions-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (v1, v2) = (sample_v1(), sample_v2(&dir)?);

    let old = quartet(&[&v1], "report")?;
    let new = quartet(&[&v2], "report")?;
    assert!(old.contains("## get_event c=1"), "{old}");
    // The same figures, whatever the names they were stored under.
    assert_eq!(old, new);

    let table = quartet(&[&v1, &v2], "compare")?;
    assert!(table.contains("9 runs matched"), "{table}");
    assert!(!table.contains(" !"), "identical figures flagged: {table}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
