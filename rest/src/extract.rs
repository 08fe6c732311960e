//! Extractors whose every failure is an [`ApiError`], so bad input gets the same
//! problem+json shape as a domain error, naming the offending field.
//!
//! - [`JsonBody`]: content type checked (415), size capped (413), and deserialization
//!   errors reported with the JSON path of the bad field.
//! - [`Id`]: a numeric path id (400 naming `id` otherwise).
//! - [`if_match`] and [`idempotency_key`]: the two headers the booking routes read.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use domain::Error;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, REQUEST_BODY};

/// A JSON request body of type `T`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::with_status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Error::invalid_argument("content-type", "must be application/json"),
            ));
        }
        let limit = request
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(Error::limit_exceeded(REQUEST_BODY, limit as u64))
                } else {
                    ApiError::new(Error::invalid_argument("body", rejection.body_text()))
                }
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The configured body limit, put in the request's extensions by the app so the 413
/// problem can name it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

/// Deserializes JSON, naming the field at fault in the error.
///
/// # Errors
/// `INVALID_ARGUMENT` with the JSON path (e.g. `customer.email`, `seat_ids[2]`), or
/// `body` for a syntax error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde reports a missing field at its parent's path; name the field itself.
        let field = match message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None if inner.is_syntax() || inner.is_eof() || path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::new(Error::invalid_argument(&field, message))
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::new(Error::invalid_argument("body", e.to_string())))?;
    Ok(value)
}

/// A numeric id from the path (`/v1/events/{id}`).
#[derive(Debug, Clone, Copy)]
pub struct Id(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(Error::invalid_argument("id", e.body_text())))?;
        raw.parse::<u64>().map(Id).map_err(|_| {
            ApiError::new(Error::invalid_argument(
                "id",
                format!("must be a non-negative integer, got {raw:?}"),
            ))
        })
    }
}

/// What an `If-Match` header asks a confirm to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match: *`: any current representation matches (RFC 9110, section 13.1.1), so
    /// the booking is confirmed at whatever version it has now.
    Any,
    /// `If-Match: "<version>"`: only this version matches; any other gets 412.
    Version(u64),
}

/// The shape of an `If-Match` value this server evaluates, as the OpenAPI document
/// declares it: `*`, or one strong ETag of ours, a version in canonical decimal (no sign,
/// no leading zeros, at most 19 digits) in double quotes.
pub const IF_MATCH_PATTERN: &str = r#"^(\*|"(0|[1-9][0-9]{0,18})")$"#;

/// The precondition named by `If-Match`: `*` or a strong ETag, `"<version>"`.
///
/// # Errors
/// 428 if the header is missing; 400 if it is neither `*` nor a single strong ETag of
/// ours (see [`IF_MATCH_PATTERN`]).
pub fn if_match(headers: &HeaderMap) -> Result<Precondition, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::with_status(
            StatusCode::PRECONDITION_REQUIRED,
            Error::invalid_argument(
                "if-match",
                "is required: send the booking's ETag (or *) to confirm it",
            ),
        ));
    };
    value.to_str().ok().and_then(parse_if_match).ok_or_else(|| {
        ApiError::new(Error::invalid_argument(
            "if-match",
            "must be * or one strong ETag such as \"3\" (weak ETags cannot match)",
        ))
    })
}

/// The ETag header value for a version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

fn parse_if_match(raw: &str) -> Option<Precondition> {
    let raw = raw.trim();
    if raw == "*" {
        return Some(Precondition::Any);
    }
    parse_etag(raw).map(Precondition::Version)
}

/// A version in the exact form [`etag`] writes it: digits only, no leading zero, at most
/// 19 of them (so every such tag is a `u64`).
fn parse_etag(raw: &str) -> Option<u64> {
    let digits = raw.strip_prefix('"')?.strip_suffix('"')?;
    let canonical = !digits.is_empty()
        && digits.len() <= 19
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if canonical { digits.parse().ok() } else { None }
}

