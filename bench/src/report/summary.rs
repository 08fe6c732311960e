//! The verdict in words: sentences computed from the runs, none written by hand. Who
//! leads throughput and latency, the widest gaps, bytes and CPU, how close each protocol
//! comes to its floor, long tails, what an uncorrected open-loop figure would hide, and
//! what limits trust in the figures (client-bound runs, rates not met, errors, noise).

use std::collections::BTreeMap;

use super::compare::stddev;
use super::format::{self, times};
use super::model::{self, Metric, Shape, View, display, join_and};
use crate::results::Run;

/// A piece of a sentence: text, or a protocol's name (emphasised and coloured in HTML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain text.
    Text(String),
    /// A protocol, by its results name.
    Protocol(String),
}

/// A sentence of the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sentence(pub Vec<Piece>);

impl Sentence {
    fn t(mut self, text: impl Into<String>) -> Self {
        self.0.push(Piece::Text(text.into()));
        self
    }

    fn p(mut self, protocol: &str) -> Self {
        self.0.push(Piece::Protocol(protocol.to_owned()));
        self
    }

    /// Plain text (for the terminal).
    pub fn plain(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Protocol(p) => display(p),
            })
            .collect()
    }

    /// Markdown: protocols in bold.
    pub fn markdown(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Protocol(p) => format!("**{}**", display(p)),
            })
            .collect()
    }

    /// HTML: protocols in bold, in their chart colour.
    pub fn html(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => crate::charts::escape(t),
                Piece::Protocol(p) => format!(
                    "<b style=\"color:{}\">{}</b>",
                    crate::charts::protocol_color(p),
                    crate::charts::escape(&display(p))
                ),
            })
            .collect()
    }
}

/// Who has the best figure of `metric` on each scenario at `shape`, and by how much
/// over the runner-up (a multiple >= 1, when there is a runner-up).
fn leaders(view: &View<'_>, metric: Metric, shape: Shape) -> Vec<(String, String, Option<f64>)> {
    let mut out = Vec::new();
    for scenario in &view.scenarios {
        let mut values: Vec<(f64, &String)> = view
            .contenders
            .iter()
            .filter_map(|p| Some((metric.value(view.run(scenario, p, shape)?)?, p)))
            .collect();
        if values.len() < 2 {
            continue;
        }
        values.sort_by(|a, b| {
            if metric.higher_is_better() {
                b.0.total_cmp(&a.0)
            } else {
                a.0.total_cmp(&b.0)
            }
        });
        let margin = metric.badness(values[1].0, values[0].0);
        out.push((scenario.clone(), values[0].1.clone(), margin));
    }
    out
}

/// A winner, the scenarios it wins and its margins over the runner-up.
type Wins = (String, Vec<String>, Vec<f64>);

/// "Highest throughput at 32 clients: wire in every scenario, by 1.1x to 2.4x over the
/// runner-up." or "...: wire in 5 of 7 scenarios, gRPC in seat_map and hold_cancel."
fn leadership(view: &View<'_>, metric: Metric, shape: Shape, what: &str) -> Option<Sentence> {
    let leads = leaders(view, metric, shape);
    if leads.is_empty() {
        return None;
    }
    let mut by_winner: BTreeMap<(usize, usize, String), Wins> = BTreeMap::new();
    for (scenario, winner, margin) in &leads {
        let entry = by_winner
            .entry(model::protocol_order(winner))
            .or_insert_with(|| (winner.clone(), Vec::new(), Vec::new()));
        entry.1.push(scenario.clone());
        entry.2.extend(margin);
    }
    let mut winners: Vec<Wins> = by_winner.into_values().collect();
    winners.sort_by_key(|w| std::cmp::Reverse(w.1.len()));
    let total = leads.len();
    let mut s = Sentence::default().t(format!("{what} at {}: ", shape.words()));
    for (i, (winner, scenarios, margins)) in winners.iter().enumerate() {
        if i > 0 {
            s = s.t(if i + 1 == winners.len() {
                " and "
            } else {
                ", "
            });
        }
        s = s.p(winner);
        if winners.len() == 1 {
            s = s.t(if total == 1 {
                format!(" on {}", scenarios[0])
            } else {
                " in every scenario".to_owned()
            });
            let lo = margins.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = margins.iter().copied().fold(0.0, f64::max);
            if lo.is_finite() {
                s = s.t(if (hi - lo) < 0.05 {
                    format!(", by {} over the runner-up", times(lo))
                } else {
                    format!(", by {} to {} over the runner-up", times(lo), times(hi))
                });
            }
        } else if i == 0 && scenarios.len() * 2 > total {
            s = s.t(format!(" in {} of {total} scenarios", scenarios.len()));
        } else {
            s = s.t(format!(" in {}", join_and(scenarios)));
        }
    }
    Some(s.t("."))
}

