//! The HTTP endpoint: `POST /graphql` (GraphQL over HTTP: `application/json` in,
//! `application/json` or `application/graphql-response+json` out, batches allowed up to
//! a limit), `GET /graphql` (GraphiQL), `GET /healthz`.
//!
//! The request is read and checked here before async-graphql sees it: a body over the
//! limit, a document over the query-size limit or a batch over the batch limit is
//! refused whole, and nothing executes. Every error, including these, is a GraphQL
//! error object with `extensions.code`.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::{Error, Service};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::error::{classify, code_of};
use crate::schema::loaders::{LoaderCalls, PerformerLoader, VenueLoader};
use crate::schema::{QuartetSchema, SchemaOptions, schema};

/// The GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// What every request handler needs.
#[derive(Clone)]
pub struct AppState {
    schema: QuartetSchema,
    service: Service,
    options: SchemaOptions,
    calls: Arc<LoaderCalls>,
}

impl AppState {
    /// The schema and endpoint over `service`.
    pub fn new(service: Service, options: SchemaOptions) -> Self {
        let calls = Arc::new(LoaderCalls::default());
        AppState {
            schema: schema(service.clone(), &options, Arc::clone(&calls)),
            service,
            options,
            calls,
        }
    }

    /// The schema.
    pub fn schema(&self) -> &QuartetSchema {
        &self.schema
    }

    /// DataLoader batch counts since start.
    pub fn loader_calls(&self) -> &Arc<LoaderCalls> {
        &self.calls
    }
}

/// The router over `state`.
pub fn router(state: AppState) -> Router {
    let limits = state.service.limits().clone();
    let router = Router::new()
        .route("/graphql", get(graphiql).post(execute))
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.max_request_bytes));
    netkit::http_server::with_request_timeout(router, limits.request_timeout, timeout_response)
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(
            |panic: Box<dyn std::any::Any + Send>| {
                let message = netkit::http_server::panic_message(panic.as_ref());
                request_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &Error::internal(format!("handler panicked: {message}")),
                )
            },
        ))
        .layer(TraceLayer::new_for_http())
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

/// A request that failed before execution, as `{"errors": [...]}` with `status`.
fn request_error(status: StatusCode, error: &Error) -> Response {
    let graphql = crate::error::to_graphql(error);
    let mut body = json!({"errors": [{"message": graphql.message, "extensions": {}}]});
    if let Some(extensions) = graphql.extensions {
        body["errors"][0]["extensions"] = serde_json::to_value(&extensions).unwrap_or_default();
    }
    body["errors"][0]["extensions"]["code"] = json!(code_of(error));
    (status, Json(body)).into_response()
}

fn timeout_response(limit: Duration) -> Response {
    request_error(
        StatusCode::SERVICE_UNAVAILABLE,
        &Error::limit_exceeded("request time (ms)", limit.as_millis() as u64),
    )
}

fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE_JSON))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

async fn execute(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    if !is_json(&headers) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &Error::invalid_argument("content-type", "must be application/json"),
        );
    }
    let limit = state.service.limits().max_request_bytes;
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &Error::limit_exceeded("request body", limit as u64),
            );
        }
        Err(rejection) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                &Error::invalid_argument("body", rejection.body_text()),
            );
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                &Error::invalid_argument("body", format!("not a GraphQL request: {e}")),
            );
        }
    };
    if let Err(error) = check(&batch, &state.options) {
        return request_error(StatusCode::BAD_REQUEST, &error);
    }
    let batch = with_loaders(batch, &state);
    let mut response = state.schema.execute_batch(batch).await;
    match &mut response {
        BatchResponse::Single(single) => single.errors.iter_mut().for_each(classify),
        BatchResponse::Batch(all) => all
            .iter_mut()
            .flat_map(|r| r.errors.iter_mut())
            .for_each(classify),
    }
    respond(&headers, &response)
}

/// The limits checked before anything runs.
fn check(batch: &BatchRequest, options: &SchemaOptions) -> Result<(), Error> {
    let requests: &[async_graphql::Request] = match batch {
        BatchRequest::Single(one) => std::slice::from_ref(one),
        BatchRequest::Batch(many) => many,
    };
    if requests.len() > options.max_batch {
        return Err(Error::limit_exceeded(
            "batch size",
            options.max_batch as u64,
        ));
    }
    if requests
        .iter()
        .any(|r| r.query.len() > options.max_query_bytes)
    {
        return Err(Error::limit_exceeded(
            "query size (bytes)",
            options.max_query_bytes as u64,
        ));
    }
    Ok(())
}

/// Gives each request its own DataLoaders, so batching spans exactly one execution.
fn with_loaders(batch: BatchRequest, state: &AppState) -> BatchRequest {
    let add = |request: async_graphql::Request| {
        request
            .data(
                DataLoader::new(
                    VenueLoader::new(state.service.clone(), Arc::clone(&state.calls)),
                    tokio::spawn,
                )
                .delay(state.options.loader_delay),
            )
            .data(
                DataLoader::new(
                    PerformerLoader::new(state.service.clone(), Arc::clone(&state.calls)),
                    tokio::spawn,
                )
                .delay(state.options.loader_delay),
            )
    };
    match batch {
        BatchRequest::Single(one) => BatchRequest::Single(add(one)),
        BatchRequest::Batch(many) => BatchRequest::Batch(many.into_iter().map(add).collect()),
    }
}

/// 200 with the response; with `application/graphql-response+json`, a request that
/// never executed (no `data`) is a 400, as the GraphQL-over-HTTP spec asks.
fn respond(headers: &HeaderMap, response: &BatchResponse) -> Response {
    let graphql_response = wants_graphql_response(headers);
    let not_executed = match response {
        BatchResponse::Single(r) => r.data == async_graphql::Value::Null && !r.errors.is_empty(),
        BatchResponse::Batch(_) => false,
    };
    let status = if graphql_response && not_executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_vec(response) {
        Ok(body) => body,
        Err(e) => {
            return request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &Error::internal(e.to_string()),
            );
        }
    };
    let media = if graphql_response {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    let mut http = (status, body).into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    http
}
