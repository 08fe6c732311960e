//! The best `limit` hits of a search so far, in the catalogue's order: higher score first,
//! equal scores by lower event index (so by ascending event id).
//!
//! Only the bookkeeping of a top-k lives here; what is scored, and which documents are
//! offered at all, is the search index's (`search.rs`).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use tantivy::Score;

/// A hit: its engine score and the index of its event in the catalogue.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ranked {
    pub(super) score: Score,
    pub(super) event: u32,
}

impl Ord for Ranked {
    /// "Greater" means "better": a higher score, or the same score and a lower index.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.event.cmp(&self.event))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// A bounded min-heap of the best hits: its root is the worst hit kept.
#[derive(Debug)]
pub(super) struct TopHits {
    limit: usize,
    kept: BinaryHeap<Reverse<Ranked>>,
}

impl TopHits {
    pub(super) fn new(limit: usize) -> Self {
        TopHits {
            limit,
            kept: BinaryHeap::with_capacity(limit.saturating_add(1).min(1024)),
        }
    }

    /// Offers a hit; it is kept if it beats the worst one kept, or if there is room.
    pub(super) fn offer(&mut self, hit: Ranked) {
        if self.kept.len() < self.limit {
            self.kept.push(Reverse(hit));
        } else if let Some(mut worst) = self.kept.peek_mut()
            && hit > worst.0
        {
            *worst = Reverse(hit);
        }
    }

    /// The score a hit must exceed to be kept: the worst kept score once full, else no
    /// bar at all. A hit that only equals it cannot be kept when hits are offered in
    /// ascending event order, since the kept one has the lower index; the engine's
    /// pruning (it offers only scores strictly above this) relies on exactly that.
    pub(super) fn bar(&self) -> Score {
        match self.kept.peek() {
            Some(worst) if self.kept.len() >= self.limit => worst.0.score,
            _ if self.limit == 0 => Score::INFINITY,
            _ => Score::MIN,
        }
    }

    /// The kept hits, best first.
    pub(super) fn into_sorted(self) -> Vec<Ranked> {
        let mut hits: Vec<Ranked> = self.kept.into_iter().map(|Reverse(r)| r).collect();
        hits.sort_unstable_by(|a, b| b.cmp(a));
        hits
    }
}

#[cfg(test)]
// Scores here are literals copied through unchanged, so exact comparison is right.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn hit(score: Score, event: u32) -> Ranked {
        Ranked { score, event }
    }

    #[test]
    fn keeps_the_best_in_order_with_ties_by_lower_index() {
        let mut top = TopHits::new(3);
        assert_eq!(top.bar(), Score::MIN);
        for (score, event) in [(1.0, 0), (2.0, 1), (2.0, 2), (0.5, 3), (2.0, 4), (3.0, 5)] {
            top.offer(hit(score, event));
        }
        assert_eq!(top.bar(), 2.0);
        let kept: Vec<(Score, u32)> = top
            .into_sorted()
            .iter()
            .map(|h| (h.score, h.event))
            .collect();
        assert_eq!(kept, [(3.0, 5), (2.0, 1), (2.0, 2)]);
    }

    #[test]
    fn a_later_tie_does_not_displace_an_earlier_hit_and_zero_keeps_nothing() {
        let mut top = TopHits::new(1);
        top.offer(hit(1.0, 7));
        top.offer(hit(1.0, 9));
        top.offer(hit(1.0, 3));
        assert_eq!(top.into_sorted()[0].event, 3);
        let mut none = TopHits::new(0);
        none.offer(hit(5.0, 1));
        assert_eq!(none.bar(), Score::INFINITY);
        assert!(none.into_sorted().is_empty());
    }
}
