//! Quartet's custom binary protocol for `domain::Ticketing` (not built yet: see issue 6).
//!
//! It will hold the spec's codec (on tokio-util's `LengthDelimitedCodec`), the server,
//! one error-mapping module and a multiplexed `Client` that implements
//! `domain::Ticketing`. Until then this crate is intentionally empty.
