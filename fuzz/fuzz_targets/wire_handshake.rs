//! The wire handshake (PROTOCOL.md §1): any bytes as a client hello, and as a server
//! hello. Asserts: no panic; the magic is judged byte by byte (a prefix that fails
//! `starts_like_magic` never passes again as it grows); `negotiate` agrees only on a
//! supported version inside the client's range, refuses only when there is none, and
//! always replies with a hello the client side reads back consistently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::handshake::{
    HELLO_LEN, MAGIC, Negotiated, SUPPORTED, check_server_hello, client_hello, negotiate,
    starts_like_magic,
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
    let (min, max) = (hello[4], hello[5]);
    let common = SUPPORTED.filter(|v| (min..=max).contains(v)).max();
    match negotiate(&hello) {
        Negotiated::NotQuartet => {
            assert_ne!(hello[..4], MAGIC);
            assert!(
                rejected_at.is_some(),
                "refused a hello whose magic was fine"
            );
        }
        Negotiated::Agreed { version, reply } => {
            assert_eq!(hello[..4], MAGIC);
            assert_eq!(Some(version), common, "not the highest common version");
            assert_eq!(check_server_hello(&reply), Ok(version));
        }
        Negotiated::Refused { reply } => {
            assert_eq!(hello[..4], MAGIC);
            assert_eq!(common, None, "refused although {common:?} is common");
            assert_eq!(reply[4], *SUPPORTED.end());
            assert_eq!(reply[5], 1, "a refusal has status 1");
            assert!(check_server_hello(&reply).is_err());
        }
    }
    // The same bytes as a server hello: the client accepts only what it speaks.
    if let Ok(version) = check_server_hello(&hello) {
        assert_eq!(hello[..4], MAGIC);
        assert_eq!(hello[5], 0);
        assert!(SUPPORTED.contains(&version));
    }
    assert!(matches!(
        negotiate(&client_hello()),
        Negotiated::Agreed { .. }
    ));
});
