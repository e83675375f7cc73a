//! The old → new pairs a `generated` load captured in the pairs table, as verify and rollback
//! use them: looked up by old ID, checked to be a map, and compared with the chunks the ledger
//! lists.
//!
//! Under `ids.strategy = "generated"` the transformed rows keep their source IDs and the
//! target generates the real ones at load; the pairs are the only record of where each row
//! went. Every problem with them is named, never mended: an old ID with two new ones or a new
//! ID with two old ones ([`CapturedPairs::new`]), a loaded chunk with rows that have no pair
//! and pairs of rows the transformed files do not hold ([`CapturedPairs::check_chunks`]).

use std::collections::BTreeMap;

use crate::ledger::Done;
use crate::plan::{ranges_of, Chunk, LoadPlan};

/// Most problems of one kind named per table; the rest are counted.
const SHOWN: usize = 5;

/// The pairs of one table, sorted by old ID for lookups by binary search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TablePairs {
    /// `(old, new)`, ascending by old ID.
    by_old: Vec<(i32, i32)>,
}

impl TablePairs {
    /// The new ID of source row `old`.
    pub(crate) fn new_of(&self, old: i32) -> Option<i32> {
        let i = self.by_old.binary_search_by_key(&old, |p| p.0).ok()?;
        Some(self.by_old[i].1)
    }

    /// `(old, new)`, ascending by old ID.
    pub(crate) fn pairs(&self) -> &[(i32, i32)] {
        &self.by_old
    }

    /// The pairs whose old ID lies in `ranges` (inclusive, ascending, disjoint).
    pub(crate) fn in_old_ranges<'a>(
        &'a self,
        ranges: &'a [(i32, i32)],
    ) -> impl Iterator<Item = (i32, i32)> + 'a {
        ranges.iter().flat_map(move |&(lo, hi)| {
            let start = self.by_old.partition_point(|p| p.0 < lo);
            self.by_old[start..]
                .iter()
                .take_while(move |p| p.0 <= hi)
                .copied()
        })
    }

    /// The new IDs of the source rows in `ranges`, as ranges (what a statement selects the
    /// target's rows by).
    pub(crate) fn new_ranges(&self, ranges: &[(i32, i32)]) -> Vec<(i32, i32)> {
        let mut news: Vec<i32> = self.in_old_ranges(ranges).map(|p| p.1).collect();
        news.sort_unstable();
        news.dedup();
        ranges_of(&news)
    }

    /// How many IDs in `ranges` have no pair, and the first of them.
    fn unpaired(&self, ranges: &[(i32, i32)]) -> (u64, Option<i32>) {
        let (mut missing, mut first) = (0_u64, None);
        for &(lo, hi) in ranges {
            let start = self.by_old.partition_point(|p| p.0 < lo);
            let mut next = self.by_old[start..].iter().map(|p| p.0).peekable();
            for id in lo..=hi {
                if next.peek() == Some(&id) {
                    next.next();
                } else {
                    missing += 1;
                    first.get_or_insert(id);
                }
            }
        }
        (missing, first)
    }
}

/// Every pair a run captured, per model table name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CapturedPairs {
    /// The pairs table, for messages.
    source: String,
    tables: BTreeMap<String, TablePairs>,
}

