//! Objects written straight to JSON (`schema::inline::Render`, on the endpoint's path
//! `Engine::execute_raw`) answer byte for byte what the value tree answers: every
//! client document, and documents with aliases, `__typename`, fragments, `@skip` and
//! `@include`, a failed field, an unknown id; cached documents whose fragment spreads
//! were written out in place; a document whose fields share a response key (whose
//! objects async-graphql merges) keeps the value tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use async_graphql::{Request, Value, Variables};
use domain::{Service, Ticketing};
use graphql::prepared::Engine;
use serde_json::json;

fn engine(service: Service) -> Engine {
    Engine::new(
        Arc::new(service),
        &graphql::Config::default(),
        Arc::default(),
    )
}

fn request(query: &str, variables: &serde_json::Value) -> Request {
    Request::new(query).variables(Variables::from_json(variables.clone()))
}

/// Whether `value` has a part written as JSON text.
fn has_text(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Object(fields) => fields.values().any(has_text),
        Value::List(items) => items.iter().any(has_text),
        _ => false,
    }
}

/// Runs `query` as a value tree (the first run, which caches it), as text (a cache
/// hit), and as a value tree again; asserts all three write the same bytes and returns
/// the text run's response with its JSON.
async fn same_both_ways(
    engine: &Engine,
    operation: Option<&str>,
    query: &str,
    variables: &serde_json::Value,
) -> (async_graphql::Response, String) {
    let with_name = |r: Request| match operation {
        Some(name) => r.operation_name(name),
        None => r,
    };
    let tree = engine.execute(with_name(request(query, variables))).await;
    let raw = engine
        .execute_raw(with_name(request(query, variables)))
        .await;
    let tree_again = engine.execute(with_name(request(query, variables))).await;
    let tree = String::from_utf8(graphql::json::response(&tree).unwrap()).unwrap();
    let text = String::from_utf8(graphql::json::response(&raw).unwrap()).unwrap();
    let tree_again = String::from_utf8(graphql::json::response(&tree_again).unwrap()).unwrap();
    assert_eq!(text, tree, "{query}");
    assert_eq!(tree_again, tree, "{query}");
    // The text is what serde makes of the value tree, too.
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(parsed.is_object(), "{text}");
    (raw, text)
}

#[tokio::test]
async fn every_client_read_is_the_same_as_text_and_as_a_value_tree() {
    let service = common::service();
    let word = service
        .get_event(domain::EventId(3))
        .await
        .unwrap()
        .name
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let engine = engine(service);
    for (name, document) in graphql::client::documents::all() {
        let variables = match name {
            "ListEvents" => json!({"first": 7}),
            "SearchEvents" => json!({"query": word, "first": 5}),
            "GetEvent" | "GetEventDetail" | "GetVenue" | "GetPerformer" | "GetSeatMap" => {
                json!({"id": "3"})
            }
            // Mutations and bookings: covered by the conformance suite over HTTP.
            _ => continue,
        };
        let (raw, text) = same_both_ways(&engine, Some(name), &document, &variables).await;
        assert!(raw.errors.is_empty(), "{name}: {text}");
        assert!(text.len() > 100, "{name}: {text}");
        assert!(
            has_text(&raw.data),
            "{name} was not written as text: {text}"
        );
    }
}

