//! One request frame in, one response or error frame out: decode the payload for the
//! opcode, call the API (any `Ticketing`), encode the answer. The only place opcodes
//! meet `Ticketing`, except SUBSCRIBE and UNSUBSCRIBE, whose answers are not one frame
//! and which the read loop hands to `subscriptions.rs` instead.

use bytes::Bytes;
use domain::{BookingId, Error, EventId, PerformerId, Ticketing, VenueId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::to_payload;
use crate::frame::{Frame, HEADER_LEN, Kind, Opcode};
use crate::messages as m;

/// Answers one request frame. Never fails: every problem becomes an error frame with
/// the request's id, and the connection stays open.
pub(super) async fn answer(api: &dyn Ticketing, request: Frame, max_frame: usize) -> Frame {
    let id = request.request_id;
    let opcode = request.opcode;
    match run(api, &request).await {
        Ok(payload) if payload.len() + HEADER_LEN > max_frame => {
            let error = Error::limit_exceeded("response size", max_frame as u64);
            error_frame(opcode, id, &error)
        }
        Ok(payload) => Frame {
            kind: Kind::Response,
            opcode,
            request_id: id,
            payload,
        },
        Err(error) => error_frame(opcode, id, &error),
    }
}

/// An error frame for `error`.
pub(super) fn error_frame(opcode: u16, request_id: u32, error: &Error) -> Frame {
    let payload = postcard::to_allocvec(&to_payload(error)).unwrap_or_default();
    Frame {
        kind: Kind::Error,
        opcode,
        request_id,
        payload: payload.into(),
    }
}

/// Decodes a whole payload; trailing bytes are an error, not something to ignore.
pub(super) fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
    let (message, rest) = postcard::take_from_bytes(payload).map_err(|e| {
        Error::invalid_argument("payload", format!("cannot decode the request: {e}"))
    })?;
    if !rest.is_empty() {
        return Err(Error::invalid_argument(
            "payload",
            format!("{} bytes after the end of the message", rest.len()),
        ));
    }
    Ok(message)
}

pub(super) fn encode<T: Serialize>(message: &T) -> Result<Bytes, Error> {
    postcard::to_allocvec(message)
        .map(Bytes::from)
        .map_err(|e| Error::internal(format!("cannot encode a response: {e}")))
}

async fn run(api: &dyn Ticketing, request: &Frame) -> Result<Bytes, Error> {
    if request.kind != Kind::Request {
        return Err(Error::invalid_argument(
            "kind",
            format!("a client may only send requests, got {:?}", request.kind),
        ));
    }
    let Some(opcode) = Opcode::from_u16(request.opcode) else {
        return Err(Error::invalid_argument(
            "opcode",
            format!("unknown opcode {:#06x}", request.opcode),
        ));
    };
    let p = &request.payload;
    match opcode {
        Opcode::Ping => {
            if !p.is_empty() {
                return Err(Error::invalid_argument(
                    "payload",
                    "PING carries no payload",
                ));
            }
            Ok(Bytes::new())
        }
        Opcode::GetEvent => {
            let r: m::EventIdRequest = decode(p)?;
            encode(&m::Event::from(api.get_event(EventId(r.event_id)).await?))
        }
        Opcode::ListEvents => {
            let r: m::ListEventsRequest = decode(p)?;
            let request = domain::ListEventsRequest {
                filter: r.filter.try_into()?,
                cursor: r.cursor,
                limit: r.limit,
            };
            encode(&m::EventPage::from(api.list_events(request).await?))
        }
        Opcode::SearchEvents => {
            let r: m::SearchEventsRequest = decode(p)?;
            let request = domain::SearchRequest {
                query: r.query,
                filter: r.filter.try_into()?,
                limit: r.limit,
            };
            encode(&m::SearchResults::from(api.search_events(request).await?))
        }
        Opcode::GetEventDetail => {
            let r: m::EventIdRequest = decode(p)?;
            encode(&m::EventDetail::from(
                api.get_event_detail(EventId(r.event_id)).await?,
            ))
        }
        Opcode::GetVenue => {
            let r: m::IdRequest = decode(p)?;
            encode(&m::Venue::from(api.get_venue(VenueId(r.id)).await?))
        }
        Opcode::GetPerformer => {
            let r: m::IdRequest = decode(p)?;
            encode(&m::Performer::from(
                api.get_performer(PerformerId(r.id)).await?,
            ))
        }
        Opcode::GetSeatMap => {
            let r: m::EventIdRequest = decode(p)?;
            encode(&m::SeatMap::from(
                api.get_seat_map(EventId(r.event_id)).await?,
            ))
        }
        Opcode::HoldSeats => {
            let r: m::HoldSeatsRequest = decode(p)?;
            encode(&m::Booking::from(api.hold_seats(r.into()).await?))
        }
        Opcode::GetBooking => {
            let r: m::IdRequest = decode(p)?;
            encode(&m::Booking::from(api.get_booking(BookingId(r.id)).await?))
        }
        Opcode::ConfirmBooking => {
            let r: m::ConfirmBookingRequest = decode(p)?;
            let booking = api
                .confirm_booking(BookingId(r.booking_id), r.expected_version)
                .await?;
            encode(&m::Booking::from(booking))
        }
        Opcode::CancelBooking => {
            let r: m::IdRequest = decode(p)?;
            encode(&m::Booking::from(
                api.cancel_booking(BookingId(r.id)).await?,
            ))
        }
        // The read loop never sends these here; answering rather than panicking keeps a
        // future mistake a typed error.
        Opcode::Subscribe | Opcode::Unsubscribe | Opcode::Auth => Err(Error::internal(
            "SUBSCRIBE, UNSUBSCRIBE and AUTH are handled by the connection",
        )),
    }
}
