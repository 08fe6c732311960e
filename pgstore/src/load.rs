//! Loading the generated dataset with binary `COPY`, in one transaction: venues, their
//! sections, performers, events (with the search words the domain tokeniser produces),
//! event performers, then one inventory row per event.
//!
//! A schema that already holds events is refused unless `replace` is set, in which case
//! every table (bookings included) is emptied first.
//!
//! How a large load stays fast (`quartet dataset --events 1000000`), all inside the one
//! transaction, so a failure leaves the schema as it was and no reader ever sees a table
//! without its indexes:
//! - **Indexes and constraints after the rows.** The migrations create every index and
//!   constraint, so a schema written only through the API is complete. The loader reads
//!   the loaded tables' indexes, primary keys and foreign keys from the catalogue
//!   (`pg_get_indexdef`, `pg_get_constraintdef`), drops them, copies the rows and then
//!   recreates exactly what it read: one sorted build per index instead of a million
//!   insertions into each, and one join per foreign key instead of one lookup per row
//!   (a foreign key checks each copied row with a trigger). Nothing restates the schema's
//!   DDL here, so a new migration's index is moved around the load without a change
//!   here, and `tests/load.rs` checks that a loaded schema has every index and
//!   constraint a migrated one has.
//! - **Index builds get memory**: `maintenance_work_mem` is raised for this transaction
//!   only (`SET LOCAL`); the GIN index over the search `tsvector` is the big one.
//! - **`COPY ... FREEZE`** for the catalogue tables: they are emptied in this
//!   transaction first (`TRUNCATE`, also when they were empty), so their rows can be
//!   written frozen and marked all-visible, sparing the first readers (the index builds
//!   and `ANALYZE` here, then every replica) from rewriting each page to set hint bits.
//!   The partitioned inventory table cannot take `FREEZE`.
//! - **The inventory rows are computed here** (each event's venue's section sizes) and
//!   copied, instead of an `INSERT ... SELECT` with a subquery per event.
//!
//! No trigger fires for a load: the only trigger, the outbox's NOTIFY (V3), is on
//! `availability_outbox`, which a load only empties.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use domain::catalog::tokens;
use domain::{Dataset, Event, Venue};
use futures::pin_mut;
use tokio_postgres::Transaction as Client;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::PgStore;
use crate::error::SetupError;

/// The tables a load fills, whose indexes and constraints it moves after the rows.
const LOADED_TABLES: [&str; 6] = [
    "venues",
    "venue_sections",
    "performers",
    "events",
    "event_performers",
    "event_inventory",
];

/// Every table of the schema's data, in the order a load locks and empties them.
const ALL_TABLES: &str = "idempotency_keys, seat_claims, bookings, event_inventory, \
                          availability_outbox, event_performers, events, performers, \
                          venue_sections, venues";

/// `maintenance_work_mem` for the load's index builds. The GIN build over a million
/// events' search vectors collects its entries in this much memory before writing them
/// out; with the server's default (64 MB) it writes them in many more, smaller runs.
const INDEX_BUILD_MEMORY: &str = "512MB";

/// What a load wrote and how long each of its steps took.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Events written.
    pub events: u64,
    /// Each step in order: what it was and how long it took.
    pub phases: Vec<(String, Duration)>,
}

impl LoadReport {
    fn phase(&mut self, name: impl Into<String>, since: &mut Instant) {
        let now = Instant::now();
        self.phases.push((name.into(), now.duration_since(*since)));
        *since = now;
    }
}

/// Writes `dataset` into the store's schema (migrated by [`PgStore::connect`]). Returns
/// the number of events written.
///
/// # Errors
/// [`SetupError::NotEmpty`] if the schema holds events and `replace` is false; any
/// database failure (nothing is written then).
pub async fn load(store: &PgStore, dataset: &Dataset, replace: bool) -> Result<u64, SetupError> {
    Ok(load_timed(store, dataset, replace).await?.events)
}

