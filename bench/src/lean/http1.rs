//! A minimal HTTP/1.1 client connection for load: one persistent connection (TCP, or TLS
//! over it with `--tls`: [`super::stream`]), the
//! request written from a buffer the caller fills, the response head parsed with
//! `httparse` straight from a reused read buffer, the body read by `Content-Length` (or
//! de-chunked), and nothing else: no URL parsing, no header maps, no allocation per
//! request once the buffers have grown. A connection the server closes is reopened on
//! the next request. A compressed body is handed over as it came, with its
//! `Content-Encoding`; decoding it is the caller's (see [`crate::compression`]).

use std::io;
use std::net::SocketAddr;

use netkit::tls::Connector;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::stream::{LeanStream, dial as dial_stream};
use crate::compression::Compression;

/// Headers a response may carry before the client gives up on it.
const MAX_HEADERS: usize = 32;

/// The largest response body accepted, as it comes or decoded (a 20 000-seat map is a
/// few MB).
pub const MAX_BODY: usize = 64 << 20;

/// How a response's body is delimited.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// One persistent HTTP/1.1 connection.
pub struct Http1Conn {
    addr: SocketAddr,
    stream: Option<LeanStream>,
    /// TLS for every (re)connection, when the run has it.
    tls: Option<Connector>,
    /// The request being built; the caller fills it, [`Http1Conn::round_trip`] sends it.
    request: Vec<u8>,
    /// What was read of the current response.
    read: Vec<u8>,
    /// A chunked body, de-chunked.
    decoded: Vec<u8>,
    /// Where the body is: `read[start..end]`, or `decoded` when `chunked`.
    body: (usize, usize),
    chunked: bool,
    /// The last response's `Content-Encoding`: `Some(Compression::None)` when it had
    /// none, `None` when it named one this client cannot decode.
    encoding: Option<Compression>,
}

