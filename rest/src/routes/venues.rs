//! `GET /v1/venues/{id}`.

use axum::Json;
use axum::extract::State;
use domain::{SharedTicketing, Ticketing, VenueId};

use super::ApiResult;
use crate::error::Problem;
use crate::extract::Id;
use crate::model::Venue;

/// One venue with its seat layout.
///
/// # Errors
/// 404 for an unknown venue, 400 for a non-numeric id.
#[utoipa::path(get, path = "/v1/venues/{id}", operation_id = "getVenue", tag = "venues",
    params(("id" = u64, Path, description = "Venue id")),
    responses(
        (status = 200, description = "The venue", body = Venue),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Json<Venue>> {
    Ok(Json(api.get_venue(VenueId(id)).await?.into()))
}
