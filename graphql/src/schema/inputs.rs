//! Input types, and turning GraphQL arguments into domain requests.

use async_graphql::{ID, InputObject};
use domain::Error;

use super::types::Category;

/// Filters shared by `events` and `searchEvents`; every given field must match.
#[derive(InputObject, Default)]
pub struct EventFilter {
    /// Only this category.
    pub category: Option<Category>,
    /// Only events in this city (case-insensitive, whole name).
    pub city: Option<String>,
    /// Only events starting at or after this time.
    pub from: Option<domain::Timestamp>,
    /// Only events starting before this time.
    pub to: Option<domain::Timestamp>,
}

impl From<EventFilter> for domain::EventFilter {
    fn from(f: EventFilter) -> Self {
        domain::EventFilter {
            category: f.category.map(Into::into),
            city: f.city,
            from: f.from.map(domain::model::truncate_to_micros),
            to: f.to.map(domain::model::truncate_to_micros),
        }
    }
}

/// Who a booking is for.
#[derive(InputObject)]
pub struct CustomerInput {
    /// Full name, 1 to 100 characters.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Arguments of `holdSeats`.
#[derive(InputObject)]
pub struct HoldSeatsInput {
    /// The event.
    pub event_id: ID,
    /// 1 to 8 distinct seat ids.
    pub seat_ids: Vec<u32>,
    /// Who the hold is for.
    pub customer: CustomerInput,
    /// Makes a retried hold return the first booking instead of holding more.
    pub idempotency_key: Option<String>,
}

/// A numeric id from an `ID` argument.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field` if it is not a non-negative integer.
pub fn parse_id(field: &str, id: &ID) -> Result<u64, Error> {
    id.parse::<u64>().map_err(|_| {
        Error::invalid_argument(
            field,
            format!("must be a non-negative integer, got {:?}", id.as_str()),
        )
    })
}

/// A page size from a `first` argument (`None`: the default).
///
/// # Errors
/// `INVALID_ARGUMENT` naming `limit` for a negative value.
pub fn page_size(first: Option<i32>) -> Result<Option<u32>, Error> {
    first
        .map(|n| {
            u32::try_from(n).map_err(|_| Error::invalid_argument("limit", "must be at least 1"))
        })
        .transpose()
}

impl TryFrom<HoldSeatsInput> for domain::HoldRequest {
    type Error = Error;
    fn try_from(input: HoldSeatsInput) -> Result<Self, Error> {
        Ok(domain::HoldRequest {
            event_id: parse_id("event_id", &input.event_id)?.into(),
            seat_ids: input.seat_ids.into_iter().map(Into::into).collect(),
            customer: domain::Customer {
                name: input.customer.name,
                email: input.customer.email,
            },
            idempotency_key: input.idempotency_key,
        })
    }
}
