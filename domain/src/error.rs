//! The one error vocabulary. Every transport maps these codes to its own idiom at its edge
//! and back again in its client, so the code string survives every hop.
//!
//! What the four error modules share lives here, so they shrink to a status table and an
//! envelope: [`Error::details`] flattens an error into [`ErrorDetails`] (every field a
//! client acts on, typed), [`Error::from_parts`] rebuilds the identical error from a code,
//! a message and those details, and [`Error::public_message`] is the one text a client may
//! see (an internal error is logged there, once, and replaced by a generic sentence).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::SeatId;

/// Result of every `Ticketing` operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The stable code of an [`Error`]: the same string in every protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The thing asked for does not exist.
    NotFound,
    /// An argument is malformed or out of its domain.
    InvalidArgument,
    /// Some requested seats are held or sold.
    SeatsUnavailable,
    /// The expected version is not the current one.
    VersionMismatch,
    /// The operation is not allowed in the current state.
    InvalidState,
    /// A request exceeds a configured limit.
    LimitExceeded,
    /// A bug or an unexpected failure; details are logged, not returned.
    Internal,
    /// The store cannot be reached right now (e.g. the database is down); retry later.
    Unavailable,
    /// The request's credentials are missing where needed, malformed, expired, not yet
    /// valid or wrongly signed.
    Unauthenticated,
    /// The caller is known but its token lacks what the operation needs (a scope, or the
    /// right customer).
    PermissionDenied,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::NotFound,
        ErrorCode::InvalidArgument,
        ErrorCode::SeatsUnavailable,
        ErrorCode::VersionMismatch,
        ErrorCode::InvalidState,
        ErrorCode::LimitExceeded,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::Unauthenticated,
        ErrorCode::PermissionDenied,
    ];

    /// The stable string, e.g. `"SEATS_UNAVAILABLE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::SeatsUnavailable => "SEATS_UNAVAILABLE",
            ErrorCode::VersionMismatch => "VERSION_MISMATCH",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code string that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

/// Everything that can go wrong in a `Ticketing` operation, with the details a client
/// needs to act on it without parsing a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("{resource} {id} not found")]
    NotFound {
        /// What kind of thing: "event", "venue", "performer" or "booking".
        resource: String,
        /// The id that was asked for.
        id: String,
    },
    /// An argument is malformed or out of its domain.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The offending field, in `snake_case` (e.g. `customer.email`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Some of the requested seats are held or sold; nothing was held.
    #[error("{}", seats_message(.seats))]
    SeatsUnavailable {
        /// The requested seats that are not available, ascending.
        seats: Vec<SeatId>,
    },
    /// The caller's expected version is stale; nothing changed.
    #[error("version mismatch: expected {expected}, actual {actual}")]
    VersionMismatch {
        /// The version the caller named.
        expected: u64,
        /// The current version.
        actual: u64,
    },
    /// The operation is not allowed in the current state, e.g. confirming a cancelled booking.
    #[error("invalid state: {reason}")]
    InvalidState {
        /// Why the operation is refused.
        reason: String,
    },
    /// The request exceeds a configured limit.
    #[error("limit exceeded: {what} (limit {limit})")]
    LimitExceeded {
        /// Which limit, e.g. "seats per hold".
        what: String,
        /// The configured maximum.
        limit: u64,
    },
    /// An unexpected failure. The message is safe to show; details stay in the server's log.
    #[error("internal error: {message}")]
    Internal {
        /// A message with no internals in it.
        message: String,
    },
    /// The store cannot be reached right now (the database is down, a connection was
    /// lost, a statement timed out); nothing was changed that was not acknowledged, and
    /// the same request may be retried.
    #[error("unavailable: {reason}")]
    Unavailable {
        /// Why, with no internals in it.
        reason: String,
    },
    /// The request's credentials are missing where the operation needs them, or the token
    /// is malformed, expired, not yet valid or wrongly signed. Nothing was done.
    #[error("unauthenticated: {reason}")]
    Unauthenticated {
        /// What is wrong with the credentials, with nothing of the key in it.
        reason: String,
    },
    /// The caller's token is valid but does not allow the operation (a missing scope, or a
    /// hold for another customer). Nothing was done.
    #[error("permission denied: {reason}")]
    PermissionDenied {
        /// What the token lacks.
        reason: String,
    },
}

