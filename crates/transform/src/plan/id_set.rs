//! A set of small non-negative IDs as a bitmap.

use std::collections::BTreeSet;

/// A set of IDs as a bitmap: principals are few and their IDs small, and marking one per
/// row must cost next to nothing. Principal IDs are identity values (positive): a negative
/// ID is never a member.
#[derive(Default, Clone)]
pub(super) struct IdSet {
    bits: Vec<u64>,
}

impl IdSet {
    #[inline]
    pub(super) fn insert(&mut self, id: i64) {
        let Ok(id) = usize::try_from(id) else { return };
        let (word, bit) = (id / 64, id % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << bit;
    }

    #[inline]
    pub(super) fn contains(&self, id: i64) -> bool {
        usize::try_from(id).is_ok_and(|id| {
            self.bits
                .get(id / 64)
                .is_some_and(|w| w & (1 << (id % 64)) != 0)
        })
    }

    /// Takes `id` out again (cheaper than clearing the whole set after a few inserts).
    #[inline]
    pub(super) fn remove(&mut self, id: i64) {
        if let Ok(id) = usize::try_from(id) {
            if let Some(w) = self.bits.get_mut(id / 64) {
                *w &= !(1 << (id % 64));
            }
        }
    }

    pub(super) fn union(&mut self, other: &IdSet) {
        if other.bits.len() > self.bits.len() {
            self.bits.resize(other.bits.len(), 0);
        }
        for (mine, theirs) in self.bits.iter_mut().zip(&other.bits) {
            *mine |= theirs;
        }
    }

    pub(super) fn extend(&mut self, ids: impl IntoIterator<Item = i64>) {
        for id in ids {
            self.insert(id);
        }
    }

    /// The members, ascending.
    pub(super) fn to_set(&self) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        for (w, word) in self.bits.iter().enumerate() {
            let mut word = *word;
            while word != 0 {
                let bit = word.trailing_zeros() as usize;
                out.insert((w * 64 + bit) as i64);
                word &= word - 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_negative_ids_are_never_members() {
        let mut s = IdSet::default();
        s.extend([3, 64, 200, -1]);
        s.insert(3);
        assert!(s.contains(64) && !s.contains(-1) && !s.contains(65));
        s.remove(64);
        let mut t = IdSet::default();
        t.insert(1000);
        s.union(&t);
        assert_eq!(s.to_set().into_iter().collect::<Vec<_>>(), [3, 200, 1000]);
    }
}
