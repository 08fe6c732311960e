//! The availability outbox (migration V3): what a write of one event appends in its own
//! transaction, and how the rows are read back and pruned.
//!
//! - [`Inventory`]: an event's inventory row as read under its lock (version and
//!   per-section available counts) plus its section layout; [`Inventory::change`] turns one
//!   hold, confirm, cancel or expiry into the next version's [`Change`].
//! - [`append`]: inserts one [`Change`] (the table's trigger sends the `NOTIFY`).
//! - [`read_after`], [`read_range`]: rows back as [`AvailabilityUpdate`]s.
//! - [`prune`]: the bounded, replica-safe deletion of old rows.
//!
//! **Reading position.** Readers never read "after global sequence S": a sequence (or
//! `bigserial`) value is taken when a row is inserted, not when it commits, so across
//! events a later value can commit first and a reader that moved its position past it
//! would skip the earlier one forever. Instead the position is per event: every write of
//! an event locks that event's `event_inventory` row before it bumps the version and holds
//! the lock until it commits, so version `v + 1` cannot even be written before `v` is
//! committed, and "rows of event E with version > V" never skips a row that commits later.
//! The listener keeps one such position per watched event and reads all of them in one
//! statement. What this module does not do: deciding when to read (that is
//! [`crate::listener`]) or locking (the callers in `backend` hold the row lock).

use std::time::Duration;

use domain::{
    AvailabilityUpdate, Error, EventId, Result, SeatChange, SeatId, SeatState, SectionCount,
    Timestamp, UpdateKind,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::rows::db;

/// The columns [`update`] reads, in a statement over `availability_outbox o`.
const COLUMNS: &str = "o.event_id, o.version, o.available, o.seat_ids, o.seat_states, \
                       o.committed_at";

/// Inserts one change; the trigger `availability_outbox_notify` wakes the listeners.
pub(crate) const APPEND_SQL: &str = "INSERT INTO availability_outbox \
     (event_id, version, available, seat_ids, seat_states, committed_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// The changes after each watched event's position, oldest first per event, at most `$3`:
/// `$1` the events, `$2` their positions (the last version each has published).
pub(crate) fn read_after_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM unnest($1::bigint[], $2::bigint[]) AS w(event_id, after) \
         JOIN availability_outbox o ON o.event_id = w.event_id AND o.version > w.after \
         ORDER BY o.event_id, o.version LIMIT $3"
    )
}

/// The name of the `NOTIFY` channel for `schema`, as the trigger computes it.
pub(crate) fn channel(schema: &str) -> String {
    // A checked schema name is ASCII, so any byte offset is a character boundary.
    format!("qav_{}", schema.get(..59).unwrap_or(schema))
}

/// One event's inventory under its row lock, and where its sections start.
#[derive(Debug)]
pub(crate) struct Inventory {
    /// The last committed version.
    pub version: i64,
    /// Available seats per section, in section order, as of `version`.
    pub available: Vec<i32>,
    /// The first seat id of each section, ascending.
    pub starts: Vec<i32>,
}

/// One version's row of the outbox.
#[derive(Debug)]
pub(crate) struct Change {
    pub version: i64,
    pub available: Vec<i32>,
    pub seat_ids: Vec<i32>,
    pub seat_states: Vec<&'static str>,
}

impl Inventory {
    /// Moves `seats` (each currently in a state that `from_available` says) to `to`, bumps
    /// the version and returns the change to append.
    ///
    /// # Errors
    /// `INTERNAL` if a count would leave `0..=i32::MAX` (the counts disagree with the
    /// claims: a bug, never the client's doing).
    pub fn change(&mut self, seats: &[i32], from_available: bool, to: SeatState) -> Result<Change> {
        let to_available = to == SeatState::Available;
        if from_available != to_available {
            for &seat in seats {
                let section = self
                    .starts
                    .partition_point(|&s| s <= seat)
                    .saturating_sub(1);
                let count = self
                    .available
                    .get_mut(section)
                    .ok_or_else(|| Error::internal("a seat outside the event's sections"))?;
                *count = if to_available {
                    count.checked_add(1)
                } else {
                    count.checked_sub(1).filter(|c| *c >= 0)
                }
                .ok_or_else(|| Error::internal("section counts disagree with the claims"))?;
            }
        }
        self.version += 1;
        Ok(Change {
            version: self.version,
            available: self.available.clone(),
            seat_ids: seats.to_vec(),
            seat_states: vec![to.as_str(); seats.len()],
        })
    }
}

/// Appends `change` of event `event` in the caller's transaction.
///
/// # Errors
/// The database's.
pub(crate) async fn append(
    tx: &deadpool_postgres::Transaction<'_>,
    event: i64,
    change: &Change,
    committed_at: Timestamp,
) -> Result<()> {
    let stmt = tx.prepare_cached(APPEND_SQL).await.map_err(db)?;
    let params: [&(dyn ToSql + Sync); 6] = [
        &event,
        &change.version,
        &change.available,
        &change.seat_ids,
        &change.seat_states,
        &committed_at,
    ];
    tx.execute(&stmt, &params).await.map_err(db)?;
    Ok(())
}

