//! Live subscriptions of one connection: SUBSCRIBE starts one, PUSH frames carry its
//! messages, UNSUBSCRIBE (or the subscription's own end) stops it (PROTOCOL.md §6.7).
//!
//! A subscription is a task that opens the domain's stream, answers the SUBSCRIBE, then
//! forwards each message as a PUSH frame tagged with the subscription's id (the request
//! id of its SUBSCRIBE), which stays in flight for as long as the subscription lives.
//!
//! Flow control, so that a subscription neither grows memory nor starves answers:
//! - a PUSH frame takes room in the connection's byte budget exactly like an answer
//!   (tokio's semaphore is fair, so answers and PUSH frames get room in the order they
//!   asked for it, and one subscription asks for one frame at a time);
//! - at most `max_queued_pushes` frames of one subscription wait to be written; at that
//!   bound the task pulls nothing more from the domain's stream, so a slow peer makes the
//!   subscription fall behind *in the store*, whose bounded buffer then ends it with a
//!   RESYNC. Nothing here queues without bound.
//!
//! A change's PUSH payload is encoded once per server ([`EncodedPushes`]): the first
//! subscription to send it encodes it, the others share those bytes, and each frame
//! adds only its own header. The frame codec writes (and, where agreed, compresses) it
//! per connection as it would any payload.
//!
//! The frame that ends a subscription (a RESYNC, or an ERROR for a failed stream) is
//! queued in one step with freeing its id and dropping it from the registry, under the
//! registry's lock, so an UNSUBSCRIBE either stops the subscription first (and nothing
//! more is sent for it) or finds it already ended (and its answer, `ended: false`, is
//! queued after that last frame). What is not here: the read loop that starts these
//! tasks (`connection.rs`) and the request dispatch (`dispatch.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use domain::{AvailabilityStream, AvailabilityUpdate, EncodedChanges, Error, EventId, UpdateKind};
use futures::StreamExt;
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use super::dispatch::{decode, encode, error_frame};
use super::shared::Shared;
use crate::config::SUBSCRIPTIONS_WHAT;
use crate::frame::{Frame, HEADER_LEN, Kind, Opcode};
use crate::messages as m;

/// The live subscriptions of one connection, by id. `None` once the connection closes.
pub(super) struct Subscriptions {
    live: Mutex<Option<HashMap<u32, Live>>>,
    max: usize,
}

/// The registry's handle on one subscription's task.
struct Live {
    /// Dropping it stops the task (once its SUBSCRIBE has been answered).
    stop: oneshot::Sender<()>,
    /// Resolves once the task has ended and will send nothing more.
    done: oneshot::Receiver<()>,
}

/// The task's side of [`Live`].
struct Admitted {
    stop: oneshot::Receiver<()>,
    done: oneshot::Sender<()>,
}

impl Subscriptions {
    /// No subscriptions yet; at most `max` at once.
    pub(super) fn new(max: usize) -> Self {
        Subscriptions {
            live: Mutex::new(Some(HashMap::new())),
            max,
        }
    }

    /// Registers subscription `id`, if the cap allows.
    fn admit(&self, id: u32) -> Result<Admitted, Error> {
        let mut live = self.live.lock();
        let Some(live) = live.as_mut() else {
            return Err(Error::unavailable("the connection is closing"));
        };
        if live.len() >= self.max {
            return Err(Error::limit_exceeded(SUBSCRIPTIONS_WHAT, self.max as u64));
        }
        let (stop_tx, stop) = oneshot::channel();
        let (done, done_rx) = oneshot::channel();
        live.insert(
            id,
            Live {
                stop: stop_tx,
                done: done_rx,
            },
        );
        Ok(Admitted { stop, done })
    }

    fn remove(&self, id: u32) -> Option<Live> {
        self.live.lock().as_mut().and_then(|live| live.remove(&id))
    }

    /// Stops every subscription and admits no more: the connection is closing.
    pub(super) fn close(&self) {
        let live = self.live.lock().take();
        drop(live);
    }
}

/// Starts the subscription a SUBSCRIBE request asks for, or refuses it (a payload that
/// does not decode, one subscription too many), holding the request's in-flight `slot`
/// until the answer is queued. Called by the read loop, in the order frames are read.
pub(super) fn start(shared: &Arc<Shared>, request: &Frame, slot: OwnedSemaphorePermit) {
    let id = request.request_id;
    let admitted = decode::<m::SubscribeRequest>(&request.payload)
        .and_then(|asked| Ok((asked, shared.subscriptions.admit(id)?)));
    let shared = Arc::clone(shared);
    match admitted {
        Ok((asked, admitted)) => {
            tokio::spawn(subscribe(shared, id, asked, admitted, slot));
        }
        Err(error) => {
            let frame = error_frame(Opcode::Subscribe as u16, id, &error);
            tokio::spawn(async move {
                shared.send_answer(frame, true).await;
                drop(slot);
            });
        }
    }
}

