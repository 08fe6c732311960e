//! The link emulator: a TCP relay that sits between clients and one server and applies
//! a [`LinkProfile`] to every connection, both directions. Profiles and their parsing
//! are in [`super::profile`]; running the relay as a process of its own is in
//! [`super::process`].
//!
//! How a byte crosses it. A reader thread per connection and direction reads what
//! arrives (in pieces of at most about a millisecond of the direction's bandwidth),
//! dates each piece by when the kernel queued it on the relay's socket (its receive
//! timestamp, [`super::arrival`]), and gives it a delivery time from that arrival:
//!
//! 1. **Bottleneck.** Each direction has one [`Bottleneck`] shared by every connection:
//!    a serialization queue. A piece leaves it at `max(arrival, link free) + size /
//!    bandwidth`, so a 1 MB answer takes 1 MB / bandwidth and two connections
//!    downloading at once each get about half.
//! 2. **Propagation.** Then it travels `rtt / 2`, plus a jitter drawn once per burst (a
//!    piece that arrives while the connection still has bytes in flight keeps its
//!    predecessor's draw), and never before the connection's previous piece: bytes of
//!    one connection are never reordered.
//!
//! The relay's own cost. A relayed byte makes one more hop than a direct one: it waits
//! in the relay's socket for the reader to wake (a few microseconds idle, hundreds on a
//! busy machine, different every time), then for its delivery time, then is written. The
//! wait for the reader is not added: delivery times count from the kernel's stamp, not
//! from the read, so the delay is the profile's whatever the wake-up cost, piece by
//! piece, with nothing measured once and deducted (a start-up figure could be off by
//! more than the lan profile's 5%, 25 µs a round trip, either way). Nothing is released
//! before its arrival plus the direction's delay. What remains is the relay's write (the
//! same loopback send the sender already paid once, a few microseconds) and any
//! lateness of the writer past the delivery time; the relay counts both as it goes
//! ([`Relay::stats`]: pieces stamped, how long readers took to wake, how late writes
//! were). Only where the kernel gives no stamps (a start-up probe says so) does the
//! relay fall back to measuring its cost once and deducting it ([`super::calibrate`],
//! reported by [`Relay::calibration`]).
//!
//! A writer thread per connection and direction writes each piece at its delivery time.
//! Times are absolute deadlines, so timer error never accumulates over a long transfer;
//! threads (not tokio tasks, whose timer wheel ticks in milliseconds) sleep with the
//! kernel's high-resolution timers until a margin before each deadline and spin the
//! rest, the margin following how late their sleeps wake on this machine
//! ([`super::pace::Pacer`]), on every profile: a sleep's lateness is the same
//! hundred-odd microseconds whether the round trip is 0.5 ms or 80 ms.
//!
//! Memory is bounded: each connection and direction queues at most [`QUEUE_PIECES`]
//! pieces; a full queue stops the reader, which stops the sender through TCP's own flow
//! control, as a real bottleneck's buffer does.

use std::fmt;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::arrival::{self, StampedReader};
use super::calibrate::{Calibration, calibrate};
use super::pace::Pacer;
use super::profile::LinkProfile;

/// Pieces a connection's direction may have queued before its reader waits.
pub const QUEUE_PIECES: usize = 256;

/// The smallest piece read at once: one Ethernet payload.
const MIN_PIECE: usize = 1460;
/// The largest piece read at once.
const MAX_PIECE: usize = 64 * 1024;
/// How long a relay waits for the server to accept a connection it forwards.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One direction's bottleneck: a serialization queue every connection shares.
#[derive(Debug)]
pub struct Bottleneck {
    /// Bytes per second, `None` for unlimited.
    bytes_per_second: Option<f64>,
    /// When the last piece queued finishes leaving.
    free_at: Mutex<Instant>,
}

impl Bottleneck {
    /// A bottleneck of `bits_per_second` (`None`: unlimited, pieces leave at once).
    pub fn new(bits_per_second: Option<u64>) -> Self {
        Bottleneck {
            bytes_per_second: bits_per_second.map(|b| b as f64 / 8.0),
            free_at: Mutex::new(Instant::now()),
        }
    }

