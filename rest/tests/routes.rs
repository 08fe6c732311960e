//! Every route and every kind of bad input, through the router with `oneshot` (no
//! socket): status, content type, our stable `code`, and the body against the OpenAPI
//! document's schema for that route and status.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::{EventStatus, Ticketing};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Asserts a documented 2xx JSON answer and returns its body.
async fn ok(app: &Router, request: Request<Body>, template: &str, status: u16) -> Reply {
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let reply = send(app, request).await;
    assert_eq!(
        reply.status.as_u16(),
        status,
        "{method} {uri}: {}",
        reply.body
    );
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/json",
        "{method} {uri}"
    );
    common::assert_documented(&method, template, status, "application/json", &reply.body);
    reply
}

/// Asserts a problem+json answer with `status` and `code`, documented for the route when
/// `template` names one, and returns the problem.
async fn problem(
    app: &Router,
    request: Request<Body>,
    template: Option<&str>,
    status: u16,
    code: &str,
) -> Value {
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let reply = send(app, request).await;
    assert_eq!(
        reply.status.as_u16(),
        status,
        "{method} {uri}: {}",
        reply.body
    );
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{method} {uri}"
    );
    assert_eq!(reply.body["code"], code, "{method} {uri}: {}", reply.body);
    assert_eq!(reply.body["status"], status);
    assert!(
        reply.body["type"]
            .as_str()
            .unwrap()
            .starts_with("/problems/")
    );
    assert!(!reply.body["title"].as_str().unwrap().is_empty());
    assert!(!reply.body["detail"].as_str().unwrap().is_empty());
    if let Some(template) = template {
        common::assert_documented(
            &method,
            template,
            status,
            "application/problem+json",
            &reply.body,
        );
    }
    reply.body
}

fn on_sale_event(service: &domain::Service) -> u64 {
    let data = service.store().catalog().dataset();
    data.events
        .iter()
        .find(|e| {
            e.status == EventStatus::OnSale
                && data.venues[(e.venue_id.0 - 1) as usize].capacity >= 20
        })
        .unwrap()
        .id
        .0
}

fn hold_body(event_id: u64, seats: &[u32]) -> Value {
    json!({"event_id": event_id, "seat_ids": seats, "customer": {"name": "Ada", "email": "ada@example.org"}})
}

