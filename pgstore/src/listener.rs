//! One replica's side of change data capture: the listener task that turns outbox rows
//! into per-event [`Feed`]s, the subscribe path that starts a subscriber on one, and the
//! periodic outbox pruner. What is written, and how it is read, is [`crate::outbox`].
//!
//! **Listener.** Each `PgStore` (one per replica process) runs one task on a dedicated
//! tokio-postgres connection (not a pooled one) that `LISTEN`s on the schema's channel. It
//! keeps, per watched event, the last version it published (its position), and reads the
//! outbox after every position when
//! - a notification names a watched event (notifications are coalesced: one read per
//!   wake-up, however many arrived),
//! - it (re)connects: `LISTEN` first, then the read, so nothing committed in between is
//!   missed; NOTIFY is dropped while a listener is disconnected, the table is not,
//! - every [`SAFETY_POLL_INTERVAL`], in case a notification was lost any other way.
//!
//! It publishes rows in version order to the event's `Feed` (the same broadcast ring and
//! lag rule as the in-memory store's, so a slow subscriber ends with a resync exactly as
//! there). Feeds with no subscriber left are dropped on the poll. Reconnects back off from
//! [`RECONNECT_MIN_DELAY`] to [`RECONNECT_MAX_DELAY`].
//!
//! **Subscribe.** A subscriber takes its feed's receiver first, then reads the event's
//! version and per-section counts from the database in one statement. Everything the
//! feed publishes after the receiver was made reaches the receiver, and anything at or
//! below the version read is skipped by [`domain::feed::stream`], so nothing is lost or
//! doubled between the read and the live changes. A resume from a version at most
//! `Limits::watch_retained` behind is replayed from the outbox table itself (durable
//! history, the same on every replica, so a subscriber may resume on another replica);
//! further back, or past what was pruned, it gets a snapshot. The in-memory feeds
//! therefore retain nothing; they only fan out.
//!
//! **Pruning.** Every replica runs [`PRUNE_INTERVAL`] passes of [`crate::outbox::prune`],
//! keeping `Limits::watch_retained` versions per event and every row younger than
//! [`PRUNE_MIN_AGE`] (so a listener that was away for less than that catches up from the
//! table); replicas pruning at once skip each other's rows.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use domain::feed::{Feed, Start};
use domain::{
    AvailabilityStream, AvailabilityUpdate, Clock, Error, EventId, Result, UpdateKind, rules,
};
use futures::StreamExt;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::outbox;
use crate::rows::db;

/// How often the listener reads the outbox without a notification.
pub const SAFETY_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The first wait before reconnecting a lost listener connection.
pub const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
/// The longest wait between reconnection attempts.
pub const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(2);
/// Outbox rows read per statement; the listener reads again while batches come back full.
pub const READ_BATCH: i64 = 1_000;
/// How often each replica prunes the outbox.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(10);
/// Outbox rows younger than this are never pruned.
pub const PRUNE_MIN_AGE: Duration = Duration::from_secs(60);
/// Rows deleted per pruning statement, and statements per pass.
pub const PRUNE_BATCH: (u32, u32) = (5_000, 20);

/// One watched event on this replica.
#[derive(Debug)]
struct Entry {
    feed: Feed,
    /// The last version published to `feed`; `None` until a subscriber has read where the
    /// event stands (nothing is published before that).
    position: Option<u64>,
}

