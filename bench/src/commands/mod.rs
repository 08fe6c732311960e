//! One module per `quartet` subcommand: its clap `Args` and its `run`.

pub mod abuse;
pub mod bench;
pub mod call;
pub mod compare;
pub mod dataset;
pub mod link_relay;
pub mod merge;
pub mod payloads;
pub mod reference;
pub mod report;
pub mod serve;
pub mod serve_one;
pub mod tls_dev_certs;
pub mod token;
pub mod torture;
