//! What the relay itself costs, measured when it starts, so that the link it emulates
//! adds the profile's round trip over a direct connection and not the profile's plus
//! the relay's: the fallback for a kernel that does not stamp arrivals. Where it does
//! (Linux does), the relay dates each piece by its arrival stamp ([`super::arrival`]),
//! its wake-up is never added, and nothing here runs ([`Calibration::KernelStamps`]).
//!
//! A relayed byte makes two loopback hops where a direct one makes one, wakes the
//! relay's reader, and is written by a writer that slept and spun to its deadline: tens
//! of microseconds each way, which is nothing against 80 ms but 5% of the lan profile's
//! 0.5 ms. [`calibrate`] measures that cost the way a client would see it: the relay
//! opens an echo server and two client connections of its own on loopback, one straight
//! to the echo and one through a relay path built by the same code as every other
//! connection (the same threads, pacer and delay, with the profile's round trip capped
//! at [`MAX_CALIBRATION_RTT`], no bandwidth limit and no jitter), and times small
//! ping-pongs over each, in alternating blocks so a change in the machine's load falls
//! on both. The relayed median minus the direct median minus the delay the relay was
//! asked to add is the relay's own cost per round trip; half of it is deducted from each
//! direction's delay, floored at zero.
//!
//! Limits. It is measured once, on an idle relay and with small messages: under load,
//! or with the relay's CPU contended, the relay's cost grows and that growth is not
//! deducted (it shows as extra latency, as a loaded router's would). The deduction is
//! the same both ways (only the round trip is measured). It is never more than
//! [`MAX_DEDUCTION`] per direction nor more than the direction's delay, so a
//! calibration made during a stall cannot remove a profile's delay. It is bounded in
//! time ([`BUDGET`], and every read times out); if it fails, nothing is deducted and
//! the failure is what the relay reports.
//!
//! What is not here: the relay itself ([`super::relay`]).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::relay::{Direction, relay_connection};

/// The most round-trip delay the calibration path is given: a profile's round trip is
/// as long as it is, but the relay's own cost (hops, wake-ups, the last spin) is the
/// same after a 1 ms wait as after an 80 ms one, and a short one keeps start-up quick.
pub const MAX_CALIBRATION_RTT: Duration = Duration::from_millis(1);
/// The most deducted from one direction's delay, whatever the calibration measured.
pub const MAX_DEDUCTION: Duration = Duration::from_micros(250);
/// How long a calibration may take before it stops with what it has.
pub const BUDGET: Duration = Duration::from_secs(2);

/// Exchanges timed over each connection (when [`BUDGET`] allows).
const SAMPLES: usize = 160;
/// Exchanges timed over one connection before switching to the other.
const BLOCK: usize = 16;
/// Fewer exchanges than this over either connection, and nothing is deducted.
const MIN_SAMPLES: usize = 16;
/// Untimed exchanges over each connection first (connection set-up, first wake-ups).
const WARM_UP: usize = 4;
/// The size of each ping and each pong: small, so bandwidth does not enter.
const MESSAGE: usize = 100;
/// How long any single read or write of the calibration may block.
const IO_TIMEOUT: Duration = Duration::from_millis(500);

/// What a relay measured of its own cost, and what it deducts from each direction.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibration {
    /// The profile adds no delay, so there is nothing to deduct from.
    NotNeeded,
    /// Pieces are dated by the kernel's arrival stamps, so the relay's wake-up is not
    /// added and nothing is deducted.
    KernelStamps,
    /// Measured: `per_direction` is deducted from each direction's delay.
    Measured {
        /// Median round trip straight to the echo.
        direct: Duration,
        /// Median round trip through the calibration's relay path.
        relayed: Duration,
        /// The round-trip delay the calibration path was set to add.
        delay: Duration,
        /// Exchanges timed over each connection.
        samples: usize,
        /// What is deducted from each direction's delay: half of `relayed - direct -
        /// delay`, within `0..=`[`MAX_DEDUCTION`].
        per_direction: Duration,
        /// Why the kernel's arrival stamps could not be used instead, when known.
        unstamped: Option<String>,
    },
    /// The measurement failed; nothing is deducted.
    Failed(String),
}