/// "seats 0, 1 are not available": the message of `SEATS_UNAVAILABLE`.
fn seats_message(seats: &[SeatId]) -> String {
    let list: Vec<String> = seats.iter().map(|s| s.0.to_string()).collect();
    match seats.len() {
        1 => format!("seat {} is not available", list[0]),
        _ => format!("seats {} are not available", list.join(", ")),
    }
}

/// The sentence a client sees instead of an internal error's message.
pub const INTERNAL_PUBLIC_MESSAGE: &str = "the server failed to handle the request";

/// Every detail an [`Error`] carries, flattened into optional fields with the same names
/// in every protocol (REST problem members, gRPC `ErrorInfo` metadata keys, GraphQL
/// `extensions` keys). Which fields are set depends on the code; see [`Error::details`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// NOT_FOUND: the kind of thing (`event`, `venue`, `performer`, `booking`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// NOT_FOUND: the id asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// INVALID_ARGUMENT: the offending field, e.g. `customer.email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// INVALID_ARGUMENT, INVALID_STATE, UNAVAILABLE, UNAUTHENTICATED and
    /// PERMISSION_DENIED: what is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// SEATS_UNAVAILABLE: the requested seats already held or sold, ascending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<Vec<u32>>,
    /// VERSION_MISMATCH: the version the request named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    /// VERSION_MISMATCH: the current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
    /// LIMIT_EXCEEDED: which limit, e.g. `seats per hold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// LIMIT_EXCEEDED: the configured maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl ErrorDetails {
    /// The details as `(key, value)` text pairs, for envelopes that carry only strings
    /// (gRPC `ErrorInfo.metadata`). Seats are comma-separated.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut text = |key: &'static str, value: &Option<String>| {
            if let Some(v) = value {
                pairs.push((key, v.clone()));
            }
        };
        text("resource", &self.resource);
        text("id", &self.id);
        text("field", &self.field);
        text("reason", &self.reason);
        text("what", &self.what);
        if let Some(seats) = &self.seats {
            let list: Vec<String> = seats.iter().map(ToString::to_string).collect();
            pairs.push(("seats", list.join(",")));
        }
        for (key, value) in [
            ("expected_version", self.expected_version),
            ("actual_version", self.actual_version),
            ("limit", self.limit),
        ] {
            if let Some(v) = value {
                pairs.push((key, v.to_string()));
            }
        }
        pairs
    }

    /// The details from text pairs written by [`ErrorDetails::to_pairs`]. Unknown keys
    /// are ignored; a number or seat list that does not parse is left out, so a garbled
    /// peer yields a less detailed error rather than a failure.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut details = ErrorDetails::default();
        for (key, value) in pairs {
            let text = Some(value.to_owned());
            let number = value.parse::<u64>().ok();
            match key {
                "resource" => details.resource = text,
                "id" => details.id = text,
                "field" => details.field = text,
                "reason" => details.reason = text,
                "what" => details.what = text,
                "expected_version" => details.expected_version = number,
                "actual_version" => details.actual_version = number,
                "limit" => details.limit = number,
                "seats" => {
                    details.seats = if value.is_empty() {
                        Some(Vec::new())
                    } else {
                        value
                            .split(',')
                            .map(|s| s.trim().parse::<u32>())
                            .collect::<Result<Vec<_>, _>>()
                            .ok()
                    };
                }
                _ => {}
            }
        }
        details
    }
}

