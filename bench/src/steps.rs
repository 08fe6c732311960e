//! Step providers: where the workers of one protocol's runs come from. The run loop asks
//! a provider which scenarios it runs, for the workers of each run, for its payload byte
//! counts, and for the check a run's outcome must pass; it never asks which protocol it
//! is. [`ApiSteps`] serves the four APIs (the scenarios' workers over metered
//! `Ticketing` clients, REST's and GraphQL's reads over the lean clients of
//! [`crate::lean`]) and the two framework floors; [`FloorSteps`] the raw-TCP floor
//! (connections carrying the wire protocol's get_event bytes).

use std::net::SocketAddr;
use std::sync::Arc;

use domain::{Booking, EventId};

use crate::compression::Compression;
use crate::floor::{self, FloorClient};
use crate::lean::check::Dialect;
use crate::lean::grpc::{GrpcRequests, GrpcWorker, H2Connection};
use crate::lean::{self, LeanWorker, Requests};
use crate::load::Step;
use crate::metering::PayloadMeter;
use crate::protocol::{self, Connected, Protocol};
use crate::scenario::{Outcome, Plan, Scenario, Worker, verify_contended, verify_contended_shard};

/// A source of workers for a protocol's runs.
#[async_trait::async_trait]
pub trait StepProvider: Send + Sync {
    /// One worker: a simulated client running one operation at a time.
    type Step: Step + Sync + 'static;

    /// Whether it runs `scenario` at all.
    fn runs(&self, scenario: Scenario) -> bool;

    /// The `concurrency` workers of one run of `scenario`; `round` numbers the runs of
    /// the contended scenario (each fights over a fresh event).
    ///
    /// # Errors
    /// If the workers cannot be set up (a connection refused).
    async fn workers(
        &self,
        scenario: Scenario,
        round: usize,
        concurrency: usize,
    ) -> Result<Vec<Self::Step>, String>;

    /// `(sent, received)` payload bytes its workers have counted so far.
    fn payload(&self) -> (u64, u64);

    /// Requests the browse scenarios' workers have sent so far (they may send several
    /// per operation); `None` where nobody counts.
    fn browse_requests(&self) -> Option<u64> {
        None
    }

    /// After a run: what its check found (contended_hold: seats in two live bookings,
    /// 0 being the only correct answer), or `None` for a scenario without one.
    ///
    /// # Errors
    /// If the check cannot be made or finds the server disagreeing with the workers:
    /// the run counts as failed.
    async fn check(
        &self,
        scenario: Scenario,
        round: usize,
        workers: &[Self::Step],
    ) -> Result<Option<u64>, String> {
        let _ = (scenario, round, workers);
        Ok(None)
    }
}

/// How an [`ApiSteps`] drives its protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Connections the multiplexed protocols (gRPC, wire, h2-floor) spread their
    /// clients over; HTTP/1.1 opens one per client whatever this says.
    pub connections: usize,
    /// Drive REST's and GraphQL's read scenarios through the lean load clients
    /// ([`crate::lean`]); `false` sends everything through the `Ticketing` clients.
    pub lean: bool,
    /// The encoding every client asks answers in (REST, GraphQL, gRPC; the wire
    /// protocol's hello; the floors ignore it).
    pub compression: Compression,
    /// `--tls`: every client, lean or not, connects through TLS verified against this
    /// CA (the run's development CA), each with its protocol's ALPN id.
    pub tls: Option<netkit::tls::ClientTls>,
    /// `--auth`: every client, lean or not, sends this token (the APIs only; a floor
    /// ignores it), and the write scenarios hold for its customer
    /// ([`crate::scenario::Worker::as_customer`]).
    pub auth: Option<crate::auth::ClientAuth>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connections: 1,
            lean: true,
            compression: Compression::None,
            tls: None,
            auth: None,
        }
    }
}

