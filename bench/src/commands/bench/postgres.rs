//! `quartet bench --store postgres`: each protocol's servers over a schema of their own,
//! freshly loaded with the suite's dataset (dropped after unless `--keep`), `--replicas`
//! server processes per protocol over it, and the database's floor: the store's
//! statements run by pgbench ([`crate::pgfloor`]) on one more freshly loaded schema, at
//! the suite's closed-loop client counts.
//!
//! The memory store's path (one child per protocol generating its own data) is
//! `super::run_protocols`'s; what is here only runs with `--store postgres`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{Dataset, DatasetSpec};

use super::record::{self, Measurement, Shape};
use super::runner::{Server, Suite};
use crate::child::ServerChild;
use crate::cpus::CpuSet;
use crate::load::LoadResult;
use crate::pgfloor::{self, FloorRun, Pgbench};
use crate::protocol::Protocol;
use crate::results::{Failure, Skipped};
use crate::scenario::{Plan, Scenario};
use netkit::args::SearchKind;

/// How the suite uses PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSuite {
    /// The database.
    pub url: String,
    /// Server processes per protocol.
    pub replicas: usize,
    /// Keep each schema after its protocol's runs.
    pub keep: bool,
    /// pgbench, or why there is none (the floor is then skipped, and said so).
    pub pgbench: Result<Pgbench, String>,
    /// CPUs pgbench runs on (the load generator's), when pinned.
    pub client_cpus: Option<String>,
    /// Where pgbench's scripts and logs go while it runs.
    pub scratch: PathBuf,
    /// Names this suite's schemas apart from another's on the same database.
    pub tag: String,
    /// `--search`: how the servers it starts answer search (`None`: their default).
    pub search: Option<SearchKind>,
}

/// `database` or `index`, as results.json and the reports name a search mode.
pub fn search_name(kind: SearchKind) -> &'static str {
    match kind {
        SearchKind::Database => "database",
        SearchKind::Index => "index",
    }
}

impl PgSuite {
    /// The settings for `url`.
    pub fn new(url: String, replicas: usize, keep: bool, client_cpus: Option<String>) -> Self {
        let tag = format!(
            "{}_{}",
            chrono::Utc::now().format("%Y%m%d%H%M%S"),
            std::process::id()
        );
        PgSuite {
            url,
            replicas: replicas.max(1),
            keep,
            pgbench: Pgbench::find(),
            client_cpus,
            scratch: std::env::temp_dir().join(format!("quartet-pgbench-{tag}")),
            tag,
            search: None,
        }
    }

    /// The same suite, its servers started with `--search kind`.
    #[must_use]
    pub fn with_search(&self, kind: SearchKind) -> Self {
        PgSuite {
            search: Some(kind),
            ..self.clone()
        }
    }

    /// The schema `name`'s runs use: `quartet_bench_<tag>_<name>`.
    pub fn schema(&self, name: &str) -> String {
        format!("quartet_bench_{}_{}", self.tag, name.replace('-', "_"))
    }

    /// What `meta.pgbench` says: the version, or why the floor was not run.
    pub fn pgbench_note(&self) -> String {
        match &self.pgbench {
            Ok(p) => p.version.clone(),
            Err(why) => format!("not run: {why}"),
        }
    }

