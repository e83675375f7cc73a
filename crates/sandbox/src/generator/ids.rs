//! ID allocation.

use super::random::Rng;

/// Hands out increasing IDs, with gaps where `gappy` (deleted rows leave holes in real data).
pub(super) struct Ids {
    next: i64,
    gappy: bool,
}

impl Ids {
    pub(super) fn new(start: i64, gappy: bool) -> Self {
        Self { next: start, gappy }
    }

    pub(super) fn take(&mut self, rng: &mut Rng) -> i64 {
        let id = self.next;
        self.next += if self.gappy && rng.chance(15) {
            1 + rng.below(3) as i64
        } else {
            1
        };
        id
    }
}
