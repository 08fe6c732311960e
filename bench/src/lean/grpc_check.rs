//! Checking a gRPC answer as the lean gRPC client ([`super::grpc`]) reads it: the
//! protobuf message decoded with prost into the generated types (`grpc::pb`), then the
//! same checks the JSON views of [`super::check`] make: the id, get_event's name against
//! the dataset, every field the `grpc::Client` conversion requires (an event's start
//! time, a known category and status; a detail's venue), and the scenario's own check
//! (a page's filter and order, hits by descending score, a consistent detail, one seat
//! per seat of the venue). Nothing is converted to domain types.

use domain::{Category, EventId};
use grpc::pb;
use prost::Message;

use super::pbscan::{self, Value};
use crate::scenario::{Outcome, Plan};

fn decode<M: Message + Default>(message: &[u8], what: &str) -> Result<M, String> {
    M::decode(message).map_err(|e| format!("{what}: not the documented protobuf message: {e}"))
}

fn verdict(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok {
        Outcome::Ok
    } else {
        Outcome::Failed(what())
    }
}

/// What `grpc::Client` requires of an event before it converts it: a start time, and a
/// category and status it knows (proto3's zero value, UNSPECIFIED, is not one).
fn complete(event: &pb::Event) -> bool {
    let unspecified = 0;
    event.start_time.is_some()
        && event.category != unspecified
        && pb::Category::try_from(event.category).is_ok()
        && event.status != unspecified
        && pb::EventStatus::try_from(event.status).is_ok()
}

/// A start time's place in (starts_at, id) order.
fn starts(event: &pb::Event) -> (i64, i32, u64) {
    event
        .start_time
        .as_ref()
        .map_or((i64::MIN, 0, event.id), |t| (t.seconds, t.nanos, event.id))
}

/// `message` as a failed outcome, or the check's.
fn checked<M: Message + Default>(
    message: &[u8],
    what: &str,
    check: impl FnOnce(M) -> Outcome,
) -> Outcome {
    match decode::<M>(message, what) {
        Ok(m) => check(m),
        Err(why) => Outcome::Failed(why),
    }
}

/// GetEvent(`id`): the event, complete, with its id and the name the dataset gives it.
///
/// The message is first walked in place ([`fast_get_event`]: no allocation); only when
/// that walk does not pass is it decoded with prost, which gives the failure its reason.
/// The walk passes only messages the prost check passes.
pub fn get_event(message: &[u8], plan: &Plan, id: EventId) -> Outcome {
    if let Some(expected) = plan.event(id)
        && fast_get_event(message, id.0, &expected.name)
    {
        return Outcome::Ok;
    }
    checked(message, "get_event", |r: pb::GetEventResponse| {
        let Some(e) = r.event else {
            return Outcome::Failed(format!("get_event({id}) answered no event"));
        };
        let expected = plan.event(id).map(|x| x.name.as_str());
        verdict(
            e.id == id.0 && expected == Some(e.name.as_str()) && complete(&e),
            || format!("get_event({id}) answered event {} ({:?})", e.id, e.name),
        )
    })
}

/// Whether `message` is a `GetEventResponse` whose event is complete (what [`complete`]
/// asks), has id `id` and is named `name`, read in place with [`pbscan`]. Every field of
/// the event is walked as prost would decode it: a known field in the wrong wire type,
/// a string that is not UTF-8, a malformed packed id list or start time, or anything
/// else malformed does not pass; unknown fields are skipped. An event field present more
/// than once (which prost would merge) does not pass either: the prost path decides.
fn fast_get_event(message: &[u8], id: u64, name: &str) -> bool {
    let mut event = None;
    for field in pbscan::fields(message) {
        match field {
            Ok((1, Value::Bytes(bytes))) if event.is_none() => event = Some(bytes),
            Ok((1, _)) | Err(()) => return false,
            Ok(_) => {}
        }
    }
    let Some(event) = event else {
        return false;
    };
    let (mut got_id, mut got_name) = (0u64, &b""[..]);
    let (mut category, mut status, mut start_time) = (0i32, 0i32, false);
    for field in pbscan::fields(event) {
        let Ok((number, value)) = field else {
            return false;
        };
        match (number, value) {
            (1, Value::Varint(v)) => got_id = v,
            (2 | 3 | 9 | 12, Value::Bytes(b)) if !pbscan::utf8(b) => return false,
            (2, Value::Bytes(b)) => got_name = b,
            // prost reads an enum's varint as an i32 by truncation, as here.
            (4, Value::Varint(v)) => category = v as i32,
            (8, Value::Varint(v)) => status = v as i32,
            (6, Value::Bytes(b)) if !pbscan::packed_varints(b) => return false,
            // Well-formed strings and packed ids, and the other integers.
            (3 | 6 | 9 | 12, Value::Bytes(_)) | (5 | 6 | 10 | 11, Value::Varint(_)) => {}
            (7, Value::Bytes(b)) => {
                if !timestamp(b) {
                    return false;
                }
                start_time = true;
            }
            // A field of `Event` in a wire type that is not its own.
            (1..=12, _) => return false,
            _ => {}
        }
    }
    got_id == id
        && got_name == name.as_bytes()
        && category != 0
        && pb::Category::try_from(category).is_ok()
        && status != 0
        && pb::EventStatus::try_from(status).is_ok()
        && start_time
}

