//! `/v1/bookings`: hold seats, read a booking, confirm it (optimistically, with
//! `If-Match`), cancel it. Every booking response carries the booking's version as a
//! strong ETag.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{BookingId, SharedTicketing, Ticketing};

use super::ApiResult;
use crate::error::Problem;
use crate::extract::{Id, JsonBody, etag, idempotency_key, if_match};
use crate::model::{Booking, HoldSeats};

/// A booking with its `ETag` (and, when just created, `Location` and 201).
fn booking_response(status: StatusCode, booking: domain::Booking) -> Response {
    let tag = etag(booking.version);
    let location = format!("/v1/bookings/{}", booking.id);
    let mut response = (status, Json(Booking::from(booking))).into_response();
    let headers = response.headers_mut();
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, tag);
    }
    if status == StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&location)
    {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// Holds 1 to 8 seats of one event, all or nothing, for 10 minutes.
///
/// Send an `Idempotency-Key` to make retries safe: a retried hold with the same key (and
/// the same body) returns the first booking instead of holding more seats.
///
/// # Errors
/// 400 for a bad body or too many seats, 404 for an unknown event, 409 if a seat is
/// taken or the event is not on sale, 413 for a body over 1 MiB, 415 for a non-JSON body.
#[utoipa::path(post, path = "/v1/bookings", tag = "bookings",
    request_body = HoldSeats,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried hold return the first booking; 1 to 64 printable ASCII characters")),
    responses(
        (status = 201, description = "Seats held", body = Booking,
            headers(("Location" = String, description = "The booking's URL"), ("ETag" = String, description = "The booking's version"))),
        (status = 400, description = "Bad body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Seats taken or event not on sale", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn hold(
    State(api): State<SharedTicketing>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<HoldSeats>,
) -> ApiResult<Response> {
    let request = body.into_request(idempotency_key(&headers)?);
    let booking = api.hold_seats(request).await?;
    Ok(booking_response(StatusCode::CREATED, booking))
}

/// One booking, with its version as the `ETag`.
///
/// # Errors
/// 404 for an unknown booking, 400 for a non-numeric id.
#[utoipa::path(get, path = "/v1/bookings/{id}", tag = "bookings",
    params(("id" = u64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "The booking", body = Booking,
            headers(("ETag" = String, description = "The booking's version"))),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Response> {
    let booking = api.get_booking(BookingId(id)).await?;
    Ok(booking_response(StatusCode::OK, booking))
}

/// Confirms a held booking. `If-Match` must carry the booking's current ETag.
///
/// # Errors
/// 428 without `If-Match`, 412 if it is stale (nothing changes), 409 if the booking is
/// not held, 404 for an unknown booking.
#[utoipa::path(post, path = "/v1/bookings/{id}/confirm", tag = "bookings",
    params(
        ("id" = u64, Path, description = "Booking id"),
        ("If-Match" = String, Header, description = "The booking's current ETag, e.g. \"1\""),
    ),
    responses(
        (status = 200, description = "Confirmed", body = Booking,
            headers(("ETag" = String, description = "The booking's new version"))),
        (status = 400, description = "Bad id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not held (confirmed, cancelled or expired)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    State(api): State<SharedTicketing>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let booking = api.confirm_booking(BookingId(id), expected).await?;
    Ok(booking_response(StatusCode::OK, booking))
}

/// Cancels a held or confirmed booking and releases its seats.
///
/// # Errors
/// 409 if it is already cancelled or expired, 404 for an unknown booking.
#[utoipa::path(post, path = "/v1/bookings/{id}/cancel", tag = "bookings",
    params(("id" = u64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "Cancelled", body = Booking,
            headers(("ETag" = String, description = "The booking's new version"))),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled or expired", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Response> {
    let booking = api.cancel_booking(BookingId(id)).await?;
    Ok(booking_response(StatusCode::OK, booking))
}
