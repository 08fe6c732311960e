//! Link profiles: what `--link` names (a round-trip time, optional jitter, a bandwidth
//! per direction) and the parsing of the named profiles, `custom:` ones and lists of
//! both. The relay that applies a profile lives in [`super::relay`].

use std::fmt;
use std::time::Duration;

/// An emulated link between the load generator and a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProfile {
    /// `loopback`, `lan`, `region`, `continent`, `mobile`, or the `custom:...` text.
    pub name: String,
    /// Round-trip time: each direction delays bytes by half of it.
    pub rtt: Duration,
    /// Spread of the round-trip time: each direction adds a uniform draw from
    /// `[-jitter/2, +jitter/2]` to its half (never reordering bytes).
    pub jitter: Duration,
    /// Server-to-client bandwidth, bits per second (`None`: unlimited).
    pub down_bps: Option<u64>,
    /// Client-to-server bandwidth, bits per second (`None`: unlimited).
    pub up_bps: Option<u64>,
}

/// Why a `--link` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileError {
    /// Not a named profile and not `custom:...`.
    UnknownProfile(String),
    /// A `custom:` entry without `=`, or with a key other than rtt, down, up, jitter.
    BadEntry(String),
    /// A key given twice in one `custom:` profile.
    Repeated(&'static str),
    /// A duration that is not a number with `us`, `ms` or `s`.
    BadDuration(String),
    /// A bandwidth that is not a positive number with `bit`, `kbit`, `mbit` or `gbit`.
    BadBandwidth(String),
    /// Jitter larger than the round-trip time (a direction's delay would go negative).
    JitterOverRtt,
    /// An empty list.
    Empty,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::UnknownProfile(name) => write!(
                f,
                "unknown link profile {name:?}: expected loopback, lan, region, continent, mobile or custom:rtt=..,down=..,up=..,jitter=.."
            ),
            ProfileError::BadEntry(entry) => write!(
                f,
                "bad custom link entry {entry:?}: expected rtt=DURATION, jitter=DURATION, down=BANDWIDTH or up=BANDWIDTH"
            ),
            ProfileError::Repeated(key) => write!(f, "custom link: {key} given twice"),
            ProfileError::BadDuration(text) => write!(
                f,
                "bad duration {text:?}: expected a number with us, ms or s (e.g. 60ms)"
            ),
            ProfileError::BadBandwidth(text) => write!(
                f,
                "bad bandwidth {text:?}: expected a positive number with bit, kbit, mbit or gbit (e.g. 10mbit)"
            ),
            ProfileError::JitterOverRtt => {
                f.write_str("custom link: jitter must not exceed the rtt")
            }
            ProfileError::Empty => f.write_str("no link profile given"),
        }
    }
}

impl std::error::Error for ProfileError {}

const MBIT: u64 = 1_000_000;

impl LinkProfile {
    /// The named profiles, in the order `--help` lists them.
    pub const NAMES: [&'static str; 5] = ["loopback", "lan", "region", "continent", "mobile"];

    /// No emulation: the client talks to the server directly.
    pub fn loopback() -> Self {
        LinkProfile {
            name: "loopback".to_owned(),
            rtt: Duration::ZERO,
            jitter: Duration::ZERO,
            down_bps: None,
            up_bps: None,
        }
    }

    fn named(name: &str) -> Option<Self> {
        let (rtt_us, jitter_us, down, up) = match name {
            "loopback" => return Some(Self::loopback()),
            "lan" => (500, 0, 1000 * MBIT, 1000 * MBIT),
            "region" => (10_000, 0, 200 * MBIT, 200 * MBIT),
            "continent" => (80_000, 0, 50 * MBIT, 50 * MBIT),
            "mobile" => (60_000, 10_000, 10 * MBIT, 2 * MBIT),
            _ => return None,
        };
        Some(LinkProfile {
            name: name.to_owned(),
            rtt: Duration::from_micros(rtt_us),
            jitter: Duration::from_micros(jitter_us),
            down_bps: Some(down),
            up_bps: Some(up),
        })
    }

    /// Whether it emulates nothing (no relay is needed).
    pub fn is_loopback(&self) -> bool {
        self.rtt.is_zero()
            && self.jitter.is_zero()
            && self.down_bps.is_none()
            && self.up_bps.is_none()
    }

    /// `60 ms RTT ± 10 ms, 10 Mbit/s down, 2 Mbit/s up`, or `no emulation`.
    pub fn describe(&self) -> String {
        if self.is_loopback() {
            return "no emulation".to_owned();
        }
        let ms = |d: Duration| {
            let ms = d.as_secs_f64() * 1e3;
            format!("{ms} ms")
        };
        let bw = |b: Option<u64>| match b {
            None => "unlimited".to_owned(),
            Some(b) if b >= 1_000_000_000 && b % 1_000_000_000 == 0 => {
                format!("{} Gbit/s", b / 1_000_000_000)
            }
            Some(b) => format!("{} Mbit/s", b as f64 / 1e6),
        };
        let mut text = format!("{} RTT", ms(self.rtt));
        if !self.jitter.is_zero() {
            text = format!("{text} ± {}", ms(self.jitter));
        }
        format!("{text}, {} down, {} up", bw(self.down_bps), bw(self.up_bps))
    }

    /// Parses one profile: a name or `custom:rtt=..,down=..,up=..,jitter=..` (every key
    /// optional; a bandwidth left out is unlimited).
    ///
    /// # Errors
    /// [`ProfileError`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, ProfileError> {
        let text = text.trim();
        if let Some(entries) = text.strip_prefix("custom:") {
            return Self::custom(text, entries);
        }
        Self::named(text).ok_or_else(|| ProfileError::UnknownProfile(text.to_owned()))
    }

