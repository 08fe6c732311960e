//! The wire server's side of every message: input is what a client sends after the
//! hello (PROTOCOL.md §2 to §4), a stream of frames. Each frame is decoded by
//! `WireCodec` (1 MiB maximum) and answered as the server's dispatch does
//! (`quartet_fuzz::wire_dispatch`): the opcode's request decoder, then a fresh
//! in-memory service. Asserts: no panic; every decoded request and every answer
//! survive encode -> decode unchanged; every refusal is a typed error that is never
//! INTERNAL and survives the error frame's payload round trip. SUBSCRIBE opens the
//! subscription on the service and checks every PUSH it has ready (snapshot first,
//! each update surviving the PUSH payload and domain round trips); UNSUBSCRIBE is
//! decoded and answered as the server does.
#![no_main]

use std::sync::OnceLock;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use quartet_fuzz::fixture::Resettable;
use quartet_fuzz::{runtime, wire_dispatch};
use tokio_util::codec::Decoder;
use wire::codec::WireCodec;
use wire::error::{from_payload, to_payload};
use wire::frame::{Kind, Opcode};
use wire::messages::ErrorPayload;

/// Frames one input may carry: enough for a hold then its confirmation and more.
const MAX_FRAMES: usize = 16;

fn api() -> &'static Resettable {
    static API: OnceLock<Resettable> = OnceLock::new();
    API.get_or_init(Resettable::default)
}

fuzz_target!(|data: &[u8]| {
    let mut codec = WireCodec::new(1 << 20);
    let mut buf = BytesMut::from(data);
    let api = api();
    api.reset();
    for _ in 0..MAX_FRAMES {
        let Ok(Some(frame)) = codec.decode(&mut buf) else {
            return;
        };
        let Some(opcode) = Opcode::from_u16(frame.opcode) else {
            continue;
        };
        if frame.kind != Kind::Request {
            continue;
        }
        match runtime::block_on(wire_dispatch::run(api, opcode, &frame.payload)) {
            Ok(_) => {}
            Err(error) => {
                assert_ne!(error.code(), domain::ErrorCode::Internal, "{error:?}");
                let payload = to_payload(&error);
                let bytes = wire_dispatch::assert_round_trip(&payload);
                let back: ErrorPayload = wire_dispatch::decode(&bytes).expect("decodes");
                assert_eq!(to_payload(&from_payload(back)), payload);
            }
        }
    }
});