#[tokio::test]
async fn selections_errors_and_directives_are_the_same_as_text() {
    let engine = engine(common::service());
    let queries = [
        (
            r#"query Q($yes: Boolean!, $no: Boolean!) { event(id: "5") {
                key: id __typename ...F
                ... on Event { startsAt tags performerIds }
                ... { status category }
                skipped: name @skip(if: $yes)
                kept: name @include(if: $yes)
                gone: description @include(if: $no)
                venue { __typename id name city country capacity sections { id name } }
                performers { id name genre bio __typename }
                availability { sectionId name priceCents total available __typename }
                maxPriceCents
            } }
            fragment F on Event { venueId minPriceCents currency }"#,
            json!({"yes": true, "no": false}),
        ),
        // A page and a search, each event written as text inside async-graphql's lists.
        (
            "{ events(first: 4) { edges { cursor node { id name venue { name } performers { name } } } pageInfo { hasNextPage } } }",
            json!({}),
        ),
        (
            r#"{ a: event(id: "1") { id } b: event(id: "2") { id name } }"#,
            json!({}),
        ),
        // A venue's sections as text: aliases, `__typename`, a fragment, two `rows`
        // fields under two keys (each answers the rows' merged selection, as the value
        // tree does), and an empty row selection after `@skip`.
        (
            r#"query S($yes: Boolean!) { venue(id: "1") { sections {
                __typename n: name ...SF rows { label __typename } r2: rows { seats }
            } } a: venue(id: "2") { sections { id rows { label @skip(if: $yes) } } } }
            fragment SF on Section { id priceCents }"#,
            json!({"yes": true}),
        ),
    ];
    for (query, variables) in queries {
        let (raw, text) = same_both_ways(&engine, None, query, &variables).await;
        assert!(has_text(&raw.data), "not written as text: {text}");
    }
    // An unknown event: null, and the error with its path.
    let (_, text) = same_both_ways(
        &engine,
        None,
        r#"{ event(id: "999999999") { id name } }"#,
        &json!({}),
    )
    .await;
    assert!(text.contains(r#""event":null"#), "{text}");
    assert!(text.contains(r#""path":["event"]"#), "{text}");
    assert!(text.contains("NOT_FOUND"), "{text}");
}

/// Cached documents have their fragment spreads written out in place
/// (`prepared::inline_fragments`): the first run (the document as parsed), the cached
/// runs as text and as a value tree all answer the same bytes, errors and their
/// locations included.
#[tokio::test]
async fn fragments_written_out_answer_the_same() {
    let engine = engine(common::service());
    let queries = [
        // Nested fragments, aliases inside them, `@skip`/`@include` inside them and on
        // spreads (a spread with a directive stays a spread), one fragment spread twice.
        (
            None,
            r#"query Q($yes: Boolean!, $no: Boolean!) { event(id: "4") {
                ...E
                ...D @include(if: $no)
                ...A @skip(if: $no)
                venue { ...V sections { ...S } }
                performers { ...P }
            } }
            fragment E on Event { id label: name ...M tags @skip(if: $yes) }
            fragment M on Event { minPriceCents maxPriceCents currency @include(if: $yes) }
            fragment V on Venue { id where: city name @skip(if: $yes) }
            fragment S on Section { id rows { label } }
            fragment P on Performer { id name }
            fragment D on Event { description }
            fragment A on Event { availability { sectionId available } }"#,
            json!({"yes": true, "no": false}),
        ),
        // A fragment on the root type, with a field that fails inside it: the error's
        // locations point into the fragment either way.
        (
            None,
            r#"{ ...R } fragment R on Query { event(id: "999999999") { id } ok: event(id: "2") { ...E2 } }
            fragment E2 on Event { name }"#,
            json!({}),
        ),
        // Two operations sharing a fragment, one chosen by name.
        (
            Some("Two"),
            r#"query One { event(id: "1") { ...F } }
            query Two { event(id: "2") { ...F venue { name } } }
            fragment F on Event { id name startsAt }"#,
            json!({}),
        ),
        // An inline fragment around a spread.
        (
            None,
            r#"{ event(id: "6") { ... on Event { ...F } ... { status } } } fragment F on Event { id }"#,
            json!({}),
        ),
    ];
    for (operation, query, variables) in &queries {
        let (_, text) = same_both_ways(&engine, *operation, query, variables).await;
        assert!(text.contains(r#""event""#), "{text}");
    }
    let (raw, text) = same_both_ways(&engine, None, queries[0].1, &queries[0].2).await;
    assert!(raw.errors.is_empty(), "{text}");
    assert!(has_text(&raw.data), "not written as text: {text}");
    // What the directives kept and dropped.
    assert!(
        text.contains(r#""label":"#) && text.contains(r#""where":"#),
        "{text}"
    );
    assert!(!text.contains(r#""tags""#), "{text}");
    assert!(text.contains(r#""currency""#), "{text}");
    assert!(!text.contains(r#""description""#), "{text}");
    assert!(text.contains(r#""availability""#), "{text}");
    assert!(text.contains(r#""performers":[{"id""#), "{text}");
    let (raw, text) = same_both_ways(&engine, None, queries[1].1, &json!({})).await;
    assert_eq!(raw.errors.len(), 1, "{text}");
    assert!(
        text.contains(r#""locations":[{"line":1,"column":32}]"#),
        "{text}"
    );
}

#[tokio::test]
async fn fields_that_share_a_response_key_keep_the_value_tree() {
    let engine = engine(common::service());
    let queries = [
        // The same object field twice: async-graphql merges the two selections.
        r#"{ event(id: "1") { venue { name } venue { city } } }"#,
        r#"{ event(id: "1") { id ...F } } fragment F on Event { id name }"#,
        r#"{ event(id: "1") { id } event(id: "1") { name } }"#,
    ];
    for query in queries {
        let (raw, text) = same_both_ways(&engine, None, query, &json!({})).await;
        assert!(raw.errors.is_empty(), "{text}");
        assert!(!has_text(&raw.data), "written as text: {text}");
    }
    // The merge itself: both halves of the selection are there.
    let (_, text) = same_both_ways(
        &engine,
        None,
        r#"{ event(id: "2") { venue { name } venue { city } } }"#,
        &json!({}),
    )
    .await;
    assert!(
        text.contains(r#""name""#) && text.contains(r#""city""#),
        "{text}"
    );
}
