//! The scenarios: what one operation of each is, with inputs drawn from a seeded
//! generator (the same sequence for every protocol), and the check every answer must
//! pass. A failed check is an error, never a fast success.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use domain::{
    Booking, Category, Customer, Dataset, EventFilter, EventId, EventStatus, HoldRequest,
    ListEventsRequest, SearchRequest, SeatId, Ticketing,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::shard::Shard;

/// One scenario of the suite: an operation mix every protocol runs the same way.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// One event by id.
    GetEvent,
    /// The first page (20) of one category.
    ListEvents,
    /// A one-word search, 20 hits.
    SearchEvents,
    /// An event with venue, performers and availability.
    EventDetail,
    /// A whole seat map (hundreds to 20 000 seats).
    SeatMap,
    /// Hold two seats, then cancel them: one op is the pair, sustainable writes.
    HoldCancel,
    /// Every client races to hold two of the same 32 seats of one event: conflicts.
    ContendedHold,
    /// What a client app does to show an event page (event, venue, performers,
    /// availability) in the fewest round trips its API offers: REST's and gRPC's
    /// detail call, GraphQL's one query, wire's one request.
    Browse,
    /// The same page the way a client of a resource API may build it: the event, then
    /// its venue and each performer at once (two round trips). REST and gRPC only.
    /// Neither offers availability outside the detail call (or the whole seat map), so
    /// this variant shows the page without it.
    BrowseCalls,
    /// Subscribers follow one event's live availability while a writer holds and cancels
    /// its seats at a fixed rate: delivery latency from commit to arrival. Not a
    /// request-response scenario: it runs through [`crate::watch`], at `--subscribers`
    /// counts instead of concurrencies.
    Watch,
    /// A new connection and its first request: TCP, TLS under `--tls`, the protocol's
    /// own start, one get_event ([`crate::connect`]). Not in the default suite.
    Connect,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 11] = [
        Scenario::GetEvent,
        Scenario::ListEvents,
        Scenario::SearchEvents,
        Scenario::EventDetail,
        Scenario::SeatMap,
        Scenario::HoldCancel,
        Scenario::ContendedHold,
        Scenario::Browse,
        Scenario::BrowseCalls,
        Scenario::Watch,
        Scenario::Connect,
    ];

    /// Whether the suite runs it when `--scenarios` does not name the scenarios.
    pub const fn in_default_suite(self) -> bool {
        !matches!(self, Scenario::Connect)
    }

    /// The name used on the command line and in results.
    pub const fn name(self) -> &'static str {
        match self {
            Scenario::GetEvent => "get_event",
            Scenario::ListEvents => "list_events",
            Scenario::SearchEvents => "search_events",
            Scenario::EventDetail => "event_detail",
            Scenario::SeatMap => "seat_map",
            Scenario::HoldCancel => "hold_cancel",
            Scenario::ContendedHold => "contended_hold",
            Scenario::Browse => "browse",
            Scenario::BrowseCalls => "browse_calls",
            Scenario::Watch => "watch",
            Scenario::Connect => "connect",
        }
    }

    /// Round trips one operation waits for one after another, where the scenario is
    /// about them (the browse scenarios); `None` for the others.
    pub const fn round_trips(self) -> Option<u32> {
        match self {
            Scenario::Browse => Some(1),
            Scenario::BrowseCalls => Some(2),
            _ => None,
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| format!("unknown scenario {s:?}"))
    }
}

/// What one operation came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done, and the answer checked out.
    Ok,
    /// Refused because another client got there first (contended holds): expected.
    Conflict,
    /// An error, or an answer that failed its check.
    Failed(String),
}

/// What every worker of a run shares: the dataset (to check answers against) and the
/// inputs derived from it.
#[derive(Debug)]
pub struct Plan {
    data: Dataset,
    /// On-sale events with at least 64 seats, for holds; each worker takes its own.
    on_sale: Vec<EventId>,
    /// One-word queries that match something.
    words: Vec<String>,
    seed: u64,
    /// This load machine's part of the workers (the whole load unless `--shard`).
    shard: Shard,
    /// Requests the browse scenarios' workers have sent (they count their own).
    browse_requests: std::sync::atomic::AtomicU64,
    /// `--hot-events`: events are drawn from the first this many only (all when `None`).
    hot_events: Option<u32>,
}

