//! gRPC message decoding and the conversions to domain types (`grpc::convert`): the
//! first input byte picks one of the `quartet.v1` messages the server decodes (every
//! request) or the client decodes (every response), the rest is its protobuf
//! encoding. Asserts: no panic; a decoded message survives encode -> decode unchanged
//! (prost's decode(encode(x)) == x); the conversion to the domain either fails with
//! INVALID_ARGUMENT naming a field, or gives a value that converts to protobuf and back
//! to the same domain value.
#![no_main]

use std::fmt::Debug;

use grpc::convert;
use grpc::pb;
use libfuzzer_sys::fuzz_target;
use prost::Message;

/// Decodes `bytes` as `T`, asserting the round trip; `None` if it does not decode.
fn decode<T: Message + Default + PartialEq + Debug>(bytes: &[u8]) -> Option<T> {
    let message = T::decode(bytes).ok()?;
    let again = T::decode(message.encode_to_vec().as_slice()).expect("re-encoded decodes");
    assert_eq!(again, message, "decode(encode(x)) != x");
    Some(message)
}

/// Like [`decode`] for messages holding a `double` (NaN != NaN): compares the bytes of
/// the second encoding with the first.
fn decode_bytes<T: Message + Default>(bytes: &[u8]) -> Option<T> {
    let message = T::decode(bytes).ok()?;
    let encoded = message.encode_to_vec();
    let again = T::decode(encoded.as_slice()).expect("re-encoded decodes");
    assert_eq!(
        again.encode_to_vec(),
        encoded,
        "encode(decode(encode(x))) != encode(x)"
    );
    Some(message)
}

/// A failed conversion must be a typed INVALID_ARGUMENT naming a field.
fn refused(error: &domain::Error) {
    assert!(
        matches!(error, domain::Error::InvalidArgument { field, .. } if !field.is_empty()),
        "conversion failed with {error:?}"
    );
}

/// Domain -> protobuf -> domain is the identity after a successful conversion.
fn stable<D, P>(converted: Result<D, domain::Error>, back: impl Fn(P) -> Result<D, domain::Error>)
where
    D: Clone + PartialEq + Debug,
    P: From<D>,
{
    match converted {
        Ok(value) => {
            let again = back(P::from(value.clone())).expect("a converted value converts back");
            assert_eq!(
                again, value,
                "domain -> protobuf -> domain changed the value"
            );
        }
        Err(error) => refused(&error),
    }
}

fn filter(f: Option<pb::EventFilter>) {
    stable(convert::filter(f), |p: pb::EventFilter| {
        convert::filter(Some(p))
    });
}

fn event(e: Option<pb::Event>) {
    stable(convert::event(e), |p: pb::Event| convert::event(Some(p)));
}

fn booking(b: Option<pb::Booking>) {
    stable(convert::booking(b), |p: pb::Booking| {
        convert::booking(Some(p))
    });
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 22 {
        // Requests, as the server decodes them.
        0 => drop(decode::<pb::GetEventRequest>(bytes)),
        1 => {
            if let Some(r) = decode::<pb::ListEventsRequest>(bytes) {
                filter(r.filter);
            }
        }
        2 => {
            if let Some(r) = decode::<pb::SearchEventsRequest>(bytes) {
                filter(r.filter);
            }
        }
        3 => drop(decode::<pb::GetEventDetailRequest>(bytes)),
        4 => drop(decode::<pb::GetVenueRequest>(bytes)),
        5 => drop(decode::<pb::GetPerformerRequest>(bytes)),
        6 => drop(decode::<pb::GetSeatMapRequest>(bytes)),
        7 => {
            if let Some(r) = decode::<pb::HoldSeatsRequest>(bytes) {
                let converted = domain::HoldRequest::try_from(r);
                stable::<_, pb::HoldSeatsRequest>(converted, domain::HoldRequest::try_from);
            }
        }
        8 => drop(decode::<pb::GetBookingRequest>(bytes)),
        9 => drop(decode::<pb::ConfirmBookingRequest>(bytes)),
        10 => drop(decode::<pb::CancelBookingRequest>(bytes)),
        // Responses, as the client decodes them.
        11 => {
            if let Some(r) = decode::<pb::GetEventResponse>(bytes) {
                event(r.event);
            }
        }
        12 => {
            if let Some(r) = decode::<pb::ListEventsResponse>(bytes) {
                stable::<_, pb::ListEventsResponse>(
                    domain::EventPage::try_from(r),
                    domain::EventPage::try_from,
                );
            }
        }
        13 => {
            if let Some(r) = decode_bytes::<pb::SearchEventsResponse>(bytes)
                && let Err(error) = domain::SearchResults::try_from(r)
            {
                refused(&error);
            }
        }
        14 => {
            if let Some(r) = decode::<pb::GetEventDetailResponse>(bytes) {
                stable::<_, pb::GetEventDetailResponse>(
                    domain::EventDetail::try_from(r),
                    domain::EventDetail::try_from,
                );
            }
        }
        15 => {
            if let Some(r) = decode::<pb::GetVenueResponse>(bytes)
                && let Some(venue) = r.venue
            {
                let domain = domain::Venue::from(venue);
                assert_eq!(domain::Venue::from(pb::Venue::from(domain.clone())), domain);
            }
        }
        16 => {
            if let Some(r) = decode::<pb::GetPerformerResponse>(bytes)
                && let Some(p) = r.performer
            {
                let domain = domain::Performer::from(p);
                let again = domain::Performer::from(pb::Performer::from(domain.clone()));
                assert_eq!(again, domain);
            }
        }
        17 => {
            if let Some(r) = decode::<pb::GetSeatMapResponse>(bytes) {
                stable::<_, pb::GetSeatMapResponse>(
                    domain::SeatMap::try_from(r),
                    domain::SeatMap::try_from,
                );
            }
        }
        18 => {
            if let Some(r) = decode::<pb::HoldSeatsResponse>(bytes) {
                booking(r.booking);
            }
        }
        19 => {
            if let Some(r) = decode::<pb::GetBookingResponse>(bytes) {
                booking(r.booking);
            }
        }
        20 => {
            if let Some(r) = decode::<pb::ConfirmBookingResponse>(bytes) {
                booking(r.booking);
            }
        }
        _ => {
            if let Some(r) = decode::<pb::CancelBookingResponse>(bytes) {
                booking(r.booking);
            }
        }
    }
});
