//! `quartet payloads`: for each operation and protocol, one call (after one warm-up
//! call of the same kind) against a server child: request and response payload bytes,
//! bytes on the socket each way (counted by the server on its connections), and the response
//! payload compressed with gzip and zstd. No load: sizes only.

use std::io::Write;

use comfy_table::{Table, presets::UTF8_FULL};
use domain::{
    Booking, Customer, EventFilter, EventId, HoldRequest, ListEventsRequest, PerformerId,
    SearchRequest, SeatId, Ticketing, VenueId,
};
use serde::Serialize;

use crate::child::ServerChild;
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
    /// Bytes the client put on the socket.
    pub wire_sent: u64,
    /// Bytes the client took off the socket.
    pub wire_received: u64,
    /// Response payload, gzip (level 6).
    pub response_gzip: usize,
    /// Response payload, zstd (level 3).
    pub response_zstd: usize,
}

const OPERATIONS: [&str; 11] = [
    "get_event",
    "list_events",
    "search_events",
    "get_event_detail",
    "get_venue",
    "get_performer",
    "get_seat_map",
    "hold_seats",
    "get_booking",
    "confirm_booking",
    "cancel_booking",
];

fn gzip(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().map_or(0, |v| v.len())
}

fn zstd_len(bytes: &[u8]) -> usize {
    zstd::encode_all(bytes, 3).map_or(0, |v| v.len())
}

/// Runs `operation` once; `n` (0 warm-up, 1 measured) picks fresh seats and bookings.
async fn call(
    api: &dyn Ticketing,
    operation: &str,
    event: EventId,
    held: &mut Vec<Booking>,
    n: u32,
) -> domain::Result<()> {
    match operation {
        "get_event" => api.get_event(EventId(42)).await.map(drop),
        "list_events" => api
            .list_events(ListEventsRequest {
                limit: Some(20),
                ..Default::default()
            })
            .await
            .map(drop),
        "search_events" => api
            .search_events(SearchRequest {
                query: "live".into(),
                filter: EventFilter::default(),
                limit: Some(20),
            })
            .await
            .map(drop),
        "get_event_detail" => api.get_event_detail(EventId(42)).await.map(drop),
        "get_venue" => api.get_venue(VenueId(7)).await.map(drop),
        "get_performer" => api.get_performer(PerformerId(7)).await.map(drop),
        "get_seat_map" => api.get_seat_map(EventId(42)).await.map(drop),
        "hold_seats" => {
            let request = HoldRequest {
                event_id: event,
                seat_ids: vec![SeatId(2 * n), SeatId(2 * n + 1)],
                customer: Customer {
                    name: "Ada Lovelace".into(),
                    email: "ada@example.org".into(),
                },
                idempotency_key: None,
            };
            held.push(api.hold_seats(request).await?);
            Ok(())
        }
        "get_booking" => api.get_booking(held[n as usize].id).await.map(drop),
        "confirm_booking" => api
            .confirm_booking(held[n as usize].id, held[n as usize].version)
            .await
            .map(drop),
        "cancel_booking" => api.cancel_booking(held[n as usize].id).await.map(drop),
        other => Err(domain::Error::invalid_argument("operation", other)),
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
        let mut held = Vec::new();
        for operation in OPERATIONS {
            call(client.api.as_ref(), operation, event, &mut held, 0)
                .await
                .map_err(|e| format!("{protocol} {operation}: {e}"))?;
            let before = server
                .socket_bytes()
                .ok_or("the server did not report its socket bytes")?;
            let meter_before = client.meter.totals();
            call(client.api.as_ref(), operation, event, &mut held, 1)
                .await
                .map_err(|e| format!("{protocol} {operation}: {e}"))?;
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
                wire_sent: after.0 - before.0,
                wire_received: after.1 - before.1,
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
            r.wire_sent.to_string(),
            r.wire_received.to_string(),
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
