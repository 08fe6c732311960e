//! [`Demux`]: where a connection's reader sends each incoming frame, by request id.
//!
//! Two tables share one lock and one id space: callers waiting for an answer (an
//! ordinary call, or an UNSUBSCRIBE the client sent on its own), and live subscriptions,
//! whose PUSH frames go to a bounded queue per subscription. A subscription's id is not
//! reused while the server may still consider it live: it leaves the table only when the
//! server has ended it (a RESYNC or ERROR frame for it) or has answered the UNSUBSCRIBE
//! the client sent for it.
//!
//! The reader never waits: a PUSH for a full queue ends that subscription with a RESYNC
//! made here (its version the last one queued, so nothing is skipped) and an
//! UNSUBSCRIBE, sent through an unbounded control channel that carries at most one frame
//! per subscription. Each queue keeps one slot free for the message that ends it (a
//! RESYNC, an error, or the loss of the connection), so that message always fits.
//! What is not here: opening the connection and calls (`mod.rs`), and the stream a
//! consumer reads (`watch.rs`).

use std::collections::HashMap;

use domain::{AvailabilityUpdate, Error, EventId, Result, UpdateKind};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};

use super::{expect_response, io_error};
use crate::frame::{Frame, Kind, Opcode};
use crate::messages as m;

/// What a subscription's queue carries to its stream.
pub(super) type Delivery = Result<AvailabilityUpdate>;

/// What waits for the answer to a request id.
#[derive(Debug)]
enum Waiter {
    /// A caller.
    Call(oneshot::Sender<Frame>),
    /// Nobody: this is the UNSUBSCRIBE the client sent for subscription `.0`, whose
    /// answer frees that id.
    Unsubscribe(u32),
}

/// One subscription as the reader sees it.
#[derive(Debug)]
enum Route {
    /// Its messages go to `queue`.
    Live {
        queue: mpsc::Sender<Delivery>,
        event_id: EventId,
        /// The last version queued; a client-made RESYNC names it.
        last_version: u64,
    },
    /// The client has ended it and sent an UNSUBSCRIBE; frames for it are dropped.
    Closing,
}

/// How a PUSH left its subscription.
enum Ended {
    No,
    /// The server ended it (a RESYNC): its id is free.
    ByServer,
    /// The client ended it: an UNSUBSCRIBE must follow.
    ByClient,
}

#[derive(Debug, Default)]
struct Tables {
    calls: HashMap<u32, Waiter>,
    subscriptions: HashMap<u32, Route>,
    next_id: u32,
}

/// A connection's routing tables, shared by its reader, its callers and its streams.
#[derive(Debug)]
pub(super) struct Demux {
    /// `None` once the connection is gone.
    tables: Mutex<Option<Tables>>,
    /// To the connection's writer, for UNSUBSCRIBE frames. Weak, so that the writer (and
    /// with it the connection) ends once the client and every stream are dropped, even
    /// though the reader holds this.
    control: mpsc::WeakUnboundedSender<Frame>,
    /// Why the connection ended, when the server broke the protocol (an unreadable
    /// frame): the INTERNAL error its waiting callers get instead of the UNAVAILABLE of a
    /// connection that merely closed. Set before the tables are taken.
    broken: Mutex<Option<Error>>,
}

/// The connection is gone: UNAVAILABLE (see the mapping in the parent module).
fn closed() -> Error {
    super::connection_closed()
}

impl Demux {
    /// Empty tables; UNSUBSCRIBE frames go to `control` while it has strong holders.
    pub(super) fn new(control: &mpsc::UnboundedSender<Frame>) -> Self {
        Demux {
            tables: Mutex::new(Some(Tables {
                next_id: 1,
                ..Tables::default()
            })),
            control: control.downgrade(),
            broken: Mutex::new(None),
        }
    }

    /// Parks a caller under a fresh request id (never 0, never one in use).
    ///
    /// # Errors
    /// `UNAVAILABLE` once the connection is gone (`INTERNAL` if a protocol violation
    /// ended it).
    pub(super) fn register_call(&self, answer: oneshot::Sender<Frame>) -> Result<u32> {
        let mut tables = self.tables.lock();
        let tables = tables.as_mut().ok_or_else(|| self.ended(closed))?;
        let id = tables.fresh_id();
        tables.calls.insert(id, Waiter::Call(answer));
        Ok(id)
    }

