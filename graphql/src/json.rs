//! Writing responses as JSON, with pre-rendered parts copied as they are.
//!
//! A big list (the seat map's seats) is rendered to JSON text by its resolver when the
//! request carries [`RawJson`](crate::schema::types::RawJson), and travels to here as a
//! `Value::Binary`; so are objects resolved by [`Inline`](crate::schema::inline::Inline)
//! when the document allows it (see [`RawJson`](crate::schema::types::RawJson)).
//! [`response`] writes every other value as serde would and copies those bytes in
//! place. This schema has no binary scalar, so `Binary` means only that. Use these
//! writers for responses from [`Engine::execute_raw`](crate::prepared::Engine::execute_raw);
//! a response from `Schema::execute` or [`Engine::execute`](crate::prepared::Engine::execute)
//! has no pre-rendered parts and writes the same either way.
//!
//! The small writers here (`write_str`, `write_u64`, ...) are what the resolvers that
//! render their own JSON use too, so every string and number of a response is written
//! one way, byte for byte as serde_json writes it.

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

/// `value` as JSON, `Binary` parts copied as they are.
///
/// # Errors
/// Only serde_json's, for a number it cannot write (none are expected).
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), serde_json::Error> {
    match value {
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, field)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key.as_str());
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
        Value::String(text) => write_str(out, text),
        Value::Enum(name) => write_str(out, name.as_str()),
        Value::Number(number) => {
            // Integers (every number of this schema but a search score) skip serde's
            // serializer; a float goes through it (ryu, and its handling of the rest).
            if let Some(n) = number.as_u64() {
                write_u64(out, n);
            } else if let Some(n) = number.as_i64() {
                write_i64(out, n);
            } else {
                serde_json::to_writer(&mut *out, number)?;
            }
        }
    }
    Ok(())
}