    /// Queues `bytes` that arrived at `now`; returns when their last byte has left.
    pub fn depart(&self, now: Instant, bytes: usize) -> Instant {
        let Some(rate) = self.bytes_per_second else {
            return now;
        };
        let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
        let done = (*free_at).max(now) + Duration::from_secs_f64(bytes as f64 / rate);
        *free_at = done;
        done
    }

    /// The size of the pieces read at once: about a millisecond of this bandwidth,
    /// within [`MIN_PIECE`]..=[`MAX_PIECE`] (so a small message is never held behind a
    /// large one's whole serialization, and fast links are not cut too fine).
    fn piece(&self) -> usize {
        self.bytes_per_second
            .map_or(MAX_PIECE, |rate| (rate / 1000.0) as usize)
            .clamp(MIN_PIECE, MAX_PIECE)
    }
}

/// What one direction does to the bytes crossing it.
#[derive(Debug)]
pub(super) struct Direction {
    bottleneck: Bottleneck,
    /// Half the round-trip time.
    delay: Duration,
    /// Half the jitter: each burst's delay is drawn from `delay ± half_jitter`.
    half_jitter: Duration,
    /// What the direction's readers and writers saw, for [`Relay::stats`].
    counters: Counters,
}

impl Direction {
    /// `profile`'s delay less the relay's own cost (`deducted`, floored at zero) and
    /// `bits_per_second` of bandwidth.
    fn new(profile: &LinkProfile, bits_per_second: Option<u64>, deducted: Duration) -> Self {
        Direction {
            bottleneck: Bottleneck::new(bits_per_second),
            delay: (profile.rtt / 2).saturating_sub(deducted),
            half_jitter: profile.jitter / 2,
            counters: Counters::default(),
        }
    }

    /// Exactly `delay`: no bandwidth limit, no jitter, nothing deducted (the
    /// calibration's path).
    pub(super) fn fixed(delay: Duration) -> Self {
        Direction {
            bottleneck: Bottleneck::new(None),
            delay,
            half_jitter: Duration::ZERO,
            counters: Counters::default(),
        }
    }

    /// A propagation delay with a fresh jitter draw from `rng`.
    fn draw_delay(&self, rng: &mut ChaCha8Rng) -> Duration {
        if self.half_jitter.is_zero() {
            return self.delay;
        }
        let spread = self.half_jitter.as_secs_f64();
        let offset = rng.random_range(-spread..=spread);
        Duration::from_secs_f64((self.delay.as_secs_f64() + offset).max(0.0))
    }
}

/// A running relay: connections to [`Relay::addr`] are forwarded to the target through
/// the emulated link. Dropping it stops accepting; connections already relayed live
/// until either end closes.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    calibration: Calibration,
    /// Both directions, for their counters.
    directions: [Arc<Direction>; 2],
}

