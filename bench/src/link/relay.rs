//! The link emulator: a TCP relay that sits between clients and one server and applies
//! a [`LinkProfile`] to every connection, both directions. Profiles and their parsing
//! are in [`super::profile`]; running the relay as a process of its own is in
//! [`super::process`].
//!
//! How a byte crosses it. A reader thread per connection and direction reads what
//! arrives (in pieces of at most about a millisecond of the direction's bandwidth) and
//! gives each piece a delivery time:
//!
//! 1. **Bottleneck.** Each direction has one [`Bottleneck`] shared by every connection:
//!    a serialization queue. A piece leaves it at `max(now, link free) + size /
//!    bandwidth`, so a 1 MB answer takes 1 MB / bandwidth and two connections
//!    downloading at once each get about half.
//! 2. **Propagation.** Then it travels `rtt / 2`, plus a jitter drawn once per burst (a
//!    piece that arrives while the connection still has bytes in flight keeps its
//!    predecessor's draw), and never before the connection's previous piece: bytes of
//!    one connection are never reordered.
//!
//! The relay is one more hop than a direct connection (a loopback write, a thread's
//! wake-up, the last spin to a deadline), which costs tens of microseconds: each
//! direction's delay is shortened by that cost, measured end to end through the relay's
//! own code when it starts ([`super::calibrate`]) and reported
//! ([`Relay::calibration`]), so what the link adds on top of loopback is the profile's
//! round trip, not the profile's plus the relay's.
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

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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
}

impl Direction {
    /// `profile`'s delay less the relay's own cost (`deducted`, floored at zero) and
    /// `bits_per_second` of bandwidth.
    fn new(profile: &LinkProfile, bits_per_second: Option<u64>, deducted: Duration) -> Self {
        Direction {
            bottleneck: Bottleneck::new(bits_per_second),
            delay: (profile.rtt / 2).saturating_sub(deducted),
            half_jitter: profile.jitter / 2,
        }
    }

    /// Exactly `delay`: no bandwidth limit, no jitter, nothing deducted (the
    /// calibration's path).
    pub(super) fn fixed(delay: Duration) -> Self {
        Direction {
            bottleneck: Bottleneck::new(None),
            delay,
            half_jitter: Duration::ZERO,
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
}

impl Relay {
    /// Listens on an OS-picked port of the target's loopback (127.0.0.1 or ::1) and
    /// forwards every connection to `target` through `profile`'s link. First measures
    /// its own cost ([`super::calibrate`], at most [`super::calibrate::BUDGET`] and a
    /// little more) and deducts it from each direction's delay.
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
        // Before any client connects: the measurement wants an idle relay.
        let calibration = calibrate(profile.rtt);
        let deducted = calibration.per_direction();
        let up = Arc::new(Direction::new(profile, profile.up_bps, deducted));
        let down = Arc::new(Direction::new(profile, profile.down_bps, deducted));
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
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the relay measured of its own cost when it started, and deducts from each
    /// direction's delay.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
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
    pipe(client.try_clone()?, server.try_clone()?, Arc::clone(up))?;
    pipe(server, client, Arc::clone(down))
}

/// A piece of a connection's bytes and when to deliver it.
struct Piece {
    deliver_at: Instant,
    bytes: Vec<u8>,
}

/// Starts the reader and the writer of one direction, `from` to `to`.
fn pipe(from: TcpStream, to: TcpStream, direction: Arc<Direction>) -> io::Result<()> {
    let (tx, rx) = sync_channel::<Piece>(QUEUE_PIECES);
    let unblock = from.try_clone()?;
    thread::Builder::new()
        .name("link-read".to_owned())
        .stack_size(128 * 1024)
        .spawn(move || read_side(from, &direction, &tx))?;
    thread::Builder::new()
        .name("link-write".to_owned())
        .stack_size(128 * 1024)
        .spawn(move || write_side(&rx, to, &unblock))?;
    Ok(())
}

/// Reads pieces and schedules them until the source closes or the writer is gone.
fn read_side(mut from: TcpStream, direction: &Direction, tx: &SyncSender<Piece>) {
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
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = Instant::now();
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
fn write_side(rx: &Receiver<Piece>, mut to: TcpStream, unblock: &TcpStream) {
    let mut pacer = Pacer::new();
    for piece in rx {
        pacer.wait_until(piece.deliver_at);
        if to.write_all(&piece.bytes).is_err() {
            let _ = unblock.shutdown(Shutdown::Both);
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
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
