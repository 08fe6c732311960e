//! `quartet call PROTOCOL OPERATION [ARGS]`: one call through that protocol's client,
//! the answer (or the domain error) printed as JSON. The handy way to poke any server,
//! the binary wire protocol included: `quartet call wire get-event 42`.

use std::net::SocketAddr;

use domain::Category;

use crate::operation::Operation;
use crate::protocol::{self, Protocol};

/// Flags of `quartet call`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which client: rest, graphql, grpc or wire.
    pub protocol: Protocol,
    /// Server address [default: the protocol's default port on 127.0.0.1].
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// The operation.
    #[command(subcommand)]
    pub operation: Operation,
}

/// Makes the call and prints the answer; a domain error is printed as JSON and fails.
///
/// # Errors
/// If the server cannot be reached or answers with an error.
pub async fn run(args: Args) -> Result<(), String> {
    // A category that does not exist is a mistake on the command line, not an answer.
    if let Operation::ListEvents {
        category: Some(category),
        ..
    } = &args.operation
    {
        category.parse::<Category>().map_err(|e| e.to_string())?;
    }
    let addr = args
        .addr
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], args.protocol.default_port())));
    let api = protocol::connect(args.protocol, addr)
        .await
        .map_err(|e| e.to_string())?
        .api;
    let answer = match args.operation.run(api.as_ref()).await {
        Ok(answer) => serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?,
        Err(e) => {
            return Err(serde_json::to_string_pretty(&e).unwrap_or_else(|_| e.to_string()));
        }
    };
    println!("{answer}");
    Ok(())
}