/// The four APIs and the two framework floors: the scenarios' workers over metered
/// `Ticketing` clients, or (REST and GraphQL reads, and `http1-floor`) over the lean
/// HTTP/1.1 clients. The floors run get_event only, always for event 1 (the one they
/// serve).
pub struct ApiSteps {
    plan: Arc<Plan>,
    addr: SocketAddr,
    /// `Ticketing` clients, workers spread over them (gRPC: one per connection); empty
    /// for `http1-floor`.
    clients: Vec<Connected>,
    /// The lean clients' pre-built requests (REST, GraphQL, http1-floor).
    lean: Option<Arc<Requests>>,
    /// The lean gRPC client's requests and connections (gRPC, h2-floor).
    lean_grpc: Option<LeanGrpc>,
    lean_meter: Arc<PayloadMeter>,
    /// A floor: get_event of this event only.
    fixed: Option<EventId>,
    /// The GraphQL engine floor: every request is `{ __typename }`.
    typename_only: bool,
    /// Whether it runs browse_calls: the resource APIs (REST, gRPC) only; GraphQL and
    /// wire show the page in one request whatever the client wants.
    several_calls: bool,
    /// The protocol and how its clients were asked to connect: what the `connect`
    /// scenario opens each connection with.
    protocol: Protocol,
    options: ClientOptions,
}

impl ApiSteps {
    /// Connects `protocol`'s metered client(s) to `addr`, serving `plan`'s dataset.
    ///
    /// # Errors
    /// If the server cannot be reached, or `protocol` is `tcp-floor` (see
    /// [`FloorSteps`]).
    pub async fn connect(
        protocol: Protocol,
        addr: SocketAddr,
        plan: Arc<Plan>,
        options: ClientOptions,
    ) -> Result<Self, String> {
        let connections = options.connections.max(1);
        let dialect = match protocol {
            Protocol::Rest | Protocol::Http1Floor => Some(Dialect::Rest),
            Protocol::Graphql | Protocol::GraphqlFloor => Some(Dialect::Graphql),
            _ => None,
        };
        // The floors answer prepared bytes and check no token: they run without one.
        let bearer = options
            .auth
            .as_ref()
            .filter(|_| !protocol.is_floor())
            .map(|a| a.token.as_str());
        let lean = dialect
            .filter(|_| {
                options.lean || matches!(protocol, Protocol::Http1Floor | Protocol::GraphqlFloor)
            })
            .map(|d| {
                let tls = options
                    .tls
                    .as_ref()
                    .map(|t| t.connector(netkit::tls::ALPN_HTTP1));
                Requests::authorized(d, addr, &plan, options.compression, bearer)
                    .map(|r| Arc::new(r.with_tls(tls)))
            })
            .transpose()?;
        let tls = options.tls.as_ref();
        let lean_grpc = if options.lean && matches!(protocol, Protocol::Grpc | Protocol::H2Floor) {
            Some(LeanGrpc::open(addr, &plan, options.compression, connections, tls, bearer).await?)
        } else {
            None
        };
        let clients = match protocol {
            Protocol::TcpFloor => return Err("tcp-floor runs through FloorSteps".to_owned()),
            // The lean gRPC client runs the floor's only scenario.
            Protocol::H2Floor if lean_grpc.is_some() => Vec::new(),
            Protocol::Http1Floor | Protocol::GraphqlFloor => {
                // No Ticketing client runs its one request; make sure it is there.
                tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| e.to_string())?;
                Vec::new()
            }
            Protocol::Grpc | Protocol::H2Floor => {
                one_client_per_connection(protocol, addr, connections, &options, bearer).await?
            }
            // Over TLS the meter sits inside each connection's TLS: one client each.
            Protocol::Wire if tls.is_some() => {
                one_client_per_connection(protocol, addr, connections, &options, bearer).await?
            }
            Protocol::Wire => vec![
                protocol::connect_authorized(
                    protocol,
                    addr,
                    connections,
                    options.compression,
                    None,
                    bearer,
                )
                .await
                .map_err(|e| e.to_string())?,
            ],
            Protocol::Rest | Protocol::Graphql => vec![
                protocol::connect_authorized(protocol, addr, 1, options.compression, tls, bearer)
                    .await
                    .map_err(|e| e.to_string())?,
            ],
        };
        Ok(ApiSteps {
            plan,
            addr,
            clients,
            lean,
            lean_grpc,
            lean_meter: Arc::default(),
            fixed: protocol.is_floor().then_some(floor::EVENT),
            typename_only: protocol == Protocol::GraphqlFloor,
            several_calls: matches!(protocol, Protocol::Rest | Protocol::Grpc),
            protocol,
            options,
        })
    }

    /// `Ticketing` clients its workers are spread over (gRPC: one per connection).
    pub fn ticketing_clients(&self) -> usize {
        self.clients.len()
    }
}

