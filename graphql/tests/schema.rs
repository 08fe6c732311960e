//! The schema as a client sees it: the committed SDL, the client's documents, every
//! limit, batching, persisted queries, errors, and the HTTP endpoint's edges.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::EventStatus;
use graphql::Config;
use graphql::app::{AppState, router};
use serde_json::{Value, json};
use tower::ServiceExt;

fn state() -> AppState {
    state_with(common::service(), &Config::default())
}

fn state_with(service: domain::Service, config: &Config) -> AppState {
    AppState::new(Arc::new(service), config)
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

#[test]
fn the_committed_sdl_matches_the_code() {
    let sdl = state().schema().sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "graphql/schema.graphql is out of date; review the change and run \
         `UPDATE_SCHEMA=1 cargo test -p graphql --test schema` to rewrite it"
    );
}

#[tokio::test]
async fn every_client_document_validates_against_the_schema() {
    let state = state();
    let variables = |name: &str| match name {
        "ListEvents" => json!({}),
        "SearchEvents" => json!({"query": "live"}),
        "HoldSeats" => {
            json!({"input": {"eventId": "1", "seatIds": [999_999], "customer": {"name": "A", "email": "a@b.co"}}})
        }
        "ConfirmBooking" => json!({"id": "1", "expectedVersion": 1}),
        _ => json!({"id": "1"}),
    };
    for (name, document) in graphql::client::documents::all() {
        let request = async_graphql::Request::new(document)
            .operation_name(name)
            .variables(async_graphql::Variables::from_json(variables(name)));
        let response = state.schema().execute(request).await;
        for error in &response.errors {
            // Domain errors (an unknown booking, a seat that does not exist) are fine;
            // a document the schema rejects is not.
            let has_code = error
                .extensions
                .as_ref()
                .is_some_and(|e| e.get("code").is_some());
            assert!(has_code, "{name} does not validate: {}", error.message);
        }
    }
}

