//! The Query root: reads. Every field validates its arguments in the domain, so bad
//! input gets the same error as over any other transport.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result};
use domain::{BookingId, EventId, Limits, ListEventsRequest, PerformerId, SearchRequest, VenueId};

use std::sync::Arc;

use super::field_errors::nullable;
use super::inline::Inline;
use super::inputs::{EventFilter, page_size, parse_id};
use super::loaders::{self, Wants};
use super::types::{Booking, Event, Performer, SearchHit, Venue};
use super::{api, calls};
use crate::error::to_graphql;

/// Reads.
pub struct Query;

/// The complexity of a list field: its selection once per item of the page asked for
/// (the default page when `first` is absent, at most the largest page), plus one.
fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let page = match first {
        None => Limits::DEFAULT_PAGE_SIZE,
        // A negative size is refused before anything runs; it costs nothing.
        Some(n) => u32::try_from(n).unwrap_or(0),
    };
    page.min(Limits::MAX_PAGE_SIZE) as usize * child_complexity + 1
}

#[Object]
impl Query {
    /// One event. An unknown id answers null here and a NOT_FOUND error (with
    /// `resource`, `id` and this field's `path`) in `errors`.
    async fn event(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inline<Event>>> {
        let wants = Wants::of_field(ctx);
        let api = api(ctx)?;
        let found = match parse_id("id", &id) {
            Ok(id) => loaders::one(api, EventId(id), wants).await.map(Inline),
            Err(e) => Err(e),
        };
        Ok(nullable(ctx, found))
    }

    /// Events ordered by start time then id, as a Relay connection: pass an edge's
    /// `cursor` (or `pageInfo.endCursor`) as `after` for the next page.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        filter: Option<EventFilter>,
    ) -> Result<Connection<String, Inline<Event>>> {
        let filter: domain::EventFilter = filter.unwrap_or_default().into();
        let request = ListEventsRequest {
            filter: filter.clone(),
            cursor: after.clone(),
            limit: page_size(first).map_err(|e| to_graphql(&e))?,
        };
        let api = api(ctx)?;
        let page = api.list_events(request).await.map_err(|e| to_graphql(&e))?;
        let wants = Wants::of(&ctx.look_ahead().field("edges").field("node"));
        // Every edge gets a cursor bound to the same filter, as the page's own.
        let cursors: Vec<String> = page
            .events
            .iter()
            .map(|event| domain::catalog::Cursor::after(event).encode(&filter))
            .collect();
        let events = loaders::many(api, calls(ctx)?, page.events, wants)
            .await
            .map_err(|e| to_graphql(&e))?;
        let mut connection = Connection::new(after.is_some(), page.next_cursor.is_some());
        connection.edges.extend(
            cursors
                .into_iter()
                .zip(events)
                .map(|(cursor, event)| Edge::new(cursor, Inline(event))),
        );
        Ok(connection)
    }

    /// Full-text search; every word must match. Best first, ties by id.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn search_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to find, at most 200 characters.")] query: String,
        filter: Option<EventFilter>,
        #[graphql(desc = "Number of hits, 1 to 100 (default 20).")] first: Option<i32>,
    ) -> Result<Vec<Inline<SearchHit>>> {
        let request = SearchRequest {
            query,
            filter: filter.unwrap_or_default().into(),
            limit: page_size(first).map_err(|e| to_graphql(&e))?,
        };
        let api = api(ctx)?;
        let results = api
            .search_events(request)
            .await
            .map_err(|e| to_graphql(&e))?;
        let wants = Wants::of(&ctx.look_ahead().field("event"));
        let scores: Vec<f64> = results.hits.iter().map(|h| h.score).collect();
        let events = results.hits.into_iter().map(|h| h.event).collect();
        let events = loaders::many(api, calls(ctx)?, events, wants)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(events
            .into_iter()
            .zip(scores)
            .map(|(event, score)| {
                Inline(SearchHit {
                    event: Inline(event),
                    score,
                })
            })
            .collect())
    }

    /// One venue. An unknown id answers null here and a NOT_FOUND error (with
    /// `resource`, `id` and this field's `path`) in `errors`.
    async fn venue(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inline<Venue>>> {
        let api = api(ctx)?;
        let found = match parse_id("id", &id) {
            Ok(id) => api
                .get_venue(VenueId(id))
                .await
                .map(|found| Inline(Venue(Arc::new(found)))),
            Err(e) => Err(e),
        };
        Ok(nullable(ctx, found))
    }

    /// One performer. An unknown id answers null here and a NOT_FOUND error (with
    /// `resource`, `id` and this field's `path`) in `errors`.
    async fn performer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inline<Performer>>> {
        let api = api(ctx)?;
        let found = match parse_id("id", &id) {
            Ok(id) => api
                .get_performer(PerformerId(id))
                .await
                .map(|found| Inline(Performer(Arc::new(found)))),
            Err(e) => Err(e),
        };
        Ok(nullable(ctx, found))
    }

    /// One booking. An unknown id answers null here and a NOT_FOUND error (with
    /// `resource`, `id` and this field's `path`) in `errors`.
    async fn booking(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inline<Booking>>> {
        let api = api(ctx)?;
        let found = match parse_id("id", &id) {
            Ok(id) => api
                .get_booking(BookingId(id))
                .await
                .map(|b| Inline(Booking::from(b))),
            Err(e) => Err(e),
        };
        Ok(nullable(ctx, found))
    }
}
