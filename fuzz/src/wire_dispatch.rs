//! The wire server's dispatch, as the fuzz targets run it: opcode -> payload decoder ->
//! `Ticketing` call -> response message. `wire`'s own dispatch is private to its server
//! module, so this mirrors it with `wire`'s public pieces: the same decode rule
//! (postcard's `take_from_bytes`, trailing bytes refused), the same message types and
//! domain conversions. Every message this decodes is also checked to survive
//! encode -> decode unchanged, and every answer to survive it as the client reads it.

use std::fmt::Debug;

use domain::{BookingId, Error, EventId, PerformerId, Ticketing, VenueId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wire::frame::Opcode;
use wire::messages as m;

/// Decodes a whole payload as the server does: trailing bytes are an error.
///
/// # Errors
/// `INVALID_ARGUMENT` on field `payload` if it does not decode or bytes are left over.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
    let (message, rest) = postcard::take_from_bytes(payload)
        .map_err(|e| Error::invalid_argument("payload", format!("cannot decode: {e}")))?;
    if !rest.is_empty() {
        return Err(Error::invalid_argument(
            "payload",
            "bytes after the message",
        ));
    }
    Ok(message)
}

/// Encodes `message` and decodes it again, asserting nothing changed; returns the bytes.
///
/// # Panics
/// If encoding fails or the decoded message differs: each is a finding.
pub fn assert_round_trip<T>(message: &T) -> Vec<u8>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = postcard::to_allocvec(message).expect("every message encodes");
    let back: T = decode(&bytes).expect("an encoded message decodes");
    assert_eq!(&back, message, "decode(encode(x)) != x");
    bytes
}

/// Like [`assert_round_trip`] for messages holding an `f64` (a NaN is not equal to
/// itself): the re-encoded bytes must be the same.
///
/// # Panics
/// If encoding fails or the second encoding differs.
pub fn assert_bytes_round_trip<T: Serialize + DeserializeOwned>(message: &T) -> Vec<u8> {
    let bytes = postcard::to_allocvec(message).expect("every message encodes");
    let back: T = decode(&bytes).expect("an encoded message decodes");
    let again = postcard::to_allocvec(&back).expect("every message encodes");
    assert_eq!(again, bytes, "encode(decode(encode(x))) != encode(x)");
    bytes
}

fn request<T>(payload: &[u8]) -> Result<T, Error>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let message: T = decode(payload)?;
    assert_round_trip(&message);
    Ok(message)
}

fn answer<T>(message: &T) -> Vec<u8>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    assert_round_trip(message)
}

