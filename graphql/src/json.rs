//! Writing responses as JSON, with pre-rendered parts copied as they are.
//!
//! A big list (the seat map's seats) is rendered to JSON text by its resolver when the
//! request carries [`RawJson`](crate::schema::types::RawJson), and travels to here as a
//! `Value::Binary`; [`response`] writes every other value as serde would and copies
//! those bytes in place. This schema has no binary scalar, so `Binary` means only that.
//! Use these writers for responses from [`Engine::execute_raw`](crate::prepared::Engine::execute_raw);
//! a response from `Schema::execute` or [`Engine::execute`](crate::prepared::Engine::execute)
//! has no pre-rendered parts and writes the same either way.

use async_graphql::{BatchResponse, Response, Value};

/// `response` as JSON: `data`, then `extensions` and `errors` when not empty (as
/// async-graphql's own serialisation has them).
///
/// # Errors
/// Only if a value cannot be written (serde_json's errors; none are expected).
pub fn response(response: &Response) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256 + rendered_len(&response.data));
    write_response(&mut out, response)?;
    Ok(out)
}

/// A batch response as JSON: one response, or an array of them.
///
/// # Errors
/// As [`response`].
pub fn batch(batch: &BatchResponse) -> Result<Vec<u8>, serde_json::Error> {
    let rendered = match batch {
        BatchResponse::Single(one) => rendered_len(&one.data),
        BatchResponse::Batch(all) => all.iter().map(|one| rendered_len(&one.data)).sum(),
    };
    let mut out = Vec::with_capacity(256 + rendered);
    match batch {
        BatchResponse::Single(one) => write_response(&mut out, one)?,
        BatchResponse::Batch(all) => {
            out.push(b'[');
            for (i, one) in all.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_response(&mut out, one)?;
            }
            out.push(b']');
        }
    }
    Ok(out)
}

/// Bytes of pre-rendered JSON in `value` (so the output is allocated once, not grown
/// and copied while a megabyte list is written into it).
fn rendered_len(value: &Value) -> usize {
    match value {
        Value::Object(fields) => fields.values().map(rendered_len).sum(),
        Value::List(items) => items.iter().map(rendered_len).sum(),
        Value::Binary(rendered) => rendered.len(),
        _ => 0,
    }
}

fn write_response(out: &mut Vec<u8>, response: &Response) -> Result<(), serde_json::Error> {
    out.extend_from_slice(b"{\"data\":");
    write_value(out, &response.data)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut *out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut *out, &response.errors)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), serde_json::Error> {
    match value {
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, field)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key.as_str())?;
                out.push(b':');
                write_value(out, field)?;
            }
            out.push(b'}');
        }
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Binary(rendered) => out.extend_from_slice(rendered),
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(text) => write_str(out, text)?,
        Value::Enum(name) => write_str(out, name.as_str())?,
        Value::Number(number) => serde_json::to_writer(&mut *out, number)?,
    }
    Ok(())
}

/// `text` as a JSON string. Response keys and enum values are GraphQL names (letters,
/// digits, `_`), which need no escaping, so they are copied between quotes; anything
/// else goes through serde_json's escaping.
fn write_str(out: &mut Vec<u8>, text: &str) -> Result<(), serde_json::Error> {
    if text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(&mut *out, text)
    }
}
