//! One load from several machines: `--shard` cuts the inputs into disjoint parts that
//! cover the whole, each run's interval log reads back through the hdrhistogram crate's
//! own reader, and `quartet merge` adds shards up exactly (the merged histogram is the
//! histogram of every sample) or refuses, naming the difference.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bench::hlog::{Interval, IntervalLog};
use bench::merge::{self, MergeError, Source};
use bench::results::{Meta, Results, Run};
use bench::scenario::{Plan, Scenario};
use bench::shard::Shard;
use bench::stats::{Latency, decode, encode, histogram, record};
use clap::Parser;
use domain::Dataset;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

const WINDOW: f64 = 2.0;

/// Latencies of `n` operations, deterministic and spread over three decades.
fn samples(seed: u64, n: u64) -> Vec<u64> {
    (0..n)
        .map(|i| 10 + (i * 7_919 + seed * 104_729) % 50_000)
        .collect()
}

fn histogram_of(samples: &[u64]) -> Histogram<u64> {
    let mut h = histogram();
    for &v in samples {
        record(&mut h, v);
    }
    h
}

/// One shard's run of `seconds`: `seconds[k]` are the latencies timed in second `k`.
fn shard_source(label: &str, shard: Shard, seconds: &[Vec<u64>], started: f64) -> Source {
    let all: Vec<u64> = seconds.iter().flatten().copied().collect();
    let whole = histogram_of(&all);
    let ops = all.len() as u64;
    let run = Run {
        protocol: "rest".to_owned(),
        scenario: "get_event".to_owned(),
        mode: "open".to_owned(),
        concurrency: 16,
        connections: Some(16),
        rate: Some(1_000.0),
        duration_s: WINDOW,
        ops,
        errors: 1,
        throughput_ops_s: ops as f64 / WINDOW,
        latency_us: Latency::of(&whole),
        histogram: encode(&whole),
        uncorrected_histogram: Some(encode(&histogram_of(
            &all.iter().map(|v| v / 2).collect::<Vec<_>>(),
        ))),
        achieved_rate_ops_s: Some(ops as f64 / WINDOW),
        client_cpu_us_per_op: Some(if shard.index() == 1 { 10.0 } else { 30.0 }),
        window_start_unix_s: Some(started),
        ..Run::default()
    };
    let log = IntervalLog {
        start: SystemTime::UNIX_EPOCH + Duration::from_secs_f64(started),
        intervals: seconds
            .iter()
            .enumerate()
            .map(|(k, s)| Interval {
                offset: Duration::from_secs(k as u64),
                length: Duration::from_secs(1),
                histogram: histogram_of(s),
            })
            .collect(),
    };
    Source {
        label: label.to_owned(),
        results: Results {
            schema_version: bench::results::SCHEMA_VERSION,
            meta: Meta {
                dataset_events: 10_000,
                dataset_seed: 42,
                shard: Some(shard),
                git_revision: "abc1234".to_owned(),
                ..Meta::default()
            },
            runs: vec![run],
            ..Results::default()
        },
        logs: vec![Some(log)],
    }
}

fn half(index: u32) -> Shard {
    Shard::new(index, 2).unwrap()
}

/// Machine A's two seconds and machine B's (a tenth as slow).
fn halves() -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
    let faster = |s: Vec<u64>| s.into_iter().map(|v| v / 10).collect::<Vec<_>>();
    (
        vec![samples(1, 700), samples(2, 650)],
        vec![faster(samples(3, 300)), faster(samples(4, 900))],
    )
}

/// The error a merge that must fail gave (a merged result is too big to print).
fn refused(sources: &[Source]) -> MergeError {
    match merge::merge(sources) {
        Ok(merged) => panic!("merged {} runs", merged.results.runs.len()),
        Err(e) => e,
    }
}