/// `text` as a JSON string, escaped exactly as serde_json escapes it: only `"`, `\`
/// and the control characters below U+0020 are escaped, so text without them (nearly
/// every name, tag and description) is copied between quotes in one go.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        escape(out, text);
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Whether `bytes` has a byte serde_json escapes (below 0x20, `"` or `\`). Eight bytes
/// at a time: checking byte by byte was most of the cost of writing an event's
/// description. Each test is the "has a zero byte" bit trick, which never misses a
/// match (and can only over-report next to a real one, which changes nothing here).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let quote = has_zero(w ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(w ^ (ONES * u64::from(b'\\')));
        if control | quote | backslash != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// The slow path of [`write_str`]: serde_json's own escaping.
#[cold]
fn escape(out: &mut Vec<u8>, text: &str) {
    // Writing a string into a `Vec` cannot fail: serde_json's only errors for a `&str`
    // are the writer's, and a `Vec`'s writes do not fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// `n` in decimal, as serde_json writes an unsigned integer.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // n % 10 < 10: the cast cannot truncate.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// `n` in decimal, as serde_json writes a signed integer.
pub(crate) fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// `n` as a JSON string of its decimal digits (how this schema's `ID`s are written).
pub(crate) fn write_id(out: &mut Vec<u8>, n: u64) {
    out.push(b'"');
    write_u64(out, n);
    out.push(b'"');
}

/// `at` as the JSON string async-graphql's `DateTime<Utc>` scalar gives it (chrono's
/// `to_rfc3339`: `2026-03-01T19:00:00+00:00`, with 3, 6 or 9 digits of fraction when
/// the fraction is not zero). Years 0 to 9999 and no leap second (every timestamp the
/// domain makes) are written here; anything else goes through chrono.
pub(crate) fn write_timestamp(out: &mut Vec<u8>, at: &chrono::DateTime<chrono::Utc>) {
    use chrono::{Datelike, Timelike};
    let naive = at.naive_utc();
    let (date, time) = (naive.date(), naive.time());
    let year = date.year();
    let nano = time.nanosecond();
    let Ok(year) = u32::try_from(year) else {
        return write_str(out, &at.to_rfc3339());
    };
    if year > 9999 || nano >= 1_000_000_000 {
        return write_str(out, &at.to_rfc3339());
    }
    let mut text = [0u8; 36];
    let mut len = 0;
    let mut put = |digits: u32, width: u32| {
        let mut divisor = 10u32.pow(width - 1);
        for _ in 0..width {
            // Each digit is below 10: the cast cannot truncate.
            text[len] = b'0' + ((digits / divisor) % 10) as u8;
            len += 1;
            divisor /= 10;
        }
    };
    put(year, 4);
    put(date.month(), 2);
    put(date.day(), 2);
    put(time.hour(), 2);
    put(time.minute(), 2);
    put(time.second(), 2);
    let (fraction, width) = if nano == 0 {
        (0, 0)
    } else if nano % 1_000_000 == 0 {
        (nano / 1_000_000, 3)
    } else if nano % 1_000 == 0 {
        (nano / 1_000, 6)
    } else {
        (nano, 9)
    };
    if width > 0 {
        put(fraction, width);
    }
    let digits = &text[..len];
    out.reserve(36);
    out.push(b'"');
    out.extend_from_slice(&digits[0..4]);
    out.push(b'-');
    out.extend_from_slice(&digits[4..6]);
    out.push(b'-');
    out.extend_from_slice(&digits[6..8]);
    out.push(b'T');
    out.extend_from_slice(&digits[8..10]);
    out.push(b':');
    out.extend_from_slice(&digits[10..12]);
    out.push(b':');
    out.extend_from_slice(&digits[12..14]);
    if width > 0 {
        out.push(b'.');
        out.extend_from_slice(&digits[14..]);
    }
    out.extend_from_slice(b"+00:00\"");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let samples = [
            "",
            "plain",
            "with space, punctuation: ./-'!",
            "quote \" backslash \\ slash /",
            "control \n \t \r \u{1} \u{1f} del \u{7f}",
            "non-ASCII é ü 東京 🎵",
        ];
        // Every byte kind at every offset of a text of up to 37 bytes (words and a tail).
        let mut texts: Vec<String> = samples.iter().map(|s| (*s).to_owned()).collect();
        for special in [
            '"', '\\', '\n', '\u{1}', '\u{1f}', ' ', '!', '#', '[', ']', '\u{7f}', 'é',
        ] {
            for at in 0..27 {
                let mut text: String = "abcdefghijklmnopqrstuvwxyz".chars().take(at).collect();
                text.push(special);
                text.push_str("0123456789");
                texts.push(text);
            }
        }
        for sample in &texts {
            let sample = sample.as_str();
            assert_eq!(
                text(|out| write_str(out, sample)),
                serde_json::to_string(sample).unwrap_or_default(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn integers_are_written_as_serde_json_writes_them() {
        for n in [0, 1, 9, 10, 99, 12_345, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(text(|out| write_u64(out, n)), n.to_string());
        }
        for n in [0, -1, 7, -10, 1_000_000, i64::MIN, i64::MAX] {
            assert_eq!(text(|out| write_i64(out, n)), n.to_string());
        }
        assert_eq!(text(|out| write_id(out, 42)), "\"42\"");
    }

    #[test]
    fn timestamps_are_written_as_the_scalar_gives_them() {
        use chrono::{TimeZone, Utc};
        let mut samples = vec![
            Utc.timestamp_opt(0, 0).single(),
            Utc.timestamp_opt(1_772_391_600, 0).single(),
            Utc.timestamp_opt(1_772_391_600, 5_000_000).single(),
            Utc.timestamp_opt(1_772_391_600, 120_000).single(),
            Utc.timestamp_opt(1_772_391_600, 1).single(),
            Utc.timestamp_opt(1_772_391_600, 999_999_999).single(),
            // A leap second, and years outside 0..=9999: chrono's own path.
            Utc.timestamp_opt(1_483_228_799, 1_500_000_000).single(),
            Utc.timestamp_opt(-62_198_755_200, 0).single(),
            Utc.timestamp_opt(253_402_300_800, 0).single(),
        ];
        // A spread of instants over the years the domain uses, with every fraction kind.
        let mut seconds: i64 = 946_684_800;
        let mut nanos: u32 = 0;
        for _ in 0..2_000 {
            samples.push(Utc.timestamp_opt(seconds, nanos).single());
            seconds += 86_399 * 7 + 3_601;
            nanos = (nanos + 123_457_000) % 1_000_000_000;
        }
        for at in samples.into_iter().flatten() {
            let expected = serde_json::to_string(&at.to_rfc3339()).unwrap_or_default();
            assert_eq!(text(|out| write_timestamp(out, &at)), expected, "{at:?}");
        }
    }
}
