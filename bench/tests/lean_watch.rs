//! The lean `watch` subscribers against real gRPC and wire servers: every normal
//! subscriber gets every change once and in order (the same run as the protocols' own
//! clients pass), and a deliberately slow one sees no gap and no error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use bench::lean::watch::{GrpcSubscriber, WireSubscriber};
use bench::protocol::{self, Protocol};
use bench::watch::subscriber::Subscribe;
use bench::watch::{self, WatchPlan};
use domain::{DatasetSpec, EventStatus, Limits, SeatId, Service, SharedTicketing};
use netkit::ServerConfig;
use netkit::running::RunningServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lean_grpc_and_wire_subscribers_get_every_change_in_order() {
    let spec = DatasetSpec {
        events: 50,
        seed: 3,
    };
    let limits = Limits {
        watch_buffer: 16,
        watch_retained: 8,
        ..Limits::default()
    };
    for protocol in [Protocol::Grpc, Protocol::Wire] {
        let service = Service::generate(spec, limits.clone());
        let event = service
            .store()
            .catalog()
            .dataset()
            .events
            .iter()
            .find(|e| e.status == EventStatus::OnSale)
            .map(|e| e.id)
            .unwrap();
        let api: SharedTicketing = Arc::new(service);
        let served = Arc::clone(&api);
        let server = RunningServer::spawn(move |listener, stop| {
            protocol::serve(protocol, listener, served, ServerConfig::default(), stop)
        })
        .await
        .unwrap();
        let addr = server.addr;
        let mut clients: Vec<Arc<dyn Subscribe>> = Vec::new();
        for _ in 0..2 {
            clients.push(match protocol {
                Protocol::Grpc => Arc::new(GrpcSubscriber::connect(addr).await.unwrap()),
                _ => Arc::new(WireSubscriber::connect(addr).await.unwrap()),
            });
        }
        let plan = WatchPlan {
            event,
            subscribers: 10,
            rate: 500.0,
            duration: Duration::from_millis(600),
            slow_subscriber: Some(Duration::from_millis(20)),
        };
        let seats = [SeatId(0), SeatId(1), SeatId(2)];
        let outcome = watch::run_with(&clients, Arc::clone(&api), &seats, plan)
            .await
            .unwrap();
        assert!(outcome.changes > 100, "{protocol}: {outcome:?}");
        let all = &outcome.all;
        assert_eq!(
            (
                all.delivered,
                all.missing,
                all.gaps,
                all.resyncs,
                all.errors
            ),
            (10 * outcome.changes, 0, 0, 0, 0),
            "{protocol}: {all:?}"
        );
        assert_eq!(all.latency.len(), all.delivered);
        let slow = outcome.slow.as_ref().unwrap();
        assert_eq!((slow.gaps, slow.errors), (0, 0), "{protocol}: {slow:?}");
        assert!(slow.delivered < outcome.changes, "{protocol}: {slow:?}");
    }
}

/// Each change a lean subscriber hands over carries its receipt time, stamped where it
/// left the socket: no earlier than its commit, no later than the moment the stream
/// hands it over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lean_subscribers_stamp_receipt_between_commit_and_handover() {
    use futures::StreamExt;

    let spec = DatasetSpec {
        events: 50,
        seed: 3,
    };
    for protocol in [Protocol::Grpc, Protocol::Wire] {
        let service = Service::generate(spec, Limits::default());
        let event = service
            .store()
            .catalog()
            .dataset()
            .events
            .iter()
            .find(|e| e.status == EventStatus::OnSale)
            .map(|e| e.id)
            .unwrap();
        let api: SharedTicketing = Arc::new(service);
        let served = Arc::clone(&api);
        let server = RunningServer::spawn(move |listener, stop| {
            protocol::serve(protocol, listener, served, ServerConfig::default(), stop)
        })
        .await
        .unwrap();
        let client: Arc<dyn Subscribe> = match protocol {
            Protocol::Grpc => Arc::new(GrpcSubscriber::connect(server.addr).await.unwrap()),
            _ => Arc::new(WireSubscriber::connect(server.addr).await.unwrap()),
        };
        let mut stream = client.subscribe(event, None).await.unwrap();
        let deadline = Duration::from_secs(10);
        let snapshot = tokio::time::timeout(deadline, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(snapshot.kind, domain::UpdateKind::Snapshot, "{protocol}");
        let written = watch::writer::write(
            Arc::clone(&api),
            event,
            &[SeatId(0)],
            100.0,
            Duration::from_millis(50),
        )
        .await;
        assert!(written.changes >= 2, "{protocol}: {written:?}");
        for _ in 0..written.changes {
            let change = tokio::time::timeout(deadline, stream.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let handed_over = chrono::Utc::now().timestamp_micros();
            let received = change.received_micros.expect("stamped at the socket");
            assert_eq!(change.kind, domain::UpdateKind::Change, "{protocol}");
            assert!(
                change.committed_micros <= received && received <= handed_over,
                "{protocol}: committed {}, received {received}, handed over {handed_over}",
                change.committed_micros
            );
        }
    }
}
