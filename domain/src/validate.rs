//! Argument checks, done once here so every transport rejects the same inputs with the
//! same error. Checks that need the catalogue (unknown ids, seats past the venue's
//! capacity) happen in the store instead.

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{Customer, EventFilter, HoldRequest};

/// Longest customer name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest e-mail address, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 64;
/// Longest city filter, in characters.
pub const MAX_CITY_CHARS: usize = 100;

/// Resolves an optional page size against the limits.
///
/// # Errors
/// `INVALID_ARGUMENT` for 0; `LIMIT_EXCEEDED` above the maximum page size.
pub fn page_size(limit: Option<u32>, limits: &Limits) -> Result<usize> {
    match limit {
        None => Ok(limits.default_page_size as usize),
        Some(0) => Err(Error::invalid_argument("limit", "must be at least 1")),
        Some(n) if n > limits.max_page_size => {
            Err(Error::limit_exceeded("page size", limits.max_page_size))
        }
        Some(n) => Ok(n as usize),
    }
}

/// Checks a filter's city and date range.
///
/// # Errors
/// `INVALID_ARGUMENT` for an empty or overlong city, or `from` not before `to`.
pub fn filter(filter: &EventFilter) -> Result<()> {
    if let Some(city) = &filter.city {
        if city.trim().is_empty() {
            return Err(Error::invalid_argument("city", "must not be empty"));
        }
        if city.chars().count() > MAX_CITY_CHARS {
            return Err(Error::invalid_argument(
                "city",
                format!("must be at most {MAX_CITY_CHARS} characters"),
            ));
        }
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        return Err(Error::invalid_argument("to", "must be after from"));
    }
    Ok(())
}

/// Checks a search query's length (its words are checked by the index).
///
/// # Errors
/// `INVALID_ARGUMENT` for a blank query; `LIMIT_EXCEEDED` above the maximum length.
pub fn query(query: &str, limits: &Limits) -> Result<()> {
    if query.chars().count() > limits.max_query_chars {
        return Err(Error::limit_exceeded(
            "query length",
            limits.max_query_chars as u64,
        ));
    }
    if query.trim().is_empty() {
        return Err(Error::invalid_argument("query", "must not be empty"));
    }
    Ok(())
}

/// Checks everything about a hold that does not need the catalogue.
///
/// # Errors
/// `INVALID_ARGUMENT` for no seats, duplicate seats, a bad customer or idempotency key;
/// `LIMIT_EXCEEDED` for more seats than allowed.
pub fn hold(request: &HoldRequest, limits: &Limits) -> Result<()> {
    if request.seat_ids.is_empty() {
        return Err(Error::invalid_argument(
            "seat_ids",
            "must name at least one seat",
        ));
    }
    if request.seat_ids.len() > limits.max_seats_per_hold as usize {
        return Err(Error::limit_exceeded(
            "seats per hold",
            limits.max_seats_per_hold,
        ));
    }
    let mut sorted = request.seat_ids.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::invalid_argument(
            "seat_ids",
            "must not repeat a seat",
        ));
    }
    customer(&request.customer)?;
    if let Some(key) = &request.idempotency_key {
        idempotency_key(key)?;
    }
    Ok(())
}

/// Checks a customer's name and e-mail shape.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `customer.name` or `customer.email`.
pub fn customer(customer: &Customer) -> Result<()> {
    let name = customer.name.trim();
    if name.is_empty() {
        return Err(Error::invalid_argument(
            "customer.name",
            "must not be empty",
        ));
    }
    if customer.name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid_argument(
            "customer.name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if customer.name.chars().any(char::is_control) {
        return Err(Error::invalid_argument(
            "customer.name",
            "must not contain control characters",
        ));
    }
    if !is_plausible_email(&customer.email) {
        return Err(Error::invalid_argument(
            "customer.email",
            "must look like local@domain.tld",
        ));
    }
    Ok(())
}

/// A shape check, not RFC 5322: one `@`, a non-empty local part, a dotted domain whose
/// labels are non-empty, no whitespace or control characters, at most 254 bytes.
fn is_plausible_email(email: &str) -> bool {
    if email.len() > MAX_EMAIL_BYTES || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// Checks an idempotency key: 1 to 64 bytes of printable ASCII.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `idempotency_key`.
pub fn idempotency_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_BYTES {
        return Err(Error::invalid_argument(
            "idempotency_key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} characters"),
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_argument(
            "idempotency_key",
            "must be printable ASCII without spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        for ok in ["a@b.co", "first.last+tag@example.org"] {
            assert!(is_plausible_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@@b.co", "a@b..co", "a b@c.de", "a@b.co.", "a@.b",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn page_size_bounds() {
        let limits = Limits::default();
        assert_eq!(page_size(None, &limits), Ok(20));
        assert_eq!(page_size(Some(100), &limits), Ok(100));
        assert_eq!(
            page_size(Some(0), &limits).unwrap_err().code(),
            crate::ErrorCode::InvalidArgument
        );
        assert_eq!(
            page_size(Some(101), &limits).unwrap_err().code(),
            crate::ErrorCode::LimitExceeded
        );
    }
}
