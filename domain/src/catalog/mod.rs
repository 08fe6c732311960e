//! The read-only catalogue: the generated venues, performers and events, with the indexes
//! built once at load (full-text search on an in-RAM tantivy index, and the ordered lists
//! `list_events` pages through).
//!
//! Nothing here changes after construction, so reads never lock. Seat inventory and
//! bookings, which do change, live in `store`.

mod cursor;
mod listing;
mod search;
mod text;
mod top_hits;

use std::collections::HashMap;

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::{Event, EventFilter, EventId, Performer, PerformerId, Venue, VenueId};
use crate::rules;

pub use cursor::Cursor;
pub use search::ScoredEvent;
pub use text::{query_terms, tokens};

/// The catalogue and its indexes.
#[derive(Debug)]
pub struct Catalog {
    dataset: Dataset,
    /// Interned lower-case city names, so a city filter compares integers.
    city_ids: HashMap<String, u32>,
    /// City id of each event's venue, by event index.
    event_city: Vec<u32>,
    listing: listing::ListingIndex,
    search: search::SearchIndex,
}

impl Catalog {
    /// Indexes a dataset.
    ///
    /// # Panics
    /// If the search engine cannot build its in-RAM index, which only running out of
    /// memory can cause (no input makes it fail: the dataset is ours, generated).
    pub fn new(dataset: Dataset) -> Self {
        let mut city_ids = HashMap::new();
        let venue_city: Vec<u32> = dataset
            .venues
            .iter()
            .map(|v| {
                let next = city_ids.len() as u32;
                *city_ids.entry(v.city.to_lowercase()).or_insert(next)
            })
            .collect();
        let event_city: Vec<u32> = dataset
            .events
            .iter()
            .map(|e| venue_city[index(e.venue_id.0)])
            .collect();
        let listing = listing::ListingIndex::new(&dataset.events, &event_city, city_ids.len());
        let search = search::SearchIndex::new(&dataset)
            .unwrap_or_else(|e| panic!("building the in-RAM search index: {e}"));
        Catalog {
            dataset,
            city_ids,
            event_city,
            listing,
            search,
        }
    }

    /// The dataset this catalogue was built from.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// One event.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    pub fn event(&self, id: EventId) -> Result<&Event> {
        lookup(&self.dataset.events, id.0).ok_or_else(|| Error::not_found("event", id))
    }

    /// One venue.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such venue.
    pub fn venue(&self, id: VenueId) -> Result<&Venue> {
        lookup(&self.dataset.venues, id.0).ok_or_else(|| Error::not_found("venue", id))
    }

    /// One performer.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such performer.
    pub fn performer(&self, id: PerformerId) -> Result<&Performer> {
        lookup(&self.dataset.performers, id.0).ok_or_else(|| Error::not_found("performer", id))
    }

    /// Number of events.
    pub fn event_count(&self) -> usize {
        self.dataset.events.len()
    }

    /// A page of events matching `filter` after `after`, ordered by start time then id,
    /// and the cursor of the next page if there is one.
    pub fn list(
        &self,
        filter: &EventFilter,
        after: Option<Cursor>,
        limit: usize,
    ) -> (Vec<&Event>, Option<Cursor>) {
        let Some(matcher) = self.matcher(filter) else {
            return (Vec::new(), None);
        };
        self.listing
            .page(&self.dataset.events, &matcher, after, limit)
    }

    /// The best `limit` events matching every word of `query` and `filter`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the query has no searchable words.
    pub fn search(
        &self,
        query: &str,
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<ScoredEvent<'_>>> {
        let terms = text::query_terms(query);
        if terms.is_empty() {
            return Err(rules::no_searchable_words());
        }
        self.search_terms(&terms, filter, limit)
    }

    /// The best `limit` events matching every one of `terms` (from [`query_terms`]) and
    /// `filter`; nothing for an empty list of terms. Equal scores come by ascending id.
    ///
    /// # Errors
    /// `INTERNAL` if the engine fails a query. It reads only RAM it built itself, so
    /// nothing a client sends can cause that; if it happens anyway the client is told
    /// (not handed an empty page that looks like "no matches") and the cause is logged.
    pub fn search_terms(
        &self,
        terms: &[String],
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<ScoredEvent<'_>>> {
        let Some(matcher) = self.matcher(filter) else {
            return Ok(Vec::new());
        };
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        self.search
            .search(&self.dataset.events, terms, &matcher, limit)
            .map_err(|e| Error::internal(format!("search index failed a query: {e}")))
    }

    /// Decodes a cursor issued for `filter` and checks it points at a real event.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for anything this catalogue did not issue, and for a cursor
    /// issued for a different filter (it would skip or repeat events).
    pub fn decode_cursor(&self, raw: &str, filter: &EventFilter) -> Result<Cursor> {
        self.check_cursor(Cursor::parse(raw, filter)?)
    }

    /// Checks that a parsed cursor points at a real event at its start time.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` on `cursor` if it does not.
    pub fn check_cursor(&self, cursor: Cursor) -> Result<Cursor> {
        if self
            .event(cursor.event_id)
            .is_ok_and(|e| e.starts_at.timestamp_micros() == cursor.starts_at_micros)
        {
            Ok(cursor)
        } else {
            Err(rules::cursor_not_issued())
        }
    }

    /// A filter resolved against the catalogue; `None` if it can match nothing (an unknown city).
    fn matcher(&self, filter: &EventFilter) -> Option<Matcher<'_>> {
        let city = match &filter.city {
            Some(city) => Some(*self.city_ids.get(&city.trim().to_lowercase())?),
            None => None,
        };
        Some(Matcher {
            category: filter.category,
            city,
            from: filter.from.map(|t| t.timestamp_micros()),
            to: filter.to.map(|t| t.timestamp_micros()),
            event_city: &self.event_city,
        })
    }
}

/// A filter with its city resolved to an id and its times to microseconds.
#[derive(Debug, Clone, Copy)]
struct Matcher<'a> {
    category: Option<crate::model::Category>,
    city: Option<u32>,
    from: Option<i64>,
    to: Option<i64>,
    event_city: &'a [u32],
}

impl Matcher<'_> {
    /// Whether the event at index `doc` passes every part of the filter.
    fn matches(&self, doc: usize, event: &Event) -> bool {
        let starts = event.starts_at.timestamp_micros();
        self.category.is_none_or(|c| event.category == c)
            && self.city.is_none_or(|c| self.event_city[doc] == c)
            && self.from.is_none_or(|from| starts >= from)
            && self.to.is_none_or(|to| starts < to)
    }
}

fn index(id: u64) -> usize {
    (id as usize).wrapping_sub(1)
}

fn lookup<T>(items: &[T], id: u64) -> Option<&T> {
    items.get(index(id))
}

#[cfg(test)]
mod tests;
