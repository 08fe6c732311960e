//! Full-text search on tantivy: one in-RAM index, built once at load, over each event's
//! name, description, performer names, venue city and tags, ranked with tantivy's BM25
//! and collected top-k with its block-max WAND pruning (a query skips every block of
//! postings that cannot beat the hits already kept, so one common word stays cheap at a
//! million events).
//!
//! Every query word must match (AND). Ties in score are broken by ascending event id.
//! What a "word" is stays the domain's ([`tokens`]): documents are indexed as those
//! tokens joined by spaces and split again on whitespace, and queries look the terms of
//! [`query_terms`](super::query_terms) up as they are, so index and query always agree.
//! The filters are checked on each candidate with the catalogue's own [`Matcher`], from
//! the immutable catalogue (no filter depends on live state such as `sold_out`).
//! The top-k bookkeeping is in `top_hits.rs`; listing is elsewhere (`listing.rs`).

use std::fmt;

use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, TermQuery, Weight};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{
    DocId, Index, IndexWriter, ReloadPolicy, Searcher, SegmentOrdinal, TantivyDocument, Term,
};

use super::Matcher;
use super::text::tokens;
use super::top_hits::{Ranked, TopHits};
use crate::dataset::Dataset;
use crate::model::Event;

/// Field weights: a word in the name counts three times, in a performer's name or a tag
/// twice, elsewhere once. Weighting by repetition keeps BM25 itself textbook (one field,
/// one length), as the hand-written index before this one did.
const NAME_WEIGHT: usize = 3;
const PERFORMER_WEIGHT: usize = 2;
const TAG_WEIGHT: usize = 2;

/// The indexing thread's memory before it writes a segment. Large enough that the
/// default 10 000 events make one segment and a million a handful; the arena is
/// allocated as it fills, so small catalogues do not pay for it.
const WRITER_MEMORY: usize = 192 << 20;

/// The fast field holding each document's event index, read once at load to map
/// segments to runs of events.
const EVENT_FIELD: &str = "event";

/// An event with its relevance score.
#[derive(Debug, Clone, Copy)]
pub struct ScoredEvent<'e> {
    /// The event.
    pub event: &'e Event,
    /// BM25 score (tantivy's, computed in `f32`).
    pub score: f64,
}

/// A segment and the index of the event its document 0 holds: a segment holds a run of
/// consecutive events, in order.
#[derive(Debug, Clone, Copy)]
struct Span {
    ord: SegmentOrdinal,
    first_event: u32,
}

pub(super) struct SearchIndex {
    searcher: Searcher,
    text: Field,
    /// Every segment, by ascending first event: walking them in this order offers the
    /// documents in ascending event order, which tie-breaking under pruning relies on.
    spans: Vec<Span>,
}

impl fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndex")
            .field("documents", &self.searcher.num_docs())
            .field("segments", &self.spans.len())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Indexes every event of `dataset`, document order = event order.
    ///
    /// # Errors
    /// Whatever tantivy reports while writing its in-RAM index (nothing short of running
    /// out of memory), and a broken layout invariant (see [`spans`]).
    pub(super) fn new(dataset: &Dataset) -> tantivy::Result<Self> {
        Self::build(dataset, usize::MAX)
    }

    /// [`SearchIndex::new`], closing a segment after every `segment_docs` documents as
    /// well as when the writer's memory fills (tests use it to search many segments).
    fn build(dataset: &Dataset, segment_docs: usize) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer("whitespace")
            // Frequencies for BM25; no positions, since nothing searches phrases.
            .set_index_option(IndexRecordOption::WithFreqs);
        let text = schema.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(indexing),
        );
        let event = schema.add_u64_field(EVENT_FIELD, FAST);
        let index = Index::create_in_ram(schema.build());
        // One indexing thread and no merges: each segment is then a run of consecutive
        // events in order, which is what lets a document's event come from its segment.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let mut words = String::new();
        for (i, e) in dataset.events.iter().enumerate() {
            document_text(dataset, e, &mut words);
            let mut doc = TantivyDocument::new();
            doc.add_text(text, &words);
            doc.add_u64(event, i as u64);
            writer.add_document(doc)?;
            if (i + 1) % segment_docs == 0 {
                writer.commit()?;
            }
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let spans = spans(&searcher, dataset.events.len())?;
        Ok(SearchIndex {
            searcher,
            text,
            spans,
        })
    }

    /// The best `limit` events containing every one of `terms` (non-empty) and passing
    /// `matcher`, best first, equal scores by ascending id.
    ///
    /// # Errors
    /// Whatever tantivy reports while reading its in-RAM index.
    pub(super) fn search<'e>(
        &self,
        events: &'e [Event],
        terms: &[String],
        matcher: &Matcher<'_>,
        limit: usize,
    ) -> tantivy::Result<Vec<ScoredEvent<'e>>> {
        if limit == 0 || terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut top = TopHits::new(limit);
        let weight = self
            .query(terms)
            .weight(EnableScoring::enabled_from_searcher(&self.searcher))?;
        for span in &self.spans {
            collect_segment(&*weight, &self.searcher, *span, events, matcher, &mut top)?;
        }
        Ok(top
            .into_sorted()
            .into_iter()
            .map(|hit| ScoredEvent {
                event: &events[hit.event as usize],
                score: f64::from(hit.score),
            })
            .collect())
    }

    /// Every term required: one term query, or a conjunction of them (which tantivy runs
    /// as a block-max WAND intersection).
    fn query(&self, terms: &[String]) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| {
                let term = TermQuery::new(
                    Term::from_field_text(self.text, t),
                    IndexRecordOption::WithFreqs,
                );
                (Occur::Must, Box::new(term) as Box<dyn Query>)
            })
            .collect();
        match clauses.pop() {
            Some((_, only)) if clauses.is_empty() => only,
            Some(last) => {
                clauses.push(last);
                Box::new(BooleanQuery::new(clauses))
            }
            None => Box::new(tantivy::query::EmptyQuery),
        }
    }
}

