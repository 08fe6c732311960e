//! The checker on hand-made histories: ones some order explains, and ones none does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use domain::{BookingId, BookingStatus, ErrorCode, SeatId, SeatState};

use super::check::{self, DEFAULT_MAX_CONFIGURATIONS, Verdict};
use super::history::{BookingView, Call, ClientId, Entry, History, Outcome};
use super::model::{Reason, SeatModel};
use crate::protocol::Protocol;

const SEAT: SeatId = SeatId(7);
const TTL: Duration = Duration::from_secs(600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn entry(client: usize, call: Call, outcome: Outcome, start: u64, end: u64) -> Entry {
    let protocol = Protocol::APIS[client % 4];
    Entry {
        client: ClientId {
            protocol,
            index: client,
        },
        call,
        outcome,
        start: ms(start),
        end: ms(end),
    }
}

fn booking(id: u64, status: BookingStatus, version: u64) -> Outcome {
    Outcome::Booking(BookingView {
        id: BookingId(id),
        seats: vec![SEAT],
        status,
        version,
        hold_ttl: Some(TTL),
    })
}

fn hold() -> Call {
    Call::Hold { seat: SEAT }
}

fn confirm(id: u64, version: u64) -> Call {
    Call::Confirm {
        booking: BookingId(id),
        seat: SEAT,
        expected_version: version,
    }
}

fn cancel(id: u64) -> Call {
    Call::Cancel {
        booking: BookingId(id),
        seat: SEAT,
    }
}

fn read(state: SeatState) -> Outcome {
    Outcome::SeatMap(vec![(SEAT, Some(state))])
}

fn refused(code: ErrorCode) -> Outcome {
    Outcome::Refused {
        code,
        actual_version: None,
    }
}

fn unknown() -> Outcome {
    Outcome::Indeterminate {
        reason: "no answer within 5000 ms".into(),
    }
}

fn verdict(entries: Vec<Entry>) -> Verdict {
    let history = History::merge(vec![SEAT], [entries]);
    check::check(&history, DEFAULT_MAX_CONFIGURATIONS).verdict
}

fn assert_linearizable(entries: Vec<Entry>) {
    let history = History::merge(vec![SEAT], [entries]);
    let report = check::check(&history, DEFAULT_MAX_CONFIGURATIONS);
    assert_eq!(
        report.verdict,
        Verdict::Linearizable,
        "{}",
        report.render(&history)
    );
}

/// The violation, with the call the search could not place.
fn violation(entries: Vec<Entry>) -> (Box<check::Violation>, Call) {
    let history = History::merge(vec![SEAT], [entries]);
    match check::check(&history, DEFAULT_MAX_CONFIGURATIONS).verdict {
        Verdict::Violation(v) => {
            let call = history.entries[v.stuck].call;
            (v, call)
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn a_sequential_hold_confirm_cancel_is_linearizable() {
    assert_linearizable(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
        entry(0, Call::GetSeatMap, read(SeatState::Held), 2, 3),
        entry(
            0,
            confirm(1, 1),
            booking(1, BookingStatus::Confirmed, 2),
            4,
            5,
        ),
        entry(1, Call::GetSeatMap, read(SeatState::Sold), 6, 7),
        entry(0, cancel(1), booking(1, BookingStatus::Cancelled, 3), 8, 9),
        entry(1, hold(), booking(2, BookingStatus::Held, 1), 10, 11),
    ]);
}

#[test]
fn two_overlapping_successful_holds_of_one_seat_are_not() {
    let (v, call) = violation(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 10),
        entry(1, hold(), booking(2, BookingStatus::Held, 1), 5, 15),
    ]);
    assert_eq!(call, hold());
    assert_eq!(v.concurrent.len(), 1, "the other hold overlaps it");
}

#[test]
fn overlapping_holds_one_refused_are_linearizable_either_way_round() {
    // The refused one ended first, yet may have been applied second.
    assert_linearizable(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 10),
        entry(1, hold(), refused(ErrorCode::SeatsUnavailable), 2, 5),
    ]);
}