/// The best and the worst contender on one row of a metric.
struct Gap {
    /// worst / best, as a multiple >= 1.
    ratio: f64,
    scenario: String,
    shape: Shape,
    worst: String,
    worst_value: f64,
    best: String,
    best_value: f64,
}

fn gap_in(view: &View<'_>, metric: Metric, scenario: &str, shape: Shape) -> Option<Gap> {
    let values: Vec<(f64, &String)> = view
        .contenders
        .iter()
        .filter_map(|p| Some((metric.value(view.run(scenario, p, shape)?)?, p)))
        .collect();
    if values.len() < 2 {
        return None;
    }
    let pick = |better: bool| {
        values.iter().copied().reduce(|a, b| {
            let a_wins = if metric.higher_is_better() == better {
                a.0 >= b.0
            } else {
                a.0 <= b.0
            };
            if a_wins { a } else { b }
        })
    };
    let (best, worst) = (pick(true)?, pick(false)?);
    Some(Gap {
        ratio: metric.badness(worst.0, best.0)?,
        scenario: scenario.to_owned(),
        shape,
        worst: worst.1.clone(),
        worst_value: worst.0,
        best: best.1.clone(),
        best_value: best.0,
    })
}

/// The row of a metric where the worst contender is furthest from the best.
fn widest_gap(view: &View<'_>, metric: Metric, shapes: &[Shape]) -> Option<Gap> {
    view.scenarios
        .iter()
        .flat_map(|scenario| {
            shapes
                .iter()
                .filter_map(move |&shape| gap_in(view, metric, scenario, shape))
        })
        .max_by(|a, b| a.ratio.total_cmp(&b.ratio))
}

fn closed_shapes(view: &View<'_>) -> Vec<Shape> {
    view.closed_levels()
        .into_iter()
        .map(Shape::Closed)
        .collect()
}

fn latency_gap(view: &View<'_>) -> Option<Sentence> {
    let g = widest_gap(view, Metric::P50, &closed_shapes(view))?;
    (g.ratio >= 1.5).then(|| {
        Sentence::default()
            .t("The widest gap in median latency: ")
            .p(&g.worst)
            .t(format!(
                "'s p50 on {} at {} is {} ",
                g.scenario,
                g.shape.words(),
                times(g.ratio)
            ))
            .p(&g.best)
            .t(format!(
                "'s ({} against {}).",
                format::micros(g.worst_value),
                format::micros(g.best_value)
            ))
    })
}

