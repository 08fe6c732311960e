//! What the client tests share: a small dataset, its plan, and a server of any protocol
//! over it on a loopback port the OS picks; and what the end-to-end tests share: a tiny
//! `quartet bench` run (a small dataset, very short windows, unpinned), bounded in time.

// Each test binary uses its own subset; a failure here is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::protocol::{self, Protocol};
use bench::scenario::Plan;
use domain::{Dataset, DatasetSpec, Limits, Service, SharedTicketing};
use netkit::ServerConfig;
use netkit::running::RunningServer;

/// The dataset every server here generates.
pub const SPEC: DatasetSpec = DatasetSpec {
    events: 300,
    seed: 5,
};

/// The harness's plan over [`SPEC`].
pub fn plan() -> Arc<Plan> {
    Arc::new(Plan::new(Dataset::from_spec(SPEC)))
}

/// `protocol`'s server over a fresh [`SPEC`] store with default settings.
pub async fn serve(protocol: Protocol) -> RunningServer {
    let api: SharedTicketing = Arc::new(Service::generate(SPEC, Limits::default()));
    RunningServer::spawn(move |listener, stop| {
        protocol::serve(protocol, listener, api, ServerConfig::default(), stop)
    })
    .await
    .unwrap_or_else(|e| panic!("{protocol} server: {e}"))
}

/// The flags of a tiny `quartet bench`: 400 events, two clients, 0.3 s windows after 0.1
/// s of warm-up, unpinned (the test machine's cores are shared).
pub const TINY_BENCH: [&str; 12] = [
    "--events",
    "400",
    "--seed",
    "3",
    "--concurrency",
    "2",
    "--duration",
    "0.3",
    "--warmup",
    "0.1",
    "--pin",
    "off",
];

/// A fresh, empty results folder for the test `name` (in the temporary directory,
/// named after this process so concurrent runs never share one).
pub fn out_dir(name: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("quartet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    out
}

/// Runs `quartet bench` with [`TINY_BENCH`], then `args`, writing into `out`; the
/// command must succeed within `limit` (it is killed, and the test fails, past it).
/// Returns results.json.
pub fn tiny_bench(args: &[&str], out: &Path, limit: Duration) -> serde_json::Value {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .arg("bench")
        .args(TINY_BENCH)
        .args(args)
        .arg("--out")
        .arg(out)
        .spawn()
        .expect("run quartet bench");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for quartet bench") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("quartet bench {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "quartet bench {args:?} failed: {status}");
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json parses")
}
