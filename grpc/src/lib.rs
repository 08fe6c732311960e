//! gRPC transport for `domain::Ticketing` (not built yet: see issue 4).
//!
//! It will hold the tonic service generated from `proto/quartet/v1/ticketing.proto`,
//! `serve`, the domain <-> protobuf `convert` module, one status-mapping module, and a
//! tonic `Client` that implements `domain::Ticketing`. Until then this crate is
//! intentionally empty.
