//! The relay as a child process of the harness's own binary (`quartet link-relay`): it
//! checks its arrival stamps (or calibrates itself without them), prints `READY <addr>
//! deducted_ns=<n>` when it listens and exits when its stdin closes. A process of its
//! own keeps the relay's CPU out of both the load generator's and the server's figures,
//! as a router's would be. The relay itself is [`super::relay`].

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::profile::LinkProfile;

/// A running `quartet link-relay` child.
pub struct RelayProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Where clients connect to reach the target through the link.
    pub addr: SocketAddr,
    /// What the relay deducts from each direction's delay: zero when it dates pieces by
    /// the kernel's arrival stamps, its measured cost without them
    /// ([`super::calibrate`]); `None` if its READY line did not say.
    pub deducted: Option<Duration>,
}

impl RelayProcess {
    /// Starts a relay to `target` applying `profile`, and waits (up to 10 s: a
    /// calibration, if it needs one, takes at most a few) for it to listen.
    ///
    /// # Errors
    /// If it cannot be started or does not report ready.
    pub fn start(target: SocketAddr, profile: &LinkProfile) -> Result<Self, String> {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find the quartet binary: {e}"))?;
        let mut child = Command::new(exe)
            .args(["link-relay", "--target", &target.to_string()])
            .args(["--link", &profile.name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the link relay: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout from the link relay")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the link relay did not report ready within 10 s".to_owned())?;
        let (addr, deducted) = parse_ready(&line)
            .ok_or_else(|| format!("unexpected first line from the link relay: {line:?}"))?;
        let stdin = child.stdin.take();
        Ok(RelayProcess {
            child,
            stdin,
            addr,
            deducted,
        })
    }

    /// Closes its stdin and waits up to 5 s, then kills it.
    pub fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
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

/// The address and deduction of a `READY <addr> [deducted_ns=<n>]` line.
fn parse_ready(line: &str) -> Option<(SocketAddr, Option<Duration>)> {
    let mut words = line.strip_prefix("READY ")?.split_whitespace();
    let addr = words.next()?.parse().ok()?;
    let deducted = words
        .find_map(|w| w.strip_prefix("deducted_ns="))
        .and_then(|n| n.parse().ok())
        .map(Duration::from_nanos);
    Some((addr, deducted))
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_lines_give_the_address_and_the_deduction() {
        let addr: SocketAddr = ([127, 0, 0, 1], 4000).into();
        assert_eq!(
            parse_ready("READY 127.0.0.1:4000 deducted_ns=14200"),
            Some((addr, Some(Duration::from_nanos(14_200))))
        );
        assert_eq!(parse_ready("READY 127.0.0.1:4000"), Some((addr, None)));
        assert_eq!(parse_ready("READY nowhere"), None);
        assert_eq!(parse_ready("listening"), None);
    }
}
