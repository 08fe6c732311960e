//! When bytes reached the relay: the instant the kernel queued them on the relay's
//! socket, read from the socket's receive timestamps, so the relay schedules each piece
//! from its true arrival and not from the moment its reader thread woke up to read it.
//!
//! Why. A relayed byte waits, after it reached the relay's socket, for the reader thread
//! to be woken and scheduled: a few microseconds on an idle machine, tens or hundreds on
//! a busy one, and never the same twice. Timed from the read's return, that wait was
//! added to every piece's delay, and a figure measured once at start to deduct it
//! (`super::calibrate`) could be off by more than the lan profile's 5% (25 µs per round
//! trip) in either direction. Timed from the kernel's stamp it is not added at all,
//! whatever the load, so nothing needs deducting.
//!
//! How. `SO_TIMESTAMPNS` on the socket makes every `recvmsg` carry the wall-clock time
//! (`CLOCK_REALTIME`) at which the last byte it returns was queued (TCP stamps each
//! segment as it arrives and a read reports its last one, so a piece is never dated
//! earlier than any of its bytes). The relay's clock is the monotonic [`Instant`], so the
//! stamp is turned into an age (the wall clock read right after the read, less the
//! stamp) and the age is taken from the monotonic reading made beside it: the two clocks'
//! offset cancels, and only their drift over the age (nanoseconds) remains. An age below
//! zero (the wall clock stepped back) counts as none, and one above [`MAX_AGE`] (it
//! stepped forward) as [`MAX_AGE`], so a clock step can move a piece's arrival by at most
//! that and never to after its read.
//!
//! Where the kernel gives no stamp (the option refused, or a read without one: Linux
//! turns stamping on a little after a socket first asks, so the first bytes after no
//! socket asked may come unstamped), the arrival is the read's return, as before, and
//! [`Arrival::waited`] is `None`; the relay counts such pieces
//! ([`super::relay::ForwardingStats`]) and, when a start-up probe ([`kernel_stamps`])
//! finds no stamps at all, falls back to deducting a calibrated cost.
//!
//! What is not here: what the relay does with the arrival (its bottleneck and delays,
//! [`super::relay`]), and writing (the relay's writes are timed by [`super::pace`]).

use std::io::{self, IoSliceMut, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use nix::sys::time::TimeSpec;

/// The oldest a stamp is believed: an older one is taken as this old. Bytes sit in the
/// relay's socket longer only when its queue is full, and then the bottleneck, not the
/// arrival, sets when they leave; a wall-clock step forward cannot move an arrival
/// earlier than this.
pub const MAX_AGE: Duration = Duration::from_millis(10);

/// When a piece arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// When the kernel queued the piece's last byte on the relay's socket (or, without a
    /// stamp, when the read returned).
    pub at: Instant,
    /// How long the piece waited in the socket for the reader (the wake-up the stamp
    /// keeps out of the link's delay); `None` when the kernel gave no stamp.
    pub waited: Option<Duration>,
}

impl Arrival {
    /// The arrival of a piece read at wall-clock `wall` and monotonic `now` (read right
    /// after it), stamped `stamp` by the kernel (see the module doc for the clamps).
    pub fn new(now: Instant, wall: SystemTime, stamp: Option<SystemTime>) -> Arrival {
        let Some(stamp) = stamp else {
            return Arrival {
                at: now,
                waited: None,
            };
        };
        // A stamp after `wall`: the wall clock stepped back, or the two readings are a
        // few nanoseconds apart the wrong way; either way the piece has just arrived.
        let age = wall.duration_since(stamp).unwrap_or_default().min(MAX_AGE);
        let at = now.checked_sub(age).unwrap_or(now);
        Arrival {
            at,
            waited: Some(now - at),
        }
    }
}

/// A relay's reading end: reads with the kernel's receive timestamps when the socket
/// accepts the option, plainly otherwise.
#[derive(Debug)]
pub struct StampedReader {
    stream: TcpStream,
    /// Room for one `SCM_TIMESTAMPNS` control message, or `None` when the socket refused
    /// the option and reads are plain.
    control: Option<Vec<u8>>,
}

impl StampedReader {
    /// Asks the kernel to stamp what arrives on `stream` (if it refuses, reads are plain
    /// and arrivals are their returns).
    pub fn new(stream: TcpStream) -> StampedReader {
        let control = setsockopt(&stream, sockopt::ReceiveTimestampns, &true)
            .is_ok()
            .then(|| nix::cmsg_space!(TimeSpec));
        StampedReader { stream, control }
    }

    /// Whether reads ask for stamps.
    pub fn stamping(&self) -> bool {
        self.control.is_some()
    }

