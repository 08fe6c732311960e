//! gRPC end to end through tonic: the first input byte picks one of the 11 Ticketing
//! methods, the second byte's low bit whether the call says `grpc-encoding: gzip`, and
//! the rest is the request body as it arrives on an HTTP/2 stream (gRPC's 5-byte
//! length-prefixed messages). It is served by `grpc::service` (with the server's
//! message-size limits and decompression) over a fresh in-memory service. Asserts: no
//! panic; the answer body is readable and at most 16 MiB; every call ends with a
//! `grpc-status` that is a known code and never UNKNOWN.
#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use grpc::TicketingService;
use grpc::pb::ticketing_server::TicketingServer;
use http::Request;
use http_body_util::{BodyExt, Full, Limited};
use libfuzzer_sys::fuzz_target;
use quartet_fuzz::fixture::Resettable;
use quartet_fuzz::http_input::MAX_ANSWER_BYTES;
use quartet_fuzz::runtime;
use tower::ServiceExt;

const METHODS: [&str; 11] = [
    "GetEvent",
    "ListEvents",
    "SearchEvents",
    "GetEventDetail",
    "GetVenue",
    "GetPerformer",
    "GetSeatMap",
    "HoldSeats",
    "GetBooking",
    "ConfirmBooking",
    "CancelBooking",
];

fn setup() -> &'static (Arc<Resettable>, TicketingServer<TicketingService>) {
    static SETUP: OnceLock<(Arc<Resettable>, TicketingServer<TicketingService>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let api = Arc::new(Resettable::default());
        let server = grpc::service(api.clone(), &grpc::Config::default());
        (api, server)
    })
}

/// Calls `method` with `body` and returns the final `grpc-status`, if any.
async fn call(method: &str, gzip: bool, body: Bytes) -> Option<i32> {
    let (_, server) = setup();
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("/quartet.v1.Ticketing/{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if gzip {
        request = request.header("grpc-encoding", "gzip");
    }
    let request = request.body(Full::new(body)).expect("fixed parts build");
    let response = match server.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let collected = match Limited::new(body, MAX_ANSWER_BYTES).collect().await {
        Ok(collected) => collected,
        Err(e) => panic!("answer body unreadable or over {MAX_ANSWER_BYTES} bytes: {e}"),
    };
    // A trailers-only answer carries the status in its headers.
    let status = collected
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .or_else(|| parts.headers.get("grpc-status"))?;
    status.to_str().ok()?.parse().ok()
}

fuzz_target!(|data: &[u8]| {
    let [which, flags, body @ ..] = data else {
        return;
    };
    let method = METHODS[usize::from(*which) % METHODS.len()];
    let (api, _) = setup();
    api.reset();
    let status = runtime::block_on(call(method, flags & 1 == 1, Bytes::copy_from_slice(body)));
    let Some(status) = status else {
        panic!("{method} ended without a grpc-status");
    };
    assert!((0..=16).contains(&status), "{method}: grpc-status {status}");
    assert_ne!(status, 2, "{method}: UNKNOWN, an error nothing mapped");
});
