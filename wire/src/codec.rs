//! Bytes <-> [`Frame`]: tokio-util's `LengthDelimitedCodec` does the framing (a 4-byte
//! big-endian length, checked against the maximum *before* any buffer is reserved), and
//! this codec turns each length-delimited chunk into a typed frame and back. On a
//! connection whose hellos agreed on a codec ([`WireCodec::compressing`]) it also
//! compresses payloads as frames are written and decompresses them as they are read
//! (`compression.rs`), so a [`Frame`] always holds the payload as it was before
//! compression: a payload encoded once and shared by many connections is compressed,
//! or not, by each connection's writer as it goes out.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec, LengthDelimitedCodecError};

use crate::compression::{Compression, FrameCompression, LENGTH_PREFIX, Refused};
use crate::frame::{COMPRESSED, FRAME_VERSION, Frame, HEADER_LEN, Kind};

/// Bytes of the length in front of every frame.
const FRAME_LENGTH: usize = 4;

/// Why a byte stream could not be read as frames. Each one ends the connection: a
/// broken stream is never resynchronised.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The length prefix announced more than the maximum, or a compressed payload
    /// declared a length that would make the frame larger than it.
    #[error("frame larger than the maximum of {max} bytes")]
    FrameTooLarge {
        /// The maximum frame length.
        max: usize,
    },
    /// The length was shorter than a header, or the header was not one we know
    /// (including a compressed frame on a connection that agreed on no codec).
    #[error("bad frame header: {0}")]
    BadHeader(String),
    /// A compressed payload that is not valid data of the agreed codec, or does not
    /// decompress to exactly the length it declares.
    #[error("bad compressed payload: {0}")]
    BadCompressedPayload(String),
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// The frame codec, with an explicit maximum frame length (header + payload, before
/// compression) and, once the hellos agreed on one, a payload codec.
#[derive(Debug)]
pub struct WireCodec {
    framing: LengthDelimitedCodec,
    max: usize,
    compression: Option<FrameCompression>,
}

impl WireCodec {
    /// A codec refusing frames longer than `max_frame_bytes` (header + payload), with no
    /// compression: a compressed frame is a bad header.
    pub fn new(max_frame_bytes: usize) -> Self {
        WireCodec {
            framing: LengthDelimitedCodec::builder()
                .length_field_length(FRAME_LENGTH)
                .big_endian()
                .max_frame_length(max_frame_bytes)
                .new_codec(),
            max: max_frame_bytes,
            compression: None,
        }
    }

    /// The same codec, decompressing frames marked compressed with `codec` and
    /// compressing payloads of at least `min_bytes` that it makes smaller. A compressed
    /// payload is never decompressed past the maximum frame length; with
    /// [`Compression::None`] nothing changes.
    #[must_use]
    pub fn compressing(mut self, codec: Compression, min_bytes: usize) -> Self {
        self.compression = FrameCompression::new(codec, min_bytes);
        self
    }

    /// The payload codec in use (none until [`WireCodec::compressing`]).
    pub fn compression(&self) -> Compression {
        self.compression
            .as_ref()
            .map_or(Compression::None, FrameCompression::codec)
    }

    fn parse(&mut self, mut chunk: Bytes) -> Result<Frame, CodecError> {
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
        let kind = Kind::from_byte(kind_byte & !COMPRESSED)
            .ok_or_else(|| CodecError::BadHeader(format!("unknown frame kind {kind_byte}")))?;
        let opcode = chunk.get_u16();
        let request_id = chunk.get_u32();
        let payload = if kind_byte & COMPRESSED == 0 {
            chunk
        } else {
            let compression = self.compression.as_mut().ok_or_else(|| {
                CodecError::BadHeader(
                    "a compressed frame on a connection that agreed on no compression".to_owned(),
                )
            })?;
            let max = self.max;
            match compression.decompress(&chunk, max.saturating_sub(HEADER_LEN)) {
                Ok(payload) => payload.into(),
                Err(Refused::TooLarge { .. }) => return Err(CodecError::FrameTooLarge { max }),
                Err(Refused::Corrupt(reason)) => {
                    return Err(CodecError::BadCompressedPayload(reason));
                }
            }
        };
        Ok(Frame {
            kind,
            opcode,
            request_id,
            payload,
        })
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
        self.parse(chunk.freeze()).map(Some)
    }
}

fn is_too_long(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    inner.is::<LengthDelimitedCodecError>()
}

impl Encoder<Frame> for WireCodec {
    type Error = CodecError;

