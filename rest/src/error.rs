//! The one place domain errors become HTTP, and HTTP problems become domain errors again.
//!
//! Every non-2xx response is `application/problem+json` (RFC 9457): `type`, `title`,
//! `status`, `detail`, plus our stable `code` and the details a client acts on (`field`,
//! `seats`, versions, limits). axum's own rejections (bad JSON, wrong content type, body
//! too large, unknown route, wrong method) are funnelled through [`ApiError`] too, so a
//! client only ever parses one shape. Internal errors are logged here and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{Error, ErrorCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

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
    /// NOT_FOUND: the kind of thing (`event`, `venue`, `performer`, `booking`, `route`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// NOT_FOUND: the id (or path) asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// INVALID_ARGUMENT: the offending field, e.g. `customer.email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// INVALID_ARGUMENT / INVALID_STATE: what is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// SEATS_UNAVAILABLE: the requested seats already held or sold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<Vec<u32>>,
    /// VERSION_MISMATCH: the version the request named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    /// VERSION_MISMATCH: the current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
    /// LIMIT_EXCEEDED: which limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// LIMIT_EXCEEDED: the configured maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
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

/// The status a domain error maps to (design.md §5).
pub fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::SeatsUnavailable { .. } | Error::InvalidState { .. } => StatusCode::CONFLICT,
        Error::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
        // Only an oversized body is 413; other limits (page size, query length, seats per
        // hold) are a bad argument of an acceptable request.
        Error::LimitExceeded { what, .. } if what == "request body" => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        Error::InvalidArgument { .. } | Error::LimitExceeded { .. } => StatusCode::BAD_REQUEST,
        Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn title_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => "Not found",
        ErrorCode::InvalidArgument => "Invalid argument",
        ErrorCode::SeatsUnavailable => "Seats unavailable",
        ErrorCode::VersionMismatch => "Version mismatch",
        ErrorCode::InvalidState => "Invalid state",
        ErrorCode::LimitExceeded => "Limit exceeded",
        ErrorCode::Internal => "Internal error",
    }
}

impl Problem {
    /// The problem document for `error` sent with `status`.
    pub fn from_error(status: StatusCode, error: &Error) -> Self {
        let code = error.code();
        let mut problem = Problem {
            problem_type: format!(
                "/problems/{}",
                code.as_str().to_lowercase().replace('_', "-")
            ),
            title: title_of(code).to_owned(),
            status: status.as_u16(),
            detail: error.to_string(),
            code: code.as_str().to_owned(),
            resource: None,
            id: None,
            field: None,
            reason: None,
            seats: None,
            expected_version: None,
            actual_version: None,
            what: None,
            limit: None,
        };
        match error {
            Error::NotFound { resource, id } => {
                problem.resource = Some(resource.clone());
                problem.id = Some(id.clone());
            }
            Error::InvalidArgument { field, reason } => {
                problem.field = Some(field.clone());
                problem.reason = Some(reason.clone());
            }
            Error::SeatsUnavailable { seats } => {
                problem.seats = Some(seats.iter().map(|s| s.0).collect());
            }
            Error::VersionMismatch { expected, actual } => {
                problem.expected_version = Some(*expected);
                problem.actual_version = Some(*actual);
            }
            Error::InvalidState { reason } => problem.reason = Some(reason.clone()),
            Error::LimitExceeded { what, limit } => {
                problem.what = Some(what.clone());
                problem.limit = Some(*limit);
            }
            Error::Internal { .. } => {
                // The message may carry internals; the log has it, the client does not.
                "the server failed to handle the request".clone_into(&mut problem.detail);
            }
        }
        problem
    }

    /// The domain error this problem describes, as the client sees it. A problem that is
    /// not one of ours (a proxy's error page, say) becomes `INTERNAL`.
    pub fn into_error(self) -> Error {
        let Ok(code) = self.code.parse::<ErrorCode>() else {
            return Error::internal(format!(
                "HTTP {} with unknown problem code {:?}: {}",
                self.status, self.code, self.detail
            ));
        };
        let text = |v: Option<String>| v.unwrap_or_default();
        match code {
            ErrorCode::NotFound => Error::NotFound {
                resource: text(self.resource),
                id: text(self.id),
            },
            ErrorCode::InvalidArgument => Error::InvalidArgument {
                field: text(self.field),
                reason: text(self.reason),
            },
            ErrorCode::SeatsUnavailable => Error::SeatsUnavailable {
                seats: self
                    .seats
                    .unwrap_or_default()
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            },
            ErrorCode::VersionMismatch => Error::VersionMismatch {
                expected: self.expected_version.unwrap_or_default(),
                actual: self.actual_version.unwrap_or_default(),
            },
            ErrorCode::InvalidState => Error::InvalidState {
                reason: text(self.reason),
            },
            ErrorCode::LimitExceeded => Error::LimitExceeded {
                what: text(self.what),
                limit: self.limit.unwrap_or_default(),
            },
            ErrorCode::Internal => Error::Internal {
                message: self.detail,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Error::Internal { message } = &self.error {
            tracing::error!(%message, "internal error");
        }
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
        response
    }
}

#[cfg(test)]
mod tests {
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
        ];
        for error in errors {
            let problem = Problem::from_error(status_of(&error), &error);
            let json = serde_json::to_string(&problem).unwrap();
            let back: Problem = serde_json::from_str(&json).unwrap();
            assert_eq!(back.into_error(), error);
        }
    }

    #[test]
    fn internal_details_are_not_sent() {
        let problem = Problem::from_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Error::internal("db password is hunter2"),
        );
        assert!(!problem.detail.contains("hunter2"));
        assert_eq!(problem.code, "INTERNAL");
    }
}
