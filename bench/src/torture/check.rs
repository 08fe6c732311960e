//! The linearizability check: for each seat, is there one order of its operations,
//! consistent with real time (an operation that ended before another began comes first),
//! in which every answer is what the seat model gives?
//!
//! The search is Wing and Gong's, with Lowe's memoization, as Porcupine implements it:
//! the operations' calls and returns in one time-ordered list; repeatedly take a call
//! that precedes every remaining return, step the model, and lift the operation out of
//! the list; on reaching a return whose operation is not placed yet, backtrack. A
//! configuration (the set of operations placed, the states the seat may be in) seen
//! before is not explored twice, which makes the search polynomial in practice for a
//! seat's few concurrent clients. The model is nondeterministic (an indeterminate write
//! happened or not, a hold may have lapsed), so the search follows the set of states the
//! seat can be in, never branching on them.
//!
//! An indeterminate operation's return is placed after every other: it may take effect
//! at any time after it began, and placing it as "not happened" is always possible.
//!
//! Not here: projecting the run onto seats ([`super::project`]) and the seat's rules
//! ([`super::model`]).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Duration;

use domain::SeatId;

use super::history::{Call, History, Outcome};
use super::model::{Reason, SeatModel, SeatOp};
use super::project;

/// The most configurations the search of one seat may remember before it gives up: its
/// memory bound (each is a short bitset of the operations placed past the first unplaced
/// one, and the seat's possible states).
pub const DEFAULT_MAX_CONFIGURATIONS: usize = 4_000_000;

/// How many placed operations before the stuck one a violation shows.
const CONTEXT: usize = 8;

/// How many concurrent operations a violation shows.
const CONCURRENT_SHOWN: usize = 16;

/// What the check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every seat's history has an order that explains it.
    Linearizable,
    /// A seat's history has none: the first such seat (by the time of the operation
    /// the search could not place).
    Violation(Box<Violation>),
    /// Two holds were answered with the same booking id.
    DuplicateBooking {
        /// The first hold's index in the history.
        first: usize,
        /// The second's.
        second: usize,
    },
    /// The search of a seat outgrew its memory bound before deciding.
    Inconclusive {
        /// The seat.
        seat: SeatId,
    },
}

/// A seat whose history no order explains, and the sub-history that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The seat.
    pub seat: SeatId,
    /// Operations in the seat's history.
    pub seat_ops: usize,
    /// The operation the search could place no further than (index in the history).
    pub stuck: usize,
    /// The states the seat could be in at the furthest point the search reached.
    pub states: Vec<SeatModel>,
    /// Why the stuck operation cannot follow each of those states (empty when it can,
    /// and what fails is a later operation's return).
    pub reasons: Vec<(SeatModel, Reason)>,
    /// The last operations placed on that furthest path, in order (history indexes).
    pub placed_before: Vec<usize>,
    /// Operations overlapping the stuck one in time (history indexes).
    pub concurrent: Vec<usize>,
}

/// One seat's share of the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatStats {
    /// The seat.
    pub seat: SeatId,
    /// Operations in its history.
    pub ops: usize,
    /// Configurations the search remembered.
    pub configurations: usize,
}

/// The check of a whole history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The conclusion.
    pub verdict: Verdict,
    /// Per seat.
    pub seats: Vec<SeatStats>,
}

/// Checks `history` seat by seat, each search remembering at most `max_configurations`.
pub fn check(history: &History, max_configurations: usize) -> Report {
    let mut seats = Vec::new();
    let mut first_violation: Option<Box<Violation>> = None;
    let mut inconclusive = None;
    for &seat in &history.seats {
        let ops = project::seat_history(history, seat);
        let (outcome, configurations) = check_seat(seat, &ops, max_configurations);
        seats.push(SeatStats {
            seat,
            ops: ops.len(),
            configurations,
        });
        match outcome {
            SeatOutcome::Linearizable => {}
            SeatOutcome::Inconclusive => inconclusive = inconclusive.or(Some(seat)),
            SeatOutcome::Violation(v) => {
                let start = |v: &Violation| history.entries[v.stuck].start;
                if first_violation
                    .as_ref()
                    .is_none_or(|f| start(&v) < start(f))
                {
                    first_violation = Some(v);
                }
            }
        }
    }
    let verdict = if let Some(v) = first_violation {
        Verdict::Violation(v)
    } else if let Some((first, second)) = duplicate_booking(history) {
        Verdict::DuplicateBooking { first, second }
    } else if let Some(seat) = inconclusive {
        Verdict::Inconclusive { seat }
    } else {
        Verdict::Linearizable
    };
    Report { verdict, seats }
}

/// Two successful holds with the same booking id (each seat's search cannot see this:
/// the two bookings are on different seats).
fn duplicate_booking(history: &History) -> Option<(usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    for (index, entry) in history.entries.iter().enumerate() {
        if let (Call::Hold { .. }, Outcome::Booking(b)) = (&entry.call, &entry.outcome)
            && let Some(first) = seen.insert(b.id, index)
        {
            return Some((first, index));
        }
    }
    None
}

