//! The shared test schema guard lives in the crate (`pgstore::testing`), so the protocol
//! crates' PostgreSQL tests use the same one.

pub use pgstore::testing::TestSchema;