/// The `Idempotency-Key` header, if sent. Its shape is checked by the domain.
///
/// # Errors
/// 400 if the header is not visible ASCII.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_owned).map_err(|_| {
                ApiError::new(Error::invalid_argument(
                    "idempotency_key",
                    "must be printable ASCII without spaces",
                ))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        customer: Customer,
        seats: Vec<u32>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Customer {
        email: String,
    }

    fn field_of(json: &str) -> String {
        match parse_json::<Body>(json.as_bytes()).unwrap_err().error() {
            Error::InvalidArgument { field, .. } => field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(field_of(r#"{"customer":{},"seats":[]}"#), "customer.email");
        assert_eq!(field_of(r#"{"customer":{"email":"a"}}"#), "seats");
        assert_eq!(
            field_of(r#"{"customer":{"email":"a"},"seats":[1,"x"]}"#),
            "seats[1]"
        );
        assert_eq!(field_of(r#"{"customer":"#), "body");
        assert_eq!(
            field_of(r#"{"customer":{"email":"a"},"seats":[]} trailing"#),
            "body"
        );
    }

    #[test]
    fn if_match_parses_strictly() {
        assert_eq!(parse_if_match("\"3\""), Some(Precondition::Version(3)));
        assert_eq!(parse_if_match(" \"12\" "), Some(Precondition::Version(12)));
        assert_eq!(parse_if_match("\"0\""), Some(Precondition::Version(0)));
        assert_eq!(
            parse_if_match("\"9999999999999999999\""),
            Some(Precondition::Version(9_999_999_999_999_999_999))
        );
        assert_eq!(parse_if_match("*"), Some(Precondition::Any));
        for bad in [
            "3",
            "W/\"3\"",
            "\"x\"",
            "\"3\", \"4\"",
            "\"+3\"",
            "\"03\"",
            "\"\"",
            "\"18446744073709551615\"",
            "**",
            "\"*\"",
            "",
        ] {
            assert_eq!(parse_if_match(bad), None, "{bad}");
        }
    }

    #[test]
    fn if_match_pattern_agrees_with_the_parser() {
        let pattern = jsonschema::draft202012::new(&serde_json::json!({
            "type": "string",
            "pattern": IF_MATCH_PATTERN,
        }))
        .unwrap();
        for value in [
            "*",
            "\"0\"",
            "\"1\"",
            "\"10\"",
            "\"9999999999999999999\"",
            "\"+3\"",
            "\"03\"",
            "\"\"",
            "\"18446744073709551615\"",
            "W/\"1\"",
            "1",
            "\"1\", \"2\"",
            "**",
            "\"*\"",
            "\"1\"x",
            "x\"1\"",
        ] {
            assert_eq!(
                pattern.is_valid(&serde_json::json!(value)),
                parse_if_match(value).is_some(),
                "{value}"
            );
        }
    }
}

/// Query parameters of type `T` (all-string fields, parsed by the handler so each bad
/// value names its parameter).
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::new(Error::invalid_argument("query", e.body_text())))
    }
}

/// Parses an optional numeric parameter.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field`.
pub fn parse_u32(field: &str, raw: Option<&str>) -> Result<Option<u32>, ApiError> {
    raw.map(|v| {
        v.parse::<u32>().map_err(|_| {
            ApiError::new(Error::invalid_argument(
                field,
                format!("must be a non-negative integer, got {v:?}"),
            ))
        })
    })
    .transpose()
}

/// Parses an optional RFC 3339 time parameter.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field`.
pub fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<domain::Timestamp>, ApiError> {
    raw.map(|v| {
        chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| domain::model::truncate_to_micros(t.to_utc()))
            .map_err(|_| {
                ApiError::new(Error::invalid_argument(
                    field,
                    format!("must be an RFC 3339 time such as 2027-05-01T00:00:00Z, got {v:?}"),
                ))
            })
    })
    .transpose()
}

/// Parses an optional category parameter.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `category`.
pub fn parse_category(raw: Option<&str>) -> Result<Option<domain::Category>, ApiError> {
    raw.map(|v| v.parse::<domain::Category>().map_err(ApiError::new))
        .transpose()
}
