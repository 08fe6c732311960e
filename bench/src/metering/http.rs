//! The REST and GraphQL hook: an [`HttpTransport`] that sends through another one (the
//! default reqwest transport) and counts the request and response bodies of every
//! exchange, as the clients' `Client::with_transport` lets a caller install.
//!
//! With a [`Compression`] to ask for, it also does what reqwest would: it adds the
//! `Accept-Encoding` and decodes the answer ([`crate::compression`]) before the client
//! reads it, so that it can count the body as it crossed the connection (reqwest hides
//! the compressed size once it decodes); the inner transport is built not to decode.

use std::sync::Arc;

use netkit::http_client::{HttpTransport, ReqwestTransport};

use super::PayloadMeter;
use crate::compression::{self, Compression};

/// A transport that meters the bodies going through `inner`.
pub struct MeteredTransport {
    inner: Arc<dyn HttpTransport>,
    meter: Arc<PayloadMeter>,
    /// The encoding every request asks answers in.
    compression: Compression,
    /// The most a decoded answer may hold.
    max_response_bytes: usize,
}

impl MeteredTransport {
    /// Meters what goes through `inner` into `meter`.
    pub fn new(inner: Arc<dyn HttpTransport>, meter: Arc<PayloadMeter>) -> Self {
        MeteredTransport {
            inner,
            meter,
            compression: Compression::None,
            max_response_bytes: netkit::config::MAX_RESPONSE_BYTES,
        }
    }

    /// The default reqwest transport with `config`'s limits, metered into `meter`, asking
    /// for answers in `config.compression` and decoding them here.
    ///
    /// # Errors
    /// As [`ReqwestTransport::new`].
    pub fn reqwest(
        config: &netkit::ClientConfig,
        meter: Arc<PayloadMeter>,
    ) -> domain::Result<Arc<dyn HttpTransport>> {
        // reqwest must leave the body as it came: this transport decodes.
        let raw = netkit::ClientConfig {
            compression: Compression::None,
            ..config.clone()
        };
        let inner: Arc<dyn HttpTransport> = Arc::new(ReqwestTransport::new(&raw)?);
        Ok(Arc::new(MeteredTransport {
            inner,
            meter,
            compression: config.compression,
            max_response_bytes: config.max_response_bytes,
        }))
    }

    /// `response` with its body decoded from its `Content-Encoding` (which must be the
    /// one asked for, or none) and that header gone.
    fn decoded(
        &self,
        response: http::Response<bytes::Bytes>,
    ) -> domain::Result<http::Response<bytes::Bytes>> {
        let Some(value) = response.headers().get(http::header::CONTENT_ENCODING) else {
            return Ok(response);
        };
        let used = compression::from_content_encoding(value.as_bytes());
        let encoding = match used {
            Some(Compression::None) => Compression::None,
            Some(used) if used == self.compression => used,
            _ => {
                return Err(domain::Error::internal(format!(
                    "answered in {value:?} after asking for {}",
                    self.compression
                )));
            }
        };
        let (mut head, body) = response.into_parts();
        let mut out = Vec::new();
        compression::decode(encoding, &body, self.max_response_bytes, &mut out)
            .map_err(|e| domain::Error::internal(e.to_string()))?;
        head.headers.remove(http::header::CONTENT_ENCODING);
        head.headers.remove(http::header::CONTENT_LENGTH);
        Ok(http::Response::from_parts(head, bytes::Bytes::from(out)))
    }
}

#[async_trait::async_trait]
impl HttpTransport for MeteredTransport {
    async fn send(
        &self,
        mut request: http::Request<bytes::Bytes>,
    ) -> domain::Result<http::Response<bytes::Bytes>> {
        if self.compression != Compression::None {
            request.headers_mut().insert(
                http::header::ACCEPT_ENCODING,
                http::HeaderValue::from_static(self.compression.name()),
            );
        }
        // A cheap handle on the body: `Bytes` clones share the buffer.
        let sent = request.body().clone();
        let response = self.inner.send(request).await?;
        // Only a completed exchange counts, as it did inside the clients.
        self.meter.record(&sent, response.body());
        self.decoded(response)
    }
}
