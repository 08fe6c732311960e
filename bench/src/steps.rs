//! Step providers: where the workers of one protocol's runs come from. The run loop asks
//! a provider which scenarios it runs, for the workers of each run, for its payload byte
//! counts, and for the check a run's outcome must pass; it never asks which protocol it
//! is. [`ApiSteps`] serves the four APIs (the scenarios' workers over a metered
//! `Ticketing` client); [`FloorSteps`] the raw-TCP floor (connections carrying the wire
//! protocol's get_event bytes).

use std::net::SocketAddr;
use std::sync::Arc;

use domain::Booking;

use crate::floor::{self, FloorClient};
use crate::load::Step;
use crate::metering::PayloadMeter;
use crate::protocol::{self, Connected, Protocol};
use crate::scenario::{Outcome, Plan, Scenario, Worker, verify_contended};

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

/// The four APIs: every scenario, through one metered `Ticketing` client shared by all
/// workers.
pub struct ApiSteps {
    plan: Arc<Plan>,
    client: Connected,
}

impl ApiSteps {
    /// Connects `protocol`'s metered client to `addr`, serving `plan`'s dataset.
    ///
    /// # Errors
    /// If the server cannot be reached.
    pub async fn connect(
        protocol: Protocol,
        addr: SocketAddr,
        plan: Arc<Plan>,
    ) -> Result<Self, String> {
        let client = protocol::connect(protocol, addr)
            .await
            .map_err(|e| e.to_string())?;
        Ok(ApiSteps { plan, client })
    }
}

#[async_trait::async_trait]
impl StepProvider for ApiSteps {
    type Step = Worker;

    fn runs(&self, _scenario: Scenario) -> bool {
        true
    }

    async fn workers(
        &self,
        scenario: Scenario,
        round: usize,
        concurrency: usize,
    ) -> Result<Vec<Worker>, String> {
        Ok((0..concurrency)
            .map(|i| {
                self.plan
                    .worker(scenario, round, i, Arc::clone(&self.client.api))
            })
            .collect())
    }

    fn payload(&self) -> (u64, u64) {
        self.client.meter.totals()
    }

    async fn check(
        &self,
        scenario: Scenario,
        round: usize,
        workers: &[Worker],
    ) -> Result<Option<u64>, String> {
        if scenario != Scenario::ContendedHold {
            return Ok(None);
        }
        let winners: Vec<Booking> = workers
            .iter()
            .flat_map(|w| w.won().iter().cloned())
            .collect();
        let event = self
            .plan
            .contended_event(round)
            .ok_or("no event to contend for")?;
        verify_contended(self.client.api.as_ref(), event, &winners)
            .await
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
