//! Two results files side by side: the runs they share, the change in each figure, and
//! whether it is larger than the noise the two runs themselves show (the spread of their
//! per-second figures). The text table of `quartet compare` and its HTML page (a grid of
//! changes, both runs' latency spectra overlaid) are both made from [`pairs`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::figures;
use super::format;
use super::html as page;
use super::model::{Shape, View, display, protocol_order, scenario_order};
use crate::charts::escape;
use crate::results::{Results, Run};

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

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Median latency.
    P50,
    /// 99th percentile latency.
    P99,
    /// Operations per second.
    Throughput,
    /// Socket bytes per op, both directions.
    Bytes,
}

impl Figure {
    /// In table order.
    pub const ALL: [Figure; 4] = [Figure::P50, Figure::P99, Figure::Throughput, Figure::Bytes];

    /// The column heading.
    pub fn heading(self) -> &'static str {
        match self {
            Figure::P50 => "p50 µs",
            Figure::P99 => "p99 µs",
            Figure::Throughput => "ops/s",
            Figure::Bytes => "socket B/op",
        }
    }

    /// The HTML grid's title.
    pub fn title(self) -> &'static str {
        match self {
            Figure::P50 => "Median latency p50",
            Figure::P99 => "Tail latency p99",
            Figure::Throughput => "Throughput",
            Figure::Bytes => "Bytes on the socket per op",
        }
    }

    /// Whether a larger figure is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Figure::Throughput)
    }

    fn format(self, v: f64) -> String {
        match self {
            Figure::P50 | Figure::P99 => format::micros(v),
            Figure::Throughput => format::rate(v),
            Figure::Bytes => format::bytes(v),
        }
    }
}

/// One figure of one run, before and after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// What.
    pub figure: Figure,
    /// Before.
    pub old: f64,
    /// After.
    pub new: f64,
    /// Twice the combined per-second noise of the two runs (bytes: 1% of the old).
    pub noise: f64,
    /// Beyond the noise.
    pub flagged: bool,
    /// Whether the noise was estimated: both runs have two or more per-second figures
    /// (always, for bytes). Without an estimate any change over 1% is flagged.
    pub noise_known: bool,
}

impl Change {
    /// The change in percent of the old figure.
    pub fn percent(&self) -> f64 {
        if self.old.abs() > f64::EPSILON {
            (self.new - self.old) / self.old * 100.0
        } else {
            0.0
        }
    }

    /// Flagged and in the good direction.
    pub fn better(&self) -> bool {
        self.flagged && ((self.new > self.old) == self.figure.higher_is_better())
    }

    /// The text table's cell: `76 -> 80 (+5.3%) !`.
    pub fn text(&self) -> String {
        format!(
            "{:.0} -> {:.0} ({:+.1}%){}",
            self.old,
            self.new,
            self.percent(),
            if self.flagged { " !" } else { "" }
        )
    }
}

fn bytes_of(run: &Run) -> f64 {
    run.bytes_per_op.socket_sent + run.bytes_per_op.socket_received
}

/// The changes between two runs of the same protocol, scenario and shape.
pub fn changes(old: &Run, new: &Run) -> Vec<Change> {
    let latency = |figure, o: u64, n: u64, os: &[u64], ns: &[u64]| {
        let (on, nn) = (noise_u64(os), noise_u64(ns));
        Change {
            figure,
            old: o as f64,
            new: n as f64,
            noise: 2.0 * on.hypot(nn),
            flagged: significant(o as f64, n as f64, on, nn),
            noise_known: os.len() >= 2 && ns.len() >= 2,
        }
    };
    let (ot, nt) = (
        stddev(&old.throughput_per_second),
        stddev(&new.throughput_per_second),
    );
    let (bo, bn) = (bytes_of(old), bytes_of(new));
    vec![
        latency(
            Figure::P50,
            old.latency_us.p50,
            new.latency_us.p50,
            &old.p50_per_second_us,
            &new.p50_per_second_us,
        ),
        latency(
            Figure::P99,
            old.latency_us.p99,
            new.latency_us.p99,
            &old.p99_per_second_us,
            &new.p99_per_second_us,
        ),
        Change {
            figure: Figure::Throughput,
            old: old.throughput_ops_s,
            new: new.throughput_ops_s,
            noise: 2.0 * ot.hypot(nt),
            flagged: significant(old.throughput_ops_s, new.throughput_ops_s, ot, nt),
            noise_known: old.throughput_per_second.len() >= 2
                && new.throughput_per_second.len() >= 2,
        },
        // Byte counts are deterministic: any change beyond rounding is real.
        Change {
            figure: Figure::Bytes,
            old: bo,
            new: bn,
            noise: 0.01 * bo.max(1.0),
            flagged: (bn - bo).abs() > 0.01 * bo.max(1.0),
            noise_known: true,
        },
    ]
}

/// A run present in both files.
#[derive(Debug, Clone)]
pub struct Pair<'a> {
    /// Before.
    pub old: &'a Run,
    /// After.
    pub new: &'a Run,
    /// In [`Figure::ALL`] order.
    pub changes: Vec<Change>,
}

