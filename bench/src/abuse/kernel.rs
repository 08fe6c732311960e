//! The kernel's listen-queue counters around an attack (`TcpExt` in /proc/net/netstat,
//! machine-wide), so that what the kernel did is not blamed on a server limit.
//!
//! When more clients connect at once than a listener's backlog holds and the server
//! accepts slower than they arrive, Linux drops handshake ACKs (`ListenOverflows`) and
//! answers SYNs with SYN cookies; a cookie connection whose first segment to arrive is
//! not the one right after the handshake fails the cookie check (`SyncookiesFailed`)
//! and is reset, and one that never sends is never accepted at all. Its client sees a
//! connection reset before any limit, or a connection that no server timeout ends. The
//! first full abuse run saw exactly that (netkit's listeners had tokio's backlog of
//! 128); the rows now carry these counts so such a run says so.

use serde::Serialize;

/// Counts of the kernel's listen-queue events (or their growth over an attack).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ListenCounters {
    /// `ListenOverflows`: handshakes dropped because an accept queue was full.
    pub listen_overflows: u64,
    /// `SyncookiesSent`: SYNs answered with a cookie because the SYN queue was full.
    pub syncookies_sent: u64,
    /// `SyncookiesFailed`: segments that failed the cookie check (each one reset).
    pub syncookies_failed: u64,
}

impl ListenCounters {
    /// The counters now, from /proc/net/netstat; `None` where there is none.
    pub fn read() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/net/netstat").ok()?)
    }

    /// What grew from `before` to `self`.
    #[must_use]
    pub fn since(self, before: Self) -> Self {
        ListenCounters {
            listen_overflows: self
                .listen_overflows
                .saturating_sub(before.listen_overflows),
            syncookies_sent: self.syncookies_sent.saturating_sub(before.syncookies_sent),
            syncookies_failed: self
                .syncookies_failed
                .saturating_sub(before.syncookies_failed),
        }
    }

    /// Whether any listen queue overflowed.
    pub fn any(self) -> bool {
        self != ListenCounters::default()
    }

    /// The `TcpExt` counters of a /proc/net/netstat text: a line of names, then a line
    /// of values, both starting `TcpExt:`.
    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
        let names = lines.next()?.split_whitespace().skip(1);
        let values = lines.next()?.split_whitespace().skip(1);
        let mut counters = ListenCounters::default();
        for (name, value) in names.zip(values) {
            let Ok(value) = value.parse::<u64>() else {
                continue;
            };
            match name {
                "ListenOverflows" => counters.listen_overflows = value,
                "SyncookiesSent" => counters.syncookies_sent = value,
                "SyncookiesFailed" => counters.syncookies_failed = value,
                _ => {}
            }
        }
        Some(counters)
    }

    /// One line for the table, under the row it belongs to.
    pub fn describe(self) -> String {
        format!(
            "kernel, machine-wide during this attack: {} listen-queue overflows, {} SYN cookies sent, {} failed (each reset): a backlog was full, so resets before any limit and connections never ended may be the kernel's, not a limit's",
            self.listen_overflows, self.syncookies_sent, self.syncookies_failed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_tcp_ext_counters_and_their_growth() {
        let before = "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows\nTcpExt: 1 2 3 4\nIpExt: InNoRoutes\nIpExt: 0\n";
        let after = "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows\nTcpExt: 11 2 5 4\nIpExt: InNoRoutes\nIpExt: 0\n";
        let before = ListenCounters::parse(before);
        assert_eq!(
            before,
            Some(ListenCounters {
                listen_overflows: 4,
                syncookies_sent: 1,
                syncookies_failed: 3,
            })
        );
        let grown = ListenCounters::parse(after)
            .zip(before)
            .map(|(a, b)| a.since(b));
        assert_eq!(
            grown,
            Some(ListenCounters {
                listen_overflows: 0,
                syncookies_sent: 10,
                syncookies_failed: 2,
            })
        );
        assert!(grown.is_some_and(ListenCounters::any));
        assert_eq!(ListenCounters::parse("IpExt: a\nIpExt: 1\n"), None);
    }
}
