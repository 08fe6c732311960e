//! Bytes <-> [`Frame`]: tokio-util's `LengthDelimitedCodec` does the framing (a 4-byte
//! big-endian length, checked against the maximum *before* any buffer is reserved), and
//! this codec turns each length-delimited chunk into a typed frame and back.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec, LengthDelimitedCodecError};

use crate::frame::{FRAME_VERSION, Frame, HEADER_LEN, Kind};

/// Why a byte stream could not be read as frames. Each one ends the connection: a
/// broken stream is never resynchronised.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The length prefix announced more than the maximum.
    #[error("frame larger than the maximum of {max} bytes")]
    FrameTooLarge {
        /// The maximum frame length.
        max: usize,
    },
    /// The length was shorter than a header, or the header was not one we know.
    #[error("bad frame header: {0}")]
    BadHeader(String),
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// The frame codec, with an explicit maximum frame length (header + payload).
#[derive(Debug)]
pub struct WireCodec {
    framing: LengthDelimitedCodec,
    max: usize,
}

impl WireCodec {
    /// A codec refusing frames longer than `max_frame_bytes` (header + payload).
    pub fn new(max_frame_bytes: usize) -> Self {
        WireCodec {
            framing: LengthDelimitedCodec::builder()
                .length_field_length(4)
                .big_endian()
                .max_frame_length(max_frame_bytes)
                .new_codec(),
            max: max_frame_bytes,
        }
    }
}

impl Decoder for WireCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        let chunk = match self.framing.decode(src) {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(None),
            Err(e) if e.get_ref().is_some_and(is_too_long) => {
                return Err(CodecError::FrameTooLarge { max: self.max });
            }
            Err(e) => return Err(CodecError::Io(e)),
        };
        parse(chunk.freeze()).map(Some)
    }
}

fn is_too_long(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    inner.is::<LengthDelimitedCodecError>()
}

fn parse(mut chunk: Bytes) -> Result<Frame, CodecError> {
    if chunk.len() < HEADER_LEN {
        return Err(CodecError::BadHeader(format!(
            "a frame of {} bytes is shorter than its {HEADER_LEN}-byte header",
            chunk.len()
        )));
    }
    let version = chunk.get_u8();
    if version != FRAME_VERSION {
        return Err(CodecError::BadHeader(format!(
            "frame version {version}, this connection speaks {FRAME_VERSION}"
        )));
    }
    let kind_byte = chunk.get_u8();
    let kind = Kind::from_byte(kind_byte)
        .ok_or_else(|| CodecError::BadHeader(format!("unknown frame kind {kind_byte}")))?;
    let opcode = chunk.get_u16();
    let request_id = chunk.get_u32();
    Ok(Frame {
        kind,
        opcode,
        request_id,
        payload: chunk,
    })
}

impl Encoder<Frame> for WireCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        let mut chunk = BytesMut::with_capacity(HEADER_LEN + frame.payload.len());
        chunk.put_u8(FRAME_VERSION);
        chunk.put_u8(frame.kind as u8);
        chunk.put_u16(frame.opcode);
        chunk.put_u32(frame.request_id);
        chunk.put_slice(&frame.payload);
        self.framing.encode(chunk.freeze(), dst).map_err(|e| {
            if e.get_ref().is_some_and(is_too_long) {
                CodecError::FrameTooLarge { max: self.max }
            } else {
                CodecError::Io(e)
            }
        })
    }
}

/// Encodes one frame to bytes (length prefix included): for tests and test vectors.
///
/// # Errors
/// If the frame is larger than `max_frame_bytes`.
pub fn encode_frame(frame: Frame, max_frame_bytes: usize) -> Result<Bytes, CodecError> {
    let mut buf = BytesMut::new();
    WireCodec::new(max_frame_bytes).encode(frame, &mut buf)?;
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::frame::Opcode;

    const MAX: usize = 1 << 20;

    fn decode_all(bytes: &[u8]) -> Result<Vec<Frame>, CodecError> {
        let mut codec = WireCodec::new(MAX);
        let mut buf = BytesMut::from(bytes);
        let mut frames = Vec::new();
        while let Some(frame) = codec.decode(&mut buf)? {
            frames.push(frame);
        }
        Ok(frames)
    }

    #[test]
    fn a_length_of_four_gib_is_refused_before_anything_is_allocated() {
        let mut codec = WireCodec::new(MAX);
        let mut buf = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0xFF, 1, 0][..]);
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(
            matches!(err, CodecError::FrameTooLarge { max: MAX }),
            "{err:?}"
        );
        assert!(
            buf.capacity() < 1024,
            "reserved {} bytes for a refused frame",
            buf.capacity()
        );
    }

    #[test]
    fn short_and_unknown_headers_are_refused() {
        assert!(matches!(
            decode_all(&[0, 0, 0, 0]),
            Err(CodecError::BadHeader(_))
        ));
        assert!(matches!(
            decode_all(&[0, 0, 0, 3, 1, 0, 0]),
            Err(CodecError::BadHeader(_))
        ));
        assert!(matches!(
            decode_all(&[0, 0, 0, 8, 9, 0, 0, 1, 0, 0, 0, 1]),
            Err(CodecError::BadHeader(_))
        ));
        assert!(matches!(
            decode_all(&[0, 0, 0, 8, 1, 7, 0, 1, 0, 0, 0, 1]),
            Err(CodecError::BadHeader(_))
        ));
    }

    #[test]
    fn a_partial_frame_waits_for_more_bytes() {
        let bytes = encode_frame(Frame::request(Opcode::Ping, 9, Bytes::new()), MAX).unwrap();
        let mut codec = WireCodec::new(MAX);
        let mut buf = BytesMut::new();
        for (i, byte) in bytes.iter().enumerate() {
            buf.put_u8(*byte);
            let got = codec.decode(&mut buf).unwrap();
            assert_eq!(got.is_some(), i == bytes.len() - 1);
        }
    }

    fn frames() -> impl Strategy<Value = Frame> {
        (
            0u8..4,
            any::<u16>(),
            any::<u32>(),
            prop::collection::vec(any::<u8>(), 0..512),
        )
            .prop_map(|(kind, opcode, request_id, payload)| Frame {
                kind: Kind::from_byte(kind).unwrap(),
                opcode,
                request_id,
                payload: payload.into(),
            })
    }

    proptest! {
        #[test]
        fn frames_round_trip(frames in prop::collection::vec(frames(), 1..8)) {
            let mut bytes = Vec::new();
            for f in &frames {
                bytes.extend_from_slice(&encode_frame(f.clone(), MAX).unwrap());
            }
            prop_assert_eq!(decode_all(&bytes).unwrap(), frames);
        }

        /// Arbitrary bytes never panic the decoder, and it never holds more than one
        /// maximum frame's worth of buffer.
        #[test]
        fn arbitrary_bytes_never_panic_or_overallocate(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let mut codec = WireCodec::new(1024);
            let mut buf = BytesMut::new();
            for chunk in bytes.chunks(97) {
                buf.extend_from_slice(chunk);
                match codec.decode(&mut buf) {
                    Ok(_) => prop_assert!(buf.capacity() <= 1024 + 4096 + 64),
                    Err(_) => break,
                }
            }
        }
    }
}
