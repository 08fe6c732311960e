//! What the tasks of one connection share ([`Shared`]): the API, the output queue and
//! the sender to the connection's writer, the request ids in flight, the live
//! subscriptions and the limits they need; and the one way an answer is queued for
//! writing ([`Shared::send_answer`]). The read loop, the deadlines and the writer are in
//! `connection.rs`; what a subscription does is in `subscriptions.rs`.

use std::collections::HashSet;
use std::sync::Arc;

use domain::SharedTicketing;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::queue::{Queue, Queued};
use super::subscriptions::{EncodedPushes, Subscriptions};
use crate::frame::Frame;

/// One connection's state, shared by its read loop and its request and subscription
/// tasks. The writer ends once every holder of it is gone.
pub(super) struct Shared {
    /// What the requests are served from.
    pub(super) api: SharedTicketing,
    /// The byte budget of frames waiting to be written.
    pub(super) queue: Arc<Queue>,
    /// Request ids in flight: read and not yet answered, or naming a live subscription.
    pub(super) ids: Mutex<HashSet<u32>>,
    /// To the connection's writer.
    pub(super) answers: mpsc::Sender<Queued>,
    /// The live subscriptions.
    pub(super) subscriptions: Subscriptions,
    /// The largest frame the server writes (header included).
    pub(super) max_response: usize,
    /// Most PUSH frames of one subscription waiting to be written.
    pub(super) max_queued_pushes: usize,
    /// The server's PUSH payloads, each change encoded once for every subscriber.
    pub(super) pushes: EncodedPushes,
}

impl Shared {
    /// Queues `frame` for writing, waiting for room in the byte budget; with `free_id`,
    /// frees its request id first, before the answer can reach the peer (which may then
    /// reuse the id at once). Does nothing once the writer is gone: the connection is
    /// closing anyway.
    pub(super) async fn send_answer(&self, frame: Frame, free_id: bool) {
        let id = frame.request_id;
        let Some(queued) = self.queue.reserve(frame).await else {
            return;
        };
        if free_id {
            self.ids.lock().remove(&id);
        }
        let _ = self.answers.send(queued).await;
    }
}
