//! `quartet merge`: the results of several load machines, each of which ran one shard of
//! a load (`quartet bench --shard i/n --target ...`), added up into one `results.json`,
//! `report.md`, `report.html` and interval logs. The adding up is [`crate::merge`]'s;
//! this reads the folders and writes the merged one.

use std::path::{Component, Path, PathBuf};

use crate::hlog::{self, IntervalLog};
use crate::merge::{self, Source};
use crate::report;
use crate::results;

/// Flags of `quartet merge`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The results folders of the load machines' `quartet bench --shard` runs (each
    /// with its results.json and hlog/), or their results.json files; two or more.
    #[arg(required = true, num_args = 1.., value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// Folder to write the merged results.json, report.md, report.html and hlog/ to
    /// [default: results/merged-<timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Reads the runs, merges them and writes the merged folder.
///
/// # Errors
/// If a folder cannot be read, the runs are not shards of one load (the difference is
/// named), or the merged folder cannot be written.
pub fn run(args: &Args) -> Result<(), String> {
    let mut sources = Vec::with_capacity(args.runs.len());
    for path in &args.runs {
        let (source, notes) = read_source(path)?;
        for note in notes {
            eprintln!("note: {note}");
        }
        sources.push(source);
    }
    let mut merged = merge::merge(&sources).map_err(|e| e.to_string())?;
    merged.results.meta.command_line = std::env::args().collect::<Vec<_>>().join(" ");
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!(
            "merged-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    write(&out, &mut merged)?;
    for note in &merged.notes {
        eprintln!("note: {note}");
    }
    println!("{}", report::console_table(&merged.results));
    println!(
        "{} runs of {} load machines merged: {}/results.json, report.md, report.html",
        merged.results.runs.len(),
        sources.len(),
        out.display()
    );
    Ok(())
}

/// One load machine's folder (or its results.json): the results and each run's
/// interval log, and notes on logs it does not have.
///
/// # Errors
/// If results.json cannot be read, or a log it names exists but does not parse.
pub fn read_source(path: &Path) -> Result<(Source, Vec<String>), String> {
    let (folder, file) = if path.is_dir() {
        (path.to_path_buf(), path.join("results.json"))
    } else {
        (
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
            path.to_path_buf(),
        )
    };
    let results = results::read(&file)?;
    let mut notes = Vec::new();
    let mut logs = Vec::with_capacity(results.runs.len());
    for run in &results.runs {
        let Some(name) = run.hlog.as_deref() else {
            logs.push(None);
            continue;
        };
        let log_path = inside(&folder, name)
            .ok_or_else(|| format!("{}: hlog path {name:?} leaves its folder", file.display()))?;
        match std::fs::read_to_string(&log_path) {
            Ok(text) => logs.push(Some(
                IntervalLog::from_text(&text)
                    .map_err(|e| format!("{}: {e}", log_path.display()))?,
            )),
            Err(e) => {
                notes.push(format!(
                    "{}: {e}; its run's per-second figures are left out of the merge",
                    log_path.display()
                ));
                logs.push(None);
            }
        }
    }
    let label = path.display().to_string();
    Ok((
        Source {
            label,
            results,
            logs,
        },
        notes,
    ))
}

/// `folder/name` when `name` is a relative path that stays inside `folder`.
fn inside(folder: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| folder.join(relative))
}

/// Writes the merged results, reports and logs to `out`, naming each log in its run.
fn write(out: &Path, merged: &mut merge::Merged) -> Result<(), String> {
    let folder = out.join(hlog::FOLDER);
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let sources = merged.results.meta.merged_from.len();
    for (index, (run, log)) in merged.results.runs.iter_mut().zip(&merged.logs).enumerate() {
        let Some(log) = log else { continue };
        let name = hlog::file_name(index, run);
        let comment = format!(
            "quartet merge: {} of {sources} load machines, second k of each window added up",
            merge::compat::describe(run)
        );
        let text = log.to_text(&comment)?;
        let path = folder.join(&name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        run.hlog = Some(format!("{}/{name}", hlog::FOLDER));
    }
    let json = serde_json::to_string_pretty(&merged.results).map_err(|e| e.to_string())?;
    let files = [
        ("results.json", json),
        ("report.md", report::markdown(&merged.results)),
        ("report.html", report::html(&merged.results)),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
