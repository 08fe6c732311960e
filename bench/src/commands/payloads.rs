//! `quartet payloads`: for each operation and protocol, one call (after one warm-up
//! call of the same kind) against a server child: request and response payload bytes,
//! bytes on the socket each way (counted by the server on its connections), and the response
//! payload compressed with gzip and zstd. No load: sizes only.

use std::io::Write;

use comfy_table::{Table, presets::UTF8_FULL};
use domain::{Booking, EventId, Ticketing};
use serde::Serialize;

use crate::child::ServerChild;
use crate::operation::{Answer, Operation};
use crate::protocol::{self, Protocol};

/// Flags of `quartet payloads`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Events in the dataset.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_EVENTS)]
    pub events: u32,
    /// Dataset seed.
    #[arg(long, default_value_t = domain::dataset::DEFAULT_SEED)]
    pub seed: u64,
}

/// One measured call.
#[derive(Debug, Clone, Serialize)]
pub struct PayloadRow {
    /// The operation.
    pub operation: String,
    /// The protocol.
    pub protocol: String,
    /// Request payload bytes.
    pub request_payload: usize,
    /// Response payload bytes.
    pub response_payload: usize,
    /// Bytes the client put on the socket (as the server read them).
    pub socket_sent: u64,
    /// Bytes the client took off the socket (as the server wrote them).
    pub socket_received: u64,
    /// Response payload, gzip (level 6).
    pub response_gzip: usize,
    /// Response payload, zstd (level 3).
    pub response_zstd: usize,
}

/// What the operations of one call round act on.
struct Round<'a> {
    /// 0 for the warm-up call, 1 for the measured one.
    n: u32,
    /// An on-sale event to hold seats of.
    event: EventId,
    /// The bookings the hold_seats calls made, by round.
    held: &'a [Booking],
}

impl Round<'_> {
    /// The booking this round's hold_seats made (id 0, which is never found, if none).
    fn booking(&self) -> (u64, u64) {
        self.held
            .get(self.n as usize)
            .map_or((0, 0), |b| (b.id.0, b.version))
    }
}

/// The operations measured, in table order, with fixed arguments: two fresh seats per
/// round for hold_seats; the booking operations act on the booking of the same round.
const OPERATIONS: [fn(&Round) -> Operation; 11] = [
    |_| Operation::GetEvent { id: 42 },
    |_| Operation::ListEvents {
        limit: Some(20),
        cursor: None,
        category: None,
        city: None,
    },
    |_| Operation::SearchEvents {
        query: "live".into(),
        limit: Some(20),
    },
    |_| Operation::GetEventDetail { id: 42 },
    |_| Operation::GetVenue { id: 7 },
    |_| Operation::GetPerformer { id: 7 },
    |_| Operation::GetSeatMap { id: 42 },
    |r| Operation::HoldSeats {
        event: r.event.0,
        seats: vec![2 * r.n, 2 * r.n + 1],
        name: "Ada Lovelace".into(),
        email: "ada@example.org".into(),
        key: None,
    },
    |r| Operation::GetBooking { id: r.booking().0 },
    |r| {
        let (id, version) = r.booking();
        Operation::ConfirmBooking { id, version }
    },
    |r| Operation::CancelBooking { id: r.booking().0 },
];

fn gzip(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().map_or(0, |v| v.len())
}

fn zstd_len(bytes: &[u8]) -> usize {
    zstd::encode_all(bytes, 3).map_or(0, |v| v.len())
}

/// Runs `make`'s operation for call `n` (0 warm-up, 1 measured) and returns its name;
/// keeps the booking a hold makes.
///
/// # Errors
/// The operation's error, after its name.
async fn call(
    api: &dyn Ticketing,
    make: fn(&Round) -> Operation,
    n: u32,
    event: EventId,
    held: &mut Vec<Booking>,
) -> Result<&'static str, String> {
    let operation = make(&Round {
        n,
        event,
        held: held.as_slice(),
    });
    let name = operation.name();
    let holds = matches!(operation, Operation::HoldSeats { .. });
    match operation.run(api).await {
        Ok(Answer::Booking(booking)) if holds => {
            held.push(booking);
            Ok(name)
        }
        Ok(_) => Ok(name),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// Measures every operation over every protocol.
///
/// # Errors
/// If a server cannot be started or a call fails.
pub async fn measure(events: u32, seed: u64) -> Result<Vec<PayloadRow>, String> {
    let data = domain::Dataset::generate(events, seed);
    let event = data
        .events
        .iter()
        .find(|e| e.status == domain::EventStatus::OnSale)
        .map(|e| e.id)
        .ok_or("no on-sale event")?;
    let mut rows = Vec::new();
    for protocol in Protocol::APIS {
        let mut server = ServerChild::start(protocol, events, seed, None)?;
        let client = protocol::connect(protocol, server.addr)
            .await
            .map_err(|e| e.to_string())?;
        client.meter.set_capture(true);
        let mut held: Vec<Booking> = Vec::new();
        for make in OPERATIONS {
            let api = client.api.as_ref();
            call(api, make, 0, event, &mut held)
                .await
                .map_err(|e| format!("{protocol} {e}"))?;
            let before = server
                .socket_bytes()
                .ok_or("the server did not report its socket bytes")?;
            let meter_before = client.meter.totals();
            let operation = call(api, make, 1, event, &mut held)
                .await
                .map_err(|e| format!("{protocol} {e}"))?;
            let after = server
                .socket_bytes()
                .ok_or("the server did not report its socket bytes")?;
            let meter_after = client.meter.totals();
            let (request, response) = client.meter.last().unwrap_or_default();
            rows.push(PayloadRow {
                operation: operation.to_owned(),
                protocol: protocol.name().to_owned(),
                request_payload: (meter_after.0 - meter_before.0) as usize,
                response_payload: (meter_after.1 - meter_before.1) as usize,
                socket_sent: after.0 - before.0,
                socket_received: after.1 - before.1,
                response_gzip: gzip(&response),
                response_zstd: zstd_len(&response),
            });
            drop(request);
        }
        server.stop();
    }
    Ok(rows)
}

/// Prints the table (or JSON).
///
/// # Errors
/// As [`measure`].
pub async fn run(args: Args) -> Result<(), String> {
    let rows = measure(args.events, args.seed).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL).set_header([
        "operation",
        "protocol",
        "request B",
        "response B",
        "socket sent B",
        "socket recv B",
        "response gzip B",
        "response zstd B",
    ]);
    for r in &rows {
        table.add_row([
            r.operation.clone(),
            r.protocol.clone(),
            r.request_payload.to_string(),
            r.response_payload.to_string(),
            r.socket_sent.to_string(),
            r.socket_received.to_string(),
            r.response_gzip.to_string(),
            r.response_zstd.to_string(),
        ]);
    }
    println!("{table}");
    println!(
        "payload = message bodies (JSON, protobuf, postcard); socket = what the server read and wrote for the call, headers and framing included; dataset {} events, seed {}.",
        args.events, args.seed
    );
    Ok(())
}
