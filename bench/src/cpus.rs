//! Which CPUs the load generator and the servers run on: CPU lists as `taskset` and
//! `/sys/devices/system/cpu/*` write them (`0`, `0-3`, `0,2,4`, `0-1,6`), the default
//! split of the machine's CPUs in two (the load generator the lower half, the servers
//! the rest: client 0 and server 1 on two cores), the checks a placement must pass, and
//! pinning the load generator's runtime threads. Starting a server on its set is
//! `crate::child`'s (`taskset -c`, worker threads sized to the set).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// CPU numbers above this are refused (Linux's default `CPU_SETSIZE` is 1024), so a
/// typo such as `0-4000000000` cannot make a set of billions.
pub const MAX_CPU: usize = 4095;

/// A non-empty set of CPU numbers, ascending, each once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpuSet(Vec<usize>);

/// Why a CPU list could not be read, or a placement is impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuError {
    /// An empty list, or an empty item between commas.
    Empty,
    /// An item that is not a number or a range `A-B`.
    NotANumber(String),
    /// A range whose end is below its start.
    Reversed(usize, usize),
    /// A CPU above [`MAX_CPU`].
    TooHigh(usize),
    /// A CPU this process may not run on (absent or outside its affinity).
    Unavailable {
        /// Which flag named it.
        flag: &'static str,
        /// The CPU.
        cpu: usize,
        /// The CPUs there are.
        available: String,
    },
    /// No CPU left for the servers once the load generator has taken its own.
    NoneLeft(&'static str),
}

impl fmt::Display for CpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuError::Empty => f.write_str("an empty CPU list (expected e.g. 0, 0-3 or 0,2,4)"),
            CpuError::NotANumber(item) => write!(
                f,
                "{item:?} is not a CPU number or a range A-B (expected e.g. 0, 0-3 or 0,2,4)"
            ),
            CpuError::Reversed(a, b) => write!(f, "the range {a}-{b} runs backwards"),
            CpuError::TooHigh(cpu) => write!(f, "CPU {cpu} is above {MAX_CPU}"),
            CpuError::Unavailable {
                flag,
                cpu,
                available,
            } => write!(
                f,
                "{flag}: this machine has no CPU {cpu} this process may use (it may use {available})"
            ),
            CpuError::NoneLeft(side) => write!(
                f,
                "no CPU left for the {side} once the other side has its own: name both --client-cpus and --server-cpus"
            ),
        }
    }
}

impl std::error::Error for CpuError {}

fn number(text: &str) -> Result<usize, CpuError> {
    let cpu: usize = text
        .trim()
        .parse()
        .map_err(|_| CpuError::NotANumber(text.trim().to_owned()))?;
    if cpu > MAX_CPU {
        return Err(CpuError::TooHigh(cpu));
    }
    Ok(cpu)
}

impl FromStr for CpuSet {
    type Err = CpuError;

    fn from_str(text: &str) -> Result<Self, CpuError> {
        let mut cpus = Vec::new();
        for item in text.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(CpuError::Empty);
            }
            match item.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (number(a)?, number(b)?);
                    if b < a {
                        return Err(CpuError::Reversed(a, b));
                    }
                    cpus.extend(a..=b);
                }
                None => cpus.push(number(item)?),
            }
        }
        CpuSet::new(cpus).ok_or(CpuError::Empty)
    }
}

impl fmt::Display for CpuSet {
    /// The compact list form: consecutive CPUs as ranges (`0-3,6`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            let mut end = start;
            while self.0.get(i + 1) == Some(&(end + 1)) {
                end += 1;
                i += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if end == start {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
            i += 1;
        }
        Ok(())
    }
}

impl CpuSet {
    /// The set of `cpus` (any order, repeats dropped); `None` if empty.
    pub fn new(mut cpus: Vec<usize>) -> Option<Self> {
        cpus.sort_unstable();
        cpus.dedup();
        (!cpus.is_empty()).then_some(CpuSet(cpus))
    }

