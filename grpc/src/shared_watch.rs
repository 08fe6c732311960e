//! `WatchAvailability` with each change's protobuf encoded once for all its subscribers.
//!
//! The generated service encodes every message of every stream itself (prost, through
//! tonic's `ProstCodec`), so S subscribers of one event cost S encodings of the same
//! change. tonic lets a call run with any [`Codec`], so [`SharedWatch`] routes this one
//! method to tonic's own server-streaming machinery (`tonic::server::Grpc`, the same
//! framing, compression and message-size limits as the generated code) with
//! [`PreEncoded`], a codec whose messages are already protobuf bytes: the first
//! subscriber of a change encodes it into the server's [`EncodedChanges`], the others
//! copy those bytes into their frames. Every other method goes to the generated service
//! untouched. The stream's semantics (refusals as the call's status, backpressure by
//! HTTP/2 flow control, `UNAVAILABLE` at shutdown) are [`TicketingService::watch`]'s,
//! shared with the generated path, and the bytes are the same (a test checks it).
//!
//! What is not here: the stream itself ([`crate::service`]) and the server's assembly
//! ([`crate::serve`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use domain::EncodedChanges;
use futures::stream::BoxStream;
use prost::Message;
use prost::bytes::BufMut;
use tonic::codec::{Codec, CompressionEncoding, EnabledCompressionEncodings, EncodeBuf, Encoder};
use tonic::codegen::{Body, BoxFuture, Bytes, Service, StdError, http};
use tonic::server::{Grpc, NamedService, ServerStreamingService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

use crate::pb;
use crate::pb::ticketing_server::TicketingServer;
use crate::service::TicketingService;

/// The path of the one method routed here.
pub const WATCH_AVAILABILITY_PATH: &str = "/quartet.v1.Ticketing/WatchAvailability";

/// Protobuf encodings of one server's changes, shared by every subscriber.
pub type EncodedUpdates = Arc<EncodedChanges<Bytes>>;

/// The protobuf bytes of `update`: exactly what the generated service encodes for it.
pub fn encode_update(update: &domain::AvailabilityUpdate) -> Bytes {
    pb::AvailabilityUpdate::from(update.clone())
        .encode_to_vec()
        .into()
}

/// The message limits and compression of the generated service, which tonic keeps
/// private, set again for the routed method.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallSettings {
    /// Largest request message accepted.
    pub max_decoding_message_size: Option<usize>,
    /// Largest response message sent.
    pub max_encoding_message_size: Option<usize>,
    /// Whether gzip and zstd are accepted and offered (as the generated service is told).
    pub compression: bool,
}

/// A Ticketing gRPC service whose `WatchAvailability` sends shared, pre-encoded messages;
/// every other call is `inner`'s (the generated service, or a wrapper of it).
#[derive(Clone)]
pub struct SharedWatch<S> {
    inner: S,
    watch: TicketingService,
    encoded: EncodedUpdates,
    settings: CallSettings,
}

impl<S> SharedWatch<S> {
    /// `inner`, with `WatchAvailability` served from `watch`'s streams with `settings`.
    pub fn new(inner: S, watch: TicketingService, settings: CallSettings) -> Self {
        SharedWatch {
            inner,
            watch,
            encoded: EncodedUpdates::default(),
            settings,
        }
    }
}

impl<S> std::fmt::Debug for SharedWatch<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedWatch").finish_non_exhaustive()
    }
}

impl<S> NamedService for SharedWatch<S> {
    const NAME: &'static str = <TicketingServer<TicketingService> as NamedService>::NAME;
}