/// The runs of `new` that `old` has too (same protocol, scenario, mode, concurrency,
/// rate, link, compression, catalogue size, search mode and security condition: see
/// `RunKey`), in `new`'s order.
pub fn pairs<'a>(old: &'a Results, new: &'a Results) -> Vec<Pair<'a>> {
    let old_runs: BTreeMap<_, &Run> = old.runs.iter().map(|r| (r.key_in(&old.meta), r)).collect();
    new.runs
        .iter()
        .filter_map(|run| {
            let before = old_runs.get(&run.key_in(&new.meta))?;
            Some(Pair {
                old: before,
                new: run,
                changes: changes(before, run),
            })
        })
        .collect()
}

/// The shape label of a run, as the text table writes it.
pub fn shape_label(run: &Run) -> String {
    Shape::of(run).short()
}

/// What differs between the two runs' circumstances, one line each.
pub fn circumstances(old: &Results, new: &Results) -> Vec<String> {
    let (o, n) = (&old.meta, &new.meta);
    let mut out = Vec::new();
    let mut differ = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: {a} -> {b}"));
        }
    };
    differ(
        "source revision",
        o.git_revision.clone(),
        n.git_revision.clone(),
    );
    differ("machine", o.cpu_model.clone(), n.cpu_model.clone());
    differ("cores", o.cores.to_string(), n.cores.to_string());
    differ(
        "toolchain",
        o.rustc_version.clone(),
        n.rustc_version.clone(),
    );
    differ(
        "dataset",
        format!("{} events, seed {}", o.dataset_events, o.dataset_seed),
        format!("{} events, seed {}", n.dataset_events, n.dataset_seed),
    );
    differ("pinned", o.pinned.to_string(), n.pinned.to_string());
    differ("warm-up s", o.warmup_s.to_string(), n.warmup_s.to_string());
    differ(
        "conditions",
        super::model::conditions(old).join(", "),
        super::model::conditions(new).join(", "),
    );
    let seconds = |r: &Results| {
        let mut d: Vec<String> = r.runs.iter().map(|r| format!("{}", r.duration_s)).collect();
        d.sort();
        d.dedup();
        d.join("/")
    };
    differ("measured s per run", seconds(old), seconds(new));
    out
}

/// The pairs of one scenario and load, by protocol (in report order).
type ByProtocol<'a> = BTreeMap<(usize, usize, String), &'a Pair<'a>>;

fn change_cell(pair: Option<&Pair<'_>>, figure: Figure) -> String {
    let Some(change) = pair.and_then(|p| p.changes.iter().find(|c| c.figure == figure)) else {
        return "<td class=\"none\">-</td>".to_owned();
    };
    let class = if !change.flagged {
        "same"
    } else if change.better() {
        "better"
    } else {
        "worse"
    };
    let noise = if change.noise_known {
        format!(
            "noise (2 sigma of both runs' per-second figures): ±{}",
            figure.format(change.noise)
        )
    } else {
        "no noise estimate (a run shorter than 2 s): any change over 1% is flagged".to_owned()
    };
    let title = format!(
        "{} -> {} ({}); {noise}; {}",
        figure.format(change.old),
        figure.format(change.new),
        format::change(change.percent()),
        match class {
            "same" => "within the noise",
            "better" => "better, beyond the noise",
            _ => "worse, beyond the noise",
        }
    );
    format!(
        "<td class=\"{class}\" title=\"{}\">{}<small>{}</small></td>",
        escape(&title),
        escape(&format::change(change.percent())),
        escape(&format::span(
            &figure.format(change.old),
            &figure.format(change.new)
        ))
    )
}

