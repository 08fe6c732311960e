//! Link emulation: what `quartet bench --link PROFILE` puts between the load generator
//! and every server, so the figures describe a LAN, a region, a continent or a mobile
//! network and not only loopback. The kernel here has no netem, so the link is a relay
//! in userspace.
//!
//! - [`profile`]: the profiles (round-trip time, jitter, bandwidth each way) and their
//!   parsing.
//! - [`relay`]: the relay that applies one: delay per connection, a bottleneck per
//!   direction shared by every connection, each piece timed from its arrival.
//! - [`arrival`]: when a piece reached the relay, from the kernel's receive timestamps,
//!   so the relay's own wake-up is never part of the delay.
//! - [`calibrate`]: the fallback where the kernel gives no stamps: the relay's own cost
//!   measured end to end when it starts and deducted from each direction's delay.
//! - [`pace`]: waiting until an absolute instant to within microseconds (sleep, then
//!   spin a margin learned from how late sleeps wake).
//! - [`process`]: the relay as a child process (`quartet link-relay`), so its CPU is
//!   neither the client's nor the server's.
//!
//! What is not here: anything about the protocols (the relay forwards bytes), and
//! packet-level effects (loss, TCP segment headers: bandwidth is charged for payload
//! bytes only, and TCP's windows are the kernel's between each end and the relay).

pub mod arrival;
pub mod calibrate;
pub mod pace;
pub mod process;
pub mod profile;
pub mod relay;

pub use self::calibrate::Calibration;
pub use self::profile::{LinkProfile, ProfileError};
pub use self::relay::{ForwardingStats, Relay};
