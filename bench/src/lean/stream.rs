//! The lean clients' connection: plain TCP, or TLS over it when the harness runs with
//! `--tls` (netkit's connector: the run's development CA, the protocol's ALPN id). One
//! enum rather than a box, so a plain run pays one match per read or write and nothing
//! else.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use netkit::tls::{ClientStream, Connector};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A lean client's connection.
#[derive(Debug)]
pub enum LeanStream {
    /// Plain text.
    Plain(TcpStream),
    /// TLS, after its handshake.
    Tls(Box<ClientStream<TcpStream>>),
}

/// Connects to `addr` with `TCP_NODELAY`, then runs the TLS handshake when `tls` is
/// given.
///
/// # Errors
/// If it cannot connect, or the handshake fails (netkit's wording: "certificate
/// verification failed", "does not speak TLS").
pub async fn dial(addr: SocketAddr, tls: Option<&Connector>) -> io::Result<LeanStream> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    match tls {
        None => Ok(LeanStream::Plain(tcp)),
        Some(connector) => Ok(LeanStream::Tls(Box::new(
            connector.connect(tcp, addr).await?,
        ))),
    }
}

impl AsyncRead for LeanStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LeanStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            LeanStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for LeanStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            LeanStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            LeanStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            LeanStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            LeanStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            LeanStream::Plain(s) => s.is_write_vectored(),
            LeanStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LeanStream::Plain(s) => Pin::new(s).poll_flush(cx),
            LeanStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LeanStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            LeanStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
