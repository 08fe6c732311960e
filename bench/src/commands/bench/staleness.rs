//! `--search index`: the staleness of each replica's engine index, from a change's commit
//! to the moment search shows it, measured while a writer changes events at a steady
//! rate.
//!
//! - **The writer goes through the store directly** (`pgstore::ticketing` on the
//!   protocol's own schema, the code the servers run), not through a server: the commit
//!   is bracketed by the call and its acknowledgement without a protocol round trip, and
//!   no replica learns of the change except from the outbox, which is what is measured.
//! - **The prober goes through the protocol's own client** against the servers the
//!   harness started, directly (not through a `--link` relay: the figure is the index's,
//!   not the link's; writer `w` probes replica `w mod N`), searching back to back until
//!   the hit shows the change: the figure is what a client of that protocol sees, and its
//!   resolution is one search round trip (`searches_per_change` says how many it took).
//! - **The change is visible in search**: each writer owns one on-sale event whose seats
//!   it first holds all but one of (not measured); then each change holds that last seat
//!   (the event's search hit turns `sold_out`) or cancels that hold (back `on_sale`). A
//!   writer makes its next change only once the last is seen (or its deadline passed),
//!   at `rate / writers` per second, so a slow index shows as a lower achieved rate too.
//! - The search names the event's words and narrows to its category, city and start
//!   time, so the hit is found at any catalogue size.
//!
//! The same approach as `pgstore/tests/search_index.rs` (which waits on the index inside
//! the process); bounded by a count of changes and a time, whichever comes first.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use domain::{
    BookingId, Customer, EventFilter, EventId, EventStatus, HoldRequest, SearchRequest, SeatId,
    SeatState, SharedTicketing,
};

use super::runner::Suite;
use crate::protocol::{self, Protocol};
use crate::results::{Failure, SearchStaleness};
use crate::scenario::Plan;
use crate::stats::{self, Latency};

/// The scenario name failures of this measurement carry.
pub const NAME: &str = "search_staleness";

/// Writers, each with an event of its own (fewer if the catalogue has fewer on sale).
pub const WRITERS: usize = 16;

/// How long a change may take to show in search before it counts as not seen.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// How the measurement is bounded.
#[derive(Debug, Clone, Copy)]
pub struct StalenessShape {
    /// Changes per second, over all writers.
    pub rate: f64,
    /// Changes to make at most.
    pub changes: u64,
    /// Time to spend at most (the changes stop when either runs out).
    pub max_time: Duration,
}

/// One writer's event: what the prober searches for, and the seat it toggles.
struct Target {
    event: EventId,
    search: SearchRequest,
    seat: SeatId,
}

/// What one writer measured.
#[derive(Default)]
struct Tally {
    from_ack: Vec<u64>,
    from_call: Vec<u64>,
    searches: u64,
    not_seen: u64,
    first_error: Option<String>,
}

/// Measures the staleness of `protocol`'s servers at `replicas` (started with `--search
/// index` over `schema` of `url`), adding the figures (or a failure) to `suite`.
pub async fn run(
    suite: &mut Suite,
    protocol: Protocol,
    replicas: &[SocketAddr],
    (url, schema): (&str, &str),
    plan: &Plan,
    shape: StalenessShape,
) {
    eprintln!(
        "   {protocol} {NAME}: up to {} changes at {:.0}/s (at most {:.0} s), searched through {} replica(s)",
        shape.changes,
        shape.rate,
        shape.max_time.as_secs_f64(),
        replicas.len()
    );
    match measure(protocol, replicas, (url, schema), plan, shape).await {
        Ok(figures) => {
            eprintln!(
                "   {protocol} {NAME}: {} changes, commit to searchable p50 {} µs, p99 {} µs, {} not seen",
                figures.changes, figures.latency_us.p50, figures.latency_us.p99, figures.not_seen
            );
            suite.staleness.push(figures);
        }
        Err(cause) => {
            let failure = Failure {
                protocol: protocol.name().to_owned(),
                scenario: Some(NAME.to_owned()),
                shape: None,
                attempted: 0,
                cause,
            };
            eprintln!("   FAILED {failure}");
            suite.failures.push(failure);
        }
    }
}

