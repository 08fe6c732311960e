//! The frame: what follows the length prefix. A fixed 8-byte header, then the payload.
//!
//! ```text
//! +---------+------+---------+------------+-------------+
//! | version | kind | opcode  | request id | payload ... |
//! |   u8    |  u8  | u16 BE  |   u32 BE   |             |
//! +---------+------+---------+------------+-------------+
//! ```
//!
//! The kind byte's high bit, [`COMPRESSED`], marks a payload compressed with the codec
//! the hellos agreed on; [`Frame`] always holds the payload as it is before compression
//! (the codec, `codec.rs`, compresses and decompresses).

use bytes::Bytes;

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 8;
/// The frame format version this crate speaks.
pub const FRAME_VERSION: u8 = 1;

/// The bit of the kind byte that marks a compressed payload (PROTOCOL.md §2).
pub const COMPRESSED: u8 = 0x80;

/// What a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// Client to server: please run `opcode`.
    Request = 0,
    /// Server to client: the answer to the request with the same id.
    Response = 1,
    /// Server to client: the request with the same id failed (id 0: the connection did).
    Error = 2,
    /// Server to client, unsolicited: one message of a live subscription, tagged with the
    /// subscription's id (the request id of its SUBSCRIBE) and the SUBSCRIBE opcode.
    Push = 3,
}

impl Kind {
    /// The kind a header byte names, if any (the codec clears [`COMPRESSED`] first).
    pub const fn from_byte(byte: u8) -> Option<Kind> {
        match byte {
            0 => Some(Kind::Request),
            1 => Some(Kind::Response),
            2 => Some(Kind::Error),
            3 => Some(Kind::Push),
            _ => None,
        }
    }
}

/// The operations, by opcode. A frame carries the raw `u16`, so an unknown opcode can
/// still be answered with an error frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[allow(missing_docs)]
pub enum Opcode {
    GetEvent = 0x0001,
    ListEvents = 0x0002,
    SearchEvents = 0x0003,
    GetEventDetail = 0x0004,
    GetVenue = 0x0005,
    GetPerformer = 0x0006,
    GetSeatMap = 0x0007,
    HoldSeats = 0x0008,
    GetBooking = 0x0009,
    ConfirmBooking = 0x000A,
    CancelBooking = 0x000B,
    /// Starts a live subscription to an event's availability; PUSH frames follow its
    /// answer.
    Subscribe = 0x000C,
    /// Ends a live subscription (idempotent).
    Unsubscribe = 0x000D,
    /// Presents a bearer token for the requests that follow on this connection (empty
    /// response; an empty token goes back to none).
    Auth = 0x000E,
    /// Empty request, empty response: liveness and keep-alive.
    Ping = 0x00FF,
}

impl Opcode {
    /// Every opcode.
    pub const ALL: [Opcode; 15] = [
        Opcode::GetEvent,
        Opcode::ListEvents,
        Opcode::SearchEvents,
        Opcode::GetEventDetail,
        Opcode::GetVenue,
        Opcode::GetPerformer,
        Opcode::GetSeatMap,
        Opcode::HoldSeats,
        Opcode::GetBooking,
        Opcode::ConfirmBooking,
        Opcode::CancelBooking,
        Opcode::Subscribe,
        Opcode::Unsubscribe,
        Opcode::Auth,
        Opcode::Ping,
    ];

    /// The opcode a raw value names, if any.
    pub fn from_u16(raw: u16) -> Option<Opcode> {
        Opcode::ALL.into_iter().find(|op| *op as u16 == raw)
    }
}

/// The opcode of connection-level error frames (request id 0).
pub const NO_OPCODE: u16 = 0;

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What it is.
    pub kind: Kind,
    /// The operation (raw, possibly unknown).
    pub opcode: u16,
    /// Chosen by the client; the server echoes it. 0 is reserved for connection errors.
    pub request_id: u32,
    /// postcard bytes of the opcode's message.
    pub payload: Bytes,
}

impl Frame {
    /// A PUSH frame of the subscription `subscription_id` (always opcode SUBSCRIBE).
    pub fn push(subscription_id: u32, payload: impl Into<Bytes>) -> Self {
        Frame {
            kind: Kind::Push,
            opcode: Opcode::Subscribe as u16,
            request_id: subscription_id,
            payload: payload.into(),
        }
    }

    /// A request frame.
    pub fn request(opcode: Opcode, request_id: u32, payload: impl Into<Bytes>) -> Self {
        Frame {
            kind: Kind::Request,
            opcode: opcode as u16,
            request_id,
            payload: payload.into(),
        }
    }
}