    /// Writes the frame, its payload compressed when a codec was agreed on and the
    /// payload is at least the threshold and shrinks. The maximum applies to the frame
    /// before compression, as the receiver checks it.
    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        let length = HEADER_LEN + frame.payload.len();
        if length > self.max {
            return Err(CodecError::FrameTooLarge { max: self.max });
        }
        let compressed = match &mut self.compression {
            Some(compression) => compression.compress(&frame.payload)?,
            None => None,
        };
        let (kind, length) = match &compressed {
            Some(c) => (
                frame.kind as u8 | COMPRESSED,
                HEADER_LEN + LENGTH_PREFIX + c.data.len(),
            ),
            None => (frame.kind as u8, length),
        };
        let prefix =
            u32::try_from(length).map_err(|_| CodecError::FrameTooLarge { max: self.max })?;
        dst.reserve(FRAME_LENGTH + length);
        dst.put_u32(prefix);
        dst.put_u8(FRAME_VERSION);
        dst.put_u8(kind);
        dst.put_u16(frame.opcode);
        dst.put_u32(frame.request_id);
        match compressed {
            Some(c) => {
                dst.put_u32(c.declared);
                dst.put_slice(&c.data);
            }
            None => dst.put_slice(&frame.payload),
        }
        Ok(())
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

    /// A codec pair for one direction of a connection that agreed on `codec`.
    fn compressing(codec: Compression) -> WireCodec {
        WireCodec::new(MAX).compressing(codec, crate::compression::COMPRESSION_MIN_BYTES)
    }

    #[test]
    fn large_payloads_go_compressed_and_small_ones_raw() {
        let big = Bytes::from(b"row K seat 12 available ".repeat(200));
        for codec in [Compression::Zstd, Compression::Gzip] {
            for (payload, flagged) in [(big.clone(), true), (Bytes::from_static(b"tiny"), false)] {
                let frame = Frame::request(Opcode::GetSeatMap, 3, payload.clone());
                let mut bytes = BytesMut::new();
                compressing(codec)
                    .encode(frame.clone(), &mut bytes)
                    .unwrap();
                assert_eq!(bytes[5] & COMPRESSED != 0, flagged, "{codec}");
                assert_eq!(bytes[5] & !COMPRESSED, Kind::Request as u8);
                if flagged {
                    assert!(bytes.len() < payload.len() / 4, "{codec}: {}", bytes.len());
                }
                let decoded = compressing(codec).decode(&mut bytes).unwrap().unwrap();
                assert_eq!(decoded, frame, "{codec}");
                assert!(bytes.is_empty());
            }
        }
    }

    #[test]
    fn a_compressed_frame_needs_an_agreed_codec() {
        let frame = Frame::request(Opcode::GetSeatMap, 3, b"x".repeat(4096));
        let mut bytes = BytesMut::new();
        compressing(Compression::Zstd)
            .encode(frame, &mut bytes)
            .unwrap();
        let err = WireCodec::new(MAX).decode(&mut bytes.clone()).unwrap_err();
        assert!(matches!(err, CodecError::BadHeader(_)), "{err:?}");
        // A gzip receiver cannot read zstd data: the payload is refused, not the header.
        let err = compressing(Compression::Gzip)
            .decode(&mut bytes)
            .unwrap_err();
        assert!(
            matches!(err, CodecError::BadCompressedPayload(_)),
            "{err:?}"
        );
    }

    #[test]
    fn the_maximum_bounds_the_frame_before_compression() {
        let frame = Frame::request(Opcode::GetSeatMap, 3, vec![0u8; MAX]);
        let err = compressing(Compression::Zstd)
            .encode(frame, &mut BytesMut::new())
            .unwrap_err();
        assert!(
            matches!(err, CodecError::FrameTooLarge { max: MAX }),
            "{err:?}"
        );
        // Compressed by a peer with a larger maximum: tiny on the wire, refused here.
        let frame = Frame::request(Opcode::GetSeatMap, 3, vec![0u8; MAX]);
        let mut bytes = BytesMut::new();
        WireCodec::new(2 * MAX)
            .compressing(Compression::Zstd, 0)
            .encode(frame, &mut bytes)
            .unwrap();
        assert!(bytes.len() < 1024);
        let err = compressing(Compression::Zstd)
            .decode(&mut bytes)
            .unwrap_err();
        assert!(
            matches!(err, CodecError::FrameTooLarge { max: MAX }),
            "{err:?}"
        );
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

        /// With a codec agreed, every frame comes back as it was sent, compressed or not.
        #[test]
        fn frames_round_trip_compressed(
            frames in prop::collection::vec(frames(), 1..8),
            repeat in 1usize..16,
            gzip in any::<bool>(),
        ) {
            let codec = if gzip { Compression::Gzip } else { Compression::Zstd };
            let mut sender = compressing(codec);
            let mut buf = BytesMut::new();
            let frames: Vec<Frame> = frames
                .into_iter()
                .map(|mut f| {
                    f.payload = f.payload.repeat(repeat).into();
                    f
                })
                .collect();
            for f in &frames {
                sender.encode(f.clone(), &mut buf).unwrap();
            }
            let mut receiver = compressing(codec);
            let mut got = Vec::new();
            while let Some(frame) = receiver.decode(&mut buf).unwrap() {
                got.push(frame);
            }
            prop_assert_eq!(got, frames);
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
