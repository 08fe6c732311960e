//! `--search index`: search a PostgreSQL-backed catalogue through this replica's own
//! engine index (the in-memory catalogue's tantivy index, `domain::catalog`), kept
//! current from the change feed, instead of PostgreSQL's full-text search.
//!
//! - **Built once** ([`LiveIndex::build`]) from the catalogue in the database: venues,
//!   sections, performers and events read into a `domain::Dataset`, indexed by
//!   `domain::Catalog` exactly as the memory store indexes its generated one (same words,
//!   BM25, block-max WAND top-k, filters, ties by id). The catalogue's text does not
//!   change after loading, so the text index never needs a rewrite; a reload of the
//!   schema (`pgstore::load` with `replace`) needs a restart of the replica.
//! - **Kept current from the change feed**: what does change, each event's seats left and
//!   so its `sold_out` status, is a per-event column beside the index (like an engine's
//!   updatable doc values), fed by a task on its own connection that `LISTEN`s on the
//!   outbox's channel: each notification names an event, and a batch of them (coalesced)
//!   is one read of those events' `event_inventory` rows (version and per-section
//!   counts), applied only if newer than what the column holds. On every (re)connect it
//!   `LISTEN`s first and then reads every event's row, so notifications lost while
//!   disconnected cost nothing. Results are therefore **eventually** consistent: a
//!   committed change shows in search once its notification is applied (measured by
//!   `tests/search_index.rs`); `--search database` is strongly consistent.
//! - Lapsed holds count as taken until their expiry is written (by the sweeper or the
//!   next hold), as in the inventory counts the outbox carries.
//!
//! What is not here: the database's own search (`backend`), the outbox (`crate::outbox`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use domain::{
    Catalog, Dataset, DatasetSpec, Error, Event, EventFilter, EventStatus, Result, SearchHit,
};
use futures::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::error::SetupError;
use crate::listener::{AbortOnDrop, RECONNECT_MAX_DELAY, RECONNECT_MIN_DELAY};
use crate::rows::{self, EVENT_COLUMNS, db};

/// One event's live column: the inventory version last applied and whether every seat
/// is taken.
#[derive(Debug, Default)]
struct Live {
    version: AtomicI64,
    sold_out: AtomicBool,
}

/// This replica's engine index over the database's catalogue and its live column, and
/// the feed task keeping the column current (stopped when this is dropped).
#[derive(Debug)]
pub struct LiveIndex {
    inner: Arc<Inner>,
    _feed: AbortOnDrop,
}

impl std::ops::Deref for LiveIndex {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

/// What the searchers and the feed task share.
#[derive(Debug)]
pub struct Inner {
    catalog: Catalog,
    /// By event index (event id - 1).
    live: Vec<Live>,
    pending: Mutex<HashSet<i64>>,
    wake: Notify,
    /// Notified after every applied batch, for waiters measuring staleness.
    applied: Notify,
    batches: AtomicU64,
}

impl LiveIndex {
    /// Reads the catalogue through `pool`, indexes it and starts the feed on connections
    /// made from `connect`, listening on `channel`.
    ///
    /// # Errors
    /// [`SetupError`] if the database cannot be read, or [`SetupError::Config`] if its ids
    /// are not `1..=n` (the engine index addresses events by position).
    pub(crate) async fn build(
        pool: &deadpool_postgres::Pool,
        connect: tokio_postgres::Config,
        channel: String,
    ) -> std::result::Result<Self, SetupError> {
        let dataset = read_dataset(pool).await?;
        let events = dataset.events.len();
        // Tantivy's indexing is CPU work for seconds at a million events: off the runtime.
        let catalog = tokio::task::spawn_blocking(move || Catalog::new(dataset))
            .await
            .map_err(|e| SetupError::Config(format!("building the search index: {e}")))?;
        let index = Arc::new(Inner {
            catalog,
            live: (0..events).map(|_| Live::default()).collect(),
            pending: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            applied: Notify::new(),
            batches: AtomicU64::new(0),
        });
        let client = pool.get().await?;
        let rows = client
            .query(
                "SELECT event_id, version, available FROM event_inventory",
                &[],
            )
            .await?;
        index.apply(&rows);
        drop(client);
        let feed = spawn_feed(Arc::clone(&index), connect, channel);
        Ok(LiveIndex {
            inner: index,
            _feed: feed,
        })
    }
}

impl Inner {
    /// The best `limit` events containing every one of `terms` and matching `filter`,
    /// with their status as of the last change applied.
    ///
    /// # Errors
    /// `INTERNAL` if the engine fails a query.
    pub(crate) fn search(
        &self,
        terms: &[String],
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        Ok(self
            .catalog
            .search_terms(terms, filter, limit)?
            .into_iter()
            .map(|hit| SearchHit {
                event: self.live_event(hit.event),
                score: hit.score,
            })
            .collect())
    }

