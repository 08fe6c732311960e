//! The load generator: closed loop (N clients, each sending its next request when the
//! last one is answered) and open loop (requests at a fixed rate, latency measured from
//! each request's *intended* start, as wrk2 does, so a stall shows up in every request it
//! delayed instead of hiding as one slow sample). Every loop is bounded in time: no
//! request is sent after the measured window ends, and the requests still in flight get
//! at most [`DRAIN`] to finish before they are abandoned (counted, never waited on).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::scenario::Outcome;
use crate::stats::{histogram, record};

/// How long requests still in flight when the window ends may take to finish; after
/// that they are dropped and counted in [`LoadResult::abandoned`].
pub const DRAIN: Duration = Duration::from_secs(2);

/// Something that performs one operation at a time.
#[async_trait]
pub trait Step: Send {
    /// One operation.
    async fn step(&mut self) -> Outcome;
}

#[async_trait]
impl Step for crate::scenario::Worker {
    async fn step(&mut self) -> Outcome {
        crate::scenario::Worker::step(self).await
    }
}

/// How to drive a run.
#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    /// Clients (closed loop) or connections (open loop).
    pub concurrency: usize,
    /// Requests per second for the open loop; `None` for closed loop.
    pub rate: Option<f64>,
    /// Time run but not measured, first.
    pub warmup: Duration,
    /// Time measured.
    pub duration: Duration,
}

/// What a run measured.
#[derive(Debug)]
pub struct LoadResult {
    /// Operations completed in the measured window.
    pub ops: u64,
    /// Every operation run, in or out of the window (bytes and CPU are divided by this,
    /// since the counters they come from cannot tell the window's edges).
    pub attempted: u64,
    /// Failed operations (errors and failed checks) in the window.
    pub errors: u64,
    /// Conflicts (expected refusals) in the window.
    pub conflicts: u64,
    /// The measured window's real length.
    pub elapsed: Duration,
    /// Latency in µs: from the intended start in open loop, from the send in closed loop.
    pub latency: Histogram<u64>,
    /// Open loop only: latency from the actual send (what a naive tool reports).
    pub uncorrected: Option<Histogram<u64>>,
    /// Per-second histograms of the measured window (for run-to-run noise).
    pub per_second: Vec<Histogram<u64>>,
    /// The first failure seen, for the report.
    pub first_error: Option<String>,
    /// Operations that finished inside the measured window (open loop: the achieved rate
    /// is this over the window).
    pub completed_in_window: u64,
    /// Open loop: requests due before the window's end that were never sent because the
    /// window ended first (the backlog the schedule had built up by then).
    pub backlog_at_end: u64,
    /// Open loop: requests already overdue (due, not yet sent) when the measured window
    /// began; the backlog grew if [`LoadResult::backlog_at_end`] exceeds this.
    pub backlog_at_start: u64,
    /// Requests still running [`DRAIN`] after the window's end, dropped unanswered.
    pub abandoned: u64,
    /// Wall time from the first request to the end of the drain (what the load
    /// generator's own CPU time is divided by).
    pub wall: Duration,
    /// The wall clock when the measured window began (for the interval log, and to see
    /// whether the windows of several load machines overlapped).
    pub window_start: SystemTime,
    /// The latency of each second of the measured window, in order, empty seconds kept
    /// (the last one is shorter when the window is not a whole number of seconds):
    /// what the interval log holds.
    pub intervals: Vec<Histogram<u64>>,
}

/// Live counters a progress display reads while the run goes.
#[derive(Debug, Default)]
pub struct Live {
    /// Operations completed in the measured window so far.
    pub ops: AtomicU64,
    /// Latency so far (merged from the workers every 100 ms).
    pub latency: SharedHistogram,
}

/// How many latencies a worker keeps for [`Live::latency`] before it hands them over
/// (besides every [`FLUSH_EVERY`]): bounds the buffer, and the lock is still taken at
/// most once per this many requests.
const FLUSH_AT: usize = 1024;

/// How often a worker hands its latest latencies to [`Live::latency`] at least.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// A histogram several tasks add to now and then: each worker hands over what it saw
/// every 100 ms (or every [`FLUSH_AT`] requests), so the lock is taken rarely.
#[derive(Debug)]
pub struct SharedHistogram(std::sync::Mutex<Histogram<u64>>);