    /// Its CPUs, ascending.
    pub fn cpus(&self) -> &[usize] {
        &self.0
    }

    /// How many CPUs it has (never 0).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a set has at least one CPU (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn without(&self, taken: &[&CpuSet]) -> Option<CpuSet> {
        CpuSet::new(
            self.0
                .iter()
                .copied()
                .filter(|c| !taken.iter().any(|t| t.0.contains(c)))
                .collect(),
        )
    }
}

/// The lower half of `cpus` (at least one): the load generator's by default.
fn lower_half(cpus: &CpuSet) -> CpuSet {
    CpuSet(cpus.0[..(cpus.len() / 2).max(1)].to_vec())
}

/// The CPUs this process may run on (its affinity), ascending; `None` where that cannot
/// be read.
pub fn available() -> Option<CpuSet> {
    CpuSet::new(
        core_affinity::get_core_ids()?
            .into_iter()
            .map(|c| c.id)
            .collect(),
    )
}

/// Where a pinned suite runs: the load generator's set and the servers' set(s), one
/// pass of the suite per server set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The load generator's CPUs.
    pub client: CpuSet,
    /// The servers' CPUs; several for a sweep, run in turn.
    pub servers: Vec<CpuSet>,
    /// What deserves a warning but not a refusal (client and server sharing CPUs).
    pub warnings: Vec<String>,
}

/// The placement of `client` and `servers` (either may be left out) on `available`.
/// Left out, the load generator gets the lower half of `available` (at least one CPU)
/// and the servers the rest; a side named alone gets the CPUs the other leaves (the
/// load generator the lower half if the servers' sets leave none).
///
/// # Errors
/// A CPU not in `available`, or no CPU left for a side that was not named.
pub fn placement(
    client: Option<CpuSet>,
    servers: Vec<CpuSet>,
    available: &CpuSet,
) -> Result<Placement, CpuError> {
    let check = |flag: &'static str, set: &CpuSet| -> Result<(), CpuError> {
        match set.0.iter().find(|c| !available.0.contains(c)) {
            Some(&cpu) => Err(CpuError::Unavailable {
                flag,
                cpu,
                available: available.to_string(),
            }),
            None => Ok(()),
        }
    };
    if let Some(client) = &client {
        check("--client-cpus", client)?;
    }
    for set in &servers {
        check("--server-cpus", set)?;
    }
    let (client, servers) = match (client, servers.is_empty()) {
        (Some(client), false) => (client, servers),
        (Some(client), true) => {
            let server = available
                .without(&[&client])
                .ok_or(CpuError::NoneLeft("servers"))?;
            (client, vec![server])
        }
        (None, false) => {
            // A sweep up to every CPU leaves none: the load generator then shares the
            // lower half, with the overlap warned about below.
            let taken: Vec<&CpuSet> = servers.iter().collect();
            let client = available
                .without(&taken)
                .unwrap_or_else(|| lower_half(available));
            (client, servers)
        }
        (None, true) => {
            let client = lower_half(available);
            let server = available
                .without(&[&client])
                .ok_or(CpuError::NoneLeft("servers"))?;
            (client, vec![server])
        }
    };
    let warnings = servers
        .iter()
        .filter(|s| s.0.iter().any(|c| client.0.contains(c)))
        .map(|s| {
            format!(
                "the load generator's CPUs ({client}) and the servers' ({s}) overlap: they compete for them, and a run may measure the client's share rather than the server"
            )
        })
        .collect();
    Ok(Placement {
        client,
        servers,
        warnings,
    })
}

