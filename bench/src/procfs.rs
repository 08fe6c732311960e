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

/// What the harness reads of a server process from /proc before and after a run.
/// (Not its socket bytes: /proc's rchar misses socket `recv` calls, so the servers count
/// those themselves; see `netkit::connections::Counted`.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// User + system CPU time of all threads, in clock ticks.
    pub cpu_ticks: u64,
    /// Peak resident memory, in bytes.
    pub peak_rss_bytes: u64,
}

/// The stats of process `pid`.
///
/// # Errors
/// If /proc cannot be read for `pid`.
pub fn process_stats(pid: u32) -> io::Result<ProcessStats> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let memory = memory_of(&pid.to_string())?;
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot parse {what} of {pid}"),
        )
    };
    Ok(ProcessStats {
        cpu_ticks: parse_cpu_ticks(&stat).ok_or_else(|| bad("stat"))?,
        peak_rss_bytes: memory.peak_rss_bytes,
    })
}

/// utime + stime from /proc/PID/stat (fields 14 and 15, counted after the `)` that
/// closes the command name, which may itself contain spaces).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on).
pub fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

#[cfg(test)]
mod stat_tests {
    use super::*;

    #[test]
    fn cpu_ticks_survive_odd_command_names() {
        let stat = "42 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 30 0 0 20 0 4";
        assert_eq!(parse_cpu_ticks(stat), Some(280));
        assert_eq!(parse_cpu_ticks("no closing paren"), None);
    }

    #[test]
    fn this_process_uses_cpu_and_memory() {
        let before = process_stats(std::process::id()).unwrap();
        // Burn CPU until the tick counter moves (10 ms per tick at 100 Hz). Not for a
        // fixed wall-clock time: on a loaded machine this thread may get less than a
        // tick of CPU in any given 100 ms. The deadline only ends a counter that never
        // moves, which fails below.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut x = 0u64;
        let mut after = before;
        while after.cpu_ticks <= before.cpu_ticks && std::time::Instant::now() < deadline {
            let burst = std::time::Instant::now();
            while burst.elapsed() < std::time::Duration::from_millis(20) {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            after = process_stats(std::process::id()).unwrap();
        }
        assert!(
            after.cpu_ticks > before.cpu_ticks,
            "{before:?} -> {after:?}"
        );
        assert!(after.peak_rss_bytes > 0);
    }
}
