//! [`EventSizeLimit`]: a cap on how much of one Server-Sent Event a client holds.
//!
//! An SSE decoder must keep an event's bytes until the blank line that ends it, so a
//! server that never sends one (or sends one endless line) would make the client buffer
//! without bound. This counts the bytes since the last blank line, as the decoder sees
//! them, and says when they pass the limit. It does not decode anything: `sse-stream`
//! does that.

/// Counts the bytes of the event in progress across chunks; see the module docs.
#[derive(Debug, Clone)]
pub(super) struct EventSizeLimit {
    max_bytes: usize,
    /// Bytes other than line ends since the last blank line.
    pending: usize,
    /// Whether the last byte ended a line (or nothing has been read yet).
    at_line_start: bool,
    /// Whether the last byte was a CR, so an LF right after it is the same line end.
    after_cr: bool,
}

impl EventSizeLimit {
    /// A limit of `max_bytes` per event.
    pub(super) fn new(max_bytes: usize) -> Self {
        EventSizeLimit {
            max_bytes,
            pending: 0,
            at_line_start: true,
            after_cr: false,
        }
    }

    /// Takes in the next `chunk` of the stream; `false` once the event in progress has
    /// grown past the limit. Line ends are LF, CR or CRLF, as the SSE grammar says.
    pub(super) fn admit(&mut self, chunk: &[u8]) -> bool {
        for &byte in chunk {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\r' | b'\n' => {
                    if self.at_line_start {
                        self.pending = 0;
                    }
                    self.at_line_start = true;
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    self.at_line_start = false;
                    self.after_cr = false;
                    self.pending += 1;
                }
            }
        }
        self.pending <= self.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_line_ends_the_count_whatever_the_line_ends() {
        for stream in [
            "data: 0123456789\n\n",
            "data: 0123456789\r\n\r\n",
            "data: 0123456789\r\r",
        ] {
            let mut limit = EventSizeLimit::new(16);
            for _ in 0..100 {
                assert!(limit.admit(stream.as_bytes()), "{stream:?}");
            }
        }
    }

    #[test]
    fn an_event_that_never_ends_passes_the_limit() {
        let mut limit = EventSizeLimit::new(100);
        let mut admitted = 0;
        // Many short lines, but no blank one: the decoder keeps them all.
        while limit.admit(b"data: x\r\n") {
            admitted += 1;
            assert!(admitted < 100, "never refused");
        }
        assert_eq!(admitted, 14, "refused at 15 * 7 bytes > 100");
        let mut endless = EventSizeLimit::new(100);
        assert!(endless.admit(&[b'x'; 60]));
        assert!(!endless.admit(&[b'x'; 60]), "one line split over chunks");
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_line_end() {
        let mut limit = EventSizeLimit::new(10);
        assert!(limit.admit(b"data: 1234\r"));
        assert!(limit.admit(b"\n"));
        // Had the LF counted as a second line end, this would reset; it must not.
        assert!(!limit.admit(b"data: 5"));
    }
}
