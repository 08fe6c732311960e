//! The harness refuses to report what it did not measure, and its server runs as
//! documented: a `quartet bench` whose target refuses every connection prints no figures
//! and exits non-zero naming the protocol, scenario and cause; an open-loop rate the
//! server cannot reach is flagged with what was achieved; `quartet serve-one` started
//! with its stdin closed (as from a script with `&`) keeps serving until SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn out_dir(name: &str) -> std::path::PathBuf {
    let out = std::env::temp_dir().join(format!("quartet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    out
}

/// A loopback port nothing listens on: bound by the OS, then released.
fn closed_port() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(addr)
}

#[test]
fn a_target_that_refuses_every_connection_is_a_failure_not_a_result() {
    let addr = closed_port().expect("a free port");
    let out = out_dir("refused");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["bench", "--events", "50", "--protocols", "rest"])
        .args(["--scenarios", "get_event", "--concurrency", "1"])
        .args(["--duration", "0.2", "--warmup", "0", "--pin", "off"])
        .arg("--target")
        .arg(format!("rest={addr}"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run quartet bench");
    assert!(started.elapsed() < Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("FAILED rest") && stderr.contains("measured nothing"),
        "{stderr}"
    );
    // The cause is the first error: REST's client names the request it could not send
    // (the other clients fail at connect and name the address too).
    let line = stderr
        .lines()
        .find(|l| l.starts_with("FAILED rest"))
        .unwrap_or_default();
    assert!(
        line.contains("get_event") && line.contains("first error:"),
        "{line}"
    );
    assert!(line.contains(&addr.to_string()), "{line}");
    assert!(
        !stdout.contains('┌'),
        "no results table for a run that measured nothing: {stdout}"
    );
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("results.json")).expect("results.json written"),
    )
    .expect("json");
    assert_eq!(results["runs"].as_array().map(Vec::len), Some(0));
    let failures = results["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["protocol"], "rest");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn an_unreachable_rate_is_flagged_with_what_was_achieved() {
    let out = out_dir("rate");
    let output = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args(["bench", "--events", "50", "--protocols", "wire"])
        .args(["--scenarios", "get_event", "--concurrency", "1"])
        .args(["--rate", "100000000", "--open-connections", "2"])
        .args([
            "--duration",
            "0.3",
            "--warmup",
            "0",
            "--pin",
            "off",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run quartet bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("rate not met"), "{stderr}");
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("results.json")).expect("results.json"),
    )
    .expect("json");
    let runs = results["runs"].as_array().expect("runs");
    let open = runs
        .iter()
        .find(|r| r["mode"] == "open")
        .expect("an open-loop run");
    assert_eq!(open["rate_not_met"], true, "{open}");
    let achieved = open["achieved_rate_ops_s"].as_f64().expect("achieved rate");
    assert!(achieved > 0.0 && achieved < 0.95 * 1e8, "{achieved}");
    assert!(open["backlog_at_end"].as_u64().expect("backlog") > 0);
    let closed = runs
        .iter()
        .find(|r| r["mode"] == "closed")
        .expect("a closed-loop run");
    assert_eq!(closed["rate_not_met"], false);
    assert!(closed["achieved_rate_ops_s"].is_null());
    // Client CPU is recorded beside the server's, with its share of the client's cores.
    assert!(
        closed["client_cpu_us_per_op"].as_f64().is_some(),
        "{closed}"
    );
    assert!(closed["client_cpu_share"].as_f64().is_some(), "{closed}");
    assert!(
        closed["server_cpu_us_per_op"].as_f64().is_some(),
        "{closed}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(report.contains("client CPU µs/op") && report.contains("RATE NOT MET"));
    assert!(
        report.contains("90%"),
        "the client-bound threshold is stated"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// Kills the child if the test fails before stopping it.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn get_event(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(
        b"GET /v1/events/1 HTTP/1.1
Host: x
Connection: close

",
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[test]
fn serve_one_with_stdin_closed_serves_until_sigterm() {
    let child = Command::new(env!("CARGO_BIN_EXE_quartet"))
        .args([
            "serve-one",
            "rest",
            "--listen",
            "127.0.0.1:0",
            "--events",
            "50",
        ])
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start serve-one");
    let mut child = Reap(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("READY");
    let addr: SocketAddr = line
        .strip_prefix("READY ")
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("first line {line:?}"));
    // Stdin was at EOF from the start; two requests on fresh connections are answered
    // and the process is still there afterwards.
    for _ in 0..2 {
        let answer = get_event(addr).expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    assert!(
        matches!(child.0.try_wait(), Ok(None)),
        "serve-one exited on its own"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Ok(Some(exit)) = child.0.try_wait() {
            break exit;
        }
        assert!(Instant::now() < deadline, "serve-one ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
}
