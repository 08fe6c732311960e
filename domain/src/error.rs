//! The one error vocabulary (design.md §5). Every transport maps these codes to its own
//! idiom at its edge and back again in its client, so the code string survives every hop.

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
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::NotFound,
        ErrorCode::InvalidArgument,
        ErrorCode::SeatsUnavailable,
        ErrorCode::VersionMismatch,
        ErrorCode::InvalidState,
        ErrorCode::LimitExceeded,
        ErrorCode::Internal,
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
    #[error("seats not available: {seats:?}")]
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
}

impl Error {
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
}