    fn live_event(&self, event: &Event) -> Event {
        let mut event = event.clone();
        let sold_out = position(event.id.0)
            .and_then(|i| self.live.get(i))
            .is_some_and(|l| l.sold_out.load(Ordering::Acquire));
        if event.status == EventStatus::OnSale && sold_out {
            event.status = EventStatus::SoldOut;
        }
        event
    }

    /// The inventory version of event `id` this index has applied (`None` for an
    /// unknown event): a change of that version or older is searchable.
    pub fn version(&self, id: u64) -> Option<i64> {
        position(id)
            .and_then(|i| self.live.get(i))
            .map(|l| l.version.load(Ordering::Acquire))
    }

    /// Waits until event `id`'s applied version is at least `version`; returns at once if
    /// it already is. Callers bound it with their own timeout.
    pub async fn wait_for(&self, id: u64, version: i64) {
        loop {
            let applied = self.applied.notified();
            tokio::pin!(applied);
            // Registered before the check, so an apply in between is not missed.
            applied.as_mut().enable();
            if self.version(id).is_none_or(|v| v >= version) {
                return;
            }
            applied.await;
        }
    }

    /// Batches of changes applied since the index was built.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Acquire)
    }

    /// Applies inventory rows (`event_id`, `version`, `available`) newer than what each
    /// event's column holds. Only the feed task (and the build before it) applies, so a
    /// load-then-store per event cannot race.
    fn apply(&self, rows: &[tokio_postgres::Row]) {
        for row in rows {
            let (Ok(event), Ok(version), Ok(available)) = (
                row.try_get::<_, i64>(0),
                row.try_get::<_, i64>(1),
                row.try_get::<_, Vec<i32>>(2),
            ) else {
                tracing::warn!("an inventory row the search index cannot read");
                continue;
            };
            let Some(live) = u64::try_from(event)
                .ok()
                .and_then(position)
                .and_then(|i| self.live.get(i))
            else {
                continue;
            };
            if version > live.version.load(Ordering::Acquire) {
                live.sold_out
                    .store(available.iter().all(|&n| n <= 0), Ordering::Release);
                live.version.store(version, Ordering::Release);
            }
        }
        self.batches.fetch_add(1, Ordering::AcqRel);
        self.applied.notify_waiters();
    }

    fn notified(&self, payload: &str) {
        let Some(event) = payload
            .split_once(':')
            .and_then(|(event, _)| event.parse::<i64>().ok())
        else {
            return;
        };
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(event);
        self.wake.notify_one();
    }
}

/// The index of event `id` in the catalogue (ids are `1..=n`).
fn position(id: u64) -> Option<usize> {
    usize::try_from(id).ok()?.checked_sub(1)
}

/// Starts the feed: reconnects with back-off until the index is dropped.
fn spawn_feed(index: Arc<Inner>, connect: tokio_postgres::Config, channel: String) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let mut delay = RECONNECT_MIN_DELAY;
        loop {
            match feed_session(&index, &connect, &channel).await {
                Ok(()) => delay = RECONNECT_MIN_DELAY,
                Err(error) => tracing::warn!(%error, "search index feed disconnected"),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_MAX_DELAY);
        }
    }))
}

