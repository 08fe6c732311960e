//! The one place domain errors become GraphQL errors, and GraphQL errors become domain
//! errors again.
//!
//! Every domain error becomes a GraphQL error whose `extensions.code` is the stable
//! Quartet code, with the details a client acts on beside it (`field`, `reason`, `seats`,
//! `expectedVersion`, `actualVersion`, `what`, `limit`, `resource`, `id`: the domain's
//! [`ErrorDetails`], keys in GraphQL's camelCase, 64-bit numbers as strings so they stay
//! exact in every client). The one GraphQL idiom kept: INVALID_ARGUMENT is spelled
//! `BAD_USER_INPUT`, the code GraphQL servers and clients conventionally use for input
//! a resolver refused, and the client maps it back. Errors async-graphql raises itself
//! (depth, complexity, directives, a malformed query, an unknown field) are given codes
//! too, so no error leaves without one.

use async_graphql::{ErrorExtensionValues, ServerError, Value};
use domain::{Error, ErrorCode, ErrorDetails};

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
    let details = error.details();
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code_of(error));
    let text = [
        ("resource", details.resource),
        ("id", details.id),
        ("field", details.field),
        ("reason", details.reason),
        ("what", details.what),
    ];
    for (key, value) in text {
        if let Some(value) = value {
            extensions.set(key, value);
        }
    }
    // u64 values as strings: JSON numbers past 2^53 lose precision in many clients.
    let numbers = [
        ("expectedVersion", details.expected_version),
        ("actualVersion", details.actual_version),
        ("limit", details.limit),
    ];
    for (key, value) in numbers {
        if let Some(value) = value {
            extensions.set(key, value.to_string());
        }
    }
    if let Some(seats) = details.seats {
        extensions.set(
            "seats",
            Value::List(seats.into_iter().map(Value::from).collect()),
        );
    }
    async_graphql::Error {
        message: error.public_message(),
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
    let message = error["message"].as_str().unwrap_or_default();
    let ext = &error["extensions"];
    let text = |key: &str| ext[key].as_str().map(str::to_owned);
    let number = |key: &str| {
        ext[key]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .or_else(|| ext[key].as_u64())
    };
    let details = ErrorDetails {
        resource: text("resource"),
        id: text("id"),
        field: text("field"),
        reason: text("reason"),
        seats: ext["seats"].as_array().map(|seats| {
            seats
                .iter()
                .filter_map(serde_json::Value::as_u64)
                .map(|s| s as u32)
                .collect()
        }),
        expected_version: number("expectedVersion"),
        actual_version: number("actualVersion"),
        what: text("what"),
        limit: number("limit"),
    };
    let code = ext["code"].as_str().unwrap_or_default();
    let parsed = match code {
        BAD_USER_INPUT => Some(ErrorCode::InvalidArgument),
        // INVALID_ARGUMENT is spelled BAD_USER_INPUT here; anything else is not ours.
        code => code
            .parse::<ErrorCode>()
            .ok()
            .filter(|c| *c != ErrorCode::InvalidArgument),
    };
    match parsed {
        Some(code) => Error::from_parts(code, message, details),
        None => Error::internal(format!("GraphQL error with code {code:?}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
            Error::unavailable("the store is unreachable; retry"),
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

    #[test]
    fn extensions_keep_their_names_and_types() {
        let extensions = |error: Error| {
            let server_error = to_graphql(&error).into_server_error(async_graphql::Pos::default());
            serde_json::to_value(server_error).unwrap()["extensions"].take()
        };
        let cases = [
            (
                Error::not_found("event", 3),
                json!({"code": "NOT_FOUND", "resource": "event", "id": "3"}),
            ),
            (
                Error::invalid_argument("seat_ids", "must not repeat a seat"),
                json!({"code": "BAD_USER_INPUT", "field": "seat_ids", "reason": "must not repeat a seat"}),
            ),
            (
                Error::SeatsUnavailable {
                    seats: vec![2.into(), 5.into()],
                },
                json!({"code": "SEATS_UNAVAILABLE", "seats": [2, 5]}),
            ),
            (
                Error::VersionMismatch {
                    expected: 9,
                    actual: 1,
                },
                json!({"code": "VERSION_MISMATCH", "expectedVersion": "9", "actualVersion": "1"}),
            ),
            (
                Error::invalid_state("cancelled"),
                json!({"code": "INVALID_STATE", "reason": "cancelled"}),
            ),
            (
                Error::limit_exceeded("page size", 100u64),
                json!({"code": "LIMIT_EXCEEDED", "what": "page size", "limit": "100"}),
            ),
            (Error::internal("secret"), json!({"code": "INTERNAL"})),
        ];
        for (error, expected) in cases {
            assert_eq!(extensions(error), expected);
        }
    }

    #[test]
    fn foreign_codes_are_internal() {
        for code in ["GRAPHQL_VALIDATION_FAILED", "INVALID_ARGUMENT", ""] {
            let error = json!({"message": "nope", "extensions": {"code": code}});
            assert_eq!(from_graphql(&error).code(), ErrorCode::Internal, "{code}");
        }
    }
}
