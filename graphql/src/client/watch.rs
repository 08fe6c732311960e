//! `watch_availability` over graphql-transport-ws: one WebSocket connection per watch,
//! carrying the one `availabilityChanged` subscription.
//!
//! The call returns once the first message arrived, so an error the server raises
//! before the stream (NOT_FOUND, BAD_USER_INPUT for a `fromVersion` ahead of the event,
//! a limit) is the call's `Err`, with the same code and details as any other call. The
//! protocol has no "subscription started" message, so a watch resuming from the
//! event's current version returns only when the next change arrives.
//!
//! After that the stream reads the socket directly, one message per item, so the only
//! buffering is the socket's: a caller that stops reading makes the server's
//! subscription fall behind, and the stream then yields the server's RESYNC and ends.
//! A connection that fails mid-stream yields one `UNAVAILABLE` error and ends; a RESYNC
//! or an error ends the stream too. Dropping the stream closes the connection, which
//! ends the server's subscription.

use chrono::{DateTime, Utc};
use domain::{
    AvailabilityStream, AvailabilityUpdate, Error, EventId, Result, SeatChange, SectionCount,
    UpdateKind,
};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::documents;
use super::model::SeatState;
use super::ws::{self, Incoming, Socket, Target};
use crate::error::from_graphql;
use crate::schema::availability::UpdateKind as GraphqlKind;

/// The id of the connection's one operation.
const OPERATION_ID: &str = "1";
/// The subscription's operation name.
const OPERATION_NAME: &str = "WatchAvailability";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    availability_changed: Update,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Update {
    event_id: String,
    kind: GraphqlKind,
    version: u64,
    sections: Vec<Section>,
    seats: Vec<Seat>,
    committed_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Section {
    section_id: u32,
    available: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Seat {
    seat_id: u32,
    state: SeatState,
}

impl TryFrom<Update> for AvailabilityUpdate {
    type Error = Error;
    fn try_from(u: Update) -> Result<Self> {
        let event_id = u.event_id.parse::<u64>().map_err(|_| {
            Error::internal(format!("the server sent a non-numeric id {:?}", u.event_id))
        })?;
        Ok(AvailabilityUpdate {
            event_id: EventId(event_id),
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
                    seat_id: s.seat_id.into(),
                    state: s.state.into(),
                })
                .collect(),
            committed_at: u.committed_at,
        })
    }
}

/// What reading the next message gave.
enum Step {
    Update(AvailabilityUpdate),
    Failed(Error),
    Ended,
}

async fn step(socket: &mut Socket) -> Step {
    let (data, errors) = match ws::receive::<Data>(socket).await {
        Ok(Incoming::Next { data, errors }) => (data, errors),
        Ok(Incoming::Failed(errors)) => (None, errors),
        Ok(Incoming::Complete) => return Step::Ended,
        Ok(Incoming::Acknowledged) => {
            return Step::Failed(Error::internal(
                "GraphQL WebSocket: a second connection_ack",
            ));
        }
        Err(error) => return Step::Failed(error),
    };
    if let Some(error) = errors.first() {
        return Step::Failed(from_graphql(error));
    }
    match data {
        Some(data) => match data.availability_changed.try_into() {
            Ok(update) => Step::Update(update),
            Err(error) => Step::Failed(error),
        },
        None => Step::Failed(Error::internal(
            "GraphQL WebSocket: a result with neither data nor errors",
        )),
    }
}

/// A subscription after its first message.
struct Live {
    socket: Socket,
    first: Option<AvailabilityUpdate>,
    over: bool,
}

impl Live {
    async fn next(mut self) -> Option<(Result<AvailabilityUpdate>, Self)> {
        if self.over {
            return None;
        }
        let step = match self.first.take() {
            Some(first) => Step::Update(first),
            None => step(&mut self.socket).await,
        };
        match step {
            Step::Update(update) => {
                // Nothing follows a resync: the server completes the operation.
                self.over = update.kind == UpdateKind::Resync;
                Some((Ok(update), self))
            }
            Step::Failed(error) => {
                self.over = true;
                Some((Err(error), self))
            }
            Step::Ended => None,
        }
    }
}

/// Subscribes to `event_id`'s availability from `from_version` over a new connection to
/// `target`, and waits for the first message.
///
/// # Errors
/// `UNAVAILABLE` if the server cannot be reached or the connection fails before the
/// first message; the server's error (NOT_FOUND, INVALID_ARGUMENT, LIMIT_EXCEEDED) if it
/// refuses the subscription.
pub async fn watch(
    target: &Target,
    event_id: EventId,
    from_version: Option<u64>,
) -> Result<AvailabilityStream> {
    let mut socket = ws::open(target).await?;
    let variables = json!({"eventId": event_id.to_string(), "fromVersion": from_version});
    ws::subscribe(
        &mut socket,
        OPERATION_ID,
        &documents::watch_availability(),
        OPERATION_NAME,
        variables,
    )
    .await?;
    let first = match step(&mut socket).await {
        Step::Update(first) => first,
        Step::Failed(error) => return Err(error),
        Step::Ended => {
            return Err(Error::unavailable(
                "GraphQL WebSocket: the server completed the subscription before its first message",
            ));
        }
    };
    let live = Live {
        socket,
        first: Some(first),
        over: false,
    };
    Ok(futures::stream::unfold(live, Live::next).boxed())
}