/// Answers an UNSUBSCRIBE: stops the subscription it names, if it is live, and waits for
/// its task to end before answering, so no PUSH of it follows the answer.
pub(super) async fn unsubscribe(shared: Arc<Shared>, request: Frame, slot: OwnedSemaphorePermit) {
    let id = request.request_id;
    let opcode = Opcode::Unsubscribe as u16;
    let answer = match decode::<m::UnsubscribeRequest>(&request.payload) {
        Err(error) => error_frame(opcode, id, &error),
        Ok(asked) => {
            let live = shared.subscriptions.remove(asked.subscription_id);
            let ended = live.is_some();
            if let Some(Live { stop, done }) = live {
                drop(stop);
                // Err only: the task drops its sender when it ends.
                let _ = done.await;
            }
            match encode(&m::UnsubscribeResponse { ended }) {
                Ok(payload) => Frame {
                    kind: Kind::Response,
                    opcode,
                    request_id: id,
                    payload,
                },
                Err(error) => error_frame(opcode, id, &error),
            }
        }
    };
    shared.send_answer(answer, true).await;
    drop(slot);
}

/// One subscription's task: open the stream and answer the SUBSCRIBE (this part is not
/// stopped early: every request gets its answer), then forward messages until the
/// stream ends it or it is stopped.
async fn subscribe(
    shared: Arc<Shared>,
    id: u32,
    asked: m::SubscribeRequest,
    admitted: Admitted,
    slot: OwnedSemaphorePermit,
) {
    let Admitted { stop, done } = admitted;
    let opcode = Opcode::Subscribe as u16;
    // Start no work while earlier frames are waiting for room.
    let opened = if shared.queue.has_room().await {
        shared
            .api
            .watch_availability(EventId(asked.event_id), asked.from_version)
            .await
    } else {
        Err(Error::unavailable("the connection is closing"))
    };
    let ended_itself = match opened {
        Err(error) => finish(&shared, id, error_frame(opcode, id, &error), None, true).await,
        Ok(stream) => {
            let ok = Frame {
                kind: Kind::Response,
                opcode,
                request_id: id,
                payload: Bytes::new(),
            };
            shared.send_answer(ok, false).await;
            drop(slot);
            tokio::select! {
                biased;
                _ = stop => false,
                ended = forward(&shared, id, &asked, stream) => ended,
            }
        }
    };
    if !ended_itself {
        // Stopped (by UNSUBSCRIBE or the connection closing) or the writer is gone.
        shared.subscriptions.remove(id);
        shared.ids.lock().remove(&id);
    }
    drop(done);
}

/// Forwards the stream as PUSH frames, at most `max_queued_pushes` waiting to be written
/// at a time. Returns `true` once it has queued the subscription's last frame (and freed
/// its id), `false` if the connection's writer went away first.
async fn forward(
    shared: &Shared,
    id: u32,
    asked: &m::SubscribeRequest,
    mut stream: AvailabilityStream,
) -> bool {
    let pushes = Arc::new(Semaphore::new(shared.max_queued_pushes.max(1)));
    let mut last_version = asked.from_version.unwrap_or(0);
    loop {
        // Room for one more of this subscription's frames, *before* pulling a message:
        // a subscription that cannot send does not read, and the store notices.
        let Ok(permit) = Arc::clone(&pushes).acquire_owned().await else {
            return false;
        };
        let (frame, last) = match stream.next().await {
            Some(Ok(update)) => {
                last_version = update.version;
                let last = update.kind == UpdateKind::Resync;
                match push_frame(id, &update, &shared.pushes, shared.max_response) {
                    Ok(frame) => (frame, last),
                    Err(error) => (error_frame(Opcode::Subscribe as u16, id, &error), true),
                }
            }
            Some(Err(error)) => (error_frame(Opcode::Subscribe as u16, id, &error), true),
            // The stream ended without saying why: tell the subscriber where to resume.
            None => {
                let resync = AvailabilityUpdate {
                    event_id: EventId(asked.event_id),
                    kind: UpdateKind::Resync,
                    version: last_version,
                    sections: Vec::new(),
                    seats: Vec::new(),
                    committed_at: chrono::Utc::now(),
                };
                match push_frame(id, &resync, &shared.pushes, shared.max_response) {
                    Ok(frame) => (frame, true),
                    Err(error) => (error_frame(Opcode::Subscribe as u16, id, &error), true),
                }
            }
        };
        if last {
            return finish(shared, id, frame, Some(permit), false).await;
        }
        let Some(queued) = shared.queue.reserve(frame).await else {
            return false;
        };
        if shared.answers.send(queued.holding(permit)).await.is_err() {
            return false;
        }
    }
}