/// Whether `bytes` is a well-formed `google.protobuf.Timestamp` (seconds and nanos are
/// varints).
fn timestamp(bytes: &[u8]) -> bool {
    pbscan::fields(bytes).all(|f| match f {
        Ok((1 | 2, value)) => matches!(value, Value::Varint(_)),
        Ok(_) => true,
        Err(()) => false,
    })
}

/// ListEvents(category, 20): 1 to 20 complete events, all of the category, in
/// (starts_at, id) order.
pub fn list_events(message: &[u8], category: Category) -> Outcome {
    let wanted = pb::Category::from(category) as i32;
    checked(message, "list_events", |r: pb::ListEventsResponse| {
        let events = &r.events;
        verdict(
            !events.is_empty()
                && events.len() <= 20
                && events.iter().all(|e| e.category == wanted && complete(e))
                && events.windows(2).all(|w| starts(&w[0]) < starts(&w[1])),
            || format!("list_events({category}) answered a page that breaks the filter or order"),
        )
    })
}

/// SearchEvents(word, 20): 1 to 20 hits, each a complete event, by descending score.
pub fn search_events(message: &[u8], word: &str) -> Outcome {
    checked(message, "search_events", |r: pb::SearchEventsResponse| {
        let hits = &r.hits;
        verdict(
            !hits.is_empty()
                && hits.len() <= 20
                && hits.iter().all(|h| h.event.as_ref().is_some_and(complete))
                && hits.windows(2).all(|w| w[0].score >= w[1].score),
            || {
                format!(
                    "search_events({word:?}) answered {} unordered, incomplete or no hits",
                    hits.len()
                )
            },
        )
    })
}

/// GetEventDetail(`id`): a complete event with its venue, performers and availability,
/// consistent with each other.
pub fn event_detail(message: &[u8], id: EventId) -> Outcome {
    checked(message, "event_detail", |d: pb::GetEventDetailResponse| {
        let consistent = match (&d.event, &d.venue) {
            (Some(event), Some(venue)) => {
                event.id == id.0
                    && complete(event)
                    && venue.id == event.venue_id
                    && d.performers.len() == event.performer_ids.len()
                    && d.availability.len() == venue.sections.len()
            }
            _ => false,
        };
        verdict(consistent, || {
            format!("get_event_detail({id}) answered an inconsistent detail")
        })
    })
}