impl Error {
    /// The typed details of this error, flattened (see [`ErrorDetails`]).
    pub fn details(&self) -> ErrorDetails {
        let mut d = ErrorDetails::default();
        match self {
            Error::NotFound { resource, id } => {
                d.resource = Some(resource.clone());
                d.id = Some(id.clone());
            }
            Error::InvalidArgument { field, reason } => {
                d.field = Some(field.clone());
                d.reason = Some(reason.clone());
            }
            Error::SeatsUnavailable { seats } => {
                d.seats = Some(seats.iter().map(|s| s.0).collect());
            }
            Error::VersionMismatch { expected, actual } => {
                d.expected_version = Some(*expected);
                d.actual_version = Some(*actual);
            }
            Error::InvalidState { reason }
            | Error::Unavailable { reason }
            | Error::Unauthenticated { reason }
            | Error::PermissionDenied { reason } => {
                d.reason = Some(reason.clone());
            }
            Error::LimitExceeded { what, limit } => {
                d.what = Some(what.clone());
                d.limit = Some(*limit);
            }
            Error::Internal { .. } => {}
        }
        d
    }

    /// Rebuilds an error from what crossed the wire: its code, its public message and its
    /// details. The inverse of ([`Error::code`], [`Error::public_message`],
    /// [`Error::details`]) for every error but `INTERNAL`, whose message is the public one.
    /// Missing details become empty values, so a client never fails to build an error.
    pub fn from_parts(code: ErrorCode, message: &str, details: ErrorDetails) -> Self {
        let text = |v: Option<String>| v.unwrap_or_default();
        match code {
            ErrorCode::NotFound => Error::NotFound {
                resource: text(details.resource),
                id: text(details.id),
            },
            ErrorCode::InvalidArgument => Error::InvalidArgument {
                field: text(details.field),
                reason: text(details.reason),
            },
            ErrorCode::SeatsUnavailable => Error::SeatsUnavailable {
                seats: details
                    .seats
                    .unwrap_or_default()
                    .into_iter()
                    .map(SeatId)
                    .collect(),
            },
            ErrorCode::VersionMismatch => Error::VersionMismatch {
                expected: details.expected_version.unwrap_or_default(),
                actual: details.actual_version.unwrap_or_default(),
            },
            ErrorCode::InvalidState => Error::InvalidState {
                reason: text(details.reason),
            },
            ErrorCode::LimitExceeded => Error::LimitExceeded {
                what: text(details.what),
                limit: details.limit.unwrap_or_default(),
            },
            ErrorCode::Internal => Error::Internal {
                message: message.to_owned(),
            },
            ErrorCode::Unavailable => Error::Unavailable {
                reason: text(details.reason),
            },
            ErrorCode::Unauthenticated => Error::Unauthenticated {
                reason: text(details.reason),
            },
            ErrorCode::PermissionDenied => Error::PermissionDenied {
                reason: text(details.reason),
            },
        }
    }

    /// The message a client may see. For `INTERNAL` the real message is logged here, at
    /// error level, and a generic sentence ([`INTERNAL_PUBLIC_MESSAGE`]) is returned, so
    /// no transport can leak internals by forgetting to. Call it once per error sent.
    pub fn public_message(&self) -> String {
        if let Error::Internal { message } = self {
            tracing::error!(%message, "internal error");
            INTERNAL_PUBLIC_MESSAGE.to_owned()
        } else {
            self.to_string()
        }
    }

