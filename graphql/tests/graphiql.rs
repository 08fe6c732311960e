//! GraphiQL from the binary: the page refers to no other host, every file it loads is
//! served with its content type and cache policy (and is the vendored file, byte for
//! byte), and the requests GraphiQL makes work with the server's limits, with
//! introspection on or off.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use graphql::Config;
use graphql::graphiql::{ASSETS, ASSETS_PREFIX};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// The introspection query GraphiQL 3.9.0 sends on load (graphql-js 16.9.0's
/// `getIntrospectionQuery` with GraphiQL's default options).
const GRAPHIQL_INTROSPECTION: &str = include_str!("fixtures/graphiql-introspection.graphql");

async fn get(app: &axum::Router, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

/// The values of every `src="..."` and `href="..."` attribute in `html`.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in [" src=\"", " href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("an attribute value is closed");
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

fn expected_content_type(path: &str) -> &'static str {
    match std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
    {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

#[tokio::test]
async fn the_page_loads_nothing_from_another_host() {
    let app = common::app(common::service());
    let (status, headers, body) = get(&app, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    let html = String::from_utf8(body).unwrap();
    assert!(!html.contains("://"), "the page names a URL with a host");
    let references = references(&html);
    let scripts_and_styles: Vec<&String> = references
        .iter()
        .filter(|r| r.starts_with(ASSETS_PREFIX))
        .collect();
    // React, ReactDOM, GraphiQL, the start-up script, and GraphiQL's stylesheet.
    assert_eq!(scripts_and_styles.len(), 5, "{references:?}");
    for reference in &references {
        assert!(
            !reference.contains("//")
                && (reference.starts_with(ASSETS_PREFIX) || reference.starts_with("data:")),
            "{reference} is not served by this server"
        );
    }
    for reference in scripts_and_styles {
        let (status, headers, body) = get(&app, reference).await;
        assert_eq!(status, StatusCode::OK, "{reference}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            expected_content_type(reference),
            "{reference}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!body.is_empty(), "{reference}");
    }
}

#[tokio::test]
async fn every_asset_is_the_vendored_file_with_its_cache_policy() {
    let app = common::app(common::service());
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/graphiql/");
    for asset in ASSETS {
        let url = format!("{ASSETS_PREFIX}{}", asset.path);
        let (status, headers, body) = get(&app, &url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            expected_content_type(asset.path),
            "{url}"
        );
        let on_disk = std::fs::read(format!("{directory}{}", asset.path)).unwrap();
        assert!(body == on_disk, "{url} differs from the file in assets/");
        let cache = headers[header::CACHE_CONTROL].to_str().unwrap();
        if asset.path.starts_with("quartet-") {
            assert_eq!(cache, "no-cache", "{url}: not versioned, so revalidated");
        } else {
            assert_eq!(cache, "public, max-age=31536000, immutable", "{url}");
        }
    }
    // Every vendored package ships its licence beside it.
    for package in ["graphiql-3.9.0", "react-18.3.1", "react-dom-18.3.1"] {
        let licence = format!("{package}/LICENSE");
        assert!(
            ASSETS.iter().any(|a| a.path == licence),
            "{licence} is not served"
        );
    }
}

#[tokio::test]
async fn an_unknown_asset_is_a_not_found_error() {
    let app = common::app(common::service());
    for path in [
        "/graphql/assets/nope.js",
        "/graphql/assets/graphiql-3.9.0/graphiql.min.js.map",
        "/graphql/assets/../Cargo.toml",
        "/graphql/assets/%2e%2e/src/lib.rs",
    ] {
        let (status, _, body) = get(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(common::code(&body), "NOT_FOUND", "{path}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["resource"], "asset");
    }
}

#[tokio::test]
async fn graphiqls_introspection_query_passes_every_limit() {
    let app = common::app(common::service());
    let (status, body) = common::post(
        &app,
        &json!({"query": GRAPHIQL_INTROSPECTION, "operationName": "IntrospectionQuery"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["errors"].is_null(), "{}", body["errors"]);
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Event"));
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn graphiql_still_runs_queries_with_introspection_off() {
    let config = Config {
        introspection: false,
        ..Config::default()
    };
    let app = graphql::app(Arc::new(common::service()), &config);
    let (status, _, _) = get(&app, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = common::post(
        &app,
        &json!({"query": GRAPHIQL_INTROSPECTION, "operationName": "IntrospectionQuery"}),
    )
    .await;
    assert!(
        body["data"]["__schema"]["types"].as_array().is_none(),
        "introspection answered: {body}"
    );
    // What GraphiQL sends for a query typed into it: the text, no persisted-query hash.
    let (status, body) = common::post(
        &app,
        &json!({"query": "{ event(id: \"1\") { name } }", "variables": null, "operationName": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["data"]["event"]["name"].is_string(), "{body}");
}
