//! Runs under several security conditions (`--security plain,tls,tls+auth`): splitting a
//! results file into one part per condition (each reported as a run of its own, its
//! conditions line saying TLS and auth), and the table and charts that set each
//! protocol's figures side by side per condition, throughput as a multiple of plain
//! text's (of the first condition's when plain did not run), so a reader sees what TLS
//! and a token check cost each style in one run, and a sentence saying how the sweep
//! ran (condition by condition in older files; protocol by protocol, in rounds, since):
//! with rounds, the multiple pairs each round's run with the baseline's of the same
//! round. A file of one condition has none of this; running the sweep is
//! `commands::bench::sweep`'s.

use crate::auth::Security;
use crate::charts::{
    Bar, BarChart, BarGroup, LegendItem, Swatch, bar_chart, escape, protocol_color,
};
use crate::results::{Results, Run};

use super::format;
use super::model::{Shape, display, protocol_order, scenario_order};

/// The conditions of a file's runs, in the order the suite ran them (`meta`'s list,
/// else the runs' order); empty unless the runs name one (`runs[].security`).
pub fn conditions(results: &Results) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let named = results.meta.security_sweep.iter();
    for name in named.chain(results.runs.iter().filter_map(|r| r.security.as_ref())) {
        if !out.contains(name)
            && results
                .runs
                .iter()
                .any(|r| r.security.as_ref() == Some(name))
        {
            out.push(name.clone());
        }
    }
    out
}

/// The condition the others are a multiple of: plain text when it ran, else the first.
fn baseline(conditions: &[String]) -> Option<&str> {
    conditions
        .iter()
        .find(|c| *c == Security::default().name())
        .or_else(|| conditions.first())
        .map(String::as_str)
}

/// Whether a failure's or skipped protocol's text belongs to `condition`'s part: it
/// names that condition (`under tls: ...`), or none.
fn belongs(text: &str, condition: &str) -> bool {
    Security::of_note(text).is_none_or(|s| s.name() == condition)
}

/// One results file per condition, its `meta` saying TLS and auth as a single-condition
/// run's does (failures and protocols not run kept with the condition they name); empty
/// for a file of one condition.
pub fn split(results: &Results) -> Vec<(String, Results)> {
    let conditions = conditions(results);
    if conditions.len() < 2 {
        return Vec::new();
    }
    conditions
        .into_iter()
        .map(|c| {
            let mut part = results.clone();
            part.runs.retain(|r| r.security.as_ref() == Some(&c));
            part.failures.retain(|f| belongs(&f.cause, &c));
            part.skipped.retain(|s| belongs(&s.reason, &c));
            let security: Security = c.parse().unwrap_or_default();
            part.meta.tls = security.tls.then_some(true);
            part.meta.auth = security.auth.then_some(true);
            part.meta.security_sweep = Vec::new();
            part.meta.security_rounds = None;
            for run in &mut part.runs {
                run.security = None;
            }
            (c, part)
        })
        .collect()
}

/// What tells two rows apart beside the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    scenario: String,
    shape: Shape,
    protocol: String,
    link: String,
    compression: String,
    server_cpus: Option<String>,
}

impl Key {
    fn of(run: &Run) -> Self {
        Key {
            scenario: run.scenario.clone(),
            shape: Shape::of(run),
            protocol: run.protocol.clone(),
            link: run.link_name().to_owned(),
            compression: run.compression_name().to_owned(),
            server_cpus: run.server_cpus.clone(),
        }
    }

    /// Report order: scenario, load, protocol, then the rest.
    #[allow(clippy::type_complexity)]
    fn order(
        &self,
    ) -> (
        (usize, String),
        Shape,
        (usize, usize, String),
        &str,
        &str,
        &str,
    ) {
        (
            scenario_order(&self.scenario),
            self.shape,
            protocol_order(&self.protocol),
            &self.link,
            &self.compression,
            self.server_cpus.as_deref().unwrap_or_default(),
        )
    }
}

