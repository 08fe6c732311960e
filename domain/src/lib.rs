//! Quartet's ticketing domain: everything the four servers share and nothing about how
//! they talk.
//!
//! - [`model`]: the data of the API (events, venues, seats, bookings).
//! - [`Ticketing`]: the one API; [`Service`] implements it: the rules ([`validate`],
//!   [`rules`]) written once over a [`Backend`] (the in-memory [`Store`] by default; the
//!   `pgstore` crate has a PostgreSQL one); servers hold any implementation as a
//!   [`SharedTicketing`].
//! - [`Error`], [`ErrorCode`] and [`ErrorDetails`]: the one error vocabulary every
//!   transport maps, with the flattening every transport shares.
//! - [`Limits`]: the business bounds (page size, query length, seats per hold, hold TTL);
//!   transport settings live in `netkit` and the protocol crates, not here.
//! - [`Dataset`]: the deterministic generator; [`Catalog`]: its read-only indexes
//!   (full-text search, ordered listing).
//! - [`Forwarding`]: a `Ticketing` decorator that counts calls (servers' tests serve it to
//!   prove they take any implementation); [`mirror_enum!`]: a transport's copy of a domain
//!   enum with conversions both ways.
//! - [`encoded::EncodedChanges`]: a transport's encoding of each availability change,
//!   made once and shared by every subscriber it is sent to.
//! - [`auth`]: bearer tokens, the owner-only booking policy ([`auth::Guarded`]) and
//!   per-caller rate limits, for every transport to apply the same way.
//! - `conformance` (feature `conformance`): the suite every implementation must pass.
//! - `strategies` (feature `strategies`): proptest strategies for every API type, so each
//!   protocol proves its conversions round-trip.
//!
//! Deliberately absent: any transport crate (no axum, tonic, prost, async-graphql), any
//! I/O, and any global lock.

pub mod auth;
pub mod backend;
pub mod booking_ids;
pub mod catalog;
pub mod clock;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod dataset;
pub mod encoded;
pub mod error;
pub mod feed;
pub mod forwarding;
pub mod limits;
pub mod mirror;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;
#[cfg(feature = "strategies")]
pub mod strategies;
pub mod ticketing;
pub mod validate;

pub use backend::Backend;
pub use catalog::Catalog;
pub use clock::{Clock, ManualClock, SystemClock};
pub use dataset::{Dataset, DatasetSpec};
pub use encoded::EncodedChanges;
pub use error::{Error, ErrorCode, ErrorDetails, Result};
pub use forwarding::Forwarding;
pub use limits::Limits;
pub use model::*;
pub use service::Service;
pub use store::Store;
pub use ticketing::{SharedTicketing, Ticketing};
