//! Diagnostic: where get_event's microseconds go between the database and the store,
//! in process, one call at a time (issue 14's "wire get_event within 1.3x of pgbench").
//!
//! Loads (once) a schema with the default dataset, then times sequential get_event calls
//! layer by layer, each on a current-thread and a two-worker multi-thread runtime:
//! `raw` is one tokio-postgres connection and a statement prepared once (what pgbench
//! `-M prepared` does); `pool` adds a deadpool checkout and `prepare_cached`; `fifo2`,
//! `lifo2`, `fifo16` and `lifo16` are `pool` on a pool whose 2 or 16 connections are all
//! open, dequeued first in first out (deadpool's default: one client's calls rotate
//! through every backend) or last in first out (the store's: one hot backend); `store`
//! is the whole `Ticketing::get_event` (service, deadline, row decoding). Compare with
//! pgbench running `bench/pgbench/get_event.sql` on the same schema (the command is
//! printed). Figures are diagnostic: run it on a quiet machine.
//!
//! `cargo run --release -p pgstore --example get_event_latency [SCHEMA] [CALLS] [MODES]
//! [RUNTIMES]` (modes `raw,inline,pool,fifo2,lifo2,fifo16,lifo16,store`, runtimes
//! `current,multi1,multi2`, or `all`);
//! `DROP SCHEMA quartet_diag_get_event CASCADE` when done.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, QueueMode, RecyclingMethod, Runtime};
use domain::{Dataset, DatasetSpec, EventId, Ticketing};
use pgstore::{PgConfig, PgStore};

const SQL: &str = "SELECT e.id, e.name, e.description, e.category, e.venue_id, \
     e.starts_at, e.status, e.tags, e.min_price_cents, e.max_price_cents, e.currency, \
     ARRAY(SELECT p.performer_id FROM event_performers p WHERE p.event_id = e.id \
           ORDER BY p.position) AS performer_ids, \
     (e.status = 'on_sale' AND (SELECT count(*) FROM seat_claims c WHERE c.event_id = e.id \
           AND (c.status = 'sold' OR c.expires_at > $1)) >= v.capacity) AS sold_out \
     FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.id = $2";

/// A small deterministic id stream, as the harness draws ids uniformly.
struct Ids(u64, u64);

impl Ids {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % self.1 + 1
    }
}

