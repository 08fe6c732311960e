//! The one place domain errors become gRPC statuses, and statuses become domain errors.
//!
//! Each status carries a `google.rpc.ErrorInfo` whose `reason` is the stable Quartet
//! code, whose `domain` is [`ERROR_DOMAIN`] and whose metadata holds every detail
//! (`domain::ErrorDetails::to_pairs`: `resource`, `id`, `field`, `reason`, `seats`,
//! `expected_version`, `actual_version`, `what`, `limit`), so a client can tell
//! SEATS_UNAVAILABLE (FAILED_PRECONDITION) from INVALID_STATE (also FAILED_PRECONDITION)
//! without reading the message. Standard detail messages ride along for generic tools:
//! `BadRequest` field violations for invalid arguments, `PreconditionFailure` for taken
//! seats and stale versions, `ResourceInfo` for missing records. The message is
//! `domain::Error::public_message`: an internal error is logged and never sent.

use std::collections::HashMap;

use domain::{Error, ErrorCode};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// How long a client should wait before retrying an UNAVAILABLE call (`RetryInfo`).
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// `ErrorInfo.domain` of every Quartet error.
pub const ERROR_DOMAIN: &str = "quartet.v1";

/// The status code of each Quartet code: the whole status table.
pub const fn code_of(code: ErrorCode) -> Code {
    match code {
        ErrorCode::NotFound => Code::NotFound,
        ErrorCode::InvalidArgument => Code::InvalidArgument,
        ErrorCode::SeatsUnavailable | ErrorCode::InvalidState => Code::FailedPrecondition,
        ErrorCode::VersionMismatch => Code::Aborted,
        ErrorCode::LimitExceeded => Code::OutOfRange,
        ErrorCode::Internal => Code::Internal,
        ErrorCode::Unavailable => Code::Unavailable,
        ErrorCode::Unauthenticated => Code::Unauthenticated,
        ErrorCode::PermissionDenied => Code::PermissionDenied,
    }
}

/// The status code of one error: [`code_of`] its code, except that a caller's rate limit
/// is RESOURCE_EXHAUSTED (retry later), not OUT_OF_RANGE (a business limit).
pub fn status_code_of(error: &Error) -> Code {
    match error {
        Error::LimitExceeded { what, .. } if what == domain::auth::RATE_LIMIT_WHAT => {
            Code::ResourceExhausted
        }
        _ => code_of(error.code()),
    }
}

/// The status for a domain error: its code, its public message, an `ErrorInfo` with
/// every detail, and the standard details that fit it. Internal details are logged,
/// never sent.
pub fn to_status(error: &Error) -> Status {
    let mut details = standard_details(error);
    let metadata: HashMap<String, String> = error
        .details()
        .to_pairs()
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
    details.set_error_info(error.code().as_str(), ERROR_DOMAIN, metadata);
    Status::with_error_details(status_code_of(error), error.public_message(), details)
}

/// The `google.rpc` details generic gRPC tools understand, for the errors that have one.
fn standard_details(error: &Error) -> ErrorDetails {
    let mut details = ErrorDetails::new();
    match error {
        Error::NotFound { resource, id } => {
            details.set_resource_info(resource.clone(), id.clone(), "", "not found");
        }
        Error::InvalidArgument { field, reason } => {
            details.add_bad_request_violation(field.clone(), reason.clone());
        }
        Error::SeatsUnavailable { seats } => {
            for seat in seats {
                details.add_precondition_failure_violation(
                    "SEAT",
                    format!("seat/{seat}"),
                    "held or sold",
                );
            }
        }
        Error::VersionMismatch { expected, actual } => {
            details.add_precondition_failure_violation(
                "VERSION",
                "booking",
                format!("expected version {expected}, current version is {actual}"),
            );
        }
        Error::Unavailable { .. } => {
            // Generic clients back off by RetryInfo; the same second REST's Retry-After says.
            details.set_retry_info(Some(RETRY_AFTER));
        }
        Error::LimitExceeded { what, .. } if what == domain::auth::RATE_LIMIT_WHAT => {
            details.set_retry_info(Some(RETRY_AFTER));
        }
        Error::InvalidState { .. }
        | Error::LimitExceeded { .. }
        | Error::Internal { .. }
        | Error::Unauthenticated { .. }
        | Error::PermissionDenied { .. } => {}
    }
    details
}

/// The domain error a status describes. A status without our `ErrorInfo` (a transport
/// failure, a deadline, a proxy) becomes the closest domain error: `LIMIT_EXCEEDED` for
/// tonic's own message-size refusals, `INTERNAL` otherwise, with the status in the
/// message.
pub fn from_status(status: &Status) -> Error {
    let info = status
        .get_details_error_info()
        .filter(|info| info.domain == ERROR_DOMAIN);
    let Some(info) = info else {
        return match status.code() {
            Code::ResourceExhausted | Code::OutOfRange => Error::LimitExceeded {
                what: status.message().to_owned(),
                limit: 0,
            },
            code => Error::internal(format!("gRPC {code:?}: {}", status.message())),
        };
    };
    let Ok(code) = info.reason.parse::<ErrorCode>() else {
        return Error::internal(format!(
            "gRPC {:?} with unknown reason {:?}",
            status.code(),
            info.reason
        ));
    };
    let details = domain::ErrorDetails::from_pairs(
        info.metadata
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    );
    Error::from_parts(code, status.message(), details)
}