    /// The stable code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Error::SeatsUnavailable { .. } => ErrorCode::SeatsUnavailable,
            Error::VersionMismatch { .. } => ErrorCode::VersionMismatch,
            Error::InvalidState { .. } => ErrorCode::InvalidState,
            Error::LimitExceeded { .. } => ErrorCode::LimitExceeded,
            Error::Internal { .. } => ErrorCode::Internal,
            Error::Unavailable { .. } => ErrorCode::Unavailable,
            Error::Unauthenticated { .. } => ErrorCode::Unauthenticated,
            Error::PermissionDenied { .. } => ErrorCode::PermissionDenied,
        }
    }

    /// A `NOT_FOUND` for `resource` with `id`.
    pub fn not_found(resource: &str, id: impl fmt::Display) -> Self {
        Error::NotFound {
            resource: resource.to_owned(),
            id: id.to_string(),
        }
    }

    /// An `INVALID_ARGUMENT` for `field`.
    pub fn invalid_argument(field: &str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// An `INVALID_STATE` with a reason.
    pub fn invalid_state(reason: impl Into<String>) -> Self {
        Error::InvalidState {
            reason: reason.into(),
        }
    }

    /// A `LIMIT_EXCEEDED` for `what` with its `limit`.
    pub fn limit_exceeded(what: &str, limit: impl Into<u64>) -> Self {
        Error::LimitExceeded {
            what: what.to_owned(),
            limit: limit.into(),
        }
    }

    /// An `UNAVAILABLE` error: the store cannot be reached; the caller may retry. Log the
    /// cause where it happens; pass only a safe reason here.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Error::Unavailable {
            reason: reason.into(),
        }
    }

    /// An `UNAUTHENTICATED` error with a reason (never the token or the key).
    pub fn unauthenticated(reason: impl Into<String>) -> Self {
        Error::Unauthenticated {
            reason: reason.into(),
        }
    }

    /// A `PERMISSION_DENIED` error with a reason.
    pub fn permission_denied(reason: impl Into<String>) -> Self {
        Error::PermissionDenied {
            reason: reason.into(),
        }
    }

    /// An `INTERNAL` error. Log the cause where it happens; pass only a safe message here.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_has_its_string_and_carries_its_reason() {
        let e = Error::unavailable("the database is unreachable; retry");
        assert_eq!(e.code().as_str(), "UNAVAILABLE");
        assert_eq!(
            "UNAVAILABLE".parse::<ErrorCode>(),
            Ok(ErrorCode::Unavailable)
        );
        assert_eq!(
            e.public_message(),
            "unavailable: the database is unreachable; retry"
        );
        assert_eq!(serde_json::to_value(&e).unwrap()["code"], "UNAVAILABLE");
    }

    #[test]
    fn code_strings_round_trip_and_match_serde_tag() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
        assert!("not_found".parse::<ErrorCode>().is_err());
        let json = serde_json::to_value(Error::SeatsUnavailable {
            seats: vec![SeatId(3)],
        })
        .unwrap();
        assert_eq!(json["code"], "SEATS_UNAVAILABLE");
        assert_eq!(json["seats"][0], 3);
    }

    fn one_of_each() -> Vec<Error> {
        vec![
            Error::not_found("event", 9),
            Error::invalid_argument("customer.email", "must contain @"),
            Error::SeatsUnavailable {
                seats: vec![SeatId(0), SeatId(1)],
            },
            Error::SeatsUnavailable { seats: vec![] },
            Error::VersionMismatch {
                expected: 1,
                actual: 2,
            },
            Error::invalid_state("booking 3 is cancelled"),
            Error::limit_exceeded("seats per hold", 8u32),
            Error::unavailable("the database is unreachable; retry"),
        ]
    }

    #[test]
    fn details_and_parts_round_trip_for_every_public_error() {
        for error in one_of_each() {
            let back = Error::from_parts(error.code(), &error.public_message(), error.details());
            assert_eq!(back, error);
            let pairs = error.details().to_pairs();
            let details = ErrorDetails::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
            assert_eq!(details, error.details(), "{error:?}");
        }
    }

    #[test]
    fn seats_unavailable_reads_as_a_sentence() {
        let two = Error::SeatsUnavailable {
            seats: vec![SeatId(0), SeatId(1)],
        };
        assert_eq!(two.to_string(), "seats 0, 1 are not available");
        let one = Error::SeatsUnavailable {
            seats: vec![SeatId(7)],
        };
        assert_eq!(one.to_string(), "seat 7 is not available");
    }

    #[test]
    fn internal_messages_never_leave() {
        let error = Error::internal("db password hunter2");
        assert_eq!(error.public_message(), INTERNAL_PUBLIC_MESSAGE);
        assert!(error.details().to_pairs().is_empty());
    }

    #[test]
    fn garbled_pairs_give_less_detail_not_a_failure() {
        let d = ErrorDetails::from_pairs([("seats", "1,x"), ("limit", "many"), ("zzz", "1")]);
        assert_eq!(d, ErrorDetails::default());
    }
}
