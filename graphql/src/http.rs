//! The HTTP endpoint's handlers (the router that mounts them is in [`mod@crate::app`]):
//! `POST /graphql` (GraphQL over HTTP: `application/json` in, `application/json` or
//! `application/graphql-response+json` out, batches allowed up to a limit). GraphiQL
//! (`GET /graphql`) is [`mod@crate::graphiql`]'s.
//!
//! The request is read and checked here before async-graphql sees it: a body over the
//! limit, a document over the query-size limit or a batch over the batch limit is
//! refused whole, and nothing executes. Every error, including these, is a GraphQL
//! error object with `extensions.code`.

use async_graphql::{BatchRequest, BatchResponse};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Error;
use serde_json::json;

use crate::app::AppState;
use crate::config::Config;
use crate::error::{classify, to_graphql};

/// The GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// A request that failed before execution, as `{"errors": [...]}` with `status`.
pub(crate) fn request_error(status: StatusCode, error: &Error) -> Response {
    // `to_graphql` always sets the extensions, `code` among them.
    let graphql = to_graphql(error);
    let body = json!({"errors": [{"message": graphql.message, "extensions": graphql.extensions}]});
    (status, Json(body)).into_response()
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

/// `POST /graphql`: checks the request, runs it, answers in the media type asked for.
pub(crate) async fn execute(State(state): State<AppState>, request: Request) -> Response {
    // Only two facts of the headers are needed; reading them here spares a copy of the
    // whole header map per request.
    let graphql_response = wants_graphql_response(request.headers());
    if !is_json(request.headers()) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &Error::invalid_argument("content-type", "must be application/json"),
        );
    }
    let limit = state.config.server.max_request_bytes;
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
    let batch = match parse(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                &Error::invalid_argument("body", format!("not a GraphQL request: {e}")),
            );
        }
    };
    if let Err(error) = check(&batch, &state.config) {
        return request_error(StatusCode::BAD_REQUEST, &error);
    }
    let mut response = match batch {
        BatchRequest::Single(one) => BatchResponse::Single(state.engine.execute_raw(one).await),
        BatchRequest::Batch(many) => {
            let mut all = Vec::with_capacity(many.len());
            for one in many {
                all.push(state.engine.execute_raw(one).await);
            }
            BatchResponse::Batch(all)
        }
    };
    match &mut response {
        BatchResponse::Single(single) => single.errors.iter_mut().for_each(classify),
        BatchResponse::Batch(all) => all
            .iter_mut()
            .flat_map(|r| r.errors.iter_mut())
            .for_each(classify),
    }
    respond(graphql_response, &response)
}

/// The body as one request or a non-empty batch. `BatchRequest`'s own `Deserialize` is
/// serde's untagged enum, which first copies the whole body (the document text, every
/// variable) into an intermediate tree and then reads each variant from that; the first
/// byte tells an object from an array, so each is read directly instead. Anything else
/// goes through the untagged enum, for its error.
fn parse(body: &[u8]) -> Result<BatchRequest, serde_json::Error> {
    match body.iter().copied().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {
            serde_json::from_slice::<async_graphql::Request>(body).map(BatchRequest::Single)
        }
        Some(b'[') => {
            let many: Vec<async_graphql::Request> = serde_json::from_slice(body)?;
            if many.is_empty() {
                return Err(serde::de::Error::invalid_length(0, &"a non-empty sequence"));
            }
            Ok(BatchRequest::Batch(many))
        }
        _ => serde_json::from_slice(body),
    }
}

/// The limits checked before anything runs.
fn check(batch: &BatchRequest, config: &Config) -> Result<(), Error> {
    let requests: &[async_graphql::Request] = match batch {
        BatchRequest::Single(one) => std::slice::from_ref(one),
        BatchRequest::Batch(many) => many,
    };
    if requests.len() > config.max_batch {
        return Err(Error::limit_exceeded("batch size", config.max_batch as u64));
    }
    if requests
        .iter()
        .any(|r| r.query.len() > config.max_query_bytes)
    {
        return Err(Error::limit_exceeded(
            "query size (bytes)",
            config.max_query_bytes as u64,
        ));
    }
    Ok(())
}

/// 200 with the response; with `application/graphql-response+json`, a request that
/// never executed (no `data`) is a 400, as the GraphQL-over-HTTP spec asks.
fn respond(graphql_response: bool, response: &BatchResponse) -> Response {
    let not_executed = match response {
        BatchResponse::Single(r) => r.data == async_graphql::Value::Null && !r.errors.is_empty(),
        BatchResponse::Batch(_) => false,
    };
    let status = if graphql_response && not_executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match crate::json::batch(response) {
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
