//! Connection start. The client sends an 8-byte hello naming the versions it speaks; the
//! server answers with an 8-byte hello naming the one it chose, or refuses. Anything that
//! does not start with the magic (an HTTP request, a port scanner) gets one line of text
//! saying what this port is, and the connection is closed at once: the server judges the
//! magic byte by byte ([`starts_like_magic`]), so it never waits for a whole hello from a
//! peer whose first byte is already wrong.
//!
//! The last two bytes of each hello negotiate per-frame payload compression
//! ([`Codecs`]): the client names the codecs it accepts, the server answers with the one
//! both directions use from then on, or none. A hello from before compression has 0
//! there, and so gets 0 back: frames stay uncompressed.
//!
//! ```text
//! client hello: "QRTW" | min_version u8 | max_version u8 | codecs u16 BE (bit set)
//! server hello: "QRTW" | version u8     | status u8      | codec u16 BE (0 or one bit)
//! ```

pub use netkit::config::Compression;

/// The four bytes every hello starts with.
pub const MAGIC: [u8; 4] = *b"QRTW";
/// Bytes in each hello.
pub const HELLO_LEN: usize = 8;
/// The ALPN id of the wire protocol over TLS (PROTOCOL.md, "TLS"): the server offers
/// only this one, so a client offering other ids (an HTTPS client) is refused during the
/// handshake, before any hello.
pub const ALPN: &[u8] = b"quartet-wire/1";
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

/// A set of payload compressions, as the last two bytes of a hello carry it: one bit per
/// codec (`0x0001` zstd, `0x0002` gzip). The client's hello offers a set; the server's
/// names at most one, the codec the connection uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Codecs(u16);

impl Codecs {
    /// No compression: what a hello from before compression carries.
    pub const NONE: Codecs = Codecs(0);
    /// Every codec this crate speaks.
    pub const ALL: Codecs = Codecs(Codecs::bit(Compression::Zstd) | Codecs::bit(Compression::Gzip));

    /// The bit that names `codec` (0 for none).
    pub const fn bit(codec: Compression) -> u16 {
        match codec {
            Compression::None => 0,
            Compression::Zstd => 0x0001,
            Compression::Gzip => 0x0002,
        }
    }

    /// The set holding `codec` alone (empty for none).
    pub const fn only(codec: Compression) -> Codecs {
        Codecs(Codecs::bit(codec))
    }

    /// The set as the hello field carries it. Bits no codec of this crate has are kept,
    /// so a server hello naming an unknown codec can be refused.
    pub const fn from_bits(bits: u16) -> Codecs {
        Codecs(bits)
    }

    /// The hello field.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether the set holds `codec` (never for none).
    pub const fn contains(self, codec: Compression) -> bool {
        let bit = Codecs::bit(codec);
        bit != 0 && self.0 & bit == bit
    }

    /// The codec both sets hold, zstd before gzip (faster at a better ratio), or none.
    pub fn common(self, other: Codecs) -> Compression {
        [Compression::Zstd, Compression::Gzip]
            .into_iter()
            .find(|c| self.contains(*c) && other.contains(*c))
            .unwrap_or(Compression::None)
    }
}

/// The client's hello for the versions this crate speaks, accepting no compression.
pub fn client_hello() -> [u8; HELLO_LEN] {
    client_hello_accepting(Codecs::NONE)
}

/// The client's hello for the versions this crate speaks, accepting `codecs`.
pub fn client_hello_accepting(codecs: Codecs) -> [u8; HELLO_LEN] {
    let mut hello = [0u8; HELLO_LEN];
    hello[..4].copy_from_slice(&MAGIC);
    hello[4] = *SUPPORTED.start();
    hello[5] = *SUPPORTED.end();
    hello[6..].copy_from_slice(&codecs.bits().to_be_bytes());
    hello
}

/// What the server makes of a client hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// Speak `version`, compressing with `compression`; send this reply.
    Agreed {
        /// The chosen version.
        version: u8,
        /// The codec both directions use for compressed frames (none: no frame is).
        compression: Compression,
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

/// Chooses the highest version both sides speak, and the codec both the client's hello
/// and `server_codecs` (what this server is willing to use; [`Codecs::NONE`] when its
/// compression is off) hold, zstd first. A range with no version in common with
/// [`SUPPORTED`] is refused, and so is an empty one (`min_version` above `max_version`),
/// with the server's highest version in the reply.
pub fn negotiate(hello: &[u8; HELLO_LEN], server_codecs: Codecs) -> Negotiated {
    if hello[..4] != MAGIC {
        return Negotiated::NotQuartet;
    }
    let (min, max) = (hello[4], hello[5]);
    let chosen = (*SUPPORTED.start()..=*SUPPORTED.end().min(&max))
        .rev()
        .find(|v| *v >= min);
    let reply = |version: u8, status: Status, compression: Compression| {
        let mut reply = [0u8; HELLO_LEN];
        reply[..4].copy_from_slice(&MAGIC);
        reply[4] = version;
        reply[5] = status as u8;
        reply[6..].copy_from_slice(&Codecs::bit(compression).to_be_bytes());
        reply
    };
    match chosen {
        Some(version) => {
            let offered = Codecs::from_bits(u16::from_be_bytes([hello[6], hello[7]]));
            let compression = offered.common(server_codecs);
            Negotiated::Agreed {
                version,
                compression,
                reply: reply(version, Status::Ok, compression),
            }
        }
        None => Negotiated::Refused {
            reply: reply(
                *SUPPORTED.end(),
                Status::UnsupportedVersion,
                Compression::None,
            ),
        },
    }
}

/// What a client and a server agreed on in their hellos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The protocol version of every frame from now on.
    pub version: u8,
    /// The codec of compressed frames, both directions (none: no frame is compressed).
    pub compression: Compression,
}

