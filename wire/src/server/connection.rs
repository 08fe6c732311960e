//! One connection, from hello to close.
//!
//! The read loop decodes frames and hands each request to its own task. Budgets bound
//! what one connection can make the server hold: `max_in_flight` requests being
//! answered, and `max_queued_bytes` of encoded answers waiting to be written, within the
//! server's `max_total_queued_bytes` for all connections (`queue.rs`). Before reading
//! each frame the loop waits for a free in-flight slot *and* room in the byte budgets,
//! and a request's task starts no work while they are full, so a peer that
//! sends faster than it reads is slowed by TCP backpressure instead of growing the
//! server's memory. The kernel's share is bounded too: it holds at most
//! [`MAX_UNSENT_BYTES`](crate::config::MAX_UNSENT_BYTES) of unsent answers per
//! connection (`mod.rs` sets it on the socket), so the budgets fill, and the reading
//! stops, within about one large answer of a peer that has stopped reading, instead of
//! after the megabyte or more the kernel's send buffer would take. A writer task sends
//! answers as they finish (batched: everything ready is written, then flushed) and gives
//! their bytes back to the budget once they are on the socket.
//!
//! Request ids: 0 is reserved for connection-level errors, so a frame with id 0 ends the
//! connection with an `INVALID_ARGUMENT` connection error (field `request_id`). An id
//! still in flight is refused for that id (`INVALID_ARGUMENT`, field `request_id`,
//! reason `already in flight`), and the original request still gets its one answer.
//! A connection-level error frame is always the last frame: the answers to requests
//! read before it are written first.
//!
//! Deadlines: the hello and every frame must arrive whole within `frame_timeout` (for a
//! frame, from its first byte; time the server spends not reading, because of
//! backpressure, does not count), a connection with no frame for `idle_timeout` is
//! closed, and a batch of answers that cannot be written within `write_timeout` (a peer
//! that does not read) closes the connection, as does a connection with answers unsent
//! and no byte written for `write_stall_timeout`, whatever its writer waits for (the
//! stall clock, `queue.rs`, besides netkit's guard on each write).
//!
//! After a connection-level error, the read half lingers: the error frame and the FIN go
//! out, then what the peer still sends is read and discarded for a bounded time, so that
//! closing does not reset the connection before the peer has read the frame.
//!
//! SUBSCRIBE and UNSUBSCRIBE go to `subscriptions.rs`: a subscription's PUSH frames go
//! through the same byte budget and writer as answers, its id stays in flight while it
//! lives, and when the read loop ends (EOF, error, shutdown) every subscription of the
//! connection is stopped, so its domain stream is dropped at once.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use domain::auth::Credentials;
use domain::{Error, SharedTicketing};
use futures::{SinkExt, StreamExt};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::dispatch::{answer, error_frame};
use super::queue::{Pool, Queue, Queued, QueuedBytes, StallClock};
use super::shared::Shared;
use super::subscriptions::{self, EncodedPushes, Subscriptions};
use crate::codec::{CodecError, WireCodec};
use crate::config::Config;
use crate::frame::{Frame, Kind, NO_OPCODE, Opcode};
use crate::gauges::Gauges;
use crate::handshake::{Codecs, HELLO_LEN, NOT_QUARTET, Negotiated, negotiate, starts_like_magic};

/// Most frames written between two flushes, so one batch (and the budget it holds until
/// it is flushed) stays short while a subscription keeps the writer busy.
const MAX_BATCH: usize = 64;

/// Most scheduler rounds the writer lets pass, after a PUSH frame woke it, for the
/// connection's other subscriptions to queue theirs (see [`gather_pushes`]).
const MAX_GATHER_ROUNDS: usize = 16;

/// The reason given for a request id that is still in flight.
pub(crate) const ALREADY_IN_FLIGHT: &str = "already in flight";
/// The reason given for request id 0.
pub(crate) const ID_ZERO_RESERVED: &str = "0 is reserved for connection-level errors";