/// `connections` clients of `protocol` at `addr`, each over a connection of its own
/// (gRPC's and the h2 floor's channels; the wire protocol over TLS, whose meter sits
/// inside each connection's TLS), with `options`' compression and TLS and `bearer`.
///
/// # Errors
/// The first connection that fails, in words.
async fn one_client_per_connection(
    protocol: Protocol,
    addr: SocketAddr,
    connections: usize,
    options: &ClientOptions,
    bearer: Option<&str>,
) -> Result<Vec<protocol::Connected>, String> {
    let mut clients = Vec::with_capacity(connections);
    for _ in 0..connections {
        clients.push(
            protocol::connect_authorized(
                protocol,
                addr,
                1,
                options.compression,
                options.tls.as_ref(),
                bearer,
            )
            .await
            .map_err(|e| e.to_string())?,
        );
    }
    Ok(clients)
}

/// Whether `scenario`'s operations hold seats (and so must name the token's customer
/// under `--auth`).
fn holds(scenario: Scenario) -> bool {
    matches!(scenario, Scenario::HoldCancel | Scenario::ContendedHold)
}

/// The lean gRPC client's part of an [`ApiSteps`]: its requests and one HTTP/2
/// connection per `--connections` slot.
struct LeanGrpc {
    requests: Arc<GrpcRequests>,
    connections: Vec<Arc<H2Connection>>,
}

impl LeanGrpc {
    async fn open(
        addr: SocketAddr,
        plan: &Plan,
        compression: Compression,
        connections: usize,
        tls: Option<&netkit::tls::ClientTls>,
        bearer: Option<&str>,
    ) -> Result<Self, String> {
        let requests = Arc::new(GrpcRequests::new(addr, plan, compression)?.with_bearer(bearer)?);
        let mut opened = Vec::with_capacity(connections);
        let tls = tls.map(|t| t.connector(netkit::tls::ALPN_H2));
        for _ in 0..connections {
            opened.push(
                H2Connection::open_tls(addr, tls.clone())
                    .await
                    .map_err(|e| format!("cannot open an HTTP/2 connection to {addr}: {e}"))?,
            );
        }
        Ok(LeanGrpc {
            requests,
            connections: opened,
        })
    }
}

/// One worker of an [`ApiSteps`]: a lean HTTP/1.1 or gRPC client, or a `Ticketing` one.
pub enum ApiStep {
    /// A lean client on its own connection.
    Lean(LeanWorker),
    /// A lean gRPC client on one of the shared HTTP/2 connections.
    LeanGrpc(GrpcWorker),
    /// A scenario worker over a `Ticketing` client.
    Api(Worker),
    /// A `connect` worker: a new connection per operation.
    Connect(crate::connect::ConnectWorker),
}

#[async_trait::async_trait]
impl Step for ApiStep {
    async fn step(&mut self) -> Outcome {
        match self {
            ApiStep::Lean(worker) => worker.run_once().await,
            ApiStep::LeanGrpc(worker) => worker.run_once().await,
            ApiStep::Api(worker) => worker.step().await,
            ApiStep::Connect(worker) => worker.run_once().await,
        }
    }
}

#[async_trait::async_trait]
impl StepProvider for ApiSteps {
    type Step = ApiStep;

