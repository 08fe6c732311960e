//! The `quartet` harness as a library: each subcommand in `commands`, and the small pieces
//! they share (reading a process's memory and CPU from /proc).
//!
//! Servers live in their own protocol crates; this crate only drives and measures them.

pub mod commands;
pub mod procfs;
