//! One connection, from hello to close.
//!
//! The read loop decodes frames and hands each request to its own task, holding one of
//! `max_in_flight` permits; when they are all taken it stops reading, so a fast client
//! is slowed by TCP backpressure instead of growing the server's memory. A writer task
//! sends responses as they finish (batched: everything ready is written, then flushed).
//!
//! Deadlines: the hello and every frame must arrive whole within `frame_timeout` of
//! their first byte (a one-byte-at-a-time sender cannot hold a connection); a
//! connection with no frame for `idle_timeout` is closed; a response that cannot be
//! written within `write_timeout` (a peer that never reads) closes the connection.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use domain::{Error, SharedTicketing};
use futures::{SinkExt, StreamExt};
use netkit::connections::Counted;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::dispatch::{answer, error_frame};
use crate::codec::{CodecError, WireCodec};
use crate::config::Config;
use crate::frame::{Frame, NO_OPCODE};
use crate::handshake::{HELLO_LEN, NOT_QUARTET, Negotiated, negotiate};

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

/// Runs one connection to its end.
pub(super) async fn run(
    stream: TcpStream,
    api: SharedTicketing,
    config: Config,
    mut stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    let (read_half, write_half) = stream.into_split();
    let mut write_half = Counted(write_half);
    let clock = Arc::new(FrameClock::default());
    let mut reader = ClockedReader {
        inner: Counted(read_half),
        clock: Arc::clone(&clock),
    };

    let mut hello = [0u8; HELLO_LEN];
    match tokio::time::timeout(config.frame_timeout, reader.read_exact(&mut hello)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no hello in time")),
    }
    match negotiate(&hello) {
        Negotiated::Agreed { reply, .. } => write_half.write_all(&reply).await?,
        Negotiated::Refused { reply } => {
            write_half.write_all(&reply).await?;
            return write_half.shutdown().await;
        }
        Negotiated::NotQuartet => {
            write_half.write_all(NOT_QUARTET).await?;
            return write_half.shutdown().await;
        }
    }
    clock.reset(false);

    let mut frames = FramedRead::new(reader, WireCodec::new(config.server.max_request_bytes));
    let sink = FramedWrite::new(write_half, WireCodec::new(config.server.max_response_bytes));
    let (responses, outgoing) = mpsc::channel::<Frame>(config.max_in_flight.max(1));
    let writer = tokio::spawn(write_responses(sink, outgoing, config.write_timeout));
    let in_flight = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut last_frame = Instant::now();

    loop {
        let deadline = clock
            .started()
            .map_or(last_frame + config.idle_timeout, |t| {
                t + config.frame_timeout
            });
        tokio::select! {
            biased;
            _ = stopping.changed() => break,
            frame = frames.next() => {
                let Some(frame) = frame else { break };
                // The writer gave up: stop before the next buffered frame, not after all.
                if responses.is_closed() {
                    break;
                }
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(e) => {
                        // A stream we cannot frame is never resynchronised: say why, close.
                        let error = match &e {
                            CodecError::FrameTooLarge { max } => Error::limit_exceeded("frame size", *max as u64),
                            CodecError::BadHeader(reason) => Error::invalid_argument("header", reason.clone()),
                            CodecError::Io(_) => break,
                        };
                        let _ = responses.send(error_frame(NO_OPCODE, 0, &error)).await;
                        break;
                    }
                };
                last_frame = Instant::now();
                clock.reset(!frames.read_buffer().is_empty());
                let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else { break };
                let api = SharedTicketing::clone(&api);
                let responses = responses.clone();
                let max_response = config.server.max_response_bytes;
                tokio::spawn(async move {
                    let response = answer(api.as_ref(), frame, max_response).await;
                    // The writer is gone only if the connection is closing anyway.
                    let _ = responses.send(response).await;
                    drop(permit);
                });
            }
            () = clock.first_byte.notified() => {}
            // The writer gave up (the peer stopped reading): nothing more can be answered.
            () = responses.closed() => break,
            () = tokio::time::sleep_until(deadline) => {
                if clock.started().is_some() {
                    let limit = config.frame_timeout.as_millis() as u64;
                    let error = Error::limit_exceeded("frame read time (ms)", limit);
                    let _ = responses.send(error_frame(NO_OPCODE, 0, &error)).await;
                }
                break;
            }
        }
    }
    // Stop reading; let the requests in flight finish and their answers go out.
    drop(frames);
    drop(responses);
    writer.await.map_err(io::Error::other)?
}

/// Writes responses as they come, flushing once per batch of ready frames.
async fn write_responses(
    mut sink: FramedWrite<Counted<tokio::net::tcp::OwnedWriteHalf>, WireCodec>,
    mut outgoing: mpsc::Receiver<Frame>,
    write_timeout: std::time::Duration,
) -> io::Result<()> {
    while let Some(first) = outgoing.recv().await {
        let batch = async {
            sink.feed(first).await?;
            while let Ok(next) = outgoing.try_recv() {
                sink.feed(next).await?;
            }
            sink.flush().await
        };
        match tokio::time::timeout(write_timeout, batch).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(io::Error::other(e)),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "peer is not reading",
                ));
            }
        }
    }
    sink.into_inner().shutdown().await
}
