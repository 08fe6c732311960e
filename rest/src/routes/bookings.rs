//! `/v1/bookings`: hold seats, read a booking, confirm it (optimistically, with
//! `If-Match`), cancel it. Every booking response carries the booking's version as a
//! strong ETag, and the hold's 201 links to the operations that follow it (OpenAPI
//! links: the new booking's `id`, and its `ETag` as the confirm's `If-Match`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{BookingId, Error, SharedTicketing, Ticketing};

use super::ApiResult;
use crate::error::Problem;
use crate::extract::{Id, JsonBody, Precondition, etag, idempotency_key, if_match};
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
/// the same body) returns the first booking instead of holding more seats; the same key
/// with a different body gets 400 naming `idempotency_key`.
///
/// # Errors
/// 400 for a bad body, header or seat (too many, repeated, past the venue's capacity),
/// 404 for an unknown event, 409 if a seat is taken or the event is not on sale, 413 for
/// a body over 1 MiB, 415 for a non-JSON body.
#[utoipa::path(post, path = "/v1/bookings", tag = "bookings", operation_id = "holdSeats",
    request_body = HoldSeats,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes a retried hold return the first booking: 1 to 64 printable ASCII characters, no spaces. Keys are remembered per event.",
        min_length = 1, max_length = 64, pattern = r"^[!-~]{1,64}$", example = "order-42")),
    responses(
        (status = 201, description = "Seats held", body = Booking,
            headers(("Location" = String, description = "The booking's URL"), ("ETag" = String, description = "The booking's version, a strong ETag such as \"1\"")),
            links(
                ("getBooking" = (operation_id = "getBooking",
                    parameters(("id" = "$response.body#/id")),
                    description = "Read the booking just made")),
                ("confirmBooking" = (operation_id = "confirmBooking",
                    parameters(("id" = "$response.body#/id"), ("If-Match" = "$response.header.ETag")),
                    description = "Confirm it, with its ETag as If-Match")),
                ("cancelBooking" = (operation_id = "cancelBooking",
                    parameters(("id" = "$response.body#/id")),
                    description = "Cancel it and release the seats")),
            )),
        (status = 400, description = "Bad body, Idempotency-Key or seat", body = Problem, content_type = "application/problem+json"),
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
#[utoipa::path(get, path = "/v1/bookings/{id}", tag = "bookings", operation_id = "getBooking",
    params(("id" = u64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "The booking", body = Booking,
            headers(("ETag" = String, description = "The booking's version")),
            links(
                ("confirmBooking" = (operation_id = "confirmBooking",
                    parameters(("id" = "$response.body#/id"), ("If-Match" = "$response.header.ETag")),
                    description = "Confirm it, with its ETag as If-Match")),
                ("cancelBooking" = (operation_id = "cancelBooking",
                    parameters(("id" = "$response.body#/id")),
                    description = "Cancel it")),
            )),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Response> {
    let booking = api.get_booking(BookingId(id)).await?;
    Ok(booking_response(StatusCode::OK, booking))
}

/// Confirms a held booking. `If-Match` must carry the booking's current ETag, or `*`.
///
/// `If-Match: "<version>"` confirms only if that is still the booking's version (a
/// stale one gets 412 and nothing changes). `If-Match: *` matches any current version
/// (RFC 9110, section 13.1.1): the booking is confirmed at whatever version it has now.
/// Without `If-Match` the answer is 428 (RFC 6585), so a client cannot confirm blindly
/// by forgetting the header.
///
/// # Errors
/// 428 without `If-Match`, 400 for a malformed one or a bad id, 412 if it is stale
/// (nothing changes), 409 if the booking is not held, 404 for an unknown booking.
#[utoipa::path(post, path = "/v1/bookings/{id}/confirm", tag = "bookings", operation_id = "confirmBooking",
    params(
        ("id" = u64, Path, description = "Booking id"),
        ("If-Match" = String, Header,
            description = "The booking's current ETag, e.g. \"1\" (a strong ETag: a version in canonical decimal in double quotes), or * to confirm whatever the current version is",
            pattern = r#"^(\*|"(0|[1-9][0-9]{0,18})")$"#, example = "\"1\""),
    ),
    responses(
        (status = 200, description = "Confirmed", body = Booking,
            headers(("ETag" = String, description = "The booking's new version")),
            links(
                ("getBooking" = (operation_id = "getBooking",
                    parameters(("id" = "$response.body#/id")),
                    description = "Read the confirmed booking")),
                ("cancelBooking" = (operation_id = "cancelBooking",
                    parameters(("id" = "$response.body#/id")),
                    description = "Cancel it and release the seats")),
            )),
        (status = 400, description = "Bad id or malformed If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not held (confirmed, cancelled or expired)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale version: If-Match names another version; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    State(api): State<SharedTicketing>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let booking = match if_match(&headers)? {
        Precondition::Version(expected) => api.confirm_booking(BookingId(id), expected).await?,
        Precondition::Any => confirm_current(&api, BookingId(id)).await?,
    };
    Ok(booking_response(StatusCode::OK, booking))
}

/// How often `If-Match: *` re-reads a version that changed under it before giving up.
const ANY_VERSION_ATTEMPTS: usize = 3;

/// Confirms `id` at its current version. A booking only changes version by leaving the
/// held state, so a version that moved between the read and the confirm makes the next
/// attempt answer 409; the bound only guards implementations that move it otherwise.
async fn confirm_current(api: &SharedTicketing, id: BookingId) -> Result<domain::Booking, Error> {
    let mut version = api.get_booking(id).await?.version;
    let mut attempts = 1;
    loop {
        match api.confirm_booking(id, version).await {
            Err(Error::VersionMismatch { actual, .. }) if attempts < ANY_VERSION_ATTEMPTS => {
                version = actual;
                attempts += 1;
            }
            result => return result,
        }
    }
}

/// Cancels a held or confirmed booking and releases its seats.
///
/// # Errors
/// 409 if it is already cancelled or expired, 404 for an unknown booking.
#[utoipa::path(post, path = "/v1/bookings/{id}/cancel", tag = "bookings", operation_id = "cancelBooking",
    params(("id" = u64, Path, description = "Booking id")),
    responses(
        (status = 200, description = "Cancelled", body = Booking,
            headers(("ETag" = String, description = "The booking's new version")),
            links(
                ("getBooking" = (operation_id = "getBooking",
                    parameters(("id" = "$response.body#/id")),
                    description = "Read the cancelled booking")),
            )),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled or expired", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Response> {
    let booking = api.cancel_booking(BookingId(id)).await?;
    Ok(booking_response(StatusCode::OK, booking))
}
