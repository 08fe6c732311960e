//! The byte counting, checked against an exchange whose size is known to the byte: the
//! wire protocol's 8-byte hellos and 12-byte PING frames. (Its own test binary: the
//! counters are per process.)

use std::sync::Arc;
use std::time::Duration;

use domain::{DatasetSpec, Limits, Service, SharedTicketing};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PINGS: u32 = 100;

#[tokio::test]
async fn socket_counters_match_an_exchange_of_known_size() {
    let api: SharedTicketing = Arc::new(Service::generate(
        DatasetSpec {
            events: 50,
            seed: 1,
        },
        Limits::default(),
    ));
    let server = netkit::running::RunningServer::spawn(|listener, stop| {
        wire::serve(listener, api, wire::Config::default(), stop)
    })
    .await
    .unwrap();
    let addr = server.addr;
    let before = netkit::connections::socket_totals();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&wire::handshake::client_hello())
        .await
        .unwrap();
    let mut hello = [0u8; 8];
    stream.read_exact(&mut hello).await.unwrap();
    for id in 1..=PINGS {
        let ping = wire::codec::encode_frame(
            wire::frame::Frame::request(wire::frame::Opcode::Ping, id, bytes::Bytes::new()),
            1 << 20,
        )
        .unwrap();
        assert_eq!(ping.len(), 12);
        stream.write_all(&ping).await.unwrap();
        let mut pong = [0u8; 12];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut pong))
            .await
            .unwrap()
            .unwrap();
    }
    let after = netkit::connections::socket_totals();
    let expected = u64::from(8 + 12 * PINGS);
    assert_eq!(after.0 - before.0, expected, "bytes the server read");
    assert_eq!(after.1 - before.1, expected, "bytes the server wrote");
    drop(stream);
    server.stop().await.unwrap();
}