/// What the listener task, the subscribers and the store share.
#[derive(Debug)]
pub(crate) struct Hub {
    feeds: Mutex<HashMap<i64, Entry>>,
    /// Watched events named by notifications since the listener last read.
    pending: Mutex<HashSet<i64>>,
    wake: Notify,
    /// The listener connection's backend pid, 0 while disconnected.
    pid: AtomicI32,
    /// Listener connections made so far.
    sessions: AtomicU64,
    buffer: usize,
    channel: String,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here leaves the map consistent, so a panic elsewhere while
    // holding it does not make the data unusable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    pub(crate) fn new(schema: &str, buffer: usize) -> Self {
        Hub {
            feeds: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            pid: AtomicI32::new(0),
            sessions: AtomicU64::new(0),
            buffer,
            channel: outbox::channel(schema),
        }
    }

    /// Live subscribers of `event` on this replica.
    pub(crate) fn watchers(&self, event: i64) -> usize {
        lock(&self.feeds)
            .get(&event)
            .map_or(0, |e| e.feed.receivers())
    }

    /// The listener connection's backend pid, if connected.
    pub(crate) fn pid(&self) -> Option<i32> {
        Some(self.pid.load(Ordering::Acquire)).filter(|&p| p != 0)
    }

    /// Listener connections made so far (1 after the first connect, +1 per reconnect).
    pub(crate) fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Acquire)
    }

    /// A receiver of `event`'s feed (created if new), and its position when it was made.
    fn join(&self, event: i64) -> (broadcast::Receiver<Arc<AvailabilityUpdate>>, Option<u64>) {
        let mut feeds = lock(&self.feeds);
        let entry = feeds.entry(event).or_insert_with(|| Entry {
            // Nothing retained in memory: resumes are served from the outbox table.
            feed: Feed::new(0, self.buffer),
            position: None,
        });
        (entry.feed.receiver(), entry.position)
    }

    /// Sets a new feed's position to `version` read by a subscriber. Returns the position
    /// already set by another subscriber if it is ahead of `version` (the caller reads
    /// again: the versions between were never published to it).
    fn settle(&self, event: i64, version: u64) -> Option<u64> {
        let mut feeds = lock(&self.feeds);
        let entry = feeds.get_mut(&event)?;
        match entry.position {
            None => {
                entry.position = Some(version);
                None
            }
            Some(q) => Some(q).filter(|&q| q > version),
        }
    }

    /// Asks the listener to read `event` now.
    fn poke(&self, event: i64) {
        lock(&self.pending).insert(event);
        self.wake.notify_one();
    }

    /// A notification's payload (`event_id:version`): wake the listener if it is watched.
    fn notified(&self, payload: &str) {
        let event = payload
            .split(':')
            .next()
            .and_then(|e| e.parse::<i64>().ok());
        if let Some(event) = event
            && lock(&self.feeds).contains_key(&event)
        {
            self.poke(event);
        }
    }

    /// Reads the outbox after the position of every watched event (or of `only`) and
    /// publishes what it finds, in version order.
    async fn catch_up(
        &self,
        client: &tokio_postgres::Client,
        stmt: &tokio_postgres::Statement,
        only: Option<&HashSet<i64>>,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        loop {
            let positions: Vec<(i64, i64)> = lock(&self.feeds)
                .iter()
                .filter(|(event, _)| only.is_none_or(|o| o.contains(event)))
                .filter_map(|(&event, e)| Some((event, i64::try_from(e.position?).ok()?)))
                .collect();
            if positions.is_empty() {
                return Ok(());
            }
            let rows = outbox::read_after(client, stmt, &positions, READ_BATCH).await?;
            let full = rows.len() >= usize::try_from(READ_BATCH).unwrap_or(usize::MAX);
            let mut feeds = lock(&self.feeds);
            for row in &rows {
                let update = match outbox::update(row) {
                    Ok(update) => update,
                    Err(e) => {
                        tracing::error!(error = %e, "unreadable outbox row skipped");
                        continue;
                    }
                };
                let Ok(event) = i64::try_from(update.event_id.0) else {
                    continue;
                };
                let Some(entry) = feeds.get_mut(&event) else {
                    continue;
                };
                let Some(at) = entry.position.filter(|&p| update.version > p) else {
                    continue;
                };
                if update.version != at + 1 {
                    // Pruned past this replica's position: publishing the jump makes every
                    // live subscriber end with a resync instead of skipping silently.
                    tracing::warn!(event, at, next = update.version, "outbox gap (pruned)");
                }
                entry.position = Some(update.version);
                entry.feed.publish(update);
            }
            drop(feeds);
            if !full {
                return Ok(());
            }
        }
    }

    /// Drops the feeds no subscriber follows any more.
    fn forget_unwatched(&self) {
        lock(&self.feeds).retain(|_, e| e.feed.receivers() > 0);
    }
}

/// Aborts a task when dropped: the store's background tasks end with its last clone.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the listener task for `hub` on connections made from `config`.
pub(crate) fn spawn_listener(hub: Arc<Hub>, config: tokio_postgres::Config) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let mut delay = RECONNECT_MIN_DELAY;
        loop {
            let before = hub.sessions();
            let ended = session(&hub, &config).await;
            hub.pid.store(0, Ordering::Release);
            if let Err(error) = ended {
                tracing::warn!(%error, "availability listener disconnected; reconnecting");
            }
            // A session that got as far as connecting starts the back-off afresh.
            if hub.sessions() > before {
                delay = RECONNECT_MIN_DELAY;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_MAX_DELAY);
        }
    }))
}