    fn custom(whole: &str, entries: &str) -> Result<Self, ProfileError> {
        let mut rtt = None;
        let mut jitter = None;
        let mut down = None;
        let mut up = None;
        for entry in entries.split(',').filter(|e| !e.trim().is_empty()) {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| ProfileError::BadEntry(entry.to_owned()))?;
            let value = value.trim();
            match key.trim() {
                "rtt" => set(&mut rtt, "rtt", parse_duration(value)?)?,
                "jitter" => set(&mut jitter, "jitter", parse_duration(value)?)?,
                "down" => set(&mut down, "down", parse_bandwidth(value)?)?,
                "up" => set(&mut up, "up", parse_bandwidth(value)?)?,
                _ => return Err(ProfileError::BadEntry(entry.to_owned())),
            }
        }
        let rtt = rtt.unwrap_or_default();
        let jitter = jitter.unwrap_or_default();
        if jitter > rtt {
            return Err(ProfileError::JitterOverRtt);
        }
        Ok(LinkProfile {
            name: whole.to_owned(),
            rtt,
            jitter,
            down_bps: down,
            up_bps: up,
        })
    }

    /// Parses a `--link` value: profiles separated by commas. A `custom:` profile's own
    /// entries are commas too, so an entry `key=value` after a `custom:` belongs to it:
    /// `loopback,custom:rtt=20ms,down=5mbit,mobile` is three profiles.
    ///
    /// # Errors
    /// [`ProfileError`] for the first bad profile, or an empty list.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, ProfileError> {
        let mut pieces: Vec<String> = Vec::new();
        for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match pieces.last_mut() {
                Some(last)
                    if last.starts_with("custom:")
                        && token.contains('=')
                        && !token.starts_with("custom:") =>
                {
                    last.push(',');
                    last.push_str(token);
                }
                _ => pieces.push(token.to_owned()),
            }
        }
        if pieces.is_empty() {
            return Err(ProfileError::Empty);
        }
        pieces.iter().map(|p| Self::parse(p)).collect()
    }
}

impl fmt::Display for LinkProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn set<T>(slot: &mut Option<T>, key: &'static str, value: T) -> Result<(), ProfileError> {
    if slot.replace(value).is_some() {
        Err(ProfileError::Repeated(key))
    } else {
        Ok(())
    }
}

/// Splits `12.5ms` into `(12.5, "ms")`.
fn number_and_unit(text: &str) -> Option<(f64, String)> {
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..at].parse().ok()?;
    number
        .is_finite()
        .then(|| (number, text[at..].trim().to_ascii_lowercase()))
}

