//! The one place domain errors become GraphQL errors, and GraphQL errors become domain
//! errors again.
//!
//! Every domain error becomes a GraphQL error whose `extensions.code` is the stable
//! Quartet code, with the details a client acts on beside it (`field`, `reason`, `seats`,
//! `expectedVersion`, `actualVersion`, `what`, `limit`, `resource`, `id`). The one
//! GraphQL idiom kept: INVALID_ARGUMENT is spelled `BAD_USER_INPUT` (design.md §5), and
//! the client maps it back. Errors async-graphql raises itself (depth, complexity,
//! directives, a malformed query, an unknown field) are given codes too, so no error
//! leaves without one.

use async_graphql::{ErrorExtensionValues, ServerError, Value};
use domain::{Error, ErrorCode};

/// `extensions.code` of an INVALID_ARGUMENT error (the GraphQL idiom).
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// `extensions.code` of a query async-graphql refused before running it.
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// The GraphQL code of a domain error.
pub fn code_of(error: &Error) -> &'static str {
    match error.code() {
        ErrorCode::InvalidArgument => BAD_USER_INPUT,
        code => code.as_str(),
    }
}

/// A domain error as a resolver error. Internal details are logged, never sent.
pub fn to_graphql(error: &Error) -> async_graphql::Error {
    let message = match error {
        Error::Internal { message } => {
            tracing::error!(%message, "internal error");
            "the server failed to handle the request".to_owned()
        }
        other => other.to_string(),
    };
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code_of(error));
    match error {
        Error::NotFound { resource, id } => {
            extensions.set("resource", resource.as_str());
            extensions.set("id", id.as_str());
        }
        Error::InvalidArgument { field, reason } => {
            extensions.set("field", field.as_str());
            extensions.set("reason", reason.as_str());
        }
        Error::SeatsUnavailable { seats } => {
            let seats: Vec<Value> = seats.iter().map(|s| Value::from(s.0)).collect();
            extensions.set("seats", Value::List(seats));
        }
        Error::VersionMismatch { expected, actual } => {
            // Versions are u64; strings keep them exact past 2^53 in every client.
            extensions.set("expectedVersion", expected.to_string());
            extensions.set("actualVersion", actual.to_string());
        }
        Error::InvalidState { reason } => extensions.set("reason", reason.as_str()),
        Error::LimitExceeded { what, limit } => {
            extensions.set("what", what.as_str());
            extensions.set("limit", limit.to_string());
        }
        Error::Internal { .. } => {}
    }
    async_graphql::Error {
        message,
        source: None,
        extensions: Some(extensions),
    }
}

/// Gives every error async-graphql raised itself (no `code` yet) a code: the limits
/// become LIMIT_EXCEEDED, anything else GRAPHQL_VALIDATION_FAILED.
pub fn classify(error: &mut ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let limit = [
        ("nested too deep", "query depth"),
        ("too complex", "query complexity"),
        ("directives", "directives per field"),
        ("recursive", "recursion depth"),
    ]
    .into_iter()
    .find(|(needle, _)| error.message.contains(needle));
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    match limit {
        Some((_, what)) => {
            extensions.set("code", ErrorCode::LimitExceeded.as_str());
            extensions.set("what", what);
        }
        None => extensions.set("code", GRAPHQL_VALIDATION_FAILED),
    }
}

/// The domain error a GraphQL error object (as JSON) describes. Codes that are not ours
/// (GRAPHQL_VALIDATION_FAILED: the client's own query is wrong) become INTERNAL.
pub fn from_graphql(error: &serde_json::Value) -> Error {
    let message = error["message"].as_str().unwrap_or_default().to_owned();
    let ext = &error["extensions"];
    let text = |key: &str| ext[key].as_str().unwrap_or_default().to_owned();
    let number = |key: &str| {
        ext[key]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .or_else(|| ext[key].as_u64())
            .unwrap_or_default()
    };
    match ext["code"].as_str().unwrap_or_default() {
        BAD_USER_INPUT => Error::InvalidArgument {
            field: text("field"),
            reason: text("reason"),
        },
        code => match code.parse::<ErrorCode>() {
            Ok(ErrorCode::NotFound) => Error::NotFound {
                resource: text("resource"),
                id: text("id"),
            },
            Ok(ErrorCode::SeatsUnavailable) => Error::SeatsUnavailable {
                seats: ext["seats"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(serde_json::Value::as_u64)
                            .map(|s| (s as u32).into())
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            Ok(ErrorCode::VersionMismatch) => Error::VersionMismatch {
                expected: number("expectedVersion"),
                actual: number("actualVersion"),
            },
            Ok(ErrorCode::InvalidState) => Error::InvalidState {
                reason: text("reason"),
            },
            Ok(ErrorCode::LimitExceeded) => Error::LimitExceeded {
                what: text("what"),
                limit: number("limit"),
            },
            Ok(ErrorCode::Internal) => Error::Internal { message },
            // INVALID_ARGUMENT is spelled BAD_USER_INPUT here; anything else is not ours.
            Ok(ErrorCode::InvalidArgument) | Err(_) => {
                Error::internal(format!("GraphQL error with code {code:?}: {message}"))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_error_round_trips() {
        for error in [
            Error::not_found("event", 3),
            Error::invalid_argument("customer.email", "bad"),
            Error::SeatsUnavailable {
                seats: vec![1.into(), 2.into()],
            },
            Error::VersionMismatch {
                expected: u64::MAX,
                actual: 2,
            },
            Error::invalid_state("cancelled"),
            Error::limit_exceeded("page size", 100u64),
        ] {
            let graphql = to_graphql(&error);
            let json =
                serde_json::to_value(graphql.into_server_error(async_graphql::Pos::default()))
                    .unwrap();
            assert_eq!(from_graphql(&json), error, "{json}");
        }
        let internal = to_graphql(&Error::internal("secret"));
        assert!(!internal.message.contains("secret"));
    }
}