impl Calibration {
    /// What is deducted from each direction's delay (zero unless measured).
    pub fn per_direction(&self) -> Duration {
        match self {
            Calibration::Measured { per_direction, .. } => *per_direction,
            Calibration::NotNeeded | Calibration::KernelStamps | Calibration::Failed(_) => {
                Duration::ZERO
            }
        }
    }

    /// This calibration, made because the kernel's arrival stamps could not be used
    /// (`why`), saying so.
    #[must_use]
    pub fn without_stamps(self, why: String) -> Calibration {
        match self {
            Calibration::Measured {
                direct,
                relayed,
                delay,
                samples,
                per_direction,
                unstamped: _,
            } => Calibration::Measured {
                direct,
                relayed,
                delay,
                samples,
                per_direction,
                unstamped: Some(why),
            },
            Calibration::Failed(e) => Calibration::Failed(format!("{e} (and {why})")),
            other => other,
        }
    }
}

impl fmt::Display for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Calibration::NotNeeded => f.write_str("no delay to calibrate"),
            Calibration::KernelStamps => f.write_str(
                "pieces dated by the kernel's arrival stamps: the relay's wake-up is not \
                 added, nothing deducted",
            ),
            Calibration::Measured {
                direct,
                relayed,
                delay,
                samples,
                per_direction,
                unstamped,
            } => write!(
                f,
                "{}forwarding cost {:.1} µs per direction deducted (medians of {samples}: \
                 {:.1} µs through the relay set to {:.1} µs, {:.1} µs direct)",
                unstamped
                    .as_ref()
                    .map(|why| format!("no kernel arrival stamps ({why}): "))
                    .unwrap_or_default(),
                micros(*per_direction),
                micros(*relayed),
                micros(*delay),
                micros(*direct),
            ),
            Calibration::Failed(why) => write!(f, "not calibrated, nothing deducted: {why}"),
        }
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Measures the relay's own cost for a link of round trip `rtt` (see the module doc).
/// Never fails: a measurement that cannot be made is [`Calibration::Failed`].
pub fn calibrate(rtt: Duration) -> Calibration {
    if rtt.is_zero() {
        return Calibration::NotNeeded;
    }
    let delay = rtt.min(MAX_CALIBRATION_RTT);
    match measure(delay, Instant::now() + BUDGET) {
        Ok((direct, relayed, samples)) => {
            let cost = relayed.saturating_sub(direct).saturating_sub(delay);
            Calibration::Measured {
                direct,
                relayed,
                delay,
                samples,
                per_direction: (cost / 2).min(MAX_DEDUCTION),
                unstamped: None,
            }
        }
        Err(e) => Calibration::Failed(e.to_string()),
    }
}

/// The medians of ping-pongs straight to an echo and through a relay path adding
/// `delay` per round trip, and how many of each were timed before `deadline`.
fn measure(delay: Duration, deadline: Instant) -> io::Result<(Duration, Duration, usize)> {
    let echo = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let echo_addr = echo.local_addr()?;
    let entry = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;

    // A loopback connect completes in the kernel, so each accept below finds its
    // connection already queued; they poll all the same, so none can wait for ever.
    echo.set_nonblocking(true)?;
    entry.set_nonblocking(true)?;
    let mut direct = connect(&echo)?;
    let mut relayed = TcpStream::connect_timeout(&entry.local_addr()?, IO_TIMEOUT)?;
    let relay_side = accept(&entry)?;
    let half = Arc::new(Direction::fixed(delay / 2));
    relay_connection(relay_side, echo_addr, &half, &half)?;
    spawn_echo(accept(&echo)?)?;
    client_options(&relayed)?;

    let mut ping = [0u8; MESSAGE];
    for _ in 0..WARM_UP {
        exchange(&mut direct, &mut ping)?;
        exchange(&mut relayed, &mut ping)?;
    }
    let mut straight = Vec::with_capacity(SAMPLES);
    let mut through = Vec::with_capacity(SAMPLES);
    'timing: while through.len() < SAMPLES {
        for (stream, samples) in [(&mut direct, &mut straight), (&mut relayed, &mut through)] {
            for _ in 0..BLOCK {
                if Instant::now() >= deadline {
                    break 'timing;
                }
                samples.push(exchange(stream, &mut ping)?);
            }
        }
    }
    // Dropping both client connections ends the echo threads and the relay's threads.
    let samples = straight.len().min(through.len());
    if samples < MIN_SAMPLES {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("only {samples} exchanges within {BUDGET:?}"),
        ));
    }
    Ok((median(&mut straight), median(&mut through), samples))
}

