//! The query documents the client sends: one per operation, selecting exactly the fields
//! the domain type needs, with variables (never string interpolation). Tests check
//! each one validates against the schema (the subscription, by running it).

const EVENT_FIELDS: &str = "fragment EventFields on Event { id name description category venueId performerIds startsAt status tags minPriceCents maxPriceCents currency }";
const VENUE_FIELDS: &str = "fragment VenueFields on Venue { id name city country capacity sections { id name priceCents rows { label seats } } }";
const PERFORMER_FIELDS: &str = "fragment PerformerFields on Performer { id name genre bio }";
const BOOKING_FIELDS: &str = "fragment BookingFields on Booking { id eventId seatIds customer { name email } status totalCents currency createdAt expiresAt version }";

macro_rules! document {
    ($name:ident, $doc:literal $(, $fragment:ident)*) => {
        /// A query document (with the fragments it uses).
        pub fn $name() -> String {
            [$doc $(, $fragment)*].join(" ")
        }
    };
}

document!(
    get_event,
    "query GetEvent($id: ID!) { event(id: $id) { ...EventFields } }",
    EVENT_FIELDS
);
document!(
    list_events,
    "query ListEvents($first: Int, $after: String, $filter: EventFilter) { events(first: $first, after: $after, filter: $filter) { edges { node { ...EventFields } } pageInfo { hasNextPage endCursor } } }",
    EVENT_FIELDS
);
document!(
    search_events,
    "query SearchEvents($query: String!, $filter: EventFilter, $first: Int) { searchEvents(query: $query, filter: $filter, first: $first) { score event { ...EventFields } } }",
    EVENT_FIELDS
);
document!(
    get_event_detail,
    "query GetEventDetail($id: ID!) { event(id: $id) { ...EventFields venue { ...VenueFields } performers { ...PerformerFields } availability { sectionId name priceCents total available } } }",
    EVENT_FIELDS,
    VENUE_FIELDS,
    PERFORMER_FIELDS
);
document!(
    get_venue,
    "query GetVenue($id: ID!) { venue(id: $id) { ...VenueFields } }",
    VENUE_FIELDS
);
document!(
    get_performer,
    "query GetPerformer($id: ID!) { performer(id: $id) { ...PerformerFields } }",
    PERFORMER_FIELDS
);
document!(
    get_seat_map,
    "query GetSeatMap($id: ID!) { event(id: $id) { seatMap { eventId version seats { seatId sectionId row number priceCents state } } } }"
);
document!(
    hold_seats,
    "mutation HoldSeats($input: HoldSeatsInput!) { holdSeats(input: $input) { ...BookingFields } }",
    BOOKING_FIELDS
);
document!(
    get_booking,
    "query GetBooking($id: ID!) { booking(id: $id) { ...BookingFields } }",
    BOOKING_FIELDS
);
document!(
    confirm_booking,
    "mutation ConfirmBooking($id: ID!, $expectedVersion: Int!) { confirmBooking(id: $id, expectedVersion: $expectedVersion) { ...BookingFields } }",
    BOOKING_FIELDS
);
document!(
    cancel_booking,
    "mutation CancelBooking($id: ID!) { cancelBooking(id: $id) { ...BookingFields } }",
    BOOKING_FIELDS
);

document!(
    watch_availability,
    "subscription WatchAvailability($eventId: ID!, $fromVersion: Int) { availabilityChanged(eventId: $eventId, fromVersion: $fromVersion) { eventId kind version sections { sectionId available } seats { seatId state } committedAt } }"
);

/// Every query and mutation document (sent over HTTP), by operation name. The
/// subscription ([`watch_availability`]) goes over WebSocket instead.
pub fn all() -> Vec<(&'static str, String)> {
    vec![
        ("GetEvent", get_event()),
        ("ListEvents", list_events()),
        ("SearchEvents", search_events()),
        ("GetEventDetail", get_event_detail()),
        ("GetVenue", get_venue()),
        ("GetPerformer", get_performer()),
        ("GetSeatMap", get_seat_map()),
        ("HoldSeats", hold_seats()),
        ("GetBooking", get_booking()),
        ("ConfirmBooking", confirm_booking()),
        ("CancelBooking", cancel_booking()),
    ]
}
