//! `quartet dataset`: builds the dataset exactly as a server does at start-up and reports
//! what that costs; with `--store postgres`, creates and migrates a schema and loads the
//! dataset into it with binary COPY, reporting the load time.

use std::time::Instant;

use domain::{Dataset, DatasetSpec, Limits, Service};
use netkit::args::StoreKind;

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
    /// Where the dataset goes: `memory` builds the in-memory store and its indexes (and
    /// reports time and memory); `postgres` loads it into `--schema` of
    /// `--database-url`.
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    pub store: StoreKind,
    /// With `--store postgres`: the database (else $QUARTET_DATABASE_URL, else the local
    /// default the servers use).
    #[arg(long)]
    pub database_url: Option<String>,
    /// With `--store postgres`: the schema to create, migrate and fill.
    #[arg(long, default_value = pgstore::config::DEFAULT_SCHEMA)]
    pub schema: String,
    /// With `--store postgres`: empty a schema that already holds a dataset (bookings
    /// included) instead of refusing.
    #[arg(long)]
    pub replace: bool,
}

/// Builds (or loads) the dataset and prints what it took.
///
/// # Errors
/// If /proc cannot be read (memory figures are Linux-only), or the database refuses.
pub async fn run(args: &Args) -> Result<(), String> {
    let spec = DatasetSpec {
        events: args.events,
        seed: args.seed,
    };
    match args.store {
        StoreKind::Memory => memory(spec),
        StoreKind::Postgres => postgres(args, spec).await,
    }
}

fn memory(spec: DatasetSpec) -> Result<(), String> {
    let rss_before = procfs::self_memory().map_err(|e| e.to_string())?.rss_bytes;
    let started = Instant::now();
    let service = Service::generate(spec, Limits::default());
    let elapsed = started.elapsed();
    let memory = procfs::self_memory().map_err(|e| e.to_string())?;
    print_counts(spec, service.store().catalog().dataset());
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

async fn postgres(args: &Args, spec: DatasetSpec) -> Result<(), String> {
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(pgstore::PgConfig::url_from_env);
    let config = pgstore::PgConfig::new(url, args.schema.clone());
    let started = Instant::now();
    let dataset = Dataset::from_spec(spec);
    let generated = started.elapsed();
    let store = pgstore::PgStore::connect(&config)
        .await
        .map_err(|e| format!("cannot use PostgreSQL schema {}: {e}", args.schema))?;
    let migrated = started.elapsed();
    let report = pgstore::load::load_timed(&store, &dataset, args.replace)
        .await
        .map_err(|e| match e {
            pgstore::SetupError::NotEmpty { .. } => format!(
                "cannot load schema {}: {e} (refused: pass --replace to empty it first, bookings included)",
                args.schema
            ),
            e => format!("cannot load schema {}: {e}", args.schema),
        })?;
    let total = started.elapsed();
    print_counts(spec, &dataset);
    println!(
        "schema       {} ({} events loaded)",
        args.schema, report.events
    );
    println!(
        "time         {:.3} s in all: generate {:.3} s, connect + migrate {:.3} s, COPY + index + ANALYZE {:.3} s",
        total.as_secs_f64(),
        generated.as_secs_f64(),
        migrated.saturating_sub(generated).as_secs_f64(),
        total.saturating_sub(migrated).as_secs_f64()
    );
    for (phase, took) in &report.phases {
        println!("  {:>9.3} s  {phase}", took.as_secs_f64());
    }
    Ok(())
}

fn print_counts(spec: DatasetSpec, data: &Dataset) {
    println!("dataset      events {} seed {}", spec.events, spec.seed);
    println!("venues       {}", data.venues.len());
    println!("performers   {}", data.performers.len());
    println!("events       {}", data.events.len());
    println!("seats        {} (over all events)", data.total_seats());
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