impl<S, B> Service<http::Request<B>> for SharedWatch<S>
where
    S: Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
            Future = BoxFuture<http::Response<tonic::body::Body>, Infallible>,
        >,
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != WATCH_AVAILABILITY_PATH {
            return self.inner.call(request);
        }
        let method = Watch {
            service: self.watch.clone(),
            encoded: Arc::clone(&self.encoded),
        };
        let settings = self.settings;
        Box::pin(async move {
            let encodings = encodings(settings.compression);
            let mut grpc = Grpc::new(PreEncoded)
                .apply_compression_config(encodings, encodings)
                .apply_max_message_size_config(
                    settings.max_decoding_message_size,
                    settings.max_encoding_message_size,
                );
            Ok(grpc.server_streaming(method, request).await)
        })
    }
}

/// gzip and zstd when `enabled`, else none: what `crate::server_of` enables.
fn encodings(enabled: bool) -> EnabledCompressionEncodings {
    let mut encodings = EnabledCompressionEncodings::default();
    if enabled {
        encodings.enable(CompressionEncoding::Gzip);
        encodings.enable(CompressionEncoding::Zstd);
    }
    encodings
}

/// One `WatchAvailability` call: the domain stream, each message from the shared memo.
struct Watch {
    service: TicketingService,
    encoded: EncodedUpdates,
}

impl ServerStreamingService<pb::WatchAvailabilityRequest> for Watch {
    type Response = Bytes;
    type ResponseStream = BoxStream<'static, Result<Bytes, Status>>;
    type Future = BoxFuture<Response<Self::ResponseStream>, Status>;

    fn call(&mut self, request: Request<pb::WatchAvailabilityRequest>) -> Self::Future {
        let service = self.service.clone();
        let encoded = Arc::clone(&self.encoded);
        Box::pin(async move {
            let updates = service
                .watch(request.into_inner(), move |update| {
                    encoded.get_or_encode(&update, |u| Ok(encode_update(u)))
                })
                .await?;
            Ok(Response::new(updates))
        })
    }
}

/// A codec whose outgoing messages are protobuf bytes already; requests are decoded by
/// prost as usual.
#[derive(Debug, Clone, Copy, Default)]
pub struct PreEncoded;

impl Codec for PreEncoded {
    type Encode = Bytes;
    type Decode = pb::WatchAvailabilityRequest;
    type Encoder = PassThrough;
    type Decoder = <ProstCodec<(), pb::WatchAvailabilityRequest> as Codec>::Decoder;

    fn encoder(&mut self) -> Self::Encoder {
        PassThrough
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<(), pb::WatchAvailabilityRequest>::default().decoder()
    }
}

/// Copies an encoded message into tonic's frame buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl Encoder for PassThrough {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::{EventId, SeatChange, SeatId, SeatState, SectionCount, UpdateKind};

    use super::*;

    fn change(version: u64) -> domain::AvailabilityUpdate {
        domain::AvailabilityUpdate {
            event_id: EventId(11),
            kind: UpdateKind::Change,
            version,
            sections: (0..9)
                .map(|section_id| SectionCount {
                    section_id,
                    available: 300 - section_id,
                })
                .collect(),
            seats: vec![SeatChange {
                seat_id: SeatId(40),
                state: SeatState::Sold,
            }],
            committed_at: chrono::DateTime::from_timestamp_micros(1_800_000_000_654_321)
                .unwrap_or_default(),
        }
    }

    #[test]
    fn shared_bytes_equal_what_the_generated_service_encodes() {
        let memo = EncodedChanges::default();
        for version in [1, 2, 3, 2] {
            let update = change(version);
            let per_subscriber = pb::AvailabilityUpdate::from(update.clone()).encode_to_vec();
            for _subscriber in 0..3 {
                let shared = memo
                    .get_or_encode(&update, |u| Ok::<_, Status>(encode_update(u)))
                    .unwrap();
                assert_eq!(shared.as_ref(), per_subscriber.as_slice());
            }
        }
    }

    #[test]
    fn shared_bytes_decode_to_the_update() {
        let update = change(5);
        let decoded = pb::AvailabilityUpdate::decode(encode_update(&update)).unwrap();
        assert_eq!(
            domain::AvailabilityUpdate::try_from(decoded).unwrap(),
            update
        );
    }
}
