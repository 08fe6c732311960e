//! Rows to domain values and back: the column lists every query shares and the
//! conversions, each checked (a value the domain cannot hold is an `INTERNAL` error,
//! never a panic).

use domain::{
    Booking, BookingId, BookingStatus, Category, Customer, Error, Event, EventId, EventStatus,
    Performer, PerformerId, Result, Row, SeatId, Section, Timestamp, Venue, VenueId,
};
use tokio_postgres::Row as PgRow;

/// The event columns of `events e JOIN venues v`, with `$1` the current time: the
/// performer ids in order and whether an on-sale event is sold out right now.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.name, e.description, e.category, e.venue_id, \
     e.starts_at, e.status, e.tags, e.min_price_cents, e.max_price_cents, e.currency, \
     ARRAY(SELECT p.performer_id FROM event_performers p WHERE p.event_id = e.id \
           ORDER BY p.position) AS performer_ids, \
     (e.status = 'on_sale' AND (SELECT count(*) FROM seat_claims c WHERE c.event_id = e.id \
           AND (c.status = 'sold' OR c.expires_at > $1)) >= v.capacity) AS sold_out";

/// The booking columns, in the order [`booking`] reads them.
pub(crate) const BOOKING_COLUMNS: &str = "id, event_id, seat_ids, customer_name, \
     customer_email, status, total_cents, currency, created_at, expires_at, version";

pub(crate) fn id(raw: i64, what: &str) -> Result<u64> {
    u64::try_from(raw).map_err(|_| Error::internal(format!("negative {what} id in the database")))
}

pub(crate) fn event(row: &PgRow) -> Result<Event> {
    let category: String = row.try_get("category").map_err(db)?;
    let status: String = row.try_get("status").map_err(db)?;
    let sold_out: bool = row.try_get("sold_out").map_err(db)?;
    let performers: Vec<i64> = row.try_get("performer_ids").map_err(db)?;
    let status = if sold_out {
        EventStatus::SoldOut
    } else {
        event_status(&status)?
    };
    Ok(Event {
        id: EventId(id(row.try_get("id").map_err(db)?, "event")?),
        name: row.try_get("name").map_err(db)?,
        description: row.try_get("description").map_err(db)?,
        category: category
            .parse::<Category>()
            .map_err(|_| Error::internal("unknown category in the database"))?,
        venue_id: VenueId(id(row.try_get("venue_id").map_err(db)?, "venue")?),
        performer_ids: performers
            .into_iter()
            .map(|p| id(p, "performer").map(PerformerId))
            .collect::<Result<_>>()?,
        starts_at: row.try_get("starts_at").map_err(db)?,
        status,
        tags: row.try_get("tags").map_err(db)?,
        min_price_cents: row.try_get("min_price_cents").map_err(db)?,
        max_price_cents: row.try_get("max_price_cents").map_err(db)?,
        currency: row.try_get("currency").map_err(db)?,
    })
}

pub(crate) fn event_status(raw: &str) -> Result<EventStatus> {
    EventStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| Error::internal("unknown event status in the database"))
}

pub(crate) fn booking_status(raw: &str) -> Result<BookingStatus> {
    BookingStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| Error::internal("unknown booking status in the database"))
}

/// A booking row as of `now`: a hold whose time has passed is reported expired, its
/// version one past the stored one (the expiry the store will write when it releases it).
pub(crate) fn booking(row: &PgRow, now: Timestamp) -> Result<Booking> {
    let seats: Vec<i32> = row.try_get("seat_ids").map_err(db)?;
    let status: String = row.try_get("status").map_err(db)?;
    let version: i64 = row.try_get("version").map_err(db)?;
    let expires_at: Timestamp = row.try_get("expires_at").map_err(db)?;
    let mut status = booking_status(&status)?;
    let mut version =
        u64::try_from(version).map_err(|_| Error::internal("negative booking version"))?;
    if status == BookingStatus::Held && expires_at <= now {
        status = BookingStatus::Expired;
        version += 1;
    }
    Ok(Booking {
        id: BookingId(id(row.try_get("id").map_err(db)?, "booking")?),
        event_id: EventId(id(row.try_get("event_id").map_err(db)?, "event")?),
        seat_ids: seats
            .into_iter()
            .map(|s| u32::try_from(s).map(SeatId))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| Error::internal("negative seat id in the database"))?,
        customer: Customer {
            name: row.try_get("customer_name").map_err(db)?,
            email: row.try_get("customer_email").map_err(db)?,
        },
        status,
        total_cents: row.try_get("total_cents").map_err(db)?,
        currency: row.try_get("currency").map_err(db)?,
        created_at: row.try_get("created_at").map_err(db)?,
        expires_at,
        version,
    })
}

pub(crate) fn performer(row: &PgRow) -> Result<Performer> {
    Ok(Performer {
        id: PerformerId(id(row.try_get("id").map_err(db)?, "performer")?),
        name: row.try_get("name").map_err(db)?,
        genre: row.try_get("genre").map_err(db)?,
        bio: row.try_get("bio").map_err(db)?,
    })
}

/// A venue from its row and its section rows (ordered by section id).
pub(crate) fn venue(row: &PgRow, sections: &[PgRow]) -> Result<Venue> {
    Ok(Venue {
        id: VenueId(id(row.try_get("id").map_err(db)?, "venue")?),
        name: row.try_get("name").map_err(db)?,
        city: row.try_get("city").map_err(db)?,
        country: row.try_get("country").map_err(db)?,
        capacity: count(row.try_get("capacity").map_err(db)?)?,
        sections: sections.iter().map(section).collect::<Result<_>>()?,
    })
}

pub(crate) fn section(row: &PgRow) -> Result<Section> {
    let labels: Vec<String> = row.try_get("row_labels").map_err(db)?;
    let seats: Vec<i32> = row.try_get("row_seats").map_err(db)?;
    if labels.len() != seats.len() {
        return Err(Error::internal("a section's rows disagree in the database"));
    }
    Ok(Section {
        id: count(row.try_get("section_id").map_err(db)?)?,
        name: row.try_get("name").map_err(db)?,
        price_cents: row.try_get("price_cents").map_err(db)?,
        rows: labels
            .into_iter()
            .zip(seats)
            .map(|(label, seats)| {
                Ok(Row {
                    label,
                    seats: count(seats)?,
                })
            })
            .collect::<Result<_>>()?,
    })
}

pub(crate) fn count(raw: i32) -> Result<u32> {
    u32::try_from(raw).map_err(|_| Error::internal("negative count in the database"))
}

/// A column that does not convert: a schema the code does not match, so `INTERNAL`.
#[allow(clippy::needless_pass_by_value)] // by value, so `.map_err(db)` reads well
pub(crate) fn db(error: tokio_postgres::Error) -> Error {
    crate::error::to_domain(&error)
}