/// PUSH payloads of one server, each change encoded once and shared by every
/// subscription that sends it (only the frame header, with the subscription's id, is
/// each frame's own).
pub(super) type EncodedPushes = Arc<EncodedChanges<Bytes>>;

/// The PUSH frame carrying `update`, its payload from `pushes` when another subscriber
/// already encoded the same change.
fn push_frame(
    id: u32,
    update: &AvailabilityUpdate,
    pushes: &EncodedChanges<Bytes>,
    max_frame: usize,
) -> Result<Frame, Error> {
    let payload = pushes.get_or_encode(update, push_payload)?;
    if payload.len() + HEADER_LEN > max_frame {
        return Err(Error::limit_exceeded("response size", max_frame as u64));
    }
    Ok(Frame::push(id, payload))
}

/// A PUSH frame's payload: the update's postcard encoding.
fn push_payload(update: &AvailabilityUpdate) -> Result<Bytes, Error> {
    encode(&m::AvailabilityUpdate::from(update))
}

/// Queues the last frame of subscription `id` together with ending it: dropped from the
/// registry and its id freed, in one step under the registry's lock. Unless
/// `always_send` (the answer to the SUBSCRIBE itself, which is owed), a subscription
/// already stopped sends nothing. Returns `true` if it ended the subscription here.
async fn finish(
    shared: &Shared,
    id: u32,
    frame: Frame,
    permit: Option<OwnedSemaphorePermit>,
    always_send: bool,
) -> bool {
    let Some(mut queued) = shared.queue.reserve(frame).await else {
        return false;
    };
    if let Some(permit) = permit {
        queued = queued.holding(permit);
    }
    let Ok(sending) = shared.answers.reserve().await else {
        return false;
    };
    let mut live = shared.subscriptions.live.lock();
    let was_live = live.as_mut().and_then(|l| l.remove(&id)).is_some();
    if !was_live && !always_send {
        return false;
    }
    shared.ids.lock().remove(&id);
    sending.send(queued);
    true
}

#[cfg(test)]
mod tests {
    use domain::{SeatChange, SeatId, SeatState, SectionCount};

    use super::*;

    fn change(version: u64) -> AvailabilityUpdate {
        AvailabilityUpdate {
            event_id: EventId(7),
            kind: UpdateKind::Change,
            version,
            sections: (0..12)
                .map(|section_id| SectionCount {
                    section_id,
                    available: 100 + section_id,
                })
                .collect(),
            seats: vec![SeatChange {
                seat_id: SeatId(3),
                state: SeatState::Held,
            }],
            committed_at: chrono::DateTime::from_timestamp_micros(1_800_000_000_123_456)
                .unwrap_or_default(),
        }
    }

    /// What a subscription sent before payloads were shared: its own encoding.
    fn encoded_alone(id: u32, update: &AvailabilityUpdate) -> Frame {
        Frame::push(id, encode(&m::AvailabilityUpdate::from(update)).unwrap())
    }

    #[test]
    fn shared_payloads_make_the_same_frames_as_encoding_per_subscriber() {
        let pushes = EncodedChanges::default();
        for version in 1..=3 {
            let update = change(version);
            for id in [1, 2, 900] {
                let shared = push_frame(id, &update, &pushes, usize::MAX).unwrap();
                assert_eq!(
                    shared,
                    encoded_alone(id, &update),
                    "version {version}, id {id}"
                );
            }
        }
    }

    #[test]
    fn subscribers_of_one_change_share_one_buffer() {
        let pushes = EncodedChanges::default();
        let update = change(9);
        let a = push_frame(1, &update, &pushes, usize::MAX).unwrap();
        let b = push_frame(2, &update, &pushes, usize::MAX).unwrap();
        assert_eq!(a.payload.as_ptr(), b.payload.as_ptr());
    }

    #[test]
    fn a_push_over_the_frame_limit_is_refused_even_when_shared() {
        let pushes = EncodedChanges::default();
        let update = change(1);
        let fits = push_frame(1, &update, &pushes, usize::MAX).unwrap();
        let max = fits.payload.len() + HEADER_LEN - 1;
        let refused = push_frame(2, &update, &pushes, max).unwrap_err();
        assert_eq!(refused.code(), domain::ErrorCode::LimitExceeded);
    }
}
