//! Checking an answer without building it: borrowed serde views that read just enough of
//! the JSON to check the id, the fields the scenario's check needs, and that every
//! required field is there (a missing one fails to deserialize), skipping the rest
//! (`IgnoredAny`) and counting arrays instead of collecting them. One set of views reads
//! both REST (snake_case, numeric ids) and GraphQL (camelCase, string `ID`s).

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use domain::EventId;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};

use crate::scenario::{Outcome, Plan};

/// An id in either spelling: a JSON number (REST) or a string of digits (GraphQL `ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub u64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a number or a string of digits)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v)
                    .map(Id)
                    .map_err(|_| E::custom("a negative id"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse().map(Id).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// The length of an array, its elements skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        d.deserialize_seq(V)
    }
}

/// An event: every field required, the checked ones kept.
#[derive(Debug, Deserialize)]
pub struct EventView<'a> {
    id: Id,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[allow(dead_code)]
    description: IgnoredAny,
    #[serde(borrow)]
    category: Cow<'a, str>,
    #[serde(alias = "venueId")]
    venue_id: Id,
    #[serde(alias = "performerIds")]
    performer_ids: Count,
    #[serde(alias = "startsAt", borrow)]
    starts_at: Cow<'a, str>,
    #[allow(dead_code)]
    status: IgnoredAny,
    #[allow(dead_code)]
    tags: IgnoredAny,
    #[allow(dead_code)]
    #[serde(alias = "minPriceCents")]
    min_price_cents: IgnoredAny,
    #[allow(dead_code)]
    #[serde(alias = "maxPriceCents")]
    max_price_cents: IgnoredAny,
    #[allow(dead_code)]
    currency: IgnoredAny,
}

/// A venue: every field required, its id and sections kept.
#[derive(Debug, Deserialize)]
struct VenueView {
    id: Id,
    #[allow(dead_code)]
    name: IgnoredAny,
    #[allow(dead_code)]
    city: IgnoredAny,
    #[allow(dead_code)]
    country: IgnoredAny,
    #[allow(dead_code)]
    capacity: IgnoredAny,
    sections: Count,
}

/// REST's event detail: the event nested.
#[derive(Debug, Deserialize)]
struct RestDetail<'a> {
    #[serde(borrow)]
    event: EventView<'a>,
    venue: VenueView,
    performers: Count,
    availability: Count,
}

/// GraphQL's event detail: the event's fields with its venue, performers and
/// availability beside them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphqlDetail {
    id: Id,
    #[allow(dead_code)]
    name: IgnoredAny,
    #[allow(dead_code)]
    description: IgnoredAny,
    #[allow(dead_code)]
    category: IgnoredAny,
    venue_id: Id,
    performer_ids: Count,
    #[allow(dead_code)]
    starts_at: IgnoredAny,
    #[allow(dead_code)]
    status: IgnoredAny,
    #[allow(dead_code)]
    tags: IgnoredAny,
    #[allow(dead_code)]
    min_price_cents: IgnoredAny,
    #[allow(dead_code)]
    max_price_cents: IgnoredAny,
    #[allow(dead_code)]
    currency: IgnoredAny,
    venue: VenueView,
    performers: Count,
    availability: Count,
}

/// A seat map, its seats counted.
#[derive(Debug, Deserialize)]
struct SeatMapView {
    #[serde(alias = "eventId")]
    event_id: Id,
    #[allow(dead_code)]
    version: IgnoredAny,
    seats: Count,
}

/// GraphQL's `event { seatMap { ... } }`.
#[derive(Debug, Deserialize)]
struct GraphqlSeatMap {
    #[serde(rename = "seatMap")]
    seat_map: SeatMapView,
}

/// REST's page of events.
#[derive(Debug, Deserialize)]
struct RestPage<'a> {
    #[serde(borrow)]
    events: Vec<EventView<'a>>,
}

/// GraphQL's connection of events.
#[derive(Debug, Deserialize)]
struct GraphqlConnection<'a> {
    #[serde(borrow)]
    edges: Vec<Edge<'a>>,
    #[allow(dead_code)]
    #[serde(rename = "pageInfo")]
    page_info: IgnoredAny,
}

