//! A compact `i32 → i32` map for tens of millions of IDs.
//!
//! Keys sorted in one vector and values in another: a hash map would take several times the
//! memory. When the keys are nearly dense (IDs with a few gaps), a value per possible key
//! beside them makes a lookup one index instead of a binary search over millions.

/// Marks an absent key in the dense array, unless a value is `i32::MIN` (then another value
/// no key has: [`free_marker`]).
const ABSENT: i32 = i32::MIN;

/// Old → new IDs (or any `i32 → i32`): dense where the keys are, sorted otherwise.
#[derive(Debug, Clone, Default)]
pub struct IdMap {
    keys: Vec<i32>,
    values: Vec<i32>,
    /// First key, and the value of every key from it (`absent` where there is none).
    dense: Option<(i64, Vec<i32>)>,
    /// The dense array's marker of an absent key: a value no key has.
    absent: i32,
}

impl IdMap {
    /// A map of `pairs` in any order; of two pairs with one key, the first wins. Every value
    /// can be stored, `i32::MIN` included (an ID a reseeded table may hold).
    pub fn new(pairs: impl Iterator<Item = (i32, i32)>) -> Self {
        let mut v: Vec<(i32, i32)> = pairs.collect();
        if !v.windows(2).all(|w| w[0].0 < w[1].0) {
            v.sort_by_key(|p| p.0); // stable: the first of equal keys stays first
            v.dedup_by_key(|p| p.0);
        }
        let (keys, values) = v.into_iter().unzip();
        Self::from_sorted(keys, values)
    }

    /// A map of `keys[i] → values[i]`; `keys` must ascend strictly.
    pub fn from_sorted(keys: Vec<i32>, values: Vec<i32>) -> Self {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        debug_assert_eq!(keys.len(), values.len());
        let absent = free_marker(&values);
        let dense = match (keys.first(), keys.last()) {
            (Some(&lo), Some(&hi))
                if i64::from(hi) - i64::from(lo) < 4 * keys.len() as i64 + 1024 =>
            {
                let lo = i64::from(lo);
                let mut dense = vec![absent; (i64::from(hi) - lo + 1) as usize];
                for (key, value) in keys.iter().zip(&values) {
                    dense[(i64::from(*key) - lo) as usize] = *value;
                }
                Some((lo, dense))
            }
            _ => None,
        };
        Self {
            keys,
            values,
            dense,
            absent,
        }
    }

    /// From 64-bit pairs; a pair outside the 32-bit range cannot occur in an `int` column
    /// and is left out.
    pub fn from_i64(pairs: impl Iterator<Item = (i64, i64)>) -> Self {
        Self::new(pairs.filter_map(|(k, v)| Some((i32::try_from(k).ok()?, i32::try_from(v).ok()?))))
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: i32) -> Option<i32> {
        if let Some((lo, dense)) = &self.dense {
            let i = usize::try_from(i64::from(key) - lo).ok()?;
            return dense.get(i).copied().filter(|v| *v != self.absent);
        }
        self.keys.binary_search(&key).ok().map(|i| self.values[i])
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, ascending.
    pub fn keys(&self) -> &[i32] {
        &self.keys
    }

    /// The values, in key order.
    pub fn values(&self) -> &[i32] {
        &self.values
    }

    /// `(key, value)` pairs in ascending key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (i32, i32)> + '_ {
        self.keys.iter().copied().zip(self.values.iter().copied())
    }
}

/// [`ABSENT`], or when a value is `i32::MIN`, the smallest value none is (one exists: there
/// are fewer values than 32-bit integers).
fn free_marker(values: &[i32]) -> i32 {
    if !values.contains(&ABSENT) {
        return ABSENT;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut candidate = ABSENT;
    for v in sorted {
        if v != candidate {
            break;
        }
        candidate += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_keys_answer_alike() {
        let dense = IdMap::new([(5, 50), (3, 30), (4, 40), (3, 99)].into_iter());
        assert!(dense.dense.is_some());
        let sparse = IdMap::new([(5, 50), (3, 30), (4_000_000, 40)].into_iter());
        assert!(sparse.dense.is_none());
        assert_eq!(dense.get(3), Some(30), "the first of equal keys wins");
        assert_eq!(dense.get(4), Some(40));
        assert_eq!(dense.get(6), None);
        assert_eq!(dense.get(i32::MIN), None);
        assert_eq!(sparse.get(4_000_000), Some(40));
        assert_eq!(sparse.get(4), None);
        assert_eq!(
            dense.iter().collect::<Vec<_>>(),
            [(3, 30), (4, 40), (5, 50)]
        );
    }

    #[test]
    fn negative_keys_and_64_bit_pairs() {
        let m =
            IdMap::from_i64([(-2_147_483_648, 1), (-2_147_483_647, 2), (1 << 40, 3)].into_iter());
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(i32::MIN), Some(1));
        assert_eq!(m.get(-2_147_483_647), Some(2));
    }

    #[test]
    fn the_smallest_id_is_a_value_like_any_other() {
        // Every process of the tree rooted at -2^31 maps to it; dense and sparse alike.
        let dense = IdMap::new([(5, i32::MIN), (6, i32::MIN), (8, i32::MIN + 1)].into_iter());
        assert!(dense.dense.is_some());
        assert_eq!(dense.get(5), Some(i32::MIN));
        assert_eq!(dense.get(6), Some(i32::MIN));
        assert_eq!(dense.get(7), None);
        assert_eq!(dense.get(8), Some(i32::MIN + 1));
        let sparse = IdMap::new([(i32::MIN, i32::MIN), (i32::MAX, 1)].into_iter());
        assert_eq!(sparse.get(i32::MIN), Some(i32::MIN));
        assert_eq!(sparse.get(0), None);
        assert_eq!(free_marker(&[i32::MIN, i32::MIN + 1, 7]), i32::MIN + 2);
        assert_eq!(free_marker(&[3]), i32::MIN);
    }
}
