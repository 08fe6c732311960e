//! Reading a process's memory and CPU time from /proc (Linux only). The harness uses it
//! for the server's RSS and CPU per operation; `quartet dataset` for its own memory.

use std::fs;
use std::io;

/// Resident memory of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Current resident set size, in bytes.
    pub rss_bytes: u64,
    /// Peak resident set size since the process started, in bytes.
    pub peak_rss_bytes: u64,
}

/// This process's memory.
///
/// # Errors
/// If /proc/self/status cannot be read or lacks the fields (not Linux).
pub fn self_memory() -> io::Result<Memory> {
    memory_of("self")
}

/// The memory of process `pid` (or `"self"`).
///
/// # Errors
/// If its /proc status cannot be read or lacks the fields.
pub fn memory_of(pid: &str) -> io::Result<Memory> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status(&status).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no VmRSS/VmHWM in /proc/{pid}/status"),
        )
    })
}

fn parse_status(status: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    Some(Memory {
        rss_bytes: field("VmRSS:")?,
        peak_rss_bytes: field("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rss_and_peak() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(
            parse_status(status),
            Some(Memory {
                rss_bytes: 1024 * 1024,
                peak_rss_bytes: 2048 * 1024
            })
        );
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let m = self_memory().unwrap();
        assert!(m.rss_bytes > 0 && m.peak_rss_bytes >= m.rss_bytes);
    }
}