/// Runs one request payload for `opcode` against `api`, as the server would, and
/// returns the encoded answer or the error.
///
/// # Errors
/// Whatever the decoder or the service refuses.
pub async fn run(api: &dyn Ticketing, opcode: Opcode, p: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match opcode {
        Opcode::Ping => {
            if !p.is_empty() {
                return Err(Error::invalid_argument(
                    "payload",
                    "PING carries no payload",
                ));
            }
            Vec::new()
        }
        Opcode::GetEvent => {
            let r: m::EventIdRequest = request(p)?;
            answer(&m::Event::from(api.get_event(EventId(r.event_id)).await?))
        }
        Opcode::ListEvents => {
            let r: m::ListEventsRequest = request(p)?;
            let request = domain::ListEventsRequest {
                filter: r.filter.try_into()?,
                cursor: r.cursor,
                limit: r.limit,
            };
            answer(&m::EventPage::from(api.list_events(request).await?))
        }
        Opcode::SearchEvents => {
            let r: m::SearchEventsRequest = request(p)?;
            let request = domain::SearchRequest {
                query: r.query,
                filter: r.filter.try_into()?,
                limit: r.limit,
            };
            let results = m::SearchResults::from(api.search_events(request).await?);
            assert_bytes_round_trip(&results)
        }
        Opcode::GetEventDetail => {
            let r: m::EventIdRequest = request(p)?;
            let detail = api.get_event_detail(EventId(r.event_id)).await?;
            answer(&m::EventDetail::from(detail))
        }
        Opcode::GetVenue => {
            let r: m::IdRequest = request(p)?;
            answer(&m::Venue::from(api.get_venue(VenueId(r.id)).await?))
        }
        Opcode::GetPerformer => {
            let r: m::IdRequest = request(p)?;
            answer(&m::Performer::from(
                api.get_performer(PerformerId(r.id)).await?,
            ))
        }
        Opcode::GetSeatMap => {
            let r: m::EventIdRequest = request(p)?;
            answer(&m::SeatMap::from(
                api.get_seat_map(EventId(r.event_id)).await?,
            ))
        }
        Opcode::HoldSeats => {
            let r: m::HoldSeatsRequest = request(p)?;
            answer(&m::Booking::from(api.hold_seats(r.into()).await?))
        }
        Opcode::GetBooking => {
            let r: m::IdRequest = request(p)?;
            answer(&m::Booking::from(api.get_booking(BookingId(r.id)).await?))
        }
        Opcode::ConfirmBooking => {
            let r: m::ConfirmBookingRequest = request(p)?;
            let booking = api
                .confirm_booking(BookingId(r.booking_id), r.expected_version)
                .await?;
            answer(&m::Booking::from(booking))
        }
        Opcode::CancelBooking => {
            let r: m::IdRequest = request(p)?;
            answer(&m::Booking::from(
                api.cancel_booking(BookingId(r.id)).await?,
            ))
        }
        // The server's connection loop runs these (`server/subscriptions.rs`), not its
        // dispatch: a SUBSCRIBE is answered with an empty RESPONSE once the stream is
        // open, then PUSH frames; an UNSUBSCRIBE of nothing live answers `ended: false`.
        Opcode::Subscribe => {
            let r: m::SubscribeRequest = request(p)?;
            subscribe(api, &r).await?;
            Vec::new()
        }
        Opcode::Unsubscribe => {
            let _: m::UnsubscribeRequest = request(p)?;
            answer(&m::UnsubscribeResponse { ended: false })
        }
        // The connection loop keeps AUTH's token for the frames after it and answers
        // an empty RESPONSE; only the payload's decoding is judged here.
        Opcode::Auth => {
            let _: String = request(p)?;
            Vec::new()
        }
    })
}

/// Opens the subscription `r` asks for, as the server does, and checks the messages
/// that are ready at once (the snapshot or the backlog; the fixture's clock is stopped
/// and nothing else writes, so nothing more comes): each one's PUSH payload survives
/// encode -> decode and converts back to the same domain update, and the first one
/// is the one the request asked for (a snapshot from no version).
async fn subscribe(api: &dyn Ticketing, r: &m::SubscribeRequest) -> Result<(), Error> {
    use std::task::Poll;

    /// Messages read from one subscription: more than a backlog ever holds here.
    const MAX_MESSAGES: usize = 64;

    let mut stream = api
        .watch_availability(EventId(r.event_id), r.from_version)
        .await?;
    for index in 0..MAX_MESSAGES {
        // One poll, no waiting: only what the store had ready.
        let next = std::future::poll_fn(|cx| Poll::Ready(stream.as_mut().poll_next(cx))).await;
        let update = match next {
            Poll::Ready(Some(update)) => update?,
            Poll::Ready(None) | Poll::Pending => break,
        };
        assert_eq!(
            update.event_id,
            EventId(r.event_id),
            "a PUSH for another event"
        );
        if index == 0 && r.from_version.is_none() {
            assert_eq!(update.kind, domain::UpdateKind::Snapshot, "{update:?}");
        }
        let message = m::AvailabilityUpdate::from(&update);
        assert_round_trip(&message);
        let back = domain::AvailabilityUpdate::try_from(message)
            .expect("an update the server made converts back");
        assert_eq!(back, update, "a PUSH lost something");
    }
    Ok(())
}
