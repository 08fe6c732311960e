//! The one place domain errors become error-frame payloads, and back.
//!
//! An error frame carries an [`ErrorPayload`]: the code string, the public message, and
//! the details as [`ErrorDetails`], a postcard enum whose variant order is frozen per
//! protocol version (PROTOCOL.md §5). The domain does the rest: [`Error::code`],
//! [`Error::public_message`] (which logs an internal error and never sends it),
//! [`Error::details`] and, on the way back, [`Error::from_parts`]. What is left here is
//! the protocol's own envelope: which enum variant goes with which code.

use domain::{Error, ErrorCode};

use crate::messages::{ErrorDetails, ErrorPayload};

/// The error frame payload for `error`. Internal details are logged, never sent.
pub fn to_payload(error: &Error) -> ErrorPayload {
    let code = error.code();
    ErrorPayload {
        code: code.as_str().to_owned(),
        message: error.public_message(),
        details: to_wire(code, error.details()),
    }
}

/// The domain error an error frame describes. A payload that contradicts itself (a code
/// with another code's details) or names an unknown code becomes `INTERNAL`.
pub fn from_payload(payload: ErrorPayload) -> Error {
    let ErrorPayload {
        code,
        message,
        details,
    } = payload;
    let carried = variant_code(&details);
    match code.parse::<ErrorCode>() {
        Ok(ErrorCode::Internal) => Error::from_parts(
            ErrorCode::Internal,
            &message,
            domain::ErrorDetails::default(),
        ),
        Ok(parsed) if carried == Some(parsed) => {
            Error::from_parts(parsed, &message, from_wire(details))
        }
        _ => Error::internal(format!(
            "malformed error frame: code {code:?} with details {details:?}: {message}"
        )),
    }
}

/// The frozen envelope variant for an error with `code` and these details.
fn to_wire(code: ErrorCode, details: domain::ErrorDetails) -> ErrorDetails {
    let text = |value: Option<String>| value.unwrap_or_default();
    match code {
        ErrorCode::NotFound => ErrorDetails::NotFound {
            resource: text(details.resource),
            id: text(details.id),
        },
        ErrorCode::InvalidArgument => ErrorDetails::InvalidArgument {
            field: text(details.field),
            reason: text(details.reason),
        },
        ErrorCode::SeatsUnavailable => ErrorDetails::SeatsUnavailable {
            seats: details.seats.unwrap_or_default(),
        },
        ErrorCode::VersionMismatch => ErrorDetails::VersionMismatch {
            expected: details.expected_version.unwrap_or_default(),
            actual: details.actual_version.unwrap_or_default(),
        },
        ErrorCode::InvalidState => ErrorDetails::InvalidState {
            reason: text(details.reason),
        },
        ErrorCode::LimitExceeded => ErrorDetails::LimitExceeded {
            what: text(details.what),
            limit: details.limit.unwrap_or_default(),
        },
        ErrorCode::Internal => ErrorDetails::None,
        ErrorCode::Unavailable => ErrorDetails::Unavailable {
            reason: text(details.reason),
        },
        ErrorCode::Unauthenticated => ErrorDetails::Unauthenticated {
            reason: text(details.reason),
        },
        ErrorCode::PermissionDenied => ErrorDetails::PermissionDenied {
            reason: text(details.reason),
        },
    }
}

/// The code an envelope variant belongs with (`None` carries no details: INTERNAL's).
fn variant_code(details: &ErrorDetails) -> Option<ErrorCode> {
    match details {
        ErrorDetails::None => None,
        ErrorDetails::NotFound { .. } => Some(ErrorCode::NotFound),
        ErrorDetails::InvalidArgument { .. } => Some(ErrorCode::InvalidArgument),
        ErrorDetails::SeatsUnavailable { .. } => Some(ErrorCode::SeatsUnavailable),
        ErrorDetails::VersionMismatch { .. } => Some(ErrorCode::VersionMismatch),
        ErrorDetails::InvalidState { .. } => Some(ErrorCode::InvalidState),
        ErrorDetails::LimitExceeded { .. } => Some(ErrorCode::LimitExceeded),
        ErrorDetails::Unavailable { .. } => Some(ErrorCode::Unavailable),
        ErrorDetails::Unauthenticated { .. } => Some(ErrorCode::Unauthenticated),
        ErrorDetails::PermissionDenied { .. } => Some(ErrorCode::PermissionDenied),
    }
}

