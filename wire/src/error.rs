//! The one place domain errors become error-frame payloads, and back.

use domain::Error;

use crate::messages::{ErrorDetails, ErrorPayload};

/// The error frame payload for `error`. Internal details are logged, never sent.
pub fn to_payload(error: &Error) -> ErrorPayload {
    let details = match error {
        Error::NotFound { resource, id } => ErrorDetails::NotFound {
            resource: resource.clone(),
            id: id.clone(),
        },
        Error::InvalidArgument { field, reason } => ErrorDetails::InvalidArgument {
            field: field.clone(),
            reason: reason.clone(),
        },
        Error::SeatsUnavailable { seats } => ErrorDetails::SeatsUnavailable {
            seats: seats.iter().map(|s| s.0).collect(),
        },
        Error::VersionMismatch { expected, actual } => ErrorDetails::VersionMismatch {
            expected: *expected,
            actual: *actual,
        },
        Error::InvalidState { reason } => ErrorDetails::InvalidState {
            reason: reason.clone(),
        },
        Error::LimitExceeded { what, limit } => ErrorDetails::LimitExceeded {
            what: what.clone(),
            limit: *limit,
        },
        Error::Internal { message } => {
            tracing::error!(%message, "internal error");
            return ErrorPayload {
                code: error.code().as_str().to_owned(),
                message: "the server failed to handle the request".to_owned(),
                details: ErrorDetails::None,
            };
        }
    };
    ErrorPayload {
        code: error.code().as_str().to_owned(),
        message: error.to_string(),
        details,
    }
}

/// The domain error an error frame describes. A payload that contradicts itself (a code
/// with another code's details) or names an unknown code becomes `INTERNAL`.
pub fn from_payload(payload: ErrorPayload) -> Error {
    let code = payload.code.as_str();
    match (code, payload.details) {
        ("NOT_FOUND", ErrorDetails::NotFound { resource, id }) => Error::NotFound { resource, id },
        ("INVALID_ARGUMENT", ErrorDetails::InvalidArgument { field, reason }) => {
            Error::InvalidArgument { field, reason }
        }
        ("SEATS_UNAVAILABLE", ErrorDetails::SeatsUnavailable { seats }) => {
            Error::SeatsUnavailable {
                seats: seats.into_iter().map(Into::into).collect(),
            }
        }
        ("VERSION_MISMATCH", ErrorDetails::VersionMismatch { expected, actual }) => {
            Error::VersionMismatch { expected, actual }
        }
        ("INVALID_STATE", ErrorDetails::InvalidState { reason }) => Error::InvalidState { reason },
        ("LIMIT_EXCEEDED", ErrorDetails::LimitExceeded { what, limit }) => {
            Error::LimitExceeded { what, limit }
        }
        ("INTERNAL", _) => Error::Internal {
            message: payload.message,
        },
        (code, details) => Error::internal(format!(
            "malformed error frame: code {code:?} with details {details:?}: {}",
            payload.message
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips() {
        for error in [
            Error::not_found("booking", 3),
            Error::invalid_argument("opcode", "unknown opcode 0x7777"),
            Error::SeatsUnavailable {
                seats: vec![4.into()],
            },
            Error::VersionMismatch {
                expected: 2,
                actual: 3,
            },
            Error::invalid_state("booking 3 is cancelled"),
            Error::limit_exceeded("frame size", 1_048_576u64),
        ] {
            let bytes = postcard::to_allocvec(&to_payload(&error)).unwrap();
            let back: ErrorPayload = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(from_payload(back), error);
        }
        let internal = to_payload(&Error::internal("secret"));
        assert!(!internal.message.contains("secret"));
    }
}
