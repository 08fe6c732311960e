//! One run of the whole load from the same run on each load machine: counts summed,
//! histograms added, percentiles read from the sum.

use hdrhistogram::Histogram;

use super::compat::{MergeError, describe};
use crate::hlog::{Interval, IntervalLog};
use crate::results::{BytesPerOp, Run};
use crate::stats::{Latency, decode, encode, histogram};

/// One machine's run, with its file's name and its interval log if it has one.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// The file it came from.
    pub label: &'a str,
    /// The run.
    pub run: &'a Run,
    /// Its interval log.
    pub log: Option<&'a IntervalLog>,
}

/// The histograms named by `pick` in every part, added; `None` when some part has none.
fn added(
    parts: &[Part<'_>],
    pick: impl Fn(&Run) -> Option<&str>,
) -> Result<Option<Histogram<u64>>, MergeError> {
    let mut total = histogram();
    for part in parts {
        let Some(text) = pick(part.run) else {
            return Ok(None);
        };
        let bad = |why: String| MergeError::BadRun {
            file: part.label.to_owned(),
            run: describe(part.run),
            why,
        };
        let h = decode(text).map_err(bad)?;
        total
            .add(&h)
            .map_err(|e| bad(format!("its histogram does not add: {e:?}")))?;
    }
    Ok(Some(total))
}

/// `Σ value × ops / Σ ops` over the parts (a per-op figure of the whole); `None` when some
/// part lacks it.
fn per_op(parts: &[Part<'_>], value: impl Fn(&Run) -> Option<f64>) -> Option<f64> {
    let ops: u64 = parts.iter().map(|p| p.run.ops).sum();
    let mut weighted = 0.0;
    for part in parts {
        weighted += value(part.run)? * part.run.ops as f64;
    }
    Some(if ops == 0 { 0.0 } else { weighted / ops as f64 })
}

/// The sum of a figure every part has; `None` when some part lacks it.
fn sum<T: std::iter::Sum<T>>(parts: &[Part<'_>], value: impl Fn(&Run) -> Option<T>) -> Option<T> {
    parts.iter().map(|p| value(p.run)).sum()
}

/// The parts' logs added interval by interval (second `k` of every machine's window
/// together), starting at the earliest window; `None` unless every part has one.
fn added_logs(parts: &[Part<'_>]) -> Result<Option<IntervalLog>, MergeError> {
    let Some(logs) = parts.iter().map(|p| p.log).collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let Some(start) = logs.iter().map(|l| l.start).min() else {
        return Ok(None);
    };
    let mut intervals: Vec<Interval> = Vec::new();
    for (part, log) in parts.iter().zip(&logs) {
        for (k, interval) in log.intervals.iter().enumerate() {
            if let Some(sum) = intervals.get_mut(k) {
                sum.histogram
                    .add(&interval.histogram)
                    .map_err(|e| MergeError::BadRun {
                        file: part.label.to_owned(),
                        run: describe(part.run),
                        why: format!("an interval of its log does not add: {e:?}"),
                    })?;
                sum.length = sum.length.max(interval.length);
            } else {
                intervals.push(interval.clone());
            }
        }
    }
    Ok(Some(IntervalLog { start, intervals }))
}

/// Seconds during which every part's window was open, by the machines' clocks; `None`
/// when some part did not record when its window began.
fn overlap(parts: &[Part<'_>]) -> Option<f64> {
    let mut latest_start = f64::MIN;
    let mut earliest_end = f64::MAX;
    for part in parts {
        let start = part.run.window_start_unix_s?;
        latest_start = latest_start.max(start);
        earliest_end = earliest_end.min(start + part.run.duration_s);
    }
    Some((earliest_end - latest_start).max(0.0))
}

/// The whole load's run from the parts (the same run on each machine), and its interval
/// log when every part had one. Fields this does not know how to add are the first
/// part's.
///
/// # Errors
/// If a histogram does not decode or add, or the run is a `watch` run (its one writer
/// cannot be split across machines, so its parts are not shards of one load).
pub fn merge(parts: &[Part<'_>]) -> Result<(Run, Option<IntervalLog>), MergeError> {
    let Some(first) = parts.first() else {
        return Err(MergeError::TooFew(0));
    };
    if first.run.watch.is_some() {
        return Err(MergeError::BadRun {
            file: first.label.to_owned(),
            run: describe(first.run),
            why: "watch runs are not sharded, so they do not merge".to_owned(),
        });
    }
    let latency = added(parts, |r| Some(r.histogram.as_str()))?.unwrap_or_else(histogram);
    let uncorrected = added(parts, |r| r.uncorrected_histogram.as_deref())?;
    let log = added_logs(parts)?;
    let ops: u64 = parts.iter().map(|p| p.run.ops).sum();
    let mut run = first.run.clone();
    run.concurrency = parts.iter().map(|p| p.run.concurrency).sum();
    run.connections = sum(parts, |r| r.connections);
    run.rate = sum(parts, |r| r.rate);
    run.ops = ops;
    run.errors = parts.iter().map(|p| p.run.errors).sum();
    run.conflicts = parts.iter().map(|p| p.run.conflicts).sum();
    run.throughput_ops_s = ops as f64 / run.duration_s.max(1e-9);
    run.latency_us = Latency::of(&latency);
    run.histogram = encode(&latency);
    run.uncorrected_latency_us = uncorrected.as_ref().map(Latency::of);
    run.uncorrected_histogram = uncorrected.as_ref().map(encode);
    run.requests_per_op = per_op(parts, |r| r.requests_per_op);
    run.bytes_per_op = BytesPerOp {
        request_payload: per_op(parts, |r| Some(r.bytes_per_op.request_payload)).unwrap_or(0.0),
        response_payload: per_op(parts, |r| Some(r.bytes_per_op.response_payload)).unwrap_or(0.0),
        socket_sent: per_op(parts, |r| Some(r.bytes_per_op.socket_sent)).unwrap_or(0.0),
        socket_received: per_op(parts, |r| Some(r.bytes_per_op.socket_received)).unwrap_or(0.0),
    };
    run.server_cpu_us_per_op = per_op(parts, |r| r.server_cpu_us_per_op);
    run.server_rss_bytes = parts.iter().filter_map(|p| p.run.server_rss_bytes).max();
    run.client_cpu_us_per_op = per_op(parts, |r| r.client_cpu_us_per_op);
    // Each machine has its own cores: the busiest one says whether a client set the pace.
    run.client_cpu_share = parts
        .iter()
        .filter_map(|p| p.run.client_cpu_share)
        .reduce(f64::max);
    run.client_bound = parts.iter().any(|p| p.run.client_bound);
    run.achieved_rate_ops_s = sum(parts, |r| r.achieved_rate_ops_s);
    run.backlog_at_end = sum(parts, |r| r.backlog_at_end);
    run.abandoned = parts.iter().map(|p| p.run.abandoned).sum();
    run.rate_not_met = parts.iter().any(|p| p.run.rate_not_met);
    run.double_bookings = parts
        .iter()
        .filter_map(|p| p.run.double_bookings)
        .reduce(|a, b| a + b);
    run.first_error = parts.iter().find_map(|p| p.run.first_error.clone());
    per_second(&mut run, parts, log.as_ref());
    run.hlog = None;
    run.window_start_unix_s = parts
        .iter()
        .filter_map(|p| p.run.window_start_unix_s)
        .reduce(f64::min);
    run.merged_runs = Some(parts.len());
    run.window_overlap_s = overlap(parts);
    Ok((run, log))
}

/// The per-second figures: from the added interval log when every machine had one (its
/// non-empty seconds, as a run records them); else throughput summed second by second
/// and the per-second percentiles left out, since they cannot be added.
fn per_second(run: &mut Run, parts: &[Part<'_>], log: Option<&IntervalLog>) {
    if let Some(log) = log {
        let seconds: Vec<&Histogram<u64>> = log
            .intervals
            .iter()
            .map(|i| &i.histogram)
            .filter(|h| !h.is_empty())
            .collect();
        run.throughput_per_second = seconds.iter().map(|h| h.len() as f64).collect();
        run.p50_per_second_us = seconds.iter().map(|h| h.value_at_quantile(0.5)).collect();
        run.p99_per_second_us = seconds.iter().map(|h| h.value_at_quantile(0.99)).collect();
        return;
    }
    let longest = parts
        .iter()
        .map(|p| p.run.throughput_per_second.len())
        .max()
        .unwrap_or(0);
    run.throughput_per_second = (0..longest)
        .map(|k| {
            parts
                .iter()
                .filter_map(|p| p.run.throughput_per_second.get(k))
                .sum()
        })
        .collect();
    run.p50_per_second_us = Vec::new();
    run.p99_per_second_us = Vec::new();
}