/// What the client makes of a server hello, having offered `offered` in its own.
///
/// # Errors
/// A message saying why the server's answer cannot be used: not the magic, a version or
/// status this client does not know, or a codec it did not offer (or several).
pub fn check_server_hello(hello: &[u8; HELLO_LEN], offered: Codecs) -> Result<Accepted, String> {
    if hello[..4] != MAGIC {
        return Err("the server did not answer with the Quartet wire magic".to_owned());
    }
    match hello[5] {
        0 if SUPPORTED.contains(&hello[4]) => {
            let bits = u16::from_be_bytes([hello[6], hello[7]]);
            let compression = [Compression::None, Compression::Zstd, Compression::Gzip]
                .into_iter()
                .find(|c| Codecs::bit(*c) == bits)
                .filter(|c| *c == Compression::None || offered.contains(*c))
                .ok_or_else(|| {
                    format!(
                        "the server chose codec {bits:#06x}; this client offered {:#06x}",
                        offered.bits()
                    )
                })?;
            Ok(Accepted {
                version: hello[4],
                compression,
            })
        }
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
        match negotiate(&client_hello(), Codecs::ALL) {
            Negotiated::Agreed {
                version,
                compression,
                reply,
            } => {
                assert_eq!(version, 1);
                assert_eq!(compression, Compression::None);
                assert_eq!(
                    check_server_hello(&reply, Codecs::NONE),
                    Ok(Accepted {
                        version: 1,
                        compression: Compression::None
                    })
                );
            }
            other => panic!("{other:?}"),
        }
        // A future client speaking 1..=3 still gets 1.
        let future = *b"QRTW\x01\x03\x00\x00";
        assert!(matches!(
            negotiate(&future, Codecs::ALL),
            Negotiated::Agreed { version: 1, .. }
        ));
        // A client that only speaks 2+ is refused and told the server's maximum.
        let Negotiated::Refused { reply } = negotiate(b"QRTW\x02\x05\x00\x03", Codecs::ALL) else {
            panic!("expected a refusal");
        };
        assert_eq!(&reply, b"QRTW\x01\x01\x00\x00");
        assert!(check_server_hello(&reply, Codecs::ALL).is_err());
        assert_eq!(negotiate(b"GET / HT", Codecs::ALL), Negotiated::NotQuartet);
        // An empty range (min above max) and version 0 alone are refused like any range
        // without a common version.
        for empty in [
            b"QRTW\x01\x00\x00\x00",
            b"QRTW\x02\x01\x00\x00",
            b"QRTW\x00\x00\x00\x00",
        ] {
            assert_eq!(
                negotiate(empty, Codecs::ALL),
                Negotiated::Refused {
                    reply: *b"QRTW\x01\x01\x00\x00"
                }
            );
        }
    }

    #[test]
    fn compression_is_the_codec_both_sides_hold() {
        let agreed = |client: Codecs, server: Codecs| match negotiate(
            &client_hello_accepting(client),
            server,
        ) {
            Negotiated::Agreed {
                compression, reply, ..
            } => {
                assert_eq!(
                    check_server_hello(&reply, client).map(|a| a.compression),
                    Ok(compression)
                );
                compression
            }
            other => panic!("{other:?}"),
        };
        let zstd = Codecs::only(Compression::Zstd);
        let gzip = Codecs::only(Compression::Gzip);
        assert_eq!(agreed(zstd, Codecs::ALL), Compression::Zstd);
        assert_eq!(agreed(gzip, Codecs::ALL), Compression::Gzip);
        assert_eq!(agreed(Codecs::ALL, Codecs::ALL), Compression::Zstd);
        assert_eq!(agreed(Codecs::ALL, gzip), Compression::Gzip);
        assert_eq!(agreed(zstd, Codecs::NONE), Compression::None);
        assert_eq!(agreed(zstd, gzip), Compression::None);
        assert_eq!(agreed(Codecs::NONE, Codecs::ALL), Compression::None);
        // Bits of codecs nobody knows yet are ignored by the server.
        assert_eq!(
            agreed(Codecs::from_bits(0xFF00 | 0x0002), Codecs::ALL),
            Compression::Gzip
        );
        // The client refuses a codec it did not offer, several, or an unknown one.
        for codec in [0x0001u16, 0x0003, 0x0004] {
            let mut reply = *b"QRTW\x01\x00\x00\x00";
            reply[6..].copy_from_slice(&codec.to_be_bytes());
            assert!(check_server_hello(&reply, gzip).is_err(), "{codec:#x}");
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
