//! `quartet token`: a development bearer token for a customer, signed with an HS256 key
//! file (`--key`), or a fresh key file (`--new-key FILE`) for `--auth-key`. The token
//! and key logic live in `domain::auth`; this is only the command around them.

use std::path::PathBuf;
use std::time::Duration;

/// Flags of `quartet token`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write a fresh random key to this file (refused if it exists) and stop.
    #[arg(long, conflicts_with_all = ["customer", "key"])]
    pub new_key: Option<PathBuf>,
    /// The customer's e-mail: the token's `sub`, which holds must name.
    #[arg(long, required_unless_present = "new_key")]
    pub customer: Option<String>,
    /// Scopes the token carries (repeatable); `book` lets it hold, confirm and cancel.
    #[arg(long = "scope", default_values_t = [domain::auth::SCOPE_BOOK.to_owned()])]
    pub scopes: Vec<String>,
    /// How long it is valid, e.g. `90s`, `30m`, `1h`, `2d`.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: Duration,
    /// The HS256 key file the servers were started with (`--auth-key`).
    #[arg(long, required_unless_present = "new_key")]
    pub key: Option<PathBuf>,
}

/// `90s`, `30m`, `1h`, `2d` (or bare seconds).
fn parse_ttl(text: &str) -> Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 30m, 1h or 2d"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("{text:?}: the unit is one of s, m, h, d")),
    };
    Ok(Duration::from_secs(seconds))
}

/// Prints the token (only the token, so `$(quartet token ...)` works), or writes a key.
///
/// # Errors
/// A sentence naming the key file that cannot be read or written.
pub fn run(args: &Args) -> Result<(), String> {
    if let Some(path) = &args.new_key {
        write_new_key(path)?;
        eprintln!(
            "wrote a new HS256 key to {}; start servers with --auth-key {0}",
            path.display()
        );
        return Ok(());
    }
    let (Some(customer), Some(key)) = (&args.customer, &args.key) else {
        return Err("--customer and --key are needed to mint a token".to_owned());
    };
    let key = domain::auth::AuthKey::from_file(key)?;
    let scopes: Vec<&str> = args.scopes.iter().map(String::as_str).collect();
    println!("{}", domain::auth::mint(&key, customer, &scopes, args.ttl)?);
    Ok(())
}

/// Writes a fresh key to `path`, never over an existing file.
///
/// # Errors
/// A sentence naming the file.
pub fn write_new_key(path: &std::path::Path) -> Result<(), String> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(domain::auth::AuthKey::generate_text().as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse_with_units() {
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_ttl("45"), Ok(Duration::from_secs(45)));
        assert!(parse_ttl("1y").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