fn customer(w: usize) -> Customer {
    Customer {
        name: format!("Staleness writer {w}"),
        email: format!("staleness{w}@example.org"),
    }
}

/// The search that finds `event` (its words, category, city and start) and nothing much
/// else.
fn search_for(plan: &Plan, event: &domain::Event) -> Option<SearchRequest> {
    let venue = plan
        .data()
        .venues
        .get(usize::try_from(event.venue_id.0).ok()?.checked_sub(1)?)?;
    let words: Vec<String> = domain::catalog::tokens(&event.name).collect();
    if words.is_empty() {
        return None;
    }
    Some(SearchRequest {
        query: words.join(" "),
        filter: EventFilter {
            category: Some(event.category),
            city: Some(venue.city.clone()),
            from: Some(event.starts_at),
            to: Some(event.starts_at + chrono::Duration::seconds(1)),
        },
        limit: Some(20),
    })
}

/// The on-sale events with the fewest seats (the least to hold beforehand), each made
/// one seat from sold out: every available seat but the last is held through `writer`.
async fn prepare(writer: &SharedTicketing, plan: &Plan) -> Result<Vec<Target>, String> {
    let data = plan.data();
    let mut candidates: Vec<(u32, &domain::Event)> = data
        .events
        .iter()
        .filter(|e| e.status == EventStatus::OnSale)
        .filter_map(|e| Some((plan.capacity(e.id)?, e)))
        .collect();
    candidates.sort_by_key(|(capacity, e)| (*capacity, e.id.0));
    let per_hold = usize::try_from(domain::Limits::MAX_SEATS_PER_HOLD).unwrap_or(8);
    let mut targets = Vec::with_capacity(WRITERS);
    for (_, event) in candidates {
        if targets.len() == WRITERS {
            break;
        }
        let Some(search) = search_for(plan, event) else {
            continue;
        };
        // Other scenarios may have left seats held: take the map as it is now.
        let map = writer
            .get_seat_map(event.id)
            .await
            .map_err(|e| format!("seat map of event {}: {e}", event.id.0))?;
        let free: Vec<SeatId> = map
            .seats
            .iter()
            .filter(|s| s.state == SeatState::Available)
            .map(|s| s.seat_id)
            .collect();
        let Some((&last, rest)) = free.split_last() else {
            continue;
        };
        for chunk in rest.chunks(per_hold) {
            writer
                .hold_seats(HoldRequest {
                    event_id: event.id,
                    seat_ids: chunk.to_vec(),
                    customer: customer(targets.len()),
                    idempotency_key: None,
                })
                .await
                .map_err(|e| format!("holding seats of event {}: {e}", event.id.0))?;
        }
        targets.push(Target {
            event: event.id,
            search,
            seat: last,
        });
    }
    if targets.is_empty() {
        return Err("no on-sale event to change".to_owned());
    }
    Ok(targets)
}

/// The event's status in `api`'s answer to `search`, if the event is among the hits.
async fn status_of(
    api: &SharedTicketing,
    search: &SearchRequest,
    event: EventId,
) -> Result<Option<EventStatus>, String> {
    let found = api
        .search_events(search.clone())
        .await
        .map_err(|e| format!("search: {e}"))?;
    Ok(found
        .hits
        .iter()
        .find(|h| h.event.id == event)
        .map(|h| h.event.status))
}

