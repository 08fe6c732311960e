//! The `Ticketing` operations as values: what `quartet call` parses from its command line
//! and `quartet payloads` measures one by one, and running one against any client.

use domain::{
    Booking, BookingId, Category, Customer, Event, EventDetail, EventFilter, EventId, EventPage,
    HoldRequest, ListEventsRequest, Performer, PerformerId, SearchRequest, SearchResults, SeatId,
    SeatMap, Ticketing, Venue, VenueId,
};

/// One `Ticketing` operation with its arguments.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Operation {
    /// One event.
    GetEvent {
        /// Event id.
        id: u64,
    },
    /// A page of events.
    ListEvents {
        /// Page size.
        #[arg(long)]
        limit: Option<u32>,
        /// Cursor from a previous page.
        #[arg(long)]
        cursor: Option<String>,
        /// Category filter.
        #[arg(long)]
        category: Option<String>,
        /// City filter.
        #[arg(long)]
        city: Option<String>,
    },
    /// Full-text search.
    SearchEvents {
        /// Words to find.
        query: String,
        /// Number of hits.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// An event with venue, performers and availability.
    GetEventDetail {
        /// Event id.
        id: u64,
    },
    /// One venue.
    GetVenue {
        /// Venue id.
        id: u64,
    },
    /// One performer.
    GetPerformer {
        /// Performer id.
        id: u64,
    },
    /// Every seat of an event.
    GetSeatMap {
        /// Event id.
        id: u64,
    },
    /// Hold seats.
    HoldSeats {
        /// Event id.
        event: u64,
        /// Seat ids.
        #[arg(required = true)]
        seats: Vec<u32>,
        /// Customer name.
        #[arg(long, default_value = "Quartet Caller")]
        name: String,
        /// Customer e-mail.
        #[arg(long, default_value = "caller@example.org")]
        email: String,
        /// Idempotency key.
        #[arg(long)]
        key: Option<String>,
    },
    /// One booking.
    GetBooking {
        /// Booking id.
        id: u64,
    },
    /// Confirm a held booking.
    ConfirmBooking {
        /// Booking id.
        id: u64,
        /// The version the booking has now.
        version: u64,
    },
    /// Cancel a booking.
    CancelBooking {
        /// Booking id.
        id: u64,
    },
}

/// What an operation answered: the domain value, serialized as itself.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// get_event.
    Event(Event),
    /// list_events.
    Page(EventPage),
    /// search_events.
    Search(SearchResults),
    /// get_event_detail.
    Detail(EventDetail),
    /// get_venue.
    Venue(Venue),
    /// get_performer.
    Performer(Performer),
    /// get_seat_map.
    SeatMap(SeatMap),
    /// hold_seats, get_booking, confirm_booking, cancel_booking.
    Booking(Booking),
}

impl Operation {
    /// The `Ticketing` method's name (get_event, list_events, ...).
    pub const fn name(&self) -> &'static str {
        match self {
            Operation::GetEvent { .. } => "get_event",
            Operation::ListEvents { .. } => "list_events",
            Operation::SearchEvents { .. } => "search_events",
            Operation::GetEventDetail { .. } => "get_event_detail",
            Operation::GetVenue { .. } => "get_venue",
            Operation::GetPerformer { .. } => "get_performer",
            Operation::GetSeatMap { .. } => "get_seat_map",
            Operation::HoldSeats { .. } => "hold_seats",
            Operation::GetBooking { .. } => "get_booking",
            Operation::ConfirmBooking { .. } => "confirm_booking",
            Operation::CancelBooking { .. } => "cancel_booking",
        }
    }

    /// Runs the operation through `api`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a category that does not exist; otherwise whatever `api`
    /// answers.
    pub async fn run(self, api: &dyn Ticketing) -> domain::Result<Answer> {
        Ok(match self {
            Operation::GetEvent { id } => Answer::Event(api.get_event(EventId(id)).await?),
            Operation::ListEvents {
                limit,
                cursor,
                category,
                city,
            } => {
                let category = category.map(|c| c.parse::<Category>()).transpose()?;
                let request = ListEventsRequest {
                    filter: EventFilter {
                        category,
                        city,
                        ..Default::default()
                    },
                    cursor,
                    limit,
                };
                Answer::Page(api.list_events(request).await?)
            }
            Operation::SearchEvents { query, limit } => Answer::Search(
                api.search_events(SearchRequest {
                    query,
                    filter: EventFilter::default(),
                    limit,
                })
                .await?,
            ),
            Operation::GetEventDetail { id } => {
                Answer::Detail(api.get_event_detail(EventId(id)).await?)
            }
            Operation::GetVenue { id } => Answer::Venue(api.get_venue(VenueId(id)).await?),
            Operation::GetPerformer { id } => {
                Answer::Performer(api.get_performer(PerformerId(id)).await?)
            }
            Operation::GetSeatMap { id } => Answer::SeatMap(api.get_seat_map(EventId(id)).await?),
            Operation::HoldSeats {
                event,
                seats,
                name,
                email,
                key,
            } => Answer::Booking(
                api.hold_seats(HoldRequest {
                    event_id: EventId(event),
                    seat_ids: seats.into_iter().map(SeatId).collect(),
                    customer: Customer { name, email },
                    idempotency_key: key,
                })
                .await?,
            ),
            Operation::GetBooking { id } => Answer::Booking(api.get_booking(BookingId(id)).await?),
            Operation::ConfirmBooking { id, version } => {
                Answer::Booking(api.confirm_booking(BookingId(id), version).await?)
            }
            Operation::CancelBooking { id } => {
                Answer::Booking(api.cancel_booking(BookingId(id)).await?)
            }
        })
    }
}
