//! The link emulator's accuracy: ping-pongs of known sizes through each profile's relay
//! take rtt + bytes / bandwidth longer than the endpoints' own exchange straight over
//! loopback, within 5%.
//!
//! Each exchange sends a 100-byte request (its first 8 bytes say how large an answer to
//! send back) and waits for the whole answer: 100 bytes, then 1 MB. The expected time
//! is `rtt + 100 B / up + answer / down`.
//!
//! What is compared. Exchanges are timed in adjacent pairs, one through the relay and
//! one straight to the same server, in turn and in alternating order; the figure is the
//! median over the pairs of relayed less direct. Pairing one next to the other (rather
//! than a median of all relayed less a median of all direct) lets a change in the
//! machine's load fall on both members of a pair, and the median of the differences
//! ignores the odd exchange a scheduler delayed on either side. The direct member is
//! always a 100 B exchange: it is the endpoints' own cost of one exchange (the writes,
//! the server's and the client's wake-ups), which a real link adds to its rtt +
//! bytes / bandwidth as well. A direct 1 MB exchange would be the wrong baseline: its
//! loopback copy (0.1 to 0.3 ms here) is not added on a link, where the copy runs while
//! the bottleneck drains (as it does through the relay), so subtracting it read the lan
//! 1 MB case about 2% short. Pairs: about half a second of relayed exchanges per case,
//! at least 9 (41 under mobile's jitter, which spreads single exchanges by ±10 ms; 3
//! for 1 MB, whose mobile case takes 0.86 s) and at most 401 (lan's 100 B case, whose
//! 5% is 25 µs, the order of one direct exchange's spread); every profile's 1 MB case
//! is measured in full; the whole test takes about 9 s.
//!
//! The relay under test is the whole relay as the harness starts it: it dates each piece
//! by the kernel's arrival stamp so its own wake-up is not added (`bench::link::arrival`;
//! without stamps it would deduct a cost measured at start, `bench::link::calibrate`).
//! The test prints how each relay did that and what it forwarded (pieces stamped, how
//! long its readers took to wake, how late its writes were).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bench::link::{Calibration, LinkProfile, Relay};

const REQUEST: usize = 100;
const MEGABYTE: usize = 1_000_000;

