//! `quartet bench --auth`, the authentication axis: every API server runs with a
//! development verification key, and every load client sends a bearer token for one
//! customer, so what is measured is what a secured deployment pays per request (the token
//! read and checked, the booking's owner compared).
//!
//! - [`BenchAuth`]: the key written into the run's folder (`auth/key`), the `--auth-key`
//!   flag every API server child gets, and the token, minted with the `book` scope for
//!   [`CUSTOMER_EMAIL`].
//! - [`ClientAuth`]: what the clients need of it: the token and the customer.
//!
//! The write scenarios' workers make their holds for the token's customer instead of
//! each worker's own (`scenario::Worker::as_customer`), so a hold is allowed and the
//! bookings it makes are the token's to confirm or cancel (holding for anyone else is
//! PERMISSION_DENIED, reading or cancelling anyone else's booking NOT_FOUND).
//!
//! Rate limits stay off (no `--rate-per-*` flag reaches the servers): a benchmark that
//! hits its own limiter measures the limiter. The floors get no key: they answer
//! prepared bytes, and stay the same floor whatever the axis.

use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::Customer;

/// The one customer every worker of an `--auth` run books for (the token's `sub`).
pub const CUSTOMER_EMAIL: &str = "bench@bench.example";
/// That customer's name on the bookings.
pub const CUSTOMER_NAME: &str = "Bench Customer";

/// How long the run's token is valid: longer than any suite (a sweep over sizes, links
/// and CPU sets runs for hours), short enough that a leaked development token dies.
pub const TOKEN_TTL: Duration = Duration::from_secs(7 * 86_400);

/// What the clients of an `--auth` run need: the token and the customer it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    /// The bearer token (a JWT signed with the run's key, scope `book`).
    pub token: String,
    /// The customer the token names: every hold is made for this one.
    pub customer: Customer,
}

/// The run's key and token.
#[derive(Debug, Clone)]
pub struct BenchAuth {
    /// The HS256 key file every API server child gets as `--auth-key`.
    pub key_file: PathBuf,
    /// The token and customer the clients use.
    pub client: ClientAuth,
}

impl BenchAuth {
    /// Writes a fresh key to `dir/key` (replacing one a reused `--out` left there) and
    /// mints the run's token with it.
    ///
    /// # Errors
    /// A sentence naming the file that cannot be written or read back, or a token that
    /// cannot be signed.
    pub fn write(dir: &Path) -> std::result::Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let key_file = dir.join("key");
        std::fs::write(&key_file, domain::auth::AuthKey::generate_text())
            .map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
        let key = domain::auth::AuthKey::from_file(&key_file)?;
        let token =
            domain::auth::mint(&key, CUSTOMER_EMAIL, &[domain::auth::SCOPE_BOOK], TOKEN_TTL)?;
        Ok(BenchAuth {
            key_file,
            client: ClientAuth {
                token,
                customer: customer(),
            },
        })
    }

    /// The flags an API server child gets: `--auth-key FILE`.
    pub fn server_flags(&self) -> Vec<String> {
        vec!["--auth-key".to_owned(), self.key_file.display().to_string()]
    }
}

/// The customer of [`CUSTOMER_EMAIL`].
pub fn customer() -> Customer {
    Customer {
        name: CUSTOMER_NAME.to_owned(),
        email: CUSTOMER_EMAIL.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_verifies_the_token_it_minted() {
        let dir = std::env::temp_dir().join(format!("quartet-bench-auth-{}", std::process::id()));
        let auth = BenchAuth::write(&dir).unwrap();
        // A second run into the same folder replaces the key rather than failing.
        let auth = BenchAuth::write(&dir).map(|again| (auth, again));
        let (first, again) = auth.unwrap();
        assert_ne!(first.client.token, again.client.token);
        let key = domain::auth::AuthKey::from_file(&again.key_file).unwrap();
        let caller = key.verify(&again.client.token).unwrap();
        assert_eq!(
            caller,
            domain::auth::Caller::Customer {
                email: CUSTOMER_EMAIL.to_owned(),
                scopes: vec![domain::auth::SCOPE_BOOK.to_owned()],
            }
        );
        assert_eq!(again.server_flags()[0], "--auth-key");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
