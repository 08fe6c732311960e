//! REST through its whole router (extractors, fallbacks, middleware), as a server would
//! call it: input is an HTTP/1.1 request (any method, path, query, headers and body
//! that hyper accepts), sent with `oneshot` to `rest::app` over a fresh in-memory
//! service. Asserts: no panic (a caught handler panic is a 500, refused too), no 5xx,
//! a readable body of at most 16 MiB, JSON bodies that parse, and every 4xx answer in
//! problem+json.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use http::Method;
use http::header::CONTENT_TYPE;
use libfuzzer_sys::fuzz_target;
use quartet_fuzz::fixture::Resettable;
use quartet_fuzz::{http_input, runtime};

fn setup() -> &'static (Arc<Resettable>, Router) {
    static SETUP: OnceLock<(Arc<Resettable>, Router)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let api = Arc::new(Resettable::default());
        let router = rest::app(api.clone(), &rest::Config::default());
        (api, router)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = http_input::parse_request(data) else {
        return;
    };
    let (api, router) = setup();
    api.reset();
    let method = request.method().clone();
    let answer = runtime::block_on(http_input::call(router.clone(), request));
    http_input::check_answer(&method, &answer);
    if answer.status.is_client_error() && method != Method::HEAD {
        let content_type = answer.headers.get(CONTENT_TYPE);
        assert_eq!(
            content_type.and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{} without a problem body",
            answer.status
        );
    }
});
