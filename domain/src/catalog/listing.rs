//! The ordered lists `list_events` pages through: every event, and the events of each
//! category and each city, each sorted by (start time, id). A page starts with a binary
//! search and walks the narrowest list that covers the filter, so paging never scans the
//! whole catalogue to find its place.

use super::{Cursor, Matcher};
use crate::model::{Category, Event};

#[derive(Debug)]
pub(super) struct ListingIndex {
    all: Vec<u32>,
    by_category: Vec<Vec<u32>>,
    by_city: Vec<Vec<u32>>,
}

impl ListingIndex {
    pub(super) fn new(events: &[Event], event_city: &[u32], cities: usize) -> Self {
        let mut all: Vec<u32> = (0..events.len() as u32).collect();
        all.sort_by_key(|&d| key(&events[d as usize]));
        let mut by_category = vec![Vec::new(); Category::ALL.len()];
        let mut by_city = vec![Vec::new(); cities];
        // Walking `all` in order keeps every sub-list sorted too.
        for &doc in &all {
            by_category[events[doc as usize].category.index()].push(doc);
            by_city[event_city[doc as usize] as usize].push(doc);
        }
        ListingIndex {
            all,
            by_category,
            by_city,
        }
    }

    pub(super) fn page<'e>(
        &self,
        events: &'e [Event],
        matcher: &Matcher<'_>,
        after: Option<Cursor>,
        limit: usize,
    ) -> (Vec<&'e Event>, Option<Cursor>) {
        // Cities are the most selective list, then categories.
        let list: &[u32] = match (matcher.city, matcher.category) {
            (Some(city), _) => &self.by_city[city as usize],
            (None, Some(category)) => &self.by_category[category.index()],
            (None, None) => &self.all,
        };
        let start = match after {
            Some(c) => list.partition_point(|&d| {
                key(&events[d as usize]) <= (c.starts_at_micros, c.event_id.0)
            }),
            None => 0,
        };
        let start = match matcher.from {
            Some(from) => start.max(list.partition_point(|&d| key(&events[d as usize]).0 < from)),
            None => start,
        };
        let mut page = Vec::with_capacity(limit.min(list.len()));
        let mut more = false;
        for &doc in &list[start..] {
            let event = &events[doc as usize];
            if matcher
                .to
                .is_some_and(|to| event.starts_at.timestamp_micros() >= to)
            {
                break;
            }
            if matcher.matches(doc as usize, event) {
                if page.len() == limit {
                    more = true;
                    break;
                }
                page.push(event);
            }
        }
        let next = if more {
            page.last().map(|e| Cursor::after(e))
        } else {
            None
        };
        (page, next)
    }
}

fn key(event: &Event) -> (i64, u64) {
    (event.starts_at.timestamp_micros(), event.id.0)
}
