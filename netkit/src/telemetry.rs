//! Tracing for the standalone servers: `RUST_LOG` picks what is logged (default `info`),
//! written to stderr, coloured only on a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs a formatted tracing subscriber filtered by `RUST_LOG`. Calling it twice is
/// harmless (the second call keeps the first subscriber).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // An error only means a subscriber is already installed (tests, or a second server in
    // the same process); keeping that one is right.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
