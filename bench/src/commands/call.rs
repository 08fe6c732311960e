//! `quartet call PROTOCOL OPERATION [ARGS]`: one call through that protocol's client,
//! the answer (or the domain error) printed as JSON. The handy way to poke any server,
//! the binary wire protocol included: `quartet call wire get-event 42`.

use std::net::SocketAddr;

use domain::{
    BookingId, Category, Customer, EventFilter, EventId, HoldRequest, ListEventsRequest,
    PerformerId, SearchRequest, SeatId, VenueId,
};

use crate::protocol::{self, Protocol};

/// Flags of `quartet call`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which client: rest, graphql, grpc or wire.
    pub protocol: Protocol,
    /// Server address [default: the protocol's default port on 127.0.0.1].
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// The operation.
    #[command(subcommand)]
    pub operation: Operation,
}

/// The `Ticketing` operations.
#[derive(Debug, clap::Subcommand)]
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

fn json<T: serde::Serialize>(value: domain::Result<T>) -> Result<String, String> {
    match value {
        Ok(v) => serde_json::to_string_pretty(&v).map_err(|e| e.to_string()),
        Err(e) => Err(serde_json::to_string_pretty(&e).unwrap_or_else(|_| e.to_string())),
    }
}

/// Makes the call and prints the answer; a domain error is printed as JSON and fails.
///
/// # Errors
/// If the server cannot be reached or answers with an error.
pub async fn run(args: Args) -> Result<(), String> {
    let addr = args
        .addr
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], args.protocol.default_port())));
    let api = protocol::connect(args.protocol, addr)
        .await
        .map_err(|e| e.to_string())?
        .api;
    let answer = match args.operation {
        Operation::GetEvent { id } => json(api.get_event(EventId(id)).await),
        Operation::ListEvents {
            limit,
            cursor,
            category,
            city,
        } => {
            let category = category
                .map(|c| c.parse::<Category>())
                .transpose()
                .map_err(|e| e.to_string())?;
            let request = ListEventsRequest {
                filter: EventFilter {
                    category,
                    city,
                    ..Default::default()
                },
                cursor,
                limit,
            };
            json(api.list_events(request).await)
        }
        Operation::SearchEvents { query, limit } => json(
            api.search_events(SearchRequest {
                query,
                filter: EventFilter::default(),
                limit,
            })
            .await,
        ),
        Operation::GetEventDetail { id } => json(api.get_event_detail(EventId(id)).await),
        Operation::GetVenue { id } => json(api.get_venue(VenueId(id)).await),
        Operation::GetPerformer { id } => json(api.get_performer(PerformerId(id)).await),
        Operation::GetSeatMap { id } => json(api.get_seat_map(EventId(id)).await),
        Operation::HoldSeats {
            event,
            seats,
            name,
            email,
            key,
        } => {
            let request = HoldRequest {
                event_id: EventId(event),
                seat_ids: seats.into_iter().map(SeatId).collect(),
                customer: Customer { name, email },
                idempotency_key: key,
            };
            json(api.hold_seats(request).await)
        }
        Operation::GetBooking { id } => json(api.get_booking(BookingId(id)).await),
        Operation::ConfirmBooking { id, version } => {
            json(api.confirm_booking(BookingId(id), version).await)
        }
        Operation::CancelBooking { id } => json(api.cancel_booking(BookingId(id)).await),
    }?;
    println!("{answer}");
    Ok(())
}
