//! The wire-protocol hook: a wrapper of each client connection's stream (installed
//! through the wire client's stream hook) that reads both directions as they go by and
//! counts the frame payloads (postcard bytes): what crosses the socket less the 8-byte
//! hello each way and each frame's 12-byte length and header. A compressed frame
//! (`--compression`) counts as it crossed: its 4-byte uncompressed length and the
//! codec's data, like a compressed HTTP body or gRPC message.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::PayloadMeter;
use super::frames::{self, MessageReader};

/// A connection's stream whose frame payloads are counted: writes as sent (requests),
/// reads as received (answers).
#[derive(Debug)]
pub struct MeteredStream<S> {
    inner: S,
    meter: Arc<PayloadMeter>,
    writes: MessageReader,
    reads: MessageReader,
}

impl<S> MeteredStream<S> {
    /// Counts into `meter` what crosses `inner`, which must be a connection's stream from
    /// its very first byte (the client hello).
    pub fn new(inner: S, meter: Arc<PayloadMeter>) -> Self {
        MeteredStream {
            inner,
            meter,
            writes: MessageReader::new(frames::WIRE),
            reads: MessageReader::new(frames::WIRE),
        }
    }

    fn wrote(&mut self, bytes: &[u8]) {
        let meter = &self.meter;
        let payload = self
            .writes
            .read(bytes, meter.capturing(), |m| meter.keep_request(m));
        meter.add_sent(payload);
    }

    fn was_read(&mut self, bytes: &[u8]) {
        let meter = &self.meter;
        let payload = self
            .reads
            .read(bytes, meter.capturing(), |m| meter.keep_response(m));
        meter.add_received(payload);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for MeteredStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.was_read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for MeteredStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.wrote(&buf[..n.min(buf.len())]);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            let mut left = n;
            for buf in bufs {
                if left == 0 {
                    break;
                }
                let take = left.min(buf.len());
                this.wrote(&buf[..take]);
                left -= take;
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