#[test]
fn two_half_runs_merge_into_the_histogram_of_every_sample() {
    let (a, b) = halves();
    let sources = [
        shard_source("a", half(1), &a, 1_000.0),
        shard_source("b", half(2), &b, 1_000.25),
    ];
    let merged = merge::merge(&sources).unwrap();
    let run = &merged.results.runs[0];

    let every: Vec<u64> = a.iter().chain(&b).flatten().copied().collect();
    let combined = histogram_of(&every);
    assert_eq!(decode(&run.histogram).unwrap(), combined);
    assert_eq!(run.latency_us, Latency::of(&combined));
    assert_eq!(run.ops, every.len() as u64);
    assert_eq!(
        (run.errors, run.concurrency, run.rate),
        (2, 32, Some(2_000.0))
    );
    assert!((run.throughput_ops_s - every.len() as f64 / WINDOW).abs() < 1e-9);
    // Read from the sum, not the mean of the halves' p99s.
    let mean_of_p99s = sources
        .iter()
        .map(|s| s.results.runs[0].latency_us.p99)
        .sum::<u64>()
        / 2;
    assert_eq!(run.latency_us.p99, combined.value_at_quantile(0.99));
    assert_ne!(run.latency_us.p99, mean_of_p99s);

    let uncorrected: Vec<u64> = every.iter().map(|v| v / 2).collect();
    assert_eq!(
        run.uncorrected_latency_us,
        Some(Latency::of(&histogram_of(&uncorrected)))
    );
    // Client CPU per op weighted by each machine's operations.
    let ops_a = a.iter().flatten().count() as f64;
    let ops_b = b.iter().flatten().count() as f64;
    let expected_cpu = (10.0 * ops_a + 30.0 * ops_b) / (ops_a + ops_b);
    assert!((run.client_cpu_us_per_op.unwrap() - expected_cpu).abs() < 1e-9);
    assert_eq!(run.merged_runs, Some(2));
    let overlap = run.window_overlap_s.unwrap();
    assert!((overlap - (WINDOW - 0.25)).abs() < 1e-9, "{overlap}");

    // Second by second, from the interval logs: each second's percentiles are those of
    // both machines' samples of that second.
    for k in 0..2 {
        let second: Vec<u64> = a[k].iter().chain(&b[k]).copied().collect();
        let h = histogram_of(&second);
        assert!((run.throughput_per_second[k] - second.len() as f64).abs() < 1e-9);
        assert_eq!(run.p50_per_second_us[k], h.value_at_quantile(0.5));
        assert_eq!(run.p99_per_second_us[k], h.value_at_quantile(0.99));
    }
    let log = merged.logs[0].as_ref().unwrap();
    assert_eq!(log.total().unwrap(), combined);
    let shards: Vec<Option<Shard>> = merged
        .results
        .meta
        .merged_from
        .iter()
        .map(|s| s.shard)
        .collect();
    assert_eq!(shards, vec![Some(half(1)), Some(half(2))]);
    assert_eq!(merged.results.meta.shard, None);
}

