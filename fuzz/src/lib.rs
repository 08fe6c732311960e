//! What the fuzz targets in `fuzz_targets/` share: a fresh in-memory ticketing service
//! per input ([`fixture`]), one tokio runtime per process ([`runtime`]), HTTP requests
//! built from fuzzer input plus the checks every HTTP answer must pass ([`http_input`]), and
//! the wire server's dispatch rule ([`wire_dispatch`]). The targets themselves, and what
//! each asserts, are listed in `fuzz/README.md`; nothing here is used outside fuzzing.

pub mod fixture;
pub mod http_input;
pub mod runtime;
pub mod wire_dispatch;