impl Default for SharedHistogram {
    fn default() -> Self {
        SharedHistogram(std::sync::Mutex::new(histogram()))
    }
}

impl SharedHistogram {
    /// Adds `local` and clears it.
    pub fn absorb(&self, local: &mut Histogram<u64>) {
        // Both the addition and the reset walk every counter (~17 000 of them): an empty
        // histogram, the common case under a slow server, skips both.
        if local.is_empty() {
            return;
        }
        if let Ok(mut shared) = self.0.lock() {
            let _ = shared.add(&*local);
        }
        local.reset();
    }

    /// Records each latency in `values` (µs) and empties it. This is how the load loops
    /// hand over: recording a few hundred values costs far less than adding and
    /// resetting a whole local histogram, whose cost is the size of its counter array
    /// however few values it holds.
    pub fn absorb_values(&self, values: &mut Vec<u64>) {
        if values.is_empty() {
            return;
        }
        if let Ok(mut shared) = self.0.lock() {
            for &v in values.iter() {
                record(&mut shared, v);
            }
        }
        values.clear();
    }

    /// The p99 so far, in µs.
    pub fn p99(&self) -> u64 {
        self.0.lock().map_or(0, |h| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(0.99)
            }
        })
    }
}

/// What one worker task brings back.
struct Tally {
    attempted: u64,
    ops: u64,
    errors: u64,
    conflicts: u64,
    latency: Histogram<u64>,
    /// Open loop only: latency from the actual send.
    uncorrected: Option<Histogram<u64>>,
    /// One histogram per second of the window, made when its second sees its first
    /// value (each is ~140 KB of counters: none is built for seconds this worker never
    /// reaches), up to `seconds` of them.
    per_second: Vec<Histogram<u64>>,
    /// How many seconds [`Tally::per_second`] may cover.
    seconds: usize,
    first_error: Option<String>,
    completed_in_window: u64,
    abandoned: u64,
    /// Open loop: due times taken off the queue after the window ended, never sent.
    unsent: u64,
}

impl Tally {
    fn new(seconds: usize, open: bool) -> Self {
        Tally {
            attempted: 0,
            ops: 0,
            errors: 0,
            conflicts: 0,
            latency: histogram(),
            uncorrected: open.then(histogram),
            per_second: Vec::new(),
            seconds,
            first_error: None,
            completed_in_window: 0,
            abandoned: 0,
            unsent: 0,
        }
    }

    /// Counts one operation: `latency` as reported, `sent_to_done` (open loop) beside it.
    fn count(&mut self, outcome: Outcome, latency: u64, sent_to_done: Option<u64>, second: usize) {
        self.ops += 1;
        match outcome {
            Outcome::Ok => {}
            Outcome::Conflict => self.conflicts += 1,
            Outcome::Failed(why) => {
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(why);
                }
            }
        }
        record(&mut self.latency, latency);
        if let (Some(h), Some(raw)) = (self.uncorrected.as_mut(), sent_to_done) {
            record(h, raw);
        }
        if second >= self.per_second.len() && second < self.seconds {
            self.per_second.resize_with(second + 1, histogram);
        }
        if let Some(h) = self.per_second.get_mut(second) {
            record(h, latency);
        }
    }

    fn merge(mut self, other: Tally) -> Tally {
        self.ops += other.ops;
        self.attempted += other.attempted;
        self.errors += other.errors;
        self.conflicts += other.conflicts;
        self.completed_in_window += other.completed_in_window;
        self.abandoned += other.abandoned;
        self.unsent += other.unsent;
        let _ = self.latency.add(&other.latency);
        if let (Some(mine), Some(theirs)) = (self.uncorrected.as_mut(), other.uncorrected.as_ref())
        {
            let _ = mine.add(theirs);
        }
        if self.per_second.len() < other.per_second.len() {
            self.per_second
                .resize_with(other.per_second.len(), histogram);
        }
        for (mine, theirs) in self.per_second.iter_mut().zip(&other.per_second) {
            let _ = mine.add(theirs);
        }
        self.first_error = self.first_error.or(other.first_error);
        self
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Runs `workers` under `config` and returns what the measured window saw. The workers
/// are returned too (the contended scenario reads what they won).
pub async fn run<S: Step + 'static>(
    workers: Vec<S>,
    config: LoadConfig,
    live: Arc<Live>,
) -> (LoadResult, Vec<S>) {
    match config.rate {
        None => closed_loop(workers, config, live).await,
        Some(rate) => open_loop(workers, config, rate, live).await,
    }
}

