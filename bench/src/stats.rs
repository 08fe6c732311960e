//! Latency statistics: HdrHistograms (microseconds, 3 significant figures, 1 µs to 60 s)
//! and the summaries the reports print. Histograms from several workers, runs or
//! machines merge exactly; percentiles are read from the merged histogram, never
//! averaged.

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Highest latency recorded, in microseconds (longer ones are clamped to it).
pub const MAX_MICROS: u64 = 60_000_000;

/// A new latency histogram.
///
/// # Panics
/// Never: the bounds are constants that hdrhistogram accepts.
#[allow(clippy::expect_used)] // constant bounds that are valid: this cannot fail
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3)
        .expect("1 µs..=60 s at 3 significant figures is valid")
}

/// Records one latency, clamped into the histogram's range.
pub fn record(h: &mut Histogram<u64>, micros: u64) {
    h.saturating_record(micros.clamp(1, MAX_MICROS));
}

/// The percentiles every report shows, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    /// The summary of `h` (all zero when empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// A histogram as base64 of its V2-deflate encoding (the HdrHistogram interchange
/// format), so runs from several machines can be merged later.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut bytes) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
        Err(_) => String::new(),
    }
}

/// The inverse of [`encode`].
///
/// # Errors
/// If the text is not base64 of a serialized histogram.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram does not decode: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = histogram();
        for v in 1..=1000 {
            record(&mut h, v);
        }
        let l = Latency::of(&h);
        // 3 significant figures: exact below 2048.
        assert_eq!(
            (l.p50, l.p90, l.p99, l.p999, l.max),
            (500, 900, 990, 999, 1000)
        );
        assert!((l.mean - 500.5).abs() < 0.5);
        assert_eq!(Latency::of(&histogram()), Latency::default());
    }

    #[test]
    fn merged_histograms_equal_one_histogram_of_everything() {
        let (mut a, mut b, mut all) = (histogram(), histogram(), histogram());
        for v in 1..=500 {
            record(&mut a, v * 3);
            record(&mut all, v * 3);
        }
        for v in 1..=100 {
            record(&mut b, v * 1_000);
            record(&mut all, v * 1_000);
        }
        a.add(&b).unwrap();
        assert_eq!(Latency::of(&a), Latency::of(&all));
        assert_eq!(a.len(), 600);
        // The p99 of the merge is not the mean of the parts' p99s.
        assert!(Latency::of(&a).p99 > u64::midpoint(Latency::of(&b).p99, 1_500));
    }

    #[test]
    fn histograms_survive_encoding() {
        let mut h = histogram();
        for v in [1, 10, 100, 1_000, 10_000, 100_000, MAX_MICROS * 2] {
            record(&mut h, v);
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.max(), h.max());
        assert!(decode("not base64!").is_err());
    }
}
