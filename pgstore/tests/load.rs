//! The loader moves the catalogue's indexes and constraints around its `COPY` (drops them
//! before the rows, recreates them after): a loaded schema must end with exactly the
//! indexes and constraints a freshly migrated one has, and with the ones the store relies
//! on by name, so moving them can never silently lose one. Also: what a load writes is
//! what the rows say (the inventory computed by the loader, the search vector).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use domain::{Dataset, DatasetSpec};
use pgstore::PgStore;

const SPEC: DatasetSpec = DatasetSpec {
    events: 120,
    seed: 7,
};

/// Every index of the schema (name and definition, schema-free) and every constraint
/// (table, name and definition), partitions' included.
async fn shape(store: &PgStore) -> (BTreeSet<String>, BTreeSet<String>) {
    let client = store.pool().get().await.expect("client");
    let indexes = client
        .query(
            "SELECT indexname || ': ' || replace(indexdef, schemaname || '.', '') \
             FROM pg_indexes WHERE schemaname = current_schema()",
            &[],
        )
        .await
        .expect("indexes")
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    let constraints = client
        .query(
            "SELECT c.conrelid::regclass::text || ' ' || c.conname || ': ' \
                    || pg_get_constraintdef(c.oid) \
                    || CASE WHEN c.convalidated THEN '' ELSE ' NOT VALIDATED' END \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE t.relnamespace = current_schema()::regnamespace",
            &[],
        )
        .await
        .expect("constraints")
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    (indexes, constraints)
}

fn names(set: &BTreeSet<String>) -> BTreeSet<&str> {
    set.iter()
        .filter_map(|s| s.split(':').next())
        .map(|s| s.rsplit(' ').next().unwrap_or(s))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loaded_schema_has_every_index_and_constraint_a_migrated_one_has() {
    let Some(db) = common::TestSchema::new("loadshape").await else {
        return;
    };
    let store = PgStore::connect(&db.config).await.expect("connect");
    let migrated = shape(&store).await;
    let data = Dataset::from_spec(SPEC);
    pgstore::load(&store, &data, false).await.expect("load");
    let loaded = shape(&store).await;
    assert_eq!(loaded.0, migrated.0, "indexes after a load");
    assert_eq!(loaded.1, migrated.1, "constraints after a load");

    // And again over data (replace), the path that also empties the bookings.
    pgstore::load(&store, &data, true).await.expect("reload");
    assert_eq!(shape(&store).await, migrated, "after a reload");

    // The ones the store's statements and guarantees rely on, by name: were a migration
    // or the loader to lose one, the comparison above would not notice on its own.
    let indexes = names(&loaded.0);
    for index in [
        "venues_pkey",
        "venues_city_key",
        "venue_sections_pkey",
        "performers_pkey",
        "events_pkey",
        "events_listing",
        "events_category_listing",
        "events_venue",
        "events_search",
        "event_performers_pkey",
        "event_inventory_pkey",
        "event_inventory_p0_pkey",
        "bookings_pkey",
        "bookings_held",
        "seat_claims_pkey",
        "seat_claims_booking",
        "idempotency_keys_pkey",
        "availability_outbox_pkey",
        "booking_id_key_pkey",
    ] {
        assert!(
            indexes.contains(index),
            "index {index} missing: {indexes:?}"
        );
    }
    let constraints = names(&loaded.1);
    for constraint in [
        "venue_sections_venue_id_fkey",
        "events_venue_id_fkey",
        "event_performers_event_id_fkey",
        "event_performers_performer_id_fkey",
        "events_status_check",
        "venues_capacity_check",
        "seat_claims_pkey",
    ] {
        assert!(
            constraints.contains(constraint),
            "constraint {constraint} missing: {constraints:?}"
        );
    }
    let client = store.pool().get().await.expect("client");
    let gin: String = client
        .query_one(
            "SELECT indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND indexname = 'events_search'",
            &[],
        )
        .await
        .expect("events_search")
        .get(0);
    assert!(gin.contains("USING gin (search)"), "{gin}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_writes_the_inventory_and_search_vectors_the_rows_imply() {
    let Some(db) = common::TestSchema::new("loadrows").await else {
        return;
    };
    let store = PgStore::connect(&db.config).await.expect("connect");
    let data = Dataset::from_spec(SPEC);
    let report = pgstore::load::load_timed(&store, &data, false)
        .await
        .expect("load");
    assert_eq!(report.events, 120);
    assert!(
        report
            .phases
            .iter()
            .any(|(name, _)| name == "build events_search"),
        "{:?}",
        report.phases
    );
    let client = store.pool().get().await.expect("client");
    // The loader computes each event's inventory; V3's backfill says what it must be.
    let wrong: i64 = client
        .query_one(
            "SELECT count(*) FROM event_inventory i JOIN events e ON e.id = i.event_id \
             WHERE i.version <> 0 OR i.next_booking <> 1 OR i.available IS DISTINCT FROM \
                   ARRAY(SELECT s.seat_count FROM venue_sections s \
                         WHERE s.venue_id = e.venue_id ORDER BY s.section_id)",
            &[],
        )
        .await
        .expect("inventory")
        .get(0);
    assert_eq!(wrong, 0);
    let counts: (i64, i64, i64) = {
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM event_inventory), \
                        (SELECT count(*) FROM events WHERE search IS NOT NULL \
                                AND search <> ''::tsvector), \
                        (SELECT count(*) FROM event_performers)",
                &[],
            )
            .await
            .expect("counts");
        (row.get(0), row.get(1), row.get(2))
    };
    let performers: usize = data.events.iter().map(|e| e.performer_ids.len()).sum();
    assert_eq!(
        counts,
        (120, 120, i64::try_from(performers).unwrap()),
        "inventory rows, search vectors, event performers"
    );
}
