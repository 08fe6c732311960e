//! The HTTP side of Quartet's clients: [`HttpTransport`], the seam a REST or GraphQL
//! client sends its exchanges through, [`ReqwestTransport`], the default one, and
//! [`read_body_limited`], so a client never buffers more than it agreed to (16 MiB by
//! default: the largest seat map fits).

use domain::Error;

/// Reads `response`'s body, refusing to hold more than `max_bytes`.
///
/// # Errors
/// `LIMIT_EXCEEDED` (what: "response size") past the limit; `INTERNAL` if the
/// connection fails mid-body.
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
        .map_err(|e| Error::internal(format!("reading the response body failed: {e}")))?
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
    /// `UNAVAILABLE`-style transport failures as `INTERNAL` with the cause in the
    /// message; `LIMIT_EXCEEDED` (what: "response size") for a body over the limit.
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
            .map_err(|e| Error::internal(format!("the request failed: {}", chain(&e))))?;
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