/// The comparison page: circumstances, a grid of changes per figure, and per scenario
/// and shape both runs' latency spectra overlaid. One file, no script, no network.
pub fn html(old: &Results, new: &Results, old_name: &str, new_name: &str) -> String {
    let pairs = pairs(old, new);
    let mut page = page::head("Quartet comparison");
    let _ = write!(
        page,
        "<header><h1>Quartet comparison</h1><p class=\"conditions\">old: <b>{}</b> ({}, revision {})<br>new: <b>{}</b> ({}, revision {})</p>",
        escape(old_name),
        escape(&old.meta.started_at),
        escape(&old.meta.git_revision),
        escape(new_name),
        escape(&new.meta.started_at),
        escape(&new.meta.git_revision)
    );
    let differ = circumstances(old, new);
    if differ.is_empty() {
        page.push_str("<p class=\"machine\">Same machine, toolchain, dataset and settings.</p>");
    } else {
        page.push_str("<p class=\"machine\">What differs besides the code: ");
        page.push_str(&escape(&differ.join("; ")));
        page.push_str("</p>");
    }
    page.push_str("</header>");

    let flagged: Vec<(&Pair<'_>, &Change)> = pairs
        .iter()
        .flat_map(|p| p.changes.iter().filter(|c| c.flagged).map(move |c| (p, c)))
        .collect();
    let better = flagged.iter().filter(|(_, c)| c.better()).count();
    let _ = write!(
        page,
        "<section id=\"summary\"><h2>Changes beyond the noise</h2><p>{} runs matched ({} only in old, {} only in new). {} of {} figures changed by more than twice the two runs' combined per-second noise (bytes: by more than 1%): {better} better, {} worse.</p>",
        pairs.len(),
        old.runs.len().saturating_sub(pairs.len()),
        new.runs.len().saturating_sub(pairs.len()),
        flagged.len(),
        pairs.len() * Figure::ALL.len(),
        flagged.len() - better
    );
    let unknown = pairs
        .iter()
        .filter(|p| p.changes.iter().any(|c| !c.noise_known))
        .count();
    if unknown > 0 {
        let _ = write!(
            page,
            "<p class=\"note\"><span class=\"warn\">⚠</span> {unknown} of {} runs lasted under 2 s in one of the files: with no per-second figures to estimate their noise from, any change over 1% in them is flagged. Compare longer runs before believing these.</p>",
            pairs.len()
        );
    }
    let mut biggest: Vec<&(&Pair<'_>, &Change)> = flagged.iter().collect();
    biggest.sort_by(|a, b| b.1.percent().abs().total_cmp(&a.1.percent().abs()));
    if !biggest.is_empty() {
        page.push_str("<ul class=\"summary\">");
        for (pair, change) in biggest.iter().take(6) {
            let _ = write!(
                page,
                "<li><b style=\"color:{}\">{}</b> {} {}: {} {} ({} → {}, {})</li>",
                crate::charts::protocol_color(&pair.new.protocol),
                escape(&display(&pair.new.protocol)),
                escape(&pair.new.scenario),
                escape(&shape_label(pair.new)),
                escape(change.figure.title()),
                escape(&format::change(change.percent())),
                escape(&change.figure.format(change.old)),
                escape(&change.figure.format(change.new)),
                escape(&if change.noise_known {
                    format!("noise ±{}", change.figure.format(change.noise))
                } else {
                    "no noise estimate".to_owned()
                })
            );
        }
        page.push_str("</ul>");
    }
    page.push_str("<p class=\"key\"><span class=\"better\">better beyond noise</span> <span class=\"worse\">worse beyond noise</span> <span class=\"same\">within noise</span> Hover a cell for old, new and noise.</p>");

    // Grids: rows scenario x shape, columns protocols.
    let mut by_key: BTreeMap<((usize, String), Shape), ByProtocol<'_>> = BTreeMap::new();
    for pair in &pairs {
        by_key
            .entry((scenario_order(&pair.new.scenario), Shape::of(pair.new)))
            .or_default()
            .insert(protocol_order(&pair.new.protocol), pair);
    }
    let protocols: Vec<((usize, usize, String), String)> = pairs
        .iter()
        .map(|p| (protocol_order(&p.new.protocol), p.new.protocol.clone()))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    page.push_str("<div class=\"grids\">");
    for figure in Figure::ALL {
        let _ = write!(
            page,
            "<table class=\"grid changes\"><caption>{}</caption><tr><th>scenario</th><th>load</th>",
            escape(figure.title())
        );
        for (_, p) in &protocols {
            let _ = write!(
                page,
                "<th style=\"border-bottom:3px solid {}\">{}</th>",
                crate::charts::protocol_color(p),
                escape(&display(p))
            );
        }
        page.push_str("</tr>");
        let mut previous = "";
        for (((_, scenario), shape), row) in &by_key {
            page.push_str("<tr>");
            if scenario != previous {
                let span = by_key.keys().filter(|((_, s), _)| s == scenario).count();
                let _ = write!(
                    page,
                    "<th class=\"rowhead\" rowspan=\"{span}\">{}</th>",
                    escape(scenario)
                );
                previous = scenario;
            }
            let _ = write!(page, "<td class=\"shape\">{}</td>", escape(&shape.words()));
            for (key, _) in &protocols {
                page.push_str(&change_cell(row.get(key).copied(), figure));
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>");
    }
    page.push_str("</div></section>");

    // Spectra overlaid.
    page.push_str("<section id=\"spectra\"><h2>Latency spectra, old and new</h2><p>Each line is one run's whole latency distribution from its histogram: percentile on the HdrHistogram axis (each step right is ten times rarer), latency on a log scale. Dashed: old; solid: new. Hover a point for its value.</p>");
    let old_view = View::new(old);
    let new_view = View::new(new);
    for scenario in &new_view.scenarios {
        let shapes: Vec<Shape> = new_view
            .shapes_of(scenario)
            .into_iter()
            .filter(|s| old_view.shapes_of(scenario).contains(s))
            .collect();
        if shapes.is_empty() {
            continue;
        }
        page.push_str("<div class=\"charts\">");
        let width = figures::width_for(shapes.len());
        for shape in shapes {
            let runs: Vec<(&Run, &Run)> = new_view
                .runs_at(scenario, shape)
                .into_iter()
                .filter_map(|n| Some((old_view.run(scenario, &n.protocol, shape)?, n)))
                .collect();
            page.push_str(&figures::spectrum_compare(scenario, shape, &runs, width));
        }
        page.push_str("</div>");
    }
    page.push_str("</section>");
    page.push_str(self::page::FOOT);
    page
}
