//! The stream of accepted connections tonic serves, capped by netkit's
//! `ConnectionLimit`: tonic has no connection cap of its own, so each accepted socket
//! carries the permit that frees its slot when the connection ends.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use netkit::connections::{Admitted, ConnectionLimit, Counted};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// An accepted connection holding its slot under the cap.
#[derive(Debug)]
pub struct AdmittedStream {
    stream: Counted<TcpStream>,
    _permit: OwnedSemaphorePermit,
}

impl From<Admitted> for AdmittedStream {
    fn from(a: Admitted) -> Self {
        AdmittedStream {
            stream: Counted(a.stream),
            _permit: a.permit,
        }
    }
}

/// Connections accepted from `listener`, at most `max` open at once.
pub fn limited(
    listener: TcpListener,
    max: usize,
) -> impl Stream<Item = io::Result<AdmittedStream>> {
    let limit = ConnectionLimit::new(max);
    futures::stream::unfold((listener, limit), |(listener, limit)| async move {
        let next = limit.accept(&listener).await.map(AdmittedStream::from);
        Some((next, (listener, limit)))
    })
}

impl Connected for AdmittedStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.0.connect_info()
    }
}

impl AsyncRead for AdmittedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for AdmittedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