async fn measure(
    protocol: Protocol,
    replicas: &[SocketAddr],
    (url, schema): (&str, &str),
    plan: &Plan,
    shape: StalenessShape,
) -> Result<SearchStaleness, String> {
    let config = pgstore::PgConfig::new(url.to_owned(), schema.to_owned());
    let store = pgstore::PgStore::connect(&config)
        .await
        .map_err(|e| format!("cannot use PostgreSQL schema {schema}: {e}"))?;
    let writer: SharedTicketing = Arc::new(pgstore::ticketing(store));
    let targets = prepare(&writer, plan).await?;
    let mut probers: Vec<SharedTicketing> = Vec::with_capacity(replicas.len());
    for &addr in replicas {
        let connected = protocol::connect(protocol, addr)
            .await
            .map_err(|e| format!("cannot connect the prober to {addr}: {e}"))?;
        probers.push(connected.api);
    }
    // Every event must be found, on sale, before a change is made: the prober's search
    // is right and the preparation's holds have reached the index.
    for (w, target) in targets.iter().enumerate() {
        let prober = &probers[w % probers.len()];
        let since = Instant::now();
        loop {
            if status_of(prober, &target.search, target.event).await? == Some(EventStatus::OnSale) {
                break;
            }
            if since.elapsed() > DEADLINE {
                return Err(format!(
                    "event {} is not found on sale by its search {:?}",
                    target.event.0, target.search.query
                ));
            }
        }
    }
    let writers = targets.len();
    let period = Duration::from_secs_f64(writers as f64 / shape.rate.max(1e-3));
    let budget = Arc::new(AtomicU64::new(shape.changes));
    let began = Instant::now();
    let stop_at = began + shape.max_time;
    let tasks: Vec<_> = targets
        .into_iter()
        .enumerate()
        .map(|(w, target)| {
            let (writer, prober, budget) = (
                Arc::clone(&writer),
                Arc::clone(&probers[w % probers.len()]),
                Arc::clone(&budget),
            );
            tokio::spawn(async move {
                write_and_probe(w, &target, &writer, &prober, &budget, period, stop_at).await
            })
        })
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await.map_err(|e| format!("a writer stopped: {e}"))?;
        all.from_ack.extend(tally.from_ack);
        all.from_call.extend(tally.from_call);
        all.searches += tally.searches;
        all.not_seen += tally.not_seen;
        if all.first_error.is_none() {
            all.first_error = tally.first_error;
        }
    }
    let took = began.elapsed();
    if let Some(why) = all.first_error
        && all.from_ack.is_empty()
    {
        return Err(why);
    }
    let changes = all.from_ack.len() as u64 + all.not_seen;
    if changes == 0 {
        return Err("no change was made".to_owned());
    }
    let histogram = |values: &[u64]| {
        let mut h = stats::histogram();
        for &v in values {
            stats::record(&mut h, v);
        }
        h
    };
    let from_ack = histogram(&all.from_ack);
    Ok(SearchStaleness {
        protocol: protocol.name().to_owned(),
        events: plan.data().spec.events,
        replicas: replicas.len(),
        rate: shape.rate,
        changes,
        write_rate_achieved: changes as f64 / took.as_secs_f64().max(1e-9),
        not_seen: all.not_seen,
        deadline_s: DEADLINE.as_secs_f64(),
        latency_us: Latency::of(&from_ack),
        from_call_us: Latency::of(&histogram(&all.from_call)),
        searches_per_change: all.searches as f64 / changes as f64,
        histogram: stats::encode(&from_ack),
    })
}

/// One writer: at every tick (while the budget and the time last) a change to its
/// event, then searches until the change shows.
async fn write_and_probe(
    w: usize,
    target: &Target,
    writer: &SharedTicketing,
    prober: &SharedTicketing,
    budget: &AtomicU64,
    period: Duration,
    stop_at: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut held: Option<BookingId> = None;
    loop {
        ticks.tick().await;
        if Instant::now() >= stop_at
            || budget
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_err()
        {
            break;
        }
        let called = Instant::now();
        let (changed, expected) = match held.take() {
            None => (
                writer
                    .hold_seats(HoldRequest {
                        event_id: target.event,
                        seat_ids: vec![target.seat],
                        customer: customer(w),
                        idempotency_key: None,
                    })
                    .await
                    .map(|b| held = Some(b.id)),
                EventStatus::SoldOut,
            ),
            Some(booking) => (
                writer.cancel_booking(booking).await.map(|_| ()),
                EventStatus::OnSale,
            ),
        };
        let acked = Instant::now();
        if let Err(e) = changed {
            // The event's state is no longer known: this writer stops.
            tally.first_error = Some(format!("writer {w}, event {}: {e}", target.event.0));
            break;
        }
        loop {
            tally.searches += 1;
            match status_of(prober, &target.search, target.event).await {
                Ok(Some(status)) if status == expected => {
                    let seen = Instant::now();
                    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
                    tally.from_ack.push(micros(seen - acked));
                    tally.from_call.push(micros(seen - called));
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    tally.first_error.get_or_insert(e);
                }
            }
            if acked.elapsed() > DEADLINE {
                tally.not_seen += 1;
                break;
            }
        }
    }
    tally
}