#[tokio::test]
async fn limits_refuse_the_query_before_anything_runs() {
    let service = common::service();
    let app = router(state_with(service.clone(), &Config::default()));
    let event = on_sale_event(&service);

    // Depth 16 (introspection is the only way to nest this deep in this schema).
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(11),
        "} ".repeat(11)
    );
    let deep = deep.as_str();
    let (status, body) = common::post(&app, &json!({"query": deep})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(common::code(&body), "LIMIT_EXCEEDED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["what"], "query depth");
    assert!(body["data"].is_null(), "nothing may execute: {body}");

    // An alias bomb: 100 aliases of the (expensive) seat map.
    let mut aliases = String::new();
    for i in 0..100 {
        write!(
            aliases,
            "a{i}: event(id: \"1\") {{ seatMap {{ version }} }} "
        )
        .unwrap();
    }
    let (_, body) = common::post(&app, &json!({"query": format!("{{ {aliases} }}")})).await;
    assert_eq!(common::code(&body), "LIMIT_EXCEEDED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["what"], "query complexity");
    assert!(body["data"].is_null());

    // An over-complex query: a page of 100 seat maps.
    let complex =
        "{ events(first: 100) { edges { node { seatMap { seats { seatId state } } } } } }";
    let (_, body) = common::post(&app, &json!({"query": complex})).await;
    assert_eq!(common::code(&body), "LIMIT_EXCEEDED", "{body}");

    // A directive flood on one field.
    let flood: String = (0..20).map(|_| "@include(if: true) ").collect();
    let (_, body) = common::post(
        &app,
        &json!({"query": format!("{{ event(id: \"1\") {{ name {flood} }} }}")}),
    )
    .await;
    assert!(!body["errors"].as_array().unwrap().is_empty(), "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert_ne!(common::code(&body), "<none>");

    // An oversized batch: eleven holds, of which none may run.
    let hold = json!({"query": format!("mutation {{ holdSeats(input: {{eventId: \"{event}\", seatIds: [1], customer: {{name: \"A\", email: \"a@b.co\"}}}}) {{ id }} }}")});
    let batch: Vec<Value> = (0..11).map(|_| hold.clone()).collect();
    let (status, body) = common::post(&app, &Value::Array(batch)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(common::code(&body), "LIMIT_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["what"], "batch size");
    assert!(
        service
            .store()
            .bookings_of(domain::EventId(event))
            .is_empty()
    );

    // A query document over the size limit.
    let padding = " ".repeat(Config::default().max_query_bytes);
    let (status, body) = common::post(
        &app,
        &json!({"query": format!("{{ event(id: \"1\") {{ name }} }}{padding}")}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["extensions"]["what"],
        "query size (bytes)"
    );
}

#[tokio::test]
async fn bad_documents_and_variables_are_validation_errors() {
    let app = common::app(common::service());
    for (query, variables) in [
        ("{ event(id: \"1\") { name ", json!({})),
        ("{ event(id: \"1\") { nope } }", json!({})),
        (
            "query($first: Int) { events(first: $first) { edges { cursor } } }",
            json!({"first": "ten"}),
        ),
        ("{ venue { name } }", json!({})),
    ] {
        let (status, body) =
            common::post(&app, &json!({"query": query, "variables": variables})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            common::code(&body),
            "GRAPHQL_VALIDATION_FAILED",
            "{query}: {body}"
        );
        assert!(body["data"].is_null());
    }
}

#[tokio::test]
async fn a_page_of_events_loads_venues_and_performers_in_one_batch_each() {
    let state = state_with(common::service(), &Config::default());
    let app = router(state.clone());
    let before = state.loader_calls().snapshot();
    let query =
        "{ events(first: 100) { edges { node { id venue { name city } performers { name } } } } }";
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
    assert_eq!(state.loader_calls().venues.load(Ordering::Relaxed), after.0);
}

#[tokio::test]
async fn persisted_queries_miss_then_hit() {
    let app = common::app(common::service());
    let query = "query Name($id: ID!) { event(id: $id) { name } }";
    let hash = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(query.as_bytes()))
    };
    let extensions = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let (_, miss) = common::post(
        &app,
        &json!({"variables": {"id": "1"}, "extensions": extensions}),
    )
    .await;
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");
    let (_, register) = common::post(
        &app,
        &json!({"query": query, "variables": {"id": "1"}, "extensions": extensions}),
    )
    .await;
    assert!(register["data"]["event"]["name"].is_string(), "{register}");
    let (_, hit) = common::post(
        &app,
        &json!({"variables": {"id": "2"}, "extensions": extensions}),
    )
    .await;
    assert!(hit["data"]["event"]["name"].is_string(), "{hit}");
}

#[tokio::test]
async fn domain_errors_carry_codes_and_a_failed_mutation_changes_nothing() {
    let service = common::service();
    let app = router(state_with(service.clone(), &Config::default()));
    let event = on_sale_event(&service);
    let hold = |seats: &str, email: &str| json!({"query": format!("mutation {{ holdSeats(input: {{eventId: \"{event}\", seatIds: {seats}, customer: {{name: \"A\", email: \"{email}\"}}}}) {{ id version }} }}")});
    let (_, body) = common::post(&app, &hold("[1, 2]", "not-an-email")).await;
    assert_eq!(common::code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "customer.email");
    assert!(
        service
            .store()
            .bookings_of(domain::EventId(event))
            .is_empty(),
        "the failed mutation held seats"
    );

    let (_, body) = common::post(&app, &hold("[1, 2]", "a@b.co")).await;
    assert!(body["errors"].is_null(), "{body}");
    // Booking ids are unguessable, so the confirm below names the one this hold got.
    let booking = body["data"]["holdSeats"]["id"].clone();
    let (_, body) = common::post(&app, &hold("[2, 3]", "a@b.co")).await;
    assert_eq!(common::code(&body), "SEATS_UNAVAILABLE");
    assert_eq!(body["errors"][0]["extensions"]["seats"], json!([2]));

    let (_, body) = common::post(
        &app,
        &json!({
            "query": "mutation($id: ID!) { confirmBooking(id: $id, expectedVersion: 9) { id } }",
            "variables": {"id": booking},
        }),
    )
    .await;
    assert_eq!(common::code(&body), "VERSION_MISMATCH");
    assert_eq!(body["errors"][0]["extensions"]["actualVersion"], "1");
    let (_, body) = common::post(
        &app,
        &json!({"query": "{ events(first: 101) { edges { cursor } } }"}),
    )
    .await;
    assert_eq!(common::code(&body), "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn the_endpoint_speaks_graphql_over_http() {
    let app = common::app(common::service());
    let graphiql = app
        .clone()
        .oneshot(Request::get("/graphql").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(graphiql.status(), StatusCode::OK);
    assert!(
        graphiql.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    let request = |accept: &str, query: &str| {
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(Body::from(json!({"query": query}).to_string()))
            .unwrap()
    };
    let ok = app
        .clone()
        .oneshot(request(
            graphql::http::GRAPHQL_RESPONSE_JSON,
            "{ event(id: \"1\") { name } }",
        ))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        ok.headers()[header::CONTENT_TYPE],
        graphql::http::GRAPHQL_RESPONSE_JSON
    );
    let invalid = app
        .clone()
        .oneshot(request(graphql::http::GRAPHQL_RESPONSE_JSON, "{ nope }"))
        .await
        .unwrap();
    assert_eq!(
        invalid.status(),
        StatusCode::BAD_REQUEST,
        "a request that never ran is a 400 in graphql-response+json"
    );

    let (status, body) = common::post_raw(&app, "text/plain", b"{}".to_vec()).await;
    assert_eq!(
        (status, common::code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_USER_INPUT")
    );
    let (status, body) = common::post_raw(&app, "application/json", b"{not json".to_vec()).await;
    assert_eq!(
        (status, common::code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_USER_INPUT")
    );
    let (status, body) =
        common::post_raw(&app, "application/json", vec![b' '; (1 << 20) + 1]).await;
    assert_eq!(
        (status, common::code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "LIMIT_EXCEEDED")
    );
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let config = Config {
        introspection: false,
        ..Config::default()
    };
    let app = graphql::app(Arc::new(common::service()), &config);
    let (_, body) = common::post(&app, &json!({"query": "{ __schema { types { name } } }"})).await;
    assert!(
        body["data"]["__schema"]["types"].as_array().is_none(),
        "introspection answered: {body}"
    );
    let on = common::app(common::service());
    let (_, body) = common::post(&on, &json!({"query": "{ __schema { types { name } } }"})).await;
    assert!(
        body["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn a_missing_thing_is_null_with_a_not_found_error_at_its_path() {
    let app = common::app(common::service());
    for (field, resource) in [
        ("event", "event"),
        ("venue", "venue"),
        ("performer", "performer"),
        ("booking", "booking"),
    ] {
        let query = format!("{{ {field}(id: \"999999999\") {{ id }} }}");
        let (status, body) = common::post(&app, &json!({"query": query})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let data = body["data"]
            .as_object()
            .unwrap_or_else(|| panic!("data is an object: {body}"));
        assert!(
            data.contains_key(field) && data[field].is_null(),
            "data.{field} must be present and null: {body}"
        );
        let errors = body["errors"].as_array().expect("errors is a list");
        assert_eq!(errors.len(), 1, "{body}");
        let error = &errors[0];
        assert_eq!(error["path"], json!([field]), "{body}");
        assert_eq!(
            error["extensions"],
            json!({"code": "NOT_FOUND", "resource": resource, "id": "999999999"}),
            "{body}"
        );
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(error["locations"].is_array(), "{body}");
    }
}

#[tokio::test]
async fn one_missing_thing_leaves_the_other_fields_data_in_place() {
    let app = common::app(common::service());
    let query = r#"{ found: event(id: "1") { id name } missing: venue(id: "999999999") { id } }"#;
    let (status, body) = common::post(&app, &json!({"query": query})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["found"]["id"], "1", "{body}");
    assert!(body["data"]["found"]["name"].is_string(), "{body}");
    assert!(
        body["data"]
            .as_object()
            .is_some_and(|d| d.contains_key("missing") && d["missing"].is_null()),
        "{body}"
    );
    let errors = body["errors"].as_array().expect("errors is a list");
    assert_eq!(errors.len(), 1, "exactly one error: {body}");
    assert_eq!(errors[0]["path"], json!(["missing"]));
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(errors[0]["extensions"]["resource"], "venue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_maps_the_not_found_error_back() {
    use domain::{BookingId, EventId, PerformerId, Ticketing, VenueId};
    let server = common::spawn(common::service()).await;
    let client = graphql::Client::new(&common::endpoint(&server)).unwrap();
    let missing = 999_999_999;
    let errors = [
        client.get_event(EventId(missing)).await.unwrap_err(),
        client.get_event_detail(EventId(missing)).await.unwrap_err(),
        client.get_seat_map(EventId(missing)).await.unwrap_err(),
        client.get_venue(VenueId(missing)).await.unwrap_err(),
        client
            .get_performer(PerformerId(missing))
            .await
            .unwrap_err(),
        client.get_booking(BookingId(missing)).await.unwrap_err(),
    ];
    let resources = ["event", "event", "event", "venue", "performer", "booking"];
    for (error, resource) in errors.into_iter().zip(resources) {
        assert_eq!(error, domain::Error::not_found(resource, missing));
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_refused_argument_on_a_nullable_field_is_null_plus_the_error() {
    let app = common::app(common::service());
    let query = r#"{ bad: performer(id: "not-a-number") { id } good: venue(id: "1") { id } }"#;
    let (status, body) = common::post(&app, &json!({"query": query})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["data"]
            .as_object()
            .is_some_and(|d| d.contains_key("bad") && d["bad"].is_null()),
        "{body}"
    );
    assert_eq!(body["data"]["good"]["id"], "1", "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(common::code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["path"], json!(["bad"]));
}
