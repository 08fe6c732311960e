//! Connection start. The client sends an 8-byte hello naming the versions it speaks; the
//! server answers with an 8-byte hello naming the one it chose, or refuses. Anything that
//! does not start with the magic (an HTTP request, a port scanner) gets one line of text
//! saying what this port is, and the connection is closed at once: the server judges the
//! magic byte by byte ([`starts_like_magic`]), so it never waits for a whole hello from a
//! peer whose first byte is already wrong.
//!
//! ```text
//! client hello: "QRTW" | min_version u8 | max_version u8 | reserved u16 (0)
//! server hello: "QRTW" | version u8     | status u8      | reserved u16 (0)
//! ```

/// The four bytes every hello starts with.
pub const MAGIC: [u8; 4] = *b"QRTW";
/// Bytes in each hello.
pub const HELLO_LEN: usize = 8;
/// Protocol versions this crate speaks.
pub const SUPPORTED: std::ops::RangeInclusive<u8> = 1..=1;
/// What the server writes, as text, to a peer that did not send the magic.
pub const NOT_QUARTET: &[u8] =
    b"QRTW/1 400 bad hello: this port speaks the Quartet wire protocol (see wire/PROTOCOL.md)\n";

/// The server's answer to a hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// The version in the server hello is in use from now on.
    Ok = 0,
    /// No common version; the server hello names the highest one the server speaks,
    /// and the server closes the connection.
    UnsupportedVersion = 1,
}

/// The client's hello for the versions this crate speaks.
pub fn client_hello() -> [u8; HELLO_LEN] {
    let mut hello = [0u8; HELLO_LEN];
    hello[..4].copy_from_slice(&MAGIC);
    hello[4] = *SUPPORTED.start();
    hello[5] = *SUPPORTED.end();
    hello
}

/// What the server makes of a client hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// Speak `version`; send this reply.
    Agreed {
        /// The chosen version.
        version: u8,
        /// The server hello to send.
        reply: [u8; HELLO_LEN],
    },
    /// No common version: send this reply and close.
    Refused {
        /// The server hello to send.
        reply: [u8; HELLO_LEN],
    },
    /// Not our protocol: send [`NOT_QUARTET`] and close.
    NotQuartet,
}

/// Whether the bytes received so far could still be the start of a hello: each of the
/// first four (as many as there are) equals the magic's. Later bytes are not judged here.
pub fn starts_like_magic(received: &[u8]) -> bool {
    let n = received.len().min(MAGIC.len());
    received[..n] == MAGIC[..n]
}

/// Chooses the highest version both sides speak. A range with no version in common
/// with [`SUPPORTED`] is refused, and so is an empty one (`min_version` above
/// `max_version`), with the server's highest version in the reply.
pub fn negotiate(hello: &[u8; HELLO_LEN]) -> Negotiated {
    if hello[..4] != MAGIC {
        return Negotiated::NotQuartet;
    }
    let (min, max) = (hello[4], hello[5]);
    let chosen = (*SUPPORTED.start()..=*SUPPORTED.end().min(&max))
        .rev()
        .find(|v| *v >= min);
    let reply = |version: u8, status: Status| {
        let mut reply = [0u8; HELLO_LEN];
        reply[..4].copy_from_slice(&MAGIC);
        reply[4] = version;
        reply[5] = status as u8;
        reply
    };
    match chosen {
        Some(version) => Negotiated::Agreed {
            version,
            reply: reply(version, Status::Ok),
        },
        None => Negotiated::Refused {
            reply: reply(*SUPPORTED.end(), Status::UnsupportedVersion),
        },
    }
}

/// What the client makes of a server hello.
///
/// # Errors
/// A message saying why the server's answer cannot be used.
pub fn check_server_hello(hello: &[u8; HELLO_LEN]) -> Result<u8, String> {
    if hello[..4] != MAGIC {
        return Err("the server did not answer with the Quartet wire magic".to_owned());
    }
    match hello[5] {
        0 if SUPPORTED.contains(&hello[4]) => Ok(hello[4]),
        0 => Err(format!(
            "the server chose version {}, which this client does not speak",
            hello[4]
        )),
        1 => Err(format!(
            "no common protocol version: the server speaks up to {}, this client {:?}",
            hello[4], SUPPORTED
        )),
        other => Err(format!("unknown handshake status {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_negotiated() {
        match negotiate(&client_hello()) {
            Negotiated::Agreed { version, reply } => {
                assert_eq!(version, 1);
                assert_eq!(check_server_hello(&reply), Ok(1));
            }
            other => panic!("{other:?}"),
        }
        // A future client speaking 1..=3 still gets 1.
        let future = *b"QRTW\x01\x03\x00\x00";
        assert!(matches!(
            negotiate(&future),
            Negotiated::Agreed { version: 1, .. }
        ));
        // A client that only speaks 2+ is refused and told the server's maximum.
        let Negotiated::Refused { reply } = negotiate(b"QRTW\x02\x05\x00\x00") else {
            panic!("expected a refusal");
        };
        assert_eq!(&reply, b"QRTW\x01\x01\x00\x00");
        assert!(check_server_hello(&reply).is_err());
        assert_eq!(negotiate(b"GET / HT"), Negotiated::NotQuartet);
        // An empty range (min above max) and version 0 alone are refused like any range
        // without a common version.
        for empty in [
            b"QRTW\x01\x00\x00\x00",
            b"QRTW\x02\x01\x00\x00",
            b"QRTW\x00\x00\x00\x00",
        ] {
            assert_eq!(
                negotiate(empty),
                Negotiated::Refused {
                    reply: *b"QRTW\x01\x01\x00\x00"
                }
            );
        }
    }

    #[test]
    fn the_magic_is_judged_on_what_has_arrived() {
        assert!(starts_like_magic(b""));
        assert!(starts_like_magic(b"Q"));
        assert!(starts_like_magic(b"QRT"));
        assert!(starts_like_magic(b"QRTW\x09\x09"));
        assert!(!starts_like_magic(b"G"));
        assert!(!starts_like_magic(b"QX"));
        assert!(!starts_like_magic(b"QRTX"));
        assert!(!starts_like_magic(b"QRTX\x01\x01\x00\x00"));
    }
}
