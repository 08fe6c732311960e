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
//! - [`Security`]: one condition of `--security plain,tls,auth,tls+auth`, the list axis
//!   that runs the suite under each (fresh servers each time) so one report sets each
//!   protocol's figures side by side; `--tls` and `--auth` name a single one.
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

/// One security condition the suite runs under: TLS or not, tokens or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Security {
    /// Every server serves TLS (the raw floors are not run) and every client verifies it.
    pub tls: bool,
    /// Every API server checks a bearer token and every client sends one.
    pub auth: bool,
}

impl Security {
    /// Every condition, in the order a report sets them side by side.
    pub const ALL: [Security; 4] = [
        Security {
            tls: false,
            auth: false,
        },
        Security {
            tls: true,
            auth: false,
        },
        Security {
            tls: false,
            auth: true,
        },
        Security {
            tls: true,
            auth: true,
        },
    ];

    /// `plain`, `tls`, `auth` or `tls+auth`: the name on the command line, in
    /// results.json (`runs[].security`) and in the reports.
    pub const fn name(self) -> &'static str {
        match (self.tls, self.auth) {
            (false, false) => "plain",
            (true, false) => "tls",
            (false, true) => "auth",
            (true, true) => "tls+auth",
        }
    }

    /// Whether anything is secured (TLS, tokens or both).
    pub const fn secured(self) -> bool {
        self.tls || self.auth
    }

    /// `text` said under this condition: `under tls+auth: text`, as a sweep's failures
    /// and protocols not run say it.
    pub fn note(self, text: &str) -> String {
        format!("under {}: {text}", self.name())
    }

    /// The condition a [`Security::note`] names, if `text` is one.
    pub fn of_note(text: &str) -> Option<Security> {
        let rest = text.strip_prefix("under ")?;
        let (name, _) = rest.split_once(':')?;
        name.parse().ok()
    }
}

impl std::fmt::Display for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Security {
    type Err = String;

    /// `plain` (or `none`), `tls`, `auth`, `tls+auth` (or `auth+tls`), any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim().to_ascii_lowercase();
        if text == "none" {
            return Ok(Security::default());
        }
        if text == "auth+tls" {
            return Ok(Security {
                tls: true,
                auth: true,
            });
        }
        Security::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| {
                format!(
                    "unknown security condition {text:?}: expected plain, tls, auth or tls+auth"
                )
            })
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
    fn security_conditions_read_back_from_their_names() {
        for security in Security::ALL {
            assert_eq!(security.name().parse::<Security>(), Ok(security));
        }
        assert_eq!(
            "AUTH+TLS".parse::<Security>().map(Security::name),
            Ok("tls+auth")
        );
        assert_eq!("none".parse::<Security>(), Ok(Security::default()));
        assert!("ssl".parse::<Security>().is_err());
        assert!(!Security::default().secured());
        let tls = Security {
            tls: true,
            auth: false,
        };
        assert_eq!(tls.note("floor"), "under tls: floor");
        assert_eq!(Security::of_note(&tls.note("floor")), Some(tls));
        assert_eq!(Security::of_note("over loopback: x"), None);
    }

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