#[derive(Debug, Deserialize)]
struct Edge<'a> {
    #[serde(borrow)]
    node: EventView<'a>,
}

/// A search hit.
#[derive(Debug, Deserialize)]
struct HitView<'a> {
    /// Read so that every hit must carry a whole event.
    #[allow(dead_code)]
    #[serde(borrow)]
    event: EventView<'a>,
    score: f64,
}

/// REST's search results.
#[derive(Debug, Deserialize)]
struct RestSearch<'a> {
    #[serde(borrow)]
    hits: Vec<HitView<'a>>,
}

/// A GraphQL response: `data` (one root field, `T`) and `errors`.
#[derive(Debug, Deserialize)]
struct Envelope<'a, T> {
    #[serde(borrow, default)]
    errors: Option<Vec<GraphqlError<'a>>>,
    #[serde(default = "none")]
    data: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Deserialize)]
struct GraphqlError<'a> {
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// `data { event }`.
#[derive(Debug, Deserialize)]
struct EventRoot<T> {
    event: Option<T>,
}

/// `data { events }`.
#[derive(Debug, Deserialize)]
struct EventsRoot<T> {
    events: Option<T>,
}

/// `data { __typename }`.
#[derive(Debug, Deserialize)]
struct TypenameRoot<'a> {
    #[serde(rename = "__typename", borrow)]
    typename: Option<Cow<'a, str>>,
}

/// `data { searchEvents }`.
#[derive(Debug, Deserialize)]
struct SearchRoot<T> {
    #[serde(rename = "searchEvents")]
    search_events: Option<T>,
}

/// Which client's answer a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// REST's JSON.
    Rest,
    /// A GraphQL response (`data`/`errors`).
    Graphql,
}

fn failed(what: impl fmt::Display) -> Outcome {
    Outcome::Failed(what.to_string())
}

fn verdict(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok {
        Outcome::Ok
    } else {
        Outcome::Failed(what())
    }
}

/// Reads a GraphQL envelope around root `R`, failing on any `errors` (a 200 with errors
/// is an error) or a null root; then hands the root's value to `check`.
fn graphql<'a, R, T>(
    body: &'a [u8],
    what: &str,
    root: impl FnOnce(R) -> Option<T>,
    check: impl FnOnce(T) -> Outcome,
) -> Outcome
where
    R: Deserialize<'a>,
{
    match serde_json::from_slice::<Envelope<'a, R>>(body) {
        Ok(envelope) => {
            if let Some(error) = envelope.errors.as_ref().and_then(|e| e.first()) {
                return failed(format_args!("{what}: GraphQL error: {}", error.message));
            }
            match envelope.data.and_then(root) {
                Some(value) => check(value),
                None => failed(format_args!("{what}: data is null")),
            }
        }
        Err(e) => failed(format_args!("{what}: not the expected GraphQL JSON: {e}")),
    }
}

fn rest<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    what: &str,
    check: impl FnOnce(T) -> Outcome,
) -> Outcome {
    match serde_json::from_slice::<T>(body) {
        Ok(value) => check(value),
        Err(e) => failed(format_args!("{what}: not the documented JSON: {e}")),
    }
}

/// get_event(`id`): the event, with its id and the name the dataset gives it.
///
/// The body is first scanned in one pass ([`super::jsonscan`], no field-by-field
/// deserialization); only when the scan does not pass it do the views read it, which
/// gives a failure its reason. The scan passes only bodies the views pass.
pub fn get_event(dialect: Dialect, body: &[u8], plan: &Plan, id: EventId) -> Outcome {
    let expected = plan.event(id).map(|x| x.name.as_str());
    if let Some(name) = expected
        && super::jsonscan::get_event(dialect, body, id.0, name)
    {
        return Outcome::Ok;
    }
    viewed_get_event(dialect, body, id, expected)
}