async fn closed_loop<S: Step + 'static>(
    workers: Vec<S>,
    config: LoadConfig,
    live: Arc<Live>,
) -> (LoadResult, Vec<S>) {
    let start = Instant::now();
    let window_start = SystemTime::now() + config.warmup;
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let seconds = config.duration.as_secs_f64().ceil() as usize + 1;
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            let live = Arc::clone(&live);
            tokio::spawn(async move {
                let mut tally = Tally::new(seconds, false);
                let mut pending = Vec::with_capacity(FLUSH_AT);
                let mut last_flush = Instant::now();
                // Every request of this worker has the same deadline, so one timer
                // serves them all: registered once, instead of a timer entry added and
                // removed around every request (what `timeout_at` per request costs).
                let deadline = tokio::time::sleep_until(end + DRAIN);
                tokio::pin!(deadline);
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    tally.attempted += 1;
                    // The step first, as `timeout_at` does: an answer that is ready
                    // counts even if the deadline has passed too.
                    let outcome = tokio::select! {
                        biased;
                        outcome = worker.step() => outcome,
                        () = &mut deadline => {
                            tally.abandoned += 1;
                            break;
                        }
                    };
                    let done = Instant::now();
                    if sent >= measure_from && done <= end {
                        tally.completed_in_window += 1;
                        let latency = micros(done - sent);
                        let second = (sent - measure_from).as_secs() as usize;
                        tally.count(outcome, latency, None, second);
                        pending.push(latency);
                        live.ops.fetch_add(1, Ordering::Relaxed);
                    }
                    if pending.len() >= FLUSH_AT || done - last_flush > FLUSH_EVERY {
                        live.latency.absorb_values(&mut pending);
                        last_flush = done;
                    }
                }
                live.latency.absorb_values(&mut pending);
                (tally, worker)
            })
        })
        .collect();
    finish(
        tasks,
        config,
        false,
        (start, window_start),
        Backlog::default(),
    )
    .await
}

/// The open loop's schedule lag at the window's two edges, in requests.
#[derive(Debug, Default, Clone, Copy)]
struct Backlog {
    at_start: u64,
    at_end: u64,
}

/// Requests due in `[from, until)` on a schedule starting at `start` every `interval`.
fn due_between(start: Instant, interval: Duration, from: Instant, until: Instant) -> u64 {
    let count = |t: Instant| -> u64 {
        let nanos = t.saturating_duration_since(start).as_nanos();
        let step = interval.as_nanos().max(1);
        u64::try_from(nanos.div_ceil(step)).unwrap_or(u64::MAX)
    };
    count(until).saturating_sub(count(from))
}

