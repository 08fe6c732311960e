//! SVG charts for `report.html`, drawn with plotters into strings, so the page needs no
//! script and no network.

use plotters::prelude::*;

use crate::results::Run;

const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(127, 127, 127),
];

fn color(protocol: &str) -> RGBColor {
    match protocol {
        "rest" => COLORS[0],
        "graphql" => COLORS[1],
        "grpc" => COLORS[2],
        "wire" => COLORS[3],
        _ => COLORS[4],
    }
}

/// Closed-loop runs at the highest concurrency present: the most loaded comparison.
fn busiest<'a>(runs: &[&'a Run]) -> Vec<&'a Run> {
    let top = runs
        .iter()
        .filter(|r| r.rate.is_none())
        .map(|r| r.concurrency)
        .max()
        .unwrap_or(1);
    runs.iter()
        .copied()
        .filter(|r| r.rate.is_none() && r.concurrency == top)
        .collect()
}

/// p50, p90, p99, p99.9 per protocol, log scale.
pub fn percentiles(scenario: &str, runs: &[&Run]) -> String {
    let runs = busiest(runs);
    let mut svg = String::new();
    let max = runs
        .iter()
        .map(|r| r.latency_us.p999.max(1))
        .max()
        .unwrap_or(10) as f64
        * 1.5;
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (380, 260)).into_drawing_area();
        root.fill(&WHITE)?;
        let concurrency = runs.first().map_or(0, |r| r.concurrency);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{scenario} (c={concurrency}), µs"),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..3.2f64, (1f64..max).log_scale())?;
        chart
            .configure_mesh()
            .x_labels(4)
            .x_label_formatter(&|x| {
                ["p50", "p90", "p99", "p99.9"]
                    .get(x.round() as usize)
                    .unwrap_or(&"")
                    .to_string()
            })
            .draw()?;
        for run in &runs {
            let l = &run.latency_us;
            let points = [(0.0, l.p50), (1.0, l.p90), (2.0, l.p99), (3.0, l.p999)]
                .map(|(x, y)| (x, (y.max(1)) as f64));
            let c = color(&run.protocol);
            chart
                .draw_series(LineSeries::new(points, c.stroke_width(2)))?
                .label(run.protocol.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], c));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() { String::new() } else { svg }
}

/// Bytes per op: payload (solid) and protocol overhead (light), both directions summed.
pub fn bytes(scenario: &str, runs: &[&Run]) -> String {
    let runs = busiest(runs);
    let mut svg = String::new();
    let total = |r: &Run| {
        r.bytes_per_op
            .socket_sent
            .max(r.bytes_per_op.request_payload)
            + r.bytes_per_op
                .socket_received
                .max(r.bytes_per_op.response_payload)
    };
    let max = runs.iter().map(|r| total(r)).fold(1.0, f64::max) * 1.15;
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (380, 260)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{scenario}: bytes/op (payload | overhead)"),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..runs.len().max(1) as f64, 0f64..max)?;
        let names: Vec<String> = runs.iter().map(|r| r.protocol.clone()).collect();
        chart
            .configure_mesh()
            .x_labels(runs.len().max(1))
            .x_label_formatter(&|x| names.get(x.floor() as usize).cloned().unwrap_or_default())
            .draw()?;
        for (i, run) in runs.iter().enumerate() {
            let payload = run.bytes_per_op.request_payload + run.bytes_per_op.response_payload;
            let all = total(run);
            let x = i as f64;
            let c = color(&run.protocol);
            chart.draw_series([Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, payload)],
                c.filled(),
            )])?;
            chart.draw_series([Rectangle::new(
                [(x + 0.15, payload), (x + 0.85, all)],
                c.mix(0.3).filled(),
            )])?;
        }
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() { String::new() } else { svg }
}

/// Median latency against concurrency, per protocol (closed loop).
pub fn concurrency(scenario: &str, runs: &[&Run]) -> String {
    let closed: Vec<&Run> = runs.iter().copied().filter(|r| r.rate.is_none()).collect();
    let levels: std::collections::BTreeSet<usize> = closed.iter().map(|r| r.concurrency).collect();
    if levels.len() < 2 {
        return String::new();
    }
    let mut svg = String::new();
    let max_c = levels.iter().max().copied().unwrap_or(1) as f64;
    let max_l = closed
        .iter()
        .map(|r| r.latency_us.p50.max(1))
        .max()
        .unwrap_or(10) as f64
        * 2.0;
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (380, 260)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{scenario}: p50 µs vs concurrency"),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(48)
            .build_cartesian_2d((1f64..max_c * 1.2).log_scale(), (1f64..max_l).log_scale())?;
        chart.configure_mesh().draw()?;
        let mut protocols: Vec<&str> = closed.iter().map(|r| r.protocol.as_str()).collect();
        protocols.dedup();
        for protocol in protocols {
            let mut points: Vec<(f64, f64)> = closed
                .iter()
                .filter(|r| r.protocol == protocol)
                .map(|r| (r.concurrency as f64, r.latency_us.p50.max(1) as f64))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let c = color(protocol);
            chart
                .draw_series(LineSeries::new(points, c.stroke_width(2)))?
                .label(protocol.to_owned())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], c));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() { String::new() } else { svg }
}
