//! `quartet link-relay`: the link emulator in a process of its own (the harness starts
//! it for `--link`; see [`crate::link`]). Says on stderr how it keeps its own cost out
//! of the delay (the kernel's arrival stamps, [`crate::link::arrival`], or failing them
//! a start-up measurement deducted, [`crate::link::calibrate`]), prints `READY <addr>
//! deducted_ns=<n>` (what it deducts from each direction's delay: 0 with stamps) once
//! listening, relays until its stdin closes, and then says on stderr what it forwarded
//! ([`crate::link::ForwardingStats`]).

use std::io::{Read, Write};
use std::net::SocketAddr;

use crate::link::{LinkProfile, Relay};

/// Flags of `quartet link-relay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server every connection is forwarded to.
    #[arg(long)]
    pub target: SocketAddr,
    /// The link to emulate: loopback, lan, region, continent, mobile or
    /// custom:rtt=..,down=..,up=..,jitter=..
    #[arg(long, value_parser = |s: &str| LinkProfile::parse(s).map_err(|e| e.to_string()))]
    pub link: LinkProfile,
}

/// Starts the relay, then relays until stdin closes.
///
/// # Errors
/// If the relay cannot listen or READY cannot be written.
pub fn run(args: &Args) -> Result<(), String> {
    let relay = Relay::start(args.target, &args.link)
        .map_err(|e| format!("cannot start the relay: {e}"))?;
    // On stderr, which the harness passes through: a run's log says what was deducted.
    eprintln!("link-relay ({}): {}", args.link.name, relay.calibration());
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "READY {} deducted_ns={}",
        relay.addr(),
        relay.calibration().per_direction().as_nanos()
    )
    .and_then(|()| stdout.flush())
    .map_err(|e| e.to_string())?;
    // Anything on stdin is ignored; its end is the signal to stop.
    let mut sink = [0u8; 64];
    while std::io::stdin().read(&mut sink).is_ok_and(|n| n > 0) {}
    eprintln!("link-relay ({}): {}", args.link.name, relay.stats());
    drop(relay);
    Ok(())
}
