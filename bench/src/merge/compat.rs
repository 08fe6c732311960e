//! Whether several results files describe parts of one load: the same dataset, the same
//! settings, the same runs, and disjoint shards of one cut. Each refusal names the
//! difference and the two files it was found between.

use std::collections::BTreeSet;
use std::fmt;

use super::Source;
use crate::results::Run;
use crate::shard::Shard;

/// Why results were not merged.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeError {
    /// Fewer than two results: nothing to add up.
    TooFew(usize),
    /// A setting differs between two files.
    Differ {
        /// What differs (`dataset seed`, `scenarios`, ...).
        what: &'static str,
        /// The first file and its value.
        first: (String, String),
        /// The other file and its value.
        other: (String, String),
    },
    /// A file was not run with `--shard`.
    NotSharded(String),
    /// Two files ran the same shard: they drew the same inputs.
    SameShard {
        /// The shard both ran.
        shard: Shard,
        /// The two files.
        files: (String, String),
    },
    /// A run of one file has no counterpart in another.
    MissingRun {
        /// The run, described.
        run: String,
        /// The file that has it.
        present: String,
        /// The file that does not.
        absent: String,
    },
    /// A run cannot be added up (its histogram does not decode, or it is a `watch` run).
    BadRun {
        /// The file.
        file: String,
        /// The run, described.
        run: String,
        /// Why.
        why: String,
    },
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::TooFew(n) => write!(
                f,
                "merge needs the results of two load machines or more, got {n}"
            ),
            MergeError::Differ {
                what,
                first: (a, va),
                other: (b, vb),
            } => write!(
                f,
                "cannot merge {a} and {b}: different {what} ({va} in {a}, {vb} in {b})"
            ),
            MergeError::NotSharded(file) => write!(
                f,
                "cannot merge {file}: it was not run with --shard, and without shards every load machine sends the same inputs (hold_cancel the same writes); run each machine with --shard i/n"
            ),
            MergeError::SameShard {
                shard,
                files: (a, b),
            } => write!(
                f,
                "cannot merge {a} and {b}: both ran shard {shard}, so they sent the same inputs"
            ),
            MergeError::MissingRun {
                run,
                present,
                absent,
            } => write!(
                f,
                "cannot merge {present} and {absent}: {run} was measured in {present} but not in {absent} (different protocols, scenarios or shapes, or it failed there)"
            ),
            MergeError::BadRun { file, run, why } => {
                write!(f, "cannot merge {run} of {file}: {why}")
            }
        }
    }
}

impl std::error::Error for MergeError {}

/// How a run is named in errors: `rest get_event c=32 over loopback, compression none`.
pub fn describe(run: &Run) -> String {
    let shape = run.rate.map_or_else(
        || format!("c={}", run.concurrency),
        |r| format!("open {r:.0}/s"),
    );
    let servers = run
        .server_cpus
        .as_ref()
        .map_or_else(String::new, |set| format!(", servers on CPUs {set}"));
    // A sweep's catalogue size, search mode and security condition tell its runs apart
    // too; named only where the run records them, so other runs read as before.
    let sweep = [
        run.events.map(|events| format!(", {events} events")),
        run.search
            .as_ref()
            .map(|search| format!(", search {search}")),
        run.security
            .as_ref()
            .map(|security| format!(", under {security}")),
    ]
    .into_iter()
    .flatten()
    .collect::<String>();
    format!(
        "{} {} {shape} over {}, compression {}{servers}{sweep}",
        run.protocol,
        run.scenario,
        run.link_name(),
        run.compression_name()
    )
}

/// Refuses unless every source is a distinct shard of one cut, of the same dataset and
/// settings, with the same runs.
///
/// # Errors
/// The first difference found, between the first source and the one that differs.
pub fn check(sources: &[Source]) -> Result<(), MergeError> {
    let Some((first, rest)) = sources.split_first() else {
        return Err(MergeError::TooFew(0));
    };
    if rest.is_empty() {
        return Err(MergeError::TooFew(1));
    }
    for (i, source) in sources.iter().enumerate() {
        let shard = source
            .results
            .meta
            .shard
            .ok_or_else(|| MergeError::NotSharded(source.label.clone()))?;
        if let Some(earlier) = sources[..i]
            .iter()
            .find(|s| s.results.meta.shard == Some(shard))
        {
            return Err(MergeError::SameShard {
                shard,
                files: (earlier.label.clone(), source.label.clone()),
            });
        }
    }
    for other in rest {
        check_pair(first, other)?;
    }
    Ok(())
}

/// The settings of one file a merge needs equal in every other: `(what, value)`. Runs
/// are matched by [`describe`], which names the server CPU set of a pinned run, so a
/// `--server-cpus` sweep merges set by set.
fn settings(source: &Source) -> Vec<(&'static str, String)> {
    let meta = &source.results.meta;
    let names = |pick: fn(&Run) -> String| -> String {
        let set: BTreeSet<String> = source.results.runs.iter().map(pick).collect();
        set.into_iter().collect::<Vec<_>>().join(", ")
    };
    vec![
        ("dataset events", meta.dataset_events.to_string()),
        ("dataset seed", meta.dataset_seed.to_string()),
        (
            "--hot-events",
            meta.hot_events
                .map_or_else(|| "all".to_owned(), |n| n.to_string()),
        ),
        (
            "shard count",
            meta.shard.map_or(1, Shard::count).to_string(),
        ),
        ("warm-up (s)", meta.warmup_s.to_string()),
        (
            "--connections",
            meta.connections
                .map_or_else(|| "-".to_owned(), |c| c.to_string()),
        ),
        (
            "load clients (lean)",
            meta.lean_clients
                .map_or_else(|| "-".to_owned(), |l| l.to_string()),
        ),
        ("protocols", names(|r| r.protocol.clone())),
        ("scenarios", names(|r| r.scenario.clone())),
        ("links", names(|r| r.link_name().to_owned())),
        ("compressions", names(|r| r.compression_name().to_owned())),
        ("measured windows (s)", names(|r| r.duration_s.to_string())),
        // A sweep's runs are keyed by their set (see `describe`); the sets themselves
        // must agree, or one machine's 4-core servers would be added to another's 2.
        (
            "server CPU sets (--server-cpus)",
            names(|r| r.server_cpus.clone().unwrap_or_else(|| "-".to_owned())),
        ),
    ]
}

fn check_pair(first: &Source, other: &Source) -> Result<(), MergeError> {
    for ((what, a), (_, b)) in settings(first).into_iter().zip(settings(other)) {
        if a != b {
            return Err(MergeError::Differ {
                what,
                first: (first.label.clone(), a),
                other: (other.label.clone(), b),
            });
        }
    }
    let runs = |s: &Source| -> BTreeSet<String> { s.results.runs.iter().map(describe).collect() };
    let (mine, theirs) = (runs(first), runs(other));
    if let Some(run) = mine.difference(&theirs).next() {
        return Err(MergeError::MissingRun {
            run: run.clone(),
            present: first.label.clone(),
            absent: other.label.clone(),
        });
    }
    if let Some(run) = theirs.difference(&mine).next() {
        return Err(MergeError::MissingRun {
            run: run.clone(),
            present: other.label.clone(),
            absent: first.label.clone(),
        });
    }
    Ok(())
}
