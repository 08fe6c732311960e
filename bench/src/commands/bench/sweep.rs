//! `--events`, `--search` and `--security` as lists: the suite once per catalogue size
//! (a dataset and plan of its own, every server started afresh on it), and within each
//! size once per search mode (with `--store postgres`), and within each server CPU set
//! protocol by protocol, each protocol once per security condition back to back (its
//! servers started afresh with their TLS certificate and verification key, or without),
//! in `--security-rounds` rounds of alternating order, each run marked with all three;
//! the database's floor once per size. One size, one mode, one condition and one round
//! is the suite as it always ran. What runs the suite's protocols lives in the parent
//! module; what runs one protocol's scenarios, in `runner`.

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
use crate::results::Run;
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

/// Runs every catalogue size, search mode and server CPU set in turn, and within each
/// every protocol with its security conditions back to back (see [`security_passes`]),
/// then the database's floor for the size.
///
/// # Errors
/// If a server cannot be started, or `--security-rounds` above 1 with one condition.
pub async fn run(suite: &mut Suite, passes: &Passes<'_>) -> Result<(), String> {
    let args = passes.args;
    if args.security_rounds > 1 && passes.security.conditions.len() < 2 {
        return Err(
            "--security-rounds alternates security conditions: name two or more with --security (e.g. plain,tls+auth)"
                .to_owned(),
        );
    }
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
        let plan = Arc::new(
            Plan::new(Dataset::from_spec(spec))
                .sharded(passes.shard.unwrap_or_default())
                .hot_events(args.hot_events),
        );
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
                for &protocol in &args.protocols {
                    let on = On {
                        plan: &plan,
                        server_cpus,
                        pg: pg.as_ref(),
                    };
                    security_passes(suite, passes, protocol, &on).await?;
                }
            }
        }
        suite.search = None;
        if let Some(pg) = passes.pg {
            pg.floor(suite, &plan).await;
        }
    }
    Ok(())
}

/// Where one protocol's passes run: the plan, the servers' CPUs and the database.
struct On<'a> {
    plan: &'a Arc<Plan>,
    server_cpus: Option<&'a CpuSet>,
    pg: Option<&'a PgSuite>,
}

