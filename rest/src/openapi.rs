//! The OpenAPI 3.1 document, generated from the handlers' annotations and the JSON
//! model, served at `/openapi.json`, with Swagger UI at `/docs` (assets vendored into
//! the binary: nothing is fetched at build or run time).

use axum::Router;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::Problem;
use crate::model;
use crate::routes::{bookings, events, health, performers, venues};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quartet REST API",
        description = "One ticketing domain: events, venues, performers, seat maps and \
            bookings. Every error is application/problem+json with a stable `code`.",
    ),
    paths(
        health::health,
        events::list, events::search, events::get, events::detail, events::seat_map,
        venues::get, performers::get,
        bookings::hold, bookings::get, bookings::confirm, bookings::cancel,
    ),
    components(schemas(
        Problem, model::Event, model::EventPage, model::SearchResults, model::SearchHit,
        model::EventDetail, model::Venue, model::Section, model::Row, model::Performer,
        model::SeatMap, model::Seat, model::SectionAvailability, model::Booking,
        model::Customer, model::HoldSeats, model::Category, model::EventStatus,
        model::SeatState, model::BookingStatus, model::Health,
    )),
    tags(
        (name = "events", description = "Browse and search events"),
        (name = "venues", description = "Venues and their seat layouts"),
        (name = "performers", description = "Performers"),
        (name = "bookings", description = "Hold, confirm and cancel seats"),
        (name = "health", description = "Liveness"),
    ),
)]
pub struct ApiDoc;

/// `/openapi.json` and the Swagger UI at `/docs`.
pub fn router() -> Router {
    SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .into()
}
