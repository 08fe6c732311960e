//! The sweeper of lapsed holds: a background task on every replica that writes the
//! expiry of each hold past its `expires_at`, so its seats are released (and the change
//! streamed to watchers) without waiting for the next hold on the event.
//!
//! Any number of replicas sweep at once without waiting on each other or on writers: a
//! pass finds at most [`SWEEP_BATCH`] events with lapsed holds (no lock), then for each
//! one runs one short transaction that takes the event's `event_inventory` row
//! `FOR UPDATE SKIP LOCKED` (the same first lock every write takes, so the lock order
//! stays inventory, claims, bookings). An event another sweeper or a writer holds is
//! skipped: a hold expires the event's lapsed holds itself, and anything left is found
//! again next pass. Under the lock it expires the event's lapsed holds oldest first,
//! deletes their claims, appends one outbox change per expiry and bumps the inventory's
//! version and counts, exactly as a hold writes them, so what readers see is the same
//! whoever wrote the expiry (a lapsed hold already reads as expired, version + 1).
//!
//! What is not here: lazy expiry in readers (`backend`), the outbox format
//! ([`crate::outbox`]).

use std::sync::Arc;
use std::time::Duration;

use domain::{Clock, Error, Result, SeatState};

use crate::listener::AbortOnDrop;
use crate::outbox::{self, Inventory};
use crate::rows::db;

/// How often each replica sweeps when [`crate::PgConfig::sweep_interval`] is left alone.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Most events one pass expires holds of; the rest wait for the next pass, so one pass
/// stays short however many holds lapsed at once.
pub const SWEEP_BATCH: i64 = 256;

/// One pass over at most `batch` events with lapsed holds; returns how many holds it
/// expired.
///
/// # Errors
/// `UNAVAILABLE` or `INTERNAL` from the database; expiries committed before the failure
/// stay committed.
pub(crate) async fn sweep(
    pool: &deadpool_postgres::Pool,
    clock: &dyn Clock,
    batch: i64,
) -> Result<u64> {
    let mut client = pool
        .get()
        .await
        .map_err(|e| crate::error::pool_to_domain(&e))?;
    let now = clock.now();
    let find = client
        .prepare_cached(
            "SELECT DISTINCT event_id FROM bookings \
             WHERE status = 'held' AND expires_at <= $1 LIMIT $2",
        )
        .await
        .map_err(db)?;
    let lock = client
        .prepare_cached(
            "SELECT i.version, i.available, \
                    (SELECT array_agg(s.first_seat ORDER BY s.section_id) \
                     FROM events e JOIN venue_sections s ON s.venue_id = e.venue_id \
                     WHERE e.id = i.event_id) AS starts \
             FROM event_inventory i WHERE i.event_id = $1 \
             FOR UPDATE OF i SKIP LOCKED",
        )
        .await
        .map_err(db)?;
    // The same statement a hold runs for the event's lapsed holds.
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
    let bump = client
        .prepare_cached(
            "UPDATE event_inventory SET version = $2, available = $3 WHERE event_id = $1",
        )
        .await
        .map_err(db)?;
    let events: Vec<i64> = client
        .query(&find, &[&now, &batch])
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()
        .map_err(db)?;
    let mut expired_total = 0u64;
    for event in events {
        let tx = client.transaction().await.map_err(db)?;
        let Some(row) = tx.query_opt(&lock, &[&event]).await.map_err(db)? else {
            // Locked by a writer or another sweeper: theirs to expire, or next pass's.
            continue;
        };
        let mut inventory = Inventory {
            version: row.try_get(0).map_err(db)?,
            available: row.try_get(1).map_err(db)?,
            starts: row
                .try_get::<_, Option<Vec<i32>>>(2)
                .map_err(db)?
                .ok_or_else(|| Error::internal("an event without sections"))?,
        };
        let expired = tx.query(&expire, &[&event, &now]).await.map_err(db)?;
        if expired.is_empty() {
            // Someone expired them between the search and the lock.
            tx.rollback().await.map_err(db)?;
            continue;
        }
        let mut changes = Vec::with_capacity(expired.len());
        for row in &expired {
            let seats: Vec<i32> = row.try_get(0).map_err(db)?;
            changes.push(inventory.change(&seats, false, SeatState::Available)?);
        }
        let appended = futures::future::try_join_all(
            changes.iter().map(|c| outbox::append(&tx, event, c, now)),
        );
        futures::try_join!(
            async {
                tx.execute(&bump, &[&event, &inventory.version, &inventory.available])
                    .await
                    .map_err(db)
            },
            appended
        )?;
        tx.commit().await.map_err(db)?;
        expired_total += expired.len() as u64;
    }
    Ok(expired_total)
}

/// Starts the sweeping task: one pass every `every`, reading time from `clock`.
pub(crate) fn spawn_sweeper(
    pool: deadpool_postgres::Pool,
    clock: Arc<dyn Clock>,
    every: Duration,
) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; the store may still be migrating then.
        tick.tick().await;
        loop {
            tick.tick().await;
            match sweep(&pool, &*clock, SWEEP_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(expired = n, "lapsed holds swept"),
                // Unreachable database, a table not migrated yet: try again next pass.
                Err(error) => tracing::debug!(%error, "sweeping lapsed holds failed"),
            }
        }
    }))
}
