//! Handlers, one module per resource. Each handler parses its input, calls the API (the
//! `SharedTicketing` in the router's state) and converts the answer; nothing here
//! decides behaviour.

pub mod availability;
pub mod bookings;
pub mod events;
pub mod health;
pub mod performers;
pub mod venues;

/// Shorthand for every handler's result.
pub type ApiResult<T> = Result<T, crate::error::ApiError>;