impl Http1Conn {
    /// Opens a connection to `addr`.
    ///
    /// # Errors
    /// If it cannot connect.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        Self::connect_tls(addr, None).await
    }

    /// Opens a connection to `addr`, through TLS with `tls` (its ALPN should be
    /// http/1.1).
    ///
    /// # Errors
    /// If it cannot connect or the handshake fails.
    pub async fn connect_tls(addr: SocketAddr, tls: Option<Connector>) -> io::Result<Self> {
        let stream = dial_stream(addr, tls.as_ref()).await?;
        Ok(Http1Conn {
            addr,
            stream: Some(stream),
            tls,
            request: Vec::with_capacity(2048),
            read: Vec::with_capacity(16 * 1024),
            decoded: Vec::new(),
            body: (0, 0),
            chunked: false,
            encoding: Some(Compression::None),
        })
    }

    /// The request buffer, emptied: write the next request's head (and body) into it.
    pub fn request(&mut self) -> &mut Vec<u8> {
        self.request.clear();
        &mut self.request
    }

    /// The `Content-Encoding` of the last response's body: `Some(Compression::None)`
    /// when it had none, `None` when it named one the harness cannot decode.
    pub fn content_encoding(&self) -> Option<Compression> {
        self.encoding
    }

    /// The body of the last response, as it came (still compressed if it was).
    pub fn body(&self) -> &[u8] {
        if self.chunked {
            &self.decoded
        } else {
            self.read.get(self.body.0..self.body.1).unwrap_or_default()
        }
    }

    /// Sends the request in the buffer and reads the whole response; returns its status.
    /// On any error the connection is dropped, to be reopened by the next call.
    ///
    /// # Errors
    /// If the socket fails, the server closes the connection mid-response, or the
    /// response is not HTTP/1.1 this client can read.
    pub async fn round_trip(&mut self) -> io::Result<u16> {
        let result = self.exchange().await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self) -> io::Result<u16> {
        if self.stream.is_none() {
            // Boxed because the connect and TLS handshake futures are large (rustls'
            // connection state): held inline they would make every request's future
            // that size, and the load loop's boxed step future copies it whole on each
            // request, while reconnecting is rare.
            self.stream = Some(Box::pin(dial_stream(self.addr, self.tls.as_ref())).await?);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        stream.write_all(&self.request).await?;
        // TLS holds written records until flushed; plain TCP's flush does nothing.
        stream.flush().await?;
        self.read.clear();
        self.chunked = false;
        // The head.
        let (status, head_len, framing, mut close) = loop {
            if read_more(stream, &mut self.read).await? == 0 {
                return Err(eof("before the response head"));
            }
            // Left uninitialised: httparse writes the slots it fills, so a response
            // pays for its own few headers, not for clearing all MAX_HEADERS slots.
            let mut headers = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut []);
            match httparse::ParserConfig::default().parse_response_with_uninit_headers(
                &mut response,
                &self.read,
                &mut headers,
            ) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let status = response.code.unwrap_or(0);
                    let head = head_fields(response.headers)?;
                    self.encoding = head.encoding;
                    break (status, head_len, head.framing, head.close);
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("bad response head: {e}"),
                    ));
                }
            }
        };
        // The body.
        match framing {
            Framing::Length(length) => {
                if length > MAX_BODY {
                    return Err(too_large(length));
                }
                let end = head_len + length;
                while self.read.len() < end {
                    if read_more(stream, &mut self.read).await? == 0 {
                        return Err(eof("inside the response body"));
                    }
                }
                self.body = (head_len, end);
            }
            Framing::Chunked => {
                self.chunked = true;
                self.decoded.clear();
                let mut at = head_len;
                loop {
                    match httparse::parse_chunk_size(self.read.get(at..).unwrap_or_default()) {
                        Ok(httparse::Status::Complete((size_len, size))) => {
                            let size = usize::try_from(size).unwrap_or(usize::MAX);
                            if size > MAX_BODY.saturating_sub(self.decoded.len()) {
                                return Err(too_large(size));
                            }
                            let data = at + size_len;
                            // The chunk and its CRLF (the last chunk: just the CRLF, no
                            // trailers are expected).
                            let next = data + size + 2;
                            if self.read.len() >= next {
                                self.decoded
                                    .extend_from_slice(&self.read[data..data + size]);
                                at = next;
                                if size == 0 {
                                    break;
                                }
                                continue;
                            }
                        }
                        Ok(httparse::Status::Partial) => {}
                        Err(_) => {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "bad chunk size in the response body",
                            ));
                        }
                    }
                    if read_more(stream, &mut self.read).await? == 0 {
                        return Err(eof("inside a chunked response body"));
                    }
                }
            }
            Framing::UntilClose => {
                while read_more(stream, &mut self.read).await? > 0 {
                    if self.read.len() > head_len + MAX_BODY {
                        return Err(too_large(self.read.len() - head_len));
                    }
                }
                self.body = (head_len, self.read.len());
                close = true;
            }
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

/// Reads what is there into the spare capacity of `buf` (growing it when full).
async fn read_more(stream: &mut LeanStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(buf.capacity().max(16 * 1024));
    }
    stream.read_buf(buf).await
}

/// What the client needs of a response head.
struct Head {
    framing: Framing,
    /// The server closes the connection after this response.
    close: bool,
    /// The body's encoding: identity without a `Content-Encoding`, `None` for one the
    /// harness cannot decode.
    encoding: Option<Compression>,
}

/// Reads the framing, `Connection: close` and the encoding in one pass over the
/// headers (by length first: most names are none of the four and cost one compare).
fn head_fields(headers: &[httparse::Header<'_>]) -> io::Result<Head> {
    let mut head = Head {
        framing: Framing::UntilClose,
        close: false,
        encoding: Some(Compression::None),
    };
    for header in headers {
        let name = header.name.as_bytes();
        match name.len() {
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let length = content_length(header.value).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length")
                })?;
                if !matches!(head.framing, Framing::Chunked) {
                    head.framing = Framing::Length(length);
                }
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding")
                && header
                    .value
                    .windows(7)
                    .any(|w| w.eq_ignore_ascii_case(b"chunked")) =>
            {
                head.framing = Framing::Chunked;
            }
            10 if name.eq_ignore_ascii_case(b"connection")
                && header
                    .value
                    .windows(5)
                    .any(|w| w.eq_ignore_ascii_case(b"close")) =>
            {
                head.close = true;
            }
            16 if name.eq_ignore_ascii_case(b"content-encoding") => {
                head.encoding = crate::compression::from_content_encoding(header.value);
            }
            _ => {}
        }
    }
    Ok(head)
}

