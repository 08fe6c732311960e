//! The shapes of the read requests that take more than an id, and of their answers.

use serde::{Deserialize, Serialize};

use super::{Category, Event, Timestamp};

/// Filters shared by `list_events` and `search_events`. Every field is optional; all given
/// ones must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventFilter {
    /// Only events of this category.
    pub category: Option<Category>,
    /// Only events in this city (case-insensitive, whole name).
    pub city: Option<String>,
    /// Only events starting at or after this time.
    pub from: Option<Timestamp>,
    /// Only events starting before this time.
    pub to: Option<Timestamp>,
}

/// One page of `list_events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListEventsRequest {
    /// Which events.
    pub filter: EventFilter,
    /// Opaque cursor from a previous page's `next_cursor`; `None` for the first page.
    pub cursor: Option<String>,
    /// Page size, 1..=100; `None` means the default (20).
    pub limit: Option<u32>,
}

/// A page of events, ordered by start time then id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    /// The events on this page.
    pub events: Vec<Event>,
    /// Cursor for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A full-text search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SearchRequest {
    /// Words to look for; every word must match. At most 200 characters.
    pub query: String,
    /// Filters applied to the matches.
    pub filter: EventFilter,
    /// Number of hits, 1..=100; `None` means the default (20).
    pub limit: Option<u32>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The matching event.
    pub event: Event,
    /// BM25 relevance; higher is better. Comparable only within one result list.
    pub score: f64,
}

/// Search results, best first; equal scores are ordered by event id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The hits.
    pub hits: Vec<SearchHit>,
}
