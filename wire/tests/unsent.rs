//! What the kernel holds of a never-reading peer's answers
//! ([`wire::config::MAX_UNSENT_BYTES`], set as `TCP_NOTSENT_LOWAT` on every accepted
//! socket): the `quartet abuse` no-read finding (issue 18) that a peer asking for large
//! answers and never reading got about five of them into the kernel's send buffer (about
//! 1.2 MB on loopback), each computed by the server, before the byte budgets stopped it.
//! Here the server's sockets keep the kernel's own send buffer, as in production (the
//! other never-reading tests set it to a few KiB by hand, which hides the kernel's
//! share), and the count of seat maps computed is bounded by sizes alone, never by how
//! fast anything runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use wire::frame::Opcode;

/// The never-reading peer's receive buffer (asked; the kernel doubles it), so that what
/// its window lets the server send is a few KiB.
const SMALL_BUFFER: u32 = 4 * 1024;

/// Seat maps the peer asks for: far more than the server should compute for it.
const ASKED: u32 = 32;

/// A peer that asks for seat maps and never reads stops being read, and worked for,
/// once what the kernel may hold unsent and the connection's byte budget are full: the
/// seat maps computed for it are at most those the kernel took (its unsent cap, one
/// segment it may fill past the cap, the peer's window), those the budget holds, one
/// waiting for room, and one computed meanwhile on the runtime's other worker thread.
/// Without the cap the kernel alone takes about 1.2 MB, five such answers or more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_stops_being_worked_for_after_the_kernels_cap() {
    let (event, answer_len) = common::biggest_seat_map().await;
    let gauges = wire::Gauges::new();
    let config = wire::Config {
        // Only the byte budgets and the kernel stop anything here.
        write_timeout: Duration::from_secs(3_600),
        gauges: Some(gauges.clone()),
        ..wire::Config::with_server(netkit::ServerConfig {
            write_stall_timeout: Duration::from_secs(3_600),
            ..netkit::ServerConfig::default()
        })
    };
    let budget = config.max_queued_bytes;
    let api = Arc::new(domain::Forwarding::new(common::service()));
    let server = common::serve(api.clone(), config).await;
    let mut stream = common::handshaken_with_receive_buffer(server.addr, SMALL_BUFFER).await;
    let mut burst = Vec::new();
    for id in 1..=ASKED {
        let request = wire::messages::EventIdRequest { event_id: event.0 };
        burst.extend_from_slice(&common::request_bytes(Opcode::GetSeatMap, id, &request));
    }
    stream.write_all(&burst).await.unwrap();
    common::wait_for("the server to stop reading the peer", || {
        gauges.paused_connections() == 1
    })
    .await;

    let kernel = wire::config::MAX_UNSENT_BYTES as usize + (64 << 10) + 4 * SMALL_BUFFER as usize;
    let bound = kernel.div_ceil(answer_len) + budget / answer_len + 1 + 1;
    let calls = api.calls();
    assert!(
        calls <= bound as u64,
        "{calls} seat maps of {answer_len} bytes were computed for a peer that read none \
         (at most {bound}: the kernel's cap is not in force?)"
    );
    // And it stays stopped: a bounded look (with the cap the peer is never read again,
    // so this cannot fail spuriously; without it the pause above can be a passing one,
    // and the kernel goes on taking answers, so the count grows past the bound).
    let bound = bound as u64;
    let grew = tokio::time::timeout(Duration::from_secs(1), async {
        while api.calls() <= bound {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        grew.is_err(),
        "{} seat maps were computed for a peer that read none (at most {bound})",
        api.calls()
    );
    assert!(gauges.peak_queued_bytes() <= budget);

    // Others are served meanwhile.
    let client = wire::Client::connect(server.addr).await.unwrap();
    client.ping().await.unwrap();
    assert_eq!(gauges.paused_connections(), 1, "still paused");
    drop(client);
    drop(stream);
    common::wait_for("every connection to end", || gauges.connections() == 0).await;
    server.stop().await.unwrap();
}