    /// Creates and migrates `schema` and loads `data` into it with binary COPY; refused
    /// (by `pgstore::load`) if it already holds a dataset.
    ///
    /// # Errors
    /// If the database cannot be reached or refuses.
    pub async fn load(&self, schema: &str, data: &Dataset) -> Result<(), String> {
        let started = Instant::now();
        let config = pgstore::PgConfig::new(self.url.clone(), schema.to_owned());
        let store = pgstore::PgStore::connect(&config)
            .await
            .map_err(|e| format!("cannot use PostgreSQL schema {schema}: {e}"))?;
        let events = pgstore::load(&store, data, false)
            .await
            .map_err(|e| format!("cannot load schema {schema}: {e}"))?;
        eprintln!(
            "   schema {schema}: {events} events loaded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Drops `schema` (and everything in it) unless `--keep`.
    pub async fn drop_schema(&self, schema: &str) {
        if self.keep {
            eprintln!("   schema {schema} kept (--keep)");
            return;
        }
        let dropped = async {
            let config = pgstore::PgConfig::new(self.url.clone(), "public");
            let store = pgstore::PgStore::lazy(&config, Arc::new(domain::SystemClock))
                .map_err(|e| e.to_string())?;
            let client = store.pool().get().await.map_err(|e| e.to_string())?;
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(e) = dropped.await {
            eprintln!("warning: could not drop schema {schema}: {e}");
        }
    }

    /// Starts `--replicas` servers of `protocol` over `schema` (pinned to `cpus` if
    /// given; the replicas share that set).
    ///
    /// # Errors
    /// If one cannot be started; the ones already started are stopped.
    pub fn start(
        &self,
        protocol: Protocol,
        spec: DatasetSpec,
        schema: &str,
        cpus: Option<&CpuSet>,
    ) -> Result<Server, String> {
        let mut extra = vec![
            "--store".to_owned(),
            "postgres".to_owned(),
            "--database-url".to_owned(),
            self.url.clone(),
            "--schema".to_owned(),
            schema.to_owned(),
        ];
        if let Some(kind) = self.search {
            extra.extend(["--search".to_owned(), search_name(kind).to_owned()]);
        }
        let mut children = Vec::with_capacity(self.replicas);
        for _ in 0..self.replicas {
            match ServerChild::start_with(protocol, spec.events, spec.seed, cpus, &extra) {
                Ok(child) => children.push(child),
                Err(e) => {
                    for child in children {
                        child.stop();
                    }
                    return Err(e);
                }
            }
        }
        if children.len() == 1 {
            children.pop().map(Server::Child).ok_or_else(String::new)
        } else {
            Ok(Server::Replicas(children))
        }
    }

    /// The database's floor: every scenario with a pgbench script, at every closed-loop
    /// client count, on a schema of its own; a missing pgbench is a skip said loudly.
    pub async fn floor(&self, suite: &mut Suite, plan: &Plan) {
        let scenarios: Vec<Scenario> = suite
            .scenarios
            .iter()
            .copied()
            .filter(|s| pgfloor::SCENARIOS.contains(s))
            .collect();
        if scenarios.is_empty() {
            return;
        }
        let pgbench = match &self.pgbench {
            Ok(p) => p.clone(),
            Err(why) => {
                let skipped = Skipped {
                    protocol: pgfloor::PROTOCOL.to_owned(),
                    link: suite.link.clone(),
                    compression: suite.compression.name().to_owned(),
                    reason: format!("the database floor needs pgbench: {why}"),
                };
                eprintln!("== NOT RUN: {skipped}");
                suite.skipped.push(skipped);
                return;
            }
        };
        let schema = self.schema("pgbench");
        eprintln!(
            "== {} ({}) on schema {schema}",
            pgfloor::PROTOCOL,
            pgbench.version
        );
        if let Err(cause) = self.load(&schema, plan.data()).await {
            suite.failures.push(failure(None, None, cause));
            self.drop_schema(&schema).await;
            return;
        }
        let shapes: Vec<Shape> = suite
            .shapes
            .iter()
            .copied()
            .filter(|s| s.rate.is_none())
            .collect();
        for scenario in scenarios {
            for shape in &shapes {
                let round = suite.contended_round;
                if scenario == Scenario::ContendedHold {
                    suite.contended_round += 1;
                }
                match self
                    .floor_run(&pgbench, suite, plan, &schema, scenario, *shape, round)
                    .await
                {
                    Ok(()) => {}
                    Err(cause) => {
                        let f = failure(Some(scenario), Some(shape.label()), cause);
                        eprintln!("   FAILED {f}");
                        suite.failures.push(f);
                    }
                }
            }
        }
        self.drop_schema(&schema).await;
        let _ = std::fs::remove_dir_all(&self.scratch);
    }

    #[allow(clippy::too_many_arguments)] // the run's coordinates, each named at the call
    async fn floor_run(
        &self,
        pgbench: &Pgbench,
        suite: &mut Suite,
        plan: &Plan,
        schema: &str,
        scenario: Scenario,
        shape: Shape,
        round: usize,
    ) -> Result<(), String> {
        let vars = variables(plan, scenario, shape.concurrency, round)?;
        let threads = suite.client_cores.max(1).min(shape.concurrency);
        let run_for = |duration: Duration| {
            let (pgbench, url, schema, scratch, cpus, vars) = (
                pgbench.clone(),
                self.url.clone(),
                schema.to_owned(),
                self.scratch.clone(),
                self.client_cpus.clone(),
                vars.clone(),
            );
            let clients = shape.concurrency;
            tokio::task::spawn_blocking(move || {
                pgbench.run(&FloorRun {
                    url: &url,
                    schema: &schema,
                    scenario,
                    clients,
                    threads,
                    duration,
                    vars,
                    dir: &scratch,
                    cpus,
                })
            })
        };
        // The contended scenario measures from the first hold, as the protocols' do.
        if !suite.warmup.is_zero() && scenario != Scenario::ContendedHold {
            run_for(suite.warmup)
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("warm-up: {e}"))?;
        }
        eprintln!(
            "   {} {scenario} c={} for {:.0} s",
            pgfloor::PROTOCOL,
            shape.concurrency,
            suite.duration.as_secs_f64().ceil()
        );
        let outcome = run_for(suite.duration).await.map_err(|e| e.to_string())??;
        let ok = outcome.latency.len();
        let result = LoadResult {
            ops: ok + outcome.failed,
            attempted: (ok + outcome.failed).max(1),
            errors: outcome.failed,
            conflicts: 0,
            elapsed: outcome.window,
            latency: outcome.latency.clone(),
            uncorrected: None,
            per_second: outcome.per_second.clone(),
            first_error: (outcome.failed > 0)
                .then(|| format!("{} pgbench transactions failed", outcome.failed)),
            completed_in_window: ok,
            backlog_at_end: 0,
            backlog_at_start: 0,
            abandoned: 0,
            wall: outcome.window,
            window_start: outcome.window_start,
            intervals: outcome.per_second.clone(),
        };
        if ok == 0 {
            return Err(format!(
                "pgbench processed {} transactions, none logged as done",
                outcome.summary.processed
            ));
        }
        // The record is built as a protocol's is, then named for what it is: no
        // protocol, no server process of ours (the database's CPU is not read), no
        // payload.
        let mut run = record::run(
            &Measurement {
                protocol: Protocol::Wire,
                scenario,
                shape,
                duration: outcome.window,
                result: &result,
                payload: (0, 0),
                before: None,
                after: None,
                double_bookings: None,
                client_cpu_ticks: None,
                client_cores: suite.client_cores,
                connections: shape.concurrency,
                link: &suite.link,
                browse_requests: None,
            },
            suite.ticks,
        );
        pgfloor::PROTOCOL.clone_into(&mut run.protocol);
        run.floor = None;
        run.round_trips_per_op = None;
        run.compression = Some(suite.compression.name().to_owned());
        suite.keep(run, &result);
        Ok(())
    }
}

/// The `-D` variables `scenario`'s script reads, for `clients` clients in contended
/// round `round`: the dataset's size and search words, each client's hold_cancel event
/// (the harness's worker i's), the contended event, and the per-client state the
/// scripts start from.
///
/// # Errors
/// If the dataset has no event the scenario needs.
pub fn variables(
    plan: &Plan,
    scenario: Scenario,
    clients: usize,
    round: usize,
) -> Result<Vec<(String, String)>, String> {
    let mut vars = vec![("events".to_owned(), plan.data().events.len().to_string())];
    match scenario {
        Scenario::SearchEvents => {
            vars.push(("nwords".to_owned(), plan.words().len().to_string()));
            vars.push(("words".to_owned(), pgfloor::array_literal(plan.words())));
        }
        Scenario::HoldCancel => {
            let events: Vec<u64> = (0..clients)
                .map(|i| plan.hold_cancel_event(i).map(|e| e.0))
                .collect::<Option<_>>()
                .ok_or("no on-sale event to hold seats of")?;
            vars.push(("hold_events".to_owned(), pgfloor::array_literal(&events)));
            vars.push(("ev".to_owned(), "0".to_owned()));
            vars.push(("n".to_owned(), "0".to_owned()));
            vars.push(("to_status".to_owned(), "cancelled".to_owned()));
        }
        Scenario::ContendedHold => {
            let event = plan
                .contended_event(round)
                .ok_or("no on-sale event to fight over")?;
            vars.push(("cev".to_owned(), event.0.to_string()));
        }
        _ => {}
    }
    Ok(vars)
}

fn failure(scenario: Option<Scenario>, shape: Option<String>, cause: String) -> Failure {
    Failure {
        protocol: pgfloor::PROTOCOL.to_owned(),
        scenario: scenario.map(|s| s.name().to_owned()),
        shape,
        attempted: 0,
        cause,
    }
}
