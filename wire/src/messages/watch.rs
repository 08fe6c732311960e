//! The payloads of live subscriptions (PROTOCOL.md §6.7): the SUBSCRIBE and UNSUBSCRIBE
//! requests, UNSUBSCRIBE's response, and the availability update every PUSH frame
//! carries, with their domain conversions. Field and variant order is the wire format,
//! frozen like the rest of [`messages`](super). Framing, ids and flow control are not
//! here: they are the server's (`server/subscriptions.rs`) and the client's.

use serde::{Deserialize, Serialize};

use super::{SeatState, micros, time};

domain::mirror_enum!(
    /// What a PUSH says. Variant order is part of the wire format.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[allow(missing_docs)]
    pub enum UpdateKind <=> domain::UpdateKind { Change, Snapshot, Resync }
);

/// SUBSCRIBE request: the event, and the last version the subscriber saw, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SubscribeRequest {
    pub event_id: u64,
    pub from_version: Option<u64>,
}

/// UNSUBSCRIBE request: the subscription to end (the request id of its SUBSCRIBE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct UnsubscribeRequest {
    pub subscription_id: u32,
}

/// UNSUBSCRIBE response: whether it ended a live subscription (`false`: there was none
/// with that id on this connection, or it had already ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct UnsubscribeResponse {
    pub ended: bool,
}

/// One section's available seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SectionCount {
    pub section_id: u32,
    pub available: u32,
}

/// One seat's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SeatChange {
    pub seat_id: u32,
    pub state: SeatState,
}

/// The payload of a PUSH frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AvailabilityUpdate {
    pub event_id: u64,
    pub kind: UpdateKind,
    pub version: u64,
    pub sections: Vec<SectionCount>,
    pub seats: Vec<SeatChange>,
    pub committed_at_micros: i64,
}

impl From<&domain::AvailabilityUpdate> for AvailabilityUpdate {
    fn from(u: &domain::AvailabilityUpdate) -> Self {
        AvailabilityUpdate {
            event_id: u.event_id.0,
            kind: u.kind.into(),
            version: u.version,
            sections: u
                .sections
                .iter()
                .map(|s| SectionCount {
                    section_id: s.section_id,
                    available: s.available,
                })
                .collect(),
            seats: u
                .seats
                .iter()
                .map(|s| SeatChange {
                    seat_id: s.seat_id.0,
                    state: s.state.into(),
                })
                .collect(),
            committed_at_micros: micros(u.committed_at),
        }
    }
}

impl TryFrom<AvailabilityUpdate> for domain::AvailabilityUpdate {
    type Error = domain::Error;
    fn try_from(u: AvailabilityUpdate) -> Result<Self, Self::Error> {
        Ok(domain::AvailabilityUpdate {
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
            committed_at: time("committed_at", u.committed_at_micros)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn updates() -> impl Strategy<Value = domain::AvailabilityUpdate> {
        (
            any::<u64>(),
            prop::sample::select(domain::UpdateKind::ALL.to_vec()),
            any::<u64>(),
            prop::collection::vec((any::<u32>(), any::<u32>()), 0..8),
            prop::collection::vec((any::<u32>(), 0usize..3), 0..8),
            domain::strategies::time(),
        )
            .prop_map(|(event, kind, version, sections, seats, committed_at)| {
                let states = [
                    domain::SeatState::Available,
                    domain::SeatState::Held,
                    domain::SeatState::Sold,
                ];
                domain::AvailabilityUpdate {
                    event_id: domain::EventId(event),
                    kind,
                    version,
                    sections: sections
                        .into_iter()
                        .map(|(section_id, available)| domain::SectionCount {
                            section_id,
                            available,
                        })
                        .collect(),
                    seats: seats
                        .into_iter()
                        .map(|(seat, state)| domain::SeatChange {
                            seat_id: domain::SeatId(seat),
                            state: states[state],
                        })
                        .collect(),
                    committed_at,
                }
            })
    }

    proptest! {
        /// domain -> message -> bytes -> message -> domain is the identity.
        #[test]
        fn updates_round_trip(update in updates()) {
            let bytes = postcard::to_allocvec(&AvailabilityUpdate::from(&update)).unwrap();
            let back: AvailabilityUpdate = postcard::from_bytes(&bytes).unwrap();
            prop_assert_eq!(domain::AvailabilityUpdate::try_from(back).unwrap(), update);
        }
    }

    /// The variant indexes are the domain's discriminants, as PROTOCOL.md says.
    #[test]
    fn kinds_are_numbered_like_the_domain() {
        for kind in domain::UpdateKind::ALL {
            let bytes = postcard::to_allocvec(&UpdateKind::from(kind)).unwrap();
            assert_eq!(bytes, [kind as u8]);
        }
    }
}