fn bytes(view: &View<'_>) -> Option<Sentence> {
    let mut wins: BTreeMap<(usize, usize, String), (String, Vec<String>)> = BTreeMap::new();
    let mut total = 0;
    let mut widest: Option<Gap> = None;
    for scenario in &view.scenarios {
        let Some(shape) = view.headline_shape(scenario) else {
            continue;
        };
        if let Some(gap) = gap_in(view, Metric::Bytes, scenario, shape) {
            total += 1;
            wins.entry(model::protocol_order(&gap.best))
                .or_insert_with(|| (gap.best.clone(), Vec::new()))
                .1
                .push(scenario.clone());
            if widest.as_ref().is_none_or(|w| gap.ratio > w.ratio) {
                widest = Some(gap);
            }
        }
    }
    if total == 0 {
        return None;
    }
    let mut winners: Vec<(String, Vec<String>)> = wins.into_values().collect();
    winners.sort_by_key(|w| std::cmp::Reverse(w.1.len()));
    let mut s = Sentence::default().t("Fewest bytes on the socket per op: ");
    for (i, (winner, scenarios)) in winners.iter().enumerate() {
        if i > 0 {
            s = s.t(if i + 1 == winners.len() {
                " and "
            } else {
                ", "
            });
        }
        s = s.p(winner);
        s = s.t(if winners.len() == 1 {
            if total == 1 {
                format!(" on {}", scenarios[0])
            } else {
                " in every scenario".to_owned()
            }
        } else if i == 0 && scenarios.len() * 2 > total {
            format!(" in {} of {total} scenarios", scenarios.len())
        } else {
            format!(" in {}", join_and(scenarios))
        });
    }
    if let Some(g) = widest.filter(|w| w.ratio >= 1.2) {
        s = s
            .t(format!(
                "; the largest difference is {}, where ",
                g.scenario
            ))
            .p(&g.worst)
            .t(format!(" moves {} the bytes of ", times(g.ratio)))
            .p(&g.best)
            .t(format!(
                " ({} against {})",
                format::bytes(g.worst_value),
                format::bytes(g.best_value)
            ));
    }
    Some(s.t("."))
}

fn cpu(view: &View<'_>) -> Option<Sentence> {
    let top = *view.closed_levels().last()?;
    let shape = Shape::Closed(top);
    let lead = leadership(view, Metric::ServerCpu, shape, "Least server CPU per op")?;
    let mut s = lead;
    if let Some(g) = widest_gap(view, Metric::ServerCpu, &[shape]).filter(|w| w.ratio >= 1.5) {
        s.0.pop();
        s = s
            .t("; the costliest, ")
            .p(&g.worst)
            .t(format!(" on {}, uses {} ", g.scenario, times(g.ratio)))
            .p(&g.best)
            .t(format!(
                "'s ({} against {}).",
                format::micros(g.worst_value),
                format::micros(g.best_value)
            ));
    }
    Some(s)
}

