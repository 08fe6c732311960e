//! The schema's migrations, embedded in the binary and applied by refinery, which records
//! each applied version (name and checksum) in its table `refinery_schema_history` in the
//! schema and refuses a database whose history diverges from the code.
//!
//! V1 (the catalogue) is a plain SQL file. V2 (the inventory) is generated here because
//! its hash partition count is chosen when the schema is first migrated
//! ([`PgConfig::partitions`](crate::PgConfig)); the count is part of V2's text, so the
//! schema history records it and a later run with another count is refused as divergent
//! instead of silently ignored.
//!
//! V3 (the availability outbox and the per-section counts it carries) is a plain SQL file
//! again; see [`crate::outbox`].
//!
//! Several replicas starting at once serialise on an advisory lock keyed by the schema.

use std::fmt::Write as _;

use refinery::{Migration, Runner};

use crate::error::SetupError;

const V1_CATALOGUE: &str = include_str!("../migrations/V1__catalogue.sql");
const V3_OUTBOX: &str = include_str!("../migrations/V3__availability_outbox.sql");
const V4_BOOKING_ID_KEY: &str = include_str!("../migrations/V4__booking_id_key.sql");

/// The inventory tables, each hash-partitioned by event id into `partitions` tables.
pub fn inventory_sql(partitions: u32) -> String {
    let mut sql = String::from(
        "-- The inventory: everything a hold, confirm or cancel writes, hash-partitioned by
-- event id, so one event's writes stay in one partition of each table.
CREATE TABLE event_inventory (
    event_id     bigint NOT NULL,
    version      bigint NOT NULL DEFAULT 0,  -- the seat map's version
    next_booking bigint NOT NULL DEFAULT 1,  -- low 32 bits of the event's next booking id
    PRIMARY KEY (event_id)
) PARTITION BY HASH (event_id);

CREATE TABLE bookings (
    event_id       bigint      NOT NULL,
    id             bigint      NOT NULL, -- event_id << 32 | the event's booking number
    seat_ids       integer[]   NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    status         text        NOT NULL
        CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
    total_cents    bigint      NOT NULL,
    currency       text        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    version        bigint      NOT NULL,
    PRIMARY KEY (event_id, id)
) PARTITION BY HASH (event_id);
CREATE INDEX bookings_held ON bookings (event_id, expires_at) WHERE status = 'held';

-- One row per seat held or sold: the unique (event, seat) key is what makes a double
-- claim impossible. A released seat has no row.
CREATE TABLE seat_claims (
    event_id   bigint      NOT NULL,
    seat_id    integer     NOT NULL,
    section_id integer     NOT NULL,
    booking_id bigint      NOT NULL,
    status     text        NOT NULL CHECK (status IN ('held', 'sold')),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (event_id, seat_id)
) PARTITION BY HASH (event_id);
CREATE INDEX seat_claims_booking ON seat_claims (event_id, booking_id);

CREATE TABLE idempotency_keys (
    event_id     bigint NOT NULL,
    key          text   NOT NULL,
    booking_id   bigint NOT NULL,
    request_hash bytea  NOT NULL, -- SHA-256 of domain::rules::canonical_hold
    PRIMARY KEY (event_id, key)
) PARTITION BY HASH (event_id);
",
    );
    for table in [
        "event_inventory",
        "bookings",
        "seat_claims",
        "idempotency_keys",
    ] {
        for remainder in 0..partitions {
            let _ = writeln!(
                sql,
                "CREATE TABLE {table}_p{remainder} PARTITION OF {table} \
                 FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder});"
            );
        }
    }
    sql
}

/// Every migration, in order, for a schema with `partitions` inventory partitions.
///
/// # Errors
/// [`SetupError::Migrate`] if a migration's name does not parse (a bug).
pub fn migrations(partitions: u32) -> Result<Vec<Migration>, SetupError> {
    Ok(vec![
        Migration::unapplied("V1__catalogue", V1_CATALOGUE)?,
        Migration::unapplied("V2__inventory", &inventory_sql(partitions))?,
        Migration::unapplied("V3__availability_outbox", V3_OUTBOX)?,
        Migration::unapplied("V4__booking_id_key", V4_BOOKING_ID_KEY)?,
    ])
}

/// Creates `schema` if needed and applies the migrations not yet applied to it, on a
/// connection whose `search_path` is `schema`.
///
/// # Errors
/// [`SetupError`] if a statement or a migration fails, or the schema's history diverges.
pub async fn run(
    client: &mut tokio_postgres::Client,
    schema: &str,
    partitions: u32,
) -> Result<(), SetupError> {
    crate::config::check_schema_name(schema)?;
    let lock_key = format!("quartet-migrate-{schema}");
    client
        .execute("SELECT pg_advisory_lock(hashtext($1))", &[&lock_key])
        .await?;
    let result = async {
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
        Runner::new(&migrations(partitions)?)
            .set_abort_divergent(true)
            .run_async(client)
            .await?;
        Ok::<(), SetupError>(())
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&lock_key])
        .await?;
    result
}