/// [`load`], also saying how long each step took (`quartet dataset` prints them).
///
/// # Errors
/// As [`load`].
pub async fn load_timed(
    store: &PgStore,
    dataset: &Dataset,
    replace: bool,
) -> Result<LoadReport, SetupError> {
    let mut report = LoadReport::default();
    let mut since = Instant::now();
    let mut client = store.pool().get().await?;
    let tx = client.transaction().await?;
    // A bulk load is not a request: the pool's per-statement timeout (meant for serving)
    // would cut a large COPY short, so this transaction alone has none.
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = 0; \
         SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"
    ))
    .await?;
    // Every lock the load needs, taken at once and first (the TRUNCATE below needs them
    // all): a load drops indexes, so readers wait for its commit rather than see a table
    // without them, and two loads into one schema queue here (the second then finds the
    // first one's events).
    tx.batch_execute(&format!("LOCK TABLE {ALL_TABLES} IN ACCESS EXCLUSIVE MODE"))
        .await?;
    let events: i64 = tx
        .query_one("SELECT count(*) FROM events", &[])
        .await?
        .try_get(0)?;
    if (events > 0 || has_bookings(&tx).await?) && !replace {
        return Err(SetupError::NotEmpty {
            schema: store.schema().to_owned(),
            events,
        });
    }
    // Also when every table is empty: a table emptied in this transaction takes
    // COPY FREEZE.
    tx.batch_execute(&format!("TRUNCATE {ALL_TABLES}")).await?;
    let deferred = Deferred::read(&tx).await?;
    deferred.drop_all(&tx).await?;
    report.phase("check, empty, drop indexes", &mut since);

    copy_venues(&tx, &dataset.venues).await?;
    report.phase("COPY venues, venue_sections", &mut since);
    copy_performers(&tx, dataset).await?;
    report.phase("COPY performers", &mut since);
    copy_events(&tx, dataset).await?;
    report.phase("COPY events (search tsvector)", &mut since);
    copy_event_performers(&tx, dataset).await?;
    report.phase("COPY event_performers", &mut since);
    copy_inventory(&tx, dataset).await?;
    report.phase("COPY event_inventory", &mut since);

    for (name, sql) in &deferred.builds {
        tx.batch_execute(sql).await?;
        report.phase(format!("build {name}"), &mut since);
    }
    for (name, sql) in &deferred.foreign_keys {
        tx.batch_execute(sql).await?;
        report.phase(format!("check {name}"), &mut since);
    }
    // ANALYZE names its tables: a bare ANALYZE would also take the system catalogues,
    // and two loads into two schemas at once could deadlock on them.
    tx.batch_execute(&format!("ANALYZE {}", LOADED_TABLES.join(", ")))
        .await?;
    report.phase("ANALYZE", &mut since);
    tx.commit().await?;
    report.phase("commit", &mut since);
    report.events = dataset.events.len() as u64;
    Ok(report)
}

/// The loaded tables' indexes and constraints as the catalogue defines them, to drop
/// before the rows and recreate after.
struct Deferred {
    /// `DROP` statements: foreign keys first (they depend on the keys they reference).
    drops: Vec<String>,
    /// Index and key builds (name, statement).
    builds: Vec<(String, String)>,
    /// Foreign keys (name, statement), added after the keys they reference.
    foreign_keys: Vec<(String, String)>,
}

