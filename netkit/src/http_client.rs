//! The HTTP side of Quartet's clients: [`HttpTransport`], the seam a REST or GraphQL
//! client sends its exchanges through, [`ReqwestTransport`], the default one, and
//! [`read_body_limited`], so a client never buffers more than it agreed to (16 MiB by
//! default: the largest seat map fits).

use domain::Error;

/// Reads `response`'s body, refusing to hold more than `max_bytes`.
///
/// # Errors
/// `LIMIT_EXCEEDED` (what: "response size") past the limit; `UNAVAILABLE` if the
/// connection ends mid-body (the request may well have been applied), `INTERNAL` if the
/// body is malformed (see [`request_error`]).
pub async fn read_body_limited(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, Error> {
    let too_big = || Error::limit_exceeded("response size", max_bytes as u64);
    if response
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .map_or(8 * 1024, |len| len as usize),
    );
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| request_error("reading the response body failed", &e))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One HTTP exchange as a client sends it: the request with its whole body, the response
/// with its whole body (already bounded by the transport's response limit).
///
/// The protocol clients (REST, GraphQL) build requests and parse responses; a transport
/// only moves them. That seam is where a caller puts what the template should not carry:
/// the benchmark harness wraps a transport to count payload bytes, and a test can answer
/// from memory.
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync + 'static {
    /// Sends `request` and returns the response with its body.
    ///
    /// # Errors
    /// `UNAVAILABLE` when the server could not be reached or the connection ended before
    /// the whole response arrived (which does not mean the request was not applied);
    /// `INTERNAL` for a malformed response or a request that cannot be built, with the
    /// cause in the message; `LIMIT_EXCEEDED` (what: "response size") for a body over
    /// the limit. [`request_error`] is the mapping.
    async fn send(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, Error>;
}

/// `e` and its sources, "outer: inner: root", so "connection refused" is not lost behind
/// reqwest's "error sending request".
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        // A TLS failure in words a person acts on ("certificate verification failed").
        match cause.downcast_ref::<std::io::Error>() {
            Some(io) => text.push_str(&crate::tls::describe(io)),
            None => match cause.downcast_ref::<rustls::Error>() {
                Some(tls) => text.push_str(&crate::tls::describe_tls(tls)),
                None => text.push_str(&cause.to_string()),
            },
        }
        source = cause.source();
    }
    // reqwest's connector boxes the TLS error out of reach of a downcast; its text is
    // rustls's, so say what it means the way `tls::describe` does.
    if text.contains("invalid peer certificate") {
        text.insert_str(0, "certificate verification failed: ");
    } else if text.contains("received corrupt message") {
        text.insert_str(0, "the peer does not speak TLS: ");
    }
    text
}

/// The domain error for a failed reqwest exchange, `context` first, the whole cause
/// chain after it: the one place an HTTP client's transport failures get their code.
///
/// `UNAVAILABLE` (the domain's "try again later") when the server could not be reached
/// (a refused or timed-out connect, no route) or the connection ended before the whole
/// answer arrived (closed, reset, or cancelled under the request, as a draining server
/// does). It does **not** claim the request was not applied: a request whose connection
/// ended after it was sent may or may not have been, so a caller retries only what is
/// safe to repeat (a read, a hold with an idempotency key). `INTERNAL` for everything
/// else: a malformed response (hyper could not parse it, a body that does not decode), a
/// request that could not be built, a TLS failure (a certificate the CA does not sign
/// will not verify on a retry either).
pub fn request_error(context: &str, e: &reqwest::Error) -> Error {
    let message = format!("{context}: {}", chain(e));
    // `chain` names the TLS failures reqwest boxes out of reach of a downcast.
    let tls = message.contains("certificate verification failed")
        || message.contains("the peer does not speak TLS");
    if !tls && is_unreachable_or_closed(e) {
        Error::unavailable(message)
    } else {
        Error::internal(message)
    }
}

