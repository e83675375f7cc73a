//! ID ranges: compacting sorted IDs, merging ranges, and the SQL predicate that selects them.

use std::fmt::Write as _;

/// Most ranges in one statement's predicate ([`range_predicate`]): every statement that
/// selects rows by ID ranges splits them into groups of this many, so that its text stays
/// bounded (about 6 KiB) whatever the rows.
pub const RANGES_PER_STATEMENT: usize = 200;

/// Consecutive runs of sorted, distinct IDs.
pub fn ranges_of(sorted: &[i32]) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::new();
    for &id in sorted {
        match out.last_mut() {
            Some((_, hi)) if i64::from(*hi) + 1 == i64::from(id) => *hi = id,
            _ => out.push((id, id)),
        }
    }
    out
}

/// Merges sorted ranges that touch or overlap.
pub fn merge_ranges(sorted: Vec<(i32, i32)>) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(sorted.len());
    for (lo, hi) in sorted {
        match out.last_mut() {
            Some((_, h)) if i64::from(lo) <= i64::from(*h) + 1 => *h = (*h).max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// `col BETWEEN a AND b OR …` for ranges (single IDs as `col = a`), joined as a balanced,
/// parenthesised tree: servers limit expression depth (the sandbox to 32 levels).
pub fn range_predicate(column: &str, ranges: &[(i32, i32)]) -> String {
    fn tree(column: &str, ranges: &[(i32, i32)], out: &mut String) {
        match ranges {
            [] => out.push_str("1 = 0"),
            [(lo, hi)] if lo == hi => {
                let _ = write!(out, "{column} = {lo}");
            }
            [(lo, hi)] => {
                let _ = write!(out, "{column} BETWEEN {lo} AND {hi}");
            }
            _ => {
                let (a, b) = ranges.split_at(ranges.len() / 2);
                out.push('(');
                tree(column, a, out);
                out.push_str(") OR (");
                tree(column, b, out);
                out.push(')');
            }
        }
    }
    let mut out = String::new();
    tree(column, ranges, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_compact_consecutive_ids() {
        assert_eq!(ranges_of(&[1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
        assert_eq!(ranges_of(&[]), vec![]);
        assert_eq!(
            merge_ranges(vec![(1, 3), (4, 4), (6, 9), (7, 8)]),
            vec![(1, 4), (6, 9)]
        );
        assert_eq!(
            range_predicate("ID", &[(1, 3), (5, 5)]),
            "(ID BETWEEN 1 AND 3) OR (ID = 5)"
        );
        assert_eq!(range_predicate("ID", &[]), "1 = 0");
    }
}
