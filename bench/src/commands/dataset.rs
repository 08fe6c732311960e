//! `quartet dataset`: builds the dataset, its indexes and the store exactly as a server
//! does at start-up, and reports what that costs.

use std::time::Instant;

use domain::{DatasetSpec, Limits, Service};

use crate::procfs;

/// Flags of `quartet dataset`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of events (venues and performers scale with it).
    #[arg(long, default_value_t = domain::dataset::DEFAULT_EVENTS)]
    pub events: u32,
    /// Random seed; the same seed gives the same data on every machine.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_SEED)]
    pub seed: u64,
}

/// Builds the store and prints counts, build time and resident memory.
///
/// # Errors
/// If /proc cannot be read (memory figures are only available on Linux).
pub fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let rss_before = procfs::self_memory()?.rss_bytes;
    let started = Instant::now();
    let service = Service::generate(
        DatasetSpec {
            events: args.events,
            seed: args.seed,
        },
        Limits::default(),
    );
    let elapsed = started.elapsed();
    let memory = procfs::self_memory()?;
    let data = service.store().catalog().dataset();
    println!("dataset      events {} seed {}", args.events, args.seed);
    println!("venues       {}", data.venues.len());
    println!("performers   {}", data.performers.len());
    println!("events       {}", data.events.len());
    println!("seats        {} (over all events)", data.total_seats());
    println!(
        "build time   {:.3} s (generate + index + store)",
        elapsed.as_secs_f64()
    );
    println!(
        "memory       {:.1} MiB resident, {:.1} MiB peak, {:.1} MiB before building",
        mib(memory.rss_bytes),
        mib(memory.peak_rss_bytes),
        mib(rss_before)
    );
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