#[test]
fn a_hold_refused_while_the_seat_is_free_is_not() {
    let (v, _) = violation(vec![entry(
        0,
        hold(),
        refused(ErrorCode::SeatsUnavailable),
        0,
        1,
    )]);
    assert_eq!(
        v.reasons,
        vec![(SeatModel::Available, Reason::HoldRefusedWhileAvailable)]
    );
}

#[test]
fn a_read_concurrent_with_a_hold_may_see_either_state() {
    for state in [SeatState::Available, SeatState::Held] {
        assert_linearizable(vec![
            entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 10),
            entry(1, Call::GetSeatMap, read(state), 5, 15),
        ]);
    }
}

#[test]
fn a_read_seeing_a_state_no_order_explains_is_not() {
    // Held before the read began, released by nobody: it cannot read available.
    let (v, call) = violation(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
        entry(1, Call::GetSeatMap, read(SeatState::Available), 2, 3),
    ]);
    assert_eq!(call, Call::GetSeatMap);
    assert_eq!(v.reasons.len(), 1);
    assert_eq!(v.reasons[0].1, Reason::ReadWrongState);
    assert_eq!(v.placed_before.len(), 1, "the hold was placed before it");
}

#[test]
fn a_hold_that_succeeds_after_another_booking_was_confirmed_is_not() {
    let (v, call) = violation(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
        entry(
            0,
            confirm(1, 1),
            booking(1, BookingStatus::Confirmed, 2),
            2,
            3,
        ),
        entry(1, hold(), booking(2, BookingStatus::Held, 1), 4, 5),
    ]);
    assert_eq!(call, hold());
    assert_eq!(
        v.reasons,
        vec![(
            SeatModel::Sold {
                booking: BookingId(1),
                version: Some(2)
            },
            Reason::HoldOfUnavailableSeat
        )]
    );
}

#[test]
fn an_indeterminate_hold_may_not_have_happened() {
    assert_linearizable(vec![
        entry(0, hold(), unknown(), 0, 1),
        entry(1, hold(), booking(2, BookingStatus::Held, 1), 2, 3),
    ]);
}

#[test]
fn an_indeterminate_hold_may_have_happened_even_late() {
    assert_linearizable(vec![
        entry(0, hold(), unknown(), 0, 1),
        entry(1, Call::GetSeatMap, read(SeatState::Available), 2, 3),
        entry(1, Call::GetSeatMap, read(SeatState::Held), 4, 5),
    ]);
}

#[test]
fn a_hold_nobody_knows_cannot_be_released_before_its_ttl() {
    // The indeterminate hold happened (the seat read held), and only its booking, which
    // nobody was told, could release it.
    let (_, call) = violation(vec![
        entry(0, hold(), unknown(), 0, 1),
        entry(1, Call::GetSeatMap, read(SeatState::Held), 2, 3),
        entry(1, Call::GetSeatMap, read(SeatState::Available), 4, 5),
    ]);
    assert_eq!(call, Call::GetSeatMap);
}

#[test]
fn an_indeterminate_cancel_is_judged_both_ways() {
    let start = || {
        vec![
            entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
            entry(0, cancel(1), unknown(), 2, 3),
        ]
    };
    for seen in [SeatState::Held, SeatState::Available] {
        let mut entries = start();
        entries.push(entry(1, Call::GetSeatMap, read(seen), 4, 5));
        assert_linearizable(entries);
    }
    // Took effect late: held, then available.
    let mut late = start();
    late.push(entry(1, Call::GetSeatMap, read(SeatState::Held), 4, 5));
    late.push(entry(1, Call::GetSeatMap, read(SeatState::Available), 6, 7));
    assert_linearizable(late);
    // But once seen released it cannot come back.
    let mut back = start();
    back.push(entry(1, Call::GetSeatMap, read(SeatState::Available), 4, 5));
    back.push(entry(1, Call::GetSeatMap, read(SeatState::Held), 6, 7));
    assert!(matches!(verdict(back), Verdict::Violation(_)));
}

#[test]
fn a_confirm_naming_a_stale_version_must_be_refused() {
    let refusal = Outcome::Refused {
        code: ErrorCode::VersionMismatch,
        actual_version: Some(1),
    };
    assert_linearizable(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
        entry(0, confirm(1, 2), refusal, 2, 3),
    ]);
    let (v, _) = violation(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
        entry(
            0,
            confirm(1, 2),
            booking(1, BookingStatus::Confirmed, 2),
            2,
            3,
        ),
    ]);
    assert_eq!(v.reasons[0].1, Reason::ConfirmWithStaleVersion);
}

