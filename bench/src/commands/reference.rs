//! `quartet reference-bodies` (hidden): writes the request bodies the reference load
//! tools send in `scripts/vs-reference.sh`, so that `wrk` and `h2load` post exactly what
//! the harness's clients do: GraphQL's GetEvent JSON and gRPC's framed GetEvent request.

use std::path::PathBuf;

use domain::EventId;
use prost::Message;

/// Flags of `quartet reference-bodies`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write `graphql_get_event.json` and `grpc_get_event.bin` into.
    #[arg(long)]
    pub out: PathBuf,
    /// The event the requests ask for.
    #[arg(long, default_value_t = 1)]
    pub event: u64,
}

/// Writes the two bodies.
///
/// # Errors
/// If the folder or a file cannot be written.
pub fn run(args: &Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let graphql = crate::lean::graphql_get_event_body(EventId(args.event));
    let message = grpc::pb::GetEventRequest {
        event_id: args.event,
    }
    .encode_to_vec();
    let mut grpc = vec![0u8];
    grpc.extend_from_slice(&(message.len() as u32).to_be_bytes());
    grpc.extend_from_slice(&message);
    for (name, bytes) in [
        ("graphql_get_event.json", graphql),
        ("grpc_get_event.bin", grpc),
    ] {
        let path = args.out.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
