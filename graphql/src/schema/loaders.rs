//! DataLoaders for what is fetched per parent: venues and performers. Every `venue` and
//! `performers` field resolved in one execution tick is gathered into one `load` call per
//! type, so a page of 100 events with their venues and performers makes two lookups,
//! not 200. Each loader counts its calls, which the tests use to prove the batching.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::dataloader::Loader;
use domain::{Error, PerformerId, SharedTicketing, VenueId};

/// How many batched lookups each loader made.
#[derive(Debug, Default)]
pub struct LoaderCalls {
    /// Calls of [`VenueLoader::load`].
    pub venues: AtomicUsize,
    /// Calls of [`PerformerLoader::load`].
    pub performers: AtomicUsize,
}

impl LoaderCalls {
    /// `(venue batches, performer batches)` so far.
    pub fn snapshot(&self) -> (usize, usize) {
        (
            self.venues.load(Ordering::Relaxed),
            self.performers.load(Ordering::Relaxed),
        )
    }
}

/// Loads venues by id, in batches.
pub struct VenueLoader {
    api: SharedTicketing,
    calls: Arc<LoaderCalls>,
}

/// Loads performers by id, in batches.
pub struct PerformerLoader {
    api: SharedTicketing,
    calls: Arc<LoaderCalls>,
}

impl VenueLoader {
    /// A loader over `api` counting into `calls`.
    pub fn new(api: SharedTicketing, calls: Arc<LoaderCalls>) -> Self {
        VenueLoader { api, calls }
    }
}

impl PerformerLoader {
    /// A loader over `api` counting into `calls`.
    pub fn new(api: SharedTicketing, calls: Arc<LoaderCalls>) -> Self {
        PerformerLoader { api, calls }
    }
}

impl Loader<u64> for VenueLoader {
    type Value = domain::Venue;
    type Error = Error;

    async fn load(&self, keys: &[u64]) -> Result<HashMap<u64, Self::Value>, Self::Error> {
        self.calls.venues.fetch_add(1, Ordering::Relaxed);
        let mut found = HashMap::with_capacity(keys.len());
        for &id in keys {
            match self.api.get_venue(VenueId(id)).await {
                Ok(venue) => {
                    found.insert(id, venue);
                }
                // Absent from the map: the resolver reports NOT_FOUND for that key alone.
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }
}

impl Loader<u64> for PerformerLoader {
    type Value = domain::Performer;
    type Error = Error;

    async fn load(&self, keys: &[u64]) -> Result<HashMap<u64, Self::Value>, Self::Error> {
        self.calls.performers.fetch_add(1, Ordering::Relaxed);
        let mut found = HashMap::with_capacity(keys.len());
        for &id in keys {
            match self.api.get_performer(PerformerId(id)).await {
                Ok(performer) => {
                    found.insert(id, performer);
                }
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }
}
