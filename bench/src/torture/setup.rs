//! What a torture run stands on: the servers (started here over one store, the way
//! `quartet serve` shares one, or already running elsewhere), a client per protocol and
//! number, and the seats: an on-sale event's first available ones.

use std::net::SocketAddr;
use std::sync::Arc;

use domain::{
    DatasetSpec, EventId, EventStatus, Limits, SeatId, SeatState, Service, SharedTicketing,
    Ticketing,
};
use netkit::ServerConfig;
use netkit::running::RunningServer;

use super::history::ClientId;
use super::run::TortureClient;
use crate::protocol::{self, Protocol};

/// Most events looked at for one on sale when `--event` is not given.
const EVENTS_SCANNED: u64 = 1_000;

/// The chosen protocols' servers in this process, on loopback ports the OS picks, all
/// serving ONE in-memory store (as `quartet serve` does), so a seat held over REST is
/// held over gRPC.
pub struct LocalServers {
    servers: Vec<(Protocol, RunningServer)>,
}

impl LocalServers {
    /// Generates the dataset `spec` describes and serves it over every protocol of
    /// `protocols`.
    ///
    /// # Errors
    /// If a port cannot be bound, or a protocol is a floor.
    pub async fn start(protocols: &[Protocol], spec: DatasetSpec) -> Result<Self, String> {
        let api: SharedTicketing = Arc::new(Service::generate(spec, Limits::default()));
        let mut servers = Vec::new();
        for &protocol in protocols {
            if protocol.is_floor() {
                return Err(format!(
                    "{protocol} is a floor: it has no bookings to torture"
                ));
            }
            let api = Arc::clone(&api);
            let server = RunningServer::spawn(move |listener, stop| {
                protocol::serve(protocol, listener, api, ServerConfig::default(), stop)
            })
            .await
            .map_err(|e| format!("cannot start the {protocol} server: {e}"))?;
            servers.push((protocol, server));
        }
        Ok(LocalServers { servers })
    }

    /// Each protocol's address.
    pub fn targets(&self) -> Vec<(Protocol, SocketAddr)> {
        self.servers.iter().map(|(p, s)| (*p, s.addr)).collect()
    }

    /// Stops every server and waits for their drain.
    ///
    /// # Errors
    /// The first server failure.
    pub async fn stop(self) -> Result<(), String> {
        for (protocol, server) in self.servers {
            server
                .stop()
                .await
                .map_err(|e| format!("the {protocol} server failed: {e}"))?;
        }
        Ok(())
    }
}

/// `per_protocol` clients of each target, each with its own connection.
///
/// # Errors
/// If a server cannot be reached.
pub async fn connect_clients(
    targets: &[(Protocol, SocketAddr)],
    per_protocol: usize,
) -> Result<Vec<TortureClient>, String> {
    let mut clients = Vec::new();
    for &(protocol, addr) in targets {
        for index in 0..per_protocol {
            let connected = protocol::connect(protocol, addr)
                .await
                .map_err(|e| format!("cannot connect to the {protocol} server at {addr}: {e}"))?;
            clients.push(TortureClient {
                id: ClientId { protocol, index },
                api: connected.api,
            });
        }
    }
    Ok(clients)
}

/// `per_protocol` clients of each protocol in `targets`, client `k` of a protocol on its
/// target `k mod n` when it has `n` (replicas over one database), each with its own
/// connection; with one target per protocol this is [`connect_clients`].
///
/// # Errors
/// If a server cannot be reached.
pub async fn connect_clients_spread(
    targets: &[(Protocol, SocketAddr)],
    per_protocol: usize,
) -> Result<Vec<TortureClient>, String> {
    let mut protocols: Vec<Protocol> = Vec::new();
    for (p, _) in targets {
        if !protocols.contains(p) {
            protocols.push(*p);
        }
    }
    let mut clients = Vec::new();
    for protocol in protocols {
        let addrs: Vec<SocketAddr> = targets
            .iter()
            .filter(|(p, _)| *p == protocol)
            .map(|(_, a)| *a)
            .collect();
        for index in 0..per_protocol {
            let Some(&addr) = addrs.get(index % addrs.len().max(1)) else {
                continue;
            };
            let connected = protocol::connect(protocol, addr)
                .await
                .map_err(|e| format!("cannot connect to the {protocol} server at {addr}: {e}"))?;
            clients.push(TortureClient {
                id: ClientId { protocol, index },
                api: connected.api,
            });
        }
    }
    Ok(clients)
}

/// `count` seats available now of `event`, or of the first on-sale event (by id) that
/// has that many.
///
/// # Errors
/// If `event` is not on sale or lacks available seats, or no event among the first
/// thousand will do, or a call fails.
pub async fn choose_seats(
    api: &dyn Ticketing,
    event: Option<EventId>,
    count: usize,
) -> Result<(EventId, Vec<SeatId>), String> {
    if let Some(event) = event {
        return available_seats(api, event, count)
            .await?
            .map(|seats| (event, seats))
            .ok_or_else(|| format!("event {event} is not on sale with {count} seats available"));
    }
    for id in 1..=EVENTS_SCANNED {
        let event = EventId(id);
        match available_seats(api, event, count).await {
            Ok(Some(seats)) => return Ok((event, seats)),
            Ok(None) => {}
            Err(e) if id == 1 => return Err(e),
            // Past the last event: stop looking.
            Err(_) => break,
        }
    }
    Err(format!(
        "no event with {count} available seats is on sale among the first {EVENTS_SCANNED}"
    ))
}

/// The first `count` available seats of `event` if it is on sale and has them.
async fn available_seats(
    api: &dyn Ticketing,
    event: EventId,
    count: usize,
) -> Result<Option<Vec<SeatId>>, String> {
    let found = api
        .get_event(event)
        .await
        .map_err(|e| format!("cannot read event {event}: {e}"))?;
    if found.status != EventStatus::OnSale {
        return Ok(None);
    }
    let map = api
        .get_seat_map(event)
        .await
        .map_err(|e| format!("cannot read event {event}'s seat map: {e}"))?;
    let seats: Vec<SeatId> = map
        .seats
        .iter()
        .filter(|s| s.state == SeatState::Available)
        .map(|s| s.seat_id)
        .take(count)
        .collect();
    Ok((seats.len() == count).then_some(seats))
}
