//! The wire client's side of every message: input is what a server sends after its
//! hello, a stream of frames. Each RESPONSE frame's payload is decoded as the answer
//! its opcode names, each ERROR frame's as an `ErrorPayload`, the way `wire::Client`
//! reads them (postcard's `from_bytes`). Asserts: no panic; every decoded message
//! survives encode -> decode unchanged; a message that converts to its domain type
//! converts back to the same message; an error payload becomes a domain error whose
//! payload reads back as that error; each PUSH of a subscription is read as an
//! availability update with the same checks, and UNSUBSCRIBE's answer as its response.
#![no_main]

use std::fmt::Debug;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use quartet_fuzz::wire_dispatch::{assert_bytes_round_trip, assert_round_trip};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::codec::Decoder;
use wire::codec::WireCodec;
use wire::error::{from_payload, to_payload};
use wire::frame::{Kind, Opcode};
use wire::messages as m;

/// Frames one input may carry.
const MAX_FRAMES: usize = 16;

/// Decodes `payload` as `T`; if it decodes, checks the round trips and returns it.
fn read<T>(payload: &[u8]) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let message: T = postcard::from_bytes(payload).ok()?;
    assert_round_trip(&message);
    Some(message)
}

/// Reads `payload` as `W`; if it converts to its domain type `D`, converting back must
/// give the same message.
fn back_and_forth<W, D>(payload: &[u8])
where
    W: Serialize + DeserializeOwned + Clone + PartialEq + Debug + From<D> + TryInto<D>,
{
    let Some(message) = read::<W>(payload) else {
        return;
    };
    if let Ok(domain) = message.clone().try_into() {
        assert_eq!(W::from(domain), message, "domain conversion lost something");
    }
}

fn response(opcode: Opcode, payload: &[u8]) {
    match opcode {
        Opcode::GetEvent => {
            back_and_forth::<m::Event, domain::Event>(payload);
        }
        Opcode::ListEvents => {
            back_and_forth::<m::EventPage, domain::EventPage>(payload);
        }
        Opcode::SearchEvents => {
            if let Ok(results) = postcard::from_bytes::<m::SearchResults>(payload) {
                assert_bytes_round_trip(&results);
                if let Ok(domain) = domain::SearchResults::try_from(results.clone()) {
                    assert_bytes_round_trip(&m::SearchResults::from(domain));
                }
            }
        }
        Opcode::GetEventDetail => {
            back_and_forth::<m::EventDetail, domain::EventDetail>(payload);
        }
        Opcode::GetVenue => {
            back_and_forth::<m::Venue, domain::Venue>(payload);
        }
        Opcode::GetPerformer => {
            back_and_forth::<m::Performer, domain::Performer>(payload);
        }
        Opcode::GetSeatMap => {
            back_and_forth::<m::SeatMap, domain::SeatMap>(payload);
        }
        Opcode::HoldSeats | Opcode::GetBooking | Opcode::ConfirmBooking | Opcode::CancelBooking => {
            back_and_forth::<m::Booking, domain::Booking>(payload);
        }
        Opcode::Unsubscribe => {
            read::<m::UnsubscribeResponse>(payload);
        }
        // PING and AUTH answer an empty payload, and SUBSCRIBE nothing: its data comes
        // as PUSH frames.
        Opcode::Ping | Opcode::Auth | Opcode::Subscribe => {}
    }
}

/// A PUSH payload, read as the client's subscription does: an availability update
/// that survives encode -> decode and, when it converts to the domain's update (its
/// time is in range), converts back to the same message.
fn push(payload: &[u8]) {
    let Some(message) = read::<m::AvailabilityUpdate>(payload) else {
        return;
    };
    if let Ok(domain) = domain::AvailabilityUpdate::try_from(message.clone()) {
        assert_eq!(
            m::AvailabilityUpdate::from(&domain),
            message,
            "a PUSH changed on the way through the domain"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    // The client reads answers up to the response maximum (16 MiB).
    let mut codec = WireCodec::new(16 << 20);
    let mut buf = BytesMut::from(data);
    for _ in 0..MAX_FRAMES {
        let Ok(Some(frame)) = codec.decode(&mut buf) else {
            return;
        };
        match frame.kind {
            Kind::Response => {
                if let Some(opcode) = Opcode::from_u16(frame.opcode) {
                    response(opcode, &frame.payload);
                }
            }
            Kind::Error => {
                if let Some(payload) = read::<m::ErrorPayload>(&frame.payload) {
                    let error = from_payload(payload);
                    // An INTERNAL error's message is never sent (a fixed sentence is),
                    // so only the others must come back as they were.
                    if error.code() != domain::ErrorCode::Internal {
                        let again = from_payload(to_payload(&error));
                        assert_eq!(
                            again, error,
                            "an error frame's error changed on the way back"
                        );
                    }
                }
            }
            // Only a subscription's frames are pushed (PROTOCOL.md §6.7).
            Kind::Push => {
                if frame.opcode == Opcode::Subscribe as u16 {
                    push(&frame.payload);
                }
            }
            Kind::Request => {}
        }
    }
});