/// The changes of `event` with versions in `(after, through]`, oldest first.
///
/// # Errors
/// The database's, or a row the domain cannot hold.
pub(crate) async fn read_range(
    client: &deadpool_postgres::Object,
    event: i64,
    after: i64,
    through: i64,
) -> Result<Vec<AvailabilityUpdate>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM availability_outbox o \
             WHERE o.event_id = $1 AND o.version > $2 AND o.version <= $3 ORDER BY o.version"
        ))
        .await
        .map_err(db)?;
    let rows = client
        .query(&stmt, &[&event, &after, &through])
        .await
        .map_err(db)?;
    rows.iter().map(update).collect()
}

/// Reads up to `limit` changes after each `(event, position)`, on the listener's own
/// connection (`stmt` is [`read_after_sql`] prepared there).
///
/// # Errors
/// The database's.
pub(crate) async fn read_after(
    client: &tokio_postgres::Client,
    stmt: &tokio_postgres::Statement,
    positions: &[(i64, i64)],
    limit: i64,
) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
    let (events, afters): (Vec<i64>, Vec<i64>) = positions.iter().copied().unzip();
    client.query(stmt, &[&events, &afters, &limit]).await
}

/// One outbox row as the change message subscribers get.
///
/// # Errors
/// `INTERNAL` for a value the domain cannot hold.
pub(crate) fn update(row: &Row) -> Result<AvailabilityUpdate> {
    let event: i64 = row.try_get(0).map_err(db)?;
    let version: i64 = row.try_get(1).map_err(db)?;
    let available: Vec<i32> = row.try_get(2).map_err(db)?;
    let seat_ids: Vec<i32> = row.try_get(3).map_err(db)?;
    let states: Vec<String> = row.try_get(4).map_err(db)?;
    let seats = seat_ids
        .iter()
        .zip(&states)
        .map(|(&seat, state)| {
            Ok(SeatChange {
                seat_id: SeatId(u32::try_from(seat).map_err(|_| bad("seat id"))?),
                state: seat_state(state)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AvailabilityUpdate {
        event_id: EventId(u64::try_from(event).map_err(|_| bad("event id"))?),
        kind: UpdateKind::Change,
        version: u64::try_from(version).map_err(|_| bad("version"))?,
        sections: sections(&available)?,
        seats,
        committed_at: row.try_get(5).map_err(db)?,
    })
}

/// Per-section counts in section order as the domain's (section ids count from 0).
///
/// # Errors
/// `INTERNAL` for a negative count.
pub(crate) fn sections(available: &[i32]) -> Result<Vec<SectionCount>> {
    (0u32..)
        .zip(available)
        .map(|(section_id, &n)| {
            Ok(SectionCount {
                section_id,
                available: u32::try_from(n).map_err(|_| bad("available count"))?,
            })
        })
        .collect()
}

fn seat_state(raw: &str) -> Result<SeatState> {
    SeatState::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| bad("seat state"))
}

fn bad(what: &str) -> Error {
    Error::internal(format!("an outbox row holds an impossible {what}"))
}

/// Deletes outbox rows that are both more than `keep_versions` behind their event's
/// current version and written more than `min_age` ago, at most `batch` per statement and
/// `max_batches` statements; returns how many went.
///
/// Safe with any number of replicas pruning at once: each statement takes its rows with
/// `FOR UPDATE SKIP LOCKED`, so two pruners never wait on each other, and deleting a row
/// twice is impossible. A listener whose position falls behind what was pruned reads a
/// jump in versions; its feed then ends every live subscription with a resync (never a
/// silent skip), and resuming from there gets a snapshot.
///
/// # Errors
/// The database's.
pub async fn prune(
    client: &tokio_postgres::Client,
    keep_versions: u64,
    min_age: Duration,
    batch: u32,
    max_batches: u32,
) -> std::result::Result<u64, tokio_postgres::Error> {
    let keep = i64::try_from(keep_versions).unwrap_or(i64::MAX);
    let age_micros = i64::try_from(min_age.as_micros()).unwrap_or(i64::MAX);
    let stmt = client
        .prepare(
            "DELETE FROM availability_outbox d WHERE (d.event_id, d.version) IN ( \
                 SELECT o.event_id, o.version FROM availability_outbox o \
                 JOIN event_inventory i ON i.event_id = o.event_id \
                 WHERE o.version <= i.version - $1 \
                   AND o.written_at < now() - $2::bigint * interval '1 microsecond' \
                 LIMIT $3 FOR UPDATE OF o SKIP LOCKED)",
        )
        .await?;
    let mut deleted = 0;
    for _ in 0..max_batches {
        let n = client
            .execute(&stmt, &[&keep, &age_micros, &i64::from(batch)])
            .await?;
        deleted += n;
        if n < u64::from(batch) {
            break;
        }
    }
    Ok(deleted)
}