impl CapturedPairs {
    /// The pairs `read` from the pairs table `source` (old → new per table, in any order),
    /// and the problems that keep them from being a map: an old ID with two new IDs, a new ID
    /// with two old IDs (both pairs are kept out of the lookups, so nothing is found through
    /// them).
    pub(crate) fn new(
        source: &str,
        read: BTreeMap<String, Vec<(i32, i32)>>,
    ) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut tables = BTreeMap::new();
        for (table, mut by_old) in read {
            // The same pair twice says nothing new (a pairs table without a key may hold it).
            by_old.sort_unstable();
            by_old.dedup();
            let mut by_new: Vec<(i32, i32)> = by_old.iter().map(|&(o, n)| (n, o)).collect();
            by_new.sort_unstable();
            let twice_old = repeated(&by_old);
            let twice_new = repeated(&by_new);
            let mut say = |what: &str, twice: &[(i32, Vec<i32>)]| {
                if let Some(text) = name_repeats(twice) {
                    problems.push(format!(
                        "`{table}`: the pairs table `{source}` {what} {text}; verify and \
                         rollback cannot tell which is true"
                    ));
                }
            };
            say("gives source row(s) more than one target row:", &twice_old);
            say(
                "gives target row(s) to more than one source row:",
                &twice_new,
            );
            let bad_old: Vec<i32> = twice_old.iter().map(|t| t.0).collect();
            let bad_new: Vec<i32> = twice_new.iter().map(|t| t.0).collect();
            by_old.retain(|p| {
                bad_old.binary_search(&p.0).is_err() && bad_new.binary_search(&p.1).is_err()
            });
            tables.insert(table, TablePairs { by_old });
        }
        let pairs = Self {
            source: source.to_owned(),
            tables,
        };
        (pairs, problems)
    }

    /// The pairs of `table` (its model name); none when the run captured none.
    pub(crate) fn table(&self, table: &str) -> Option<&TablePairs> {
        self.tables.get(table)
    }

    /// Pairs per table.
    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        self.tables
            .iter()
            .map(|(t, p)| (t.clone(), p.by_old.len() as u64))
            .collect()
    }

    /// The new-ID ranges of the rows of `chunk` (of `plan`): its own rows' for a keyed table,
    /// its activities' for an `OSEVT_*` table (whose rows are selected by `ACTIVITY_ID`).
    pub(crate) fn chunk_ranges(&self, plan: &LoadPlan, chunk: &Chunk) -> Vec<(i32, i32)> {
        let owner = ranges_owner(plan, chunk.table);
        self.table(owner)
            .map(|p| p.new_ranges(&chunk.ranges))
            .unwrap_or_default()
    }

    /// The problems of the pairs against the chunks of `plan` the ledger lists (`done`): a
    /// loaded chunk of a keyed table whose pairs are not as many as the rows its ledger row
    /// says it loaded (the target holds rows nothing says the IDs of), and pairs of rows the
    /// plan does not hold. The ledger's count decides, because a plan may hold rows of trees
    /// the load left out (rollback plans every tree); where the plan's chunk holds exactly the
    /// rows loaded, the first unpaired one is named.
    pub(crate) fn check_chunks(&self, plan: &LoadPlan, done: &Done) -> Vec<String> {
        let mut problems = Vec::new();
        for (ti, t) in plan.tables.iter().enumerate() {
            if !t.has_key() {
                continue;
            }
            let empty = TablePairs::default();
            let pairs = self.table(&t.name).unwrap_or(&empty);
            let mut unpaired: Vec<Unpaired> = Vec::new();
            for chunk in plan.chunks.iter().filter(|ch| ch.table == ti) {
                let Some(row) = done.get(&(t.name.clone(), chunk.name())) else {
                    continue;
                };
                let loaded = u64::try_from(row.rows).unwrap_or(0);
                let paired = pairs.in_old_ranges(&chunk.ranges).count() as u64;
                if paired != loaded {
                    let exact = chunk.len() as u64 == loaded;
                    unpaired.push(Unpaired {
                        chunk: chunk.name(),
                        loaded,
                        paired,
                        first: exact.then(|| pairs.unpaired(&chunk.ranges).1).flatten(),
                    });
                }
            }
            if !unpaired.is_empty() {
                problems.push(self.unpaired_problem(&t.name, &unpaired));
            }
            let planned = plan.table_ranges(ti);
            let outside = pairs.pairs().len() - pairs.in_old_ranges(&planned).count();
            if outside > 0 {
                problems.push(format!(
                    "`{}`: the pairs table `{}` holds {outside} pair(s) of this run for source \
                     rows the transformed files do not hold (the transform was run again after \
                     the load?); run `bptmig rollback` with the transform output the load used",
                    t.name, self.source
                ));
            }
        }
        problems
    }

    fn unpaired_problem(&self, table: &str, chunks: &[Unpaired]) -> String {
        let named: Vec<String> = chunks
            .iter()
            .take(SHOWN)
            .map(|u| {
                let first = u
                    .first
                    .map(|id| format!(", first unpaired source row {id}"))
                    .unwrap_or_default();
                format!(
                    "`{}` ({} row(s) loaded, {} paired{first})",
                    u.chunk, u.loaded, u.paired
                )
            })
            .collect();
        let more = chunks.len().saturating_sub(SHOWN);
        format!(
            "`{table}`: {} loaded chunk(s) have not one pair per row in the pairs table `{}`: \
             {}{}; the ledger says the rows are in the target, but not under which IDs (were \
             rows of `{}` changed by hand?)",
            chunks.len(),
            self.source,
            named.join(", "),
            if more > 0 {
                format!(" and {more} more chunk(s)")
            } else {
                String::new()
            },
            self.source
        )
    }
}

/// A loaded chunk whose pairs do not match its rows.
struct Unpaired {
    chunk: String,
    /// Rows its ledger row says it loaded.
    loaded: u64,
    /// Pairs of its rows.
    paired: u64,
    /// The first row without a pair, when the plan's chunk holds exactly the rows loaded.
    first: Option<i32>,
}

/// The table whose pairs select the rows of table `ti`: its own, or for an `OSEVT_*` table
/// the activities'.
pub(crate) fn ranges_owner(plan: &LoadPlan, ti: usize) -> &str {
    let t = &plan.tables[ti];
    if t.has_key() {
        &t.name
    } else {
        bptmig_model::catalog::ACTIVITY
    }
}

/// The keys of sorted `(key, value)` pairs that appear more than once, with their values.
fn repeated(sorted: &[(i32, i32)]) -> Vec<(i32, Vec<i32>)> {
    let mut out: Vec<(i32, Vec<i32>)> = Vec::new();
    for w in sorted.windows(2) {
        if w[0].0 != w[1].0 {
            continue;
        }
        match out.last_mut() {
            Some((k, values)) if *k == w[0].0 => values.push(w[1].1),
            _ => out.push((w[0].0, vec![w[0].1, w[1].1])),
        }
    }
    out
}

/// `5 → 10, 11; 6 → 12, 13` for the first few, then how many more.
fn name_repeats(twice: &[(i32, Vec<i32>)]) -> Option<String> {
    if twice.is_empty() {
        return None;
    }
    let mut text: Vec<String> = twice
        .iter()
        .take(SHOWN)
        .map(|(k, values)| {
            let values: Vec<String> = values.iter().map(ToString::to_string).collect();
            format!("{k} → {}", values.join(" and "))
        })
        .collect();
    if twice.len() > SHOWN {
        text.push(format!("and {} more", twice.len() - SHOWN));
    }
    Some(text.join(", "))
}

#[cfg(test)]
mod tests;