    fn runs(&self, scenario: Scenario) -> bool {
        if scenario == Scenario::Connect {
            // The four APIs; a floor has no connection start of its own to measure.
            return self.fixed.is_none() && !self.typename_only;
        }
        if scenario == Scenario::Watch || (scenario == Scenario::BrowseCalls && !self.several_calls)
        {
            return false;
        }
        self.fixed.is_none() || scenario == Scenario::GetEvent
    }

    async fn workers(
        &self,
        scenario: Scenario,
        round: usize,
        concurrency: usize,
    ) -> Result<Vec<ApiStep>, String> {
        let mut workers = Vec::with_capacity(concurrency);
        for i in 0..concurrency {
            workers.push(self.worker(scenario, round, i).await?);
        }
        Ok(workers)
    }

    fn payload(&self) -> (u64, u64) {
        self.clients
            .iter()
            .map(|c| c.meter.totals())
            .fold(self.lean_meter.totals(), |(s, r), (s2, r2)| {
                (s + s2, r + r2)
            })
    }

    fn browse_requests(&self) -> Option<u64> {
        Some(self.plan.browse_requests())
    }

    async fn check(
        &self,
        scenario: Scenario,
        round: usize,
        workers: &[ApiStep],
    ) -> Result<Option<u64>, String> {
        self.check_all(scenario, round, workers).await
    }
}

impl ApiSteps {
    /// Worker `i` of a run of `scenario`: its input stream is worker `i`'s whatever
    /// server it talks to, so spreading workers over replicas draws the same inputs.
    ///
    /// # Errors
    /// If its connection cannot be opened.
    async fn worker(&self, scenario: Scenario, round: usize, i: usize) -> Result<ApiStep, String> {
        if scenario == Scenario::Connect {
            return Ok(ApiStep::Connect(
                crate::connect::ConnectWorker::new(
                    self.opener()?,
                    self.addr,
                    Arc::clone(&self.plan),
                    i,
                    Arc::clone(&self.lean_meter),
                )
                .with_token(self.bearer().map(str::to_owned)),
            ));
        }
        {
            let step = match (&self.lean, &self.lean_grpc) {
                (Some(requests), _) if lean::runs(scenario) => {
                    let worker = LeanWorker::connect(
                        self.addr,
                        Arc::clone(&self.plan),
                        Arc::clone(requests),
                        scenario,
                        i,
                        Arc::clone(&self.lean_meter),
                    )
                    .await
                    .map_err(|e| format!("{scenario}: cannot connect to {}: {e}", self.addr))?;
                    ApiStep::Lean(match (self.typename_only, self.fixed) {
                        (true, _) => worker.typename_only(),
                        (false, Some(id)) => worker.fixed(id),
                        (false, None) => worker,
                    })
                }
                (_, Some(grpc)) if lean::runs(scenario) => {
                    let connection = grpc
                        .connections
                        .get(i % grpc.connections.len().max(1))
                        .ok_or("no HTTP/2 connection to run on")?;
                    let worker = GrpcWorker::new(
                        Arc::clone(connection),
                        Arc::clone(&self.plan),
                        Arc::clone(&grpc.requests),
                        scenario,
                        i,
                        Arc::clone(&self.lean_meter),
                    )
                    .await;
                    ApiStep::LeanGrpc(match self.fixed {
                        Some(id) => worker.fixed(id),
                        None => worker,
                    })
                }
                _ => {
                    let client = self
                        .clients
                        .get(i % self.clients.len().max(1))
                        .ok_or_else(|| format!("no client runs {scenario} here"))?;
                    let worker = self
                        .plan
                        .worker(scenario, round, i, Arc::clone(&client.api));
                    // Under --auth a hold may name only the token's customer.
                    let worker = match self.auth() {
                        Some(auth) if holds(scenario) => worker.as_customer(auth.customer.clone()),
                        _ => worker,
                    };
                    ApiStep::Api(match self.fixed {
                        Some(id) => worker.fixed(id),
                        None => worker,
                    })
                }
            };
            Ok(step)
        }
    }

