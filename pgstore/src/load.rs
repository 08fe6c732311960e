//! Loading the generated dataset with binary `COPY`, in one transaction: venues, their
//! sections, performers, events (with the search words the domain tokeniser produces),
//! event performers, then one inventory row per event.
//!
//! A schema that already holds events is refused unless `replace` is set, in which case
//! every table (bookings included) is emptied first.

use domain::catalog::tokens;
use domain::{Dataset, Event, Venue};
use futures::pin_mut;
use tokio_postgres::Transaction as Client;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::PgStore;
use crate::error::SetupError;

/// Writes `dataset` into the store's schema (migrated by [`PgStore::connect`]). Returns
/// the number of events written.
///
/// # Errors
/// [`SetupError::NotEmpty`] if the schema holds events and `replace` is false; any
/// database failure (nothing is written then).
pub async fn load(store: &PgStore, dataset: &Dataset, replace: bool) -> Result<u64, SetupError> {
    let mut client = store.pool().get().await?;
    let tx = client.transaction().await?;
    // A bulk load is not a request: the pool's per-statement timeout (meant for serving)
    // would cut a large COPY short, so this transaction alone has none.
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    let events: i64 = tx
        .query_one("SELECT count(*) FROM events", &[])
        .await?
        .try_get(0)?;
    if events > 0 || has_bookings(&tx).await? {
        if !replace {
            return Err(SetupError::NotEmpty {
                schema: store.schema().to_owned(),
                events,
            });
        }
        tx.batch_execute(
            "TRUNCATE idempotency_keys, seat_claims, bookings, event_inventory, availability_outbox, \
             event_performers, events, performers, venue_sections, venues",
        )
        .await?;
    }
    copy_venues(&tx, &dataset.venues).await?;
    copy_performers(&tx, dataset).await?;
    copy_events(&tx, dataset).await?;
    // ANALYZE names its tables: a bare ANALYZE would also take the system catalogues,
    // and two loads into two schemas at once could deadlock on them.
    tx.batch_execute(
        "INSERT INTO event_inventory (event_id, available) \
             SELECT e.id, ARRAY(SELECT s.seat_count FROM venue_sections s \
                                WHERE s.venue_id = e.venue_id ORDER BY s.section_id) \
             FROM events e; \
         ANALYZE venues, venue_sections, performers, events, event_performers, event_inventory",
    )
    .await?;
    tx.commit().await?;
    Ok(dataset.events.len() as u64)
}

async fn has_bookings(client: &Client<'_>) -> Result<bool, SetupError> {
    Ok(client
        .query_one("SELECT EXISTS (SELECT 1 FROM bookings)", &[])
        .await?
        .try_get(0)?)
}

async fn copy_venues(client: &Client<'_>, venues: &[Venue]) -> Result<(), SetupError> {
    let sink = client
        .copy_in("COPY venues (id, name, city, city_key, country, capacity) FROM STDIN BINARY")
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
             seat_count, row_labels, row_seats) FROM STDIN BINARY",
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
        .copy_in("COPY performers (id, name, genre, bio) FROM STDIN BINARY")
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
             FROM STDIN BINARY",
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

    let sink = client
        .copy_in("COPY event_performers (event_id, position, performer_id) FROM STDIN BINARY")
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

fn int8(raw: u64) -> Result<i64, SetupError> {
    i64::try_from(raw).map_err(|_| SetupError::Config(format!("id {raw} does not fit a bigint")))
}

fn int4(raw: u32) -> Result<i32, SetupError> {
    i32::try_from(raw)
        .map_err(|_| SetupError::Config(format!("count {raw} does not fit an integer")))
}
