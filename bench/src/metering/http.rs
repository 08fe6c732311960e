//! The REST and GraphQL hook: an [`HttpTransport`] that sends through another one (the
//! default reqwest transport) and counts the request and response bodies of every
//! exchange, as the clients' `Client::with_transport` lets a caller install.

use std::sync::Arc;

use netkit::http_client::{HttpTransport, ReqwestTransport};

use super::PayloadMeter;

/// A transport that meters the bodies going through `inner`.
pub struct MeteredTransport {
    inner: Arc<dyn HttpTransport>,
    meter: Arc<PayloadMeter>,
}

impl MeteredTransport {
    /// Meters what goes through `inner` into `meter`.
    pub fn new(inner: Arc<dyn HttpTransport>, meter: Arc<PayloadMeter>) -> Self {
        MeteredTransport { inner, meter }
    }

    /// The default reqwest transport with `config`'s limits, metered into `meter`.
    ///
    /// # Errors
    /// As [`ReqwestTransport::new`].
    pub fn reqwest(
        config: &netkit::ClientConfig,
        meter: Arc<PayloadMeter>,
    ) -> domain::Result<Arc<dyn HttpTransport>> {
        let inner: Arc<dyn HttpTransport> = Arc::new(ReqwestTransport::new(config)?);
        Ok(Arc::new(MeteredTransport::new(inner, meter)))
    }
}

#[async_trait::async_trait]
impl HttpTransport for MeteredTransport {
    async fn send(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> domain::Result<http::Response<bytes::Bytes>> {
        // A cheap handle on the body: `Bytes` clones share the buffer.
        let sent = request.body().clone();
        let response = self.inner.send(request).await?;
        // Only a completed exchange counts, as it did inside the clients.
        self.meter.record(&sent, response.body());
        Ok(response)
    }
}
