//! Bearer tokens: JWTs signed with HS256 (jsonwebtoken), carrying the customer's e-mail
//! as `sub` and space-separated scopes as `scope`.
//!
//! HS256 because one shared secret is the least a development setup needs: the same key
//! file mints (`quartet token`) and verifies (`--auth-key`). A deployment where the
//! servers must not be able to mint would switch to EdDSA (jsonwebtoken supports it with
//! the same `verify` shape); the claims and the errors stay.
//!
//! What is not here: where tokens come from in a request (the transports) and what they
//! allow ([`super::guard`]).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::Caller;
use crate::error::{Error, Result};

/// Fewest bytes a key may have: HS256's own output size, as RFC 7518 asks.
pub const MIN_KEY_BYTES: usize = 32;

/// Clock skew tolerated on `exp` and `nbf`, in seconds: small, since client and server
/// usually share a host or an NTP source.
pub const LEEWAY_SECS: u64 = 5;

/// The claims of a Quartet token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The customer's e-mail: holds must name this customer, bookings must belong to it.
    pub sub: String,
    /// Space-separated scopes (`book`), as OAuth 2.0 writes them.
    #[serde(default)]
    pub scope: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not before (seconds since the epoch).
    pub nbf: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
}

/// The HS256 secret. Its `Debug` never shows it.
#[derive(Clone)]
pub struct AuthKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthKey(HS256, secret not shown)")
    }
}

impl AuthKey {
    /// A key from its secret bytes.
    ///
    /// # Errors
    /// A sentence if the secret is shorter than [`MIN_KEY_BYTES`].
    pub fn from_secret(secret: &[u8]) -> std::result::Result<Self, String> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!(
                "an HS256 key needs at least {MIN_KEY_BYTES} bytes, this one has {}",
                secret.len()
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "sub"]);
        Ok(AuthKey {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// The key in `path`: the file's bytes, trailing whitespace (a final newline) removed.
    ///
    /// # Errors
    /// A sentence naming the file if it cannot be read or is too short.
    pub fn from_file(path: &Path) -> std::result::Result<Self, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        Self::from_secret(&bytes[..end])
            .map_err(|e| format!("the key file {}: {e}", path.display()))
    }

    /// A fresh development key as the text of a key file: 32 random bytes in hex (the 64
    /// characters themselves are the secret), and a newline.
    pub fn generate_text() -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let mut text = String::with_capacity(2 * bytes.len() + 1);
        for b in bytes {
            // Writing to a String cannot fail.
            let _ = std::fmt::Write::write_fmt(&mut text, format_args!("{b:02x}"));
        }
        text.push('\n');
        text
    }

    /// The caller a token names, if this key signed it and it is valid now.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` saying whether the token expired, is not valid yet, is wrongly
    /// signed or malformed (never echoing the token).
    pub fn verify(&self, token: &str) -> Result<Caller> {
        self.verify_window(token).map(|(caller, _, _)| caller)
    }

    /// As [`AuthKey::verify`], with the token's `nbf` and `exp`: the window in which the
    /// answer stays the same (what [`super::verified`] needs to remember it).
    ///
    /// # Errors
    /// As [`AuthKey::verify`].
    pub fn verify_window(&self, token: &str) -> Result<(Caller, u64, u64)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                Error::unauthenticated(match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::ImmatureSignature => "the token is not valid yet",
                    ErrorKind::InvalidSignature => "the token's signature does not verify",
                    ErrorKind::InvalidAlgorithm => "the token is not signed with HS256",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                })
            })?;
        let claims = data.claims;
        if claims.sub.is_empty() {
            return Err(Error::unauthenticated("the token names no customer"));
        }
        let caller = Caller::Customer {
            email: claims.sub,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
        };
        Ok((caller, claims.nbf, claims.exp))
    }

    /// A token signed with this key for `claims` (any times: tests mint expired ones).
    ///
    /// # Errors
    /// A sentence if the claims cannot be encoded (they always can).
    pub fn sign(&self, claims: &Claims) -> std::result::Result<String, String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A token for `customer` (an e-mail) with `scopes`, valid from now for `ttl`.
///
/// # Errors
/// A sentence if it cannot be signed.
pub fn mint(
    key: &AuthKey,
    customer: &str,
    scopes: &[&str],
    ttl: Duration,
) -> std::result::Result<String, String> {
    let now = now_secs();
    key.sign(&Claims {
        sub: customer.to_owned(),
        scope: scopes.join(" "),
        iat: now,
        nbf: now,
        exp: now.saturating_add(ttl.as_secs().max(1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fill: u8) -> AuthKey {
        AuthKey::from_secret(&[fill; 32]).unwrap()
    }

    fn claims(nbf_offset: i64, exp_offset: i64) -> Claims {
        let now = now_secs();
        Claims {
            sub: "ann@example.org".into(),
            scope: "book".into(),
            iat: now,
            nbf: now.saturating_add_signed(nbf_offset),
            exp: now.saturating_add_signed(exp_offset),
        }
    }

    fn reason(result: Result<Caller>) -> String {
        match result {
            Err(Error::Unauthenticated { reason }) => reason,
            other => panic!("expected UNAUTHENTICATED, got {other:?}"),
        }
    }

    #[test]
    fn a_minted_token_names_its_customer_and_scopes() {
        let k = key(7);
        let token = mint(&k, "ann@example.org", &["book"], Duration::from_secs(60)).unwrap();
        assert_eq!(
            k.verify(&token),
            Ok(Caller::Customer {
                email: "ann@example.org".into(),
                scopes: vec!["book".into()],
            })
        );
    }

    #[test]
    fn bad_tokens_are_unauthenticated_with_the_reason() {
        let k = key(7);
        let expired = k.sign(&claims(-7200, -3600)).unwrap();
        assert_eq!(reason(k.verify(&expired)), "the token has expired");
        let early = k.sign(&claims(3600, 7200)).unwrap();
        assert_eq!(reason(k.verify(&early)), "the token is not valid yet");
        let foreign = key(8).sign(&claims(0, 60)).unwrap();
        assert_eq!(
            reason(k.verify(&foreign)),
            "the token's signature does not verify"
        );
        assert_eq!(reason(k.verify("not.a.jwt")), "the token is malformed");
    }

    #[test]
    fn short_keys_are_refused_and_files_are_trimmed() {
        assert!(AuthKey::from_secret(&[1; 31]).is_err());
        let text = AuthKey::generate_text();
        assert_eq!(text.len(), 65);
        let dir = std::env::temp_dir().join(format!("quartet-key-{}", std::process::id()));
        std::fs::write(&dir, &text).unwrap();
        let from_file = AuthKey::from_file(&dir).unwrap();
        let direct = AuthKey::from_secret(text.trim_end().as_bytes()).unwrap();
        let token = mint(&direct, "a@b.c", &[], Duration::from_secs(60)).unwrap();
        assert!(from_file.verify(&token).is_ok());
        let _ = std::fs::remove_file(&dir);
    }
}
