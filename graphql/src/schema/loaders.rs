//! Fetching what nested fields need, once per parent list, before the children resolve.
//!
//! A field that returns events (`event`, `events`, `searchEvents`, `Booking.event`) looks
//! ahead at its selection and fetches, in one batch per kind, what the events' nested
//! fields will read: every distinct venue of the list in one batch of concurrent
//! `get_venue` calls, every distinct performer in one batch of `get_performer` calls,
//! and, for `availability`, the event detail. A single `event` whose selection reaches
//! into the venue, performers or availability is one `get_event_detail` call, which
//! carries all three (the same one call REST's detail endpoint makes). So a page of 100
//! events with venues and performers is one venue batch and one performer batch, with
//! no batching window: nothing waits for a timer and nothing depends on scheduling.
//! [`LoaderCalls`] counts the batches, which the tests use to prove it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::futures_util::future::join_all;
use async_graphql::parser::types::{Selection, SelectionSet};
use async_graphql::{Context, Lookahead};
use domain::{Error, PerformerId, SharedTicketing, VenueId};

use super::types::{Event, Performer, SectionAvailability, Venue};

/// How many batched lookups were made.
#[derive(Debug, Default)]
pub struct LoaderCalls {
    /// Venue batches (each: the distinct venues of one list, fetched concurrently).
    pub venues: AtomicUsize,
    /// Performer batches.
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

/// Which nested fields of an event a selection reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wants {
    /// `venue`.
    pub venue: bool,
    /// `performers`.
    pub performers: bool,
    /// `availability`.
    pub availability: bool,
}

impl Wants {
    /// What the event selection `look` reaches (fragments included).
    pub fn of(look: &Lookahead<'_>) -> Self {
        Wants {
            venue: look.field("venue").exists(),
            performers: look.field("performers").exists(),
            availability: look.field("availability").exists(),
        }
    }

    /// What the selection of the field `ctx` resolves reaches (fragments included), as
    /// [`of`](Self::of) on its lookahead finds it, in one walk of the selection where
    /// three lookaheads walked it three times.
    pub fn of_field(ctx: &Context<'_>) -> Self {
        let mut wants = Wants::default();
        wants.walk(ctx, &ctx.item.node.selection_set.node, 0);
        wants
    }

    fn walk(&mut self, ctx: &Context<'_>, set: &SelectionSet, depth: usize) {
        // Fragment cycles are refused by validation; past this bound, fetch everything
        // rather than walk on.
        if depth > 32 {
            *self = Wants {
                venue: true,
                performers: true,
                availability: true,
            };
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => match field.node.name.node.as_str() {
                    "venue" => self.venue = true,
                    "performers" => self.performers = true,
                    "availability" => self.availability = true,
                    _ => {}
                },
                Selection::InlineFragment(fragment) => {
                    self.walk(ctx, &fragment.node.selection_set.node, depth + 1);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        ctx.query_env.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.walk(ctx, &fragment.node.selection_set.node, depth + 1);
                    }
                }
            }
        }
    }

    /// Whether any nested fetch is needed.
    pub fn any(self) -> bool {
        self.venue || self.performers || self.availability
    }
}

/// One event with everything its nested fields will read, fetched by
/// `get_event_detail` (one call) when the selection needs any of it.
///
/// # Errors
/// The domain's error (NOT_FOUND for an unknown event).
pub async fn one(api: &SharedTicketing, id: domain::EventId, wants: Wants) -> Result<Event, Error> {
    if !wants.any() {
        return api.get_event(id).await.map(Event::new);
    }
    let detail = api.get_event_detail(id).await?;
    let mut event = Event::new(detail.event);
    // The detail's venue is the event's own (`venue` answers it as it always did), and
    // so are its performers when they are the ones the event's ids name, in its order
    // (the domain's contract); otherwise they go into the maps the list path uses,
    // whose lookups report a missing one as the field always did.
    let aligned = detail.performers.len() == event.event.performer_ids.len()
        && detail
            .performers
            .iter()
            .zip(&event.event.performer_ids)
            .all(|(p, id)| p.id == *id);
    if aligned {
        event.own = Some((
            Venue(Arc::new(detail.venue)),
            detail
                .performers
                .into_iter()
                .map(|p| Performer(Arc::new(p)))
                .collect(),
        ));
    } else {
        // Under the event's venue id, as ever: `venue` answers the detail's venue.
        event.venues = Some(Arc::new(HashMap::from([(
            event.event.venue_id.0,
            Arc::new(detail.venue),
        )])));
        event.performers = Some(Arc::new(
            detail
                .performers
                .into_iter()
                .map(|p| (p.id.0, Arc::new(p)))
                .collect(),
        ));
    }
    event.availability = Some(
        detail
            .availability
            .into_iter()
            .map(SectionAvailability::from)
            .collect(),
    );
    Ok(event)
}

/// `events` wrapped, with the venues and performers `wants` asks for fetched in one
/// batch per kind, and availability (one detail call per event, concurrently).
///
/// # Errors
/// A domain error other than NOT_FOUND (a missing venue or performer is reported by the
/// field that reads it).
pub async fn many(
    api: &SharedTicketing,
    calls: &LoaderCalls,
    events: Vec<domain::Event>,
    wants: Wants,
) -> Result<Vec<Event>, Error> {
    let venues = if wants.venue && !events.is_empty() {
        let mut ids: Vec<u64> = events.iter().map(|e| e.venue_id.0).collect();
        ids.sort_unstable();
        ids.dedup();
        calls.venues.fetch_add(1, Ordering::Relaxed);
        let found = join_all(ids.iter().map(|&id| api.get_venue(VenueId(id)))).await;
        Some(Arc::new(collect(ids, found)?))
    } else {
        None
    };
    let performers = if wants.performers && !events.is_empty() {
        let mut ids: Vec<u64> = events
            .iter()
            .flat_map(|e| e.performer_ids.iter().map(|p| p.0))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        calls.performers.fetch_add(1, Ordering::Relaxed);
        let found = join_all(ids.iter().map(|&id| api.get_performer(PerformerId(id)))).await;
        Some(Arc::new(collect(ids, found)?))
    } else {
        None
    };
    let availability = if wants.availability {
        let details = join_all(events.iter().map(|e| api.get_event_detail(e.id))).await;
        let mut all = Vec::with_capacity(details.len());
        for detail in details {
            let sections = detail?.availability.into_iter();
            all.push(Some(sections.map(SectionAvailability::from).collect()));
        }
        all
    } else {
        vec![None; events.len()]
    };
    Ok(events
        .into_iter()
        .zip(availability)
        .map(|(event, availability)| {
            let mut event = Event::new(event);
            event.venues.clone_from(&venues);
            event.performers.clone_from(&performers);
            event.availability = availability;
            event
        })
        .collect())
}

/// The found values by id; a NOT_FOUND leaves its id out (the reading field reports it),
/// any other error fails the batch.
fn collect<T>(ids: Vec<u64>, found: Vec<Result<T, Error>>) -> Result<HashMap<u64, Arc<T>>, Error> {
    let mut map = HashMap::with_capacity(ids.len());
    for (id, result) in ids.into_iter().zip(found) {
        match result {
            Ok(value) => {
                map.insert(id, Arc::new(value));
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(map)
}