impl Deferred {
    async fn read(client: &Client<'_>) -> Result<Self, SetupError> {
        let tables: Vec<&str> = LOADED_TABLES.to_vec();
        // Constraints of the loaded tables backed by an index (primary keys, unique
        // and exclusion constraints), and every foreign key from or to one of them.
        // Only top-level tables: a partition's key goes and comes with its parent's.
        let constraints = client
            .query(
                "SELECT c.conname, c.contype::text, c.conrelid::regclass::text, \
                        pg_get_constraintdef(c.oid) \
                 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                 WHERE t.relnamespace = current_schema()::regnamespace \
                   AND c.conparentid = 0 \
                   AND ((t.relname = ANY($1) AND c.contype IN ('p', 'u', 'x', 'f')) \
                        OR (c.contype = 'f' AND c.confrelid IN \
                            (SELECT oid FROM pg_class WHERE relname = ANY($1) \
                             AND relnamespace = current_schema()::regnamespace))) \
                 ORDER BY c.contype = 'f' DESC, c.conname",
                &[&tables],
            )
            .await?;
        // Indexes of the loaded tables that back no constraint.
        let indexes = client
            .query(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) \
                 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
                 JOIN pg_class ic ON ic.oid = i.indexrelid \
                 WHERE t.relnamespace = current_schema()::regnamespace \
                   AND t.relname = ANY($1) \
                   AND NOT ic.relispartition \
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                                   WHERE c.conindid = i.indexrelid AND c.conrelid = t.oid \
                                   AND c.contype IN ('p', 'u', 'x')) \
                 ORDER BY 1",
                &[&tables],
            )
            .await?;
        let mut deferred = Deferred {
            drops: Vec::new(),
            builds: Vec::new(),
            foreign_keys: Vec::new(),
        };
        for row in &constraints {
            let (name, kind, table, definition): (String, String, String, String) = (
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            );
            deferred.drops.push(format!(
                "ALTER TABLE {table} DROP CONSTRAINT {}",
                quoted(&name)
            ));
            let add = format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} {definition}",
                quoted(&name)
            );
            if kind == "f" {
                deferred.foreign_keys.push((name, add));
            } else {
                deferred.builds.push((name, add));
            }
        }
        for row in &indexes {
            let (name, definition): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            deferred.drops.push(format!("DROP INDEX {name}"));
            deferred.builds.push((name, definition));
        }
        Ok(deferred)
    }

    async fn drop_all(&self, client: &Client<'_>) -> Result<(), SetupError> {
        if !self.drops.is_empty() {
            client.batch_execute(&self.drops.join("; ")).await?;
        }
        Ok(())
    }
}

/// `name` as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn has_bookings(client: &Client<'_>) -> Result<bool, SetupError> {
    Ok(client
        .query_one("SELECT EXISTS (SELECT 1 FROM bookings)", &[])
        .await?
        .try_get(0)?)
}

