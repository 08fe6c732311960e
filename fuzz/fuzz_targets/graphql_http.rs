//! The GraphQL HTTP layer through its whole router: input is an HTTP/1.1 request (any
//! method, path, query, headers and body that hyper accepts), sent with `oneshot` to
//! `graphql::app` over a fresh in-memory service. Asserts: no panic, no 5xx, a
//! readable body of at most 16 MiB, and JSON bodies that parse.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use libfuzzer_sys::fuzz_target;
use quartet_fuzz::fixture::Resettable;
use quartet_fuzz::{http_input, runtime};

fn setup() -> &'static (Arc<Resettable>, Router) {
    static SETUP: OnceLock<(Arc<Resettable>, Router)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let api = Arc::new(Resettable::default());
        let router = graphql::app(api.clone(), &graphql::Config::default());
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
});
