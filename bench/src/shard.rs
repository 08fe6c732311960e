//! `--shard i/n`: one load machine's part of a load several machines make together.
//!
//! A run's inputs come from seeded streams, one per worker: worker `w` of a scenario
//! draws the stream numbered `w` ([`crate::scenario::Plan::input_stream`]). Shard `i/n`
//! runs the workers numbered `i - 1`, `i - 1 + n`, `i - 1 + 2n`, ...: its local worker `j`
//! is global worker `j * n + (i - 1)`. So the `n` shards of a run at concurrency `c`
//! together run exactly the workers `0 .. c * n` of one machine at concurrency `c * n`,
//! each once: no two shards draw the same stream, and the writes keyed by the worker
//! (hold_cancel's event and customer) never meet. Shard `1/1` is a whole run.
//!
//! What lives here is the arithmetic and its parsing; the plan applies it, `quartet bench`
//! checks it is used only against servers it did not start, and `quartet merge` adds
//! the shards' results up.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Shard `index` of `count` (1-based: `1/2` and `2/2` are the two halves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawShard", into = "RawShard")]
pub struct Shard {
    index: u32,
    count: u32,
}

/// A shard as written in `results.json` (`{"index": 1, "count": 2}`), checked on read.
#[derive(Serialize, Deserialize)]
struct RawShard {
    index: u32,
    count: u32,
}

impl TryFrom<RawShard> for Shard {
    type Error = ShardError;
    fn try_from(raw: RawShard) -> Result<Self, ShardError> {
        Shard::new(raw.index, raw.count)
    }
}

impl From<Shard> for RawShard {
    fn from(shard: Shard) -> Self {
        RawShard {
            index: shard.index,
            count: shard.count,
        }
    }
}

/// Why a shard was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardError {
    /// Not of the form `i/n` with two whole numbers.
    Syntax(String),
    /// `n` was 0: there is no shard of nothing.
    NoShards,
    /// `i` was 0 or above `n`.
    OutOfRange {
        /// The `i` given.
        index: u32,
        /// The `n` given.
        count: u32,
    },
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardError::Syntax(text) => write!(
                f,
                "bad shard {text:?}: expected i/n, e.g. 1/2 for the first of two load machines"
            ),
            ShardError::NoShards => f.write_str("bad shard: the count n in i/n must be at least 1"),
            ShardError::OutOfRange { index, count } => write!(
                f,
                "bad shard {index}/{count}: i in i/n counts from 1 to n (1/{count} to {count}/{count})"
            ),
        }
    }
}

impl std::error::Error for ShardError {}

impl Shard {
    /// The whole load on one machine (`1/1`).
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// If `count` is 0 or `index` is not in `1..=count`.
    pub fn new(index: u32, count: u32) -> Result<Self, ShardError> {
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if index == 0 || index > count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// Which shard, from 1.
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many shards the load is cut into.
    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether this is the whole load (`1/1`).
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// The global number of this shard's worker `local`: `local * n + (i - 1)`.
    pub fn worker(self, local: usize) -> usize {
        local
            .saturating_mul(self.count as usize)
            .saturating_add(self.index as usize - 1)
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;
    fn from_str(text: &str) -> Result<Self, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (index, count) = text.trim().split_once('/').ok_or_else(syntax)?;
        let number = |s: &str| -> Result<u32, ShardError> {
            // Digits only: `+1` or ` 1` would parse, and say less than the user typed.
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse().map_err(|_| syntax())
        };
        Shard::new(number(index)?, number(count)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse(), Shard::new(2, 3));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard::WHOLE));
        assert_eq!(
            "0/2".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 0, count: 2 })
        );
        assert_eq!(
            "3/2".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 3, count: 2 })
        );
        assert_eq!("1/0".parse::<Shard>(), Err(ShardError::NoShards));
        for garbage in [
            "",
            "1",
            "1/",
            "/2",
            "a/b",
            "1/2/3",
            "-1/2",
            "+1/2",
            "1.0/2",
            "99999999999/1",
        ] {
            assert!(
                matches!(garbage.parse::<Shard>(), Err(ShardError::Syntax(_))),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn reads_back_from_json_and_refuses_a_bad_one() {
        let shard = Shard::new(2, 4).unwrap_or_default();
        let text = serde_json::to_string(&shard).unwrap_or_default();
        assert_eq!(text, r#"{"index":2,"count":4}"#);
        assert_eq!(serde_json::from_str::<Shard>(&text).ok(), Some(shard));
        assert!(serde_json::from_str::<Shard>(r#"{"index":5,"count":4}"#).is_err());
    }
}