/// What the search of one seat concluded.
#[derive(Debug)]
pub enum SeatOutcome {
    /// An order explains it.
    Linearizable,
    /// None does.
    Violation(Box<Violation>),
    /// The memory bound was reached first.
    Inconclusive,
}

/// The set of operations placed so far, as a bitset, with a compact canonical key: the
/// words before `full` are all ones (placing goes mostly in time order), so a key is
/// `full` and the words after it.
struct Placed {
    bits: Vec<u64>,
    full: usize,
}

impl Placed {
    fn new(ops: usize) -> Self {
        Placed {
            bits: vec![0; ops.div_ceil(64)],
            full: 0,
        }
    }

    fn set(&mut self, op: usize) {
        self.bits[op / 64] |= 1 << (op % 64);
        while self.bits.get(self.full) == Some(&u64::MAX) {
            self.full += 1;
        }
    }

    fn clear(&mut self, op: usize) {
        self.bits[op / 64] &= !(1 << (op % 64));
        self.full = self.full.min(op / 64);
    }

    fn key(&self) -> (usize, Box<[u64]>) {
        let rest = &self.bits[self.full.min(self.bits.len())..];
        let used = rest.iter().rposition(|w| *w != 0).map_or(0, |i| i + 1);
        (self.full, rest[..used].into())
    }
}

/// The call/return list of the search, linked through arrays so lifting an operation
/// out and putting it back are O(1). Node `2i` is op `i`'s call, `2i + 1` its return.
struct Events {
    next: Vec<usize>,
    prev: Vec<usize>,
}

const END: usize = usize::MAX;

impl Events {
    /// The list of `ops`' calls and returns by time; at equal times calls first, so
    /// operations that touch are taken as concurrent (the generous reading).
    fn new(ops: &[SeatOp]) -> Self {
        let head = 2 * ops.len();
        let mut order: Vec<(Duration, bool, usize)> = Vec::with_capacity(2 * ops.len());
        for (i, op) in ops.iter().enumerate() {
            order.push((op.start, false, 2 * i));
            order.push((op.end.unwrap_or(Duration::MAX), true, 2 * i + 1));
        }
        order.sort_unstable();
        let mut next = vec![END; head + 1];
        let mut prev = vec![END; head + 1];
        let mut last = head;
        for &(_, _, node) in &order {
            next[last] = node;
            prev[node] = last;
            last = node;
        }
        Events { next, prev }
    }

    /// The time of the first return after `node` in the list: the latest instant any
    /// operation still to be placed can take effect at, since each must be placed
    /// before every pending return (`None`: only indeterminate calls are pending).
    fn first_return_after(&self, mut node: usize, ops: &[SeatOp]) -> Option<Duration> {
        while node != END {
            if !node.is_multiple_of(2) {
                return ops[node / 2].end;
            }
            node = self.next[node];
        }
        None
    }

    fn head(&self) -> usize {
        self.next[self.next.len() - 1]
    }

    fn remove(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = n;
        if n != END {
            self.prev[n] = p;
        }
    }

    fn restore(&mut self, node: usize) {
        let (p, n) = (self.prev[node], self.next[node]);
        self.next[p] = node;
        if n != END {
            self.prev[n] = node;
        }
    }

    fn lift(&mut self, op: usize) {
        self.remove(2 * op);
        self.remove(2 * op + 1);
    }

    /// Undoes the last `lift` (restores happen in the reverse order of removals).
    fn unlift(&mut self, op: usize) {
        self.restore(2 * op + 1);
        self.restore(2 * op);
    }
}

/// The states `op` (number `index` of the seat's history) leads to from any of
/// `states`, a hold lapsing first where it may.
///
/// # Errors
/// The reason of the last state tried, if none leads anywhere.
fn step_all(
    states: &[SeatModel],
    op: &SeatOp,
    index: usize,
    latest: Option<Duration>,
) -> Result<Vec<SeatModel>, Reason> {
    let mut next = Vec::with_capacity(states.len() + 1);
    let mut reason = None;
    for &state in states {
        for from in std::iter::once(state).chain(state.lapsed_by(latest)) {
            match from.step(op, index) {
                Ok((a, b)) => next.extend(std::iter::once(a).chain(b)),
                Err(r) => reason = Some(r),
            }
        }
    }
    if next.is_empty() {
        return Err(reason.unwrap_or(Reason::ReadWrongState));
    }
    next.sort_unstable();
    next.dedup();
    Ok(next)
}

/// What the search remembers having explored: the operations placed (as
/// [`Placed::key`]) and the states the seat may be in after them.
type Configuration = ((usize, Box<[u64]>), Vec<SeatModel>);

/// The furthest point a failing search reached.
struct Furthest {
    depth: usize,
    stuck: usize,
    states: Vec<SeatModel>,
    placed_before: Vec<usize>,
}