    /// `--auth`'s token and customer, for an API (never for a floor).
    fn auth(&self) -> Option<&crate::auth::ClientAuth> {
        self.options
            .auth
            .as_ref()
            .filter(|_| !self.protocol.is_floor())
    }

    /// `--auth`'s token, for an API.
    fn bearer(&self) -> Option<&str> {
        self.auth().map(|a| a.token.as_str())
    }

    /// How the `connect` scenario opens this protocol's connections: the lean requests
    /// already built where there are some, with the run's TLS and token.
    fn opener(&self) -> Result<crate::connect::Opener, String> {
        use crate::connect::Opener;
        let tls = self.options.tls.as_ref();
        let compression = self.options.compression;
        let bearer = self.bearer();
        Ok(match self.protocol {
            Protocol::Rest | Protocol::Graphql => {
                let requests = if let Some(requests) = &self.lean {
                    Arc::clone(requests)
                } else {
                    let dialect = if self.protocol == Protocol::Rest {
                        Dialect::Rest
                    } else {
                        Dialect::Graphql
                    };
                    Arc::new(
                        Requests::authorized(dialect, self.addr, &self.plan, compression, bearer)?
                            .with_tls(tls.map(|t| t.connector(netkit::tls::ALPN_HTTP1))),
                    )
                };
                Opener::Http1(requests)
            }
            Protocol::Grpc => {
                let requests = match &self.lean_grpc {
                    Some(grpc) => Arc::clone(&grpc.requests),
                    None => Arc::new(
                        GrpcRequests::new(self.addr, &self.plan, compression)?
                            .with_bearer(bearer)?,
                    ),
                };
                Opener::Grpc(requests, tls.map(|t| t.connector(netkit::tls::ALPN_H2)))
            }
            Protocol::Wire => Opener::Wire(compression, tls.cloned()),
            other => return Err(format!("{other} does not run the connect scenario")),
        })
    }

    /// The contended check over `workers` (from this provider or, with replicas, from
    /// all of them: every winner counts), made through this provider's first client.
    async fn check_all(
        &self,
        scenario: Scenario,
        round: usize,
        workers: &[ApiStep],
    ) -> Result<Option<u64>, String> {
        if scenario != Scenario::ContendedHold {
            return Ok(None);
        }
        let winners: Vec<Booking> = workers
            .iter()
            .filter_map(|w| match w {
                ApiStep::Api(worker) => Some(worker.won().iter().cloned()),
                ApiStep::Lean(_) | ApiStep::LeanGrpc(_) | ApiStep::Connect(_) => None,
            })
            .flatten()
            .collect();
        let event = self
            .plan
            .contended_event(round)
            .ok_or("no event to contend for")?;
        let client = self.clients.first().ok_or("no client to check with")?;
        // Under a shard the other machines' winners hold seats too.
        if self.plan.shard().is_whole() {
            verify_contended(client.api.as_ref(), event, &winners).await
        } else {
            verify_contended_shard(client.api.as_ref(), event, &winners).await
        }
        .map(Some)
    }
}

/// The floor as a step provider: it runs only get_event, each worker a connection of its
/// own carrying the exchange, and its payload is the whole exchange.
pub struct FloorSteps {
    addr: SocketAddr,
    request: Vec<u8>,
    response: Vec<u8>,
    meter: Arc<PayloadMeter>,
}

impl FloorSteps {
    /// Steps against the floor at `addr`, which serves `plan`'s dataset.
    pub fn new(addr: SocketAddr, plan: &Plan) -> Self {
        let event = plan
            .data()
            .events
            .iter()
            .find(|e| e.id == floor::EVENT)
            .cloned();
        let (request, response) = floor::exchange(event);
        FloorSteps {
            addr,
            request,
            response,
            meter: Arc::default(),
        }
    }
}

#[async_trait::async_trait]
impl StepProvider for FloorSteps {
    type Step = FloorStep;

