//! The one place domain errors become gRPC statuses, and statuses become domain errors.
//!
//! Each status carries a `google.rpc.ErrorInfo` whose `reason` is the stable Quartet
//! code and whose metadata holds every detail, so a client can tell SEATS_UNAVAILABLE
//! (FAILED_PRECONDITION) from INVALID_STATE (also FAILED_PRECONDITION) without reading
//! the message. Standard detail messages ride along for generic tools: `BadRequest`
//! field violations for invalid arguments, `PreconditionFailure` for taken seats and
//! stale versions, `ResourceInfo` for missing records.

use std::collections::HashMap;

use domain::{Error, ErrorCode};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// `ErrorInfo.domain` of every Quartet error.
pub const ERROR_DOMAIN: &str = "quartet.v1";

/// The status code a domain error maps to (design.md §5).
pub fn code_of(error: &Error) -> Code {
    match error {
        Error::NotFound { .. } => Code::NotFound,
        Error::InvalidArgument { .. } => Code::InvalidArgument,
        Error::SeatsUnavailable { .. } | Error::InvalidState { .. } => Code::FailedPrecondition,
        Error::VersionMismatch { .. } => Code::Aborted,
        Error::LimitExceeded { .. } => Code::OutOfRange,
        Error::Internal { .. } => Code::Internal,
    }
}

/// The status for a domain error. Internal details are logged, never sent.
pub fn to_status(error: &Error) -> Status {
    let mut details = ErrorDetails::new();
    let mut metadata = HashMap::new();
    let mut put = |key: &str, value: String| {
        metadata.insert(key.to_owned(), value);
    };
    let message = match error {
        Error::NotFound { resource, id } => {
            put("resource", resource.clone());
            put("id", id.clone());
            details.set_resource_info(resource.clone(), id.clone(), "", "not found");
            error.to_string()
        }
        Error::InvalidArgument { field, reason } => {
            put("field", field.clone());
            put("reason", reason.clone());
            details.add_bad_request_violation(field.clone(), reason.clone());
            error.to_string()
        }
        Error::SeatsUnavailable { seats } => {
            let list: Vec<String> = seats.iter().map(ToString::to_string).collect();
            put("seats", list.join(","));
            for seat in seats {
                details.add_precondition_failure_violation(
                    "SEAT",
                    format!("seat/{seat}"),
                    "held or sold",
                );
            }
            error.to_string()
        }
        Error::VersionMismatch { expected, actual } => {
            put("expected_version", expected.to_string());
            put("actual_version", actual.to_string());
            details.add_precondition_failure_violation(
                "VERSION",
                "booking",
                format!("expected version {expected}, current version is {actual}"),
            );
            error.to_string()
        }
        Error::InvalidState { reason } => {
            put("reason", reason.clone());
            error.to_string()
        }
        Error::LimitExceeded { what, limit } => {
            put("what", what.clone());
            put("limit", limit.to_string());
            error.to_string()
        }
        Error::Internal { message } => {
            tracing::error!(%message, "internal error");
            "the server failed to handle the request".to_owned()
        }
    };
    details.set_error_info(error.code().as_str(), ERROR_DOMAIN, metadata);
    Status::with_error_details(code_of(error), message, details)
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
    let text = |key: &str| info.metadata.get(key).cloned().unwrap_or_default();
    let number = |key: &str| text(key).parse::<u64>().unwrap_or_default();
    match info.reason.parse::<ErrorCode>() {
        Ok(ErrorCode::NotFound) => Error::NotFound {
            resource: text("resource"),
            id: text("id"),
        },
        Ok(ErrorCode::InvalidArgument) => Error::InvalidArgument {
            field: text("field"),
            reason: text("reason"),
        },
        Ok(ErrorCode::SeatsUnavailable) => Error::SeatsUnavailable {
            seats: text("seats")
                .split(',')
                .filter_map(|s| s.parse::<u32>().ok())
                .map(Into::into)
                .collect(),
        },
        Ok(ErrorCode::VersionMismatch) => Error::VersionMismatch {
            expected: number("expected_version"),
            actual: number("actual_version"),
        },
        Ok(ErrorCode::InvalidState) => Error::InvalidState {
            reason: text("reason"),
        },
        Ok(ErrorCode::LimitExceeded) => Error::LimitExceeded {
            what: text("what"),
            limit: number("limit"),
        },
        Ok(ErrorCode::Internal) => Error::Internal {
            message: status.message().to_owned(),
        },
        Err(_) => Error::internal(format!(
            "gRPC {:?} with unknown reason {:?}",
            status.code(),
            info.reason
        )),
    }
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
}
