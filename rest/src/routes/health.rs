//! `GET /healthz`: answers while the server is serving.

use axum::Json;

use crate::model::Health;

/// Liveness.
#[utoipa::path(get, path = "/healthz", operation_id = "health", tag = "health",
    responses((status = 200, description = "Serving", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}