    fn runs(&self, scenario: Scenario) -> bool {
        scenario == Scenario::GetEvent
    }

    async fn workers(
        &self,
        _scenario: Scenario,
        _round: usize,
        concurrency: usize,
    ) -> Result<Vec<FloorStep>, String> {
        let mut workers = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let client = FloorClient::connect_exchange(
                self.addr,
                self.request.clone(),
                self.response.clone(),
            )
            .await
            .map_err(|e| e.to_string())?;
            workers.push(FloorStep {
                client,
                meter: Arc::clone(&self.meter),
            });
        }
        Ok(workers)
    }

    fn payload(&self) -> (u64, u64) {
        self.meter.totals()
    }
}

/// A floor connection as a load step; every round trip counts its exchange as payload.
pub struct FloorStep {
    client: FloorClient,
    meter: Arc<PayloadMeter>,
}

#[async_trait::async_trait]
impl Step for FloorStep {
    async fn step(&mut self) -> Outcome {
        let (request, response) = self.client.sizes();
        self.meter.add_sent(request);
        self.meter.add_received(response);
        match self.client.round_trip().await {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// The same protocol served by several processes over one database (`--replicas`):
/// worker `i` of a run talks to replica `i mod N` (its own connection, or a slot of that
/// replica's multiplexed connections) and draws worker `i`'s inputs, so the load is the
/// single-server one spread round robin.
pub struct ReplicaSteps {
    replicas: Vec<ApiSteps>,
}

impl ReplicaSteps {
    /// Connects `protocol`'s clients to every address in `addrs`, each as
    /// [`ApiSteps::connect`] would to one server.
    ///
    /// # Errors
    /// If a replica cannot be reached, or `addrs` is empty.
    pub async fn connect(
        protocol: Protocol,
        addrs: &[SocketAddr],
        plan: &Arc<Plan>,
        options: ClientOptions,
    ) -> Result<Self, String> {
        if addrs.is_empty() {
            return Err("no replica to connect to".to_owned());
        }
        let mut replicas = Vec::with_capacity(addrs.len());
        for &addr in addrs {
            replicas.push(
                ApiSteps::connect(protocol, addr, Arc::clone(plan), options.clone())
                    .await
                    .map_err(|e| format!("replica {addr}: {e}"))?,
            );
        }
        Ok(ReplicaSteps { replicas })
    }

    /// Replicas the workers are spread over.
    pub fn replicas(&self) -> usize {
        self.replicas.len()
    }
}

#[async_trait::async_trait]
impl StepProvider for ReplicaSteps {
    type Step = ApiStep;

    fn runs(&self, scenario: Scenario) -> bool {
        self.replicas.first().is_some_and(|r| r.runs(scenario))
    }

    async fn workers(
        &self,
        scenario: Scenario,
        round: usize,
        concurrency: usize,
    ) -> Result<Vec<ApiStep>, String> {
        let mut workers = Vec::with_capacity(concurrency);
        for i in 0..concurrency {
            let replica = self
                .replicas
                .get(i % self.replicas.len().max(1))
                .ok_or("no replica to run on")?;
            workers.push(replica.worker(scenario, round, i).await?);
        }
        Ok(workers)
    }

    fn payload(&self) -> (u64, u64) {
        self.replicas
            .iter()
            .map(StepProvider::payload)
            .fold((0, 0), |(s, r), (s2, r2)| (s + s2, r + r2))
    }

    fn browse_requests(&self) -> Option<u64> {
        // One plan, one counter: every replica's provider reads the same.
        self.replicas
            .first()
            .and_then(StepProvider::browse_requests)
    }

    async fn check(
        &self,
        scenario: Scenario,
        round: usize,
        workers: &[ApiStep],
    ) -> Result<Option<u64>, String> {
        // Every worker's winners, read back through one replica: over one database a
        // double booking made through two replicas shows on either.
        self.replicas
            .first()
            .ok_or("no replica to check with")?
            .check_all(scenario, round, workers)
            .await
    }
}