/// The rows of the side-by-side table: per scenario, load and protocol (and link,
/// compression and server CPUs where those vary), ops/s under each condition with its
/// multiple of the baseline's, then the medians and the server CPU per op under each;
/// empty unless two or more conditions ran.
pub fn rows(results: &Results) -> (Vec<String>, Vec<Vec<String>>) {
    let conditions = conditions(results);
    let Some(base) = baseline(&conditions).filter(|_| conditions.len() >= 2) else {
        return (Vec::new(), Vec::new());
    };
    let mut keys: Vec<Key> = Vec::new();
    for run in results.runs.iter().filter(|r| r.security.is_some()) {
        let key = Key::of(run);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.sort_by(|a, b| a.order().cmp(&b.order()));
    let varies = |f: fn(&Key) -> String| {
        keys.iter()
            .any(|k| f(k) != keys.first().map(f).unwrap_or_default())
    };
    let (links, compressions, cpus) = (
        varies(|k| k.link.clone()),
        varies(|k| k.compression.clone()),
        varies(|k| k.server_cpus.clone().unwrap_or_default()),
    );
    let mut header = vec![
        "scenario".to_owned(),
        "load".to_owned(),
        "protocol".to_owned(),
    ];
    if links {
        header.push("link".to_owned());
    }
    if compressions {
        header.push("compression".to_owned());
    }
    if cpus {
        header.push("server CPUs".to_owned());
    }
    for c in &conditions {
        header.push(if c == base {
            format!("{c} ops/s")
        } else {
            format!("{c} ops/s (x {base})")
        });
    }
    let all = conditions.join(" / ");
    header.push(format!("p50 µs {all}"));
    header.push(format!("server CPU µs/op {all}"));
    let rows = keys
        .iter()
        .map(|key| {
            let run = |condition: &str| {
                results
                    .runs
                    .iter()
                    .find(|r| r.security.as_deref() == Some(condition) && Key::of(r) == *key)
            };
            let runs: Vec<Option<&Run>> = conditions.iter().map(|c| run(c)).collect();
            let base_run = run(base);
            let mut row = vec![
                key.scenario.clone(),
                key.shape.short(),
                key.protocol.clone(),
            ];
            if links {
                row.push(key.link.clone());
            }
            if compressions {
                row.push(key.compression.clone());
            }
            if cpus {
                row.push(key.server_cpus.clone().unwrap_or_else(|| "-".to_owned()));
            }
            for (condition, found) in conditions.iter().zip(&runs) {
                row.push(match found {
                    Some(r) if condition == base => format::rate(r.throughput_ops_s),
                    Some(r) => match base_run.and_then(|b| multiple(r, b)) {
                        Some(Multiple {
                            median,
                            spread: None,
                        }) => format!(
                            "{} ({} {base})",
                            format::rate(r.throughput_ops_s),
                            format::times(median)
                        ),
                        Some(Multiple {
                            median,
                            spread: Some((low, high)),
                        }) => format!(
                            "{} ({} {base}; rounds {}-{})",
                            format::rate(r.throughput_ops_s),
                            format::times(median),
                            format::times(low),
                            format::times(high)
                        ),
                        None => format::rate(r.throughput_ops_s),
                    },
                    None if not_run(results, &key.protocol, &key.scenario, condition) => {
                        "not run".to_owned()
                    }
                    None => "-".to_owned(),
                });
            }
            let each = |figure: &dyn Fn(&Run) -> Option<String>| {
                runs.iter()
                    .map(|r| r.and_then(figure).unwrap_or_else(|| "-".to_owned()))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            row.push(each(&|r| Some(r.latency_us.p50.to_string())));
            row.push(each(&|r| r.server_cpu_us_per_op.map(|c| format!("{c:.1}"))));
            row
        })
        .collect();
    (header, rows)
}

/// A condition's throughput as a multiple of the baseline's, for one row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Multiple {
    /// One run's ops/s over the other's; with rounds, the median of the per-round
    /// multiples (each round's run against the baseline's of the same round).
    median: f64,
    /// With rounds: the lowest and highest per-round multiple.
    spread: Option<(f64, f64)>,
}

/// `run`'s throughput as a multiple of `base`'s: per round when both name their rounds'
/// ops/s (`--security-rounds`), pairing each round with the same round's baseline,
/// else the two runs' own; `None` when the baseline measured nothing.
fn multiple(run: &Run, base: &Run) -> Option<Multiple> {
    let (ours, theirs) = (&run.round_throughput_ops_s, &base.round_throughput_ops_s);
    if ours.len() > 1 && ours.len() == theirs.len() {
        let mut each: Vec<f64> = ours
            .iter()
            .zip(theirs)
            .filter_map(|(o, t)| match (o, t) {
                (Some(o), Some(t)) if *t > 0.0 => Some(o / t),
                _ => None,
            })
            .collect();
        each.sort_by(f64::total_cmp);
        let n = each.len();
        if n > 0 {
            let median = if n % 2 == 1 {
                each[n / 2]
            } else {
                f64::midpoint(each[n / 2 - 1], each[n / 2])
            };
            return Some(Multiple {
                median,
                spread: Some((each[0], each[n - 1])),
            });
        }
    }
    (base.throughput_ops_s > 0.0).then(|| Multiple {
        median: run.throughput_ops_s / base.throughput_ops_s,
        spread: None,
    })
}

/// How the sweep was run, in a sentence: what a row's multiple compares.
pub fn how(results: &Results) -> String {
    match results.meta.security_rounds {
        None => "Run condition by condition (every protocol under one condition, then every protocol under the next): a protocol's runs under two conditions were made a whole suite apart, so on a shared machine their multiple carries the machine's drift as well as the cost of security.".to_owned(),
        Some(1) => "Run protocol by protocol: each protocol's conditions back to back (its servers restarted for each, the startup outside the measured window), so a multiple compares runs made moments apart; one round, so each figure is one run.".to_owned(),
        Some(n) => format!("Run protocol by protocol in {n} rounds: each protocol's conditions back to back (its servers restarted for each, the startup outside the measured window), the order reversed every other round (plain, tls+auth, tls+auth, plain, ...). Ops/s, latency and CPU are the median round's run (by ops/s; the lower middle one for an even count); the multiple is the median of the {n} per-round multiples, each condition against the baseline of the same round, followed by the lowest and highest of them."),
    }
}

/// Whether `protocol`'s `scenario` was listed as not run under `condition`: the whole
/// protocol (a raw floor under TLS), or that scenario alone (`its watch scenario only:
/// ...`).
fn not_run(results: &Results, protocol: &str, scenario: &str, condition: &str) -> bool {
    results.skipped.iter().any(|s| {
        s.protocol == protocol
            && Security::of_note(&s.reason).is_some_and(|c| c.name() == condition)
            && scenario_only(&s.reason).is_none_or(|only| only == scenario)
    })
}

/// The scenario a skipped protocol's reason limits it to (`under tls: its watch
/// scenario only: ...`), if it names one.
fn scenario_only(reason: &str) -> Option<&str> {
    let reason = match Security::of_note(reason) {
        Some(_) => reason.split_once(": ").map_or(reason, |(_, rest)| rest),
        None => reason,
    };
    let (scenario, _) = reason.strip_prefix("its ")?.split_once(" scenario only")?;
    Some(scenario)
}

/// What the table shows, in a sentence.
const NOTE: &str = "Each row: one scenario at one load through one protocol under each security condition the suite ran (plain: no TLS, no tokens; tls: every connection TLS, verified against the run's development CA; auth: every API server checks a bearer token on every request, the floors check none; tls+auth: both), every server started afresh for each, connections reused within a run (the connect scenario pays a new connection, and its handshake, per operation). Ops/s is followed by its multiple of the baseline condition's; \"not run\": the raw floors (tcp, http1, h2) serve plain text only. The watch scenario runs in plain text without tokens only.";

/// The terminal's table (empty unless two or more conditions ran).
pub fn terminal(results: &Results) -> String {
    let (header, rows) = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "throughput and latency per security condition\n{}{}\n",
        super::wrap(&how(results), 100, "", ""),
        format::terminal_table(&header, &rows)
    )
}

