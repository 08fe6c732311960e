//! Domain <-> protobuf, in both directions: the server converts requests in and answers
//! out, the client the other way round. Protobuf has no "required": a missing message
//! field or an enum value this version does not know is reported as `INVALID_ARGUMENT`
//! naming the field (the client turns that into `INTERNAL`: the server sent it).

use domain::Error;
use prost_types::Timestamp;

use crate::pb;

type Result<T> = std::result::Result<T, Error>;

fn missing(field: &str) -> Error {
    Error::invalid_argument(field, "is required")
}

/// A domain time as a protobuf timestamp.
pub fn timestamp(t: domain::Timestamp) -> Timestamp {
    Timestamp {
        seconds: t.timestamp(),
        // Below 2e9, so it always fits an i32.
        nanos: t.timestamp_subsec_nanos().cast_signed(),
    }
}

/// A protobuf timestamp as a domain time (whole microseconds).
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field` for nanos outside 0..1e9 or an unrepresentable time.
pub fn time(field: &str, t: &Timestamp) -> Result<domain::Timestamp> {
    let nanos = u32::try_from(t.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| Error::invalid_argument(field, "nanos must be in 0..1e9"))?;
    chrono::DateTime::from_timestamp(t.seconds, nanos)
        .map(domain::model::truncate_to_micros)
        .ok_or_else(|| Error::invalid_argument(field, "time out of range"))
}

fn required_time(field: &str, t: Option<&Timestamp>) -> Result<domain::Timestamp> {
    time(field, t.ok_or_else(|| missing(field))?)
}

macro_rules! enum_map {
    ($pb:ident, $domain:ty, $field:literal, { $($d:ident => $p:ident),+ $(,)? }) => {
        impl From<$domain> for pb::$pb {
            fn from(v: $domain) -> Self {
                match v { $(<$domain>::$d => pb::$pb::$p),+ }
            }
        }

        impl TryFrom<i32> for crate::convert::Known<$domain> {
            type Error = Error;
            fn try_from(raw: i32) -> Result<Self> {
                match pb::$pb::try_from(raw) {
                    $(Ok(pb::$pb::$p) => Ok(crate::convert::Known(<$domain>::$d)),)+
                    _ => Err(Error::invalid_argument(
                        $field,
                        format!("unknown {} value {raw}", stringify!($pb)),
                    )),
                }
            }
        }
    };
}

/// A domain enum decoded from a protobuf enum number this version knows.
pub struct Known<T>(pub T);

enum_map!(Category, domain::Category, "category", {
    Concert => Concert, Sports => Sports, Theater => Theater, Comedy => Comedy, Festival => Festival,
});
enum_map!(EventStatus, domain::EventStatus, "status", {
    Scheduled => Scheduled, OnSale => OnSale, SoldOut => SoldOut, Cancelled => Cancelled,
});
enum_map!(SeatState, domain::SeatState, "state", {
    Available => Available, Held => Held, Sold => Sold,
});
enum_map!(BookingStatus, domain::BookingStatus, "status", {
    Held => Held, Confirmed => Confirmed, Cancelled => Cancelled, Expired => Expired,
});
enum_map!(UpdateKind, domain::UpdateKind, "kind", {
    Change => Change, Snapshot => Snapshot, Resync => Resync,
});

fn known<T>(raw: i32) -> Result<T>
where
    Known<T>: TryFrom<i32, Error = Error>,
{
    Known::<T>::try_from(raw).map(|k| k.0)
}

// ---- filters and requests ----------------------------------------------------------

impl From<domain::EventFilter> for pb::EventFilter {
    fn from(f: domain::EventFilter) -> Self {
        pb::EventFilter {
            category: f.category.map_or(pb::Category::Unspecified, Into::into) as i32,
            city: f.city,
            starts_at_or_after: f.from.map(timestamp),
            starts_before: f.to.map(timestamp),
        }
    }
}

/// The domain filter of an optional protobuf filter (absent: match everything).
///
/// # Errors
/// `INVALID_ARGUMENT` for an unknown category or a bad time.
pub fn filter(f: Option<pb::EventFilter>) -> Result<domain::EventFilter> {
    let Some(f) = f else {
        return Ok(domain::EventFilter::default());
    };
    let category = if f.category == pb::Category::Unspecified as i32 {
        None
    } else {
        Some(known::<domain::Category>(f.category)?)
    };
    Ok(domain::EventFilter {
        category,
        city: f.city,
        from: f
            .starts_at_or_after
            .as_ref()
            .map(|t| time("starts_at_or_after", t))
            .transpose()?,
        to: f
            .starts_before
            .as_ref()
            .map(|t| time("starts_before", t))
            .transpose()?,
    })
}

impl TryFrom<pb::HoldSeatsRequest> for domain::HoldRequest {
    type Error = Error;
    fn try_from(r: pb::HoldSeatsRequest) -> Result<Self> {
        let customer = r.customer.ok_or_else(|| missing("customer"))?;
        Ok(domain::HoldRequest {
            event_id: r.event_id.into(),
            seat_ids: r.seat_ids.into_iter().map(Into::into).collect(),
            customer: domain::Customer {
                name: customer.name,
                email: customer.email,
            },
            idempotency_key: r.request_id,
        })
    }
}

impl From<domain::HoldRequest> for pb::HoldSeatsRequest {
    fn from(r: domain::HoldRequest) -> Self {
        pb::HoldSeatsRequest {
            event_id: r.event_id.0,
            seat_ids: r.seat_ids.into_iter().map(|s| s.0).collect(),
            customer: Some(pb::Customer {
                name: r.customer.name,
                email: r.customer.email,
            }),
            request_id: r.idempotency_key,
        }
    }
}

// ---- records -----------------------------------------------------------------------

impl From<domain::Event> for pb::Event {
    fn from(e: domain::Event) -> Self {
        pb::Event {
            id: e.id.0,
            name: e.name,
            description: e.description,
            category: pb::Category::from(e.category) as i32,
            venue_id: e.venue_id.0,
            performer_ids: e.performer_ids.into_iter().map(|p| p.0).collect(),
            start_time: Some(timestamp(e.starts_at)),
            status: pb::EventStatus::from(e.status) as i32,
            tags: e.tags,
            min_price_cents: e.min_price_cents,
            max_price_cents: e.max_price_cents,
            currency: e.currency,
        }
    }
}

impl TryFrom<pb::Event> for domain::Event {
    type Error = Error;
    fn try_from(e: pb::Event) -> Result<Self> {
        Ok(domain::Event {
            id: e.id.into(),
            name: e.name,
            description: e.description,
            category: known(e.category)?,
            venue_id: e.venue_id.into(),
            performer_ids: e.performer_ids.into_iter().map(Into::into).collect(),
            starts_at: required_time("start_time", e.start_time.as_ref())?,
            status: known(e.status)?,
            tags: e.tags,
            min_price_cents: e.min_price_cents,
            max_price_cents: e.max_price_cents,
            currency: e.currency,
        })
    }
}

/// The domain event of a required protobuf event field.
///
/// # Errors
/// `INVALID_ARGUMENT` if it is missing or malformed.
pub fn event(e: Option<pb::Event>) -> Result<domain::Event> {
    e.ok_or_else(|| missing("event"))?.try_into()
}

impl From<domain::Venue> for pb::Venue {
    fn from(v: domain::Venue) -> Self {
        pb::Venue {
            id: v.id.0,
            name: v.name,
            city: v.city,
            country: v.country,
            capacity: v.capacity,
            sections: v
                .sections
                .into_iter()
                .map(|s| pb::Section {
                    id: s.id,
                    name: s.name,
                    price_cents: s.price_cents,
                    rows: s
                        .rows
                        .into_iter()
                        .map(|r| pb::Row {
                            label: r.label,
                            seats: r.seats,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<pb::Venue> for domain::Venue {
    fn from(v: pb::Venue) -> Self {
        domain::Venue {
            id: v.id.into(),
            name: v.name,
            city: v.city,
            country: v.country,
            capacity: v.capacity,
            sections: v
                .sections
                .into_iter()
                .map(|s| domain::Section {
                    id: s.id,
                    name: s.name,
                    price_cents: s.price_cents,
                    rows: s
                        .rows
                        .into_iter()
                        .map(|r| domain::Row {
                            label: r.label,
                            seats: r.seats,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<domain::Performer> for pb::Performer {
    fn from(p: domain::Performer) -> Self {
        pb::Performer {
            id: p.id.0,
            name: p.name,
            genre: p.genre,
            bio: p.bio,
        }
    }
}

impl From<pb::Performer> for domain::Performer {
    fn from(p: pb::Performer) -> Self {
        domain::Performer {
            id: p.id.into(),
            name: p.name,
            genre: p.genre,
            bio: p.bio,
        }
    }
}

impl From<domain::SectionAvailability> for pb::SectionAvailability {
    fn from(a: domain::SectionAvailability) -> Self {
        pb::SectionAvailability {
            section_id: a.section_id,
            name: a.name,
            price_cents: a.price_cents,
            total: a.total,
            available: a.available,
        }
    }
}

impl From<pb::SectionAvailability> for domain::SectionAvailability {
    fn from(a: pb::SectionAvailability) -> Self {
        domain::SectionAvailability {
            section_id: a.section_id,
            name: a.name,
            price_cents: a.price_cents,
            total: a.total,
            available: a.available,
        }
    }
}

impl From<domain::EventDetail> for pb::GetEventDetailResponse {
    fn from(d: domain::EventDetail) -> Self {
        pb::GetEventDetailResponse {
            event: Some(d.event.into()),
            venue: Some(d.venue.into()),
            performers: d.performers.into_iter().map(Into::into).collect(),
            availability: d.availability.into_iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<pb::GetEventDetailResponse> for domain::EventDetail {
    type Error = Error;
    fn try_from(d: pb::GetEventDetailResponse) -> Result<Self> {
        Ok(domain::EventDetail {
            event: event(d.event)?,
            venue: d.venue.ok_or_else(|| missing("venue"))?.into(),
            performers: d.performers.into_iter().map(Into::into).collect(),
            availability: d.availability.into_iter().map(Into::into).collect(),
        })
    }
}

impl From<domain::SeatMap> for pb::GetSeatMapResponse {
    fn from(m: domain::SeatMap) -> Self {
        pb::GetSeatMapResponse {
            event_id: m.event_id.0,
            version: m.version,
            seats: m
                .seats
                .into_iter()
                .map(|s| pb::Seat {
                    seat_id: s.seat_id.0,
                    section_id: s.section_id,
                    row: s.row,
                    number: s.number,
                    price_cents: s.price_cents,
                    state: pb::SeatState::from(s.state) as i32,
                })
                .collect(),
        }
    }
}

impl TryFrom<pb::GetSeatMapResponse> for domain::SeatMap {
    type Error = Error;
    fn try_from(m: pb::GetSeatMapResponse) -> Result<Self> {
        Ok(domain::SeatMap {
            event_id: m.event_id.into(),
            version: m.version,
            seats: m
                .seats
                .into_iter()
                .map(|s| {
                    Ok(domain::Seat {
                        seat_id: s.seat_id.into(),
                        section_id: s.section_id,
                        row: s.row,
                        number: s.number,
                        price_cents: s.price_cents,
                        state: known(s.state)?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }
}

impl From<domain::EventPage> for pb::ListEventsResponse {
    fn from(p: domain::EventPage) -> Self {
        pb::ListEventsResponse {
            events: p.events.into_iter().map(Into::into).collect(),
            next_page_token: p.next_cursor.unwrap_or_default(),
        }
    }
}

impl TryFrom<pb::ListEventsResponse> for domain::EventPage {
    type Error = Error;
    fn try_from(p: pb::ListEventsResponse) -> Result<Self> {
        Ok(domain::EventPage {
            events: p
                .events
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_>>()?,
            next_cursor: Some(p.next_page_token).filter(|t| !t.is_empty()),
        })
    }
}

impl From<domain::SearchResults> for pb::SearchEventsResponse {
    fn from(r: domain::SearchResults) -> Self {
        pb::SearchEventsResponse {
            hits: r
                .hits
                .into_iter()
                .map(|h| pb::SearchHit {
                    event: Some(h.event.into()),
                    score: h.score,
                })
                .collect(),
        }
    }
}

impl TryFrom<pb::SearchEventsResponse> for domain::SearchResults {
    type Error = Error;
    fn try_from(r: pb::SearchEventsResponse) -> Result<Self> {
        Ok(domain::SearchResults {
            hits: r
                .hits
                .into_iter()
                .map(|h| {
                    Ok(domain::SearchHit {
                        event: event(h.event)?,
                        score: h.score,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }
}

impl From<domain::Booking> for pb::Booking {
    fn from(b: domain::Booking) -> Self {
        pb::Booking {
            id: b.id.0,
            event_id: b.event_id.0,
            seat_ids: b.seat_ids.into_iter().map(|s| s.0).collect(),
            customer: Some(pb::Customer {
                name: b.customer.name,
                email: b.customer.email,
            }),
            status: pb::BookingStatus::from(b.status) as i32,
            total_cents: b.total_cents,
            currency: b.currency,
            create_time: Some(timestamp(b.created_at)),
            expire_time: Some(timestamp(b.expires_at)),
            version: b.version,
        }
    }
}

impl TryFrom<pb::Booking> for domain::Booking {
    type Error = Error;
    fn try_from(b: pb::Booking) -> Result<Self> {
        let customer = b.customer.ok_or_else(|| missing("customer"))?;
        Ok(domain::Booking {
            id: b.id.into(),
            event_id: b.event_id.into(),
            seat_ids: b.seat_ids.into_iter().map(Into::into).collect(),
            customer: domain::Customer {
                name: customer.name,
                email: customer.email,
            },
            status: known(b.status)?,
            total_cents: b.total_cents,
            currency: b.currency,
            created_at: required_time("create_time", b.create_time.as_ref())?,
            expires_at: required_time("expire_time", b.expire_time.as_ref())?,
            version: b.version,
        })
    }
}

/// The domain booking of a required protobuf booking field.
///
/// # Errors
/// `INVALID_ARGUMENT` if it is missing or malformed.
pub fn booking(b: Option<pb::Booking>) -> Result<domain::Booking> {
    b.ok_or_else(|| missing("booking"))?.try_into()
}

// ---- live availability -------------------------------------------------------------

impl From<domain::AvailabilityUpdate> for pb::AvailabilityUpdate {
    fn from(u: domain::AvailabilityUpdate) -> Self {
        pb::AvailabilityUpdate {
            event_id: u.event_id.0,
            kind: pb::UpdateKind::from(u.kind) as i32,
            version: u.version,
            sections: u
                .sections
                .into_iter()
                .map(|s| pb::SectionCount {
                    section_id: s.section_id,
                    available: s.available,
                })
                .collect(),
            seats: u
                .seats
                .into_iter()
                .map(|s| pb::SeatChange {
                    seat_id: s.seat_id.0,
                    state: pb::SeatState::from(s.state) as i32,
                })
                .collect(),
            commit_time: Some(timestamp(u.committed_at)),
        }
    }
}

impl TryFrom<pb::AvailabilityUpdate> for domain::AvailabilityUpdate {
    type Error = Error;
    fn try_from(u: pb::AvailabilityUpdate) -> Result<Self> {
        Ok(domain::AvailabilityUpdate {
            event_id: u.event_id.into(),
            kind: known(u.kind)?,
            version: u.version,
            sections: u
                .sections
                .into_iter()
                .map(|s| domain::SectionCount {
                    section_id: s.section_id,
                    available: s.available,
                })
                .collect(),
            seats: u
                .seats
                .into_iter()
                .map(|s| {
                    Ok(domain::SeatChange {
                        seat_id: s.seat_id.into(),
                        state: known(s.state)?,
                    })
                })
                .collect::<Result<_>>()?,
            committed_at: required_time("commit_time", u.commit_time.as_ref())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::strategies;
    use proptest::prelude::*;
    use prost::Message;

    use super::*;

    /// Encodes to protobuf bytes and back, asserting nothing changed.
    fn through_bytes<T: Message + Default + PartialEq + std::fmt::Debug>(value: T) -> T {
        let back = T::decode(value.encode_to_vec().as_slice()).unwrap();
        assert_eq!(back, value);
        drop(value);
        back
    }

    /// Any availability message (domain has no strategy for it: its fields are plain).
    fn availability_update() -> impl Strategy<Value = domain::AvailabilityUpdate> {
        (
            any::<u64>(),
            0..domain::UpdateKind::ALL.len(),
            any::<u64>(),
            prop::collection::vec(any::<(u32, u32)>(), 0..8),
            prop::collection::vec((any::<u32>(), 0..domain::SeatState::ALL.len()), 0..8),
            strategies::time(),
        )
            .prop_map(|(event, kind, version, sections, seats, committed_at)| {
                domain::AvailabilityUpdate {
                    event_id: domain::EventId(event),
                    kind: domain::UpdateKind::ALL[kind],
                    version,
                    sections: sections
                        .into_iter()
                        .map(|(section_id, available)| domain::SectionCount {
                            section_id,
                            available,
                        })
                        .collect(),
                    seats: seats
                        .into_iter()
                        .map(|(seat, state)| domain::SeatChange {
                            seat_id: domain::SeatId(seat),
                            state: domain::SeatState::ALL[state],
                        })
                        .collect(),
                    committed_at,
                }
            })
    }

    proptest! {
        #[test]
        fn availability_updates_round_trip(u in availability_update()) {
            let back = domain::AvailabilityUpdate::try_from(through_bytes(pb::AvailabilityUpdate::from(u.clone())));
            prop_assert_eq!(back.unwrap(), u);
        }

        /// domain -> protobuf -> bytes -> protobuf -> domain is the identity for every
        /// message type.
        #[test]
        fn responses_round_trip(
            e in strategies::event(),
            venue in strategies::venue(),
            performer in strategies::performer(),
            detail in strategies::event_detail(),
            map in strategies::seat_map(),
            page in strategies::event_page(),
            results in strategies::search_results(),
            b in strategies::booking(),
        ) {
            prop_assert_eq!(event(Some(through_bytes(pb::Event::from(e.clone())))).unwrap(), e);
            prop_assert_eq!(domain::Venue::from(through_bytes(pb::Venue::from(venue.clone()))), venue);
            prop_assert_eq!(domain::Performer::from(through_bytes(pb::Performer::from(performer.clone()))), performer);
            prop_assert_eq!(domain::EventDetail::try_from(through_bytes(pb::GetEventDetailResponse::from(detail.clone()))).unwrap(), detail);
            prop_assert_eq!(domain::SeatMap::try_from(through_bytes(pb::GetSeatMapResponse::from(map.clone()))).unwrap(), map);
            prop_assert_eq!(domain::EventPage::try_from(through_bytes(pb::ListEventsResponse::from(page.clone()))).unwrap(), page);
            prop_assert_eq!(domain::SearchResults::try_from(through_bytes(pb::SearchEventsResponse::from(results.clone()))).unwrap(), results);
            prop_assert_eq!(booking(Some(through_bytes(pb::Booking::from(b.clone())))).unwrap(), b);
        }

        #[test]
        fn requests_round_trip(hold in strategies::hold_request(), f in strategies::filter()) {
            prop_assert_eq!(domain::HoldRequest::try_from(through_bytes(pb::HoldSeatsRequest::from(hold.clone()))).unwrap(), hold);
            prop_assert_eq!(filter(Some(through_bytes(pb::EventFilter::from(f.clone())))).unwrap(), f);
        }
    }

    #[test]
    fn unknown_enums_and_missing_fields_name_the_field() {
        let mut e = pb::Event::from(domain::Dataset::generate(10, 1).events[0].clone());
        e.category = 42;
        let err = domain::Event::try_from(e.clone()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref field, .. } if field == "category"),
            "{err:?}"
        );
        e.category = pb::Category::Concert as i32;
        e.start_time = None;
        let err = domain::Event::try_from(e).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref field, .. } if field == "start_time"),
            "{err:?}"
        );
        let bad = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert!(time("t", &bad).is_err());
    }

    #[test]
    fn unknown_update_kinds_and_seat_states_name_the_field() {
        let update = domain::AvailabilityUpdate {
            event_id: domain::EventId(1),
            kind: domain::UpdateKind::Change,
            version: 3,
            sections: Vec::new(),
            seats: vec![domain::SeatChange {
                seat_id: domain::SeatId(4),
                state: domain::SeatState::Held,
            }],
            committed_at: domain::Timestamp::default(),
        };
        let field_of = |m: pb::AvailabilityUpdate| match domain::AvailabilityUpdate::try_from(m) {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        };
        let mut m = pb::AvailabilityUpdate::from(update.clone());
        m.kind = pb::UpdateKind::Unspecified as i32;
        assert_eq!(field_of(m), "kind");
        let mut m = pb::AvailabilityUpdate::from(update.clone());
        m.seats[0].state = 9;
        assert_eq!(field_of(m), "state");
        let mut m = pb::AvailabilityUpdate::from(update);
        m.commit_time = None;
        assert_eq!(field_of(m), "commit_time");
    }
}