/// Sizes `builder`'s worker threads to `cpus` and pins each thread it starts to one of
/// them in turn (workers first, so worker `i` gets CPU `i`; blocking-pool threads after
/// them stay within the set too).
pub fn pin_runtime(builder: &mut tokio::runtime::Builder, cpus: &CpuSet) {
    let ids: Arc<[usize]> = cpus.0.clone().into();
    let next = AtomicUsize::new(0);
    builder.worker_threads(cpus.len()).on_thread_start(move || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if let Some(&id) = ids.get(i % ids.len().max(1)) {
            core_affinity::set_for_current(core_affinity::CoreId { id });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> CpuSet {
        text.parse().unwrap()
    }

    #[test]
    fn lists_and_ranges_parse_to_sorted_unique_sets() {
        assert_eq!(set("0").cpus(), [0]);
        assert_eq!(set("0-3").cpus(), [0, 1, 2, 3]);
        assert_eq!(set("4,0,2").cpus(), [0, 2, 4]);
        assert_eq!(set(" 0-1, 6 ,1").cpus(), [0, 1, 6]);
        assert_eq!(set("3-3").cpus(), [3]);
    }

    #[test]
    fn bad_lists_are_refused_with_their_reason() {
        assert_eq!("".parse::<CpuSet>(), Err(CpuError::Empty));
        assert_eq!("0,,1".parse::<CpuSet>(), Err(CpuError::Empty));
        assert_eq!("a".parse::<CpuSet>(), Err(CpuError::NotANumber("a".into())));
        assert_eq!(
            "1-".parse::<CpuSet>(),
            Err(CpuError::NotANumber(String::new()))
        );
        assert_eq!("3-1".parse::<CpuSet>(), Err(CpuError::Reversed(3, 1)));
        assert_eq!(
            "0-4000000000".parse::<CpuSet>(),
            Err(CpuError::TooHigh(4_000_000_000))
        );
        assert_eq!(
            "-1".parse::<CpuSet>(),
            Err(CpuError::NotANumber(String::new()))
        );
    }

    #[test]
    fn sets_print_in_the_compact_list_form() {
        for text in ["0", "0-3", "0,2,4", "0-1,6", "1,3-5,9"] {
            assert_eq!(set(text).to_string(), text);
        }
    }

    #[test]
    fn the_default_splits_the_cpus_in_two() {
        let two = placement(None, Vec::new(), &set("0-1")).unwrap();
        assert_eq!((two.client, two.servers), (set("0"), vec![set("1")]));
        let sixteen = placement(None, Vec::new(), &set("0-15")).unwrap();
        assert_eq!(
            (sixteen.client, sixteen.servers),
            (set("0-7"), vec![set("8-15")])
        );
        let three = placement(None, Vec::new(), &set("0-2")).unwrap();
        assert_eq!((three.client, three.servers), (set("0"), vec![set("1-2")]));
        assert_eq!(
            placement(None, Vec::new(), &set("0")),
            Err(CpuError::NoneLeft("servers"))
        );
    }

    #[test]
    fn a_side_named_alone_gets_what_the_other_leaves() {
        let p = placement(Some(set("0-1")), Vec::new(), &set("0-7")).unwrap();
        assert_eq!(p.servers, vec![set("2-7")]);
        let p = placement(None, vec![set("4"), set("4-5")], &set("0-7")).unwrap();
        assert_eq!(p.client, set("0-3,6-7"));
        assert!(p.warnings.is_empty());
        // A sweep up to every CPU: the load generator shares the lower half, warned.
        let p = placement(None, vec![set("1"), set("0-1")], &set("0-1")).unwrap();
        assert_eq!(p.client, set("0"));
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn unknown_cpus_fail_and_overlaps_warn() {
        let err = placement(None, vec![set("2")], &set("0-1")).unwrap_err();
        assert_eq!(
            err,
            CpuError::Unavailable {
                flag: "--server-cpus",
                cpu: 2,
                available: "0-1".into()
            }
        );
        assert!(err.to_string().contains("no CPU 2"));
        let p = placement(Some(set("0-1")), vec![set("1")], &set("0-1")).unwrap();
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].contains("overlap"), "{:?}", p.warnings);
    }
}