/// Searches one seat's history; returns the outcome and the configurations remembered.
pub fn check_seat(seat: SeatId, ops: &[SeatOp], max_configurations: usize) -> (SeatOutcome, usize) {
    let mut events = Events::new(ops);
    let mut placed = Placed::new(ops.len());
    let mut seen: HashSet<Configuration> = HashSet::new();
    let mut stack: Vec<(usize, Vec<SeatModel>)> = Vec::new();
    let mut states = vec![SeatModel::Available];
    let mut furthest: Option<Furthest> = None;
    let mut node = events.head();
    while events.head() != END {
        if seen.len() > max_configurations {
            return (SeatOutcome::Inconclusive, seen.len());
        }
        let op = node / 2;
        if node.is_multiple_of(2) {
            let latest = events.first_return_after(node, ops);
            if let Ok(next) = step_all(&states, &ops[op], op, latest) {
                placed.set(op);
                if seen.insert((placed.key(), next.clone())) {
                    stack.push((op, std::mem::replace(&mut states, next)));
                    events.lift(op);
                    node = events.head();
                    continue;
                }
                placed.clear(op);
            }
            node = events.next[node];
        } else {
            // `op` ends here and is not placed: no order of what is placed so far works.
            if furthest.as_ref().is_none_or(|f| stack.len() > f.depth) {
                furthest = Some(Furthest {
                    depth: stack.len(),
                    stuck: op,
                    states: states.clone(),
                    placed_before: stack
                        .iter()
                        .rev()
                        .take(CONTEXT)
                        .rev()
                        .map(|(op, _)| *op)
                        .collect(),
                });
            }
            let Some((back, before)) = stack.pop() else {
                let violation = furthest.map(|f| violation(seat, ops, f));
                return match violation {
                    Some(v) => (SeatOutcome::Violation(Box::new(v)), seen.len()),
                    None => (SeatOutcome::Linearizable, seen.len()),
                };
            };
            placed.clear(back);
            states = before;
            events.unlift(back);
            node = events.next[2 * back];
        }
    }
    (SeatOutcome::Linearizable, seen.len())
}

fn violation(seat: SeatId, ops: &[SeatOp], furthest: Furthest) -> Violation {
    let stuck = &ops[furthest.stuck];
    let reasons = furthest
        .states
        .iter()
        .filter_map(|s| s.step(stuck, furthest.stuck).err().map(|r| (*s, r)))
        .collect();
    let overlaps = |op: &SeatOp| {
        op.start <= stuck.end.unwrap_or(Duration::MAX)
            && op.end.unwrap_or(Duration::MAX) >= stuck.start
    };
    let concurrent = ops
        .iter()
        .filter(|op| op.entry != stuck.entry && overlaps(op))
        .take(CONCURRENT_SHOWN)
        .map(|op| op.entry)
        .collect();
    Violation {
        seat,
        seat_ops: ops.len(),
        stuck: stuck.entry,
        states: furthest.states,
        reasons,
        placed_before: furthest
            .placed_before
            .iter()
            .map(|&i| ops[i].entry)
            .collect(),
        concurrent,
    }
}

impl Violation {
    /// The violating sub-history as text: the operation no order explains, the states
    /// the seat could be in, why, what came just before and what ran beside it.
    pub fn render(&self, history: &History) -> String {
        let mut out = String::new();
        let entry = |i: usize| history.entries[i].to_string();
        let states: Vec<String> = self.states.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "seat {}: no order of its {} operations explains this one:\n  {}",
            self.seat,
            self.seat_ops,
            entry(self.stuck)
        );
        let _ = writeln!(
            out,
            "at the furthest point any order reached, the seat could only be: {}",
            states.join(" or ")
        );
        for (state, reason) in &self.reasons {
            let _ = writeln!(out, "  from {state}: {reason}");
        }
        if self.reasons.is_empty() {
            let _ = writeln!(
                out,
                "  it can follow that state, but every order placing it there fails later"
            );
        }
        let _ = writeln!(out, "the operations that order placed just before it:");
        for &i in &self.placed_before {
            let _ = writeln!(out, "  {}", entry(i));
        }
        let _ = writeln!(out, "operations of this seat overlapping it in time:");
        for &i in &self.concurrent {
            let _ = writeln!(out, "  {}", entry(i));
        }
        out
    }
}

impl Report {
    /// The verdict as text, with the violating sub-history if there is one.
    pub fn render(&self, history: &History) -> String {
        match &self.verdict {
            Verdict::Linearizable => {
                "linearizable: every seat's history has an order consistent with real time \
                 that the seat model explains\n"
                    .to_owned()
            }
            Verdict::Violation(v) => format!("NOT linearizable\n{}", v.render(history)),
            Verdict::DuplicateBooking { first, second } => format!(
                "NOT linearizable: two holds were given the same booking\n  {}\n  {}\n",
                history.entries[*first], history.entries[*second]
            ),
            Verdict::Inconclusive { seat } => format!(
                "inconclusive: the search of seat {seat} outgrew its bound before deciding; \
                 run shorter or with fewer clients\n"
            ),
        }
    }
}