/// When the bytes of the frame being read started to arrive, shared between the socket
/// reader (which notices the first byte) and the read loop (which resets it after each
/// whole frame).
#[derive(Debug, Default)]
struct FrameClock {
    started: Mutex<Option<Instant>>,
    first_byte: Notify,
}

impl FrameClock {
    fn started(&self) -> Option<Instant> {
        *self.started.lock()
    }

    fn reset(&self, leftover: bool) {
        *self.started.lock() = leftover.then(Instant::now);
    }
}

/// The socket's read half, reporting the first byte of each frame to a [`FrameClock`].
struct ClockedReader<R> {
    inner: R,
    clock: Arc<FrameClock>,
}

impl<R: AsyncRead + Unpin> AsyncRead for ClockedReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut started = self.clock.started.lock();
            if started.is_none() {
                *started = Some(Instant::now());
                self.clock.first_byte.notify_one();
            }
        }
        polled
    }
}

/// The socket's write half, telling a [`StallClock`] of every byte it accepts.
struct ProgressWriter<W> {
    inner: W,
    clock: Arc<StallClock>,
}

impl<W> ProgressWriter<W> {
    fn record<T>(
        &self,
        polled: Poll<io::Result<T>>,
        wrote: impl Fn(&T) -> bool,
    ) -> Poll<io::Result<T>> {
        if let Poll::Ready(Ok(done)) = &polled
            && wrote(done)
        {
            self.clock.progressed();
        }
        polled
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for ProgressWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.record(polled, |n| *n > 0)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.record(polled, |n| *n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Counts a connection as open in the gauges for as long as it lives.
struct Open(Option<Gauges>);

impl Open {
    fn new(gauges: Option<Gauges>) -> Self {
        if let Some(gauges) = &gauges {
            gauges.opened();
        }
        Open(gauges)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(gauges) = &self.0 {
            gauges.closed();
        }
    }
}

/// Marks a connection as paused in the gauges for as long as it lives.
struct Paused<'a>(Option<&'a Gauges>);

impl<'a> Paused<'a> {
    fn new(gauges: Option<&'a Gauges>) -> Self {
        if let Some(gauges) = gauges {
            gauges.pause();
        }
        Paused(gauges)
    }
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        if let Some(gauges) = self.0 {
            gauges.resume();
        }
    }
}

/// Waits for a free in-flight slot and room in the byte budgets (the connection's and
/// the server's). Returns the slot and
/// whether it had to wait, or `None` once the connection's writer is gone.
async fn ready_for_more(
    in_flight: &Arc<Semaphore>,
    queue: &Queue,
) -> Option<(OwnedSemaphorePermit, bool)> {
    let mut waited = false;
    let slot = match Arc::clone(in_flight).try_acquire_owned() {
        Ok(slot) => slot,
        Err(TryAcquireError::Closed) => return None,
        Err(TryAcquireError::NoPermits) => {
            let _paused = Paused::new(queue.gauges.as_ref());
            waited = true;
            Arc::clone(in_flight).acquire_owned().await.ok()?
        }
    };
    if queue.is_closed() {
        return None;
    }
    if !queue.has_room_now() {
        let _paused = Paused::new(queue.gauges.as_ref());
        waited = true;
        if !queue.has_room().await {
            return None;
        }
    }
    Some((slot, waited))
}

/// What a read frame turns into.
enum Job {
    /// Answer it, as a request made with these credentials.
    Answer(Frame, Credentials),
    /// Send this error instead (its id is already in flight).
    Refuse(Frame),
    /// Send this answer, made already (AUTH's), and free its id.
    Ready(Frame),
}

/// What the first bytes of a connection were.
enum Hello {
    Whole([u8; HELLO_LEN]),
    NotQuartet,
}

/// Reads the client hello, judging the magic on every byte as it arrives: a peer whose
/// first bytes differ from it is answered at once, without waiting for eight bytes.
async fn read_hello<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Hello> {
    let mut hello = [0u8; HELLO_LEN];
    let mut filled = 0;
    while filled < HELLO_LEN {
        let n = reader.read(&mut hello[filled..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
        if !starts_like_magic(&hello[..filled]) {
            return Ok(Hello::NotQuartet);
        }
    }
    Ok(Hello::Whole(hello))
}

/// What a connection shares with every other connection of its server.
#[derive(Clone)]
pub(super) struct ServerWide {
    /// Each change's PUSH payload, encoded once.
    pub(super) pushes: EncodedPushes,
    /// The byte budget of answers waiting to be written, over all connections.
    pub(super) pool: Pool,
}

/// Runs one connection to its end, over its two halves (a TCP socket's, or a TLS
/// stream's after its handshake; `mod.rs` wraps them in the socket byte counters).
pub(super) async fn run<R, W>(
    read_half: R,
    mut write_half: W,
    peer: std::net::SocketAddr,
    api: SharedTicketing,
    server: ServerWide,
    config: Config,
    mut stopping: watch::Receiver<bool>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let _open = Open::new(config.gauges.clone());
    let clock = Arc::new(FrameClock::default());
    let mut reader = ClockedReader {
        inner: read_half,
        clock: Arc::clone(&clock),
    };

    let hello = match tokio::time::timeout(config.frame_timeout, read_hello(&mut reader)).await {
        Ok(hello) => hello?,
        Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no hello in time")),
    };
    let hello = match hello {
        Hello::Whole(hello) => hello,
        Hello::NotQuartet => {
            write_half.write_all(NOT_QUARTET).await?;
            write_half.shutdown().await?;
            linger(&mut reader).await;
            return Ok(());
        }
    };
    let codecs = if config.compression.enabled {
        Codecs::ALL
    } else {
        Codecs::NONE
    };
    let compression = match negotiate(&hello, codecs) {
        Negotiated::Agreed {
            reply, compression, ..
        } => {
            write_half.write_all(&reply).await?;
            compression
        }
        Negotiated::Refused { reply } => {
            write_half.write_all(&reply).await?;
            write_half.shutdown().await?;
            linger(&mut reader).await;
            return Ok(());
        }
        Negotiated::NotQuartet => {
            write_half.write_all(NOT_QUARTET).await?;
            write_half.shutdown().await?;
            linger(&mut reader).await;
            return Ok(());
        }
    };
    clock.reset(false);

    // Compression applies as frames are read and written, so every payload, however it
    // was made (a PUSH encoded once for many subscribers), goes out as this peer agreed.
    let min_bytes = config.compression.min_bytes;
    let frames_codec =
        WireCodec::new(config.server.max_request_bytes).compressing(compression, min_bytes);
    let mut frames = FramedRead::new(reader, frames_codec);
    let sink_codec =
        WireCodec::new(config.server.max_response_bytes).compressing(compression, min_bytes);
    let ServerWide { pushes, pool } = server;
    let queue = Arc::new(Queue::new(
        config.max_queued_bytes,
        pool,
        config.gauges.clone(),
    ));
    let write_half = ProgressWriter {
        inner: write_half,
        clock: Arc::clone(&queue.stall),
    };
    let sink = FramedWrite::new(write_half, sink_codec);
    let (answers, outgoing) = mpsc::channel::<Queued>(config.max_in_flight.max(1));
    let (say_last, last_word) = oneshot::channel::<Frame>();
    let writer = tokio::spawn(write_answers(
        sink,
        outgoing,
        last_word,
        Arc::clone(&queue),
        config.write_timeout,
        config.server.write_stall_timeout,
    ));
    let in_flight = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let shared = Arc::new(Shared {
        api,
        queue: Arc::clone(&queue),
        ids: Mutex::default(),
        answers,
        subscriptions: Subscriptions::new(config.max_subscriptions),
        max_response: config.server.max_response_bytes,
        max_queued_pushes: config.max_queued_pushes,
        pushes,
    });
    let mut last_frame = Instant::now();
    let mut closing_error: Option<Error> = None;
    // What AUTH last presented on this connection (nothing at first): every request
    // after it runs with these credentials, judged by `domain::auth::Guarded`.
    let mut credentials = Credentials::anonymous(Some(peer));

    loop {
        // Backpressure: read another frame only with a free in-flight slot and room for
        // answers. The peer is not the one holding things up while we wait, so its
        // clocks restart afterwards.
        let (slot, waited) = tokio::select! {
            biased;
            _ = stopping.changed() => break,
            ready = ready_for_more(&in_flight, &queue) => match ready {
                Some(ready) => ready,
                None => break,
            },
        };
        if waited {
            last_frame = Instant::now();
            clock.reset(!frames.read_buffer().is_empty());
        }
        let deadline = clock
            .started()
            .map_or(last_frame + config.idle_timeout, |t| {
                t + config.frame_timeout
            });
        tokio::select! {
            biased;
            _ = stopping.changed() => break,
            // An answer is waiting for room: stop waiting for frames, wait for room.
            () = queue.full.notified() => {}
            frame = frames.next() => {
                let Some(frame) = frame else { break };
                // The writer gave up: stop before the next buffered frame, not after all.
                if shared.answers.is_closed() {
                    break;
                }
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(e) => {
                        // A stream we cannot frame is never resynchronised: say why, close.
                        closing_error = match e {
                            CodecError::FrameTooLarge { max } => Some(Error::limit_exceeded("frame size", max as u64)),
                            CodecError::BadHeader(reason) => Some(Error::invalid_argument("header", reason)),
                            CodecError::BadCompressedPayload(reason) => Some(Error::invalid_argument("payload", reason)),
                            CodecError::Io(_) => None,
                        };
                        break;
                    }
                };
                last_frame = Instant::now();
                clock.reset(!frames.read_buffer().is_empty());
                if frame.request_id == 0 {
                    closing_error = Some(Error::invalid_argument("request_id", ID_ZERO_RESERVED));
                    break;
                }
                let fresh = shared.ids.lock().insert(frame.request_id);
                let opcode = Opcode::from_u16(frame.opcode).filter(|_| frame.kind == Kind::Request);
                match (fresh, opcode) {
                    (true, Some(Opcode::Subscribe)) => subscriptions::start(&shared, &frame, slot),
                    (true, Some(Opcode::Unsubscribe)) => {
                        tokio::spawn(subscriptions::unsubscribe(Arc::clone(&shared), frame, slot));
                    }
                    // In the read loop, so it applies to exactly the frames read after it.
                    (true, Some(Opcode::Auth)) => {
                        let answer = match super::dispatch::decode::<String>(&frame.payload) {
                            Ok(token) => {
                                let token = (!token.is_empty()).then_some(token.as_str());
                                credentials = Credentials::bearer(token, Some(peer));
                                Frame {
                                    kind: Kind::Response,
                                    opcode: frame.opcode,
                                    request_id: frame.request_id,
                                    payload: bytes::Bytes::new(),
                                }
                            }
                            Err(error) => error_frame(frame.opcode, frame.request_id, &error),
                        };
                        tokio::spawn(respond(Job::Ready(answer), Arc::clone(&shared), slot));
                    }
                    (true, _) => {
                        let job = Job::Answer(frame, credentials.clone());
                        tokio::spawn(respond(job, Arc::clone(&shared), slot));
                    }
                    (false, _) => {
                        let error = Error::invalid_argument("request_id", ALREADY_IN_FLIGHT);
                        let refusal = error_frame(frame.opcode, frame.request_id, &error);
                        tokio::spawn(respond(Job::Refuse(refusal), Arc::clone(&shared), slot));
                    }
                }
            }
            () = clock.first_byte.notified() => {}
            // The writer gave up (the peer stopped reading): nothing more can be answered.
            () = shared.answers.closed() => break,
            () = tokio::time::sleep_until(deadline) => {
                if clock.started().is_some() {
                    let limit = config.frame_timeout.as_millis() as u64;
                    closing_error = Some(Error::limit_exceeded("frame read time (ms)", limit));
                }
                break;
            }
        }
    }
    // Stop reading; the requests in flight finish and their answers go out, then the
    // connection-level error if there is one, last.
    let said_last =
        closing_error.is_some_and(|error| say_last.send(error_frame(NO_OPCODE, 0, &error)).is_ok());
    shared.subscriptions.close();
    drop(shared);
    let written = writer.await.map_err(io::Error::other)?;
    // The error frame and our FIN are on their way; the peer's unread bytes must not
    // turn them into a reset.
    if said_last && written.is_ok() {
        linger(frames.get_mut()).await;
    }
    written
}

/// How long a connection closed after a last word (a connection-level ERROR, a refused
/// hello) keeps reading and discarding what its peer still sends: 2 s, nginx's
/// `lingering_close` idea with a shorter `lingering_time`. Closing a socket with bytes
/// unread makes the kernel send a reset instead of a FIN, and a peer that has not read
/// the ERROR frame yet when the reset arrives never will (1 000 slowloris and big-frame
/// connections: 389 resets, issue 18). The write half is already shut down, so the
/// peer reads the frame and the end of the stream at once; two seconds is plenty for
/// a peer that is reading, and an attacker holds its slot no longer than that.
const LINGER_TIME: Duration = Duration::from_secs(2);

/// Most bytes a lingering connection discards before it closes anyway: 1 MiB, the rest
/// of one largest request frame (`max_request_bytes`), which a client sending a frame
/// over the limit may well be in the middle of. A peer sending more than that during
/// [`LINGER_TIME`] is not waiting for an answer.
const LINGER_BYTES: usize = 1 << 20;

/// Reads and discards what the peer still sends, until it closes its side, for at most
/// [`LINGER_TIME`] and [`LINGER_BYTES`], so the last frame written is not lost to a reset.
async fn linger<R: AsyncRead + Unpin>(reader: &mut R) {
    let mut scratch = vec![0u8; 16 * 1024];
    let mut discarded = 0;
    let drain = async {
        while discarded < LINGER_BYTES {
            match reader.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}

/// Answers one frame (or sends the refusal already made for it) through the queue.
async fn respond(job: Job, shared: Arc<Shared>, slot: OwnedSemaphorePermit) {
    match job {
        Job::Answer(request, credentials) => {
            // Start no work while earlier answers are waiting for room.
            if !shared.queue.has_room().await {
                return;
            }
            let answering = answer(shared.api.as_ref(), request, shared.max_response);
            let frame = domain::auth::scope(credentials, answering).await;
            shared.send_answer(frame, true).await;
        }
        // The id belongs to the request still in flight: leave it be.
        Job::Refuse(frame) => shared.send_answer(frame, false).await,
        Job::Ready(frame) => shared.send_answer(frame, true).await,
    }
    drop(slot);
}

/// Writes answers as they come, flushing once per batch of ready frames and giving each
/// batch's bytes back to the budget once it is on the socket; then the last word, if
/// any. When it ends, for whatever reason, it closes the budget *before* any byte still
/// held is given back, so nothing waiting for room (the read loop, a request not yet
/// started) goes ahead on a connection that is finished.
async fn write_answers<W: AsyncWrite + Unpin>(
    mut sink: FramedWrite<W, WireCodec>,
    mut outgoing: mpsc::Receiver<Queued>,
    mut last_word: oneshot::Receiver<Frame>,
    queue: Arc<Queue>,
    write_timeout: Duration,
    write_stall_timeout: Duration,
) -> io::Result<()> {
    let mut batch: Vec<QueuedBytes> = Vec::new();
    let gauges = queue.gauges.as_ref();
    let written = async {
        while let Some(first) = outgoing.recv().await {
            if first.frame.kind == Kind::Push {
                gather_pushes(&outgoing).await;
            }
            let write = async {
                let mut next = Some(first);
                while let Some(Queued { frame, bytes }) = next {
                    batch.push(bytes);
                    sink.feed(frame).await?;
                    next = if batch.len() < MAX_BATCH {
                        outgoing.try_recv().ok()
                    } else {
                        None
                    };
                }
                sink.flush().await
            };
            within(write_timeout, write, gauges).await?;
            batch.clear();
        }
        if let Ok(frame) = last_word.try_recv() {
            within(write_timeout, sink.send(frame), gauges).await?;
        }
        sink.into_inner().shutdown().await
    };
    // netkit's guard times a write under way; this clock also times answers that wait
    // while no write is under way (for room in the server's pool, say), so a connection
    // that has answers to send and sends nothing is closed whatever it waits for.
    let result = tokio::select! {
        biased;
        result = written => result,
        () = queue.stall.stalled(write_stall_timeout) => {
            if let Some(gauges) = gauges {
                gauges.write_stalled();
            }
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("answers unsent and nothing written for {write_stall_timeout:?}"),
            ))
        }
    };
    queue.close();
    drop(batch);
    drop(outgoing);
    result
}

/// Lets the tasks already woken run before a batch that a PUSH frame started is written.
///
/// One change wakes every subscription of its event at once, and each queues one PUSH
/// frame. Written as they come, each frame was a write (a system call, and on loopback
/// the peer's whole receive path) of its own: the writer, woken by the first frame, ran
/// straight after that subscription (tokio runs a task woken by the running one next)
/// and found nothing else queued. Yielding lets the connection's other subscriptions
/// queue theirs first, so one write carries them all. It yields again while a round
/// added frames, at most [`MAX_GATHER_ROUNDS`] times and until a batch's worth waits;
/// answers to requests never wait here (only a batch that starts with a PUSH does).
async fn gather_pushes<T>(outgoing: &mpsc::Receiver<T>) {
    let mut queued = outgoing.len();
    for _ in 0..MAX_GATHER_ROUNDS {
        if queued + 1 >= MAX_BATCH {
            break;
        }
        tokio::task::yield_now().await;
        let now = outgoing.len();
        if now == queued {
            break;
        }
        queued = now;
    }
}

/// Runs one write with the write deadline; a peer that does not read fails it.
async fn within(
    write_timeout: Duration,
    write: impl Future<Output = Result<(), CodecError>>,
    gauges: Option<&Gauges>,
) -> io::Result<()> {
    match tokio::time::timeout(write_timeout, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(io::Error::other(e)),
        Err(_) => {
            if let Some(gauges) = gauges {
                gauges.write_timed_out();
            }
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "peer is not reading",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subscriptions woken by one change queue their frames before the writer, woken by
    /// the first of them, writes: one batch, not one write each.
    #[tokio::test(flavor = "current_thread")]
    async fn the_writer_gathers_the_pushes_of_tasks_already_woken() {
        let (tx, rx) = mpsc::channel::<u32>(256);
        let senders = 40;
        for i in 0..senders {
            let tx = tx.clone();
            // Each "subscription" takes a few turns before queueing, as a real one
            // passes through its stream and the byte budget.
            tokio::spawn(async move {
                for _ in 0..(i % 3) {
                    tokio::task::yield_now().await;
                }
                let _ = tx.send(i).await;
            });
        }
        gather_pushes(&rx).await;
        assert_eq!(rx.len(), senders as usize);
    }

    /// With nothing else to run, the writer stops gathering after one yield: the first
    /// poll gives way once, the second finds nothing new and returns.
    #[tokio::test(flavor = "current_thread")]
    async fn a_lone_push_is_not_held() {
        let (tx, rx) = mpsc::channel::<u32>(8);
        assert!(tx.send(1).await.is_ok());
        let mut gathering = std::pin::pin!(gather_pushes(&rx));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(
            gathering.as_mut().poll(&mut cx).is_pending(),
            "no yield at all"
        );
        assert!(
            gathering.as_mut().poll(&mut cx).is_ready(),
            "a lone push waited past one round"
        );
        assert_eq!(rx.len(), 1);
    }
}
