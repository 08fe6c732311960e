//! Full-text search: an inverted index built once over each event's name, description,
//! performer names, venue city and tags, ranked with BM25.
//!
//! Every query word must match (AND). A query walks the shortest posting list and looks
//! the others up by galloping forward, so its cost follows the rarest word, never the
//! catalogue's size. Ties in score are broken by event id, so results are deterministic.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use super::Matcher;
use super::text::tokens;
use crate::dataset::Dataset;
use crate::model::Event;

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalisation.
const B: f64 = 0.75;
/// Field weights: a word in the name counts three times, in a performer's name or a tag
/// twice, elsewhere once. Weighting by repetition keeps BM25 itself textbook.
const NAME_WEIGHT: u16 = 3;
const PERFORMER_WEIGHT: u16 = 2;
const TAG_WEIGHT: u16 = 2;

/// An event with its relevance score.
#[derive(Debug, Clone, Copy)]
pub struct ScoredEvent<'e> {
    /// The event.
    pub event: &'e Event,
    /// BM25 score.
    pub score: f64,
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    tf: u16,
}

#[derive(Debug)]
pub(super) struct SearchIndex {
    terms: HashMap<String, u32>,
    postings: Vec<Vec<Posting>>,
    doc_len: Vec<u32>,
    avg_len: f64,
}

impl SearchIndex {
    pub(super) fn new(dataset: &Dataset) -> Self {
        let mut terms: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<Posting>> = Vec::new();
        let mut doc_len = Vec::with_capacity(dataset.events.len());
        let mut counts: Vec<(u32, u16)> = Vec::new();
        for (doc, event) in dataset.events.iter().enumerate() {
            counts.clear();
            let mut add = |text: &str, weight: u16| {
                for token in tokens(text) {
                    let next = terms.len() as u32;
                    let id = *terms.entry(token).or_insert(next);
                    match counts.iter_mut().find(|(t, _)| *t == id) {
                        Some((_, tf)) => *tf = tf.saturating_add(weight),
                        None => counts.push((id, weight)),
                    }
                }
            };
            add(&event.name, NAME_WEIGHT);
            add(&event.description, 1);
            for p in &event.performer_ids {
                if let Some(performer) = dataset.performers.get((p.0 - 1) as usize) {
                    add(&performer.name, PERFORMER_WEIGHT);
                }
            }
            if let Some(venue) = dataset.venues.get((event.venue_id.0 - 1) as usize) {
                add(&venue.city, 1);
            }
            for tag in &event.tags {
                add(tag, TAG_WEIGHT);
            }
            if postings.len() < terms.len() {
                postings.resize_with(terms.len(), Vec::new);
            }
            let mut len = 0u32;
            for &(term, tf) in &counts {
                postings[term as usize].push(Posting {
                    doc: doc as u32,
                    tf,
                });
                len += u32::from(tf);
            }
            doc_len.push(len);
        }
        for list in &mut postings {
            list.shrink_to_fit();
        }
        let avg_len = if doc_len.is_empty() {
            1.0
        } else {
            doc_len.iter().map(|&l| f64::from(l)).sum::<f64>() / doc_len.len() as f64
        };
        SearchIndex {
            terms,
            postings,
            doc_len,
            avg_len,
        }
    }

    pub(super) fn search<'e>(
        &self,
        events: &'e [Event],
        terms: &[String],
        matcher: &Matcher<'_>,
        limit: usize,
    ) -> Vec<ScoredEvent<'e>> {
        let mut lists: Vec<&[Posting]> = Vec::with_capacity(terms.len());
        for term in terms {
            match self.terms.get(term) {
                Some(&id) => lists.push(&self.postings[id as usize]),
                // Every word must match, and this one matches nothing.
                None => return Vec::new(),
            }
        }
        lists.sort_by_key(|l| l.len());
        let n = self.doc_len.len() as f64;
        let idf: Vec<f64> = lists
            .iter()
            .map(|l| {
                let df = l.len() as f64;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        let (driver, others) = lists
            .split_first()
            .map_or((&[][..], &[][..]), |(d, o)| (*d, o));
        let mut positions = vec![0usize; others.len()];
        // A min-heap of the best `limit` so far: the root is the worst kept hit.
        let mut best: BinaryHeap<Reverse<Ranked>> = BinaryHeap::with_capacity(limit + 1);
        'docs: for posting in driver {
            let doc = posting.doc as usize;
            let norm = K1 * (1.0 - B + B * f64::from(self.doc_len[doc]) / self.avg_len);
            let term_score = |tf: u16, idf: f64| {
                let tf = f64::from(tf);
                idf * tf * (K1 + 1.0) / (tf + norm)
            };
            let mut score = term_score(posting.tf, idf[0]);
            for (i, list) in others.iter().enumerate() {
                let pos = gallop(list, positions[i], posting.doc);
                positions[i] = pos;
                match list.get(pos) {
                    Some(p) if p.doc == posting.doc => score += term_score(p.tf, idf[i + 1]),
                    _ => continue 'docs,
                }
            }
            if !matcher.matches(doc, &events[doc]) {
                continue;
            }
            best.push(Reverse(Ranked {
                score,
                doc: posting.doc,
            }));
            if best.len() > limit {
                best.pop();
            }
        }
        let mut ranked: Vec<Ranked> = best.into_iter().map(|Reverse(r)| r).collect();
        ranked.sort_by(|a, b| b.cmp(a));
        ranked
            .into_iter()
            .map(|r| ScoredEvent {
                event: &events[r.doc as usize],
                score: r.score,
            })
            .collect()
    }
}

/// First index at or after `from` whose doc is `>= doc`: exponential probe, then binary search.
fn gallop(list: &[Posting], from: usize, doc: u32) -> usize {
    let mut step = 1;
    let mut hi = from;
    while hi < list.len() && list[hi].doc < doc {
        hi = from + step;
        step *= 2;
    }
    let lo = from + step / 4;
    let hi = hi.min(list.len());
    let lo = lo.min(hi);
    lo + list[lo..hi].partition_point(|p| p.doc < doc)
}

/// A hit ordered by score, then by lower event id first (so "greater" means "better").
#[derive(Debug, Clone, Copy)]
struct Ranked {
    score: f64,
    doc: u32,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.doc.cmp(&self.doc))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

#[cfg(test)]
mod tests {
    use super::*;

    fn postings(docs: &[u32]) -> Vec<Posting> {
        docs.iter().map(|&doc| Posting { doc, tf: 1 }).collect()
    }

    #[test]
    fn gallop_finds_the_first_doc_not_below() {
        let list = postings(&[1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21]);
        for from in 0..list.len() {
            for doc in 0..25 {
                let expected = from + list[from..].partition_point(|p| p.doc < doc);
                assert_eq!(gallop(&list, from, doc), expected, "from {from} doc {doc}");
            }
        }
    }
}