/// GetSeatMap(`id`): the event's map with one seat per seat of its venue.
pub fn seat_map(message: &[u8], plan: &Plan, id: EventId) -> Outcome {
    let capacity = plan.capacity(id);
    checked(message, "seat_map", |m: pb::GetSeatMapResponse| {
        verdict(
            m.event_id == id.0 && Some(m.seats.len()) == capacity.map(|c| c as usize),
            || {
                format!(
                    "get_seat_map({id}) answered {} seats, expected {capacity:?}",
                    m.seats.len()
                )
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The field's type is prost-types' Timestamp, which this crate does not name.
    #[allow(clippy::default_trait_access)]
    fn event(id: u64) -> pb::Event {
        let mut event = pb::Event {
            id,
            name: "show".into(),
            category: pb::Category::Concert as i32,
            status: pb::EventStatus::OnSale as i32,
            start_time: Some(Default::default()),
            ..pb::Event::default()
        };
        if let Some(t) = event.start_time.as_mut() {
            t.seconds = 100 + i64::try_from(id).unwrap_or_default();
        }
        event
    }

    #[test]
    fn an_incomplete_event_fails_even_with_the_right_id() {
        assert!(complete(&event(1)));
        let mut e = event(1);
        e.start_time = None;
        assert!(!complete(&e));
        let mut e = event(1);
        e.category = pb::Category::Unspecified as i32;
        assert!(!complete(&e));
        let mut e = event(1);
        e.status = 42;
        assert!(!complete(&e));
    }

    /// The prost check of a GetEvent answer, as `get_event` makes it.
    fn decoded_ok(message: &[u8], id: u64, name: &str) -> bool {
        pb::GetEventResponse::decode(message).is_ok_and(|r| {
            r.event
                .is_some_and(|e| e.id == id && e.name == name && complete(&e))
        })
    }

    #[test]
    fn the_in_place_get_event_check_passes_only_what_prost_passes() {
        let mut e = event(7);
        e.name = "Ünïcode show".into();
        e.description = "a paragraph".into();
        e.performer_ids = vec![3, 300, 70_000];
        e.tags = vec!["rock".into(), "live".into()];
        e.min_price_cents = -5;
        e.max_price_cents = 9_000;
        e.currency = "EUR".into();
        e.venue_id = 12;
        let good = pb::GetEventResponse { event: Some(e) }.encode_to_vec();
        assert!(fast_get_event(&good, 7, "Ünïcode show"));
        assert!(decoded_ok(&good, 7, "Ünïcode show"));
        assert!(!fast_get_event(&good, 8, "Ünïcode show"));
        assert!(!fast_get_event(&good, 7, "Other show"));
        assert!(!fast_get_event(&[], 7, "Ünïcode show"));
        // Every truncation and every single-byte change: the walk never passes what
        // prost does not.
        for cut in 0..good.len() {
            let short = &good[..cut];
            assert!(
                !fast_get_event(short, 7, "Ünïcode show") || decoded_ok(short, 7, "Ünïcode show"),
                "cut at {cut}"
            );
        }
        for at in 0..good.len() {
            for byte in [0x00, 0x01, 0x02, 0x05, 0x07, 0x0a, 0x80, 0xff, 0xc3] {
                let mut changed = good.clone();
                changed[at] = byte;
                if fast_get_event(&changed, 7, "Ünïcode show") {
                    assert!(
                        decoded_ok(&changed, 7, "Ünïcode show"),
                        "byte {at} set to {byte:#x}"
                    );
                }
            }
        }
        // An unknown field is skipped, as prost skips it; a known one in the wrong wire
        // type fails.
        let mut extended = good.clone();
        extended.extend_from_slice(&[0xa0, 0x06, 0x01]);
        assert!(fast_get_event(&extended, 7, "Ünïcode show"));
        let mut wrong = good.clone();
        wrong.extend_from_slice(&[0x08, 0x07]);
        assert!(!fast_get_event(&wrong, 7, "Ünïcode show"));
        assert!(!decoded_ok(&wrong, 7, "Ünïcode show"));
        // A second event, which prost would merge into the first: left to prost.
        let mut twice = good;
        twice.extend_from_slice(&[0x0a, 0x02, 0x08, 0x07]);
        assert!(!fast_get_event(&twice, 7, "Ünïcode show"));
    }

    #[test]
    fn a_page_out_of_order_or_off_filter_fails() {
        let page = |events: Vec<pb::Event>| {
            pb::ListEventsResponse {
                events,
                next_page_token: String::new(),
            }
            .encode_to_vec()
        };
        let good = page(vec![event(1), event(2)]);
        let bad = page(vec![event(2), event(1)]);
        assert_eq!(list_events(&good, Category::Concert), Outcome::Ok);
        assert!(matches!(
            list_events(&bad, Category::Concert),
            Outcome::Failed(_)
        ));
        assert!(matches!(
            list_events(&good, Category::Sports),
            Outcome::Failed(_)
        ));
        assert!(matches!(
            list_events(b"\xff\xff", Category::Concert),
            Outcome::Failed(why) if why.contains("protobuf")
        ));
    }
}
