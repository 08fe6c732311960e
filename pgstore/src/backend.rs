//! `PgStore`: the domain's [`Backend`] over PostgreSQL. Every operation goes to the
//! database (no catalogue cache); statements are prepared once per connection
//! (deadpool's statement cache); each operation is bounded by the checkout and
//! statement timeouts and answers `UNAVAILABLE` past them.
//!
//! Locking: every write of one event (hold, confirm, cancel) runs in one short
//! transaction that first locks the event's `event_inventory` row, so writes of one event
//! are serialised like the in-memory store's per-event mutex, writes of different events
//! never meet, and the lock order (inventory, then claims, then bookings) cannot
//! deadlock. The unique `(event_id, seat_id)` key of `seat_claims` is what makes a double
//! claim impossible: a hold inserts one claim per seat with `ON CONFLICT DO UPDATE ...
//! WHERE` the old claim is a lapsed hold (taking it over in the same statement), and
//! holds exactly the seats it got back or, if any is missing, rolls back and names them.
//! Confirm and cancel are compare-and-swap on the booking's version and status.

use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, QueueMode, RecyclingMethod, Runtime};
use domain::catalog::Cursor;
use domain::{
    AvailabilityStream, Backend, Booking, BookingId, BookingStatus, Clock, Error, Event,
    EventDetail, EventFilter, EventId, EventStatus, HoldRequest, Limits, Performer, PerformerId,
    Result, SearchHit, Seat, SeatId, SeatMap, SeatState, SectionAvailability, SystemClock,
    Timestamp, Venue, VenueId, rules,
};
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use crate::config::PgConfig;
use crate::error::{SetupError, pool_to_domain, unavailable};
use crate::listener::{AbortOnDrop, Hub, spawn_listener, spawn_pruner};
use crate::outbox::{self, Inventory};
use crate::rows::{self, BOOKING_COLUMNS, EVENT_COLUMNS, db};

/// The PostgreSQL backend: a pool of connections to one schema, and this replica's side
/// of live availability (see [`crate::listener`]).
#[derive(Clone)]
pub struct PgStore {
    watch: Arc<Watching>,
    pool: Pool,
    clock: Arc<dyn Clock>,
    limits: Limits,
    hold_ttl: chrono::Duration,
    /// The bound on one operation: checkout plus statement timeout.
    op_timeout: Duration,
    schema: String,
    /// `--search index`: this replica's engine index fed by the change feed
    /// ([`crate::search_index`]); `None` searches with PostgreSQL's full-text search.
    index: Option<Arc<crate::search_index::LiveIndex>>,
    /// The booking-id permutation under the schema's key (`booking_id_key`, V4): read
    /// at connect, or on first use by a store made with [`PgStore::lazy`].
    booking_ids: Arc<OnceLock<domain::booking_ids::BookingIds>>,
}

