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
pub fn get_event(message: &[u8], plan: &Plan, id: EventId) -> Outcome {
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