/// `500us`, `0.5ms`, `1s`.
fn parse_duration(text: &str) -> Result<Duration, ProfileError> {
    let bad = || ProfileError::BadDuration(text.to_owned());
    let (number, unit) = number_and_unit(text).ok_or_else(bad)?;
    let seconds = match unit.as_str() {
        "us" | "µs" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        _ => return Err(bad()),
    };
    // An hour of delay is no link anyone emulates; refusing it keeps the arithmetic sane.
    if seconds > 3600.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `10mbit`, `1gbit`, `500kbit`, `2Mbit/s`, `64000bit`.
fn parse_bandwidth(text: &str) -> Result<u64, ProfileError> {
    let bad = || ProfileError::BadBandwidth(text.to_owned());
    let (number, unit) = number_and_unit(text).ok_or_else(bad)?;
    let unit = unit.strip_suffix("/s").unwrap_or(&unit);
    let unit = unit.strip_suffix("ps").map_or_else(
        || unit.to_owned(),
        |stem| format!("{stem}it"), // "mbps" -> "mbit"
    );
    let scale = match unit.as_str() {
        "bit" => 1.0,
        "kbit" => 1e3,
        "mbit" => 1e6,
        "gbit" => 1e9,
        _ => return Err(bad()),
    };
    let bps = number * scale;
    // Under 1 kbit/s a 1 MB answer takes hours; over 1 Tbit/s it is not a bottleneck.
    if !(1e3..=1e12).contains(&bps) {
        return Err(bad());
    }
    Ok(bps.round() as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_named_profiles_are_the_ones_the_issue_lists() {
        let mobile = LinkProfile::parse("mobile").unwrap();
        assert_eq!(mobile.rtt, Duration::from_millis(60));
        assert_eq!(mobile.jitter, Duration::from_millis(10));
        assert_eq!(
            (mobile.down_bps, mobile.up_bps),
            (Some(10 * MBIT), Some(2 * MBIT))
        );
        let lan = LinkProfile::parse("lan").unwrap();
        assert_eq!(lan.rtt, Duration::from_micros(500));
        assert_eq!(lan.down_bps, Some(1_000_000_000));
        assert!(LinkProfile::parse("loopback").unwrap().is_loopback());
        assert!(!lan.is_loopback());
        for name in LinkProfile::NAMES {
            assert_eq!(LinkProfile::parse(name).unwrap().name, name);
        }
    }

    #[test]
    fn custom_profiles_take_every_key_and_default_the_rest() {
        let p = LinkProfile::parse("custom:rtt=20ms,down=5mbit,up=1.5Mbit/s,jitter=2ms").unwrap();
        assert_eq!(p.rtt, Duration::from_millis(20));
        assert_eq!(p.jitter, Duration::from_millis(2));
        assert_eq!(p.down_bps, Some(5_000_000));
        assert_eq!(p.up_bps, Some(1_500_000));
        let only_rtt = LinkProfile::parse("custom:rtt=250us").unwrap();
        assert_eq!(only_rtt.rtt, Duration::from_micros(250));
        assert_eq!((only_rtt.down_bps, only_rtt.up_bps), (None, None));
        assert_eq!(
            LinkProfile::parse("custom:down=100mbps").unwrap().down_bps,
            Some(100_000_000)
        );
    }

    #[test]
    fn bad_input_is_named_in_the_error() {
        let err = |t: &str| LinkProfile::parse(t).unwrap_err();
        assert_eq!(err("moon"), ProfileError::UnknownProfile("moon".into()));
        assert_eq!(err("custom:rtt"), ProfileError::BadEntry("rtt".into()));
        assert_eq!(
            err("custom:latency=5ms"),
            ProfileError::BadEntry("latency=5ms".into())
        );
        assert_eq!(err("custom:rtt=5"), ProfileError::BadDuration("5".into()));
        assert_eq!(
            err("custom:rtt=-5ms"),
            ProfileError::BadDuration("-5ms".into())
        );
        assert_eq!(err("custom:rtt=5ms,rtt=6ms"), ProfileError::Repeated("rtt"));
        assert_eq!(
            err("custom:down=fast"),
            ProfileError::BadBandwidth("fast".into())
        );
        assert_eq!(
            err("custom:down=0mbit"),
            ProfileError::BadBandwidth("0mbit".into())
        );
        assert_eq!(
            err("custom:up=10mb"),
            ProfileError::BadBandwidth("10mb".into())
        );
        assert_eq!(
            err("custom:rtt=5ms,jitter=6ms"),
            ProfileError::JitterOverRtt
        );
        assert!(err("moon").to_string().contains("mobile"));
    }

    #[test]
    fn lists_keep_a_custom_profiles_own_commas() {
        let list = LinkProfile::parse_list("loopback, custom:rtt=20ms,down=5mbit ,mobile").unwrap();
        let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["loopback", "custom:rtt=20ms,down=5mbit", "mobile"]);
        assert_eq!(list[1].down_bps, Some(5_000_000));
        assert_eq!(LinkProfile::parse_list(" , "), Err(ProfileError::Empty));
        assert!(LinkProfile::parse_list("lan,rtt=5ms").is_err());
    }

    #[test]
    fn descriptions_read_as_the_issue_writes_them() {
        assert_eq!(
            LinkProfile::parse("mobile").unwrap().describe(),
            "60 ms RTT ± 10 ms, 10 Mbit/s down, 2 Mbit/s up"
        );
        assert_eq!(
            LinkProfile::parse("lan").unwrap().describe(),
            "0.5 ms RTT, 1 Gbit/s down, 1 Gbit/s up"
        );
    }
}