/// One feed connection, from connect to loss.
async fn feed_session(
    index: &Arc<Inner>,
    connect: &tokio_postgres::Config,
    channel: &str,
) -> std::result::Result<(), tokio_postgres::Error> {
    let (client, mut connection) = connect.connect(NoTls).await?;
    let driver_index = Arc::downgrade(index);
    let mut driver = AbortOnDrop(tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if let Some(index) = driver_index.upgrade() {
                        index.notified(n.payload());
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }));
    client.batch_execute(&format!("LISTEN {channel}")).await?;
    // After LISTEN: everything committed from here on is notified, and everything before
    // is in this read.
    let all = client
        .query(
            "SELECT event_id, version, available FROM event_inventory",
            &[],
        )
        .await?;
    index.apply(&all);
    let some = client
        .prepare(
            "SELECT event_id, version, available FROM event_inventory \
             WHERE event_id = ANY($1)",
        )
        .await?;
    loop {
        tokio::select! {
            () = index.wake.notified() => {
                let events: Vec<i64> = std::mem::take(
                    &mut *index.pending.lock().unwrap_or_else(PoisonError::into_inner),
                )
                .into_iter()
                .collect();
                if !events.is_empty() {
                    let rows = client.query(&some, &[&events]).await?;
                    index.apply(&rows);
                }
            }
            _ = &mut driver.0 => return Ok(()),
        }
    }
}

/// The catalogue in the database as a dataset (ids checked to be `1..=n`).
async fn read_dataset(pool: &deadpool_postgres::Pool) -> std::result::Result<Dataset, SetupError> {
    let client = pool.get().await?;
    let (venues, sections, performers) = futures::try_join!(
        client.query(
            "SELECT id, name, city, country, capacity FROM venues ORDER BY id",
            &[]
        ),
        client.query(
            "SELECT venue_id, section_id, name, price_cents, row_labels, row_seats \
             FROM venue_sections ORDER BY venue_id, section_id",
            &[]
        ),
        client.query(
            "SELECT id, name, genre, bio FROM performers ORDER BY id",
            &[]
        ),
    )?;
    let now = chrono::Utc::now();
    let events = client
        .query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN venues v ON v.id = e.venue_id \
                 ORDER BY e.id"
            ),
            &[&now],
        )
        .await?;
    let bad = |e: Error| SetupError::Config(format!("reading the catalogue: {e}"));
    let mut by_venue: HashMap<i64, Vec<tokio_postgres::Row>> = HashMap::new();
    for row in sections {
        by_venue.entry(row.try_get(0)?).or_default().push(row);
    }
    let venues = venues
        .iter()
        .map(|v| {
            let id: i64 = v.try_get("id").map_err(db)?;
            rows::venue(v, by_venue.get(&id).map_or(&[][..], Vec::as_slice))
        })
        .collect::<Result<Vec<_>>>()
        .map_err(bad)?;
    let performers = performers
        .iter()
        .map(rows::performer)
        .collect::<Result<Vec<_>>>()
        .map_err(bad)?;
    let events = events
        .iter()
        .map(|row| {
            // The stored status; sold-out is the live column's.
            rows::event(row).map(|mut e| {
                if e.status == EventStatus::SoldOut {
                    e.status = EventStatus::OnSale;
                }
                e
            })
        })
        .collect::<Result<Vec<_>>>()
        .map_err(bad)?;
    let consecutive = venues
        .iter()
        .enumerate()
        .all(|(i, v)| v.id.0 == i as u64 + 1)
        && performers
            .iter()
            .enumerate()
            .all(|(i, p)| p.id.0 == i as u64 + 1)
        && events
            .iter()
            .enumerate()
            .all(|(i, e)| e.id.0 == i as u64 + 1);
    if !consecutive {
        return Err(SetupError::Config(
            "the search index needs venue, performer and event ids 1..=n".into(),
        ));
    }
    Ok(Dataset {
        spec: DatasetSpec {
            events: u32::try_from(events.len()).unwrap_or(u32::MAX),
            seed: 0,
        },
        venues,
        performers,
        events,
    })
}
