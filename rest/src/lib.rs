//! REST/JSON transport for `domain::Ticketing` (not built yet: see issue 3).
//!
//! It will hold an axum `app(service) -> Router`, `serve(listener, service, shutdown)`,
//! routes per resource, one problem+json error module, and a reqwest `Client` that
//! implements `domain::Ticketing`. Until then this crate is intentionally empty.
