//! The one place domain errors become HTTP, and HTTP problems become domain errors again.
//!
//! Every non-2xx response is `application/problem+json` (RFC 9457): `type`, `title`,
//! `status`, `detail`, plus our stable `code` and the details a client acts on (`field`,
//! `seats`, versions, limits: `domain::ErrorDetails`, flattened into the problem). axum's
//! own rejections (bad JSON, wrong content type, body too large, unknown route, wrong
//! method) are funnelled through [`ApiError`] too, so a client only ever parses one
//! shape. The text a client sees is `Error::public_message`: an internal error is logged
//! there and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{Error, ErrorCode, ErrorDetails};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `what` of the `LIMIT_EXCEEDED` for an oversized request body: the one limit
/// answered with 413 instead of 400.
pub const REQUEST_BODY: &str = "request body";

/// An RFC 9457 problem with Quartet's stable code and details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// URI reference naming the problem type, e.g. `/problems/seats-unavailable`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong this time, for humans.
    pub detail: String,
    /// Stable machine-readable code, the same in every Quartet protocol.
    pub code: String,
    /// The details a client acts on (see `DetailsSchema`).
    #[serde(flatten)]
    #[schema(schema_with = details_schema)]
    pub details: ErrorDetails,
}

// The OpenAPI schema of the flattened details. `domain` knows nothing of OpenAPI, so
// `ErrorDetails` is described here, member for member; a test keeps the two in step.
#[derive(ToSchema)]
#[schema(description = "The details a client acts on; which are present depends on `code`.")]
#[allow(dead_code)] // only its schema is used
struct DetailsSchema {
    /// NOT_FOUND: the kind of thing (`event`, `venue`, `performer`, `booking`, `route`).
    resource: Option<String>,
    /// NOT_FOUND: the id (or path) asked for.
    id: Option<String>,
    /// INVALID_ARGUMENT: the offending field, e.g. `customer.email`.
    field: Option<String>,
    /// INVALID_ARGUMENT / INVALID_STATE: what is wrong.
    reason: Option<String>,
    /// SEATS_UNAVAILABLE: the requested seats already held or sold.
    seats: Option<Vec<u32>>,
    /// VERSION_MISMATCH: the version the request named.
    expected_version: Option<u64>,
    /// VERSION_MISMATCH: the current version.
    actual_version: Option<u64>,
    /// LIMIT_EXCEEDED: which limit.
    what: Option<String>,
    /// LIMIT_EXCEEDED: the configured maximum.
    limit: Option<u64>,
}

fn details_schema() -> RefOr<Schema> {
    DetailsSchema::schema()
}

/// A domain error on its way out as an HTTP response, with the status it maps to (or an
/// explicit one for HTTP-only situations such as 405, 415 or 428).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    error: Error,
}

impl ApiError {
    /// The error with its usual status.
    pub fn new(error: Error) -> Self {
        ApiError {
            status: status_of(&error),
            error,
        }
    }

    /// The error with a status of the caller's choosing.
    pub fn with_status(status: StatusCode, error: Error) -> Self {
        ApiError { status, error }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The domain error.
    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError::new(error)
    }
}

/// The status a domain error maps to.
///
/// The code decides, with one HTTP quirk: an oversized request body is 413, while the
/// other limits (page size, query length, seats per hold) are a bad argument of an
/// acceptable request, 400.
pub fn status_of(error: &Error) -> StatusCode {
    match error.code() {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::SeatsUnavailable | ErrorCode::InvalidState => StatusCode::CONFLICT,
        ErrorCode::VersionMismatch => StatusCode::PRECONDITION_FAILED,
        ErrorCode::LimitExceeded if matches!(error, Error::LimitExceeded { what, .. } if what == REQUEST_BODY) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        ErrorCode::LimitExceeded if is_rate_limit(error) => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::InvalidArgument | ErrorCode::LimitExceeded => StatusCode::BAD_REQUEST,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
    }
}

/// Whether `error` is a caller's rate limit (429), not a business limit (400).
fn is_rate_limit(error: &Error) -> bool {
    matches!(error, Error::LimitExceeded { what, .. } if what == domain::auth::RATE_LIMIT_WHAT)
}

/// The `WWW-Authenticate` challenge of a 401 (RFC 6750 section 3): a bare one when no
/// token came, `invalid_token` with the reason when the token was refused.
fn challenge(error: &Error) -> HeaderValue {
    match error {
        Error::Unauthenticated { reason } if reason != domain::auth::NO_TOKEN => {
            // The reason is ours and plain ASCII without quotes; anything else falls
            // back to the bare challenge rather than an invalid header.
            HeaderValue::from_str(&format!(
                "Bearer realm=\"quartet\", error=\"invalid_token\", error_description=\"{reason}\""
            ))
            .unwrap_or(HeaderValue::from_static("Bearer realm=\"quartet\""))
        }
        _ => HeaderValue::from_static("Bearer realm=\"quartet\""),
    }
}

