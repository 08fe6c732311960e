//! The JSON of one live-availability message: the `data:` of each event of
//! `GET /v1/events/{id}/availability/stream`, converted to and from
//! `domain::AvailabilityUpdate` (the server converts domain -> JSON, the client back).
//!
//! The SSE framing (`id:`, `event:`, keep-alives) is not here: it lives with the route
//! (`routes::availability`) and the client (`client::watch`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SeatState;

domain::mirror_enum!(
    /// What an availability message is; also its SSE `event:` name.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum UpdateKind <=> domain::UpdateKind {
        /// One committed change: `seats` are the seats it changed, `version` the previous
        /// message's plus one.
        Change,
        /// The whole picture at `version`: every section's count, no seats. Sent first
        /// when no version was named, or one older than the server still retains.
        Snapshot,
        /// The subscriber fell too far behind: `version` is the last version it was sent
        /// and the stream ends; resume from `version` to lose nothing.
        Resync,
    }
);

/// Seats still available in one section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SectionCount {
    /// Section id within the venue.
    pub section_id: u32,
    /// Seats neither held nor sold.
    pub available: u32,
}

/// One seat's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SeatChange {
    /// Seat id within the event.
    pub seat_id: u32,
    /// Its state after the change.
    pub state: SeatState,
}

/// One message of an event's availability stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityUpdate {
    /// Event id.
    pub event_id: u64,
    /// What this message is (the same as the SSE `event:` name).
    pub kind: UpdateKind,
    /// The inventory version this message shows (for a resync, the version to resume
    /// from); also the SSE `id:`.
    pub version: u64,
    /// Every section's available count after the change, in section order (empty in a
    /// resync).
    pub sections: Vec<SectionCount>,
    /// The seats the change touched, with their new state (empty unless `kind` is
    /// `change`).
    pub seats: Vec<SeatChange>,
    /// When the change was committed (for a snapshot or resync, when it was made), RFC
    /// 3339 in UTC to the microsecond.
    pub committed_at: DateTime<Utc>,
}

impl From<domain::AvailabilityUpdate> for AvailabilityUpdate {
    fn from(u: domain::AvailabilityUpdate) -> Self {
        AvailabilityUpdate {
            event_id: u.event_id.0,
            kind: u.kind.into(),
            version: u.version,
            sections: u
                .sections
                .into_iter()
                .map(|s| SectionCount {
                    section_id: s.section_id,
                    available: s.available,
                })
                .collect(),
            seats: u
                .seats
                .into_iter()
                .map(|s| SeatChange {
                    seat_id: s.seat_id.0,
                    state: s.state.into(),
                })
                .collect(),
            committed_at: u.committed_at,
        }
    }
}

impl From<AvailabilityUpdate> for domain::AvailabilityUpdate {
    fn from(u: AvailabilityUpdate) -> Self {
        domain::AvailabilityUpdate {
            event_id: u.event_id.into(),
            kind: u.kind.into(),
            version: u.version,
            sections: u
                .sections
                .into_iter()
                .map(|s| domain::SectionCount {
                    section_id: s.section_id,
                    available: s.available,
                })
                .collect(),
            seats: u
                .seats
                .into_iter()
                .map(|s| domain::SeatChange {
                    seat_id: s.seat_id.into(),
                    state: s.state.into(),
                })
                .collect(),
            committed_at: u.committed_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::strategies;
    use proptest::prelude::*;

    use super::*;

    fn update() -> impl Strategy<Value = domain::AvailabilityUpdate> {
        let kind = (0..domain::UpdateKind::ALL.len()).prop_map(|i| domain::UpdateKind::ALL[i]);
        let state = prop_oneof![
            Just(domain::SeatState::Available),
            Just(domain::SeatState::Held),
            Just(domain::SeatState::Sold),
        ];
        let sections = proptest::collection::vec(
            (any::<u32>(), any::<u32>()).prop_map(|(section_id, available)| domain::SectionCount {
                section_id,
                available,
            }),
            0..4,
        );
        let seats = proptest::collection::vec(
            (any::<u32>(), state).prop_map(|(seat, state)| domain::SeatChange {
                seat_id: seat.into(),
                state,
            }),
            0..4,
        );
        (
            any::<u64>(),
            kind,
            any::<u64>(),
            sections,
            seats,
            strategies::time(),
        )
            .prop_map(|(event, kind, version, sections, seats, committed_at)| {
                domain::AvailabilityUpdate {
                    event_id: event.into(),
                    kind,
                    version,
                    sections,
                    seats,
                    committed_at,
                }
            })
    }

    proptest! {
        /// domain -> JSON -> domain is the identity, to the microsecond.
        #[test]
        fn updates_round_trip(update in update()) {
            let json = serde_json::to_vec(&AvailabilityUpdate::from(update.clone())).unwrap();
            let back: AvailabilityUpdate = serde_json::from_slice(&json).unwrap();
            prop_assert_eq!(domain::AvailabilityUpdate::from(back), update);
        }
    }

    #[test]
    fn fields_are_snake_case_and_kinds_lower_case() {
        let update = AvailabilityUpdate {
            event_id: 7,
            kind: UpdateKind::Change,
            version: 3,
            sections: vec![SectionCount {
                section_id: 0,
                available: 9,
            }],
            seats: vec![SeatChange {
                seat_id: 4,
                state: SeatState::Held,
            }],
            committed_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({
                "event_id": 7,
                "kind": "change",
                "version": 3,
                "sections": [{"section_id": 0, "available": 9}],
                "seats": [{"seat_id": 4, "state": "held"}],
                "committed_at": "2023-11-14T22:13:20.123456Z",
            })
        );
        for kind in domain::UpdateKind::ALL {
            assert_eq!(
                serde_json::to_value(UpdateKind::from(kind)).unwrap(),
                kind.as_str()
            );
        }
    }
}
