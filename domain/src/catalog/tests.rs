//! Unit tests of the catalogue: paging against a brute-force filter, forged cursors,
//! and search ranking and filters against brute force.

// Ranking ties are exact by design: equal scores come from identical arithmetic.
#![allow(clippy::float_cmp)]

use chrono::Duration;

use super::*;
use crate::dataset::epoch;
use crate::model::Category;

fn catalog() -> Catalog {
    Catalog::new(Dataset::generate(3_000, 21))
}

/// Every filter shape the listing index treats differently.
fn filters(c: &Catalog) -> Vec<EventFilter> {
    let city = c.dataset().venues[0].city.clone();
    let mid = epoch() + Duration::days(300);
    vec![
        EventFilter::default(),
        EventFilter {
            category: Some(Category::Comedy),
            ..Default::default()
        },
        EventFilter {
            city: Some(city.to_uppercase()),
            ..Default::default()
        },
        EventFilter {
            city: Some(city.clone()),
            category: Some(Category::Concert),
            ..Default::default()
        },
        EventFilter {
            from: Some(mid),
            to: Some(mid + Duration::days(40)),
            ..Default::default()
        },
        EventFilter {
            category: Some(Category::Sports),
            from: Some(mid),
            ..Default::default()
        },
        EventFilter {
            city: Some(city),
            to: Some(mid),
            ..Default::default()
        },
        EventFilter {
            city: Some("Atlantis".into()),
            ..Default::default()
        },
    ]
}

fn brute_force<'a>(c: &'a Catalog, filter: &EventFilter) -> Vec<&'a Event> {
    let matcher = c.matcher(filter);
    let mut all: Vec<&Event> = c
        .dataset()
        .events
        .iter()
        .enumerate()
        .filter(|(doc, e)| matcher.as_ref().is_some_and(|m| m.matches(*doc, e)))
        .map(|(_, e)| e)
        .collect();
    all.sort_by_key(|e| (e.starts_at, e.id));
    all
}

#[test]
fn paging_walks_exactly_the_matching_events_in_order() {
    let c = catalog();
    for filter in filters(&c) {
        for limit in [1, 7, 100] {
            let mut walked = Vec::new();
            let mut cursor = None;
            loop {
                let (page, next) = c.list(&filter, cursor, limit);
                assert!(page.len() <= limit);
                walked.extend(page.iter().map(|e| e.id));
                match next {
                    Some(n) => {
                        assert_eq!(page.len(), limit, "a page before the last is full");
                        let decoded = c.decode_cursor(&n.encode(&filter), &filter).unwrap();
                        cursor = Some(decoded);
                    }
                    None => break,
                }
            }
            let expected: Vec<EventId> = brute_force(&c, &filter).iter().map(|e| e.id).collect();
            assert_eq!(walked, expected, "filter {filter:?} limit {limit}");
        }
    }
}

#[test]
fn forged_cursors_are_refused() {
    let c = catalog();
    let e = &c.dataset().events[5];
    let none = EventFilter::default();
    let good = Cursor::after(e);
    assert!(c.decode_cursor(&good.encode(&none), &none).is_ok());
    let shifted = Cursor {
        starts_at_micros: good.starts_at_micros + 1,
        ..good
    };
    let other_filter = EventFilter {
        category: Some(e.category),
        ..EventFilter::default()
    };
    for bad in [
        shifted.encode(&none),
        good.encode(&other_filter),
        "garbage".into(),
        String::new(),
    ] {
        let err = c.decode_cursor(&bad, &none).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { ref field, .. } if field == "cursor"));
    }
}

#[test]
fn search_finds_an_event_by_a_word_of_its_name_and_ranks_deterministically() {
    let c = catalog();
    let target = &c.dataset().events[42];
    let word = text::tokens(&target.name).last().unwrap();
    let hits = c.search(&word, &EventFilter::default(), 100).unwrap();
    assert!(!hits.is_empty());
    for pair in hits.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(a.score > b.score || (a.score == b.score && a.event.id < b.event.id));
    }
    // With the whole name every word must match, and the event itself should rank first
    // or tie with an event of the same name.
    let hits = c.search(&target.name, &EventFilter::default(), 5).unwrap();
    assert!(
        hits.iter().any(|h| h.event.id == target.id),
        "{:?}",
        target.name
    );
    assert!(hits[0].event.name == target.name || hits[0].event.id == target.id);
}

#[test]
fn search_matches_brute_force_and_respects_filters() {
    let c = catalog();
    for query in ["jazz", "live tour", "united", "festival outdoor"] {
        let terms = text::query_terms(query);
        for filter in filters(&c) {
            let hits = c.search(query, &filter, 100).unwrap();
            let expected: Vec<EventId> = brute_force(&c, &filter)
                .into_iter()
                .filter(|e| {
                    let words = doc_words(&c, e);
                    terms.iter().all(|t| words.contains(t))
                })
                .map(|e| e.id)
                .collect();
            let mut got: Vec<EventId> = hits.iter().map(|h| h.event.id).collect();
            got.sort_unstable();
            let mut want = expected.clone();
            want.sort_unstable();
            if want.len() <= 100 {
                assert_eq!(got, want, "query {query:?} filter {filter:?}");
            } else {
                assert_eq!(got.len(), 100);
                assert!(got.iter().all(|id| want.contains(id)));
            }
        }
    }
    let err = c
        .search("the of !!", &EventFilter::default(), 10)
        .unwrap_err();
    assert_eq!(err.code(), crate::ErrorCode::InvalidArgument);
    assert!(
        c.search("zzyzx", &EventFilter::default(), 10)
            .unwrap()
            .is_empty()
    );
}

fn doc_words(c: &Catalog, e: &Event) -> Vec<String> {
    let d = c.dataset();
    let mut text = format!(
        "{} {} {}",
        e.name,
        e.description,
        d.venues[(e.venue_id.0 - 1) as usize].city
    );
    for p in &e.performer_ids {
        text.push(' ');
        text.push_str(&d.performers[(p.0 - 1) as usize].name);
    }
    for t in &e.tags {
        text.push(' ');
        text.push_str(t);
    }
    text::tokens(&text).collect()
}