async fn open_loop<S: Step + 'static>(
    workers: Vec<S>,
    config: LoadConfig,
    rate: f64,
    live: Arc<Live>,
) -> (LoadResult, Vec<S>) {
    let start = Instant::now();
    let window_start = SystemTime::now() + config.warmup;
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let seconds = config.duration.as_secs_f64().ceil() as usize + 1;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    // One slot per connection: when every connection is busy the schedule waits, and the
    // wait counts against the requests that were due (no coordinated omission).
    let (due_tx, due_rx) = tokio::sync::mpsc::channel::<Instant>(workers.len().max(1));
    let due_rx = Arc::new(tokio::sync::Mutex::new(due_rx));
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            let due_rx = Arc::clone(&due_rx);
            let live = Arc::clone(&live);
            tokio::spawn(async move {
                let mut tally = Tally::new(seconds, true);
                let mut pending = Vec::with_capacity(FLUSH_AT);
                let mut last_flush = Instant::now();
                // One timer for every request of this worker (see the closed loop).
                let deadline = tokio::time::sleep_until(end + DRAIN);
                tokio::pin!(deadline);
                loop {
                    // Take the next due time; the lock is released before the request runs.
                    let Some(intended) = due_rx.lock().await.recv().await else {
                        break;
                    };
                    let sent = Instant::now();
                    // Nothing is sent after the window: a request still queued then is
                    // part of the backlog, not of the drain.
                    if sent >= end {
                        tally.unsent += 1;
                        continue;
                    }
                    tally.attempted += 1;
                    let outcome = tokio::select! {
                        biased;
                        outcome = worker.step() => outcome,
                        () = &mut deadline => {
                            tally.abandoned += 1;
                            break;
                        }
                    };
                    let done = Instant::now();
                    if done >= measure_from && done <= end {
                        tally.completed_in_window += 1;
                    }
                    if intended >= measure_from && intended < end {
                        let corrected = micros(done - intended);
                        let second = (intended - measure_from).as_secs() as usize;
                        tally.count(outcome, corrected, Some(micros(done - sent)), second);
                        pending.push(corrected);
                        live.ops.fetch_add(1, Ordering::Relaxed);
                    }
                    if pending.len() >= FLUSH_AT || done - last_flush > FLUSH_EVERY {
                        live.latency.absorb_values(&mut pending);
                        last_flush = done;
                    }
                }
                live.latency.absorb_values(&mut pending);
                (tally, worker)
            })
        })
        .collect();
    // The schedule: each due time is handed to a free connection. It stops at the
    // window's end even when it is behind; what it had not sent by then is the backlog.
    let mut intended = start;
    let mut backlog = Backlog::default();
    let mut start_seen = measure_from <= start;
    // Two timers for the whole schedule, reset or kept, rather than two made and
    // dropped per request; a request already overdue (a backlog) needs no timer at all.
    let pace = tokio::time::sleep_until(start);
    tokio::pin!(pace);
    let window_over = tokio::time::sleep_until(end);
    tokio::pin!(window_over);
    while intended < end {
        if intended > Instant::now() {
            pace.as_mut().reset(intended);
            (&mut pace).await;
        }
        let now = Instant::now();
        if now >= end {
            break;
        }
        if !start_seen && now >= measure_from {
            start_seen = true;
            backlog.at_start = due_between(start, interval, intended, now);
        }
        let handed = tokio::select! {
            biased;
            sent = due_tx.send(intended) => sent.is_ok(),
            () = &mut window_over => false,
        };
        if !handed {
            break;
        }
        intended += interval;
    }
    backlog.at_end = due_between(start, interval, intended, end);
    drop(due_tx);
    finish(tasks, config, true, (start, window_start), backlog).await
}

