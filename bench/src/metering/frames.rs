//! Reading a stream of length-prefixed messages as it goes by, in chunks of any size:
//! which of its bytes are payload and, when asked, the payloads themselves. gRPC bodies
//! and wire-protocol connections are both such streams; only their [`Framing`] differs.

/// How a stream frames its messages: an optional preamble, then messages, each a fixed
/// header holding a big-endian `u32` length, then the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// Bytes at the very start of the stream that belong to no message.
    pub preamble: usize,
    /// Bytes before each payload (at most [`MAX_HEADER`]).
    pub header: usize,
    /// Offset of the `u32` length within the header.
    pub length_at: usize,
    /// Bytes the length counts beside the payload.
    pub length_counts_also: usize,
}

/// The longest header a [`Framing`] may have.
pub const MAX_HEADER: usize = 16;

/// The size of the 4-byte length field every framing here uses.
const LENGTH_BYTES: usize = 4;

/// Capture buffers never reserve more than this up front, whatever a length says.
const MAX_RESERVE: usize = 1 << 20;

/// gRPC's length-prefixed messages: a compressed flag byte, then the length of the message.
pub const GRPC: Framing = Framing {
    preamble: 0,
    header: 1 + LENGTH_BYTES,
    length_at: 1,
    length_counts_also: 0,
};

/// The wire protocol (wire/PROTOCOL.md §1 and §2): an 8-byte hello each way, then frames
/// of a 4-byte length and an 8-byte header, the length counting the header and payload.
pub const WIRE: Framing = Framing {
    preamble: wire::handshake::HELLO_LEN,
    header: LENGTH_BYTES + wire::frame::HEADER_LEN,
    length_at: 0,
    length_counts_also: wire::frame::HEADER_LEN,
};

/// One direction of a stream, read as it goes.
#[derive(Debug)]
pub struct MessageReader {
    framing: Framing,
    preamble_left: usize,
    header: [u8; MAX_HEADER],
    header_filled: usize,
    /// Payload bytes left in the current message; `None` while reading a header.
    payload_left: Option<usize>,
    /// The current message's bytes so far, when capturing.
    message: Option<Vec<u8>>,
}

impl MessageReader {
    /// A reader at the start of a stream framed as `framing`.
    pub fn new(framing: Framing) -> Self {
        MessageReader {
            framing,
            preamble_left: framing.preamble,
            header: [0; MAX_HEADER],
            header_filled: 0,
            payload_left: None,
            message: None,
        }
    }

    /// Reads the next `bytes` of the stream and returns how many of them are payload.
    /// When `capture` is on (checked at each message's start), `complete` gets every
    /// message that ends within them.
    pub fn read(
        &mut self,
        mut bytes: &[u8],
        capture: bool,
        mut complete: impl FnMut(&[u8]),
    ) -> usize {
        let header_len = self.framing.header.min(MAX_HEADER);
        let mut payload = 0;
        while !bytes.is_empty() {
            if self.preamble_left > 0 {
                let n = self.preamble_left.min(bytes.len());
                self.preamble_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            if let Some(left) = self.payload_left {
                let n = left.min(bytes.len());
                payload += n;
                if let Some(message) = &mut self.message {
                    message.extend_from_slice(&bytes[..n]);
                }
                bytes = &bytes[n..];
                self.payload_left = Some(left - n);
                if left == n {
                    self.end_message(&mut complete);
                }
                continue;
            }
            let n = (header_len - self.header_filled).min(bytes.len());
            self.header[self.header_filled..self.header_filled + n].copy_from_slice(&bytes[..n]);
            self.header_filled += n;
            bytes = &bytes[n..];
            if self.header_filled == header_len {
                self.header_filled = 0;
                let at = self.framing.length_at;
                let mut length = [0u8; LENGTH_BYTES];
                length.copy_from_slice(&self.header[at..at + LENGTH_BYTES]);
                let left = (u32::from_be_bytes(length) as usize)
                    .saturating_sub(self.framing.length_counts_also);
                self.payload_left = Some(left);
                self.message = capture.then(|| Vec::with_capacity(left.min(MAX_RESERVE)));
                if left == 0 {
                    self.end_message(&mut complete);
                }
            }
        }
        payload
    }

    fn end_message(&mut self, complete: &mut impl FnMut(&[u8])) {
        self.payload_left = None;
        if let Some(message) = self.message.take() {
            complete(&message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A framing, a stream, its payload bytes and its messages.
    type Case<'a> = (Framing, &'a [u8], usize, Vec<Vec<u8>>);

    /// Two gRPC messages (3 and 0 bytes) and a wire stream (hello, a 2-byte frame, an
    /// empty one), fed whole and in every split into two chunks.
    #[test]
    fn payload_bytes_and_messages_whatever_the_chunking() {
        let grpc: Vec<u8> = [&[0, 0, 0, 0, 3, b'a', b'b', b'c'][..], &[0, 0, 0, 0, 0]].concat();
        let mut wire = vec![b'Q'; 8];
        wire.extend_from_slice(&[0, 0, 0, 10, 1, 1, 0, 1, 0, 0, 0, 7, b'x', b'y']);
        wire.extend_from_slice(&[0, 0, 0, 8, 1, 1, 0, 1, 0, 0, 0, 8]);
        let cases: [Case; 2] = [
            (GRPC, &grpc, 3, vec![b"abc".to_vec(), Vec::new()]),
            (WIRE, &wire, 2, vec![b"xy".to_vec(), Vec::new()]),
        ];
        for (framing, stream, payload, messages) in cases {
            for split in 0..=stream.len() {
                let mut reader = MessageReader::new(framing);
                let mut seen = Vec::new();
                let (a, b) = stream.split_at(split);
                let counted = reader.read(a, true, |m| seen.push(m.to_vec()))
                    + reader.read(b, true, |m| seen.push(m.to_vec()));
                assert_eq!(counted, payload, "{framing:?} split at {split}");
                assert_eq!(seen, messages, "{framing:?} split at {split}");
            }
            // Byte by byte, without capturing.
            let mut reader = MessageReader::new(framing);
            let counted: usize = stream
                .iter()
                .map(|b| reader.read(std::slice::from_ref(b), false, |_| panic!("not capturing")))
                .sum();
            assert_eq!(counted, payload);
        }
    }
}
