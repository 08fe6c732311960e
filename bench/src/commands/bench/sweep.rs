//! `--events`, `--search` and `--security` as lists: the suite once per catalogue size
//! (a dataset and plan of its own, every server started afresh on it), and within each
//! size once per search mode (with `--store postgres`), and within each server CPU set
//! once per security condition (every server started afresh with its TLS certificate
//! and verification key, or without), each run marked with all three; the database's
//! floor once per size. One size, one mode and one condition is the suite as it always
//! ran.

use std::sync::Arc;
use std::time::Duration;

use domain::{Dataset, DatasetSpec};
use netkit::args::{SearchKind, StoreKind};

use super::postgres::{PgSuite, search_name};
use super::runner::Suite;
use super::staleness::StalenessShape;
use super::{Args, run_protocols};
use crate::auth::{BenchAuth, Security};
use crate::cpus::CpuSet;
use crate::link::LinkProfile;
use crate::scenario::Plan;
use crate::shard::Shard;

impl Args {
    /// The `--events` sizes, in order, each once (never empty).
    pub fn event_sizes(&self) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for &n in &self.events {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        if out.is_empty() {
            out.push(domain::dataset::DEFAULT_EVENTS);
        }
        out
    }

    /// The `--search` modes, in order, each once: `database` when not named with
    /// `--store postgres`; `[None]` (the memory store's own index) without it.
    ///
    /// # Errors
    /// `--search` without `--store postgres`.
    pub fn search_modes(&self) -> Result<Vec<Option<SearchKind>>, String> {
        if self.store == StoreKind::Memory {
            if self.search.is_some() {
                return Err(
                    "--search needs --store postgres (the memory store always searches its own in-memory index)"
                        .to_owned(),
                );
            }
            return Ok(vec![None]);
        }
        let mut out: Vec<Option<SearchKind>> = Vec::new();
        for &kind in self.search.iter().flatten() {
            if !out.contains(&Some(kind)) {
                out.push(Some(kind));
            }
        }
        if out.is_empty() {
            out.push(Some(SearchKind::Database));
        }
        Ok(out)
    }

    /// The bounds of a `--search index` staleness measurement.
    pub fn staleness_shape(&self) -> StalenessShape {
        StalenessShape {
            rate: self.staleness_rate,
            changes: self.staleness_changes.max(1),
            max_time: Duration::from_secs_f64(self.staleness_seconds.clamp(0.1, 3_600.0)),
        }
    }
}

/// What every pass of the sweep shares.
pub struct Passes<'a> {
    /// The flags.
    pub args: &'a Args,
    /// The links, each run in turn.
    pub links: &'a [LinkProfile],
    /// The server CPU sets, each run in turn (`[None]` unpinned).
    pub server_sets: &'a [Option<&'a CpuSet>],
    /// The PostgreSQL side, with `--store postgres`.
    pub pg: Option<&'a PgSuite>,
    /// The security conditions and what they need.
    pub security: &'a SecurityKit,
    /// `--shard`.
    pub shard: Option<Shard>,
}

/// The `--security` conditions (or `--tls`/`--auth`'s one), and the certificates and
/// key written for them once per suite.
pub struct SecurityKit {
    /// The conditions, in order, each once (never empty).
    pub conditions: Vec<Security>,
    /// When a condition has TLS: the CA every client verifies against and the
    /// `--tls-cert`/`--tls-key` flags every server child gets.
    pub tls: Option<(netkit::tls::ClientTls, Vec<String>)>,
    /// When a condition has auth: the key and the run's token.
    pub auth: Option<BenchAuth>,
}

impl SecurityKit {
    /// Puts `suite` under `security` (its clients' CA and token, the condition's name
    /// on every run when there are several) and returns the flags every server child
    /// gets for it.
    fn apply(&self, suite: &mut Suite, security: Security) -> Vec<String> {
        suite.tls = self
            .tls
            .as_ref()
            .filter(|_| security.tls)
            .map(|(ca, _)| ca.clone());
        suite.auth = self.auth.clone().filter(|_| security.auth);
        suite.security = (self.conditions.len() > 1).then(|| security.name().to_owned());
        self.tls
            .as_ref()
            .filter(|_| security.tls)
            .map(|(_, flags)| flags.clone())
            .unwrap_or_default()
    }
}

/// Runs every catalogue size, search mode and server CPU set in turn, then the
/// database's floor for the size.
///
/// # Errors
/// If a server cannot be started.
pub async fn run(suite: &mut Suite, passes: &Passes<'_>) -> Result<(), String> {
    let args = passes.args;
    let sizes = args.event_sizes();
    let modes = args.search_modes()?;
    for &events in &sizes {
        if sizes.len() > 1 {
            eprintln!("== catalogue of {events} events");
        }
        let spec = DatasetSpec {
            events,
            seed: args.seed,
        };
        let plan =
            Arc::new(Plan::new(Dataset::from_spec(spec)).sharded(passes.shard.unwrap_or_default()));
        suite.events = (sizes.len() > 1).then_some(events);
        for &mode in &modes {
            let pg = match (passes.pg, mode) {
                (Some(pg), Some(kind)) => {
                    if modes.len() > 1 {
                        eprintln!("== search: {}", search_name(kind));
                    }
                    Some(pg.with_search(kind))
                }
                (pg, _) => pg.cloned(),
            };
            suite.search = pg
                .as_ref()
                .and_then(|p| p.search)
                .map(|k| search_name(k).to_owned());
            for &server_cpus in passes.server_sets {
                if passes.server_sets.len() > 1 {
                    eprintln!(
                        "== servers on CPUs {}",
                        server_cpus.map_or_else(String::new, CpuSet::to_string)
                    );
                }
                // Each condition on the same inputs: the contended scenario fights over
                // the same events of each condition's fresh servers.
                let first_round = suite.contended_round;
                let mut last_round = first_round;
                for &security in &passes.security.conditions {
                    let several = passes.security.conditions.len() > 1;
                    if several {
                        eprintln!("== security: {security}");
                    }
                    let flags = passes.security.apply(suite, security);
                    suite.contended_round = first_round;
                    let (failed, skipped) = (suite.failures.len(), suite.skipped.len());
                    run_protocols(
                        suite,
                        args,
                        &plan,
                        passes.links,
                        server_cpus,
                        pg.as_ref(),
                        &flags,
                    )
                    .await?;
                    last_round = last_round.max(suite.contended_round);
                    // Failures and protocols not run say under which condition: the
                    // reports list them with every condition's part.
                    if several {
                        for f in suite.failures.get_mut(failed..).unwrap_or_default() {
                            f.cause = security.note(&f.cause);
                        }
                        for s in suite.skipped.get_mut(skipped..).unwrap_or_default() {
                            s.reason = security.note(&s.reason);
                        }
                    }
                }
                suite.contended_round = last_round;
            }
        }
        suite.search = None;
        if let Some(pg) = passes.pg {
            pg.floor(suite, &plan).await;
        }
    }
    Ok(())
}
