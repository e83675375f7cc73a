//! ID ranges: compacting sorted IDs, merging ranges, and the SQL predicate that selects them.

use std::fmt::Write as _;

/// Most ranges in one statement's predicate ([`range_predicate`]): every statement that
/// selects rows by ID ranges splits them into groups of at most this many, so that its text
/// stays bounded (about 6 KiB) whatever the rows.
pub const RANGES_PER_STATEMENT: usize = 200;

/// The longest text of a statement sent as a parameterised query (`sp_executesql`, which
/// every read of `bptmig_db` is): tiberius sends a longer one as `NVARCHAR(MAX)`, which the
/// sandbox server refuses ("unsupported RPC request"). Batches (`simple_query`) have no
/// such limit.
pub const MAX_QUERY_CHARS: usize = 4_000;

/// `ranges` as predicates on `column` ([`range_predicate`]), each at most `max_chars` long
/// (one range at least) and of at most [`RANGES_PER_STATEMENT`] ranges, in order.
pub fn range_predicates(column: &str, ranges: &[(i32, i32)], max_chars: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    // The balanced tree of `k` terms is their lengths plus 8 (`(`, `) OR (`, `)`) per join.
    let mut len = 0;
    let mut term = String::new();
    for (i, r) in ranges.iter().enumerate() {
        term.clear();
        push_term(column, *r, &mut term);
        let joined = if i > start {
            len + 8 + term.len()
        } else {
            term.len()
        };
        if i > start && (joined > max_chars || i - start >= RANGES_PER_STATEMENT) {
            out.push(range_predicate(column, &ranges[start..i]));
            start = i;
            len = term.len();
        } else {
            len = joined;
        }
    }
    if start < ranges.len() {
        out.push(range_predicate(column, &ranges[start..]));
    }
    out
}

/// `column = lo` or `column BETWEEN lo AND hi`.
fn push_term(column: &str, (lo, hi): (i32, i32), out: &mut String) {
    if lo == hi {
        let _ = write!(out, "{column} = {lo}");
    } else {
        let _ = write!(out, "{column} BETWEEN {lo} AND {hi}");
    }
}

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
            [r] => push_term(column, *r, out),
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

    #[test]
    fn predicates_fit_their_length_and_cover_every_range_once() {
        let ranges: Vec<(i32, i32)> = (0..1000).map(|i| (i * 10, i * 10 + i % 2)).collect();
        for max in [10, 100, 1000, 3_900] {
            let groups = range_predicates("SOME_ID", &ranges, max);
            let terms: usize = groups.iter().map(|g| g.matches("SOME_ID").count()).sum();
            assert_eq!(terms, ranges.len(), "max {max}");
            for g in &groups {
                assert!(
                    g.len() <= max || g.matches("SOME_ID").count() == 1,
                    "{max}: {g}"
                );
            }
        }
        let exact = range_predicates("ID", &[(1, 3), (5, 5)], 4_000);
        assert_eq!(exact, vec![range_predicate("ID", &[(1, 3), (5, 5)])]);
        let split = range_predicates("ID", &[(1, 3), (5, 5)], 20);
        assert_eq!(split, vec!["ID BETWEEN 1 AND 3", "ID = 5"]);
        assert!(range_predicates("ID", &[], 100).is_empty());
    }
}
