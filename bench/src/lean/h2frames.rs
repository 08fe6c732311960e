//! HTTP/2 frames (RFC 9113 section 4 and 6) as the framed gRPC client
//! ([`super::h2conn`]) writes and reads them: the 9-byte frame header, the frame types
//! and flags it handles, the client preface and its SETTINGS, and writers for the few
//! frames it sends (HEADERS, DATA, SETTINGS ack, PING ack, WINDOW_UPDATE, GOAWAY). All
//! writers append to a caller's buffer, so a round of requests leaves in one write.
//!
//! What does not live here: HPACK ([`super::hpack`]) and the connection's state (streams,
//! windows, settings), which is [`super::h2conn`]'s.

/// The client connection preface (RFC 9113 3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A frame header's size.
pub const HEADER_LEN: usize = 9;

/// The frame size every endpoint accepts (SETTINGS_MAX_FRAME_SIZE's default), which this
/// client also announces as its own maximum.
pub const DEFAULT_MAX_FRAME: usize = 16_384;

/// The largest flow-control window (2^31 - 1).
pub const MAX_WINDOW: u32 = (1 << 31) - 1;

/// Frame types.
pub mod kind {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY.
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE.
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    /// DATA, HEADERS: the stream's last frame from this side.
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING: an acknowledgement.
    pub const ACK: u8 = 0x1;
    /// HEADERS, CONTINUATION: the header block ends in this frame.
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS: a pad length byte first, padding last.
    pub const PADDED: u8 = 0x8;
    /// HEADERS: a priority block (5 bytes) before the header block.
    pub const PRIORITY: u8 = 0x20;
}

/// SETTINGS identifiers.
pub mod setting {
    /// SETTINGS_HEADER_TABLE_SIZE.
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    /// SETTINGS_ENABLE_PUSH.
    pub const ENABLE_PUSH: u16 = 0x2;
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    /// SETTINGS_MAX_FRAME_SIZE.
    pub const MAX_FRAME_SIZE: u16 = 0x5;
}

/// Error codes (RFC 9113 7) this client sends or names.
pub mod code {
    /// NO_ERROR.
    pub const NO_ERROR: u32 = 0x0;
    /// PROTOCOL_ERROR.
    pub const PROTOCOL_ERROR: u32 = 0x1;
    /// FLOW_CONTROL_ERROR.
    pub const FLOW_CONTROL_ERROR: u32 = 0x3;
    /// FRAME_SIZE_ERROR.
    pub const FRAME_SIZE_ERROR: u32 = 0x6;
    /// COMPRESSION_ERROR.
    pub const COMPRESSION_ERROR: u32 = 0x9;
}

/// An error code's name, for messages.
pub fn code_name(code: u32) -> &'static str {
    match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "an unknown error code",
    }
}

/// A frame header as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The payload's length.
    pub len: usize,
    /// The frame type.
    pub kind: u8,
    /// Its flags.
    pub flags: u8,
    /// The stream (0 for the connection), the reserved bit cleared.
    pub stream: u32,
}

/// The header at the front of `buf`, if a whole one is there.
pub fn head(buf: &[u8]) -> Option<Head> {
    let h: &[u8; HEADER_LEN] = buf.first_chunk()?;
    Some(Head {
        len: (usize::from(h[0]) << 16) | (usize::from(h[1]) << 8) | usize::from(h[2]),
        kind: h[3],
        flags: h[4],
        stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & MAX_WINDOW,
    })
}

/// Appends a frame header.
pub fn put_head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    // Frame payloads here are at most the peer's frame size, far under 2^24.
    let len = len.min(0xff_ffff) as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & MAX_WINDOW).to_be_bytes());
}

/// Appends the client preface and its first SETTINGS: no server push, `window` for every
/// stream, and a connection WINDOW_UPDATE raising the connection window to `window` too.
pub fn put_preface(out: &mut Vec<u8>, window: u32) {
    out.extend_from_slice(PREFACE);
    let settings = [
        (setting::ENABLE_PUSH, 0),
        (setting::INITIAL_WINDOW_SIZE, window),
    ];
    put_head(out, settings.len() * 6, kind::SETTINGS, 0, 0);
    for (id, value) in settings {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&value.to_be_bytes());
    }
    // The connection window starts at 65 535 whatever the settings say.
    put_window_update(out, 0, window.saturating_sub(65_535));
}

/// Appends a WINDOW_UPDATE of `increment` for `stream` (0: the connection).
pub fn put_window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    put_head(out, 4, kind::WINDOW_UPDATE, 0, stream);
    out.extend_from_slice(&(increment & MAX_WINDOW).to_be_bytes());
}

/// Appends a SETTINGS acknowledgement.
pub fn put_settings_ack(out: &mut Vec<u8>) {
    put_head(out, 0, kind::SETTINGS, flag::ACK, 0);
}

/// Appends the acknowledgement of a PING carrying `payload`.
pub fn put_ping_ack(out: &mut Vec<u8>, payload: [u8; 8]) {
    put_head(out, 8, kind::PING, flag::ACK, 0);
    out.extend_from_slice(&payload);
}

/// Appends a GOAWAY with `last` (the last server stream processed: 0, the client
/// accepts none) and `error`.
pub fn put_goaway(out: &mut Vec<u8>, error: u32) {
    put_head(out, 8, kind::GOAWAY, 0, 0);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&error.to_be_bytes());
}

/// The payload of a HEADERS or DATA frame without its padding (and a HEADERS frame's
/// priority block).
///
/// # Errors
/// Padding or a priority block longer than the payload (PROTOCOL_ERROR).
pub fn unpadded(head: &Head, payload: &[u8]) -> Result<std::ops::Range<usize>, String> {
    let mut start = 0;
    let mut end = payload.len();
    if head.flags & flag::PADDED != 0 {
        let pad = usize::from(*payload.first().ok_or("a padded frame without padding")?);
        start = 1;
        end = end
            .checked_sub(pad)
            .filter(|&e| e >= start)
            .ok_or("padding longer than its frame")?;
    }
    if head.kind == kind::HEADERS && head.flags & flag::PRIORITY != 0 {
        start += 5;
        if start > end {
            return Err("a priority block longer than its frame".into());
        }
    }
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn heads_round_trip() {
        let mut out = Vec::new();
        put_head(&mut out, 70_000, kind::DATA, flag::END_STREAM, 7);
        assert_eq!(
            head(&out).unwrap(),
            Head {
                len: 70_000,
                kind: kind::DATA,
                flags: flag::END_STREAM,
                stream: 7
            }
        );
        assert!(head(&out[..8]).is_none());
    }

    #[test]
    fn padding_is_stripped_and_checked() {
        let padded = Head {
            len: 6,
            kind: kind::DATA,
            flags: flag::PADDED,
            stream: 1,
        };
        assert_eq!(
            unpadded(&padded, &[2, b'a', b'b', b'c', 0, 0]).unwrap(),
            1..4
        );
        assert!(unpadded(&padded, &[9, 0]).is_err());
        let prioritized = Head {
            len: 7,
            kind: kind::HEADERS,
            flags: flag::PRIORITY,
            stream: 1,
        };
        assert_eq!(unpadded(&prioritized, &[0; 7]).unwrap(), 5..7);
        assert!(unpadded(&prioritized, &[0; 3]).is_err());
    }
}
