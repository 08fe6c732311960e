//! The `quartet` harness as a library. Servers live in their protocol crates; this crate
//! drives and measures them.
//!
//! - [`commands`]: one module per subcommand (bench, serve, call, payloads, report,
//!   compare, merge, dataset, and the hidden serve-one the harness runs as a child
//!   process).
//! - [`protocol`]: serving and connecting each protocol; [`floor`]: the floors (raw TCP,
//!   HTTP/1.1 and HTTP/2 frameworks answering prepared bytes).
//! - [`lean`]: the lean load clients REST's, GraphQL's and gRPC's reads run through.
//! - [`link`]: the emulated links `--link` puts between client and server (a relay).
//! - [`auth`]: `--auth`, the run's key and bearer token and the customer it books for.
//! - [`compression`]: decoding the gzip or zstd answers `--compression` asks for.
//! - [`metering`]: payload byte counting, installed around each client from outside.
//! - [`scenario`]: what one operation of each scenario is, and the check its answer
//!   must pass; [`steps`]: where a protocol's workers come from (the APIs' clients or
//!   the floor's connections); [`load`]: closed- and open-loop drivers; [`stats`]:
//!   histograms.
//! - [`torture`]: `quartet torture`: recorded histories of every protocol at once,
//!   checked for linearizability against a model of a seat.
//! - [`watch`]: the `watch` scenario: subscribers following live availability while a
//!   writer changes it, timed from commit to arrival.
//! - [`operation`]: the `Ticketing` operations as values, for `call` and `payloads`.
//! - [`pgfloor`]: the database floor of `--store postgres`: the store's statements
//!   under pgbench (scripts in `bench/pgbench/`).
//! - [`child`] and [`procfs`]: server child processes and what /proc says about them;
//!   [`cpus`]: the CPUs the load generator and the servers are pinned to.
//! - [`results`], [`report`], [`charts`]: the results file and what is made of it;
//!   [`hlog`]: each run's HdrHistogram interval log; [`shard`] and [`merge`]: one load
//!   from several machines, cut into shards and added back up.

pub mod abuse;
pub mod auth;
pub mod charts;
pub mod child;
pub mod commands;
pub mod compression;
pub mod connect;
pub mod cpus;
pub mod floor;
pub mod hlog;
pub mod lean;
pub mod link;
pub mod load;
pub mod merge;
pub mod metering;
pub mod operation;
pub mod pgfloor;
pub mod procfs;
pub mod protocol;
pub mod report;
pub mod results;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod steps;
pub mod torture;
pub mod watch;
