//! `quartet compare OLD.json NEW.json`: per protocol, scenario and shape, the change in
//! median and p99 latency, throughput and bytes, flagged only where it is larger than the
//! noise the two runs themselves show (the spread of their per-second figures).

use std::collections::BTreeMap;
use std::path::PathBuf;

use comfy_table::{Table, presets::UTF8_FULL};

use crate::results::{self, Run};

/// Flags of `quartet compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The baseline results.json.
    pub old: PathBuf,
    /// The results.json to compare with it.
    pub new: PathBuf,
}

/// Sample standard deviation (0 for fewer than two samples).
pub fn stddev(samples: &[f64]) -> f64 {
    if samples.len() < 2 {
        return 0.0;
    }
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    (samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (samples.len() - 1) as f64).sqrt()
}

/// Whether `new - old` exceeds twice the combined per-second noise of both runs (and a
/// relative floor of 1%, so a perfectly steady pair is not flagged for nothing).
pub fn significant(old: f64, new: f64, old_noise: f64, new_noise: f64) -> bool {
    let delta = (new - old).abs();
    delta > 2.0 * old_noise.hypot(new_noise) && delta > 0.01 * old.abs().max(new.abs())
}

fn noise_u64(samples: &[u64]) -> f64 {
    let samples: Vec<f64> = samples.iter().map(|&s| s as f64).collect();
    stddev(&samples)
}

fn change(old: f64, new: f64, flagged: bool) -> String {
    let pct = if old.abs() > f64::EPSILON {
        (new - old) / old * 100.0
    } else {
        0.0
    };
    format!(
        "{old:.0} -> {new:.0} ({pct:+.1}%){}",
        if flagged { " !" } else { "" }
    )
}

/// One comparison row.
fn row(old: &Run, new: &Run) -> Vec<String> {
    let p50 = significant(
        old.latency_us.p50 as f64,
        new.latency_us.p50 as f64,
        noise_u64(&old.p50_per_second_us),
        noise_u64(&new.p50_per_second_us),
    );
    let p99 = significant(
        old.latency_us.p99 as f64,
        new.latency_us.p99 as f64,
        noise_u64(&old.p99_per_second_us),
        noise_u64(&new.p99_per_second_us),
    );
    let tput = significant(
        old.throughput_ops_s,
        new.throughput_ops_s,
        stddev(&old.throughput_per_second),
        stddev(&new.throughput_per_second),
    );
    let bytes_old = old.bytes_per_op.socket_sent + old.bytes_per_op.socket_received;
    let bytes_new = new.bytes_per_op.socket_sent + new.bytes_per_op.socket_received;
    // Byte counts are deterministic: any change beyond rounding is real.
    let bytes = (bytes_new - bytes_old).abs() > 0.01 * bytes_old.max(1.0);
    vec![
        new.protocol.clone(),
        new.scenario.clone(),
        new.rate.map_or_else(
            || format!("c={}", new.concurrency),
            |r| format!("open {r:.0}/s"),
        ),
        change(old.latency_us.p50 as f64, new.latency_us.p50 as f64, p50),
        change(old.latency_us.p99 as f64, new.latency_us.p99 as f64, p99),
        change(old.throughput_ops_s, new.throughput_ops_s, tput),
        change(bytes_old, bytes_new, bytes),
    ]
}

/// Prints the comparison.
///
/// # Errors
/// If either file cannot be read.
pub fn run(args: &Args) -> Result<(), String> {
    let old = results::read(&args.old)?;
    let new = results::read(&args.new)?;
    let old_runs: BTreeMap<_, &Run> = old.runs.iter().map(|r| (r.key(), r)).collect();
    let mut table = Table::new();
    table.load_preset(UTF8_FULL).set_header([
        "protocol",
        "scenario",
        "shape",
        "p50 µs",
        "p99 µs",
        "ops/s",
        "socket B/op",
    ]);
    let mut matched = 0;
    for run in &new.runs {
        if let Some(before) = old_runs.get(&run.key()) {
            table.add_row(row(before, run));
            matched += 1;
        }
    }
    println!("{table}");
    println!(
        "{matched} runs matched. `!` marks a change larger than twice the two runs' combined per-second noise (bytes: any change over 1%).\nold: {} ({}), new: {} ({})",
        args.old.display(),
        old.meta.started_at,
        args.new.display(),
        new.meta.started_at
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_beyond_the_noise_are_flagged() {
        assert!((stddev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) - 2.138).abs() < 0.01);
        assert!(stddev(&[3.0]).abs() < f64::EPSILON);
        // 10% change, noise 1% of the value: flagged.
        assert!(significant(1000.0, 1100.0, 10.0, 10.0));
        // 10% change, but the runs themselves wobble by 10%: not flagged.
        assert!(!significant(1000.0, 1100.0, 100.0, 100.0));
        // A steady pair differing by 0.5%: under the relative floor.
        assert!(!significant(1000.0, 1005.0, 0.0, 0.0));
    }
}