/// The domain error for a status that broke off a stream after it started. A status of
/// ours (it carries our `ErrorInfo`, e.g. the `UNAVAILABLE` a draining server ends its
/// streams with) and tonic's own message-size refusals map as [`from_status`] says.
/// Anything else mid-stream is the transport failing (a reset connection, a peer gone
/// away): `UNAVAILABLE`, which tells a subscriber to watch again from the last version it
/// saw, as it would after a server restart.
pub fn from_stream_status(status: &Status) -> Error {
    let ours = status
        .get_details_error_info()
        .is_some_and(|info| info.domain == ERROR_DOMAIN);
    if ours || matches!(status.code(), Code::ResourceExhausted | Code::OutOfRange) {
        return from_status(status);
    }
    Error::unavailable(format!(
        "the stream broke off: gRPC {:?}: {}",
        status.code(),
        status.message()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_with_its_code() {
        for (error, code) in [
            (Error::not_found("event", 9), Code::NotFound),
            (
                Error::invalid_argument("customer.email", "bad"),
                Code::InvalidArgument,
            ),
            (
                Error::SeatsUnavailable {
                    seats: vec![3.into(), 4.into()],
                },
                Code::FailedPrecondition,
            ),
            (
                Error::VersionMismatch {
                    expected: 1,
                    actual: 2,
                },
                Code::Aborted,
            ),
            (Error::invalid_state("cancelled"), Code::FailedPrecondition),
            (Error::unavailable("retry"), Code::Unavailable),
            (
                Error::limit_exceeded("seats per hold", 8u32),
                Code::OutOfRange,
            ),
        ] {
            let status = to_status(&error);
            assert_eq!(status.code(), code);
            assert_eq!(from_status(&status), error);
        }
    }

    #[test]
    fn standard_details_ride_along() {
        let status = to_status(&Error::invalid_argument(
            "seat_ids",
            "must not repeat a seat",
        ));
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "seat_ids");
        let status = to_status(&Error::VersionMismatch {
            expected: 1,
            actual: 2,
        });
        let failure = status.get_details_precondition_failure().unwrap();
        assert_eq!(failure.violations[0].r#type, "VERSION");
        let status = to_status(&Error::internal("db password hunter2"));
        assert!(!status.message().contains("hunter2"));
    }

    #[test]
    fn error_info_metadata_keeps_its_keys() {
        let metadata = |error: &Error| {
            let info = to_status(error).get_details_error_info().unwrap();
            assert_eq!(info.domain, ERROR_DOMAIN);
            assert_eq!(info.reason, error.code().as_str());
            let mut pairs: Vec<(String, String)> = info.metadata.into_iter().collect();
            pairs.sort();
            pairs
        };
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            metadata(&Error::not_found("event", 9)),
            [pair("id", "9"), pair("resource", "event")]
        );
        assert_eq!(
            metadata(&Error::invalid_argument("seat_ids", "empty")),
            [pair("field", "seat_ids"), pair("reason", "empty")]
        );
        assert_eq!(
            metadata(&Error::SeatsUnavailable {
                seats: vec![3.into(), 4.into()],
            }),
            [pair("seats", "3,4")]
        );
        assert_eq!(
            metadata(&Error::VersionMismatch {
                expected: 1,
                actual: 2,
            }),
            [pair("actual_version", "2"), pair("expected_version", "1")]
        );
        assert_eq!(
            metadata(&Error::invalid_state("cancelled")),
            [pair("reason", "cancelled")]
        );
        assert_eq!(
            metadata(&Error::limit_exceeded("seats per hold", 8u32)),
            [pair("limit", "8"), pair("what", "seats per hold")]
        );
        assert_eq!(metadata(&Error::internal("boom")), []);
    }

    #[test]
    fn internal_errors_arrive_with_the_public_message() {
        let status = to_status(&Error::internal("db password hunter2"));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(
            from_status(&status),
            Error::internal(domain::error::INTERNAL_PUBLIC_MESSAGE)
        );
    }

    #[test]
    fn foreign_statuses_become_the_closest_error() {
        let limit = from_status(&Status::out_of_range("message length too large"));
        assert_eq!(limit.code(), ErrorCode::LimitExceeded);
        let other = from_status(&Status::unavailable("connection refused"));
        assert_eq!(other.code(), ErrorCode::Internal);
    }

    #[test]
    fn a_broken_stream_is_unavailable_and_our_statuses_keep_their_code() {
        for status in [
            Status::unknown("h2 protocol error: connection reset"),
            Status::unavailable("connection closed"),
            Status::internal("stream reset"),
        ] {
            let error = from_stream_status(&status);
            assert_eq!(error.code(), ErrorCode::Unavailable, "{status:?}");
            assert!(error.to_string().contains(status.message()), "{error}");
        }
        let ours = Error::not_found("event", 9);
        assert_eq!(from_stream_status(&to_status(&ours)), ours);
        let draining = Error::unavailable("the server is shutting down");
        assert_eq!(from_stream_status(&to_status(&draining)), draining);
        let limit = from_stream_status(&Status::out_of_range("message length too large"));
        assert_eq!(limit.code(), ErrorCode::LimitExceeded);
    }
}