/// A client connection to `listener` and its echo thread.
fn connect(listener: &TcpListener) -> io::Result<TcpStream> {
    let client = TcpStream::connect_timeout(&listener.local_addr()?, IO_TIMEOUT)?;
    spawn_echo(accept(listener)?)?;
    client_options(&client)?;
    Ok(client)
}

/// The next connection on a non-blocking `listener`, waited for at most [`IO_TIMEOUT`].
fn accept(listener: &TcpListener) -> io::Result<TcpStream> {
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_micros(100));
            }
            Err(e) => return Err(e),
        }
    }
}

/// No Nagle wait (a ping goes out at once) and no read or write that blocks for long.
fn client_options(client: &TcpStream) -> io::Result<()> {
    client.set_nodelay(true)?;
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    client.set_write_timeout(Some(IO_TIMEOUT))
}

/// Echoes `MESSAGE`-byte pings on `stream` until it closes or stays silent for longer
/// than the whole calibration may take (so the thread ends whatever happened to it).
fn spawn_echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(BUDGET + IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    thread::Builder::new()
        .name("link-calibrate".to_owned())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut message = [0u8; MESSAGE];
            while stream.read_exact(&mut message).is_ok() {
                if stream.write_all(&message).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

/// One timed ping-pong.
fn exchange(stream: &mut TcpStream, message: &mut [u8; MESSAGE]) -> io::Result<Duration> {
    let start = Instant::now();
    stream.write_all(&message[..])?;
    stream.read_exact(&mut message[..])?;
    Ok(start.elapsed())
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn no_delay_needs_no_calibration() {
        assert_eq!(calibrate(Duration::ZERO), Calibration::NotNeeded);
        assert_eq!(Calibration::NotNeeded.per_direction(), Duration::ZERO);
        assert_eq!(
            Calibration::Failed("x".to_owned()).per_direction(),
            Duration::ZERO
        );
    }

    #[test]
    fn a_calibration_is_bounded_in_time_and_deduction() {
        let start = Instant::now();
        let calibration = calibrate(Duration::from_micros(500));
        // Within the budget plus one stuck exchange's timeouts, however busy the machine.
        assert!(start.elapsed() < BUDGET + 3 * IO_TIMEOUT, "{calibration}");
        match calibration {
            Calibration::Measured {
                relayed,
                delay,
                samples,
                per_direction,
                ..
            } => {
                assert_eq!(delay, Duration::from_micros(500));
                assert!(samples >= MIN_SAMPLES);
                // The relay path waited its delay: it is never faster than that.
                assert!(relayed >= delay, "{relayed:?}");
                assert!(per_direction <= MAX_DEDUCTION);
            }
            // A machine too busy for 16 exchanges in 2 s is reported, not hidden.
            Calibration::Failed(why) => assert!(why.contains("exchanges"), "{why}"),
            Calibration::NotNeeded | Calibration::KernelStamps => {
                panic!("a 0.5 ms link needs calibrating")
            }
        }
    }

    #[test]
    fn long_round_trips_are_calibrated_at_the_cap() {
        if let Calibration::Measured { delay, .. } = calibrate(Duration::from_millis(80)) {
            assert_eq!(delay, MAX_CALIBRATION_RTT);
        }
    }
}
