//! The `watch` scenario's own table: per protocol and subscriber count, delivery latency
//! from commit to arrival, messages delivered per second, resyncs and anything missing,
//! socket bytes and server CPU per delivered message, server memory; then the slow
//! subscriber of the run that had one. Every figure comes from `runs[].watch` and the
//! run's own fields.

use crate::results::{Results, Run};

/// Column names of the watch table.
pub const HEADER: [&str; 13] = [
    "protocol",
    "subscribers",
    "changes/s",
    "delivered/s",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
    "resyncs",
    "missing",
    "socket B/msg",
    "server CPU µs/msg",
    "server RSS MB",
];

fn watch_runs(results: &Results) -> Vec<&Run> {
    let mut runs: Vec<&Run> = results.runs.iter().filter(|r| r.watch.is_some()).collect();
    runs.sort_by(|a, b| {
        (a.concurrency, protocol_rank(&a.protocol))
            .cmp(&(b.concurrency, protocol_rank(&b.protocol)))
    });
    runs
}

fn protocol_rank(name: &str) -> usize {
    ["rest", "graphql", "grpc", "wire"]
        .iter()
        .position(|p| *p == name)
        .unwrap_or(usize::MAX)
}

/// The table's rows (empty when the run had no watch scenario).
pub fn rows(results: &Results) -> Vec<Vec<String>> {
    watch_runs(results)
        .into_iter()
        .filter_map(|run| {
            let watch = run.watch.as_ref()?;
            let mut protocol = run.protocol.clone();
            if run.client_bound {
                protocol.push_str(" (client-bound)");
            }
            Some(vec![
                protocol,
                run.concurrency.to_string(),
                format!("{:.0}", watch.write_rate_achieved),
                format!("{:.0}", run.throughput_ops_s),
                run.latency_us.p50.to_string(),
                run.latency_us.p99.to_string(),
                run.latency_us.p999.to_string(),
                run.latency_us.max.to_string(),
                watch.resyncs.to_string(),
                (watch.missing + watch.gaps).to_string(),
                format!("{:.0}", run.bytes_per_op.socket_received),
                run.server_cpu_us_per_op
                    .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}")),
                run.server_rss_bytes.map_or_else(
                    || "-".to_owned(),
                    |b| format!("{:.0}", b as f64 / (1024.0 * 1024.0)),
                ),
            ])
        })
        .collect()
}

/// One sentence per protocol's slow subscriber: what the policy did to it.
pub fn slow_lines(results: &Results) -> Vec<String> {
    watch_runs(results)
        .into_iter()
        .filter_map(|run| {
            let watch = run.watch.as_ref()?;
            let slow = watch.slow_subscriber.as_ref()?;
            let gaps = if slow.gaps == 0 {
                "no gap".to_owned()
            } else {
                format!("{} GAPS", slow.gaps)
            };
            Some(format!(
                "{}: one subscriber taking {:.0} ms per message beside {} others received {} of {} changes ({gaps}), was sent {} resync(s), and was {} changes behind when the others had them all; the others' p99 was {} µs with {} resyncs",
                run.protocol,
                slow.pause_ms,
                run.concurrency,
                slow.delivered,
                watch.changes,
                slow.resyncs,
                slow.behind_at_end,
                run.latency_us.p99,
                watch.resyncs,
            ))
        })
        .collect()
}

/// The writer's rate and what it achieved, once per results file.
pub fn writer_line(results: &Results) -> Option<String> {
    let run = watch_runs(results).into_iter().next()?;
    let watch = run.watch.as_ref()?;
    Some(format!(
        "A writer holds and cancels seats of one event, asking for {:.0} changes/s (changes/s: what it achieved, one call at a time); each subscriber follows that event. delivered/s: changes received by all subscribers together, over the window from the first write until the last subscriber caught up. Latency is from the server's commit to the subscriber's receipt on the same machine's clock; bytes and CPU are per delivered message and include serving the writer.",
        watch.rate
    ))
}