/// What live availability needs: the feeds shared with the listener task, the
/// connection settings for its own connection, and the background tasks, which end when
/// the last clone of the store is dropped.
#[derive(Debug)]
struct Watching {
    hub: Arc<Hub>,
    connect: tokio_postgres::Config,
    /// Started by the first `watch_availability`: a replica nobody watches through holds
    /// no listening connection.
    listener: OnceLock<AbortOnDrop>,
    /// Started with the store when it is made inside a tokio runtime (every server and
    /// test), so the outbox stays bounded whether or not anyone watches.
    _pruner: Option<AbortOnDrop>,
    /// The sweeper of lapsed holds ([`crate::sweeper`]), started like the pruner unless
    /// the configuration turns it off.
    _sweeper: Option<AbortOnDrop>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// A pool over `config`, without touching the database (connections open on first
    /// use). Operations answer `UNAVAILABLE` while the database cannot be reached.
    ///
    /// # Errors
    /// [`SetupError::Config`] for a bad URL or schema, [`SetupError::Build`] if the pool
    /// cannot be built.
    pub fn lazy(config: &PgConfig, clock: Arc<dyn Clock>) -> Result<Self, SetupError> {
        config.check()?;
        let mut pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|e| SetupError::Config(format!("database URL: {e}")))?;
        pg.connect_timeout(config.connect_timeout);
        pg.options(format!(
            "-c search_path={} -c statement_timeout={}",
            config.schema,
            config.statement_timeout.as_millis()
        ));
        pg.application_name("quartet");
        let mut listen = pg.clone();
        listen.application_name("quartet-listener");
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            // Last in, first out: a light load keeps reusing the connection it just
            // returned, so one PostgreSQL backend (and its caches) stays hot. deadpool's
            // default, first in first out, rotates through every connection a burst,
            // the sweeper or the pruner ever opened, waking a colder backend each time.
            .queue_mode(QueueMode::Lifo)
            .wait_timeout(Some(config.checkout_timeout))
            .create_timeout(Some(config.checkout_timeout))
            .recycle_timeout(Some(config.checkout_timeout))
            .runtime(Runtime::Tokio1)
            .build()?;
        let keep = u64::try_from(config.limits.watch_retained).unwrap_or(u64::MAX);
        let watch = Arc::new(Watching {
            hub: Arc::new(Hub::new(&config.schema, config.limits.watch_buffer)),
            connect: listen,
            listener: OnceLock::new(),
            _pruner: tokio::runtime::Handle::try_current()
                .is_ok()
                .then(|| spawn_pruner(pool.clone(), keep)),
            _sweeper: config
                .sweep_interval
                .filter(|_| tokio::runtime::Handle::try_current().is_ok())
                .map(|every| {
                    crate::sweeper::spawn_sweeper(pool.clone(), Arc::clone(&clock), every)
                }),
        });
        Ok(PgStore {
            watch,
            pool,
            clock,
            limits: config.limits.clone(),
            hold_ttl: chrono::Duration::from_std(config.limits.hold_ttl)
                .unwrap_or(chrono::Duration::MAX),
            op_timeout: config.checkout_timeout + config.statement_timeout,
            schema: config.schema.clone(),
            index: None,
            booking_ids: Arc::new(OnceLock::new()),
        })
    }

    /// Connects, creates the schema if needed and applies the migrations.
    ///
    /// # Errors
    /// [`SetupError`] if the database cannot be reached or a migration fails.
    pub async fn connect(config: &PgConfig) -> Result<Self, SetupError> {
        Self::connect_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`PgStore::connect`] reading time from `clock` (tests pass a manual clock).
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_with_clock(
        config: &PgConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SetupError> {
        let store = Self::lazy(config, clock)?;
        let mut client = store.pool.get().await?;
        crate::migrate::run(&mut client, &config.schema, config.partitions).await?;
        drop(client);
        store
            .booking_ids()
            .await
            .map_err(|e| SetupError::Config(format!("booking id key: {e}")))?;
        Ok(store)
    }

    /// One sweep of lapsed holds now (the background sweeper runs the same pass every
    /// `PgConfig::sweep_interval`); returns how many holds it expired. Safe beside any
    /// number of other replicas' sweepers and writers.
    ///
    /// # Errors
    /// `UNAVAILABLE` or `INTERNAL` from the database.
    pub async fn sweep_expired(&self) -> Result<u64> {
        self.bounded(crate::sweeper::sweep(
            &self.pool,
            &*self.clock,
            crate::sweeper::SWEEP_BATCH,
        ))
        .await
    }

    /// This store searching through its own engine index of the catalogue now in the
    /// database, kept current from the change feed (`--search index`; see
    /// [`crate::search_index`]), instead of PostgreSQL's full-text search. Call it after
    /// the catalogue is loaded.
    ///
    /// # Errors
    /// [`SetupError`] if the catalogue cannot be read or its ids are not `1..=n`.
    pub async fn with_search_index(mut self) -> Result<Self, SetupError> {
        let index = crate::search_index::LiveIndex::build(
            &self.pool,
            self.watch.connect.clone(),
            outbox::channel(&self.schema),
        )
        .await?;
        self.index = Some(Arc::new(index));
        Ok(self)
    }

    /// The engine index this store searches with, if [`PgStore::with_search_index`] made
    /// one (for staleness measurements).
    pub fn search_index(&self) -> Option<&crate::search_index::LiveIndex> {
        self.index.as_deref()
    }

    /// The pool, for loading, audits and tests.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The schema every table lives in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The limits the store was configured with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Live availability subscribers of `id` on this replica (streams not yet dropped).
    pub fn watchers(&self, id: EventId) -> usize {
        to_i64(id.0).map_or(0, |key| self.watch.hub.watchers(key))
    }

    /// The backend pid of this replica's availability listener connection, while it is
    /// connected (`None` before the first watch and while reconnecting). For tests and
    /// operators: `pg_terminate_backend` on it shows the listener recovering.
    pub fn listener_pid(&self) -> Option<i32> {
        self.watch.hub.pid()
    }

    /// How many listener connections this replica has made (reconnects included).
    pub fn listener_sessions(&self) -> u64 {
        self.watch.hub.sessions()
    }

    /// Checks that no seat is in two live bookings, that the claims agree with the
    /// bookings (every live booking's seats claimed by it with its status, no other
    /// claim), and that the inventory's per-section counts (what the outbox carries) agree
    /// with the claims. For tests and audits.
    ///
    /// # Errors
    /// A description of the first disagreement, or of a database failure.
    pub async fn audit(&self, event: EventId) -> std::result::Result<(), String> {
        let client = self.pool.get().await.map_err(|e| e.to_string())?;
        let id = to_i64(event.0).map_err(|e| e.to_string())?;
        let now = self.clock.now();
        let bad = client
            .query(
                "WITH live AS (
                     SELECT b.id, unnest(b.seat_ids) AS seat,
                            CASE b.status WHEN 'confirmed' THEN 'sold' ELSE 'held' END AS st
                     FROM bookings b
                     WHERE b.event_id = $1
                       AND (b.status = 'confirmed' OR (b.status = 'held' AND b.expires_at > $2)))
                 SELECT 'seat ' || seat || ' in two live bookings' FROM live
                     GROUP BY seat HAVING count(*) > 1
                 UNION ALL
                 SELECT 'seat ' || l.seat || ' not claimed by booking ' || l.id FROM live l
                     WHERE NOT EXISTS (SELECT 1 FROM seat_claims c WHERE c.event_id = $1
                         AND c.seat_id = l.seat AND c.booking_id = l.id AND c.status = l.st)
                 UNION ALL
                 SELECT 'claim of seat ' || c.seat_id || ' has no live booking'
                     FROM seat_claims c WHERE c.event_id = $1
                       AND (c.status = 'sold' OR c.expires_at > $2)
                       AND NOT EXISTS (SELECT 1 FROM live l
                           WHERE l.seat = c.seat_id AND l.id = c.booking_id)
                 UNION ALL
                 SELECT 'section ' || s.section_id || ' counted ' || i.available[s.section_id + 1]
                        || ' available, claims leave ' || (s.seat_count - n.claimed)
                     FROM event_inventory i JOIN events e ON e.id = i.event_id
                     JOIN venue_sections s ON s.venue_id = e.venue_id,
                     LATERAL (SELECT count(*) AS claimed FROM seat_claims c
                              WHERE c.event_id = $1 AND c.section_id = s.section_id) n
                     WHERE i.event_id = $1
                       AND i.available[s.section_id + 1] IS DISTINCT FROM s.seat_count - n.claimed",
                &[&id, &now],
            )
            .await
            .map_err(|e| e.to_string())?;
        match bad.first() {
            Some(row) => Err(row.try_get::<_, String>(0).unwrap_or_default()),
            None => Ok(()),
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| pool_to_domain(&e))
    }

    /// Runs `op` with the operation deadline: past it, `UNAVAILABLE`.
    async fn bounded<T>(&self, op: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.op_timeout, op)
            .await
            .unwrap_or_else(|_| {
                tracing::warn!(timeout = ?self.op_timeout, "database operation timed out");
                Err(unavailable(
                    "the database did not answer in time; retry".into(),
                ))
            })
    }

    async fn event_row(&self, id: EventId) -> Result<Event> {
        // get_event's one statement, built once: the hot path's text is not re-formatted
        // (and re-allocated) per call before the statement cache looks it up.
        static EVENT_BY_ID: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN venues v ON v.id = e.venue_id \
                 WHERE e.id = $2"
            )
        });
        let client = self.client().await?;
        let Ok(key) = to_i64(id.0) else {
            return Err(Error::not_found("event", id));
        };
        let stmt = client.prepare_cached(&EVENT_BY_ID).await.map_err(db)?;
        let row = client
            .query_opt(&stmt, &[&self.clock.now(), &key])
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found("event", id))?;
        rows::event(&row)
    }

    async fn venue_row(&self, id: VenueId) -> Result<Venue> {
        let client = self.client().await?;
        let Ok(key) = to_i64(id.0) else {
            return Err(Error::not_found("venue", id));
        };
        let venue = client
            .prepare_cached("SELECT id, name, city, country, capacity FROM venues WHERE id = $1");
        let sections = client.prepare_cached(
            "SELECT section_id, name, price_cents, row_labels, row_seats FROM venue_sections \
             WHERE venue_id = $1 ORDER BY section_id",
        );
        let (venue, sections) = futures::try_join!(venue, sections).map_err(db)?;
        let one: [&(dyn ToSql + Sync); 1] = [&key];
        let (venue, sections) = futures::try_join!(
            client.query_opt(&venue, &one),
            client.query(&sections, &one)
        )
        .map_err(db)?;
        let venue = venue.ok_or_else(|| Error::not_found("venue", id))?;
        rows::venue(&venue, &sections)
    }

    /// The event's status, currency, capacity and section prices and first seats.
    async fn hold_facts(&self, client: &deadpool_postgres::Object, id: i64) -> Result<HoldFacts> {
        let stmt = client
            .prepare_cached(
                "SELECT e.status, e.currency, v.capacity, \
                        array_agg(s.price_cents ORDER BY s.section_id) AS prices, \
                        array_agg(s.first_seat ORDER BY s.section_id) AS starts \
                 FROM events e JOIN venues v ON v.id = e.venue_id \
                 JOIN venue_sections s ON s.venue_id = v.id \
                 WHERE e.id = $1 GROUP BY e.id, v.capacity",
            )
            .await
            .map_err(db)?;
        let row = client.query_opt(&stmt, &[&id]).await.map_err(db)?;
        let Some(row) = row else {
            return Err(Error::not_found("event", id));
        };
        let status: String = row.try_get("status").map_err(db)?;
        Ok(HoldFacts {
            status: rows::event_status(&status)?,
            currency: row.try_get("currency").map_err(db)?,
            capacity: rows::count(row.try_get("capacity").map_err(db)?)?,
            prices: row.try_get("prices").map_err(db)?,
            starts: row.try_get("starts").map_err(db)?,
        })
    }

    async fn hold_inner(&self, request: &HoldRequest) -> Result<Booking> {
        let event_id = request.event_id;
        let Ok(key) = to_i64(event_id.0) else {
            return Err(Error::not_found("event", event_id));
        };
        let mut client = self.client().await?;
        let facts = self.hold_facts(&client, key).await.map_err(|e| match e {
            Error::NotFound { .. } => Error::not_found("event", event_id),
            other => other,
        })?;
        if facts.status != EventStatus::OnSale {
            let event = self.event_row(event_id).await?;
            return Err(rules::not_on_sale(&event));
        }
        if let Some(&bad) = request.seat_ids.iter().find(|s| s.0 >= facts.capacity) {
            return Err(rules::unknown_seat(bad, event_id, facts.capacity));
        }
        let mut seats: Vec<SeatId> = request.seat_ids.clone();
        seats.sort_unstable();
        let mut seat_keys = Vec::with_capacity(seats.len());
        let mut sections = Vec::with_capacity(seats.len());
        let mut total_cents = 0i64;
        for seat in &seats {
            let seat = i32::try_from(seat.0).map_err(|_| Error::internal("seat id overflow"))?;
            let section = facts
                .starts
                .partition_point(|&start| start <= seat)
                .saturating_sub(1);
            total_cents += facts.prices.get(section).copied().unwrap_or_default();
            seat_keys.push(seat);
            sections.push(i32::try_from(section).map_err(|_| Error::internal("section overflow"))?);
        }
        let now = self.clock.now();
        let expires_at = now + self.hold_ttl;
        let request_hash = request
            .idempotency_key
            .as_ref()
            .map(|_| Sha256::digest(rules::canonical_hold(request).as_bytes()).to_vec());

        let lock = client
            .prepare_cached(
                "SELECT next_booking, version, available FROM event_inventory \
                 WHERE event_id = $1 FOR UPDATE",
            )
            .await
            .map_err(db)?;
        let find_key = client
            .prepare_cached(
                "SELECT booking_id, request_hash FROM idempotency_keys \
                 WHERE event_id = $1 AND key = $2",
            )
            .await
            .map_err(db)?;
        let claim = client
            .prepare_cached(
                "INSERT INTO seat_claims AS c \
                     (event_id, seat_id, section_id, booking_id, status, expires_at) \
                 SELECT $1, s.seat, s.section, $2, 'held', $3 \
                 FROM unnest($4::int4[], $5::int4[]) AS s(seat, section) ORDER BY s.seat \
                 ON CONFLICT (event_id, seat_id) DO UPDATE \
                     SET section_id = excluded.section_id, booking_id = excluded.booking_id, \
                         status = 'held', expires_at = excluded.expires_at \
                     WHERE c.status = 'held' AND c.expires_at <= $6 \
                 RETURNING seat_id",
            )
            .await
            .map_err(db)?;
        // The event's lapsed holds, expired (oldest first) after the claim took over any of
        // their seats the hold wanted: their remaining claims go, and each is one change.
        let expire = client
            .prepare_cached(
                "WITH expired AS ( \
                     UPDATE bookings SET status = 'expired', version = version + 1 \
                     WHERE event_id = $1 AND status = 'held' AND expires_at <= $2 \
                     RETURNING id, seat_ids, expires_at), \
                 released AS ( \
                     DELETE FROM seat_claims c USING expired x \
                     WHERE c.event_id = $1 AND c.booking_id = x.id) \
                 SELECT seat_ids FROM expired ORDER BY expires_at, id",
            )
            .await
            .map_err(db)?;
        let finish = client
            .prepare_cached(
                "WITH booked AS ( \
                     INSERT INTO bookings (event_id, id, seat_ids, customer_name, customer_email, \
                         status, total_cents, currency, created_at, expires_at, version) \
                     VALUES ($1, $2, $3, $5, $6, 'held', $7, $8, $4, $9, 1)), \
                 keyed AS ( \
                     INSERT INTO idempotency_keys (event_id, key, booking_id, request_hash) \
                     SELECT $1, $10::text, $2, $11::bytea WHERE $10::text IS NOT NULL) \
                 UPDATE event_inventory \
                 SET version = $12, available = $13, next_booking = next_booking + 1 \
                 WHERE event_id = $1",
            )
            .await
            .map_err(db)?;

        let tx = client.transaction().await.map_err(db)?;
        let Some(row) = tx.query_opt(&lock, &[&key]).await.map_err(db)? else {
            return Err(Error::not_found("event", event_id));
        };
        let number: i64 = row.try_get(0).map_err(db)?;
        let mut inventory = Inventory {
            version: row.try_get(1).map_err(db)?,
            available: row.try_get(2).map_err(db)?,
            starts: facts.starts.clone(),
        };
        if let Some(idem) = &request.idempotency_key
            && let Some(found) = tx.query_opt(&find_key, &[&key, idem]).await.map_err(db)?
        {
            let booking: i64 = found.try_get(0).map_err(db)?;
            let hash: Vec<u8> = found.try_get(1).map_err(db)?;
            tx.rollback().await.map_err(db)?;
            drop(client);
            return if Some(hash) == request_hash {
                self.booking_inner(BookingId(rows::id(booking, "booking")?))
                    .await
            } else {
                Err(rules::idempotency_key_reused())
            };
        }
        if !(1..=i64::from(u32::MAX)).contains(&number) {
            return Err(Error::internal("the event has no booking numbers left"));
        }
        // The public id: this event's booking number put through the schema's keyed
        // permutation, so it reveals neither the count nor the next id. Event keys stay
        // below 2^21, so the number fits the permutation's 53 bits.
        let booking_id = to_i64(
            self.booking_ids()
                .await?
                .encode(((key << 32) | number).cast_unsigned())?,
        )?;
        // Pipelined: one round trip. The expiry's effects are discarded with the
        // transaction if the claim came back short.
        let claim_params: [&(dyn ToSql + Sync); 6] =
            [&key, &booking_id, &expires_at, &seat_keys, &sections, &now];
        let expire_params: [&(dyn ToSql + Sync); 2] = [&key, &now];
        let (claimed, expired) = futures::try_join!(
            tx.query(&claim, &claim_params),
            tx.query(&expire, &expire_params)
        )
        .map_err(db)?;
        if claimed.len() != seat_keys.len() {
            let got: Vec<i32> = claimed
                .iter()
                .map(|r| r.try_get::<_, i32>(0))
                .collect::<std::result::Result<_, _>>()
                .map_err(db)?;
            tx.rollback().await.map_err(db)?;
            let taken = seats
                .iter()
                .copied()
                .filter(|s| !got.contains(&s.0.cast_signed()))
                .collect();
            return Err(Error::SeatsUnavailable { seats: taken });
        }
        let mut changes = Vec::with_capacity(expired.len() + 1);
        for row in &expired {
            let seats: Vec<i32> = row.try_get(0).map_err(db)?;
            changes.push(inventory.change(&seats, false, SeatState::Available)?);
        }
        changes.push(inventory.change(&seat_keys, true, SeatState::Held)?);
        let seat_ids = seat_keys.clone();
        let params: [&(dyn ToSql + Sync); 13] = [
            &key,
            &booking_id,
            &seat_ids,
            &now,
            &request.customer.name,
            &request.customer.email,
            &total_cents,
            &facts.currency,
            &expires_at,
            &request.idempotency_key,
            &request_hash,
            &inventory.version,
            &inventory.available,
        ];
        let appended = futures::future::try_join_all(
            changes
                .iter()
                .map(|change| outbox::append(&tx, key, change, now)),
        );
        let (_, _) = futures::try_join!(
            async { tx.execute(&finish, &params).await.map_err(db) },
            appended
        )?;
        tx.commit().await.map_err(db)?;
        Ok(Booking {
            id: BookingId(booking_id.cast_unsigned()),
            event_id,
            seat_ids: seats,
            customer: request.customer.clone(),
            status: BookingStatus::Held,
            total_cents,
            currency: facts.currency,
            created_at: now,
            expires_at,
            version: 1,
        })
    }

    /// The booking-id permutation, its key read from the schema the first time.
    async fn booking_ids(&self) -> Result<&domain::booking_ids::BookingIds> {
        if let Some(ids) = self.booking_ids.get() {
            return Ok(ids);
        }
        let client = self.client().await?;
        let row = client
            .query_one("SELECT key FROM booking_id_key", &[])
            .await
            .map_err(db)?;
        let key: Vec<u8> = row.try_get(0).map_err(db)?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| Error::internal("the booking id key is not 32 bytes"))?;
        Ok(self
            .booking_ids
            .get_or_init(|| domain::booking_ids::BookingIds::with_key(&key)))
    }

    async fn booking_inner(&self, id: BookingId) -> Result<Booking> {
        let (event, key) = booking_key(self.booking_ids().await?, id)?;
        let client = self.client().await?;
        let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE event_id = $1 AND id = $2");
        let stmt = client.prepare_cached(&sql).await.map_err(db)?;
        let row = client
            .query_opt(&stmt, &[&event, &key])
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found("booking", id))?;
        rows::booking(&row, self.clock.now())
    }

    /// Confirm (`to` = confirmed) or cancel (`to` = cancelled): lock the event, read the
    /// booking, check the rule, then compare-and-swap on (version, status).
    async fn transition(
        &self,
        id: BookingId,
        expected: Option<u64>,
        confirm: bool,
    ) -> Result<Booking> {
        let (event, key) = booking_key(self.booking_ids().await?, id)?;
        let mut client = self.client().await?;
        let lock = client
            .prepare_cached(
                "SELECT i.version, i.available, ARRAY( \
                     SELECT s.first_seat FROM events e \
                     JOIN venue_sections s ON s.venue_id = e.venue_id \
                     WHERE e.id = i.event_id ORDER BY s.section_id) \
                 FROM event_inventory i WHERE i.event_id = $1 FOR UPDATE",
            )
            .await
            .map_err(db)?;
        let read = client
            .prepare_cached(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings WHERE event_id = $1 AND id = $2"
            ))
            .await
            .map_err(db)?;
        let swap = client
            .prepare_cached(&format!(
                "WITH b AS ( \
                     UPDATE bookings SET status = $4, version = version + 1 \
                     WHERE event_id = $1 AND id = $2 AND version = $3 AND status = $5 \
                       AND (status = 'confirmed' OR expires_at > $6) \
                     RETURNING {BOOKING_COLUMNS}), \
                 claims AS ( \
                     UPDATE seat_claims SET status = 'sold' \
                     WHERE $4 = 'confirmed' AND event_id = $1 \
                       AND booking_id IN (SELECT id FROM b)), \
                 released AS ( \
                     DELETE FROM seat_claims \
                     WHERE $4 = 'cancelled' AND event_id = $1 \
                       AND booking_id IN (SELECT id FROM b)), \
                 inventory AS ( \
                     UPDATE event_inventory SET version = $7, available = $8 \
                     WHERE event_id = $1 AND EXISTS (SELECT 1 FROM b)) \
                 SELECT * FROM b"
            ))
            .await
            .map_err(db)?;
        let now = self.clock.now();
        let tx = client.transaction().await.map_err(db)?;
        let Some(locked) = tx.query_opt(&lock, &[&event]).await.map_err(db)? else {
            return Err(Error::not_found("booking", id));
        };
        let mut inventory = Inventory {
            version: locked.try_get(0).map_err(db)?,
            available: locked.try_get(1).map_err(db)?,
            starts: locked.try_get(2).map_err(db)?,
        };
        let row = tx
            .query_opt(&read, &[&event, &key])
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found("booking", id))?;
        let current = rows::booking(&row, now)?;
        let to = if confirm {
            rules::check_confirm(&current, expected.unwrap_or(current.version))?;
            BookingStatus::Confirmed
        } else {
            rules::check_cancel(&current)?;
            BookingStatus::Cancelled
        };
        let version = to_i64(current.version)?;
        // The swap cannot miss under the lock, so its change is known before it runs and
        // is appended in the same round trip (rolled back with it if it did miss).
        let seats = current
            .seat_ids
            .iter()
            .map(|s| i32::try_from(s.0).map_err(|_| Error::internal("seat id overflow")))
            .collect::<Result<Vec<i32>>>()?;
        let change = if confirm {
            inventory.change(&seats, false, SeatState::Sold)?
        } else {
            inventory.change(&seats, false, SeatState::Available)?
        };
        let (swapped, ()) = futures::try_join!(
            async {
                tx.query_opt(
                    &swap,
                    &[
                        &event,
                        &key,
                        &version,
                        &to.as_str(),
                        &current.status.as_str(),
                        &now,
                        &inventory.version,
                        &inventory.available,
                    ],
                )
                .await
                .map_err(db)
            },
            outbox::append(&tx, event, &change, now)
        )?;
        let swapped =
            swapped.ok_or_else(|| Error::internal("a locked booking changed under its lock"))?;
        tx.commit().await.map_err(db)?;
        rows::booking(&swapped, now)
    }

    async fn seat_map_inner(&self, id: EventId) -> Result<SeatMap> {
        let Ok(key) = to_i64(id.0) else {
            return Err(Error::not_found("event", id));
        };
        let client = self.client().await?;
        let layout = client.prepare_cached(
            "SELECT s.section_id, s.price_cents, s.row_labels, s.row_seats, s.name \
             FROM venue_sections s \
             WHERE s.venue_id = (SELECT venue_id FROM events WHERE id = $1) \
             ORDER BY s.section_id",
        );
        let state = client.prepare_cached(
            "SELECT i.version + (SELECT count(*) FROM bookings b WHERE b.event_id = $1 \
                     AND b.status = 'held' AND b.expires_at <= $2), \
                    ARRAY(SELECT c.seat_id FROM seat_claims c WHERE c.event_id = $1 \
                     AND c.status = 'held' AND c.expires_at > $2), \
                    ARRAY(SELECT c.seat_id FROM seat_claims c WHERE c.event_id = $1 \
                     AND c.status = 'sold') \
             FROM event_inventory i WHERE i.event_id = $1",
        );
        let (layout, state) = futures::try_join!(layout, state).map_err(db)?;
        let now = self.clock.now();
        let one: [&(dyn ToSql + Sync); 1] = [&key];
        let two: [&(dyn ToSql + Sync); 2] = [&key, &now];
        let (sections, state) =
            futures::try_join!(client.query(&layout, &one), client.query_opt(&state, &two))
                .map_err(db)?;
        let state = state.ok_or_else(|| Error::not_found("event", id))?;
        let version: i64 = state.try_get(0).map_err(db)?;
        let held: Vec<i32> = state.try_get(1).map_err(db)?;
        let sold: Vec<i32> = state.try_get(2).map_err(db)?;
        let mut seats = Vec::new();
        for row in &sections {
            let section = rows::section(row)?;
            for r in &section.rows {
                for number in 1..=r.seats {
                    let seat_id = seats.len() as u32;
                    seats.push(Seat {
                        seat_id: SeatId(seat_id),
                        section_id: section.id,
                        row: r.label.clone(),
                        number,
                        price_cents: section.price_cents,
                        state: SeatState::Available,
                    });
                }
            }
        }
        for (list, to) in [(held, SeatState::Held), (sold, SeatState::Sold)] {
            for seat in list {
                if let Some(s) = usize::try_from(seat).ok().and_then(|i| seats.get_mut(i)) {
                    s.state = to;
                }
            }
        }
        Ok(SeatMap {
            event_id: id,
            version: u64::try_from(version).map_err(|_| Error::internal("negative version"))?,
            seats,
        })
    }

    async fn detail_inner(&self, id: EventId) -> Result<EventDetail> {
        let event = self.event_row(id).await?;
        let Ok(key) = to_i64(id.0) else {
            return Err(Error::not_found("event", id));
        };
        let venue = self.venue_row(event.venue_id);
        let performers = async {
            let client = self.client().await?;
            let stmt = client
                .prepare_cached(
                    "SELECT p.id, p.name, p.genre, p.bio FROM event_performers ep \
                     JOIN performers p ON p.id = ep.performer_id \
                     WHERE ep.event_id = $1 ORDER BY ep.position",
                )
                .await
                .map_err(db)?;
            let found = client.query(&stmt, &[&key]).await.map_err(db)?;
            found
                .iter()
                .map(rows::performer)
                .collect::<Result<Vec<_>>>()
        };
        let taken = async {
            let client = self.client().await?;
            let stmt = client
                .prepare_cached(
                    "SELECT section_id, count(*) FROM seat_claims WHERE event_id = $1 \
                     AND (status = 'sold' OR expires_at > $2) GROUP BY section_id",
                )
                .await
                .map_err(db)?;
            let found = client
                .query(&stmt, &[&key, &self.clock.now()])
                .await
                .map_err(db)?;
            found
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get::<_, i32>(0).map_err(db)?,
                        r.try_get::<_, i64>(1).map_err(db)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()
        };
        let (venue, performers, taken) = futures::try_join!(venue, performers, taken)?;
        let availability = venue
            .sections
            .iter()
            .map(|s| {
                let used = taken
                    .iter()
                    .find(|(section, _)| i64::from(*section) == i64::from(s.id))
                    .map_or(0, |(_, n)| *n);
                SectionAvailability {
                    section_id: s.id,
                    name: s.name.clone(),
                    price_cents: s.price_cents,
                    total: s.seat_count(),
                    available: s
                        .seat_count()
                        .saturating_sub(u32::try_from(used).unwrap_or(u32::MAX)),
                }
            })
            .collect();
        Ok(EventDetail {
            event,
            venue,
            performers,
            availability,
        })
    }

    async fn list_inner(
        &self,
        filter: &EventFilter,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<(Vec<Event>, Option<Cursor>)> {
        let client = self.client().await?;
        let now = self.clock.now();
        let mut query = Query::new(now);
        query.filters(filter);
        let cursor = match after {
            Some(c) => {
                let starts = Timestamp::from_timestamp_micros(c.starts_at_micros)
                    .ok_or_else(rules::cursor_not_issued)?;
                let id = to_i64(c.event_id.0).map_err(|_| rules::cursor_not_issued())?;
                let (a, b) = (query.push(Box::new(starts)), query.push(Box::new(id)));
                query
                    .clauses
                    .push(format!("(e.starts_at, e.id) > ({a}, {b})"));
                Some((starts, id))
            }
            None => None,
        };
        let fetch = limit + 1;
        let n = query.push(Box::new(i64::try_from(fetch).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e JOIN venues v ON v.id = e.venue_id \
             WHERE {} ORDER BY e.starts_at, e.id LIMIT {n}",
            query.clauses.join(" AND ")
        );
        let stmt = client.prepare_cached(&sql).await.map_err(db)?;
        if let Some((starts, id)) = cursor {
            let check = client
                .prepare_cached("SELECT 1 FROM events WHERE id = $1 AND starts_at = $2")
                .await
                .map_err(db)?;
            if client
                .query_opt(&check, &[&id, &starts])
                .await
                .map_err(db)?
                .is_none()
            {
                return Err(rules::cursor_not_issued());
            }
        }
        let found = client.query(&stmt, &query.params()).await.map_err(db)?;
        let mut events = found.iter().map(rows::event).collect::<Result<Vec<_>>>()?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(Cursor::after)
        } else {
            None
        };
        Ok((events, next))
    }

    async fn search_inner(
        &self,
        terms: &[String],
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let client = self.client().await?;
        let mut query = Query::new(self.clock.now());
        let q = query.push(Box::new(terms.join(" ")));
        query.clauses.push("e.search @@ q.q".to_owned());
        query.filters(filter);
        let n = query.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, ts_rank(e.search, q.q) AS score \
             FROM events e JOIN venues v ON v.id = e.venue_id, \
                  plainto_tsquery('simple'::regconfig, {q}) AS q(q) \
             WHERE {} ORDER BY score DESC, e.id LIMIT {n}",
            query.clauses.join(" AND ")
        );
        let stmt = client.prepare_cached(&sql).await.map_err(db)?;
        let found = client.query(&stmt, &query.params()).await.map_err(db)?;
        found
            .iter()
            .map(|row| {
                Ok(SearchHit {
                    event: rows::event(row)?,
                    score: f64::from(row.try_get::<_, f32>("score").map_err(db)?),
                })
            })
            .collect()
    }
}