impl Relay {
    /// Listens on an OS-picked port of the target's loopback (127.0.0.1 or ::1) and
    /// forwards every connection to `target` through `profile`'s link. First checks
    /// that the kernel stamps arrivals ([`arrival::kernel_stamps`], a millisecond);
    /// only if it does not, measures its own cost ([`super::calibrate`], at most
    /// [`super::calibrate::BUDGET`] and a little more) and deducts it from each
    /// direction's delay.
    ///
    /// # Errors
    /// If the listener cannot be bound or its thread cannot be started (a calibration
    /// that fails is not an error: nothing is deducted, and [`Relay::calibration`] says
    /// why).
    pub fn start(target: SocketAddr, profile: &LinkProfile) -> io::Result<Relay> {
        let local: SocketAddr = if target.is_ipv6() {
            (std::net::Ipv6Addr::LOCALHOST, 0).into()
        } else {
            (std::net::Ipv4Addr::LOCALHOST, 0).into()
        };
        let listener = TcpListener::bind(local)?;
        let addr = listener.local_addr()?;
        let calibration = if profile.rtt.is_zero() {
            Calibration::NotNeeded
        } else {
            match arrival::kernel_stamps() {
                Ok(()) => Calibration::KernelStamps,
                // Before any client connects: the measurement wants an idle relay.
                Err(why) => calibrate(profile.rtt).without_stamps(why),
            }
        };
        let deducted = calibration.per_direction();
        let up = Arc::new(Direction::new(profile, profile.up_bps, deducted));
        let down = Arc::new(Direction::new(profile, profile.down_bps, deducted));
        let directions = [Arc::clone(&up), Arc::clone(&down)];
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopping);
        thread::Builder::new()
            .name("link-accept".to_owned())
            .spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // A failed accept (the client gave up) costs that client only.
                    if let Ok(client) = client {
                        let (up, down) = (Arc::clone(&up), Arc::clone(&down));
                        let _ = thread::Builder::new()
                            .name("link-connect".to_owned())
                            .spawn(move || {
                                // A server that refuses closes the client's connection:
                                // the client sees what it would have seen directly.
                                let _ = relay_connection(client, target, &up, &down);
                            });
                    }
                }
            })?;
        Ok(Relay {
            addr,
            stopping,
            calibration,
            directions,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How the relay keeps its own cost out of the delay: the kernel's arrival stamps,
    /// or (without them) what it measured when it started and deducts.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// What the relay has forwarded so far, both directions together: how many pieces,
    /// how many dated by the kernel, how long readers took to wake and how late
    /// writes were.
    pub fn stats(&self) -> ForwardingStats {
        let [up, down] = &self.directions;
        up.counters.read().add(down.counters.read())
    }
}

/// Running totals of one direction, updated by its readers and writers.
#[derive(Debug, Default)]
struct Counters {
    pieces: AtomicU64,
    stamped: AtomicU64,
    waited_ns: AtomicU64,
    late_ns: AtomicU64,
    late_max_ns: AtomicU64,
}

impl Counters {
    fn read(&self) -> ForwardingStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ForwardingStats {
            pieces: get(&self.pieces),
            stamped: get(&self.stamped),
            waited: Duration::from_nanos(get(&self.waited_ns)),
            late: Duration::from_nanos(get(&self.late_ns)),
            max_late: Duration::from_nanos(get(&self.late_max_ns)),
        }
    }
}

/// What a relay has forwarded (see [`Relay::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardingStats {
    /// Pieces written.
    pub pieces: u64,
    /// Pieces dated by the kernel's receive stamp (the rest by their read's return).
    pub stamped: u64,
    /// Total time stamped pieces waited in the relay's socket for a reader: what
    /// dating them by the read would have added.
    pub waited: Duration,
    /// Total time writes started after their delivery times.
    pub late: Duration,
    /// The latest any write started after its delivery time.
    pub max_late: Duration,
}

impl ForwardingStats {
    fn add(self, other: ForwardingStats) -> ForwardingStats {
        ForwardingStats {
            pieces: self.pieces + other.pieces,
            stamped: self.stamped + other.stamped,
            waited: self.waited + other.waited,
            late: self.late + other.late,
            max_late: self.max_late.max(other.max_late),
        }
    }

    /// The mean wait of a stamped piece for its reader.
    pub fn mean_waited(&self) -> Duration {
        mean(self.waited, self.stamped)
    }

    /// The mean time a write started after its delivery time.
    pub fn mean_late(&self) -> Duration {
        mean(self.late, self.pieces)
    }
}

fn mean(total: Duration, count: u64) -> Duration {
    u32::try_from(count)
        .ok()
        .and_then(|n| total.checked_div(n))
        .unwrap_or_default()
}

impl fmt::Display for ForwardingStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        write!(
            f,
            "{} pieces, {} dated by the kernel's stamp (readers woke a mean {:.1} µs after \
             arrival, not added), written a mean {:.1} µs (at most {:.1} µs) after their time",
            self.pieces,
            self.stamped,
            micros(self.mean_waited()),
            micros(self.mean_late()),
            micros(self.max_late),
        )
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Connects to the target and starts both directions' threads.
pub(super) fn relay_connection(
    client: TcpStream,
    target: SocketAddr,
    up: &Arc<Direction>,
    down: &Arc<Direction>,
) -> io::Result<()> {
    let server = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)?;
    // Small messages go out at their delivery time, not after Nagle's wait.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    pipe(client.try_clone()?, server.try_clone()?, up)?;
    pipe(server, client, down)
}

/// A piece of a connection's bytes and when to deliver it.
struct Piece {
    deliver_at: Instant,
    bytes: Vec<u8>,
}