/// One listener connection, from connect to loss.
async fn session(
    hub: &Arc<Hub>,
    config: &tokio_postgres::Config,
) -> std::result::Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let driver_hub = Arc::clone(hub);
    // The connection's messages: query results go to `client`, notifications to the hub.
    let mut driver = AbortOnDrop(tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => driver_hub.notified(n.payload()),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "availability listener connection failed");
                    break;
                }
            }
        }
    }));
    client
        .batch_execute(&format!("LISTEN {}", hub.channel))
        .await?;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .try_get(0)?;
    let stmt = client.prepare(&outbox::read_after_sql()).await?;
    hub.pid.store(pid, Ordering::Release);
    hub.sessions.fetch_add(1, Ordering::AcqRel);
    hub.catch_up(&client, &stmt, None).await?;
    let mut poll = tokio::time::interval(SAFETY_POLL_INTERVAL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await;
    loop {
        tokio::select! {
            () = hub.wake.notified() => {
                let events = std::mem::take(&mut *lock(&hub.pending));
                hub.catch_up(&client, &stmt, Some(&events)).await?;
            }
            _ = poll.tick() => {
                hub.forget_unwatched();
                hub.catch_up(&client, &stmt, None).await?;
            }
            _ = &mut driver.0 => return Ok(()),
        }
    }
}

/// Starts the pruning task over `pool`, keeping `keep_versions` per event.
pub(crate) fn spawn_pruner(pool: deadpool_postgres::Pool, keep_versions: u64) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; the store may still be migrating then.
        every.tick().await;
        loop {
            every.tick().await;
            let Ok(client) = pool.get().await else {
                continue;
            };
            let (batch, batches) = PRUNE_BATCH;
            match outbox::prune(&client, keep_versions, PRUNE_MIN_AGE, batch, batches).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "outbox pruned"),
                Err(error) => tracing::warn!(%error, "outbox pruning failed"),
            }
        }
    }))
}

/// Where a subscriber of `id` stands and what it is sent first.
struct Begin {
    version: u64,
    first: Vec<Arc<AvailabilityUpdate>>,
}

/// Subscribes to `id` (database key `key`) from `from`, as the module doc describes.
///
/// # Errors
/// `NOT_FOUND` for an unknown event, `INVALID_ARGUMENT` for a version ahead of the
/// event's, `UNAVAILABLE` if the database cannot be read.
pub(crate) async fn subscribe(
    hub: &Hub,
    client: &deadpool_postgres::Object,
    (id, key): (EventId, i64),
    from: Option<u64>,
    retained: usize,
    clock: Arc<dyn Clock>,
) -> Result<AvailabilityStream> {
    let (receiver, published) = hub.join(key);
    let mut begin = begin(client, (id, key), from, retained, clock.as_ref()).await?;
    if published.is_none() {
        // At most one re-read: a position set by another subscriber was read from the
        // database before, so a second read is at or past it.
        if hub.settle(key, begin.version).is_some() {
            begin = self::begin(client, (id, key), from, retained, clock.as_ref()).await?;
        }
        // Notifications that came while the position was unset were not acted on.
        hub.poke(key);
    }
    let start = Start {
        first: begin.first,
        version: begin.version,
        receiver,
    };
    Ok(domain::feed::stream(id, start, clock))
}

/// Reads where `id` stands and builds the backlog after `from` or a snapshot.
async fn begin(
    client: &deadpool_postgres::Object,
    (id, key): (EventId, i64),
    from: Option<u64>,
    retained: usize,
    clock: &dyn Clock,
) -> Result<Begin> {
    let stmt = client
        .prepare_cached("SELECT version, available FROM event_inventory WHERE event_id = $1")
        .await
        .map_err(db)?;
    let row = client
        .query_opt(&stmt, &[&key])
        .await
        .map_err(db)?
        .ok_or_else(|| Error::not_found("event", id))?;
    let stored: i64 = row.try_get(0).map_err(db)?;
    let available: Vec<i32> = row.try_get(1).map_err(db)?;
    let version = u64::try_from(stored).map_err(|_| Error::internal("negative version"))?;
    let snapshot = || -> Result<Vec<Arc<AvailabilityUpdate>>> {
        Ok(vec![Arc::new(AvailabilityUpdate {
            event_id: id,
            kind: UpdateKind::Snapshot,
            version,
            sections: outbox::sections(&available)?,
            seats: Vec::new(),
            committed_at: clock.now(),
        })])
    };
    let first = match from {
        Some(from) if from > version => return Err(rules::watch_version_ahead(id, from, version)),
        Some(from) if from == version => Vec::new(),
        Some(from) if version - from <= retained as u64 => {
            let after = i64::try_from(from).map_err(|_| Error::internal("version overflow"))?;
            let backlog = outbox::read_range(client, key, after, stored).await?;
            if backlog.len() as u64 == version - from {
                backlog.into_iter().map(Arc::new).collect()
            } else {
                // Pruned (or written before the outbox existed): start afresh.
                snapshot()?
            }
        }
        _ => snapshot()?,
    };
    Ok(Begin { version, first })
}