/// report.md's section (empty unless two or more conditions ran).
pub fn markdown(results: &Results) -> String {
    let (header, rows) = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "## What security costs: each protocol per security condition\n\n{NOTE}\n\n{}\n\n{}",
        how(results),
        format::markdown_table(&header, &rows)
    )
}

/// Every protocol's throughput on `scenario` at `shape`, one group of bars per
/// condition.
fn chart(results: &Results, key: &(String, Shape), conditions: &[String]) -> String {
    let (scenario, shape) = key;
    let runs: Vec<&Run> = results
        .runs
        .iter()
        .filter(|r| r.scenario == *scenario && Shape::of(r) == *shape)
        .collect();
    let mut protocols: Vec<&str> = Vec::new();
    for run in &runs {
        if !protocols.contains(&run.protocol.as_str()) {
            protocols.push(&run.protocol);
        }
    }
    protocols.sort_by_key(|p| protocol_order(p));
    let groups: Vec<BarGroup> = conditions
        .iter()
        .map(|condition| BarGroup {
            label: Some(condition.clone()),
            bars: protocols
                .iter()
                .filter_map(|p| {
                    let run = runs
                        .iter()
                        .find(|r| r.protocol == *p && r.security.as_ref() == Some(condition))?;
                    let ops = run.throughput_ops_s;
                    Some(Bar {
                        label: display(p),
                        value: ops,
                        solid: None,
                        color: protocol_color(p).to_owned(),
                        text: format::rate(ops),
                        title: format!(
                            "{} {scenario} {} under {condition}: {} ops/s, p50 {}",
                            display(p),
                            shape.words(),
                            format::rate(ops),
                            format::micros(run.latency_us.p50 as f64)
                        ),
                    })
                })
                .collect(),
        })
        .filter(|g| !g.bars.is_empty())
        .collect();
    if groups.len() < 2 {
        return String::new();
    }
    bar_chart(&BarChart {
        title: format!(
            "{scenario} at {}: ops/s per security condition",
            shape.words()
        ),
        x_label: "operations per second".to_owned(),
        y_label: "condition".to_owned(),
        format: format::rate_tick,
        groups,
        legend: protocols
            .iter()
            .map(|p| LegendItem::protocol(p, &display(p), Swatch::Box))
            .collect(),
        width: super::figures::WIDTH,
    })
}