fn summary(name: &str, mut us: Vec<u64>) {
    us.sort_unstable();
    let at = |q: f64| us[((us.len() as f64 - 1.0) * q) as usize];
    let mean = us.iter().sum::<u64>() as f64 / us.len() as f64;
    println!(
        "{name:<24} n={:<6} p50={:>4} µs  p90={:>4} µs  p99={:>5} µs  mean={mean:>6.1} µs",
        us.len(),
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

async fn raw(config: &PgConfig, calls: usize, events: u64) -> Vec<u64> {
    let mut pg: tokio_postgres::Config = config.url.parse().unwrap();
    pg.options(format!(
        "-c search_path={} -c statement_timeout={}",
        config.schema,
        config.statement_timeout.as_millis()
    ));
    let (client, connection) = pg.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let stmt = client.prepare(SQL).await.unwrap();
    let mut ids = Ids(0x9E37_79B9_7F4A_7C15, events);
    let mut out = Vec::with_capacity(calls);
    for _ in 0..calls {
        let key = i64::try_from(ids.next()).unwrap();
        let started = Instant::now();
        let row = client
            .query_opt(&stmt, &[&chrono::Utc::now(), &key])
            .await
            .unwrap();
        assert!(row.is_some());
        out.push(started.elapsed().as_micros() as u64);
    }
    out
}

/// As [`raw`], but the query's own task drives the connection (no hop to a spawned
/// connection task and back): what the task hop costs.
async fn inline(config: &PgConfig, calls: usize, events: u64) -> Vec<u64> {
    let mut pg: tokio_postgres::Config = config.url.parse().unwrap();
    pg.options(format!(
        "-c search_path={} -c statement_timeout={}",
        config.schema,
        config.statement_timeout.as_millis()
    ));
    let (client, mut connection) = pg.connect(tokio_postgres::NoTls).await.unwrap();
    let stmt = {
        let prepare = std::pin::pin!(client.prepare(SQL));
        match futures::future::select(prepare, &mut connection).await {
            futures::future::Either::Left((stmt, _)) => stmt.unwrap(),
            futures::future::Either::Right(_) => panic!("connection ended"),
        }
    };
    let mut ids = Ids(0x9E37_79B9_7F4A_7C15, events);
    let mut out = Vec::with_capacity(calls);
    for _ in 0..calls {
        let key = i64::try_from(ids.next()).unwrap();
        let now = chrono::Utc::now();
        let started = Instant::now();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&now, &key];
        let query = std::pin::pin!(client.query_opt(&stmt, &params));
        let row = match futures::future::select(query, &mut connection).await {
            futures::future::Either::Left((row, _)) => row.unwrap(),
            futures::future::Either::Right(_) => panic!("connection ended"),
        };
        assert!(row.is_some());
        out.push(started.elapsed().as_micros() as u64);
    }
    out
}

async fn pooled(store: &PgStore, calls: usize, events: u64) -> Vec<u64> {
    let mut ids = Ids(0x9E37_79B9_7F4A_7C15, events);
    let mut out = Vec::with_capacity(calls);
    for _ in 0..calls {
        let key = i64::try_from(ids.next()).unwrap();
        let started = Instant::now();
        let client = store.pool().get().await.unwrap();
        let stmt = client.prepare_cached(SQL).await.unwrap();
        let row = client
            .query_opt(&stmt, &[&chrono::Utc::now(), &key])
            .await
            .unwrap();
        assert!(row.is_some());
        out.push(started.elapsed().as_micros() as u64);
    }
    out
}

/// As [`pooled`], on a pool of its own dequeuing in `mode` whose `open` connections
/// were all opened first (as a burst of load, or the sweeper or pruner checking out
/// while a call runs, leaves them): first in first out then rotates one client's calls
/// through `open` PostgreSQL backends, last in first out keeps reusing one.
async fn queued(
    config: &PgConfig,
    (mode, open): (QueueMode, usize),
    calls: usize,
    events: u64,
) -> Vec<u64> {
    let mut pg: tokio_postgres::Config = config.url.parse().unwrap();
    pg.options(format!(
        "-c search_path={} -c statement_timeout={}",
        config.schema,
        config.statement_timeout.as_millis()
    ));
    let manager = Manager::from_config(
        pg,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(16)
        .queue_mode(mode)
        .runtime(Runtime::Tokio1)
        .build()
        .unwrap();
    let all: Vec<_> = futures::future::join_all((0..open).map(|_| pool.get()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for client in &all {
        client.prepare_cached(SQL).await.unwrap();
    }
    drop(all);
    let mut ids = Ids(0x9E37_79B9_7F4A_7C15, events);
    let mut out = Vec::with_capacity(calls);
    for _ in 0..calls {
        let key = i64::try_from(ids.next()).unwrap();
        let started = Instant::now();
        let client = pool.get().await.unwrap();
        let stmt = client.prepare_cached(SQL).await.unwrap();
        let row = client
            .query_opt(&stmt, &[&chrono::Utc::now(), &key])
            .await
            .unwrap();
        assert!(row.is_some());
        out.push(started.elapsed().as_micros() as u64);
    }
    out
}

async fn whole(store: &PgStore, calls: usize, events: u64) -> Vec<u64> {
    let api = pgstore::ticketing(store.clone());
    let mut ids = Ids(0x9E37_79B9_7F4A_7C15, events);
    let mut out = Vec::with_capacity(calls);
    for _ in 0..calls {
        let id = EventId(ids.next());
        let started = Instant::now();
        api.get_event(id).await.unwrap();
        out.push(started.elapsed().as_micros() as u64);
    }
    out
}

async fn all(config: PgConfig, calls: usize, label: &str, modes: &str) {
    let on = |mode: &str| modes == "all" || modes.split(',').any(|m| m == mode);
    let events = u64::from(DatasetSpec::default().events);
    let mut quiet = config.clone();
    quiet.sweep_interval = None;
    let store = PgStore::connect(&quiet).await.unwrap();
    // Warm every path (connections, prepared statements, generic plans) first.
    if on("raw") {
        let _ = raw(&config, 200, events).await;
        summary(&format!("raw/{label}"), raw(&config, calls, events).await);
    }
    if on("inline") {
        let _ = inline(&config, 200, events).await;
        summary(
            &format!("inline/{label}"),
            inline(&config, calls, events).await,
        );
    }
    if on("pool") {
        let _ = pooled(&store, 200, events).await;
        summary(
            &format!("pool/{label}"),
            pooled(&store, calls, events).await,
        );
    }
    for (name, mode) in [
        ("fifo2", (QueueMode::Fifo, 2)),
        ("lifo2", (QueueMode::Lifo, 2)),
        ("fifo16", (QueueMode::Fifo, 16)),
        ("lifo16", (QueueMode::Lifo, 16)),
    ] {
        if on(name) {
            summary(
                &format!("{name}/{label}"),
                queued(&config, mode, calls, events).await,
            );
        }
    }
    if on("store") {
        let _ = whole(&store, 200, events).await;
        summary(
            &format!("store/{label}"),
            whole(&store, calls, events).await,
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let schema = args
        .next()
        .unwrap_or_else(|| "quartet_diag_get_event".to_owned());
    let calls: usize = args.next().map_or(20_000, |n| n.parse().unwrap());
    // `raw,inline,pool,fifo2,lifo2,fifo16,lifo16,store` or `all`; runtimes `current,multi2` or `all`.
    let modes = args.next().unwrap_or_else(|| "all".to_owned());
    let runtimes = args.next().unwrap_or_else(|| "all".to_owned());
    let config = PgConfig::new(PgConfig::url_from_env(), schema.clone());
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    setup.block_on(async {
        let mut quiet = config.clone();
        quiet.sweep_interval = None;
        let store = PgStore::connect(&quiet).await.unwrap();
        let dataset = Dataset::from_spec(DatasetSpec::default());
        match pgstore::load(&store, &dataset, false).await {
            Ok(n) => println!("loaded {n} events into {schema}"),
            Err(pgstore::SetupError::NotEmpty { .. }) => println!("{schema} already loaded"),
            Err(e) => panic!("{e}"),
        }
        // Let the listener-free store settle (nothing runs in the background).
        tokio::time::sleep(Duration::from_millis(100)).await;
    });
    drop(setup);
    if runtimes == "all" || runtimes.contains("current") {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(all(config.clone(), calls, "current", &modes));
    }
    // The harness's pinned server: a multi-thread runtime with one worker.
    if runtimes == "all" || runtimes.contains("multi1") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(all(config.clone(), calls, "multi1", &modes));
    }
    if runtimes == "all" || runtimes.contains("multi2") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(all(config.clone(), calls, "multi2", &modes));
    }
    println!(
        "floor: PGOPTIONS='-c search_path={schema}' pgbench -n -M prepared -c 1 -j 1 -T 5 \
         -D events={} -f bench/pgbench/get_event.sql {}",
        DatasetSpec::default().events,
        config.url
    );
}