    /// Reads what has arrived into `buf` (0 bytes: the peer closed) and says when it
    /// arrived.
    ///
    /// # Errors
    /// The read's error (an interrupted read is retried).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<(usize, Arrival)> {
        let Some(control) = self.control.as_mut() else {
            let n = self.stream.read(buf)?;
            return Ok((n, Arrival::new(Instant::now(), SystemTime::now(), None)));
        };
        let fd = self.stream.as_raw_fd();
        let (n, stamp) = loop {
            let mut iov = [IoSliceMut::new(buf)];
            match recvmsg::<()>(fd, &mut iov, Some(control), MsgFlags::empty()) {
                Ok(message) => {
                    // A truncated control buffer (it cannot be: it fits the one message
                    // asked for) reads as no stamp.
                    let stamp = message.cmsgs().ok().and_then(|mut messages| {
                        messages.find_map(|m| match m {
                            ControlMessageOwned::ScmTimestampns(ts) => wall_time(ts),
                            _ => None,
                        })
                    });
                    break (message.bytes, stamp);
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        };
        // Both clocks read together after the read, the wall clock first: should the
        // thread be preempted between the two, the age is short by the gap and the
        // arrival late by it, never early.
        let wall = SystemTime::now();
        let now = Instant::now();
        Ok((n, Arrival::new(now, wall, stamp)))
    }
}

/// A kernel timestamp as a wall-clock time (`None` if it is not a valid one).
fn wall_time(ts: TimeSpec) -> Option<SystemTime> {
    let secs = u64::try_from(ts.tv_sec()).ok()?;
    let nanos = u32::try_from(ts.tv_nsec()).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Whether this kernel stamps TCP bytes on arrival: bytes over a loopback connection of
/// its own, read as the relay reads, until one read carries a stamp or [`PROBE_FOR`]
/// has passed. (Linux starts stamping a little after the first socket asks, from a
/// deferred work item, so the first bytes may come unstamped; the relay's own first
/// pieces likewise, and those are dated by their reads.)
///
/// # Errors
/// Why not: the socket refused the option, no read carried a stamp, or the probe's
/// connection failed (within about a second).
pub fn kernel_stamps() -> Result<(), String> {
    let probe = || -> io::Result<Option<Duration>> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let mut client = TcpStream::connect_timeout(&listener.local_addr()?, PROBE_TIMEOUT)?;
        // A loopback connect completes in the kernel: the connection is already queued.
        let (server, _) = listener.accept()?;
        server.set_read_timeout(Some(PROBE_TIMEOUT))?;
        let mut reader = StampedReader::new(server);
        if !reader.stamping() {
            return Err(io::Error::other("the socket refused SO_TIMESTAMPNS"));
        }
        let deadline = Instant::now() + PROBE_FOR;
        let mut byte = [0u8; 1];
        loop {
            client.write_all(&[1])?;
            let (_, arrival) = reader.read(&mut byte)?;
            if arrival.waited.is_some() || Instant::now() >= deadline {
                return Ok(arrival.waited);
            }
            // Give the kernel's deferred work its turn.
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    match probe() {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("reads carry no receive timestamp".to_owned()),
        Err(e) => Err(format!("receive timestamps not usable: {e}")),
    }
}

/// How long the probe's connect and each read may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the probe waits for the kernel to start stamping.
pub const PROBE_FOR: Duration = Duration::from_secs(1);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_arrival_is_its_stamp_taken_from_the_monotonic_clock() {
        let now = Instant::now();
        let wall = SystemTime::now();
        let micros = Duration::from_micros;
        let stamped = Arrival::new(now, wall, Some(wall - micros(40)));
        assert_eq!(Some(stamped.at), now.checked_sub(micros(40)));
        assert_eq!(stamped.waited, Some(micros(40)));
        // No stamp: the read's return.
        assert_eq!(Arrival::new(now, wall, None).at, now);
        assert_eq!(Arrival::new(now, wall, None).waited, None);
        // A stamp from the future (the wall clock stepped back): just arrived.
        let ahead = Arrival::new(now, wall, Some(wall + micros(5)));
        assert_eq!((ahead.at, ahead.waited), (now, Some(Duration::ZERO)));
        // A stamp from long ago (or a step forward) is at most MAX_AGE old.
        let old = Arrival::new(now, wall, Some(wall - Duration::from_secs(3600)));
        assert_eq!(old.waited, Some(MAX_AGE));
    }

    #[test]
    fn reads_are_stamped_no_earlier_than_their_bytes_were_sent() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut reader = StampedReader::new(listener.accept().unwrap().0);
        // Linux stamps TCP reads (since 4.13); a kernel that does not would fail here
        // and make the relay fall back to its calibration, which this says loudly. The
        // probe returns once stamping has started, which `reader`'s socket, asking
        // too, keeps on.
        kernel_stamps().unwrap();
        let sent = Instant::now();
        client.write_all(b"stamped").unwrap();
        let mut buf = [0u8; 16];
        let (n, arrival) = reader.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"stamped");
        assert!(arrival.waited.is_some());
        // The stamp was made during the write, so after `sent`: the conversion only
        // errs late (the wall clock is read first), but for the clocks' drift over the
        // age, nanoseconds; allow a microsecond.
        assert!(
            arrival.at + Duration::from_micros(1) >= sent,
            "{arrival:?} {sent:?}"
        );
        assert!(arrival.at <= Instant::now());
        // The peer's close reads as 0 bytes.
        drop(client);
        assert_eq!(reader.read(&mut buf).unwrap().0, 0);
    }
}
