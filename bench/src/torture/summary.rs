//! What a torture run did, per protocol: calls by operation and by outcome, for the
//! command's table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::history::{Call, History, Outcome};
use crate::protocol::Protocol;

/// One protocol's calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtocolCalls {
    /// Its clients.
    pub clients: usize,
    /// Every call.
    pub calls: usize,
    /// Holds, confirms, cancels, get_booking, get_seat_map.
    pub by_operation: [usize; 5],
    /// Answered with a value.
    pub ok: usize,
    /// Refused (changing nothing).
    pub refused: usize,
    /// With no certain answer.
    pub indeterminate: usize,
}

/// The calls of each protocol in `history`, in report order.
pub fn per_protocol(history: &History) -> Vec<(Protocol, ProtocolCalls)> {
    let mut rows: BTreeMap<Protocol, ProtocolCalls> = BTreeMap::new();
    let mut clients = BTreeSet::new();
    for entry in &history.entries {
        let row = rows.entry(entry.client.protocol).or_default();
        if clients.insert(entry.client) {
            row.clients += 1;
        }
        row.calls += 1;
        let operation = match entry.call {
            Call::Hold { .. } => 0,
            Call::Confirm { .. } => 1,
            Call::Cancel { .. } => 2,
            Call::GetBooking { .. } => 3,
            Call::GetSeatMap => 4,
        };
        row.by_operation[operation] += 1;
        match entry.outcome {
            Outcome::Booking(_) | Outcome::SeatMap(_) => row.ok += 1,
            Outcome::Refused { .. } => row.refused += 1,
            Outcome::Indeterminate { .. } => row.indeterminate += 1,
        }
    }
    rows.into_iter().collect()
}

/// The table of [`per_protocol`].
pub fn render(rows: &[(Protocol, ProtocolCalls)]) -> String {
    let mut out = format!(
        "{:<8} {:>7} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>13}\n",
        "protocol",
        "clients",
        "calls",
        "hold",
        "confirm",
        "cancel",
        "booking",
        "seatmap",
        "ok",
        "refused",
        "indeterminate"
    );
    for (protocol, r) in rows {
        let [hold, confirm, cancel, booking, map] = r.by_operation;
        let _ = writeln!(
            out,
            "{:<8} {:>7} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>13}",
            protocol.name(),
            r.clients,
            r.calls,
            hold,
            confirm,
            cancel,
            booking,
            map,
            r.ok,
            r.refused,
            r.indeterminate
        );
    }
    out
}