#[test]
fn a_finished_booking_is_refused_not_cancelled_again() {
    let first = || {
        vec![
            entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
            entry(0, cancel(1), booking(1, BookingStatus::Cancelled, 2), 2, 3),
        ]
    };
    for code in [ErrorCode::InvalidState, ErrorCode::NotFound] {
        let mut entries = first();
        entries.push(entry(1, cancel(1), refused(code), 4, 5));
        assert_linearizable(entries);
    }
    let mut twice = first();
    twice.push(entry(
        1,
        cancel(1),
        booking(1, BookingStatus::Cancelled, 3),
        4,
        5,
    ));
    let (v, _) = violation(twice);
    assert_eq!(v.reasons[0].1, Reason::WriteOfFinishedBooking);
}

#[test]
fn a_live_booking_is_never_not_found() {
    let (v, _) = violation(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
        entry(0, confirm(1, 1), refused(ErrorCode::NotFound), 2, 3),
    ]);
    assert_eq!(
        v.reasons[0].1,
        Reason::LiveBookingRefused(ErrorCode::NotFound)
    );
}

#[test]
fn a_hold_may_lapse_only_after_its_ttl() {
    let lapsed_at = |start: u64| {
        vec![
            entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
            entry(
                1,
                Call::GetSeatMap,
                read(SeatState::Available),
                start,
                start + 1,
            ),
        ]
    };
    assert_linearizable(lapsed_at(TTL.as_millis() as u64 + 5));
    assert!(matches!(verdict(lapsed_at(10)), Verdict::Violation(_)));
}

#[test]
fn one_booking_id_for_two_holds_is_caught_across_seats() {
    let other = SeatId(8);
    let mut second = booking(1, BookingStatus::Held, 1);
    if let Outcome::Booking(b) = &mut second {
        b.seats = vec![other];
    }
    let history = History::merge(
        vec![SEAT, other],
        [vec![
            entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
            entry(1, Call::Hold { seat: other }, second, 2, 3),
        ]],
    );
    assert_eq!(
        check::check(&history, DEFAULT_MAX_CONFIGURATIONS).verdict,
        Verdict::DuplicateBooking {
            first: 0,
            second: 1
        }
    );
}

#[test]
fn a_search_past_its_bound_is_inconclusive_not_a_pass() {
    let history = History::merge(
        vec![SEAT],
        [vec![
            entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 10),
            entry(1, Call::GetSeatMap, read(SeatState::Held), 1, 11),
            entry(2, Call::GetSeatMap, read(SeatState::Available), 2, 12),
        ]],
    );
    assert_eq!(
        check::check(&history, 1).verdict,
        Verdict::Inconclusive { seat: SEAT }
    );
}

#[test]
fn the_report_names_the_client_and_its_protocol() {
    let history = History::merge(
        vec![SEAT],
        [vec![
            entry(1, hold(), booking(1, BookingStatus::Held, 1), 0, 10),
            entry(2, hold(), booking(2, BookingStatus::Held, 1), 5, 15),
        ]],
    );
    let text = check::check(&history, DEFAULT_MAX_CONFIGURATIONS).render(&history);
    assert!(text.starts_with("NOT linearizable"), "{text}");
    assert!(
        text.contains("graphql#1") && text.contains("grpc#2"),
        "{text}"
    );
}

#[test]
fn an_indeterminate_call_does_not_let_a_hold_lapse_before_its_ttl() {
    // Booking 1 is live for ten minutes; a timed-out hold in between must not let the
    // search place booking 1's lapse early and so accept a second live hold at 4 ms.
    let (_, call) = violation(vec![
        entry(0, hold(), booking(1, BookingStatus::Held, 1), 0, 1),
        entry(1, hold(), unknown(), 2, 2),
        entry(2, hold(), booking(2, BookingStatus::Held, 1), 3, 4),
    ]);
    assert_eq!(call, hold());
}