/// report.html's section: the table and a chart per scenario and load (empty unless
/// two or more conditions ran).
pub fn html(results: &Results) -> String {
    let (header, rows) = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut html = format!(
        "<section id=\"security\"><h2>What security costs: each protocol per security condition</h2><p class=\"note\">{} {}</p>{}<div class=\"charts\">",
        escape(NOTE),
        escape(&how(results)),
        format::html_table(&header, &rows)
    );
    let mut combos: Vec<(String, Shape)> = Vec::new();
    for run in &results.runs {
        let key = (run.scenario.clone(), Shape::of(run));
        if !combos.contains(&key) {
            combos.push(key);
        }
    }
    combos.sort_by_key(|(scenario, shape)| (scenario_order(scenario), *shape));
    let conditions = conditions(results);
    for combo in &combos {
        html.push_str(&chart(results, combo, &conditions));
    }
    html.push_str("</div></section>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Skipped;

    fn run(protocol: &str, security: &str, ops: f64) -> Run {
        let mut run = Run {
            protocol: protocol.into(),
            scenario: "get_event".into(),
            concurrency: 32,
            security: Some(security.into()),
            throughput_ops_s: ops,
            ..Run::default()
        };
        run.latency_us.p50 = 100;
        run
    }

    #[test]
    fn a_sweep_splits_by_condition_and_sets_each_beside_plain() {
        let mut results = Results::default();
        results.meta.security_sweep = vec!["plain".into(), "tls+auth".into()];
        results.runs = vec![
            run("tcp-floor", "plain", 200_000.0),
            run("wire", "plain", 100_000.0),
            run("wire", "tls+auth", 85_000.0),
        ];
        let skipped = |protocol: &str, reason: &str| Skipped {
            protocol: protocol.into(),
            link: "loopback".into(),
            compression: "none".into(),
            reason: reason.into(),
        };
        results.skipped = vec![
            skipped(
                "tcp-floor",
                "under tls+auth: a raw floor serves plain text only",
            ),
            skipped("wire", "under tls+auth: its watch scenario only: no token"),
        ];
        let parts = split(&results);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, "plain");
        assert_eq!(parts[0].1.runs.len(), 2);
        assert!(parts[0].1.skipped.is_empty(), "the skip is tls+auth's");
        assert_eq!(parts[1].1.meta.tls, Some(true));
        assert_eq!(parts[1].1.meta.auth, Some(true));
        assert_eq!(parts[1].1.skipped.len(), 2);
        assert!(parts[1].1.runs.iter().all(|r| r.security.is_none()));
        assert!(split(&parts[1].1).is_empty(), "a part is one condition");

        let (header, rows) = rows(&results);
        assert_eq!(header[3], "plain ops/s");
        assert_eq!(header[4], "tls+auth ops/s (x plain)");
        let wire = rows.iter().find(|r| r[2] == "wire").expect("the wire row");
        assert_eq!(wire[4], "85.0k (0.85x plain)");
        let floor = rows
            .iter()
            .find(|r| r[2] == "tcp-floor")
            .expect("the floor");
        assert_eq!(floor[4], "not run");
        // A skip of the watch scenario alone says nothing of wire's other scenarios.
        assert!(not_run(&results, "wire", "watch", "tls+auth"));
        assert!(!not_run(&results, "wire", "get_event", "tls+auth"));
        assert!(!not_run(&results, "wire", "watch", "plain"));
        assert_eq!(scenario_only("its watch scenario only: x"), Some("watch"));
        assert_eq!(scenario_only("a raw floor serves plain text only"), None);
        assert!(markdown(&results).contains("| tls+auth ops/s (x plain) |"));
        assert!(html(&results).contains("id=\"security\""));
        assert!(terminal(&results).contains("per security condition"));
    }

    #[test]
    fn rounds_pair_each_condition_with_plain_of_the_same_round() {
        let mut results = Results::default();
        results.meta.security_sweep = vec!["plain".into(), "tls+auth".into()];
        results.meta.security_rounds = Some(3);
        let mut plain = run("grpc", "plain", 100_000.0);
        // Round 2 was slow for both: per round the multiples are 0.9, 0.8 and 0.95,
        // while the kept runs alone (100k against 60k) would say 0.6.
        plain.round_throughput_ops_s = vec![Some(100_000.0), Some(50_000.0), Some(120_000.0)];
        let mut secured = run("grpc", "tls+auth", 60_000.0);
        secured.round_throughput_ops_s = vec![Some(90_000.0), Some(40_000.0), Some(114_000.0)];
        let m = multiple(&secured, &plain).expect("a multiple");
        assert!((m.median - 0.9).abs() < 1e-9, "{m:?}");
        assert_eq!(m.spread.map(|(l, _)| (l * 100.0).round()), Some(80.0));
        assert_eq!(m.spread.map(|(_, h)| (h * 100.0).round()), Some(95.0));
        results.runs = vec![plain, secured];
        let (_, rows) = rows(&results);
        assert_eq!(rows[0][4], "60.0k (0.90x plain; rounds 0.80x-0.95x)");
        assert!(how(&results).contains("in 3 rounds"));
        assert!(markdown(&results).contains("protocol by protocol in 3 rounds"));
        // A file written before: said to be condition by condition.
        results.meta.security_rounds = None;
        assert!(terminal(&results).contains("condition by condition"));
        // A round the baseline missed is left out of the median.
        let mut missed = results.runs[0].clone();
        missed.round_throughput_ops_s[1] = None;
        let m = multiple(&results.runs[1], &missed).expect("a multiple");
        assert!((m.median - 0.925).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn one_condition_has_no_section_and_no_split() {
        let mut results = Results {
            runs: vec![run("wire", "tls", 1.0)],
            ..Results::default()
        };
        assert!(split(&results).is_empty());
        assert!(markdown(&results).is_empty());
        results.runs[0].security = None;
        assert!(rows(&results).0.is_empty());
    }
}
