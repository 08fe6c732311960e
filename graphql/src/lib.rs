//! GraphQL transport for `domain::Ticketing` (not built yet: see issue 5).
//!
//! It will hold the async-graphql `schema(service)`, its axum `app`, `serve`, `DataLoader`s,
//! one error-mapping module, and a reqwest `Client` that implements `domain::Ticketing`.
//! Until then this crate is intentionally empty.
