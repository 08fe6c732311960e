//! The wire frame decoder (PROTOCOL.md §2, `wire::codec::WireCodec`) on a byte stream
//! cut into chunks: the first input byte picks the chunk size (1 to 64 bytes), the rest
//! is the stream. Asserts: no panic; the buffer never holds more than one maximum frame
//! plus one chunk (the length is checked before memory is reserved); every decoded
//! frame re-encodes to exactly the bytes it was read from (decode(encode(x)) == x); a
//! refusal is `FrameTooLarge` exactly when the length prefix is over the maximum.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;
use wire::codec::{CodecError, WireCodec, encode_frame};

/// The request maximum the server uses (1 MiB).
const MAX: usize = 1 << 20;
/// What `BytesMut` may hold beyond the frame: the 4-byte prefix, a chunk, rounding.
const SLACK: usize = 4 + 64 + 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 64) + 1;
    let mut codec = WireCodec::new(MAX);
    let mut buf = BytesMut::new();
    let mut consumed = 0;
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let bytes = encode_frame(frame, MAX).expect("a decoded frame re-encodes");
                    let end = consumed + bytes.len();
                    assert_eq!(&stream[consumed..end], &bytes[..], "re-encoding differs");
                    consumed = end;
                }
                Ok(None) => break,
                Err(e) => {
                    let prefix = &stream[consumed..consumed + 4];
                    let length = u32::from_be_bytes(prefix.try_into().expect("4 bytes"));
                    let too_large = length as usize > MAX;
                    match e {
                        CodecError::FrameTooLarge { max } => {
                            assert!(too_large && max == MAX, "too large at length {length}");
                        }
                        CodecError::BadHeader(_) => assert!(!too_large),
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
    let _ = codec.decode_eof(&mut buf);
});
