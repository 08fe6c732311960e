//! The wire frame decoder (PROTOCOL.md §2, `wire::codec::WireCodec`) on a byte stream
//! cut into chunks: the first input byte picks the chunk size (low 6 bits: 1 to 64
//! bytes) and the compression the connection agreed on (high 2 bits: none, zstd, gzip,
//! none), the rest is the stream. Asserts: no panic; the buffer never holds more than
//! one maximum frame plus one chunk (the length is checked before memory is reserved);
//! no decompressed frame is larger than the maximum (a compression bomb is refused, not
//! expanded); without compression every decoded frame re-encodes to exactly the bytes
//! it was read from, with it every decoded frame survives encode then decode; a refusal
//! is `FrameTooLarge` exactly when the length prefix, or a compressed frame's declared
//! length, is over the maximum, and `BadCompressedPayload` only for a frame marked
//! compressed on a connection with a codec.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::{Decoder, Encoder};
use wire::codec::{CodecError, WireCodec, encode_frame};
use wire::compression::{COMPRESSION_MIN_BYTES, Compression};
use wire::frame::{COMPRESSED, HEADER_LEN};

/// The request maximum the server uses (1 MiB).
const MAX: usize = 1 << 20;
/// What `BytesMut` may hold beyond the frame: the 4-byte prefix, a chunk, rounding.
const SLACK: usize = 4 + 64 + 1024;

fn codec(compression: Compression) -> WireCodec {
    WireCodec::new(MAX).compressing(compression, COMPRESSION_MIN_BYTES)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 64) + 1;
    let compression = match first >> 6 {
        1 => Compression::Zstd,
        2 => Compression::Gzip,
        _ => Compression::None,
    };
    let mut decoder = codec(compression);
    let mut buf = BytesMut::new();
    // Bytes the decoder took out of `buf`, and where the frame being read starts. The
    // decoder may take a frame's length prefix on a call that returns no frame yet, so
    // every call's intake counts, not only the ones that return a frame.
    let mut consumed = 0;
    let mut frame_start = 0;
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            let decoded = decoder.decode(&mut buf);
            consumed += before - buf.len();
            match decoded {
                Ok(Some(frame)) => {
                    let read = &stream[frame_start..consumed];
                    frame_start = consumed;
                    assert!(
                        HEADER_LEN + frame.payload.len() <= MAX,
                        "expanded past the maximum"
                    );
                    if compression == Compression::None {
                        let bytes = encode_frame(frame, MAX).expect("a decoded frame re-encodes");
                        assert_eq!(read, &bytes[..], "re-encoding differs");
                    } else {
                        let mut bytes = BytesMut::new();
                        codec(compression)
                            .encode(frame.clone(), &mut bytes)
                            .expect("a decoded frame re-encodes");
                        let again = codec(compression).decode(&mut bytes);
                        assert_eq!(again.expect("decodes").as_ref(), Some(&frame));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let frame = &stream[frame_start..];
                    let length = u32::from_be_bytes(frame[..4].try_into().expect("4 bytes"));
                    let marked = frame.get(5).is_some_and(|kind| kind & COMPRESSED != 0);
                    // Only a frame long enough to hold it declares a length (the bytes
                    // after a shorter frame belong to the next one).
                    let declared = frame
                        .get(12..16)
                        .filter(|_| length as usize >= HEADER_LEN + 4)
                        .map(|d| u32::from_be_bytes(d.try_into().expect("4 bytes")) as usize);
                    let long = length as usize > MAX;
                    let claims_too_much = marked
                        && compression != Compression::None
                        && declared.is_some_and(|d| d + HEADER_LEN > MAX);
                    match e {
                        CodecError::FrameTooLarge { max } => {
                            assert!(
                                max == MAX && (long || claims_too_much),
                                "at length {length}"
                            );
                        }
                        CodecError::BadHeader(_) => assert!(!long),
                        CodecError::BadCompressedPayload(_) => {
                            assert!(marked && compression != Compression::None);
                            assert!(!long && !claims_too_much);
                        }
                        CodecError::Io(e) => panic!("i/o error from a byte buffer: {e}"),
                    }
                    return;
                }
            }
            assert!(
                buf.capacity() <= MAX + SLACK,
                "buffer grew to {} bytes",
                buf.capacity()
            );
        }
    }
    // End of stream: a partial frame is an error, never a panic.
    let _ = decoder.decode_eof(&mut buf);
});