#[test]
fn different_scenarios_or_datasets_refuse_to_merge_naming_the_difference() {
    let (a, b) = halves();
    let first = shard_source("machine-a", half(1), &a, 0.0);

    let mut other_seed = shard_source("machine-b", half(2), &b, 0.0);
    other_seed.results.meta.dataset_seed = 7;
    let error = refused(&[first.clone(), other_seed]);
    assert!(
        matches!(
            &error,
            MergeError::Differ {
                what: "dataset seed",
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("dataset seed")
            && message.contains("42 in machine-a")
            && message.contains("7 in machine-b"),
        "{message}"
    );

    let mut other_events = shard_source("machine-b", half(2), &b, 0.0);
    other_events.results.meta.dataset_events = 500;
    let error = refused(&[first.clone(), other_events]);
    assert!(
        matches!(
            error,
            MergeError::Differ {
                what: "dataset events",
                ..
            }
        ),
        "{error}"
    );

    let mut hotter = shard_source("machine-b", half(2), &b, 0.0);
    hotter.results.meta.hot_events = Some(1);
    let error = refused(&[first.clone(), hotter]);
    assert!(
        matches!(
            error,
            MergeError::Differ {
                what: "--hot-events",
                ..
            }
        ),
        "{error}"
    );

    let mut other_scenario = shard_source("machine-b", half(2), &b, 0.0);
    "list_events".clone_into(&mut other_scenario.results.runs[0].scenario);
    let error = refused(&[first.clone(), other_scenario]);
    assert!(
        matches!(
            error,
            MergeError::Differ {
                what: "scenarios",
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("get_event in machine-a"),
        "{error}"
    );

    let mut other_shape = shard_source("machine-b", half(2), &b, 0.0);
    other_shape.results.runs[0].rate = Some(500.0);
    let error = refused(&[first.clone(), other_shape]);
    assert!(matches!(error, MergeError::MissingRun { .. }), "{error}");

    let same = shard_source("machine-b", half(1), &b, 0.0);
    let error = refused(&[first.clone(), same]);
    assert!(matches!(error, MergeError::SameShard { .. }), "{error}");

    let mut unsharded = shard_source("machine-b", half(2), &b, 0.0);
    unsharded.results.meta.shard = None;
    let error = refused(&[first.clone(), unsharded]);
    assert_eq!(error, MergeError::NotSharded("machine-b".to_owned()));

    let thirds = shard_source("machine-b", Shard::new(2, 3).unwrap(), &b, 0.0);
    let error = refused(&[first.clone(), thirds]);
    assert!(
        matches!(
            error,
            MergeError::Differ {
                what: "shard count",
                ..
            }
        ),
        "{error}"
    );

    let mut other_cores = shard_source("machine-b", half(2), &b, 0.0);
    other_cores.results.runs[0].server_cpus = Some("1-3".to_owned());
    let error = refused(&[first.clone(), other_cores]);
    assert!(
        matches!(
            error,
            MergeError::Differ {
                what: "server CPU sets (--server-cpus)",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("1-3 in machine-b"), "{error}");

    assert_eq!(refused(&[first]), MergeError::TooFew(1));
}

/// Shards' workers are disjoint and together are the workers of one machine running
/// `n` times the concurrency, stream for stream.
#[test]
fn shard_slices_are_disjoint_and_cover_the_sequence() {
    for count in 1..=4u32 {
        for concurrency in [1usize, 3, 32] {
            let mut seen = BTreeSet::new();
            for index in 1..=count {
                let shard = Shard::new(index, count).unwrap();
                for local in 0..concurrency {
                    assert!(
                        seen.insert(shard.worker(local)),
                        "{shard} worker {local} drawn twice"
                    );
                }
            }
            let whole: BTreeSet<usize> = (0..concurrency * count as usize).collect();
            assert_eq!(seen, whole, "{count} shards at c={concurrency}");
        }
    }

    let dataset = || Dataset::from_spec(common::SPEC);
    let whole = Plan::new(dataset());
    let draws = |plan: &Plan, worker: usize| -> Vec<u64> {
        let mut rng = plan.input_stream(Scenario::GetEvent, worker);
        (0..64).map(|_| plan.draw_event(&mut rng).0).collect()
    };
    let expected: BTreeSet<Vec<u64>> = (0..6).map(|w| draws(&whole, w)).collect();
    assert_eq!(expected.len(), 6, "the whole load's streams differ");
    let mut union = BTreeSet::new();
    for index in 1..=3 {
        let plan = Plan::new(dataset()).sharded(Shard::new(index, 3).unwrap());
        for local in 0..2 {
            let stream = draws(&plan, local);
            assert!(union.insert(stream.clone()), "two shards drew one stream");
            let global = Shard::new(index, 3).unwrap().worker(local);
            assert_eq!(stream, draws(&whole, global));
        }
    }
    assert_eq!(union, expected);
    // Shard 1/1 is the whole load.
    let one = Plan::new(dataset()).sharded(Shard::WHOLE);
    assert_eq!(draws(&one, 5), draws(&whole, 5));
}

#[test]
fn an_interval_log_reads_back_through_the_crate_reader() {
    let (a, _) = halves();
    let source = shard_source("a", half(1), &a, 1_800_000_000.5);
    let log = source.logs[0].as_ref().unwrap();
    let text = log.to_text("quartet bench: rest get_event").unwrap();

    let mut start = None;
    let mut read = Vec::new();
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(text.as_bytes()) {
        match entry.unwrap() {
            LogEntry::StartTime(t) => start = Some(t),
            LogEntry::BaseTime(_) => {}
            LogEntry::Interval(line) => {
                assert!(
                    line.tag().is_none(),
                    "readers take untagged intervals by default"
                );
                let bytes = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    line.encoded_histogram(),
                )
                .unwrap();
                let h: Histogram<u64> = deserializer.deserialize(&mut bytes.as_slice()).unwrap();
                // The max column is in ms.
                assert!((line.max() - h.max() as f64 / 1_000.0).abs() < 1e-3);
                read.push((line.start_timestamp(), line.duration(), h));
            }
        }
    }
    assert_eq!(start, Some(Duration::from_millis(1_800_000_000_500)));
    assert_eq!(read.len(), 2);
    for (k, (offset, length, h)) in read.iter().enumerate() {
        assert_eq!(*offset, Duration::from_secs(k as u64));
        assert_eq!(*length, Duration::from_secs(1));
        assert_eq!(h.len(), a[k].len() as u64);
        assert_eq!(
            h.value_at_quantile(0.99),
            histogram_of(&a[k]).value_at_quantile(0.99)
        );
    }
    assert_eq!(IntervalLog::from_text(&text).unwrap(), *log);
}

/// `quartet bench` as the CLI sees it.
#[derive(Parser)]
struct BenchCli {
    #[command(flatten)]
    args: bench::commands::bench::Args,
}

#[test]
fn shard_flags_are_checked() {
    for bad in ["0/2", "3/2", "1/0", "half", "1/2/3", ""] {
        let parsed = BenchCli::try_parse_from(["bench", "--shard", bad]);
        let error = parsed.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("bad shard"), "--shard {bad:?}: {error}");
    }
    let without_target = BenchCli::try_parse_from(["bench", "--shard", "1/2"]).unwrap();
    let error = without_target.args.shard_and_scenarios().unwrap_err();
    assert!(error.contains("--target"), "{error}");

    let some_untargeted = BenchCli::try_parse_from([
        "bench",
        "--shard",
        "1/2",
        "--protocols",
        "rest,grpc",
        "--target",
        "rest=127.0.0.1:9",
    ])
    .unwrap();
    let error = some_untargeted.args.shard_and_scenarios().unwrap_err();
    assert!(
        error.contains("grpc") && !error.contains("rest,"),
        "{error}"
    );

    let targeted = |extra: &[&str]| {
        let mut argv = vec![
            "bench",
            "--shard",
            "2/2",
            "--protocols",
            "rest",
            "--target",
            "rest=127.0.0.1:9",
        ];
        argv.extend_from_slice(extra);
        BenchCli::try_parse_from(argv)
            .unwrap()
            .args
            .shard_and_scenarios()
    };
    let (shard, scenarios) = targeted(&[]).unwrap();
    assert_eq!(shard, Some(half(2)));
    assert!(!scenarios.contains(&Scenario::Watch) && scenarios.contains(&Scenario::GetEvent));
    let error = targeted(&["--scenarios", "get_event,watch"]).unwrap_err();
    assert!(error.contains("watch"), "{error}");
}

/// A folder under the system's temporary directory, unique to this test run.
fn scratch(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "quartet-merge-{}-{nanos}-{name}",
        std::process::id()
    ))
}

/// Two shards of a short run against one REST server, then `quartet merge` of their
/// folders: the merged file adds them up and its interval log reads back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sharded_bench_runs_merge_from_their_folders() {
    let server = common::serve(bench::protocol::Protocol::Rest).await;
    let root = scratch("e2e");
    let mut folders = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = root.join(shard.replace('/', "of"));
        let target = format!("rest={}", server.addr);
        let cli = BenchCli::try_parse_from([
            "bench",
            "--shard",
            shard,
            "--target",
            &target,
            "--protocols",
            "rest",
            "--scenarios",
            "get_event,hold_cancel",
            "--concurrency",
            "2",
            "--duration",
            "0.5",
            "--warmup",
            "0",
            "--events",
            &common::SPEC.events.to_string(),
            "--seed",
            &common::SPEC.seed.to_string(),
            "--pin",
            "off",
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        bench::commands::bench::run(cli.args).await.unwrap();
        folders.push(out);
    }
    let parts: Vec<Results> = folders
        .iter()
        .map(|f| bench::results::read(&f.join("results.json")).unwrap())
        .collect();
    for (part, index) in parts.iter().zip(1..) {
        assert_eq!(part.meta.shard, Some(half(index)));
        assert!(part.failures.is_empty(), "{:?}", part.failures);
        for run in &part.runs {
            assert_eq!(run.errors, 0, "{:?}", run.first_error);
        }
    }

    let out = root.join("merged");
    let args = bench::commands::merge::Args {
        runs: folders.clone(),
        out: Some(out.clone()),
    };
    bench::commands::merge::run(&args).unwrap();
    let merged = bench::results::read(&out.join("results.json")).unwrap();
    assert_eq!(merged.runs.len(), parts[0].runs.len());
    for run in &merged.runs {
        let halves: Vec<&Run> = parts
            .iter()
            .map(|p| p.runs.iter().find(|r| r.scenario == run.scenario).unwrap())
            .collect();
        assert_eq!(run.ops, halves.iter().map(|r| r.ops).sum::<u64>());
        assert_eq!(run.concurrency, 4);
        let mut combined = histogram();
        for half in &halves {
            combined.add(decode(&half.histogram).unwrap()).unwrap();
        }
        assert_eq!(decode(&run.histogram).unwrap(), combined);
        let log_text = std::fs::read_to_string(out.join(run.hlog.as_deref().unwrap())).unwrap();
        let log = IntervalLog::from_text(&log_text).unwrap();
        assert_eq!(log.total().unwrap(), combined, "{}", run.scenario);
    }
    assert!(out.join("report.md").is_file() && out.join("report.html").is_file());
    let _ = std::fs::remove_dir_all(&root);
    server.stop().await.unwrap();
}