    /// Parks the caller of a SUBSCRIBE and its subscription's queue under one fresh id,
    /// so the PUSH frames that may follow the answer at once have somewhere to go.
    ///
    /// # Errors
    /// `UNAVAILABLE` once the connection is gone (`INTERNAL` if a protocol violation
    /// ended it).
    pub(super) fn register_subscription(
        &self,
        answer: oneshot::Sender<Frame>,
        queue: mpsc::Sender<Delivery>,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<u32> {
        let mut tables = self.tables.lock();
        let tables = tables.as_mut().ok_or_else(|| self.ended(closed))?;
        let id = tables.fresh_id();
        tables.calls.insert(id, Waiter::Call(answer));
        tables.subscriptions.insert(
            id,
            Route::Live {
                queue,
                event_id,
                last_version: from_version.unwrap_or(0),
            },
        );
        Ok(id)
    }

    /// Forgets a caller that stopped waiting.
    pub(super) fn forget_call(&self, id: u32) {
        if let Some(tables) = self.tables.lock().as_mut() {
            tables.calls.remove(&id);
        }
    }

    /// Forgets a subscription the server refused (its SUBSCRIBE got an error).
    pub(super) fn forget_subscription(&self, id: u32) {
        if let Some(tables) = self.tables.lock().as_mut() {
            tables.subscriptions.remove(&id);
        }
    }

    /// The client is done with subscription `id` (its stream was dropped, or its
    /// SUBSCRIBE was not answered in time): if it is live, stop routing to it and send an
    /// UNSUBSCRIBE. Never waits.
    pub(super) fn unsubscribe(&self, id: u32) {
        if let Some(tables) = self.tables.lock().as_mut() {
            self.close_route(tables, id);
        }
    }

    /// Turns a live route into a closing one and sends its UNSUBSCRIBE; the route (and so
    /// the id) stays until the server answers it.
    fn close_route(&self, tables: &mut Tables, id: u32) {
        let Some(route) = tables.subscriptions.get_mut(&id) else {
            return;
        };
        if matches!(route, Route::Closing) {
            return;
        }
        *route = Route::Closing;
        let payload = postcard::to_allocvec(&m::UnsubscribeRequest {
            subscription_id: id,
        });
        let (Some(control), Ok(payload)) = (self.control.upgrade(), payload) else {
            // Nobody can write any more: the connection is going away with the client.
            tables.subscriptions.remove(&id);
            return;
        };
        let request_id = tables.fresh_id();
        tables.calls.insert(request_id, Waiter::Unsubscribe(id));
        let frame = Frame::request(Opcode::Unsubscribe, request_id, payload);
        if control.send(frame).is_err() {
            tables.calls.remove(&request_id);
            tables.subscriptions.remove(&id);
        }
    }

    /// The error for a caller whose connection ended before its answer: the protocol
    /// violation that ended it, if one did (INTERNAL), else `lost` (UNAVAILABLE).
    pub(super) fn ended(&self, lost: fn() -> Error) -> Error {
        self.broken.lock().clone().unwrap_or_else(lost)
    }

    /// The connection ends because the server broke the protocol: records `why` for the
    /// callers still waiting, then fails them and every subscription as [`Self::close`].
    pub(super) fn close_broken(&self, why: Error) {
        *self.broken.lock() = Some(why);
        self.close();
    }

    /// Routes one frame the reader read. Never waits.
    pub(super) fn route(&self, frame: Frame) {
        let mut guard = self.tables.lock();
        let Some(tables) = guard.as_mut() else {
            return;
        };
        let id = frame.request_id;
        if frame.kind == Kind::Push {
            self.push(tables, &frame);
            return;
        }
        match tables.calls.remove(&id) {
            Some(Waiter::Call(caller)) => {
                // Release the lock first: the caller may run at once.
                drop(guard);
                let _ = caller.send(frame);
            }
            Some(Waiter::Unsubscribe(subscription)) => {
                tables.subscriptions.remove(&subscription);
            }
            // Not an answer: an ERROR ending a subscription, or a late answer to a caller
            // that timed out (dropped).
            None if frame.kind == Kind::Error
                && matches!(tables.subscriptions.get(&id), Some(Route::Live { .. })) =>
            {
                let error = expect_response(frame)
                    .err()
                    .unwrap_or_else(|| Error::internal("an error frame that carries no error"));
                if let Some(Route::Live { queue, .. }) = tables.subscriptions.remove(&id) {
                    let _ = queue.try_send(Err(error));
                }
            }
            None => {}
        }
    }

    /// Queues one PUSH frame's message for its subscription.
    fn push(&self, tables: &mut Tables, frame: &Frame) {
        let id = frame.request_id;
        let Some(Route::Live {
            queue,
            event_id,
            last_version,
        }) = tables.subscriptions.get_mut(&id)
        else {
            // Closing, or never ours: nobody wants it.
            return;
        };
        let update = postcard::from_bytes::<m::AvailabilityUpdate>(&frame.payload)
            .map_err(|e| io_error("cannot decode a PUSH", e))
            .and_then(AvailabilityUpdate::try_from);
        let ended = match update {
            Err(error) => {
                let _ = queue.try_send(Err(error));
                Ended::ByClient
            }
            Ok(update) if update.kind == UpdateKind::Resync => {
                // The server ended it; the slot kept free for the last message takes it.
                let _ = queue.try_send(Ok(update));
                Ended::ByServer
            }
            Ok(update) if queue.capacity() > 1 => {
                *last_version = update.version;
                let _ = queue.try_send(Ok(update));
                Ended::No
            }
            Ok(_) => {
                // The consumer is too slow: end the stream here, where nothing was
                // skipped, and let the server know.
                let resync = AvailabilityUpdate {
                    event_id: *event_id,
                    kind: UpdateKind::Resync,
                    version: *last_version,
                    sections: Vec::new(),
                    seats: Vec::new(),
                    committed_at: chrono::Utc::now(),
                };
                let _ = queue.try_send(Ok(resync));
                Ended::ByClient
            }
        };
        match ended {
            Ended::No => {}
            Ended::ByServer => {
                tables.subscriptions.remove(&id);
            }
            Ended::ByClient => self.close_route(tables, id),
        }
    }

    /// The connection is gone: wakes every waiting caller with an error (by dropping its
    /// sender) and ends every live subscription with one `UNAVAILABLE` error.
    pub(super) fn close(&self) {
        let Some(tables) = self.tables.lock().take() else {
            return;
        };
        for route in tables.subscriptions.into_values() {
            if let Route::Live { queue, .. } = route {
                let _ = queue.try_send(Err(
                    self.ended(|| Error::unavailable("the connection to the server was lost"))
                ));
            }
        }
    }
}

impl Tables {
    /// A request id not in use as a call or a subscription (never 0).
    fn fresh_id(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if id != 0 && !self.calls.contains_key(&id) && !self.subscriptions.contains_key(&id) {
                return id;
            }
        }
    }
}
