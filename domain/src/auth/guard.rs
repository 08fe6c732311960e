//! The booking policy: [`AsCaller`] applies it for one known caller, [`Guarded`] is the
//! `Ticketing` a server serves, judging each call by the current request's credentials
//! (see [`super::scope`]).
//!
//! The rules: catalogue reads and live availability are public. Holding seats needs a
//! token with the `book` scope whose customer is the hold's customer. A booking belongs
//! to the customer who held it: only that customer reads it, and confirms or cancels it
//! (those two also need `book`); to anyone else it answers exactly what a booking that
//! does not exist answers (NOT_FOUND, same message and details), so ids cannot be probed.
//! Without a token, booking operations are UNAUTHENTICATED; a server without a key
//! ([`Caller::Open`]) allows everything.
//!
//! What is not here: reading credentials (the transports) and verifying tokens
//! ([`super::token`]).

use std::sync::Arc;

use async_trait::async_trait;

use super::{Caller, Gate, SCOPE_BOOK, current};
use crate::error::{Error, Result};
use crate::model::{
    AvailabilityStream, Booking, BookingId, Event, EventDetail, EventId, EventPage, HoldRequest,
    ListEventsRequest, Performer, PerformerId, SearchRequest, SearchResults, SeatMap, Venue,
    VenueId,
};
use crate::ticketing::{SharedTicketing, Ticketing};

/// `inner` as seen by one caller.
pub struct AsCaller<'a> {
    inner: &'a dyn Ticketing,
    caller: &'a Caller,
}

impl<'a> AsCaller<'a> {
    /// The view of `inner` that `caller` gets.
    pub fn new(inner: &'a dyn Ticketing, caller: &'a Caller) -> Self {
        AsCaller { inner, caller }
    }

    /// The customer e-mail booking operations act for (`None`: open, anyone's).
    fn booker(&self, needs_book: bool) -> Result<Option<&'a str>> {
        match self.caller {
            Caller::Open => Ok(None),
            Caller::Anonymous => Err(Error::unauthenticated(super::NO_TOKEN)),
            Caller::Customer { email, .. } => {
                if needs_book && !self.caller.has_scope(SCOPE_BOOK) {
                    return Err(Error::permission_denied(format!(
                        "the token lacks the {SCOPE_BOOK} scope"
                    )));
                }
                Ok(Some(email))
            }
        }
    }

    /// The booking if `owner` (when set) holds it; otherwise the NOT_FOUND a missing
    /// booking gets, built the way the store builds it.
    async fn owned(&self, id: BookingId, owner: Option<&str>) -> Result<Option<Booking>> {
        let Some(owner) = owner else {
            return Ok(None);
        };
        let booking = self.inner.get_booking(id).await?;
        if booking.customer.email == owner {
            Ok(Some(booking))
        } else {
            Err(Error::not_found("booking", id))
        }
    }
}

#[async_trait]
impl Ticketing for AsCaller<'_> {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.inner.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.inner.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.inner.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.inner.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.inner.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.inner.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.inner.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        if let Some(email) = self.booker(true)?
            && request.customer.email != email
        {
            return Err(Error::permission_denied(
                "the token is for another customer than the hold's",
            ));
        }
        self.inner.hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        let owner = self.booker(false)?;
        match self.owned(id, owner).await? {
            Some(booking) => Ok(booking),
            None => self.inner.get_booking(id).await,
        }
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        // The owner never changes, so reading it first and then confirming is not a race.
        let owner = self.booker(true)?;
        self.owned(id, owner).await?;
        self.inner.confirm_booking(id, expected_version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        let owner = self.booker(true)?;
        self.owned(id, owner).await?;
        self.inner.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.inner.watch_availability(event_id, from_version).await
    }
}

/// The `Ticketing` a server with a [`Gate`] serves: every call is judged by the current
/// request's credentials ([`super::scope`]), authenticated and rate limited once per
/// request, then passed through [`AsCaller`].
pub struct Guarded {
    inner: SharedTicketing,
    gate: Gate,
}

impl Guarded {
    /// `inner` behind `gate`; `inner` itself when the gate does nothing, so an open
    /// server without limits pays nothing.
    pub fn wrap(inner: SharedTicketing, gate: Gate) -> SharedTicketing {
        if gate.is_open() {
            inner
        } else {
            Arc::new(Guarded { inner, gate })
        }
    }

    fn caller(&self) -> Result<Arc<Caller>> {
        current(&self.gate)
    }
}

#[async_trait]
impl Ticketing for Guarded {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.caller()?;
        self.inner.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.caller()?;
        self.inner.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.caller()?;
        self.inner.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.caller()?;
        self.inner.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.caller()?;
        self.inner.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.caller()?;
        self.inner.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.caller()?;
        self.inner.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        let caller = self.caller()?;
        AsCaller::new(&*self.inner, &caller)
            .hold_seats(request)
            .await
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        let caller = self.caller()?;
        AsCaller::new(&*self.inner, &caller).get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let caller = self.caller()?;
        AsCaller::new(&*self.inner, &caller)
            .confirm_booking(id, expected_version)
            .await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        let caller = self.caller()?;
        AsCaller::new(&*self.inner, &caller)
            .cancel_booking(id)
            .await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.caller()?;
        self.inner.watch_availability(event_id, from_version).await
    }
}
