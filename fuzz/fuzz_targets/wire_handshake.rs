//! The wire handshake (PROTOCOL.md §1): any bytes as a client hello, and as a server
//! hello; the ninth byte, if any, is the codecs the server is willing to use. Asserts:
//! no panic; the magic is judged byte by byte (a prefix that fails `starts_like_magic`
//! never passes again as it grows); `negotiate` agrees only on a supported version
//! inside the client's range, refuses only when there is none, agrees on a compression
//! only when both the client's hello and the server hold it (zstd first), and always
//! replies with a hello the client side reads back consistently; a server hello naming
//! a codec the client did not offer is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::handshake::{
    Codecs, Compression, HELLO_LEN, MAGIC, Negotiated, SUPPORTED, check_server_hello, client_hello,
    client_hello_accepting, negotiate, starts_like_magic,
};

fuzz_target!(|data: &[u8]| {
    let mut rejected_at = None;
    for end in 0..=data.len().min(HELLO_LEN) {
        let ok = starts_like_magic(&data[..end]);
        if rejected_at.is_some() {
            assert!(!ok, "a rejected prefix was accepted again at {end} bytes");
        } else if !ok {
            rejected_at = Some(end);
        }
    }
    let Some(hello) = data.get(..HELLO_LEN) else {
        return;
    };
    let hello: [u8; HELLO_LEN] = hello.try_into().expect("exactly HELLO_LEN bytes");
    let server = Codecs::from_bits(u16::from(data.get(HELLO_LEN).copied().unwrap_or(3) & 3));
    let offered = Codecs::from_bits(u16::from_be_bytes([hello[6], hello[7]]));
    let (min, max) = (hello[4], hello[5]);
    let common = SUPPORTED.filter(|v| (min..=max).contains(v)).max();
    match negotiate(&hello, server) {
        Negotiated::NotQuartet => {
            assert_ne!(hello[..4], MAGIC);
            assert!(
                rejected_at.is_some(),
                "refused a hello whose magic was fine"
            );
        }
        Negotiated::Agreed {
            version,
            compression,
            reply,
        } => {
            assert_eq!(hello[..4], MAGIC);
            assert_eq!(Some(version), common, "not the highest common version");
            let expected = [Compression::Zstd, Compression::Gzip]
                .into_iter()
                .find(|c| offered.contains(*c) && server.contains(*c))
                .unwrap_or(Compression::None);
            assert_eq!(compression, expected, "not the first codec both hold");
            let accepted = check_server_hello(&reply, offered).expect("our reply is readable");
            assert_eq!(
                (accepted.version, accepted.compression),
                (version, compression)
            );
        }
        Negotiated::Refused { reply } => {
            assert_eq!(hello[..4], MAGIC);
            assert_eq!(common, None, "refused although {common:?} is common");
            assert_eq!(reply[4], *SUPPORTED.end());
            assert_eq!(reply[5], 1, "a refusal has status 1");
            assert_eq!(reply[6..], [0, 0], "a refusal agrees on no codec");
            assert!(check_server_hello(&reply, offered).is_err());
        }
    }
    // The same bytes as a server hello, to a client that offered what the server holds:
    // it accepts only a version it speaks and a codec it offered.
    if let Ok(accepted) = check_server_hello(&hello, server) {
        assert_eq!(hello[..4], MAGIC);
        assert_eq!(hello[5], 0);
        assert!(SUPPORTED.contains(&accepted.version));
        let codec = u16::from_be_bytes([hello[6], hello[7]]);
        assert_eq!(codec, Codecs::bit(accepted.compression));
        assert!(accepted.compression == Compression::None || server.contains(accepted.compression));
    }
    assert!(matches!(
        negotiate(&client_hello(), server),
        Negotiated::Agreed {
            compression: Compression::None,
            ..
        }
    ));
    assert!(matches!(
        negotiate(&client_hello_accepting(Codecs::ALL), Codecs::ALL),
        Negotiated::Agreed {
            compression: Compression::Zstd,
            ..
        }
    ));
});