/// Seconds a client should wait before retrying an UNAVAILABLE answer (`Retry-After`).
pub const RETRY_AFTER_SECS: u32 = 1;

fn title_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => "Not found",
        ErrorCode::InvalidArgument => "Invalid argument",
        ErrorCode::SeatsUnavailable => "Seats unavailable",
        ErrorCode::VersionMismatch => "Version mismatch",
        ErrorCode::InvalidState => "Invalid state",
        ErrorCode::LimitExceeded => "Limit exceeded",
        ErrorCode::Internal => "Internal error",
        ErrorCode::Unavailable => "Unavailable",
        ErrorCode::Unauthenticated => "Unauthenticated",
        ErrorCode::PermissionDenied => "Permission denied",
    }
}

impl Problem {
    /// The problem document for `error` sent with `status`. An internal error is logged
    /// here (by `Error::public_message`) and described only generically.
    pub fn from_error(status: StatusCode, error: &Error) -> Self {
        let code = error.code();
        Problem {
            problem_type: format!(
                "/problems/{}",
                code.as_str().to_lowercase().replace('_', "-")
            ),
            title: title_of(code).to_owned(),
            status: status.as_u16(),
            detail: error.public_message(),
            code: code.as_str().to_owned(),
            details: error.details(),
        }
    }

    /// The domain error this problem describes, as the client sees it. A problem that is
    /// not one of ours (a proxy's error page, say) becomes `INTERNAL`.
    pub fn into_error(self) -> Error {
        match self.code.parse::<ErrorCode>() {
            Ok(code) => Error::from_parts(code, &self.detail, self.details),
            Err(_) => Error::internal(format!(
                "HTTP {} with unknown problem code {:?}: {}",
                self.status, self.code, self.detail
            )),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem::from_error(self.status, &self.error);
        let body = match serde_json::to_vec(&problem) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "could not serialize a problem document");
                b"{\"code\":\"INTERNAL\"}".to_vec()
            }
        };
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.error.code() == ErrorCode::Unavailable || is_rate_limit(&self.error) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        if self.error.code() == ErrorCode::Unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge(&self.error));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_error_round_trips_through_a_problem() {
        let errors = [
            Error::not_found("event", 7),
            Error::invalid_argument("customer.email", "must look like local@domain.tld"),
            Error::SeatsUnavailable {
                seats: vec![1.into(), 5.into()],
            },
            Error::VersionMismatch {
                expected: 1,
                actual: 2,
            },
            Error::invalid_state("booking 3 is cancelled"),
            Error::limit_exceeded("seats per hold", 8u32),
            Error::unavailable("the store is unreachable; retry"),
            Error::unauthenticated("the token has expired"),
            Error::permission_denied("the token lacks the book scope"),
        ];
        for error in errors {
            let problem = Problem::from_error(status_of(&error), &error);
            let json = serde_json::to_string(&problem).unwrap();
            let back: Problem = serde_json::from_str(&json).unwrap();
            assert_eq!(back.into_error(), error);
        }
    }

    #[test]
    fn details_are_top_level_members() {
        let error = Error::VersionMismatch {
            expected: 7,
            actual: 1,
        };
        let json = serde_json::to_value(Problem::from_error(status_of(&error), &error)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "/problems/version-mismatch",
                "title": "Version mismatch",
                "status": 412,
                "detail": "version mismatch: expected 7, actual 1",
                "code": "VERSION_MISMATCH",
                "expected_version": 7,
                "actual_version": 1,
            })
        );
    }

    #[test]
    fn internal_details_are_not_sent() {
        let problem = Problem::from_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Error::internal("db password is hunter2"),
        );
        assert!(!problem.detail.contains("hunter2"));
        assert_eq!(problem.code, "INTERNAL");
        assert_eq!(problem.details, ErrorDetails::default());
    }

    #[test]
    fn only_an_oversized_body_is_413() {
        let body = Error::limit_exceeded(REQUEST_BODY, 1u32 << 20);
        assert_eq!(status_of(&body), StatusCode::PAYLOAD_TOO_LARGE);
        let seats = Error::limit_exceeded("seats per hold", 8u32);
        assert_eq!(status_of(&seats), StatusCode::BAD_REQUEST);
    }

    /// The documented details are exactly the members `ErrorDetails` can send.
    #[test]
    fn the_details_schema_matches_error_details() {
        let every = ErrorDetails {
            resource: Some(String::new()),
            id: Some(String::new()),
            field: Some(String::new()),
            reason: Some(String::new()),
            seats: Some(vec![1]),
            expected_version: Some(1),
            actual_version: Some(1),
            what: Some(String::new()),
            limit: Some(1),
        };
        let sent: BTreeSet<String> = serde_json::to_value(every)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let schema = serde_json::to_value(details_schema()).unwrap();
        let documented: BTreeSet<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(sent, documented);
    }

    #[test]
    fn unavailable_is_503_with_retry_after() {
        let response = ApiError::new(Error::unavailable("the database is down")).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(RETRY_AFTER_SECS))
        );
    }
}