/// Offers one segment's matches to `top`. The engine passes on only documents scoring
/// above `top`'s bar and skips whole blocks that cannot; documents arrive in ascending
/// event order, so a document that merely ties the bar has lost the tie already.
fn collect_segment(
    weight: &dyn Weight,
    searcher: &Searcher,
    span: Span,
    events: &[Event],
    matcher: &Matcher<'_>,
    top: &mut TopHits,
) -> tantivy::Result<()> {
    let reader = searcher.segment_reader(span.ord);
    weight.for_each_pruning(top.bar(), reader, &mut |doc: DocId, score| {
        let event = span.first_event + doc;
        if events
            .get(event as usize)
            .is_some_and(|e| matcher.matches(event as usize, e))
        {
            top.offer(Ranked { score, event });
        }
        top.bar()
    })
}

/// The searchable words of an event, each repeated by its field's weight, joined by
/// spaces into `out` (cleared first).
fn document_text(dataset: &Dataset, event: &Event, out: &mut String) {
    out.clear();
    let mut add = |text: &str, weight: usize| {
        for token in tokens(text) {
            for _ in 0..weight {
                out.push_str(&token);
                out.push(' ');
            }
        }
    };
    add(&event.name, NAME_WEIGHT);
    add(&event.description, 1);
    for p in &event.performer_ids {
        if let Some(performer) = dataset.performers.get(super::index(p.0)) {
            add(&performer.name, PERFORMER_WEIGHT);
        }
    }
    if let Some(venue) = dataset.venues.get(super::index(event.venue_id.0)) {
        add(&venue.city, 1);
    }
    for tag in &event.tags {
        add(tag, TAG_WEIGHT);
    }
}

/// The segments by ascending first event, after checking what the search relies on:
/// no deleted documents, each segment a run of consecutive events from its document 0,
/// and the runs together covering the `events` exactly once.
fn spans(searcher: &Searcher, events: usize) -> tantivy::Result<Vec<Span>> {
    let broken = |why: &str| tantivy::TantivyError::InternalError(format!("search index: {why}"));
    let mut spans = Vec::with_capacity(searcher.segment_readers().len());
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        if reader.alive_bitset().is_some() {
            return Err(broken("a segment has deleted documents"));
        }
        let column = reader.fast_fields().u64(EVENT_FIELD)?;
        let first = column.first(0).unwrap_or_default();
        if (0..reader.max_doc()).any(|doc| column.first(doc) != Some(first + u64::from(doc))) {
            return Err(broken("a segment is not a run of consecutive events"));
        }
        let first_event = u32::try_from(first).map_err(|_| broken("an event index beyond u32"))?;
        spans.push((
            Span {
                ord: ord as SegmentOrdinal,
                first_event,
            },
            reader.max_doc(),
        ));
    }
    spans.sort_by_key(|(s, _)| s.first_event);
    let mut next = 0u64;
    for (span, docs) in &spans {
        if u64::from(span.first_event) != next {
            return Err(broken("the segments do not cover the events once each"));
        }
        next += u64::from(*docs);
    }
    if next != events as u64 {
        return Err(broken("the segments do not cover every event"));
    }
    Ok(spans.into_iter().map(|(s, _)| s).collect())
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
