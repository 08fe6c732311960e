//! The test vectors of PROTOCOL.md, checked byte for byte against the real server: the
//! document is parsed, so it cannot drift from the code.

// A failure in a helper is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use domain::{DatasetSpec, Limits, Service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PROTOCOL: &str = include_str!("../PROTOCOL.md");

/// The bytes of the ```` ```hex NAME ```` block in PROTOCOL.md (`#` starts a comment).
fn vector(name: &str) -> Vec<u8> {
    let fence = format!("```hex {name}\n");
    let start = PROTOCOL
        .find(&fence)
        .unwrap_or_else(|| panic!("PROTOCOL.md has no vector {name:?}"))
        + fence.len();
    let end = start + PROTOCOL[start..].find("```").unwrap();
    let hex: String = PROTOCOL[start..end]
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .collect::<String>()
        .split_whitespace()
        .collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf
}

#[test]
fn hello_vectors_match_the_code() {
    assert_eq!(vector("client-hello"), wire::handshake::client_hello());
    let wire::handshake::Negotiated::Agreed { reply, .. } =
        wire::handshake::negotiate(&wire::handshake::client_hello())
    else {
        panic!("our own hello was refused");
    };
    assert_eq!(vector("server-hello"), reply);
}

/// The documented request sent to a server on the documented dataset gets the
/// documented response, byte for byte; likewise the error vector.
#[tokio::test]
async fn frame_vectors_match_the_server() {
    let api = Arc::new(Service::generate(
        DatasetSpec {
            events: 10,
            seed: 42,
        },
        Limits::default(),
    ));
    let server = netkit::running::RunningServer::spawn(|listener, stop| {
        wire::serve(listener, api, wire::Config::default(), stop)
    })
    .await
    .unwrap();
    let addr = server.addr;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&vector("client-hello")).await.unwrap();
    assert_eq!(read_exactly(&mut stream, 8).await, vector("server-hello"));

    for (request, response) in [
        ("get-event-request", "get-event-response"),
        ("get-event-missing-request", "error-frame"),
    ] {
        stream.write_all(&vector(request)).await.unwrap();
        let len =
            u32::from_be_bytes(read_exactly(&mut stream, 4).await.try_into().unwrap()) as usize;
        let mut got = (len as u32).to_be_bytes().to_vec();
        got.extend(read_exactly(&mut stream, len).await);
        assert_eq!(
            got,
            vector(response),
            "{response} differs; the server sent:\n{}",
            hex(&got)
        );
    }
    drop(stream);
    server.stop().await.unwrap();
}