/// The domain's details from an envelope variant.
fn from_wire(details: ErrorDetails) -> domain::ErrorDetails {
    let mut out = domain::ErrorDetails::default();
    match details {
        ErrorDetails::None => {}
        ErrorDetails::NotFound { resource, id } => {
            out.resource = Some(resource);
            out.id = Some(id);
        }
        ErrorDetails::InvalidArgument { field, reason } => {
            out.field = Some(field);
            out.reason = Some(reason);
        }
        ErrorDetails::SeatsUnavailable { seats } => out.seats = Some(seats),
        ErrorDetails::VersionMismatch { expected, actual } => {
            out.expected_version = Some(expected);
            out.actual_version = Some(actual);
        }
        ErrorDetails::InvalidState { reason }
        | ErrorDetails::Unavailable { reason }
        | ErrorDetails::Unauthenticated { reason }
        | ErrorDetails::PermissionDenied { reason } => {
            out.reason = Some(reason);
        }
        ErrorDetails::LimitExceeded { what, limit } => {
            out.what = Some(what);
            out.limit = Some(limit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Error> {
        vec![
            Error::not_found("booking", 3),
            Error::invalid_argument("opcode", "unknown opcode 0x7777"),
            Error::SeatsUnavailable {
                seats: vec![4.into(), 9.into()],
            },
            Error::VersionMismatch {
                expected: 2,
                actual: 3,
            },
            Error::invalid_state("booking 3 is cancelled"),
            Error::unavailable("the store is unreachable; retry"),
            Error::unauthenticated("the token has expired"),
            Error::permission_denied("the token lacks the book scope"),
            Error::limit_exceeded("frame size", 1_048_576u64),
        ]
    }

    #[test]
    fn every_error_round_trips() {
        for error in one_of_each() {
            let bytes = postcard::to_allocvec(&to_payload(&error)).unwrap();
            let back: ErrorPayload = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(from_payload(back), error);
        }
        let internal = to_payload(&Error::internal("secret"));
        assert!(!internal.message.contains("secret"));
        assert_eq!(internal.details, ErrorDetails::None);
        assert_eq!(
            from_payload(internal),
            Error::internal(domain::error::INTERNAL_PUBLIC_MESSAGE)
        );
    }

    /// The payload bytes are the frozen format of PROTOCOL.md §5, written out by hand:
    /// code, message, then the variant index and its fields.
    #[test]
    fn payload_bytes_are_the_frozen_format() {
        let payload = to_payload(&Error::SeatsUnavailable {
            seats: vec![0.into(), 1.into()],
        });
        let mut expected = vec![17];
        expected.extend_from_slice(b"SEATS_UNAVAILABLE");
        expected.push(28);
        expected.extend_from_slice(b"seats 0, 1 are not available");
        expected.extend_from_slice(&[3, 2, 0, 1]);
        assert_eq!(postcard::to_allocvec(&payload).unwrap(), expected);

        let payload = to_payload(&Error::VersionMismatch {
            expected: 1,
            actual: 300,
        });
        let bytes = postcard::to_allocvec(&payload).unwrap();
        assert_eq!(&bytes[bytes.len() - 4..], &[4, 1, 0xac, 0x02]);

        let payload = to_payload(&Error::internal("secret"));
        assert_eq!(postcard::to_allocvec(&payload).unwrap().last(), Some(&0));
    }

    #[test]
    fn contradictory_or_unknown_payloads_become_internal() {
        for (code, details) in [
            ("NOT_FOUND", ErrorDetails::None),
            (
                "NOT_FOUND",
                ErrorDetails::InvalidState { reason: "x".into() },
            ),
            ("TEAPOT", ErrorDetails::None),
        ] {
            let error = from_payload(ErrorPayload {
                code: code.to_owned(),
                message: "m".to_owned(),
                details,
            });
            assert_eq!(error.code(), ErrorCode::Internal, "{error:?}");
            assert!(error.to_string().contains("malformed error frame"));
        }
    }
}
