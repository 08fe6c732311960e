//! `/v1/events`: listing, search, one event, its detail and its seat map.

use axum::Json;
use axum::extract::State;
use domain::{EventId, ListEventsRequest, SearchRequest, SharedTicketing, Ticketing};
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiResult;
use crate::error::Problem;
use crate::extract::{Id, QueryParams, parse_u32};
use crate::model::{
    Category, Event, EventDetail, EventPage, SearchResults, SeatMap, filter_from_query,
};

/// Query parameters of `GET /v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Opaque cursor from the previous page's `next_cursor` (48 lowercase hex digits).
    /// It is bound to the filter it was issued for: pass the same `category`, `city`,
    /// `from` and `to` as the first page, or get 400 naming `cursor`.
    #[param(min_length = 48, max_length = 48, pattern = "^[0-9a-f]{48}$")]
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Only this category.
    #[param(value_type = Option<Category>)]
    category: Option<String>,
    /// Only this city (case-insensitive, surrounding spaces ignored): 1 to 100
    /// characters, not all whitespace.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    city: Option<String>,
    /// Only events starting at or after this RFC 3339 time; must be before `to`.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Only events starting before this RFC 3339 time; must be after `from`.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
}

/// Query parameters of `GET /v1/events/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find; every word must match. 1 to 200 characters, not all whitespace,
    /// with at least one searchable word: a run of letters or digits that is not a common
    /// word (`a`, `an`, `and`, `at`, `by`, `for`, `in`, `is`, `it`, `of`, `on`, `or`,
    /// `the`, `to`, `with`). A query of only punctuation or common words gets 400 naming
    /// `query`.
    #[param(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "jazz",
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    q: Option<String>,
    /// Number of hits, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Only this category.
    #[param(value_type = Option<Category>)]
    category: Option<String>,
    /// Only this city (case-insensitive, surrounding spaces ignored): 1 to 100
    /// characters, not all whitespace.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    city: Option<String>,
    /// Only events starting at or after this RFC 3339 time; must be before `to`.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Only events starting before this RFC 3339 time; must be after `from`.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
}

/// A page of events, ordered by start time then id.
///
/// # Errors
/// 400 for a bad parameter or cursor, or a limit over 100.
#[utoipa::path(get, path = "/v1/events", operation_id = "listEvents", tag = "events", params(ListParams),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(api): State<SharedTicketing>,
    QueryParams(params): QueryParams<ListParams>,
) -> ApiResult<Json<EventPage>> {
    let request = ListEventsRequest {
        filter: filter_from_query(
            params.category.as_deref(),
            params.city,
            params.from.as_deref(),
            params.to.as_deref(),
        )?,
        cursor: params.cursor,
        limit: parse_u32("limit", params.limit.as_deref())?,
    };
    Ok(Json(api.list_events(request).await?.into()))
}

/// Full-text search over names, descriptions, performers, cities and tags, ranked.
///
/// # Errors
/// 400 for a missing or empty `q`, a bad parameter, or a query over 200 characters.
#[utoipa::path(get, path = "/v1/events/search", operation_id = "searchEvents", tag = "events", params(SearchParams),
    responses(
        (status = 200, description = "Hits, best first", body = SearchResults),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(api): State<SharedTicketing>,
    QueryParams(params): QueryParams<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let Some(query) = params.q else {
        return Err(domain::Error::invalid_argument("q", "is required").into());
    };
    let request = SearchRequest {
        query,
        filter: filter_from_query(
            params.category.as_deref(),
            params.city,
            params.from.as_deref(),
            params.to.as_deref(),
        )?,
        limit: parse_u32("limit", params.limit.as_deref())?,
    };
    Ok(Json(api.search_events(request).await?.into()))
}

/// One event.
///
/// # Errors
/// 404 for an unknown event, 400 for a non-numeric id.
#[utoipa::path(get, path = "/v1/events/{id}", operation_id = "getEvent", tag = "events",
    params(("id" = u64, Path, description = "Event id")),
    responses(
        (status = 200, description = "The event", body = Event),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Json<Event>> {
    Ok(Json(api.get_event(EventId(id)).await?.into()))
}

/// An event with its venue, performers and per-section availability.
///
/// # Errors
/// 404 for an unknown event, 400 for a non-numeric id.
#[utoipa::path(get, path = "/v1/events/{id}/detail", operation_id = "getEventDetail", tag = "events",
    params(("id" = u64, Path, description = "Event id")),
    responses(
        (status = 200, description = "The event in detail", body = EventDetail),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn detail(
    State(api): State<SharedTicketing>,
    Id(id): Id,
) -> ApiResult<Json<EventDetail>> {
    Ok(Json(api.get_event_detail(EventId(id)).await?.into()))
}

/// Every seat of the event with its state.
///
/// # Errors
/// 404 for an unknown event, 400 for a non-numeric id.
#[utoipa::path(get, path = "/v1/events/{id}/seats", operation_id = "getSeatMap", tag = "events",
    params(("id" = u64, Path, description = "Event id")),
    responses(
        (status = 200, description = "The seat map", body = SeatMap),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn seat_map(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Json<SeatMap>> {
    Ok(Json(api.get_seat_map(EventId(id)).await?.into()))
}