/// Whether `e` says the server was unreachable or the connection ended under the
/// exchange, rather than that someone broke the protocol (see [`request_error`]).
fn is_unreachable_or_closed(e: &reqwest::Error) -> bool {
    use std::io::ErrorKind;
    if e.is_builder() || e.is_redirect() || e.is_decode() || e.is_status() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut transport = false;
    while let Some(cause) = source {
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return false;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // TLS failures come wrapped in an io::Error.
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return false;
            }
            transport |= matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::NotConnected
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
                    | ErrorKind::TimedOut
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::AddrNotAvailable
            );
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_parse() || hyper.is_parse_status() || hyper.is_user() {
                return false;
            }
            // "connection closed before message completed", "operation was canceled"
            // (queued on a connection that closed), a closed channel.
            transport |= hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed();
        }
        source = cause.source();
    }
    // reqwest's connector wraps what it could not connect with; with the TLS cases
    // ruled out, what is left is the server not being reachable.
    transport || e.is_connect()
}

/// The default transport: a pooled reqwest client with the config's timeouts and a
/// response-size limit.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
}

impl ReqwestTransport {
    /// A transport with `config`'s connect and request timeouts and response limit, asking
    /// for responses in `config.compression` (`Accept-Encoding`) and decoding them; with
    /// `Compression::None` it sends no `Accept-Encoding` and gets bodies as they are.
    /// The response limit applies to the decoded body.
    ///
    /// # Errors
    /// `INTERNAL` if reqwest cannot build its client (no TLS backend is needed here).
    pub fn new(config: &crate::config::ClientConfig) -> Result<Self, Error> {
        use crate::config::Compression;
        let mut builder = reqwest::Client::builder();
        if let Some(tls) = &config.tls {
            // Verified against the configured CA only; HTTP/1.1 by ALPN, the one version
            // this reqwest is built with. The base URL must be `https://`.
            builder = builder
                .use_preconfigured_tls(tls.config_with_alpn(crate::tls::ALPN_HTTP1))
                .https_only(true);
        }
        let client = builder
            // Both set explicitly: reqwest turns on every encoding compiled in by default.
            .gzip(config.compression == Compression::Gzip)
            .zstd(config.compression == Compression::Zstd)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .tcp_nodelay(true)
            // Many concurrent callers share one client; keep their connections.
            .pool_max_idle_per_host(1024)
            .build()
            .map_err(|e| Error::internal(format!("building the HTTP client failed: {e}")))?;
        Ok(ReqwestTransport {
            client,
            max_response_bytes: config.max_response_bytes,
        })
    }
}

#[async_trait::async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, Error> {
        let request = reqwest::Request::try_from(request.map(reqwest::Body::from))
            .map_err(|e| Error::internal(format!("building the request failed: {e}")))?;
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| request_error("the request failed", &e))?;
        let mut head = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = head.headers_mut() {
            headers.extend(
                response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
        let body = read_body_limited(response, self.max_response_bytes).await?;
        head.body(bytes::Bytes::from(body))
            .map_err(|e| Error::internal(format!("rebuilding the response failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use domain::ErrorCode;

    fn transport() -> ReqwestTransport {
        ReqwestTransport::new(&crate::config::ClientConfig::default()).unwrap()
    }

    fn get(addr: std::net::SocketAddr) -> http::Request<bytes::Bytes> {
        http::Request::get(format!("http://{addr}/"))
            .body(bytes::Bytes::new())
            .unwrap()
    }

    #[tokio::test]
    async fn a_refused_connect_is_unavailable() {
        // A port just bound and released: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = transport().send(get(addr)).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_unavailable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut socket, _) = listener.accept().await.unwrap();
            // Read the request, then close without answering, as a server going away.
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
        });
        let error = transport().send(get(addr)).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_malformed_response_is_internal() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            socket.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
            socket.shutdown().await.unwrap();
        });
        let error = transport().send(get(addr)).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Internal, "{error:?}");
        server.await.unwrap();
    }
}
