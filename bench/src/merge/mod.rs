//! Adding up the results of several load machines that each ran one shard of a load
//! (`quartet bench --shard i/n --target ...`) into the results of the whole load.
//!
//! Counts add (operations, errors, conflicts, concurrency, rate); latency histograms add
//! exactly (HdrHistograms, read from each run's `histogram` and, second by second, from
//! its interval log) and percentiles are read from the sum, never averaged; throughput is
//! the summed operations over the (common) measured window. Per-op costs (bytes, CPU) are
//! weighted by each machine's operations; a figure some machine lacks is left out rather
//! than guessed.
//!
//! - [`compat`]: whether the files are shards of one load (dataset, settings, runs).
//! - [`runs`]: one run of the whole from the shards' runs.
//!
//! Reading folders and writing the merged one is `quartet merge`'s
//! ([`crate::commands::merge`]).

pub mod compat;
pub mod runs;

use crate::hlog::IntervalLog;
use crate::results::{MergedSource, Results, Skipped};
use crate::shard::Shard;

/// The share of the window below which machines' windows overlapping is worth a note.
const OVERLAP_NOTED: f64 = 0.9;

pub use self::compat::MergeError;

/// One load machine's results, as read from its folder.
#[derive(Debug, Clone)]
pub struct Source {
    /// How it is named in errors and in `meta.merged_from` (its folder).
    pub label: String,
    /// Its `results.json`.
    pub results: Results,
    /// Each run's interval log, in the order of `results.runs` (`None` where it has none).
    pub logs: Vec<Option<IntervalLog>>,
}

/// The whole load's results, and each run's interval log where every shard had one.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged results (`meta.merged_from` lists the sources).
    pub results: Results,
    /// Each merged run's interval log, in the order of `results.runs`.
    pub logs: Vec<Option<IntervalLog>>,
    /// What a reader should know about the merge (windows that barely overlapped,
    /// shards missing from the cut, different harness revisions); not errors.
    pub notes: Vec<String>,
}

/// Adds up `sources`, the shards of one load.
///
/// # Errors
/// If they are not shards of one load (see [`compat::check`]), or a run's histogram
/// does not decode.
pub fn merge(sources: &[Source]) -> Result<Merged, MergeError> {
    compat::check(sources)?;
    let first = &sources[0];
    let mut notes = Vec::new();
    let mut merged_runs = Vec::with_capacity(first.results.runs.len());
    let mut logs = Vec::with_capacity(first.results.runs.len());
    for run in &first.results.runs {
        let key = compat::describe(run);
        let parts: Vec<runs::Part<'_>> = sources
            .iter()
            .filter_map(|source| {
                let index = source
                    .results
                    .runs
                    .iter()
                    .position(|r| compat::describe(r) == key)?;
                Some(runs::Part {
                    label: &source.label,
                    run: &source.results.runs[index],
                    log: source.logs.get(index).and_then(Option::as_ref),
                })
            })
            .collect();
        let (merged, log) = runs::merge(&parts)?;
        if let Some(overlap) = merged
            .window_overlap_s
            .filter(|o| *o < OVERLAP_NOTED * merged.duration_s)
        {
            notes.push(format!(
                "{key}: the machines measured together for {overlap:.1} s of {:.1} s (by their clocks), so its throughput is not one load's",
                merged.duration_s
            ));
        }
        merged_runs.push(merged);
        logs.push(log);
    }
    let count = first.results.meta.shard.map_or(1, Shard::count);
    if sources.len() < count as usize {
        notes.push(format!(
            "{} of {count} shards merged: the result is that part of the load",
            sources.len()
        ));
    }
    let revisions: std::collections::BTreeSet<&str> = sources
        .iter()
        .map(|s| s.results.meta.git_revision.as_str())
        .collect();
    if revisions.len() > 1 {
        notes.push(format!(
            "the machines ran different revisions of the harness: {}",
            revisions.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut meta = first.results.meta.clone();
    meta.shard = None;
    meta.started_at = sources
        .iter()
        .map(|s| s.results.meta.started_at.clone())
        .min()
        .unwrap_or_default();
    meta.merged_from = sources
        .iter()
        .map(|s| MergedSource {
            path: s.label.clone(),
            shard: s.results.meta.shard,
            started_at: s.results.meta.started_at.clone(),
            git_revision: s.results.meta.git_revision.clone(),
            cpu_model: s.results.meta.cpu_model.clone(),
        })
        .collect();
    let mut failures = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    for source in sources {
        for failure in &source.results.failures {
            let mut failure = failure.clone();
            failure.cause = format!("{}: {}", source.label, failure.cause);
            failures.push(failure);
        }
        for skip in &source.results.skipped {
            if !skipped.contains(skip) {
                skipped.push(skip.clone());
            }
        }
    }
    // The first file's, field by field: a field added to `Results` later is the first
    // machine's until the merge learns to add it up.
    let mut results = Results {
        runs: Vec::new(),
        ..first.results.clone()
    };
    results.schema_version = crate::results::SCHEMA_VERSION;
    results.meta = meta;
    results.runs = merged_runs;
    results.failures = failures;
    results.skipped = skipped;
    Ok(Merged {
        results,
        logs,
        notes,
    })
}