/// get_event's check through the views: event `id`, named `expected`.
fn viewed_get_event(dialect: Dialect, body: &[u8], id: EventId, expected: Option<&str>) -> Outcome {
    let check = |e: EventView<'_>| {
        verdict(e.id.0 == id.0 && expected == Some(&*e.name), || {
            format!("get_event({id}) answered event {} ({:?})", e.id.0, e.name)
        })
    };
    match dialect {
        Dialect::Rest => rest(body, "get_event", check),
        Dialect::Graphql => graphql(body, "get_event", |r: EventRoot<_>| r.event, check),
    }
}

/// Whether the views pass `body` as event `id` named `name` (for the scan's tests).
#[cfg(test)]
pub(crate) fn event_view_passes(dialect: Dialect, body: &[u8], id: u64, name: &str) -> bool {
    viewed_get_event(dialect, body, EventId(id), Some(name)) == Outcome::Ok
}

/// `{ __typename }` (the GraphQL engine floor): the root's type name, `Query`.
pub fn typename(body: &[u8]) -> Outcome {
    graphql(
        body,
        "__typename",
        |r: TypenameRoot<'_>| r.typename,
        |name| verdict(name == "Query", || format!("__typename answered {name:?}")),
    )
}

/// list_events(category, 20): 1 to 20 events, all of the category, in (starts_at, id)
/// order.
pub fn list_events(dialect: Dialect, body: &[u8], category: domain::Category) -> Outcome {
    let check = |events: Vec<EventView<'_>>| {
        let starts: Option<Vec<DateTime<FixedOffset>>> = events
            .iter()
            .map(|e| DateTime::parse_from_rfc3339(&e.starts_at).ok())
            .collect();
        let ordered = starts.is_some_and(|starts| {
            starts
                .iter()
                .zip(&events)
                .collect::<Vec<_>>()
                .windows(2)
                .all(|w| (w[0].0, w[0].1.id.0) < (w[1].0, w[1].1.id.0))
        });
        verdict(
            !events.is_empty()
                && events.len() <= 20
                && events
                    .iter()
                    .all(|e| e.category.eq_ignore_ascii_case(category.as_str()))
                && ordered,
            || format!("list_events({category}) answered a page that breaks the filter or order"),
        )
    };
    match dialect {
        Dialect::Rest => rest(body, "list_events", |p: RestPage<'_>| check(p.events)),
        Dialect::Graphql => graphql(
            body,
            "list_events",
            |r: EventsRoot<GraphqlConnection<'_>>| r.events,
            |c| check(c.edges.into_iter().map(|e| e.node).collect()),
        ),
    }
}

/// search_events(word, 20): 1 to 20 hits, by descending score.
pub fn search_events(dialect: Dialect, body: &[u8], word: &str) -> Outcome {
    let check = |hits: Vec<HitView<'_>>| {
        verdict(
            !hits.is_empty()
                && hits.len() <= 20
                && hits.windows(2).all(|w| w[0].score >= w[1].score),
            || {
                format!(
                    "search_events({word:?}) answered {} unordered or no hits",
                    hits.len()
                )
            },
        )
    };
    match dialect {
        Dialect::Rest => rest(body, "search_events", |r: RestSearch<'_>| check(r.hits)),
        Dialect::Graphql => graphql(
            body,
            "search_events",
            |r: SearchRoot<Vec<HitView<'_>>>| r.search_events,
            check,
        ),
    }
}

/// get_event_detail(`id`): consistent event, venue, performers and availability.
pub fn event_detail(dialect: Dialect, body: &[u8], id: EventId) -> Outcome {
    let check = |event: Id,
                 venue_id: Id,
                 performer_ids: Count,
                 venue: &VenueView,
                 performers: Count,
                 availability: Count| {
        verdict(
            event.0 == id.0
                && venue.id == venue_id
                && performers == performer_ids
                && availability == venue.sections,
            || format!("get_event_detail({id}) answered an inconsistent detail"),
        )
    };
    match dialect {
        Dialect::Rest => rest(body, "event_detail", |d: RestDetail<'_>| {
            check(
                d.event.id,
                d.event.venue_id,
                d.event.performer_ids,
                &d.venue,
                d.performers,
                d.availability,
            )
        }),
        Dialect::Graphql => graphql(
            body,
            "event_detail",
            |r: EventRoot<GraphqlDetail>| r.event,
            |d| {
                check(
                    d.id,
                    d.venue_id,
                    d.performer_ids,
                    &d.venue,
                    d.performers,
                    d.availability,
                )
            },
        ),
    }
}