async fn copy_venues(client: &Client<'_>, venues: &[Venue]) -> Result<(), SetupError> {
    let sink = client
        .copy_in(
            "COPY venues (id, name, city, city_key, country, capacity) FROM STDIN \
             (FORMAT binary, FREEZE)",
        )
        .await?;
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT4,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for v in venues {
        let id = int8(v.id.0)?;
        let capacity = int4(v.capacity)?;
        let city_key = v.city.to_lowercase();
        let row: [&(dyn ToSql + Sync); 6] =
            [&id, &v.name, &v.city, &city_key, &v.country, &capacity];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;

    let sink = client
        .copy_in(
            "COPY venue_sections (venue_id, section_id, name, price_cents, first_seat, \
             seat_count, row_labels, row_seats) FROM STDIN (FORMAT binary, FREEZE)",
        )
        .await?;
    let types = [
        Type::INT8,
        Type::INT4,
        Type::TEXT,
        Type::INT8,
        Type::INT4,
        Type::INT4,
        Type::TEXT_ARRAY,
        Type::INT4_ARRAY,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for v in venues {
        let id = int8(v.id.0)?;
        let mut first = 0u32;
        for s in &v.sections {
            let section = int4(s.id)?;
            let count = s.seat_count();
            let (first_seat, seat_count) = (int4(first)?, int4(count)?);
            let labels: Vec<&str> = s.rows.iter().map(|r| r.label.as_str()).collect();
            let seats = s
                .rows
                .iter()
                .map(|r| int4(r.seats))
                .collect::<Result<Vec<_>, _>>()?;
            let row: [&(dyn ToSql + Sync); 8] = [
                &id,
                &section,
                &s.name,
                &s.price_cents,
                &first_seat,
                &seat_count,
                &labels,
                &seats,
            ];
            writer.as_mut().write(&row).await?;
            first += count;
        }
    }
    writer.finish().await?;
    Ok(())
}

async fn copy_performers(client: &Client<'_>, dataset: &Dataset) -> Result<(), SetupError> {
    let sink = client
        .copy_in("COPY performers (id, name, genre, bio) FROM STDIN (FORMAT binary, FREEZE)")
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT]);
    pin_mut!(writer);
    for p in &dataset.performers {
        let id = int8(p.id.0)?;
        let row: [&(dyn ToSql + Sync); 4] = [&id, &p.name, &p.genre, &p.bio];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// The search words of an event by weight class: name (A), performers and tags (B),
/// description and city (D). The same fields and tokeniser as the in-memory index.
pub fn search_words(dataset: &Dataset, event: &Event) -> [String; 3] {
    let join = |texts: &[&str]| -> String {
        texts
            .iter()
            .flat_map(|t| tokens(t))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut b: Vec<&str> = event
        .performer_ids
        .iter()
        .filter_map(|p| dataset.performers.get((p.0 as usize).wrapping_sub(1)))
        .map(|p| p.name.as_str())
        .collect();
    b.extend(event.tags.iter().map(String::as_str));
    let city = dataset
        .venues
        .get((event.venue_id.0 as usize).wrapping_sub(1))
        .map_or("", |v| v.city.as_str());
    [
        join(&[&event.name]),
        join(&b),
        join(&[&event.description, city]),
    ]
}

async fn copy_events(client: &Client<'_>, dataset: &Dataset) -> Result<(), SetupError> {
    let sink = client
        .copy_in(
            "COPY events (id, name, description, category, venue_id, starts_at, status, tags, \
             min_price_cents, max_price_cents, currency, search_a, search_b, search_d) \
             FROM STDIN (FORMAT binary, FREEZE)",
        )
        .await?;
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::TEXT_ARRAY,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for e in &dataset.events {
        let (id, venue) = (int8(e.id.0)?, int8(e.venue_id.0)?);
        let [a, b, d] = search_words(dataset, e);
        let row: [&(dyn ToSql + Sync); 14] = [
            &id,
            &e.name,
            &e.description,
            &e.category.as_str(),
            &venue,
            &e.starts_at,
            &e.status.as_str(),
            &e.tags,
            &e.min_price_cents,
            &e.max_price_cents,
            &e.currency,
            &a,
            &b,
            &d,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn copy_event_performers(client: &Client<'_>, dataset: &Dataset) -> Result<(), SetupError> {
    let sink = client
        .copy_in(
            "COPY event_performers (event_id, position, performer_id) \
             FROM STDIN (FORMAT binary, FREEZE)",
        )
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::INT4, Type::INT8]);
    pin_mut!(writer);
    for e in &dataset.events {
        let id = int8(e.id.0)?;
        for (position, p) in e.performer_ids.iter().enumerate() {
            let position = int4(position as u32)?;
            let performer = int8(p.0)?;
            let row: [&(dyn ToSql + Sync); 3] = [&id, &position, &performer];
            writer.as_mut().write(&row).await?;
        }
    }
    writer.finish().await?;
    Ok(())
}

/// One inventory row per event, every seat available: each section's size in section
/// order (what V3's backfill computes from the claims, with none).
async fn copy_inventory(client: &Client<'_>, dataset: &Dataset) -> Result<(), SetupError> {
    let mut sizes: HashMap<u64, Vec<i32>> = HashMap::with_capacity(dataset.venues.len());
    for v in &dataset.venues {
        let mut sections: Vec<_> = v.sections.iter().map(|s| (s.id, s.seat_count())).collect();
        sections.sort_unstable_by_key(|&(id, _)| id);
        let counts = sections
            .into_iter()
            .map(|(_, count)| int4(count))
            .collect::<Result<Vec<_>, _>>()?;
        sizes.insert(v.id.0, counts);
    }
    let sink = client
        .copy_in("COPY event_inventory (event_id, available) FROM STDIN BINARY")
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::INT4_ARRAY]);
    pin_mut!(writer);
    for e in &dataset.events {
        let id = int8(e.id.0)?;
        let available = sizes.get(&e.venue_id.0).ok_or_else(|| {
            SetupError::Config(format!("event {} names no venue of the dataset", e.id.0))
        })?;
        let row: [&(dyn ToSql + Sync); 2] = [&id, available];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

fn int8(raw: u64) -> Result<i64, SetupError> {
    i64::try_from(raw).map_err(|_| SetupError::Config(format!("id {raw} does not fit a bigint")))
}

fn int4(raw: u32) -> Result<i32, SetupError> {
    i32::try_from(raw)
        .map_err(|_| SetupError::Config(format!("count {raw} does not fit an integer")))
}
