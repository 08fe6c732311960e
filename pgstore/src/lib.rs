//! Quartet's PostgreSQL backend: [`PgStore`] implements the domain's
//! [`Backend`](domain::Backend), so `domain::Service<PgStore>` ([`PgTicketing`]) is a
//! `Ticketing` with the domain's rules written once (validation, states, versions,
//! idempotency, errors) over a database instead of memory.
//!
//! - [`PgConfig`]: the URL, the schema, the pool size and the timeouts.
//! - [`PgStore::connect`]: a deadpool-postgres pool of tokio-postgres connections whose
//!   `search_path` is the configured schema, with the schema created and migrated.
//! - [`migrate`]: the migrations, embedded and applied by refinery with its version
//!   table; the number of hash partitions is chosen at migration time.
//! - [`load`]: the generated dataset, written with binary `COPY`.
//! - [`ticketing`]: the service over a connected store, ready to serve.
//! - [`testing`]: a schema per test, dropped after, and the loud skip without a database.
//! - [`outbox`] and the listener: live availability across replicas (a transactional
//!   outbox, LISTEN/NOTIFY as the wake-up, one listener task per store feeding
//!   `domain::feed::Feed`s); the listener's intervals are re-exported in [`watch`].
//! - [`sweeper`]: the replica-safe background expiry of lapsed holds.
//! - [`search_index`]: `--search index`, this replica's engine index of the catalogue,
//!   kept current from the change feed ([`PgStore::with_search_index`]).
//!
//! The schema, the locking and what is not done yet are in this crate's README.

mod backend;
pub mod config;
pub mod error;
mod listener;
pub mod load;
pub mod migrate;
pub mod outbox;
mod rows;
pub mod search_index;
pub mod sweeper;
pub mod testing;

use std::sync::Arc;

use domain::{Limits, Service};

pub use backend::PgStore;

/// The live-availability intervals and limits this store runs with.
pub mod watch {
    pub use crate::listener::{
        PRUNE_BATCH, PRUNE_INTERVAL, PRUNE_MIN_AGE, READ_BATCH, RECONNECT_MAX_DELAY,
        RECONNECT_MIN_DELAY, SAFETY_POLL_INTERVAL,
    };
}
pub use config::PgConfig;
pub use error::SetupError;
pub use load::load;

/// The `Ticketing` a server serves over PostgreSQL: the domain's rules over [`PgStore`].
pub type PgTicketing = Service<PgStore>;

/// The service over `store`, with the limits the store was configured with.
pub fn ticketing(store: PgStore) -> PgTicketing {
    let limits: Limits = store.limits().clone();
    Service::new(Arc::new(store), limits)
}