impl Plan {
    /// The plan for a dataset (the same one the server generated).
    pub fn new(data: Dataset) -> Self {
        let on_sale: Vec<EventId> = data
            .events
            .iter()
            .filter(|e| {
                e.status == EventStatus::OnSale
                    && data.venues[(e.venue_id.0 - 1) as usize].capacity >= 64
            })
            .map(|e| e.id)
            .collect();
        let mut words: Vec<String> = Vec::new();
        for event in data.events.iter().take(500) {
            // The index's own definition of a word: "Xi'an" is the words "xi" and "an",
            // and a query word made by dropping the apostrophe ("xian") would match nothing.
            for word in domain::catalog::tokens(&event.name) {
                if word.len() >= 4 && !words.contains(&word) {
                    words.push(word);
                }
            }
        }
        words.truncate(64);
        if words.is_empty() {
            // Only an empty dataset has no names; "live" is in every generated description.
            words.push("live".to_owned());
        }
        let seed = data.spec.seed;
        Plan {
            data,
            on_sale,
            words,
            seed,
            shard: Shard::WHOLE,
            browse_requests: std::sync::atomic::AtomicU64::new(0),
            hot_events: None,
        }
    }

    /// The same plan for one shard of the load: its worker `j` is the whole load's worker
    /// `shard.worker(j)`, drawing that worker's stream and making its writes.
    #[must_use]
    pub fn sharded(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Draws every event from the first `hot` events of the dataset only (`--hot-events`):
    /// the server's working set, from one event (every request the same, as a load tool
    /// with one fixed URL sends) to the whole catalogue (the default). Holds are not
    /// affected: each worker keeps its own on-sale event.
    #[must_use]
    pub fn hot_events(mut self, hot: Option<u32>) -> Self {
        self.hot_events = hot;
        self
    }

    /// This machine's part of the load.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// Requests the browse scenarios' workers have sent so far.
    pub fn browse_requests(&self) -> u64 {
        self.browse_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count_browse_requests(&self, n: usize) {
        self.browse_requests
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// The event run number `round` of the contended scenario fights over: a fresh one
    /// per run, so every run starts with all 32 seats free.
    pub fn contended_event(&self, round: usize) -> Option<EventId> {
        self.on_sale.get(round % self.on_sale.len().max(1)).copied()
    }

    /// The event the `watch` scenario follows and writes to: the middle on-sale event
    /// with 64 seats or more, which the other writers (contended holds from the front of
    /// the list, hold_cancel from the back) do not reach unless the dataset is tiny; and
    /// they never run at the same time anyway.
    pub fn watch_event(&self) -> Option<EventId> {
        self.on_sale.get(self.on_sale.len() / 2).copied()
    }

    /// The event worker `index` (a global worker number) of hold_cancel holds seats of:
    /// its own, counted from the end of the on-sale list so it never meets the contended
    /// events at the front (the pgbench floor gives its clients the same ones).
    pub fn hold_cancel_event(&self, index: usize) -> Option<EventId> {
        let n = self.on_sale.len();
        self.on_sale
            .get(n.saturating_sub(1 + index % n.max(1)))
            .copied()
    }

    /// The dataset.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The seeded input stream of this machine's worker `index` of `scenario`: every
    /// client of a scenario (the `Ticketing` workers and the lean ones) draws the same
    /// sequence. Under a shard it is the stream of global worker `shard.worker(index)`
    /// (see [`crate::shard`]), so shards never draw the same stream.
    pub fn input_stream(&self, scenario: Scenario, index: usize) -> ChaCha8Rng {
        self.global_stream(scenario, self.shard.worker(index))
    }

    /// The seeded input stream of global worker `worker` of `scenario`, whatever this
    /// machine's shard: stream `w` is the same on every machine.
    pub fn global_stream(&self, scenario: Scenario, worker: usize) -> ChaCha8Rng {
        let stream =
            (self.seed ^ 0x5157_4152_5445_5400) ^ ((scenario as u64) << 48) ^ worker as u64;
        ChaCha8Rng::seed_from_u64(stream)
    }

    /// The next event id of a stream: any event of the dataset, or of its first
    /// `--hot-events`.
    pub fn draw_event(&self, rng: &mut ChaCha8Rng) -> EventId {
        let all = self.data.events.len() as u64;
        let last = self.hot_events.map_or(all, |hot| u64::from(hot).min(all));
        EventId(rng.random_range(1..=last.max(1)))
    }

    /// The next list_events category of a stream, as an index into `Category::ALL`.
    pub fn draw_category(rng: &mut ChaCha8Rng) -> usize {
        rng.random_range(0..Category::ALL.len())
    }

    /// The next search word of a stream, as an index into [`Plan::words`].
    pub fn draw_word(&self, rng: &mut ChaCha8Rng) -> usize {
        rng.random_range(0..self.words.len())
    }

    /// The one-word queries search_events draws from (never empty).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The dataset's event `id`, if there is one.
    pub fn event(&self, id: EventId) -> Option<&domain::Event> {
        usize::try_from(id.0)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.data.events.get(i))
    }

    /// Seats of event `id`'s venue, if the event exists.
    pub fn capacity(&self, id: EventId) -> Option<u32> {
        let event = self.event(id)?;
        let venue = usize::try_from(event.venue_id.0).ok()?.checked_sub(1)?;
        self.data.venues.get(venue).map(|v| v.capacity)
    }

    /// This machine's worker `index` of `scenario` in run `round`, with its own seeded
    /// input stream; under a shard it is global worker `shard.worker(index)` (its stream,
    /// its hold_cancel event, its customer).
    pub fn worker(
        self: &Arc<Self>,
        scenario: Scenario,
        round: usize,
        index: usize,
        api: Arc<dyn Ticketing>,
    ) -> Worker {
        Worker {
            plan: Arc::clone(self),
            scenario,
            index: self.shard.worker(index),
            api,
            rng: self.input_stream(scenario, index),
            count: 0,
            won: Vec::new(),
            round,
            fixed: None,
            customer: None,
        }
    }
}

/// One simulated client: draws its inputs, runs one operation at a time, checks answers.
pub struct Worker {
    plan: Arc<Plan>,
    scenario: Scenario,
    index: usize,
    api: Arc<dyn Ticketing>,
    rng: ChaCha8Rng,
    count: u64,
    won: Vec<Booking>,
    round: usize,
    /// Ask for this event every time instead of drawing one (a floor serves one event).
    fixed: Option<EventId>,
    /// Make every hold for this customer instead of the worker's own (`--auth`: the
    /// token's customer is the only one a hold may name).
    customer: Option<Customer>,
}

/// Seats the contended scenario fights over.
pub const CONTENDED_SEATS: u32 = 32;

fn customer(index: usize) -> Customer {
    Customer {
        name: format!("Bench Client {index}"),
        email: format!("client{index}@bench.example"),
    }
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok {
        Outcome::Ok
    } else {
        Outcome::Failed(what())
    }
}

impl Worker {
    /// Bookings this worker won in the contended scenario.
    pub fn won(&self) -> &[Booking] {
        &self.won
    }

    /// Asks for `id` every time instead of drawing (for a floor serving one event).
    #[must_use]
    pub fn fixed(mut self, id: EventId) -> Self {
        self.fixed = Some(id);
        self
    }

    /// Makes every hold for `customer` (under `--auth`, the token's) instead of this
    /// worker's own.
    #[must_use]
    pub fn as_customer(mut self, customer: Customer) -> Self {
        self.customer = Some(customer);
        self
    }

    /// Who this worker's holds are for.
    fn customer(&self) -> Customer {
        self.customer
            .clone()
            .unwrap_or_else(|| customer(self.index))
    }

    fn random_event(&mut self) -> EventId {
        match self.fixed {
            Some(id) => id,
            None => self.plan.draw_event(&mut self.rng),
        }
    }

    /// Runs one operation and checks its answer.
    pub async fn step(&mut self) -> Outcome {
        self.count += 1;
        match self.scenario {
            Scenario::GetEvent => {
                let id = self.random_event();
                match self.api.get_event(id).await {
                    Ok(e) => {
                        let expected = &self.plan.data.events[(id.0 - 1) as usize];
                        check(e.id == id && e.name == expected.name, || {
                            format!("get_event({id}) answered event {}", e.id)
                        })
                    }
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Scenario::ListEvents => {
                let category = Category::ALL[Plan::draw_category(&mut self.rng)];
                let request = ListEventsRequest {
                    filter: EventFilter {
                        category: Some(category),
                        ..EventFilter::default()
                    },
                    cursor: None,
                    limit: Some(20),
                };
                match self.api.list_events(request).await {
                    Ok(page) => check(
                        !page.events.is_empty()
                            && page.events.len() <= 20
                            && page.events.iter().all(|e| e.category == category)
                            && page
                                .events
                                .windows(2)
                                .all(|w| (w[0].starts_at, w[0].id) < (w[1].starts_at, w[1].id)),
                        || {
                            format!(
                                "list_events({category}) answered a page that breaks the filter or order"
                            )
                        },
                    ),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Scenario::SearchEvents => {
                let word = self.plan.words[self.plan.draw_word(&mut self.rng)].clone();
                let request = SearchRequest {
                    query: word.clone(),
                    filter: EventFilter::default(),
                    limit: Some(20),
                };
                match self.api.search_events(request).await {
                    Ok(results) => check(
                        !results.hits.is_empty()
                            && results.hits.len() <= 20
                            && results.hits.windows(2).all(|w| w[0].score >= w[1].score),
                        || {
                            format!(
                                "search_events({word:?}) answered {} unordered or no hits",
                                results.hits.len()
                            )
                        },
                    ),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Scenario::EventDetail => {
                let id = self.random_event();
                match self.api.get_event_detail(id).await {
                    Ok(d) => check(
                        d.event.id == id
                            && d.venue.id == d.event.venue_id
                            && d.performers.len() == d.event.performer_ids.len()
                            && d.availability.len() == d.venue.sections.len(),
                        || format!("get_event_detail({id}) answered an inconsistent detail"),
                    ),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Scenario::SeatMap => {
                let id = self.random_event();
                match self.api.get_seat_map(id).await {
                    Ok(map) => {
                        let event = &self.plan.data.events[(id.0 - 1) as usize];
                        let capacity =
                            self.plan.data.venues[(event.venue_id.0 - 1) as usize].capacity;
                        check(
                            map.event_id == id && map.seats.len() == capacity as usize,
                            || {
                                format!(
                                    "get_seat_map({id}) answered {} seats, expected {capacity}",
                                    map.seats.len()
                                )
                            },
                        )
                    }
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Scenario::HoldCancel => self.hold_cancel().await,
            Scenario::ContendedHold => self.contended_hold().await,
            Scenario::Browse => {
                let id = self.random_event();
                self.plan.count_browse_requests(1);
                match self.api.get_event_detail(id).await {
                    Ok(d) => Self::check_page(id, &d.event, &d.venue, &d.performers),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Scenario::BrowseCalls => self.browse_calls().await,
            // No provider runs it as steps (see `StepProvider::runs`).
            Scenario::Watch => Outcome::Failed(
                "watch is not a request-response scenario: it runs through bench::watch".to_owned(),
            ),
            // Its steps open their own connections (`crate::connect`), not this client's.
            Scenario::Connect => Outcome::Failed(
                "connect runs through bench::connect, on a new connection per operation".to_owned(),
            ),
        }
    }

    /// Checks an event page against the dataset: the event asked for, its venue, every
    /// performer in order.
    fn check_page(
        id: EventId,
        event: &domain::Event,
        venue: &domain::Venue,
        performers: &[domain::Performer],
    ) -> Outcome {
        check(
            event.id == id
                && venue.id == event.venue_id
                && performers.len() == event.performer_ids.len()
                && performers
                    .iter()
                    .zip(&event.performer_ids)
                    .all(|(p, id)| p.id == *id),
            || format!("browse({id}) built an inconsistent page"),
        )
    }

    /// The event, then its venue and every performer at once.
    async fn browse_calls(&mut self) -> Outcome {
        let id = self.random_event();
        self.plan.count_browse_requests(1);
        let event = match self.api.get_event(id).await {
            Ok(e) => e,
            Err(e) => return Outcome::Failed(format!("event: {e}")),
        };
        self.plan
            .count_browse_requests(1 + event.performer_ids.len());
        let api = self.api.as_ref();
        let venue = api.get_venue(event.venue_id);
        let performers = futures::future::try_join_all(
            event.performer_ids.iter().map(|p| api.get_performer(*p)),
        );
        match futures::future::try_join(venue, performers).await {
            Ok((venue, performers)) => Self::check_page(id, &event, &venue, &performers),
            Err(e) => Outcome::Failed(format!("venue or performers: {e}")),
        }
    }

    /// Holds two seats of this worker's own event, then cancels them.
    async fn hold_cancel(&mut self) -> Outcome {
        // Each worker holds seats of its own event, counted from the end of the list so
        // they never meet the contended events at the front.
        let Some(event) = self.plan.hold_cancel_event(self.index) else {
            return Outcome::Failed("no on-sale event to hold seats of".to_owned());
        };
        let first = ((self.count * 2) % 62) as u32;
        let request = HoldRequest {
            event_id: event,
            seat_ids: vec![SeatId(first), SeatId(first + 1)],
            customer: self.customer(),
            idempotency_key: None,
        };
        let booking = match self.api.hold_seats(request).await {
            Ok(b) => b,
            Err(e) => return Outcome::Failed(format!("hold: {e}")),
        };
        match self.api.cancel_booking(booking.id).await {
            Ok(cancelled) => check(cancelled.status == domain::BookingStatus::Cancelled, || {
                "cancel did not cancel".to_owned()
            }),
            Err(e) => Outcome::Failed(format!("cancel: {e}")),
        }
    }

    /// Tries to hold two random seats of the contended pool; a refusal is a conflict.
    async fn contended_hold(&mut self) -> Outcome {
        let Some(event) = self.plan.contended_event(self.round) else {
            return Outcome::Failed("no on-sale event to fight over".to_owned());
        };
        let a = self.rng.random_range(0..CONTENDED_SEATS);
        let b = (a + self.rng.random_range(1..CONTENDED_SEATS)) % CONTENDED_SEATS;
        let request = HoldRequest {
            event_id: event,
            seat_ids: vec![SeatId(a), SeatId(b)],
            customer: self.customer(),
            idempotency_key: None,
        };
        match self.api.hold_seats(request).await {
            Ok(booking) => {
                self.won.push(booking);
                Outcome::Ok
            }
            Err(domain::Error::SeatsUnavailable { .. }) => Outcome::Conflict,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// After a contended run: the seats of the winning bookings must be disjoint, and the
/// seat map must show exactly those seats held. Returns the number of seats found in
/// two live bookings (0 is the only correct answer) or a description of a disagreement.
///
/// # Errors
/// If the seat map cannot be read or disagrees with the winners.
pub async fn verify_contended(
    api: &dyn Ticketing,
    event: EventId,
    winners: &[Booking],
) -> Result<u64, String> {
    check_contended(api, event, winners, false).await
}

/// [`verify_contended`] for one shard of a contended run: the other load machines' winners
/// are unknown here, so a held seat nobody here won is theirs, not a disagreement; every
/// seat won here must still be held, and seats in two of this shard's bookings are counted.
/// Double bookings across shards are not visible to any one of them.
///
/// # Errors
/// If the seat map cannot be read or shows a seat won here as not held.
pub async fn verify_contended_shard(
    api: &dyn Ticketing,
    event: EventId,
    winners: &[Booking],
) -> Result<u64, String> {
    check_contended(api, event, winners, true).await
}

async fn check_contended(
    api: &dyn Ticketing,
    event: EventId,
    winners: &[Booking],
    others_may_hold: bool,
) -> Result<u64, String> {
    let mut owner = vec![0u32; CONTENDED_SEATS as usize];
    for booking in winners {
        for seat in &booking.seat_ids {
            if let Some(slot) = owner.get_mut(seat.0 as usize) {
                *slot += 1;
            }
        }
    }
    let doubles = owner.iter().filter(|&&n| n > 1).count() as u64;
    let map = api
        .get_seat_map(event)
        .await
        .map_err(|e| format!("reading the seat map: {e}"))?;
    for (seat, &count) in owner.iter().enumerate() {
        let Some(state) = map.seats.get(seat).map(|s| s.state) else {
            return Err(format!(
                "the seat map has {} seats, the contended pool {CONTENDED_SEATS}",
                map.seats.len()
            ));
        };
        let held = state == domain::SeatState::Held;
        if held != (count > 0) && !(held && others_may_hold) {
            return Err(format!(
                "seat {seat} is {state} but {count} winning bookings hold it"
            ));
        }
    }
    Ok(doubles)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;

    use domain::{Dataset, DatasetSpec};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::Plan;

    fn drawn(hot: Option<u32>) -> BTreeSet<u64> {
        let plan = Plan::new(Dataset::from_spec(DatasetSpec {
            events: 20,
            seed: 42,
        }))
        .hot_events(hot);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        (0..2_000).map(|_| plan.draw_event(&mut rng).0).collect()
    }

    #[test]
    fn hot_events_bound_the_events_drawn() {
        assert_eq!(drawn(None), (1..=20).collect());
        assert_eq!(drawn(Some(3)), (1..=3).collect());
        assert_eq!(drawn(Some(1)), BTreeSet::from([1]));
        // More than the dataset has: the whole dataset.
        assert_eq!(drawn(Some(1_000)), (1..=20).collect());
    }
}
