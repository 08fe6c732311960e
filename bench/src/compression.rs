//! Response compression as the harness's own clients see it: which encoding a
//! `Content-Encoding` names, and decoding a gzip or zstd body into a buffer with a hard
//! cap, so a hostile or broken answer cannot make the load generator hold more than its
//! response limit. The lean HTTP/1.1 clients ([`crate::lean`]) and the metered transport
//! of the `Ticketing` clients ([`crate::metering::http`]) decode with it; gRPC's client
//! decodes for itself (tonic). Asking for an encoding is each client's business.

use std::io::{self, Read};

pub use netkit::config::Compression;

/// The encoding a `Content-Encoding` value names: `Some(Compression::None)` for
/// `identity`, `None` for anything the harness cannot decode (several codings,
/// `br`, `deflate`, garbage).
pub fn from_content_encoding(value: &[u8]) -> Option<Compression> {
    let value = value.trim_ascii();
    [
        (&b"identity"[..], Compression::None),
        (b"gzip", Compression::Gzip),
        (b"x-gzip", Compression::Gzip),
        (b"zstd", Compression::Zstd),
    ]
    .into_iter()
    .find(|(name, _)| value.eq_ignore_ascii_case(name))
    .map(|(_, c)| c)
}

/// Decodes `body`, compressed with `encoding`, into `out` (cleared first), refusing to
/// produce more than `max_bytes`.
///
/// # Errors
/// `InvalidData` if the body is not valid `encoding` data or decodes to more than
/// `max_bytes`.
pub fn decode(
    encoding: Compression,
    body: &[u8],
    max_bytes: usize,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    out.clear();
    // One byte past the cap tells "exactly at the limit" from "over it".
    let cap = max_bytes as u64 + 1;
    match encoding {
        Compression::None => out.extend_from_slice(body),
        Compression::Gzip => {
            flate2::read::GzDecoder::new(body)
                .take(cap)
                .read_to_end(out)
                .map_err(|e| invalid(encoding, &e))?;
        }
        Compression::Zstd => {
            zstd::stream::read::Decoder::with_buffer(body)
                .map_err(|e| invalid(encoding, &e))?
                .take(cap)
                .read_to_end(out)
                .map_err(|e| invalid(encoding, &e))?;
        }
    }
    if out.len() > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a {encoding} body decodes to more than the {max_bytes}-byte limit"),
        ));
    }
    Ok(())
}

fn invalid(encoding: Compression, e: &io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("bad {encoding} response body: {e}"),
    )
}

/// `body` compressed with `encoding` at the default level (for tests and fixtures).
///
/// # Errors
/// Only if the encoder fails, which writing to memory does not.
pub fn encode(encoding: Compression, body: &[u8]) -> io::Result<Vec<u8>> {
    use std::io::Write as _;
    match encoding {
        Compression::None => Ok(body.to_vec()),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body)?;
            encoder.finish()
        }
        Compression::Zstd => zstd::encode_all(body, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_round_trips_and_names_parse() {
        let body = b"{\"seats\":[1,2,3]}".repeat(100);
        for encoding in Compression::ALL {
            let packed = encode(encoding, &body).unwrap();
            if encoding != Compression::None {
                assert!(packed.len() < body.len() / 4, "{encoding}");
            }
            let mut out = Vec::new();
            decode(encoding, &packed, body.len(), &mut out).unwrap();
            assert_eq!(out, body, "{encoding}");
        }
        assert_eq!(from_content_encoding(b" GZIP "), Some(Compression::Gzip));
        assert_eq!(from_content_encoding(b"zstd"), Some(Compression::Zstd));
        assert_eq!(from_content_encoding(b"identity"), Some(Compression::None));
        assert_eq!(from_content_encoding(b"br"), None);
        assert_eq!(from_content_encoding(b"gzip, zstd"), None);
    }

    #[test]
    fn a_bomb_or_garbage_is_refused() {
        let body = vec![b'a'; 100_000];
        for encoding in [Compression::Gzip, Compression::Zstd] {
            let packed = encode(encoding, &body).unwrap();
            let mut out = Vec::new();
            let error = decode(encoding, &packed, 99_999, &mut out).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
            assert!(out.len() <= 100_000);
            let error = decode(encoding, b"not compressed at all", 1000, &mut out).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
        }
    }
}