async fn finish<S: Step + 'static>(
    tasks: Vec<tokio::task::JoinHandle<(Tally, S)>>,
    config: LoadConfig,
    open: bool,
    (start, window_start): (Instant, SystemTime),
    backlog: Backlog,
) -> (LoadResult, Vec<S>) {
    let seconds = config.duration.as_secs_f64().ceil() as usize + 1;
    let mut total = Tally::new(seconds, open);
    let mut workers = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok((tally, worker)) => {
                total = total.merge(tally);
                workers.push(worker);
            }
            Err(e) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert_with(|| format!("a load task panicked: {e}"));
            }
        }
    }
    let mut intervals = total.per_second;
    // Seconds no worker reached have no histogram yet: the interval log keeps them, empty.
    intervals.resize_with(config.duration.as_secs_f64().ceil() as usize, histogram);
    let per_second = intervals
        .iter()
        .filter(|h| !h.is_empty())
        .cloned()
        .collect();
    let result = LoadResult {
        ops: total.ops,
        attempted: total.attempted,
        errors: total.errors,
        conflicts: total.conflicts,
        elapsed: config.duration,
        latency: total.latency,
        uncorrected: total.uncorrected,
        per_second,
        first_error: total.first_error,
        completed_in_window: total.completed_in_window,
        backlog_at_end: backlog.at_end + total.unsent,
        backlog_at_start: backlog.at_start,
        abandoned: total.abandoned,
        wall: start.elapsed(),
        window_start,
        intervals,
    };
    (result, workers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers at once, except once: a 200 ms stall.
    struct StallOnce {
        calls: u64,
        stall_at: u64,
    }

    #[async_trait]
    impl Step for StallOnce {
        async fn step(&mut self) -> Outcome {
            self.calls += 1;
            if self.calls == self.stall_at {
                tokio::time::sleep(Duration::from_millis(200)).await;
            } else {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            Outcome::Ok
        }
    }

    /// wrk2's point, reproduced: one 200 ms stall hides in a closed loop (one slow
    /// sample among thousands), and shows in the open loop's tail (every request due
    /// during the stall waited for it); the uncorrected open-loop figure hides it too.
    /// On tokio's paused clock: on a loaded machine, real scheduling stalls would add
    /// slow samples of their own to the closed loop's tail and cost it ops.
    #[tokio::test(start_paused = true)]
    async fn the_open_loop_shows_a_stall_the_closed_loop_hides() {
        let config = LoadConfig {
            concurrency: 1,
            rate: None,
            warmup: Duration::from_millis(100),
            duration: Duration::from_secs(2),
        };
        let (closed, _) = run(
            vec![StallOnce {
                calls: 0,
                stall_at: 500,
            }],
            config,
            Arc::default(),
        )
        .await;
        let (open, _) = run(
            vec![StallOnce {
                calls: 0,
                stall_at: 500,
            }],
            LoadConfig {
                rate: Some(1_000.0),
                ..config
            },
            Arc::default(),
        )
        .await;
        let closed_p999 = closed.latency.value_at_quantile(0.999);
        let open_p999 = open.latency.value_at_quantile(0.999);
        let open_p99 = open.latency.value_at_quantile(0.99);
        let naive_p999 = open.uncorrected.as_ref().unwrap().value_at_quantile(0.999);
        assert!(closed.ops > 1_000, "closed loop ran {} ops", closed.ops);
        assert!(
            closed_p999 < 50_000,
            "closed p99.9 {closed_p999} µs should hide the stall"
        );
        assert!(
            open_p999 >= 100_000,
            "open p99.9 {open_p999} µs should show the stall"
        );
        assert!(
            open_p99 >= 50_000,
            "the stall delayed many requests: p99 {open_p99} µs"
        );
        assert!(
            open.latency.len() >= 1_000,
            "open loop ran {} ops",
            open.latency.len()
        );
        assert!(
            naive_p999 < 100_000,
            "uncorrected p99.9 {naive_p999} µs should hide the stall"
        );
        assert!(
            closed.uncorrected.is_none(),
            "closed loop has no separate uncorrected figure"
        );
        assert!(
            closed.latency.max() >= 200_000,
            "the stall itself was recorded once"
        );
    }

    /// On tokio's paused clock, so the bound on the run's length is not the machine's.
    #[tokio::test(start_paused = true)]
    async fn a_run_stops_at_its_deadline_and_counts_outcomes() {
        struct Alternate(u64);
        #[async_trait]
        impl Step for Alternate {
            async fn step(&mut self) -> Outcome {
                self.0 += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
                match self.0 % 3 {
                    0 => Outcome::Ok,
                    1 => Outcome::Conflict,
                    _ => Outcome::Failed("odd".into()),
                }
            }
        }
        let config = LoadConfig {
            concurrency: 2,
            rate: None,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(300),
        };
        let started = Instant::now();
        let (result, workers) = run(vec![Alternate(0), Alternate(0)], config, Arc::default()).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(workers.len(), 2);
        assert!(result.ops > 10);
        assert!(result.conflicts > 0 && result.errors > 0);
        assert_eq!(result.first_error.as_deref(), Some("odd"));
        assert_eq!(result.latency.len(), result.ops);
    }

    /// Answers every request after 1 ms.
    struct Slow;

    #[async_trait]
    impl Step for Slow {
        async fn step(&mut self) -> Outcome {
            tokio::time::sleep(Duration::from_millis(1)).await;
            Outcome::Ok
        }
    }

    /// A rate far beyond what two 1 ms connections can do: the schedule falls behind,
    /// sending stops at the window's end (not after millions of due requests), and the
    /// result says how far behind it was. On tokio's paused clock, as above.
    #[tokio::test(start_paused = true)]
    async fn an_unreachable_rate_stops_at_the_window_and_reports_its_backlog() {
        let config = LoadConfig {
            concurrency: 2,
            rate: Some(1e9),
            warmup: Duration::ZERO,
            duration: Duration::from_millis(200),
        };
        let started = Instant::now();
        let (result, workers) = run(vec![Slow, Slow], config, Arc::default()).await;
        assert!(
            started.elapsed() < Duration::from_millis(200) + DRAIN,
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(workers.len(), 2);
        // Two connections of 1 ms each: at most ~400 answers in 200 ms, against 2e8 due.
        assert!(result.completed_in_window > 0);
        assert!(result.completed_in_window < 1_000, "{result:?}");
        assert!(result.backlog_at_end > 1_000_000, "{result:?}");
        assert!(result.attempted <= result.completed_in_window + 2);
        assert_eq!(result.abandoned, 0);
    }

    /// Seconds no request finished in still have their (empty) place in the interval
    /// log, though no worker built a histogram for them, and the live histogram got
    /// every latency the run counted. On tokio's paused clock, so the second in which
    /// the stall starts is exact, whatever the machine is doing.
    #[tokio::test(start_paused = true)]
    async fn empty_seconds_are_kept_and_the_live_histogram_sees_every_request() {
        /// 1 ms answers for the first second, then one 1.6 s answer that ends after
        /// the window.
        struct StallAfterOneSecond(Option<Instant>);
        #[async_trait]
        impl Step for StallAfterOneSecond {
            async fn step(&mut self) -> Outcome {
                let started = *self.0.get_or_insert_with(Instant::now);
                if started.elapsed() >= Duration::from_secs(1) {
                    tokio::time::sleep(Duration::from_millis(1_600)).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Outcome::Ok
            }
        }
        let config = LoadConfig {
            concurrency: 1,
            rate: None,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(2_500),
        };
        let live = Arc::new(Live::default());
        let (result, _) = run(vec![StallAfterOneSecond(None)], config, Arc::clone(&live)).await;
        assert_eq!(result.intervals.len(), 3, "{result:?}");
        assert!(result.intervals[0].len() > 100, "{result:?}");
        assert!(result.intervals[1..].iter().all(Histogram::is_empty));
        assert_eq!(result.per_second.len(), 1);
        assert_eq!(result.abandoned, 0);
        let seen = live.latency.0.lock().map(|h| h.len()).unwrap();
        assert_eq!(seen, result.ops);
    }

    #[test]
    fn handing_over_nothing_leaves_the_shared_histogram_alone() {
        let shared = SharedHistogram::default();
        shared.absorb_values(&mut Vec::new());
        shared.absorb(&mut histogram());
        assert_eq!(shared.p99(), 0);
        let mut values = vec![5, 7, 9];
        shared.absorb_values(&mut values);
        assert!(values.is_empty());
        let mut local = histogram();
        record(&mut local, 11);
        shared.absorb(&mut local);
        assert!(local.is_empty());
        let all = shared.0.lock().map(|h| (h.len(), h.max())).unwrap();
        assert_eq!(all, (4, 11));
    }

    /// A step that never answers is abandoned after the drain, and the run still ends.
    /// On tokio's paused clock, as above.
    #[tokio::test(start_paused = true)]
    async fn a_hung_request_is_abandoned_after_the_drain() {
        struct Hang;
        #[async_trait]
        impl Step for Hang {
            async fn step(&mut self) -> Outcome {
                std::future::pending::<()>().await;
                Outcome::Ok
            }
        }
        let config = LoadConfig {
            concurrency: 1,
            rate: None,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(50),
        };
        let started = Instant::now();
        let (result, workers) = run(vec![Hang], config, Arc::default()).await;
        assert!(started.elapsed() < Duration::from_millis(50) + DRAIN + Duration::from_secs(1));
        assert_eq!(workers.len(), 1);
        assert_eq!((result.abandoned, result.ops), (1, 0));
    }
}