/// What a hold needs to know about its event before its transaction.
struct HoldFacts {
    status: EventStatus,
    currency: String,
    capacity: u32,
    prices: Vec<i64>,
    starts: Vec<i32>,
}

/// A query's optional filter clauses and their parameters; `$1` is always the time.
struct Query {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Query {
    fn new(now: Timestamp) -> Self {
        Query {
            clauses: vec!["true".to_owned()],
            params: vec![Box::new(now)],
        }
    }

    /// Adds a parameter and returns its placeholder.
    fn push(&mut self, value: Box<dyn ToSql + Sync + Send>) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    fn filters(&mut self, filter: &EventFilter) {
        if let Some(category) = filter.category {
            let p = self.push(Box::new(category.as_str()));
            self.clauses.push(format!("e.category = {p}"));
        }
        if let Some(city) = &filter.city {
            let p = self.push(Box::new(city.trim().to_lowercase()));
            self.clauses.push(format!("v.city_key = {p}"));
        }
        if let Some(from) = filter.from {
            let p = self.push(Box::new(from));
            self.clauses.push(format!("e.starts_at >= {p}"));
        }
        if let Some(to) = filter.to {
            let p = self.push(Box::new(to));
            self.clauses.push(format!("e.starts_at < {p}"));
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// A booking id's event and the id as the database stores it (the public one). The
/// booking number behind the id is `event << 32 | n`; an id that is no id at all is
/// simply not found.
fn booking_key(ids: &domain::booking_ids::BookingIds, id: BookingId) -> Result<(i64, i64)> {
    let number = ids
        .decode(id.0)
        .ok_or_else(|| Error::not_found("booking", id))?;
    let key = to_i64(id.0).map_err(|_| Error::not_found("booking", id))?;
    Ok((to_i64(number >> 32)?, key))
}

fn to_i64(raw: u64) -> Result<i64> {
    i64::try_from(raw).map_err(|_| Error::internal("id out of range"))
}

#[async_trait]
impl Backend for PgStore {
    async fn event(&self, id: EventId) -> Result<Event> {
        self.bounded(self.event_row(id)).await
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<(Vec<Event>, Option<Cursor>)> {
        self.bounded(self.list_inner(filter, after, limit)).await
    }

    async fn search(
        &self,
        terms: &[String],
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        if let Some(index) = &self.index {
            return index.search(terms, filter, limit);
        }
        self.bounded(self.search_inner(terms, filter, limit)).await
    }

    async fn event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.bounded(self.detail_inner(id)).await
    }

    async fn venue(&self, id: VenueId) -> Result<Venue> {
        self.bounded(self.venue_row(id)).await
    }

    async fn performer(&self, id: PerformerId) -> Result<Performer> {
        self.bounded(async {
            let Ok(key) = to_i64(id.0) else {
                return Err(Error::not_found("performer", id));
            };
            let client = self.client().await?;
            let stmt = client
                .prepare_cached("SELECT id, name, genre, bio FROM performers WHERE id = $1")
                .await
                .map_err(db)?;
            let row = client
                .query_opt(&stmt, &[&key])
                .await
                .map_err(db)?
                .ok_or_else(|| Error::not_found("performer", id))?;
            rows::performer(&row)
        })
        .await
    }

    async fn seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.bounded(self.seat_map_inner(id)).await
    }

    async fn hold(&self, request: &HoldRequest) -> Result<Booking> {
        self.bounded(self.hold_inner(request)).await
    }

    async fn booking(&self, id: BookingId) -> Result<Booking> {
        self.bounded(self.booking_inner(id)).await
    }

    async fn confirm(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.bounded(self.transition(id, Some(expected_version), true))
            .await
    }

    async fn cancel(&self, id: BookingId) -> Result<Booking> {
        self.bounded(self.transition(id, None, false)).await
    }

    async fn watch_availability(
        &self,
        id: EventId,
        from: Option<u64>,
    ) -> Result<AvailabilityStream> {
        let Ok(key) = to_i64(id.0) else {
            return Err(Error::not_found("event", id));
        };
        let hub = &self.watch.hub;
        self.watch
            .listener
            .get_or_init(|| spawn_listener(Arc::clone(hub), self.watch.connect.clone()));
        self.bounded(async {
            let client = self.client().await?;
            crate::listener::subscribe(
                hub,
                &client,
                (id, key),
                from,
                self.limits.watch_retained,
                Arc::clone(&self.clock),
            )
            .await
        })
        .await
    }
}