/// A server answering each 100-byte request with as many bytes as it asks for.
fn sized_answer_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                stream.set_nodelay(true).unwrap();
                let mut request = [0u8; REQUEST];
                let answer = vec![7u8; MEGABYTE];
                while stream.read_exact(&mut request).is_ok() {
                    let size = u64::from_le_bytes(request[..8].try_into().unwrap()) as usize;
                    if stream.write_all(&answer[..size.min(MEGABYTE)]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// The times of `times` exchanges asking for `size` bytes over `stream`, each answer
/// checked whole.
fn exchanges(stream: &mut TcpStream, size: usize, times: usize) -> Vec<Duration> {
    let mut request = [0u8; REQUEST];
    request[..8].copy_from_slice(&(size as u64).to_le_bytes());
    let mut answer = vec![0u8; size];
    (0..times)
        .map(|_| {
            answer.fill(0);
            let start = Instant::now();
            stream.write_all(&request).unwrap();
            stream.read_exact(&mut answer).unwrap();
            let took = start.elapsed();
            assert!(answer.iter().all(|&b| b == 7), "answer corrupted");
            took
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A connection to `addr` with no Nagle wait, a bounded read, and one exchange made
/// (connection set-up is not what is measured).
fn connect(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    exchanges(&mut stream, REQUEST, 1);
    stream
}

/// What the link added to exchanges of `size` bytes, from `pairs` adjacent pairs of one
/// relayed exchange of `size` bytes and one direct exchange of [`REQUEST`] bytes (the
/// endpoints' own cost of an exchange: see the module doc), taken in turn and in
/// alternating order (direct first, then relayed first), so a change in the machine's
/// load falls on both members of a pair and neither always runs after the other.
struct Paired {
    /// The median of the pairs' differences, relayed less direct.
    added: Duration,
    /// The median relayed exchange, for the report.
    relayed: Duration,
    /// The median direct exchange, for the report.
    direct: Duration,
}

fn paired(relayed: &mut TcpStream, direct: &mut TcpStream, size: usize, pairs: usize) -> Paired {
    let (mut through, mut straight, mut differences) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..pairs {
        let (r, d) = if pair % 2 == 0 {
            let d = exchanges(direct, REQUEST, 1)[0];
            (exchanges(relayed, size, 1)[0], d)
        } else {
            let r = exchanges(relayed, size, 1)[0];
            (r, exchanges(direct, REQUEST, 1)[0])
        };
        // A difference can be negative (a slow direct exchange beside a quick relayed
        // one): kept signed, so the median is not pulled up by clipping.
        differences.push(r.as_secs_f64() - d.as_secs_f64());
        through.push(r);
        straight.push(d);
    }
    differences.sort_by(f64::total_cmp);
    Paired {
        added: Duration::from_secs_f64(differences[differences.len() / 2].max(0.0)),
        relayed: median(through),
        direct: median(straight),
    }
}

/// How many pairs to time for an exchange expected to take `want` through the link:
/// about half a second of relayed exchanges, an odd number (so the median is one of
/// them), at least `least` and at most [`MOST_PAIRS`].
fn pairs_for(want: Duration, least: usize) -> usize {
    let fit = (0.5 / want.as_secs_f64()) as usize;
    (fit.clamp(least, MOST_PAIRS)) | 1
}

/// The most pairs timed for one case: lan's 100 B case, 0.5 ms each, gets this many.
const MOST_PAIRS: usize = 401;

fn expected(profile: &LinkProfile, size: usize) -> Duration {
    let over = |bytes: usize, bps: Option<u64>| bps.map_or(0.0, |b| bytes as f64 * 8.0 / b as f64);
    profile.rtt
        + Duration::from_secs_f64(over(REQUEST, profile.up_bps) + over(size, profile.down_bps))
}

// Wall-clock by nature: the lan profile's 100 B case must land within 25 µs, which the
// scheduler of a shared or busy machine (or an unoptimised relay) can miss on its own,
// so it is not part of `cargo test --workspace`. Run it in release on a quiet machine.
#[test]
#[ignore = "timing: cargo test --release -p bench --test link_accuracy -- --ignored"]
fn link_ping_pong_within_5_percent_of_rtt_plus_size_over_bandwidth() {
    let server = sized_answer_server();
    let mut report = Vec::new();
    let mut misses = Vec::new();
    for name in ["lan", "region", "continent", "mobile"] {
        let profile = LinkProfile::parse(name).unwrap();
        let relay = Relay::start(server, &profile).unwrap();
        // How the relay keeps its own cost out of the delay is part of the result.
        report.push(format!("{name}: {}", relay.calibration()));
        let mut stream = connect(relay.addr());
        let mut direct = connect(server);
        for size in [REQUEST, MEGABYTE] {
            let want = expected(&profile, size);
            // Jitter spreads single relayed exchanges by up to ±10 ms: at least 41 of
            // them for a median; 3 of any 1 MB case (mobile's takes 0.86 s each).
            let least = match (size, profile.jitter.is_zero()) {
                (REQUEST, false) => 41,
                (REQUEST, true) => 9,
                _ => 3,
            };
            let pairs = pairs_for(want, least);
            let Paired {
                added,
                relayed,
                direct: base,
            } = paired(&mut stream, &mut direct, size, pairs);
            let error = (added.as_secs_f64() - want.as_secs_f64()) / want.as_secs_f64();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            let line = format!(
                "{name} {size} B: added {:.3} ms, expected {:.3} ms, error {:+.1}% (median \
                 of {pairs} pairs; medians {:.3} ms relayed, {:.3} ms direct 100 B)",
                ms(added),
                ms(want),
                error * 100.0,
                ms(relayed),
                ms(base),
            );
            if error.abs() > 0.05 {
                misses.push(line.clone());
            }
            report.push(line);
            if size != REQUEST {
                // Not subtracted (see the module doc), but shown: what the direct 1 MB
                // exchange's loopback copy costs, which the old baseline took off.
                let copy = median(exchanges(&mut direct, size, pairs));
                report.push(format!(
                    "{name} {size} B: (a direct {size} B exchange takes {:.3} ms, not subtracted)",
                    ms(copy)
                ));
            }
        }
        report.push(format!("{name}: {}", relay.stats()));
    }
    println!("{}", report.join("\n"));
    assert!(misses.is_empty(), "beyond 5%:\n{}", misses.join("\n"));
}

// Not a timing test: bytes cross intact, each piece is dated by the kernel's stamp, and
// no exchange takes less than the round trip (the relay never releases a piece before
// its arrival plus the direction's delay), on any machine, however loaded.
#[test]
fn a_relay_forwards_intact_dates_pieces_by_the_kernel_and_never_releases_early() {
    let server = sized_answer_server();
    let profile = LinkProfile::parse("lan").unwrap();
    let relay = Relay::start(server, &profile).unwrap();
    assert_eq!(relay.calibration(), &Calibration::KernelStamps);
    let mut stream = connect(relay.addr());
    for size in [REQUEST, 200_000, REQUEST] {
        for took in exchanges(&mut stream, size, 3) {
            // The stamp-to-monotonic conversion errs late, never early, but for the two
            // clocks' drift over a few microseconds: a microsecond of allowance.
            assert!(
                took + Duration::from_micros(1) >= profile.rtt,
                "{size} B took {took:?}"
            );
        }
    }
    let stats = relay.stats();
    // Every piece the reader dated was stamped; a writer counts a piece once written,
    // so the last few may not be counted yet, the first several surely are.
    assert!(stats.stamped >= 10, "{stats}");
    assert!(stats.pieces >= 10, "{stats}");
    assert!(stats.max_late >= stats.mean_late(), "{stats}");
}