#[tokio::test]
async fn reads_answer_documented_json() {
    let service = common::service();
    let app = common::app(service.clone());
    let health = ok(&app, get("/healthz"), "/healthz", 200).await;
    assert_eq!(health.body, json!({"status": "ok"}));
    let event = ok(&app, get("/v1/events/1"), "/v1/events/{id}", 200).await;
    let expected = service.get_event(domain::EventId(1)).await.unwrap();
    assert_eq!(event.body["name"], expected.name);
    assert_eq!(
        event.body["starts_at"],
        expected
            .starts_at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    ok(
        &app,
        get("/v1/events/1/detail"),
        "/v1/events/{id}/detail",
        200,
    )
    .await;
    let seats = ok(
        &app,
        get("/v1/events/1/seats"),
        "/v1/events/{id}/seats",
        200,
    )
    .await;
    assert!(!seats.body["seats"].as_array().unwrap().is_empty());
    ok(&app, get("/v1/venues/1"), "/v1/venues/{id}", 200).await;
    ok(&app, get("/v1/performers/1"), "/v1/performers/{id}", 200).await;
    let page = ok(
        &app,
        get("/v1/events?limit=5&category=concert"),
        "/v1/events",
        200,
    )
    .await;
    assert_eq!(page.body["events"].as_array().unwrap().len(), 5);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let next = ok(
        &app,
        get(&format!(
            "/v1/events?limit=5&category=concert&cursor={cursor}"
        )),
        "/v1/events",
        200,
    )
    .await;
    assert_ne!(next.body["events"][0]["id"], page.body["events"][0]["id"]);
    let city = service.store().catalog().dataset().venues[0]
        .city
        .replace(' ', "%20");
    ok(
        &app,
        get(&format!(
            "/v1/events?city={city}&from=2027-03-01T00:00:00Z&to=2028-01-01T00:00:00Z"
        )),
        "/v1/events",
        200,
    )
    .await;
    let hits = ok(
        &app,
        get("/v1/events/search?q=live&limit=3"),
        "/v1/events/search",
        200,
    )
    .await;
    assert_eq!(hits.body["hits"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn bad_reads_are_problems() {
    let app = common::app(common::service());
    let p = problem(
        &app,
        get("/v1/events/0"),
        Some("/v1/events/{id}"),
        404,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(
        (p["resource"].as_str(), p["id"].as_str()),
        (Some("event"), Some("0"))
    );
    let p = problem(
        &app,
        get("/v1/events/abc"),
        Some("/v1/events/{id}"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    assert_eq!(p["field"], "id");
    problem(
        &app,
        get("/v1/events/99999999999999999999"),
        Some("/v1/events/{id}"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    problem(
        &app,
        get("/v1/venues/0"),
        Some("/v1/venues/{id}"),
        404,
        "NOT_FOUND",
    )
    .await;
    problem(
        &app,
        get("/v1/performers/x"),
        Some("/v1/performers/{id}"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    problem(
        &app,
        get("/v1/events/0/seats"),
        Some("/v1/events/{id}/seats"),
        404,
        "NOT_FOUND",
    )
    .await;
    problem(
        &app,
        get("/v1/events/0/detail"),
        Some("/v1/events/{id}/detail"),
        404,
        "NOT_FOUND",
    )
    .await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("category=opera", "category"),
        ("from=yesterday", "from"),
        ("to=2027-13-01T00:00:00Z", "to"),
        ("cursor=forged", "cursor"),
        ("from=2027-05-01T00:00:00Z&to=2027-04-01T00:00:00Z", "to"),
    ] {
        let p = problem(
            &app,
            get(&format!("/v1/events?{query}")),
            Some("/v1/events"),
            400,
            "INVALID_ARGUMENT",
        )
        .await;
        assert_eq!(p["field"], field, "{query}");
    }
    let p = problem(
        &app,
        get("/v1/events?limit=101"),
        Some("/v1/events"),
        400,
        "LIMIT_EXCEEDED",
    )
    .await;
    assert_eq!(
        (p["what"].as_str(), p["limit"].as_u64()),
        (Some("page size"), Some(100))
    );
    let p = problem(
        &app,
        get("/v1/events/search"),
        Some("/v1/events/search"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    assert_eq!(p["field"], "q");
    let p = problem(
        &app,
        get("/v1/events/search?q=%21%21"),
        Some("/v1/events/search"),
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    assert_eq!(p["field"], "query");
    let long = "a".repeat(201);
    let p = problem(
        &app,
        get(&format!("/v1/events/search?q={long}")),
        Some("/v1/events/search"),
        400,
        "LIMIT_EXCEEDED",
    )
    .await;
    assert_eq!(p["limit"], 200);
}

#[tokio::test]
async fn booking_lifecycle_with_etags() {
    let service = common::service();
    let app = common::app(service.clone());
    let event = on_sale_event(&service);
    let created = ok(
        &app,
        post_json("/v1/bookings", &hold_body(event, &[3, 4])),
        "/v1/bookings",
        201,
    )
    .await;
    let id = created.body["id"].as_u64().unwrap();
    assert_eq!(
        created.headers[header::LOCATION],
        format!("/v1/bookings/{id}")
    );
    assert_eq!(created.headers[header::ETAG], "\"1\"");
    assert_eq!(created.body["status"], "held");

    let fetched = ok(
        &app,
        get(&format!("/v1/bookings/{id}")),
        "/v1/bookings/{id}",
        200,
    )
    .await;
    assert_eq!(fetched.headers[header::ETAG], "\"1\"");
    assert_eq!(fetched.body, created.body);

    let confirm = format!("/v1/bookings/{id}/confirm");
    let template = Some("/v1/bookings/{id}/confirm");
    let no_if_match = Request::post(&confirm).body(Body::empty()).unwrap();
    let p = problem(&app, no_if_match, template, 428, "INVALID_ARGUMENT").await;
    assert_eq!(p["field"], "if-match");
    let weak = Request::post(&confirm)
        .header(header::IF_MATCH, "W/\"1\"")
        .body(Body::empty())
        .unwrap();
    problem(&app, weak, template, 400, "INVALID_ARGUMENT").await;
    let stale = Request::post(&confirm)
        .header(header::IF_MATCH, "\"9\"")
        .body(Body::empty())
        .unwrap();
    let p = problem(&app, stale, template, 412, "VERSION_MISMATCH").await;
    assert_eq!(
        (p["expected_version"].as_u64(), p["actual_version"].as_u64()),
        (Some(9), Some(1))
    );
    let good = Request::post(&confirm)
        .header(header::IF_MATCH, "\"1\"")
        .body(Body::empty())
        .unwrap();
    let confirmed = ok(&app, good, "/v1/bookings/{id}/confirm", 200).await;
    assert_eq!(confirmed.headers[header::ETAG], "\"2\"");
    assert_eq!(confirmed.body["status"], "confirmed");
    let again = Request::post(&confirm)
        .header(header::IF_MATCH, "\"2\"")
        .body(Body::empty())
        .unwrap();
    problem(&app, again, template, 409, "INVALID_STATE").await;

    let cancel = Request::post(format!("/v1/bookings/{id}/cancel"))
        .body(Body::empty())
        .unwrap();
    let cancelled = ok(&app, cancel, "/v1/bookings/{id}/cancel", 200).await;
    assert_eq!(cancelled.headers[header::ETAG], "\"3\"");
    let twice = Request::post(format!("/v1/bookings/{id}/cancel"))
        .body(Body::empty())
        .unwrap();
    problem(
        &app,
        twice,
        Some("/v1/bookings/{id}/cancel"),
        409,
        "INVALID_STATE",
    )
    .await;
    problem(
        &app,
        get("/v1/bookings/123456789"),
        Some("/v1/bookings/{id}"),
        404,
        "NOT_FOUND",
    )
    .await;
}

fn confirm_with(id: u64, if_match: Option<&str>) -> Request<Body> {
    let mut request = Request::post(format!("/v1/bookings/{id}/confirm"));
    if let Some(value) = if_match {
        request = request.header(header::IF_MATCH, value);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn if_match_star_confirms_whatever_the_current_version_is() {
    let service = common::service();
    let app = common::app(service.clone());
    let event = on_sale_event(&service);
    let template = Some("/v1/bookings/{id}/confirm");
    let created = ok(
        &app,
        post_json("/v1/bookings", &hold_body(event, &[5, 6])),
        "/v1/bookings",
        201,
    )
    .await;
    let id = created.body["id"].as_u64().unwrap();

    // Missing If-Match is still 428, and changes nothing.
    let p = problem(
        &app,
        confirm_with(id, None),
        template,
        428,
        "INVALID_ARGUMENT",
    )
    .await;
    assert_eq!(p["field"], "if-match");
    let held = service.get_booking(domain::BookingId(id)).await.unwrap();
    assert_eq!(
        (held.status, held.version),
        (domain::BookingStatus::Held, 1)
    );

    // `*` matches the current representation, whatever its version.
    let confirmed = ok(
        &app,
        confirm_with(id, Some("*")),
        "/v1/bookings/{id}/confirm",
        200,
    )
    .await;
    assert_eq!(confirmed.body["status"], "confirmed");
    assert_eq!(confirmed.headers[header::ETAG], "\"2\"");
    let stored = service.get_booking(domain::BookingId(id)).await.unwrap();
    assert_eq!(
        (stored.status, stored.version),
        (domain::BookingStatus::Confirmed, 2)
    );

    // `*` is no way around the state machine: a confirmed booking is not held.
    problem(
        &app,
        confirm_with(id, Some("*")),
        template,
        409,
        "INVALID_STATE",
    )
    .await;
    // Nor around existence (RFC 9110 13.2.1: without a resource, the 404 stands).
    problem(
        &app,
        confirm_with(987_654_321, Some("*")),
        template,
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_if_match_is_400_and_a_missing_one_428() {
    let service = common::service();
    let app = common::app(service.clone());
    let event = on_sale_event(&service);
    let template = Some("/v1/bookings/{id}/confirm");
    let created = ok(
        &app,
        post_json("/v1/bookings", &hold_body(event, &[9])),
        "/v1/bookings",
        201,
    )
    .await;
    let id = created.body["id"].as_u64().unwrap();
    problem(
        &app,
        confirm_with(id, None),
        template,
        428,
        "INVALID_ARGUMENT",
    )
    .await;
    // Only the canonical spelling of a version is one of our ETags.
    for bad in [
        "1",
        "W/\"1\"",
        "\"01\"",
        "\"+1\"",
        "\"1\", \"2\"",
        "**",
        "\"*\"",
    ] {
        let p = problem(
            &app,
            confirm_with(id, Some(bad)),
            template,
            400,
            "INVALID_ARGUMENT",
        )
        .await;
        assert_eq!(p["field"], "if-match", "{bad}");
    }
    let stored = service.get_booking(domain::BookingId(id)).await.unwrap();
    assert_eq!(
        (stored.status, stored.version),
        (domain::BookingStatus::Held, 1)
    );
}

/// JSON Schema (and so the document) counts `3.0` as the integer 3; schemathesis sent
/// such a body and got 400. Integral numbers are integers; fractions are not.
#[tokio::test]
async fn integral_numbers_in_a_hold_are_integers() {
    let service = common::service();
    let app = common::app(service.clone());
    let event = on_sale_event(&service);
    let body = json!({"event_id": event as f64, "seat_ids": [12.0, 1.3e1], "customer": {"name": "Ada", "email": "ada@example.org"}});
    let created = ok(&app, post_json("/v1/bookings", &body), "/v1/bookings", 201).await;
    assert_eq!(created.body["seat_ids"], json!([12, 13]));
    assert_eq!(created.body["event_id"], event);
    let template = Some("/v1/bookings");
    for (body, field) in [
        (
            json!({"event_id": event, "seat_ids": [14.5], "customer": {"name": "A", "email": "a@b.co"}}),
            "seat_ids[0]",
        ),
        (
            json!({"event_id": event, "seat_ids": [15, -1], "customer": {"name": "A", "email": "a@b.co"}}),
            "seat_ids[1]",
        ),
        (
            json!({"event_id": event, "seat_ids": [4_294_967_296u64], "customer": {"name": "A", "email": "a@b.co"}}),
            "seat_ids[0]",
        ),
        (
            json!({"event_id": 1.5, "seat_ids": [16], "customer": {"name": "A", "email": "a@b.co"}}),
            "event_id",
        ),
        (
            json!({"event_id": -1.0, "seat_ids": [16], "customer": {"name": "A", "email": "a@b.co"}}),
            "event_id",
        ),
        (
            json!({"event_id": 1e20, "seat_ids": [16], "customer": {"name": "A", "email": "a@b.co"}}),
            "event_id",
        ),
    ] {
        let p = problem(
            &app,
            post_json("/v1/bookings", &body),
            template,
            400,
            "INVALID_ARGUMENT",
        )
        .await;
        assert_eq!(p["field"], field, "{body}");
    }
    // Equal numbers are the same seat, for uniqueness too.
    let twice = json!({"event_id": event, "seat_ids": [17, 17.0], "customer": {"name": "A", "email": "a@b.co"}});
    let p = problem(
        &app,
        post_json("/v1/bookings", &twice),
        template,
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    assert_eq!(p["field"], "seat_ids");
    assert_eq!(service.store().bookings_of(domain::EventId(event)).len(), 1);
}

#[tokio::test]
async fn idempotency_key_makes_a_retry_return_the_first_booking() {
    let service = common::service();
    let app = common::app(service.clone());
    let event = on_sale_event(&service);
    let request = || {
        Request::post("/v1/bookings")
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "order-42")
            .body(Body::from(hold_body(event, &[7]).to_string()))
            .unwrap()
    };
    let first = ok(&app, request(), "/v1/bookings", 201).await;
    let retry = ok(&app, request(), "/v1/bookings", 201).await;
    assert_eq!(first.body, retry.body);
    assert_eq!(service.store().bookings_of(domain::EventId(event)).len(), 1);
    let bad_key = Request::post("/v1/bookings")
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", "has space")
        .body(Body::from(hold_body(event, &[8]).to_string()))
        .unwrap();
    let p = problem(&app, bad_key, Some("/v1/bookings"), 400, "INVALID_ARGUMENT").await;
    assert_eq!(p["field"], "idempotency_key");
}

#[tokio::test]
async fn bad_holds_are_problems_naming_the_field() {
    let service = common::service();
    let app = common::app(service.clone());
    let event = on_sale_event(&service);
    let template = Some("/v1/bookings");
    let cases = [
        (
            json!({"event_id": event, "seat_ids": [1], "customer": {"name": "A"}}),
            "customer.email",
        ),
        (
            json!({"event_id": event, "seat_ids": [1, "x"], "customer": {"name": "A", "email": "a@b.co"}}),
            "seat_ids[1]",
        ),
        (
            json!({"event_id": "one", "seat_ids": [1], "customer": {"name": "A", "email": "a@b.co"}}),
            "event_id",
        ),
        (
            json!({"seat_ids": [1], "customer": {"name": "A", "email": "a@b.co"}}),
            "event_id",
        ),
        (
            json!({"event_id": event, "seat_ids": [1], "customer": {"name": "A", "email": "nope"}}),
            "customer.email",
        ),
        (
            json!({"event_id": event, "seat_ids": [], "customer": {"name": "A", "email": "a@b.co"}}),
            "seat_ids",
        ),
        (
            json!({"event_id": event, "seat_ids": [1, 1], "customer": {"name": "A", "email": "a@b.co"}}),
            "seat_ids",
        ),
    ];
    for (body, field) in cases {
        let p = problem(
            &app,
            post_json("/v1/bookings", &body),
            template,
            400,
            "INVALID_ARGUMENT",
        )
        .await;
        assert_eq!(p["field"], field, "{body}");
    }
    let unknown = json!({"event_id": event, "seat_ids": [1], "customer": {"name": "A", "email": "a@b.co"}, "vip": true});
    problem(
        &app,
        post_json("/v1/bookings", &unknown),
        template,
        400,
        "INVALID_ARGUMENT",
    )
    .await;
    let malformed = Request::post("/v1/bookings")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"event_id\": 1,"))
        .unwrap();
    let p = problem(&app, malformed, template, 400, "INVALID_ARGUMENT").await;
    assert_eq!(p["field"], "body");
    let text = Request::post("/v1/bookings")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(hold_body(event, &[1]).to_string()))
        .unwrap();
    let p = problem(&app, text, template, 415, "INVALID_ARGUMENT").await;
    assert_eq!(p["field"], "content-type");
    let no_type = Request::post("/v1/bookings")
        .body(Body::from(hold_body(event, &[1]).to_string()))
        .unwrap();
    problem(&app, no_type, template, 415, "INVALID_ARGUMENT").await;
    let huge = Request::post("/v1/bookings")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b' '; (1 << 20) + 1]))
        .unwrap();
    let p = problem(&app, huge, template, 413, "LIMIT_EXCEEDED").await;
    assert_eq!(
        (p["what"].as_str(), p["limit"].as_u64()),
        (Some("request body"), Some(1 << 20))
    );
    let nine = hold_body(event, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let p = problem(
        &app,
        post_json("/v1/bookings", &nine),
        template,
        400,
        "LIMIT_EXCEEDED",
    )
    .await;
    assert_eq!(p["limit"], 8);
    problem(
        &app,
        post_json("/v1/bookings", &hold_body(0, &[1])),
        template,
        404,
        "NOT_FOUND",
    )
    .await;
    ok(
        &app,
        post_json("/v1/bookings", &hold_body(event, &[1, 2])),
        "/v1/bookings",
        201,
    )
    .await;
    let p = problem(
        &app,
        post_json("/v1/bookings", &hold_body(event, &[2, 3])),
        template,
        409,
        "SEATS_UNAVAILABLE",
    )
    .await;
    assert_eq!(p["seats"], json!([2]));
    // None of the refused holds changed anything.
    let bookings = service.store().bookings_of(domain::EventId(event));
    assert_eq!(bookings.len(), 1);
}

#[tokio::test]
async fn the_body_limit_comes_from_the_config() {
    let service = common::service();
    let event = on_sale_event(&service);
    let config = rest::Config::with_server(netkit::ServerConfig {
        max_request_bytes: 64,
        ..netkit::ServerConfig::default()
    });
    let app = rest::app(std::sync::Arc::new(service), &config);
    let body = hold_body(event, &[1]);
    assert!(body.to_string().len() > 64);
    let p = problem(
        &app,
        post_json("/v1/bookings", &body),
        Some("/v1/bookings"),
        413,
        "LIMIT_EXCEEDED",
    )
    .await;
    assert_eq!(
        (p["what"].as_str(), p["limit"].as_u64()),
        (Some("request body"), Some(64))
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = common::app(common::service());
    let p = problem(&app, get("/v1/nothing-here"), None, 404, "NOT_FOUND").await;
    assert_eq!(
        (p["resource"].as_str(), p["id"].as_str()),
        (Some("route"), Some("/v1/nothing-here"))
    );
    let delete = Request::delete("/v1/events/1").body(Body::empty()).unwrap();
    let p = problem(&app, delete, None, 405, "INVALID_ARGUMENT").await;
    assert_eq!(p["field"], "method");
    let put = Request::put("/v1/bookings").body(Body::empty()).unwrap();
    problem(&app, put, None, 405, "INVALID_ARGUMENT").await;
}

#[tokio::test]
async fn openapi_and_docs_are_served() {
    let app = common::app(common::service());
    let reply = send(&app, get("/openapi.json")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/v1/events",
        "/v1/events/search",
        "/v1/events/{id}",
        "/v1/events/{id}/detail",
        "/v1/events/{id}/seats",
        "/v1/events/{id}/availability/stream",
        "/v1/venues/{id}",
        "/v1/performers/{id}",
        "/v1/bookings",
        "/v1/bookings/{id}",
        "/v1/bookings/{id}/confirm",
        "/v1/bookings/{id}/cancel",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let docs = app.clone().oneshot(get("/docs/")).await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        docs.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn responses_are_compressed_on_request() {
    let app = common::app(common::service());
    for encoding in ["gzip", "zstd"] {
        let request = Request::get("/v1/events/1/seats")
            .header(header::ACCEPT_ENCODING, encoding)
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], encoding);
    }
}

#[test]
fn the_schema_check_catches_a_body_that_breaks_the_document() {
    let wrong = json!({"id": "seven", "name": "x"});
    let errors =
        common::documented_errors("GET", "/v1/events/{id}", 200, "application/json", &wrong);
    assert!(errors.len() >= 2, "{errors:?}");
    let problem = json!({"type": "/problems/x", "title": "t", "status": 400, "detail": "d"});
    let errors = common::documented_errors(
        "GET",
        "/v1/events/{id}",
        404,
        "application/problem+json",
        &problem,
    );
    assert!(
        errors.iter().any(|e| e.contains("code")),
        "a problem without code must fail: {errors:?}"
    );
}