/// How close each protocol comes to its floor on the busiest closed shape where floors
/// ran.
fn floors(view: &View<'_>) -> Option<Sentence> {
    let mut best: Option<(String, Shape)> = None;
    for scenario in &view.scenarios {
        for shape in view
            .shapes_of(scenario)
            .into_iter()
            .filter(|s| !s.is_open())
        {
            let any = view
                .contenders
                .iter()
                .any(|p| view.floor_for(p, scenario, shape).is_some());
            if any && best.as_ref().is_none_or(|(_, s)| shape > *s) {
                best = Some((scenario.clone(), shape));
            }
        }
    }
    let (scenario, shape) = best?;
    let mut parts: Vec<(String, f64, String)> = Vec::new();
    for p in &view.contenders {
        let (Some(run), Some(floor)) = (
            view.run(&scenario, p, shape),
            view.floor_for(p, &scenario, shape),
        ) else {
            continue;
        };
        if floor.throughput_ops_s > 0.0 {
            parts.push((
                p.clone(),
                run.throughput_ops_s / floor.throughput_ops_s,
                floor.protocol.clone(),
            ));
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    let one_floor = parts.iter().all(|(_, _, f)| *f == parts[0].2);
    let mut s = Sentence::default().t(format!(
        "Throughput as a share of each protocol's floor (the same exchange with no work; GraphQL's engine floor answers {{ __typename }}) on {scenario} at {}: ",
        shape.words()
    ));
    for (i, (p, share, floor)) in parts.iter().enumerate() {
        if i > 0 {
            s = s.t(if i + 1 == parts.len() { " and " } else { ", " });
        }
        s = s.p(p).t(format!(" {:.0}%", share * 100.0));
        if !one_floor {
            s = s.t(" of the ").p(floor);
        }
    }
    if one_floor {
        s = s.t(" of the ").p(&parts[0].2);
    }
    Some(s.t("."))
}

fn tails(view: &View<'_>) -> Option<Sentence> {
    let worst = view
        .results
        .runs
        .iter()
        .filter(|r| !model::is_floor(&r.protocol) && r.latency_us.p50 > 0)
        .map(|r| (r.latency_us.p99 as f64 / r.latency_us.p50 as f64, r))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    let (ratio, run) = worst;
    (ratio >= 3.0).then(|| {
        Sentence::default()
            .t("The longest tail: ")
            .p(&run.protocol)
            .t(format!(
                " on {} at {}, p99 {} its p50 ({} against {}).",
                run.scenario,
                Shape::of(run).words(),
                times(ratio),
                format::micros(run.latency_us.p99 as f64),
                format::micros(run.latency_us.p50 as f64)
            ))
    })
}

/// What timing from the actual send would hide in the open-loop runs.
fn coordinated_omission(view: &View<'_>) -> Option<Sentence> {
    let (ratio, run, naive) = view
        .results
        .runs
        .iter()
        .filter(|r| !model::is_floor(&r.protocol))
        .filter_map(|r| {
            let naive = r.uncorrected_latency_us?.p99;
            (naive > 0).then(|| (r.latency_us.p99 as f64 / naive as f64, r, naive))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    (ratio >= 1.5).then(|| {
        Sentence::default()
            .t(format!(
                "Open loop at {}: timing from the actual send would understate p99 by up to {} (",
                Shape::of(run).words().trim_start_matches("open "),
                times(ratio)
            ))
            .p(&run.protocol)
            .t(format!(
                " on {}: {} from the intended start against {} from the send).",
                run.scenario,
                format::micros(run.latency_us.p99 as f64),
                format::micros(naive as f64)
            ))
    })
}

fn name_runs(runs: &[&Run], limit: usize) -> Sentence {
    let mut s = Sentence::default();
    for (i, run) in runs.iter().take(limit).enumerate() {
        if i > 0 {
            s = s.t(", ");
        }
        s = s
            .p(&run.protocol)
            .t(format!(" {} {}", run.scenario, Shape::of(run).short()));
    }
    if runs.len() > limit {
        s = s.t(format!(" and {} more", runs.len() - limit));
    }
    s
}

fn trust(view: &View<'_>) -> Vec<Sentence> {
    let runs = &view.results.runs;
    let mut out = Vec::new();
    let bound: Vec<&Run> = runs.iter().filter(|r| r.client_bound).collect();
    if !bound.is_empty() {
        let mut s = Sentence::default().t(format!(
            "{} of {} runs were client-bound (the load generator's cores were saturated, so their throughput is a lower bound on the server's): ",
            bound.len(),
            runs.len()
        ));
        s.0.extend(name_runs(&bound, 4).0);
        out.push(s.t("."));
    }
    let unmet: Vec<&Run> = runs.iter().filter(|r| r.rate_not_met).collect();
    if !unmet.is_empty() {
        let mut s = Sentence::default().t(format!(
            "{} open-loop run{} fell behind the rate asked for (their latencies describe an overloaded server): ",
            unmet.len(),
            if unmet.len() == 1 { "" } else { "s" }
        ));
        s.0.extend(name_runs(&unmet, 4).0);
        out.push(s.t("."));
    }
    let erred: Vec<&Run> = runs.iter().filter(|r| r.errors > 0).collect();
    let doubles: u64 = runs.iter().filter_map(|r| r.double_bookings).sum();
    let checked = runs.iter().any(|r| r.double_bookings.is_some());
    if erred.is_empty() {
        out.push(Sentence::default().t(format!(
            "{} had 0 failed operations{}.",
            if runs.len() == 1 {
                "The one run".to_owned()
            } else {
                format!("Every one of the {} runs", runs.len())
            },
            if checked && doubles == 0 {
                " and no double booking"
            } else {
                ""
            }
        )));
    } else {
        let mut s = Sentence::default().t(format!(
            "{} run{} had failed operations: ",
            erred.len(),
            if erred.len() == 1 { "" } else { "s" }
        ));
        s.0.extend(name_runs(&erred, 4).0);
        out.push(s.t("."));
    }
    if doubles > 0 {
        out.push(Sentence::default().t(format!(
            "DOUBLE BOOKINGS: {doubles} seats were found in two live bookings on contended_hold."
        )));
    }
    if !view.results.failures.is_empty() {
        out.push(Sentence::default().t(format!(
            "{} run{} measured nothing: no figures for {}.",
            view.results.failures.len(),
            if view.results.failures.len() == 1 {
                ""
            } else {
                "s"
            },
            join_and(
                &view
                    .results
                    .failures
                    .iter()
                    .map(|f| {
                        let mut t = display(&f.protocol);
                        if let Some(s) = &f.scenario {
                            t = format!("{t} {s}");
                        }
                        t
                    })
                    .collect::<Vec<_>>()
            )
        )));
    }
    out
}

/// The spread of per-second throughput within runs: what differences are noise.
fn noise(view: &View<'_>) -> Sentence {
    let mut spreads: Vec<(f64, &Run)> = view
        .results
        .runs
        .iter()
        .filter(|r| r.throughput_per_second.len() >= 2 && r.rate.is_none())
        .filter_map(|r| {
            let mean =
                r.throughput_per_second.iter().sum::<f64>() / r.throughput_per_second.len() as f64;
            (mean > 0.0).then(|| (stddev(&r.throughput_per_second) / mean, r))
        })
        .collect();
    if spreads.is_empty() {
        return Sentence::default().t(
            "No run lasted two seconds, so there is no per-second estimate of noise: treat small differences as unproven.",
        );
    }
    spreads.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = spreads[spreads.len() / 2].0;
    let (max, run) = spreads[spreads.len() - 1];
    Sentence::default()
            .t(format!(
                "Noise: throughput second by second varied by a median {:.1}% within a run (at most {:.1}%, ",
                median * 100.0,
                max * 100.0
            ))
            .p(&run.protocol)
            .t(format!(
                " on {} at {}); differences within a few times that are not findings.",
                run.scenario,
                Shape::of(run).words()
            ))
}

/// The summary: every sentence computed from `view`.
pub fn sentences(view: &View<'_>) -> Vec<Sentence> {
    if view.results.runs.is_empty() {
        let mut out =
            vec![Sentence::default().t("Nothing was measured: no run completed an operation.")];
        out.extend(
            trust(view)
                .into_iter()
                .filter(|s| s.plain().contains("measured nothing")),
        );
        return out;
    }
    let levels = view.closed_levels();
    let mut out = Vec::new();
    if let Some(&top) = levels.last() {
        out.extend(leadership(
            view,
            Metric::Throughput,
            Shape::Closed(top),
            "Highest throughput",
        ));
    }
    if let Some(&low) = levels.first() {
        out.extend(leadership(
            view,
            Metric::P50,
            Shape::Closed(low),
            "Lowest median latency",
        ));
    }
    out.extend(latency_gap(view));
    out.extend(bytes(view));
    out.extend(cpu(view));
    out.extend(floors(view));
    out.extend(tails(view));
    out.extend(coordinated_omission(view));
    out.extend(trust(view));
    out.push(noise(view));
    out
}