/// A `Content-Length` value: decimal digits, optionally surrounded by ASCII whitespace
/// (what `str::trim` then `usize::from_str` accepted, less a leading `+`).
fn content_length(value: &[u8]) -> Option<usize> {
    let digits = value.trim_ascii();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
        } else {
            None
        }
    })
}

fn eof(where_: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the server closed the connection {where_}"),
    )
}

fn too_large(size: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("response body of {size} bytes is over the {MAX_BODY}-byte limit"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request (read up to its blank line) with the next of
    /// `answers`, written in two pieces to exercise partial reads.
    async fn server(answers: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            for answer in answers {
                let mut seen = Vec::new();
                let mut byte = [0u8; 1];
                while !seen.ends_with(b"\r\n\r\n") {
                    if stream.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    seen.push(byte[0]);
                }
                let (a, b) = answer.split_at(answer.len() / 2);
                stream.write_all(a).await.unwrap();
                stream.flush().await.unwrap();
                tokio::task::yield_now().await;
                stream.write_all(b).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_on_one_connection() {
        let addr = server(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ])
        .await;
        let mut conn = Http1Conn::connect(addr).await.unwrap();
        for (status, body) in [(200, &b"hello"[..]), (404, b"abcde"), (200, b"")] {
            conn.request()
                .extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(conn.round_trip().await.unwrap(), status);
            assert_eq!(conn.body(), body);
        }
    }

    #[tokio::test]
    async fn a_compressed_body_comes_with_its_encoding_and_decodes() {
        let json = br#"{"id":1,"name":"a seat map, say"}"#.repeat(50);
        let gzipped = crate::compression::encode(Compression::Gzip, &json).unwrap();
        let zstded = crate::compression::encode(Compression::Zstd, &json).unwrap();
        let mut answers: Vec<&'static [u8]> = Vec::new();
        for (name, body) in [("gzip", gzipped), ("zstd", zstded)] {
            let mut answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-encoding: {name}\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            answer.extend_from_slice(&body);
            answers.push(answer.leak());
        }
        answers.push(b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\ncontent-length: 1\r\n\r\nx");
        answers.push(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
        let addr = server(answers).await;
        let mut conn = Http1Conn::connect(addr).await.unwrap();
        let mut decoded = Vec::new();
        for expected in [
            Some(Compression::Gzip),
            Some(Compression::Zstd),
            None,
            Some(Compression::None),
        ] {
            conn.request()
                .extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(conn.round_trip().await.unwrap(), 200);
            assert_eq!(conn.content_encoding(), expected);
            if let Some(encoding @ (Compression::Gzip | Compression::Zstd)) = expected {
                assert!(conn.body().len() < json.len() / 4);
                crate::compression::decode(encoding, conn.body(), MAX_BODY, &mut decoded).unwrap();
                assert_eq!(decoded, json);
            }
        }
    }

    #[test]
    fn content_length_reads_digits_only() {
        assert_eq!(content_length(b"422"), Some(422));
        assert_eq!(content_length(b" 0\t"), Some(0));
        for bad in [
            &b""[..],
            b" ",
            b"-1",
            b"+1",
            b"1 2",
            b"0x10",
            b"99999999999999999999999",
        ] {
            assert_eq!(content_length(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_truncated_or_garbled_answer_is_an_error() {
        let addr = server(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort"]).await;
        let mut conn = Http1Conn::connect(addr).await.unwrap();
        conn.request()
            .extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let error = conn.round_trip().await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "{error}");

        let addr = server(vec![b"SMTP ready\r\n\r\n"]).await;
        let mut conn = Http1Conn::connect(addr).await.unwrap();
        conn.request()
            .extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let error = conn.round_trip().await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    }
}