/// The order of the conditions in `round` (0-based): as given in even rounds, reversed
/// in odd ones (`A B`, `B A`, `A B`, ...), so a drift of the machine's speed over the
/// rounds favours no condition.
pub fn round_order(conditions: &[Security], round: u32) -> Vec<Security> {
    let mut order = conditions.to_vec();
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

/// One protocol under every security condition, back to back, `--security-rounds`
/// times: each pass starts the protocol's servers afresh with the condition's flags
/// (startup outside the measured window, as for any run) on the same inputs (the
/// contended scenario fights over the same events in every pass). The protocol's runs
/// are then one per condition: with several rounds, the median round's (see
/// [`keep_median_rounds`]). A protocol's conditions are so measured moments apart, not
/// a whole suite apart, which on a shared machine is what makes their ratio fair.
///
/// # Errors
/// If a server cannot be started.
async fn security_passes(
    suite: &mut Suite,
    passes: &Passes<'_>,
    protocol: crate::protocol::Protocol,
    on: &On<'_>,
) -> Result<(), String> {
    let conditions = &passes.security.conditions;
    let several = conditions.len() > 1;
    let rounds = passes.args.security_rounds.max(1);
    let first_round = suite.contended_round;
    let mut last_round = first_round;
    let first_run = suite.runs.len();
    // The round each of the protocol's runs (from `first_run`) was made in.
    let mut round_of: Vec<u32> = Vec::new();
    for round in 0..rounds {
        for security in round_order(conditions, round) {
            if several {
                let of = if rounds > 1 {
                    format!(", round {} of {rounds}", round + 1)
                } else {
                    String::new()
                };
                eprintln!("== {protocol} under {security}{of}");
            }
            let flags = passes.security.apply(suite, security);
            suite.contended_round = first_round;
            let (failed, skipped) = (suite.failures.len(), suite.skipped.len());
            run_protocols(
                suite,
                passes.args,
                &[protocol],
                on.plan,
                passes.links,
                on.server_cpus,
                on.pg,
                &flags,
            )
            .await?;
            last_round = last_round.max(suite.contended_round);
            round_of.resize(suite.runs.len() - first_run, round);
            // Failures and protocols not run say under which condition (and round): the
            // reports list them with every condition's part. A protocol not run says so
            // once, not once per round.
            if several {
                for f in suite.failures.get_mut(failed..).unwrap_or_default() {
                    if rounds > 1 {
                        f.cause = format!("in round {} of {rounds}: {}", round + 1, f.cause);
                    }
                    f.cause = security.note(&f.cause);
                }
                for s in suite.skipped.get_mut(skipped..).unwrap_or_default() {
                    s.reason = security.note(&s.reason);
                }
                let mut i = skipped;
                while i < suite.skipped.len() {
                    if suite.skipped[..i].contains(&suite.skipped[i]) {
                        suite.skipped.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
        }
    }
    suite.contended_round = last_round;
    if rounds > 1 {
        keep_median_rounds(suite, first_run, &round_of, rounds);
    }
    Ok(())
}

/// Reduces the runs from `first_run` (made in the rounds `round_of` names) to one per
/// run key (one per condition, scenario and load): the run of the median round by
/// ops/s (the lower middle one for an even count), which keeps every figure of it one
/// run's, with every round's ops/s in `round_throughput_ops_s`. The other rounds' runs
/// and their interval logs are dropped.
pub fn keep_median_rounds(suite: &mut Suite, first_run: usize, round_of: &[u32], rounds: u32) {
    let made = suite.runs.split_off(first_run.min(suite.runs.len()));
    let mut groups: Vec<(crate::results::RunKey, Vec<(u32, Run)>)> = Vec::new();
    for (i, run) in made.into_iter().enumerate() {
        let round = round_of.get(i).copied().unwrap_or_default();
        let key = run.key();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, runs)) => runs.push((round, run)),
            None => groups.push((key, vec![(round, run)])),
        }
    }
    let mut dropped: Vec<String> = Vec::new();
    let mut renamed: Vec<(String, String)> = Vec::new();
    for (_, mut runs) in groups {
        let mut per_round: Vec<Option<f64>> = vec![None; rounds as usize];
        for (round, run) in &runs {
            if let Some(slot) = per_round.get_mut(*round as usize) {
                *slot = Some(run.throughput_ops_s);
            }
        }
        runs.sort_by(|a, b| a.1.throughput_ops_s.total_cmp(&b.1.throughput_ops_s));
        let median = (runs.len().saturating_sub(1)) / 2;
        for (i, (_, mut run)) in runs.into_iter().enumerate() {
            if i == median {
                run.round_throughput_ops_s.clone_from(&per_round);
                // Interval logs are numbered by the run's place when it was made; the
                // kept run takes the number of its place now, so the suite's later
                // runs (numbered by theirs) never reuse one.
                if let Some(old) = run.hlog.take() {
                    let name = crate::hlog::file_name(suite.runs.len(), &run);
                    run.hlog = Some(format!("{}/{name}", crate::hlog::FOLDER));
                    renamed.push((old, name));
                }
                suite.runs.push(run);
            } else if let Some(hlog) = run.hlog {
                dropped.push(hlog);
            }
        }
    }
    let path = |name: &str| format!("{}/{name}", crate::hlog::FOLDER);
    suite
        .hlogs
        .retain(|(name, _)| !dropped.contains(&path(name)));
    for (name, _) in &mut suite.hlogs {
        if let Some((_, new)) = renamed.iter().find(|(old, _)| *old == path(name)) {
            new.clone_into(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_the_order_of_the_conditions() {
        let plain = Security::default();
        let secured = Security {
            tls: true,
            auth: true,
        };
        let conditions = [plain, secured];
        let order: Vec<Security> = (0..4).flat_map(|r| round_order(&conditions, r)).collect();
        assert_eq!(
            order,
            [
                plain, secured, secured, plain, plain, secured, secured, plain
            ]
        );
    }
}