/// get_seat_map(`id`): the event's map with one seat per seat of its venue.
pub fn seat_map(dialect: Dialect, body: &[u8], plan: &Plan, id: EventId) -> Outcome {
    let capacity = plan.capacity(id);
    let check = |m: SeatMapView| {
        verdict(
            m.event_id.0 == id.0 && Some(m.seats.0) == capacity.map(|c| c as usize),
            || {
                format!(
                    "get_seat_map({id}) answered {} seats, expected {capacity:?}",
                    m.seats.0
                )
            },
        )
    };
    match dialect {
        Dialect::Rest => rest(body, "seat_map", check),
        Dialect::Graphql => graphql(
            body,
            "seat_map",
            |r: EventRoot<GraphqlSeatMap>| r.event,
            |e| check(e.seat_map),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"id":7,"name":"A \"quoted\" show","description":"d","category":"concert","venue_id":3,"performer_ids":[1,2],"starts_at":"2027-01-02T20:00:00Z","status":"on_sale","tags":[],"min_price_cents":1,"max_price_cents":2,"currency":"EUR"}"#;

    #[test]
    fn ids_read_in_both_spellings_and_counts_skip_elements() {
        let id: Id = serde_json::from_str("42").unwrap();
        assert_eq!(id, Id(42));
        let id: Id = serde_json::from_str("\"42\"").unwrap();
        assert_eq!(id, Id(42));
        assert!(serde_json::from_str::<Id>("\"x\"").is_err());
        assert!(serde_json::from_str::<Id>("-1").is_err());
        let n: Count = serde_json::from_str(r#"[1,{"a":[2]},"3"]"#).unwrap();
        assert_eq!(n, Count(3));
    }

    #[test]
    fn an_event_needs_every_field_and_keeps_escaped_names() {
        let e: EventView<'_> = serde_json::from_str(EVENT).unwrap();
        assert_eq!((e.id, &*e.name), (Id(7), "A \"quoted\" show"));
        let missing = EVENT.replace(r#""currency":"EUR""#, r#""other":1"#);
        assert!(serde_json::from_str::<EventView<'_>>(&missing).is_err());
    }

    #[test]
    fn graphql_errors_inside_a_200_fail_the_check() {
        let body = br#"{"data":null,"errors":[{"message":"boom"}]}"#;
        let outcome = graphql(
            body,
            "get_event",
            |r: EventRoot<EventView<'_>>| r.event,
            |_| Outcome::Ok,
        );
        assert_eq!(
            outcome,
            Outcome::Failed("get_event: GraphQL error: boom".into())
        );
        let body = br#"{"data":{"event":null}}"#;
        let outcome = graphql(
            body,
            "get_event",
            |r: EventRoot<EventView<'_>>| r.event,
            |_| Outcome::Ok,
        );
        assert!(matches!(outcome, Outcome::Failed(_)));
    }

    #[test]
    fn a_page_out_of_order_or_off_filter_fails() {
        let later = EVENT
            .replace(r#""id":7"#, r#""id":8"#)
            .replace("2027-01-02", "2027-01-03");
        let good = format!(r#"{{"events":[{EVENT},{later}],"next_cursor":null}}"#);
        let bad = format!(r#"{{"events":[{later},{EVENT}],"next_cursor":null}}"#);
        let concert = domain::Category::Concert;
        assert_eq!(
            list_events(Dialect::Rest, good.as_bytes(), concert),
            Outcome::Ok
        );
        assert!(matches!(
            list_events(Dialect::Rest, bad.as_bytes(), concert),
            Outcome::Failed(_)
        ));
        assert!(matches!(
            list_events(Dialect::Rest, good.as_bytes(), domain::Category::Sports),
            Outcome::Failed(_)
        ));
    }
}
