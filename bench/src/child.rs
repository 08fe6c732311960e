//! Servers as child processes of the harness's own binary (`quartet serve-one`), so
//! servers never compete with each other and their CPU, memory and socket bytes can be
//! read from /proc. A child is started with `--control-stdin`: it prints `READY <addr>`
//! when it listens, answers `stats` on stdin, and shuts down gracefully when its stdin
//! closes. A pinned child runs under `taskset -c` on its CPU set with one runtime worker
//! thread per CPU of it (`--worker-threads`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cpus::CpuSet;
use crate::protocol::Protocol;

/// A running server child.
pub struct ServerChild {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl ServerChild {
    /// Starts `quartet serve-one PROTOCOL` on a loopback port it picks, optionally pinned
    /// to `cpus` with a worker thread per CPU, and waits (up to two minutes: a large
    /// dataset takes a while) for it to listen.
    ///
    /// # Errors
    /// If it cannot be started or does not report ready.
    pub fn start(
        protocol: Protocol,
        events: u32,
        seed: u64,
        cpus: Option<&CpuSet>,
    ) -> Result<Self, String> {
        Self::start_with(protocol, events, seed, cpus, &[])
    }

    /// [`ServerChild::start`] with `extra` flags after the usual ones: the harness passes
    /// `--store postgres --database-url URL --schema S` to serve a loaded schema.
    ///
    /// # Errors
    /// If it cannot be started or does not report ready.
    pub fn start_with(
        protocol: Protocol,
        events: u32,
        seed: u64,
        cpus: Option<&CpuSet>,
        extra: &[String],
    ) -> Result<Self, String> {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find the quartet binary: {e}"))?;
        let mut command = match cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpus.to_string()).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        command.args(["serve-one", protocol.name(), "--control-stdin"]);
        if let Some(cpus) = cpus {
            command.args(["--worker-threads", &cpus.len().to_string()]);
        }
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(["--events", &events.to_string(), "--seed", &seed.to_string()])
            .args(extra)
            // Quiet: anything the server writes would count as bytes it wrote.
            .env("RUST_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the {protocol} server: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("no stdout from the server child")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            // Every line goes to the harness; reading them all keeps the pipe from filling.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(120)).map_err(|_| {
            format!("the {protocol} server did not report ready within 120 s (or exited)")
        })?;
        let addr = line
            .strip_prefix("READY ")
            .and_then(|a| a.trim().parse().ok())
            .ok_or_else(|| format!("unexpected first line from the {protocol} server: {line:?}"))?;
        let stdin = child.stdin.take();
        Ok(ServerChild {
            child,
            stdin,
            lines: rx,
            addr,
        })
    }

    /// `(read, written)` bytes that crossed the child's sockets since it started.
    pub fn socket_bytes(&mut self) -> Option<(u64, u64)> {
        use std::io::Write;
        let stdin = self.stdin.as_mut()?;
        stdin
            .write_all(b"stats\n")
            .and_then(|()| stdin.flush())
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if let Some(rest) = line.strip_prefix("STATS ") {
                let mut numbers = rest
                    .split_whitespace()
                    .filter_map(|n| n.parse::<u64>().ok());
                return Some((numbers.next()?, numbers.next()?));
            }
        }
        None
    }

    /// Its process id, for /proc.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes its stdin (a graceful shutdown) and waits up to 15 s, then kills it.
    pub fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
