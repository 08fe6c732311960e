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
    /// Opaque cursor from the previous page's `next_cursor`.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Only this category.
    #[param(value_type = Option<Category>)]
    category: Option<String>,
    /// Only this city (case-insensitive).
    city: Option<String>,
    /// Only events starting at or after this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Only events starting before this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
}

/// Query parameters of `GET /v1/events/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find; every word must match. At most 200 characters.
    #[param(required = true)]
    q: Option<String>,
    /// Number of hits, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Only this category.
    #[param(value_type = Option<Category>)]
    category: Option<String>,
    /// Only this city (case-insensitive).
    city: Option<String>,
    /// Only events starting at or after this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Only events starting before this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
}

/// A page of events, ordered by start time then id.
///
/// # Errors
/// 400 for a bad parameter or cursor, or a limit over 100.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(ListParams),
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
#[utoipa::path(get, path = "/v1/events/search", tag = "events", params(SearchParams),
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
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events",
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
#[utoipa::path(get, path = "/v1/events/{id}/detail", tag = "events",
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
#[utoipa::path(get, path = "/v1/events/{id}/seats", tag = "events",
    params(("id" = u64, Path, description = "Event id")),
    responses(
        (status = 200, description = "The seat map", body = SeatMap),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn seat_map(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Json<SeatMap>> {
    Ok(Json(api.get_seat_map(EventId(id)).await?.into()))
}
