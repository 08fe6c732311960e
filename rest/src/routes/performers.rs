//! `GET /v1/performers/{id}`.

use axum::Json;
use axum::extract::State;
use domain::{PerformerId, SharedTicketing, Ticketing};

use super::ApiResult;
use crate::error::Problem;
use crate::extract::Id;
use crate::model::Performer;

/// One performer.
///
/// # Errors
/// 404 for an unknown performer, 400 for a non-numeric id.
#[utoipa::path(get, path = "/v1/performers/{id}", operation_id = "getPerformer", tag = "performers",
    params(("id" = u64, Path, description = "Performer id")),
    responses(
        (status = 200, description = "The performer", body = Performer),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such performer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(State(api): State<SharedTicketing>, Id(id): Id) -> ApiResult<Json<Performer>> {
    Ok(Json(api.get_performer(PerformerId(id)).await?.into()))
}
