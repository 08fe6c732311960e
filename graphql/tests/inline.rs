//! Objects resolved inline (`schema::inline::Inline`) answer as async-graphql's executor
//! does: fields in selection order, aliases, `__typename`, fragments (spread and
//! inline), the same field selected twice with its sub-selections merged, and a failed
//! field reported with its path and left out of its object.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use domain::{
    Booking, BookingId, Event, EventDetail, EventId, EventPage, HoldRequest, ListEventsRequest,
    Performer, PerformerId, Result, SearchRequest, SearchResults, SeatMap, Service, Ticketing,
    Venue, VenueId,
};
use serde_json::{Value, json};

/// Posts `query` twice (the strict first run, then the cached document) and returns
/// both answers.
async fn twice(app: &axum::Router, query: &str) -> (Value, Value) {
    let body = json!({ "query": query });
    let (status, first) = common::post(app, &body).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{first}");
    let (_, second) = common::post(app, &body).await;
    (first, second)
}

/// The answer to `query` as the endpoint wrote it.
async fn raw_text(app: &axum::Router, query: &str) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({ "query": query }).to_string(),
        ))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn selections_resolve_in_order_with_aliases_fragments_and_merged_fields() {
    let service = common::service();
    let detail = service.get_event_detail(EventId(1)).await.unwrap();
    let app = common::app(service);
    let query = r#"{ event(id: "1") {
        key: id
        __typename
        ...Names
        venue { name }
        ... on Event { category venue { city } }
        ... { performers { __typename genre } }
        id
    } }
    fragment Names on Event { name currency }"#;
    let (first, second) = twice(&app, query).await;
    let event = &detail.event;
    let performers: Vec<Value> = detail
        .performers
        .iter()
        .map(|p| json!({"__typename": "Performer", "genre": p.genre}))
        .collect();
    let expected = json!({"data": {"event": {
        "key": event.id.to_string(),
        "__typename": "Event",
        "name": event.name,
        "currency": event.currency,
        "venue": {"name": detail.venue.name, "city": detail.venue.city},
        "category": event.category.as_str().to_uppercase(),
        "performers": performers,
        "id": event.id.to_string(),
    }}});
    assert_eq!(first, expected);
    assert_eq!(second, expected, "the cached document answers the same");
    // Order is part of the answer: keys come in selection order (read from the text,
    // since `serde_json::Value` sorts them).
    let text = raw_text(&app, query).await;
    let positions: Vec<usize> = [
        "\"key\"",
        "\"__typename\":\"Event\"",
        "\"name\"",
        "\"currency\"",
        "\"venue\"",
        "\"category\"",
        "\"performers\"",
        "\"id\"",
    ]
    .iter()
    .map(|key| {
        text.find(key)
            .unwrap_or_else(|| panic!("{key} missing from {text}"))
    })
    .collect();
    assert!(positions.is_sorted(), "keys out of selection order: {text}");
}

/// The service, except that every seat map is missing.
struct NoSeatMaps(Service);

#[async_trait]
impl Ticketing for NoSeatMaps {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.0.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.0.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.0.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.0.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.0.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.0.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        Err(domain::Error::not_found("seat map", id))
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        self.0.hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.0.get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.0.confirm_booking(id, expected_version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.0.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<domain::AvailabilityStream> {
        self.0.watch_availability(event_id, from_version).await
    }
}

#[tokio::test]
async fn a_failed_field_is_reported_with_its_path_and_its_siblings_answer() {
    let app = graphql::app(
        Arc::new(NoSeatMaps(common::service())),
        &graphql::Config::default(),
    );
    let (first, second) = twice(
        &app,
        r#"{ event(id: "2") { id seatMap { version } name } }"#,
    )
    .await;
    for answer in [first, second] {
        let event = &answer["data"]["event"];
        assert_eq!(event["id"], "2", "{answer}");
        assert!(event["name"].is_string(), "{answer}");
        assert!(
            event.get("seatMap").is_none(),
            "a failed non-null field is left out, as the executor does: {answer}"
        );
        let errors = answer["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{answer}");
        assert_eq!(errors[0]["path"], json!(["event", "seatMap"]), "{answer}");
        assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{answer}");
    }
}
