//! Tests of the tantivy-backed index itself: pruned top-k against the full ranking, over
//! one segment and many, and its scores against textbook BM25 over the weighted words.

// Scores compared here come from the same engine over the same statistics, so exact
// comparison is the point.
#![allow(clippy::float_cmp)]

use std::collections::HashMap;

use super::*;
use crate::catalog::Catalog;
use crate::model::{Category, EventFilter};

fn dataset() -> Dataset {
    Dataset::generate(3_000, 21)
}

fn ranked(hits: &[ScoredEvent<'_>]) -> Vec<(u64, f64)> {
    hits.iter().map(|h| (h.event.id.0, h.score)).collect()
}

const QUERIES: [&[&str]; 4] = [&["live"], &["live", "tour"], &["festival"], &["jazz"]];

#[test]
fn pruned_top_k_is_the_head_of_the_full_ranking_over_one_segment_or_many() {
    let data = dataset();
    let catalog = Catalog::new(data.clone());
    // 257 documents a segment: a dozen segments, none aligned to anything.
    let many = SearchIndex::build(&data, 257).unwrap();
    assert!(many.spans.len() > 10, "{many:?}");
    assert_eq!(catalog.search.spans.len(), 1, "{:?}", catalog.search);
    let filters = [
        EventFilter::default(),
        EventFilter {
            category: Some(Category::Concert),
            ..EventFilter::default()
        },
    ];
    for words in QUERIES {
        let terms: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        for filter in &filters {
            let matcher = catalog.matcher(filter).unwrap();
            let full = catalog
                .search
                .search(&data.events, &terms, &matcher, usize::MAX)
                .unwrap();
            if filter.category.is_none() {
                assert!(full.len() > 50, "{words:?} is common enough to prune");
            }
            for pair in full.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                assert!(a.score > b.score || (a.score == b.score && a.event.id < b.event.id));
            }
            let full = ranked(&full);
            let split = many
                .search(&data.events, &terms, &matcher, usize::MAX)
                .unwrap();
            assert_eq!(ranked(&split), full, "{words:?}: segments change nothing");
            for k in [1, 3, 20, 50] {
                for index in [&catalog.search, &many] {
                    let top = index.search(&data.events, &terms, &matcher, k).unwrap();
                    let head = &full[..k.min(full.len())];
                    assert_eq!(ranked(&top), head, "{words:?} {filter:?} top {k}");
                }
            }
        }
    }
}

#[test]
fn a_word_that_matches_nothing_empties_the_conjunction() {
    let data = dataset();
    let catalog = Catalog::new(data.clone());
    let matcher = catalog.matcher(&EventFilter::default()).unwrap();
    let terms = ["live".to_owned(), "zzyzx".to_owned()];
    let hits = catalog
        .search
        .search(&data.events, &terms, &matcher, 20)
        .unwrap();
    assert!(hits.is_empty());
    let none = catalog
        .search
        .search(&data.events, &terms[..1], &matcher, 0)
        .unwrap();
    assert!(none.is_empty());
}

/// Textbook BM25 over the weighted words, in `f64`, as the hand-written index computed
/// it. The engine stores lengths in one byte (exact up to 40 words, within a few percent
/// beyond) and scores in `f32`, so scores agree closely, not bit for bit.
#[test]
fn scores_are_textbook_bm25_over_the_weighted_words() {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let data = dataset();
    let catalog = Catalog::new(data.clone());
    let mut text = String::new();
    let docs: Vec<HashMap<String, f64>> = data
        .events
        .iter()
        .map(|e| {
            document_text(&data, e, &mut text);
            let mut tf = HashMap::new();
            for word in text.split_whitespace() {
                *tf.entry(word.to_owned()).or_insert(0.0) += 1.0;
            }
            tf
        })
        .collect();
    let len = |d: &HashMap<String, f64>| d.values().sum::<f64>();
    let n = docs.len() as f64;
    let avg = docs.iter().map(len).sum::<f64>() / n;
    let matcher = catalog.matcher(&EventFilter::default()).unwrap();
    let mut worst = 0.0f64;
    for words in QUERIES {
        let terms: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        let idf: Vec<f64> = terms
            .iter()
            .map(|t| {
                let df = docs.iter().filter(|d| d.contains_key(t)).count() as f64;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        let hits = catalog
            .search
            .search(&data.events, &terms, &matcher, usize::MAX)
            .unwrap();
        let expected = docs
            .iter()
            .filter(|d| terms.iter().all(|t| d.contains_key(t)))
            .count();
        assert_eq!(hits.len(), expected, "{words:?}");
        for hit in hits {
            let doc = &docs[index(hit.event.id.0)];
            let norm = K1 * (1.0 - B + B * len(doc) / avg);
            let textbook: f64 = terms
                .iter()
                .zip(&idf)
                .map(|(t, idf)| idf * doc[t] * (K1 + 1.0) / (doc[t] + norm))
                .sum();
            let error = (hit.score - textbook).abs() / textbook;
            worst = worst.max(error);
            assert!(
                error < 0.02,
                "{words:?} event {}: {} vs {textbook}",
                hit.event.id,
                hit.score
            );
        }
    }
    assert!(worst > 0.0, "f32 scores cannot all equal f64 ones exactly");
}

fn index(id: u64) -> usize {
    (id - 1) as usize
}