/// Starts the reader and the writer of one direction, `from` to `to`.
fn pipe(from: TcpStream, to: TcpStream, direction: &Arc<Direction>) -> io::Result<()> {
    let (tx, rx) = sync_channel::<Piece>(QUEUE_PIECES);
    let unblock = from.try_clone()?;
    let reading = Arc::clone(direction);
    let writing = Arc::clone(direction);
    thread::Builder::new()
        .name("link-read".to_owned())
        .stack_size(128 * 1024)
        .spawn(move || read_side(StampedReader::new(from), &reading, &tx))?;
    thread::Builder::new()
        .name("link-write".to_owned())
        .stack_size(128 * 1024)
        .spawn(move || write_side(&rx, to, &unblock, &writing.counters))?;
    Ok(())
}

/// Reads pieces and schedules them until the source closes or the writer is gone.
fn read_side(mut from: StampedReader, direction: &Direction, tx: &SyncSender<Piece>) {
    let mut buf = vec![0u8; direction.bottleneck.piece()];
    // Jitter needs no secrecy, only independence between connections: the clock's
    // nanoseconds at the thread's start differ for each.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut last = Instant::now();
    let mut delay = direction.delay;
    loop {
        let (n, arrival) = match from.read(&mut buf) {
            Ok((0, _)) | Err(_) => return,
            Ok(read) => read,
        };
        let counters = &direction.counters;
        if let Some(waited) = arrival.waited {
            counters.stamped.fetch_add(1, Ordering::Relaxed);
            counters
                .waited_ns
                .fetch_add(nanos(waited), Ordering::Relaxed);
        }
        // From the arrival, not from now: the reader's wake-up is not the link's.
        let now = arrival.at;
        let left = direction.bottleneck.depart(now, n);
        // Idle since the last piece was delivered: a new burst, a new jitter draw.
        if last <= now {
            delay = direction.draw_delay(&mut rng);
        }
        let deliver_at = (left + delay).max(last);
        last = deliver_at;
        let piece = Piece {
            deliver_at,
            bytes: buf[..n].to_vec(),
        };
        if tx.send(piece).is_err() {
            return;
        }
    }
}

/// Writes each piece at its delivery time; when the reader is done, half-closes `to`
/// (the far end sees the EOF the near end sent). If `to` fails, closes the source
/// (`unblock`) so the reader stops too.
fn write_side(rx: &Receiver<Piece>, mut to: TcpStream, unblock: &TcpStream, counters: &Counters) {
    let mut pacer = Pacer::new();
    for piece in rx {
        pacer.wait_until(piece.deliver_at);
        let late = nanos(Instant::now().saturating_duration_since(piece.deliver_at));
        if to.write_all(&piece.bytes).is_err() {
            let _ = unblock.shutdown(Shutdown::Both);
            return;
        }
        counters.pieces.fetch_add(1, Ordering::Relaxed);
        counters.late_ns.fetch_add(late, Ordering::Relaxed);
        counters.late_max_ns.fetch_max(late, Ordering::Relaxed);
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// A duration in nanoseconds, saturating (a counter's unit).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bottleneck_serializes_and_is_shared() {
        let link = Bottleneck::new(Some(8_000_000)); // 1 MB/s
        let now = Instant::now();
        let a = link.depart(now, 1000);
        assert_eq!(a - now, Duration::from_millis(1));
        // A second sender at the same instant waits behind the first.
        let b = link.depart(now, 1000);
        assert_eq!(b - now, Duration::from_millis(2));
        // After the link went idle, a piece starts at once.
        let later = now + Duration::from_secs(1);
        assert_eq!(link.depart(later, 500) - later, Duration::from_micros(500));
        let unlimited = Bottleneck::new(None);
        assert_eq!(unlimited.depart(now, 1 << 20), now);
    }

    #[test]
    fn pieces_are_about_a_millisecond_of_bandwidth() {
        assert_eq!(Bottleneck::new(Some(2_000_000)).piece(), MIN_PIECE);
        assert_eq!(Bottleneck::new(Some(200_000_000)).piece(), 25_000);
        assert_eq!(Bottleneck::new(Some(1_000_000_000_000)).piece(), MAX_PIECE);
        assert_eq!(Bottleneck::new(None).piece(), MAX_PIECE);
    }
}
