//! HdrHistogram interval logs (`.hlog`): a run's latency second by second, in the text
//! format the Java implementation's `HistogramLogWriter` writes and `HistogramLogReader`,
//! HdrLogProcessing and HistogramLogAnalyzer read (log format 1.3: a `StartTime` and a
//! `BaseTime` header, the CSV legend, then one line per interval: start offset, length,
//! max, base64 of the V2-deflate histogram). Values are microseconds; the max column is
//! divided by 1000 (milliseconds), as jHiccup's logs show milliseconds.
//!
//! What lives here is writing and reading one run's log; which runs get one, and where
//! the files go, is `quartet bench`'s business, and adding logs up is `crate::merge`'s.

use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use crate::load::LoadResult;

/// The folder beside `results.json` the logs go in.
pub const FOLDER: &str = "hlog";

/// The file name of run number `index`'s log: the number keeps names unique, the rest
/// says which run it is (`007-rest-get_event-c32-loopback-none.hlog`).
pub fn file_name(index: usize, run: &crate::results::Run) -> String {
    let shape = match run.rate {
        Some(rate) => format!("open{rate:.0}"),
        None => format!("c{}", run.concurrency),
    };
    let name = format!(
        "{index:03}-{}-{}-{shape}-{}-{}",
        run.protocol,
        run.scenario,
        run.link_name(),
        run.compression_name()
    );
    // Links like `custom:rtt=20ms,...` carry characters file systems and shells dislike.
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}.hlog")
}

/// The max column's divisor: values are µs, the column shows ms.
const MAX_VALUE_DIVISOR: f64 = 1_000.0;

/// The legend line the Java writer puts before the intervals (readers skip it).
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";

/// One second (or other span) of a run's latency.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// When it began, from the log's start.
    pub offset: Duration,
    /// How long it lasted.
    pub length: Duration,
    /// Latency in µs of the operations timed in it.
    pub histogram: Histogram<u64>,
}

/// A run's interval log: when its window began and its intervals in order.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalLog {
    /// The wall clock at the window's start (the log's `StartTime` and `BaseTime`).
    pub start: SystemTime,
    /// The intervals, in order.
    pub intervals: Vec<Interval>,
}

impl IntervalLog {
    /// The log of a measured window of `duration`: one interval per second of it (the
    /// last one shorter when the window is not a whole number of seconds), or the whole
    /// window as one interval when the load did not keep seconds apart.
    pub fn of(result: &LoadResult, duration: Duration) -> Self {
        let second = Duration::from_secs(1);
        let intervals = result
            .intervals
            .iter()
            .enumerate()
            .map(|(i, histogram)| {
                let offset = second * u32::try_from(i).unwrap_or(u32::MAX);
                let length = if result.intervals.len() == 1 {
                    duration
                } else {
                    duration.saturating_sub(offset).min(second)
                };
                Interval {
                    offset,
                    length,
                    histogram: histogram.clone(),
                }
            })
            .collect();
        IntervalLog {
            start: result.window_start,
            intervals,
        }
    }

    /// Every interval added up: the run's whole histogram, exactly.
    ///
    /// # Errors
    /// If the intervals' histograms cannot be added (different bounds).
    pub fn total(&self) -> Result<Histogram<u64>, String> {
        let mut total = crate::stats::histogram();
        for interval in &self.intervals {
            total
                .add(&interval.histogram)
                .map_err(|e| format!("intervals do not add up: {e:?}"))?;
        }
        Ok(total)
    }

    /// The log as text, `comment` in its header (one `#` line per line of it).
    ///
    /// # Errors
    /// If a histogram cannot be serialized.
    pub fn to_text(&self, comment: &str) -> Result<String, String> {
        let mut out: Vec<u8> = Vec::new();
        let mut serializer = V2DeflateSerializer::new();
        // Headers first; the legend is not a comment, so it is written between the two
        // writers (the crate's writer only writes comments and intervals).
        IntervalLogWriterBuilder::new()
            .add_comment(comment)
            .add_comment("[Histogram log format version 1.3]")
            .add_comment("[Values are microseconds; the max column is milliseconds]")
            .with_start_time(self.start)
            .with_base_time(self.start)
            .begin_log_with(&mut out, &mut serializer)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(LEGEND.as_bytes());
        let mut writer = IntervalLogWriterBuilder::new()
            .with_max_value_divisor(MAX_VALUE_DIVISOR)
            .begin_log_with(&mut out, &mut serializer)
            .map_err(|e| e.to_string())?;
        for interval in &self.intervals {
            writer
                .write_histogram(&interval.histogram, interval.offset, interval.length, None)
                .map_err(|e| format!("cannot write an interval: {e}"))?;
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }

    /// Reads a log [`IntervalLog::to_text`] wrote (or any untagged 1.3 log whose
    /// histograms fit the harness's bounds). Interval offsets count from the `BaseTime`
    /// (else from the `StartTime`, else from the epoch, as the Java reader does).
    ///
    /// # Errors
    /// If a line does not parse or a histogram does not decode.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let mut start_time = None;
        let mut base_time = None;
        let mut intervals = Vec::new();
        let mut deserializer = Deserializer::new();
        for entry in IntervalLogIterator::new(text.as_bytes()) {
            match entry.map_err(|e| format!("not an interval log: {e:?}"))? {
                LogEntry::StartTime(t) => start_time = Some(t),
                LogEntry::BaseTime(t) => base_time = Some(t),
                LogEntry::Interval(line) => {
                    let bytes = base64::Engine::decode(
                        &base64::engine::general_purpose::STANDARD,
                        line.encoded_histogram(),
                    )
                    .map_err(|e| format!("an interval is not base64: {e}"))?;
                    let decoded: Histogram<u64> =
                        deserializer
                            .deserialize(&mut bytes.as_slice())
                            .map_err(|e| format!("an interval does not decode: {e:?}"))?;
                    // Into the harness's bounds, so logs from several machines add up.
                    let mut histogram = crate::stats::histogram();
                    histogram
                        .add(&decoded)
                        .map_err(|e| format!("an interval is out of range: {e:?}"))?;
                    intervals.push(Interval {
                        offset: line.start_timestamp(),
                        length: line.duration(),
                        histogram,
                    });
                }
            }
        }
        let start = SystemTime::UNIX_EPOCH + base_time.or(start_time).unwrap_or_default();
        Ok(IntervalLog { start, intervals })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::record;

    #[test]
    fn a_log_reads_back_exactly() {
        let mut intervals = Vec::new();
        for i in 0..3u32 {
            let mut histogram = crate::stats::histogram();
            for v in 1..=(100 * (i as u64 + 1)) {
                record(&mut histogram, v * 37);
            }
            intervals.push(Interval {
                offset: Duration::from_secs(i.into()),
                length: Duration::from_millis(if i == 2 { 500 } else { 1_000 }),
                histogram,
            });
        }
        let log = IntervalLog {
            start: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250),
            intervals,
        };
        let text = log
            .to_text("quartet bench: rest get_event c=32\nsecond line")
            .unwrap_or_default();
        assert!(
            text.contains("#[StartTime: 1700000000.250 (seconds since epoch)]"),
            "{text}"
        );
        assert!(text.contains("\n\"StartTimestamp\""), "{text}");
        assert!(text.contains("\n2.000,0.500,"), "{text}");
        let back = IntervalLog::from_text(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, log);
        assert!(IntervalLog::from_text("1.0,1.0,2.0,not base64!\n").is_err());
    }
}
