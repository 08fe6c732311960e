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

/// The domain error a status describes: the client's mapping. A status without our
/// `ErrorInfo` (a transport failure, a deadline, a proxy) becomes the closest domain
/// error, with the status in the message:
///
/// - `LIMIT_EXCEEDED` for tonic's own message-size refusals;
/// - `UNAVAILABLE` (the domain's "try again later") when the server could not be reached
///   or the call ended without an answer because the connection did: tonic's
///   UNAVAILABLE (a refused connect), CANCELLED (hyper's "operation was canceled", the
///   call's connection closed under it; or its deadline), and a graceful GOAWAY or a
///   broken connection, which tonic reports as INTERNAL/UNKNOWN "h2 protocol error" (see
///   [`is_transport_gone`]; gRPC's own clients say UNAVAILABLE there too). UNAVAILABLE
///   does **not** say the call was not applied: one whose connection ended after it was
///   sent may or may not have been, so a caller retries only what is safe to repeat (a
///   read, a hold with an idempotency key);
/// - `INTERNAL` otherwise: a real protocol error, a status we cannot place.
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
            code => {
                let message = format!("gRPC {code:?}: {}", status.message());
                if is_transport_gone(status) {
                    Error::unavailable(message)
                } else {
                    Error::internal(message)
                }
            }
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

/// The domain error for a channel that could not connect to `addr`, with the whole cause
/// chain (`text`): `UNAVAILABLE` when the server could not be reached (refused, timed
/// out, unreachable, reset), so a caller may retry; `INTERNAL` otherwise (a TLS failure:
/// a certificate that does not verify will not on a retry either). Nothing was sent.
pub(crate) fn connect_error(
    addr: std::net::SocketAddr,
    e: &tonic::transport::Error,
    text: &str,
) -> Error {
    use std::io::ErrorKind;
    let message = format!("cannot connect to {addr}: {text}");
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::TimedOut
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::AddrNotAvailable
            )
        {
            return Error::unavailable(message);
        }
        source = cause.source();
    }
    Error::internal(message)
}

/// Whether a status without our `ErrorInfo` says the server was unreachable or the
/// connection ended under the call, rather than that someone broke the protocol: the
/// codes UNAVAILABLE and CANCELLED, or an `h2::Error` in its source chain that is a
/// GOAWAY from the server with NO_ERROR (a graceful shutdown refusing streams it will not
/// serve) or REFUSED_STREAM, or the connection's I/O failing. A GOAWAY or reset with any
/// other reason (PROTOCOL_ERROR, ...) stays a protocol error.
fn is_transport_gone(status: &Status) -> bool {
    if matches!(status.code(), Code::Unavailable | Code::Cancelled) {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
    while let Some(cause) = source {
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            let graceful = h2.is_go_away()
                && h2.is_remote()
                && matches!(
                    h2.reason(),
                    Some(h2::Reason::NO_ERROR | h2::Reason::REFUSED_STREAM)
                );
            return graceful || h2.is_io();
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            if matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
                    | ErrorKind::NotConnected
            ) {
                return true;
            }
        }
        source = cause.source();
    }
    false
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
        let other = from_status(&Status::unknown("a proxy said no"));
        assert_eq!(other.code(), ErrorCode::Internal);
    }

    #[test]
    fn an_unreachable_or_departing_server_is_unavailable() {
        for status in [
            Status::unavailable("tcp connect error: Connection refused (os error 111)"),
            Status::cancelled("operation was canceled"),
        ] {
            let error = from_status(&status);
            assert_eq!(error.code(), ErrorCode::Unavailable, "{status:?}");
            assert!(error.to_string().contains(status.message()), "{error}");
        }
        // tonic makes INTERNAL "h2 protocol error" of every NO_ERROR h2 error. Only a
        // GOAWAY from the server (a graceful shutdown) is UNAVAILABLE; h2 builds those
        // itself, so the drain test (bench/tests/drain.rs) covers that path end to end.
        // A NO_ERROR that is no GOAWAY (a stream reset without a status) is a protocol
        // violation and stays INTERNAL.
        let reset: h2::Error = h2::Reason::NO_ERROR.into();
        let status = Status::from_error(Box::new(reset));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(from_status(&status).code(), ErrorCode::Internal);
        let protocol: h2::Error = h2::Reason::PROTOCOL_ERROR.into();
        let status = Status::from_error(Box::new(protocol));
        assert_eq!(from_status(&status).code(), ErrorCode::Internal);
    }

    #[tokio::test]
    async fn a_refused_connect_is_unavailable() {
        // A port just bound and released: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = crate::client::channel(addr, &netkit::config::ClientConfig::default())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
    }

    #[test]
    fn a_broken_connection_under_a_call_is_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let status = Status::from_error(Box::new(io));
        assert_eq!(status.code(), Code::Unknown);
        assert_eq!(
            from_status(&status).code(),
            ErrorCode::Unavailable,
            "{status:?}"
        );
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
