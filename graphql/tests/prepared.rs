//! The fast paths, proved safe and proved fast: the prepared-document cache (a hit never
//! lets a bad request through; an invalid document is never cached; limits still apply;
//! the cache is bounded), the domain calls each resolver makes (counted per operation),
//! the batches of a page, and the seat list built without per-field resolvers.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use domain::{
    Booking, BookingId, Event, EventDetail, EventId, EventPage, HoldRequest, ListEventsRequest,
    Performer, PerformerId, Result, SearchRequest, SearchResults, SeatMap, Service, Ticketing,
    Venue, VenueId,
};
use graphql::Config;
use graphql::app::{AppState, router};
use serde_json::{Value, json};

/// A `Ticketing` that counts calls per operation.
struct Counting {
    inner: Service,
    calls: Mutex<BTreeMap<&'static str, usize>>,
    /// Whether `get_event_detail` answers its performers in reverse order (a detail that
    /// does not line up with the event's performer ids).
    reverse_detail: std::sync::atomic::AtomicBool,
}

impl Counting {
    fn new() -> Self {
        Counting {
            inner: common::service(),
            calls: Mutex::default(),
            reverse_detail: std::sync::atomic::AtomicBool::new(false),
        }
    }
    fn count(&self, name: &'static str) {
        *self.calls.lock().unwrap().entry(name).or_default() += 1;
    }
    /// The calls so far, and a fresh count.
    fn take(&self) -> BTreeMap<&'static str, usize> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

#[async_trait]
impl Ticketing for Counting {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.count("get_event");
        self.inner.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.count("list_events");
        self.inner.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.count("search_events");
        self.inner.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.count("get_event_detail");
        let mut detail = self.inner.get_event_detail(id).await?;
        if self
            .reverse_detail
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            detail.performers.reverse();
        }
        Ok(detail)
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.count("get_venue");
        self.inner.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.count("get_performer");
        self.inner.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.count("get_seat_map");
        self.inner.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        self.count("hold_seats");
        self.inner.hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.count("get_booking");
        self.inner.get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.count("confirm_booking");
        self.inner.confirm_booking(id, expected_version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.count("cancel_booking");
        self.inner.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<domain::AvailabilityStream> {
        self.count("watch_availability");
        self.inner.watch_availability(event_id, from_version).await
    }
}

fn counted(config: &Config) -> (Arc<Counting>, AppState, axum::Router) {
    let api = Arc::new(Counting::new());
    let state = AppState::new(api.clone(), config);
    let app = router(state.clone());
    (api, state, app)
}

/// Posts `body` and returns the response text as sent.
async fn post_text(app: &axum::Router, body: &Value) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn calls(list: &[(&'static str, usize)]) -> BTreeMap<&'static str, usize> {
    list.iter().copied().collect()
}

#[tokio::test]
async fn a_cached_document_still_refuses_bad_variables() {
    let (_, state, app) = counted(&Config::default());
    let query = "query E($id: ID!) { event(id: $id) { name } }";
    let list = "query L($first: Int, $filter: EventFilter) { events(first: $first, filter: $filter) { edges { node { id } } } }";
    let (_, ok) = common::post(&app, &json!({"query": query, "variables": {"id": "1"}})).await;
    assert!(ok["data"]["event"]["name"].is_string(), "{ok}");
    let (_, ok) = common::post(&app, &json!({"query": list, "variables": {"first": 2}})).await;
    assert!(ok["errors"].is_null(), "{ok}");
    assert_eq!(state.engine().stats().documents, 2, "both documents cached");
    let bad = [
        (query, json!({"id": null})),
        (query, json!({"id": true})),
        (query, json!({"id": {"nested": 1}})),
        (query, json!({})),
        (list, json!({"first": "ten"})),
        (list, json!({"first": 1.5})),
        (list, json!({"filter": {"category": "OPERA"}})),
        (list, json!({"filter": {"nope": 1}})),
        (list, json!({"filter": "COMEDY"})),
    ];
    for (document, variables) in bad {
        let (_, body) =
            common::post(&app, &json!({"query": document, "variables": variables})).await;
        assert_eq!(
            common::code(&body),
            "GRAPHQL_VALIDATION_FAILED",
            "{variables}: {body}"
        );
        assert!(body["data"].is_null(), "{variables}: {body}");
    }
    // A fresh server refuses them the same way (the first, uncached, run).
    for (document, variables) in [
        (query, json!({"id": true})),
        (list, json!({"first": "ten"})),
    ] {
        let (_, _, fresh) = counted(&Config::default());
        let (_, body) =
            common::post(&fresh, &json!({"query": document, "variables": variables})).await;
        assert_eq!(common::code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
}

#[tokio::test]
async fn a_document_that_fails_validation_is_never_cached() {
    let (api, state, app) = counted(&Config::default());
    for query in [
        "{ event(id: \"1\") { nope } }",
        "{ event(id: \"1\") { name ",
        "query($first: Int) { events(first: $first) { edges { cursor } } }",
        "{ venue { name } }",
        "query Q($unused: Int) { event(id: \"1\") { name } }",
    ] {
        for _ in 0..2 {
            let (_, body) = common::post(
                &app,
                &json!({"query": query, "variables": {"first": "ten"}}),
            )
            .await;
            assert_eq!(
                common::code(&body),
                "GRAPHQL_VALIDATION_FAILED",
                "{query}: {body}"
            );
        }
    }
    assert_eq!(state.engine().stats().documents, 0);
    assert!(api.take().is_empty(), "nothing reached the domain");
}

#[tokio::test]
async fn limits_apply_to_cache_hits_with_their_own_variables() {
    let (_, state, app) = counted(&Config::default());
    // 40 fields per event: 40 events fit the complexity limit (3 000), 100 do not.
    let mut fields = String::new();
    for i in 0..40 {
        write!(fields, " f{i}: id").unwrap();
    }
    let query = format!(
        "query($first: Int) {{ events(first: $first) {{ edges {{ node {{{fields} }} }} }} }}"
    );
    let (_, small) = common::post(&app, &json!({"query": query, "variables": {"first": 40}})).await;
    assert!(small["errors"].is_null(), "{small}");
    assert_eq!(state.engine().stats().documents, 1);
    let (_, big) = common::post(&app, &json!({"query": query, "variables": {"first": 100}})).await;
    assert_eq!(common::code(&big), "LIMIT_EXCEEDED", "{big}");
    assert!(big["data"].is_null(), "{big}");
    // Too deep never validates, so is never cached, and is refused every time.
    let config = Config {
        max_depth: 3,
        ..Config::default()
    };
    let (_, state, app) = counted(&config);
    let deep = "{ event(id: \"1\") { venue { sections { rows { label } } } } }";
    for _ in 0..2 {
        let (_, body) = common::post(&app, &json!({"query": deep})).await;
        assert_eq!(common::code(&body), "LIMIT_EXCEEDED", "{body}");
    }
    assert_eq!(state.engine().stats().documents, 0);
}

#[tokio::test]
async fn the_cache_is_bounded_in_documents_and_bytes() {
    let config = Config {
        document_cache: 3,
        ..Config::default()
    };
    let (_, state, app) = counted(&config);
    for i in 1..=5 {
        let query = format!("{{ event(id: \"{i}\") {{ name }} }}");
        let (_, body) = common::post(&app, &json!({"query": query})).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    assert_eq!(state.engine().stats().documents, 3);
    let config = Config {
        document_cache_bytes: 100,
        ..Config::default()
    };
    let (_, state, app) = counted(&config);
    for i in 1..=5 {
        let query = format!("{{ event(id: \"{i}\") {{ name description }} }}");
        let (_, body) = common::post(&app, &json!({"query": query})).await;
        assert!(body["errors"].is_null(), "{body}");
        assert!(state.engine().stats().bytes <= 100);
    }
    assert_eq!(state.engine().stats().documents, 2);
}

#[tokio::test]
async fn each_resolver_makes_the_domain_calls_it_needs_and_no_more() {
    let (api, _, app) = counted(&Config::default());
    let cases: Vec<(String, Value, BTreeMap<&'static str, usize>)> = vec![
        (
            graphql::client::documents::get_event(),
            json!({"id": "1"}),
            calls(&[("get_event", 1)]),
        ),
        (
            // Event, venue, performers and availability: the one detail call.
            graphql::client::documents::get_event_detail(),
            json!({"id": "1"}),
            calls(&[("get_event_detail", 1)]),
        ),
        (
            "query($id: ID!) { event(id: $id) { availability { available } } }".into(),
            json!({"id": "1"}),
            calls(&[("get_event_detail", 1)]),
        ),
        (
            // The event (one cheap read), then its seats.
            graphql::client::documents::get_seat_map(),
            json!({"id": "1"}),
            calls(&[("get_event", 1), ("get_seat_map", 1)]),
        ),
        (
            graphql::client::documents::get_venue(),
            json!({"id": "1"}),
            calls(&[("get_venue", 1)]),
        ),
        (
            graphql::client::documents::list_events(),
            json!({"first": 5}),
            calls(&[("list_events", 1)]),
        ),
    ];
    for (query, variables, expected) in cases {
        // Twice: the first run (strict) and the cached one make the same calls.
        for _ in 0..2 {
            let (_, body) =
                common::post(&app, &json!({"query": query, "variables": variables})).await;
            assert!(body["errors"].is_null(), "{query}: {body}");
            assert_eq!(api.take(), expected, "{query}");
        }
    }
}

/// `event` fetched with its detail answers its performers in the event's order whether
/// or not the detail's list lines up with the event's ids (the resolver lends the
/// detail's list only when it does).
#[tokio::test]
async fn detail_performers_follow_the_event_order() {
    let (api, _, app) = counted(&Config::default());
    // An event with at least two distinct performers.
    let mut id = 1;
    let order = loop {
        let event = api.inner.get_event(EventId(id)).await.unwrap();
        let mut distinct = event.performer_ids.clone();
        distinct.dedup();
        if distinct.len() >= 2 {
            break event.performer_ids;
        }
        id += 1;
    };
    let body = json!({
        "query": "query D($id: ID!) { event(id: $id) { performerIds performers { id } venue { id } } }",
        "variables": {"id": id.to_string()},
    });
    let straight = post_text(&app, &body).await;
    api.reverse_detail
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let reversed = post_text(&app, &body).await;
    assert_eq!(reversed, straight);
    let ids: Vec<String> = order
        .iter()
        .map(|p| format!(r#"{{"id":"{}"}}"#, p.0))
        .collect();
    assert!(
        straight.contains(&format!(r#""performers":[{}]"#, ids.join(","))),
        "{straight}"
    );
}

#[tokio::test]
async fn a_page_of_events_loads_venues_and_performers_in_one_batch_each() {
    let (api, state, app) = counted(&Config::default());
    let query =
        "{ events(first: 100) { edges { node { id venue { name city } performers { name } } } } }";
    for _ in 0..2 {
        let before = state.loader_calls().snapshot();
        let (_, body) = common::post(&app, &json!({"query": query})).await;
        assert!(body["errors"].is_null(), "{body}");
        let edges = body["data"]["events"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 100);
        assert!(edges.iter().all(|e| e["node"]["venue"]["name"].is_string()));
        let after = state.loader_calls().snapshot();
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (1, 1),
            "one venue batch and one performer batch"
        );
        // Each distinct venue and performer is fetched once.
        let page = api
            .inner
            .list_events(ListEventsRequest {
                limit: Some(100),
                ..ListEventsRequest::default()
            })
            .await
            .unwrap();
        let venues: HashSet<u64> = page.events.iter().map(|e| e.venue_id.0).collect();
        let performers: HashSet<u64> = page
            .events
            .iter()
            .flat_map(|e| e.performer_ids.iter().map(|p| p.0))
            .collect();
        assert_eq!(
            api.take(),
            calls(&[
                ("list_events", 1),
                ("get_venue", venues.len()),
                ("get_performer", performers.len()),
            ])
        );
    }
}

#[tokio::test]
async fn the_seat_list_honours_the_selection() {
    let service = common::service();
    let map = service.get_seat_map(EventId(1)).await.unwrap();
    let app = common::app(service);
    let query = "query($id: ID!) { event(id: $id) { seatMap { seats { ...Where s: seatId __typename ... on Seat { state s: seatId } } } } } fragment Where on Seat { row number }";
    for _ in 0..2 {
        let raw = post_text(&app, &json!({"query": query, "variables": {"id": "1"}})).await;
        // Keys in selection order (fragment fields where the spread is).
        let first = &raw[raw.find("\"seats\":[{").unwrap()..];
        let first = &first[..first.find('}').unwrap()];
        let at = |key: &str| first.find(&format!("\"{key}\":")).unwrap();
        assert!(at("row") < at("number") && at("number") < at("s"));
        assert!(
            at("s") < at("__typename") && at("__typename") < at("state"),
            "{first}"
        );
        let body: Value = serde_json::from_str(&raw).unwrap();
        assert!(body["errors"].is_null(), "{body}");
        let seats = body["data"]["event"]["seatMap"]["seats"]
            .as_array()
            .unwrap();
        assert_eq!(seats.len(), map.seats.len());
        for (json, seat) in seats.iter().zip(&map.seats) {
            assert_eq!(json.as_object().unwrap().len(), 5);
            assert_eq!(json["row"], seat.row);
            assert_eq!(json["number"], seat.number);
            assert_eq!(json["s"], seat.seat_id.0);
            assert_eq!(json["__typename"], "Seat");
            let state = match seat.state {
                domain::SeatState::Available => "AVAILABLE",
                domain::SeatState::Held => "HELD",
                domain::SeatState::Sold => "SOLD",
            };
            assert_eq!(json["state"], state);
        }
    }
}

#[tokio::test]
async fn venue_sections_honour_the_selection_and_merge_fields() {
    let service = common::service();
    let venue = service.get_venue(VenueId(1)).await.unwrap();
    let app = common::app(service);
    let query = "{ venue(id: \"1\") { sections { n: name rows { label } ...S __typename } } } fragment S on Section { id rows { seats __typename } }";
    let (_, body) = common::post(&app, &json!({"query": query})).await;
    assert!(body["errors"].is_null(), "{body}");
    let sections = body["data"]["venue"]["sections"].as_array().unwrap();
    assert_eq!(sections.len(), venue.sections.len());
    for (json, section) in sections.iter().zip(&venue.sections) {
        assert_eq!(json.as_object().unwrap().len(), 4);
        assert_eq!(json["n"], section.name);
        assert_eq!(json["id"], section.id);
        assert_eq!(json["__typename"], "Section");
        let rows = json["rows"].as_array().unwrap();
        assert_eq!(rows.len(), section.rows.len());
        for (json, row) in rows.iter().zip(&section.rows) {
            // `rows { label }` and the fragment's `rows { seats __typename }` merge.
            assert_eq!(json.as_object().unwrap().len(), 3);
            assert_eq!(json["label"], row.label);
            assert_eq!(json["seats"], row.seats);
            assert_eq!(json["__typename"], "Row");
        }
    }
}

#[tokio::test]
async fn the_seat_list_is_the_same_as_a_value_tree_and_as_rendered_text() {
    let service = common::service();
    let api: domain::SharedTicketing = Arc::new(service);
    let engine = graphql::prepared::Engine::new(api, &Config::default(), Arc::default());
    let query = "{ event(id: \"1\") { seatMap { version seats { __typename a: state seatId row number priceCents sectionId } } } }";
    let tree = engine.execute(async_graphql::Request::new(query)).await;
    let raw = engine.execute_raw(async_graphql::Request::new(query)).await;
    let tree = graphql::json::response(&tree).unwrap();
    let raw = graphql::json::response(&raw).unwrap();
    assert!(tree.len() > 1_000);
    assert_eq!(
        String::from_utf8(tree).unwrap(),
        String::from_utf8(raw).unwrap()
    );
}
