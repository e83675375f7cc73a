//! Rows the target gained since the extract inside the run's ID block: the load refuses them
//! (README, "Load"), so `check` blocks on them first.
//!
//! The block is fixed once the work directory holds a complete extract: the transform gives the
//! moving rows of each keyed table IDs right after the target's identity at the extract
//! (strategy `renumber`, [`id_block::place`]), or keeps theirs (`keep`). Before an extract
//! there is nothing to check: the block will start after the target's identity then.

use anyhow::Context as _;
use bptmig_db::{self as db, quote_ident, Side, SqlClient};
use bptmig_load::plan::{merge_ranges, range_predicate, LoadPlan, RANGES_PER_STATEMENT};
use bptmig_model::catalog as c;
use bptmig_model::PipelineConfig;
use bptmig_transform::id_block;
use bptmig_transform::maps::Snapshot;
use bptmig_workdir::id_strategy::{self, Resolved};
use bptmig_workdir::layout::{EXTRACT, LOAD, TRANSFORM};
use bptmig_workdir::{Manifest, RunState, StageState, WorkDir};

use super::line::{line, Line, Verdict};
use super::server::Server;

/// Ranges named in a message.
const RANGES_SHOWN: usize = 3;

/// A keyed table's ID block.
struct Block {
    table: String,
    key: &'static str,
    /// Sorted, merged, inclusive.
    ranges: Vec<(i32, i32)>,
    kind: BlockKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    /// The transform is done: exactly the IDs the load writes.
    Reserved,
    /// `renumber`, not transformed yet: above the target's highest ID at the extract, as many
    /// IDs as the extract holds rows (the moving rows are at most as many).
    WouldReserve,
    /// `keep`, not transformed yet: the spans of the extracted parts' IDs (rows between two
    /// moving IDs do not collide, so rows here are only a note).
    KeptSpan,
}

/// Rows of a block present in the target, and the lowest of their IDs.
struct Occupied {
    rows: i64,
    first: Option<i64>,
}

/// One line per keyed table of the run's ID block: free, or holding rows the load refuses.
pub async fn id_block(config: &PipelineConfig, target: &mut Server<'_>, out: &mut Vec<Line>) {
    let wd = WorkDir::new(&config.workdir);
    let Ok(Some(run)) = RunState::read(&wd) else {
        return;
    };
    // Another database's work directory: its own line blocks.
    if bptmig_workdir::other_databases(&run, config).is_some() {
        return;
    }
    let blocks = match blocks(&wd, &run, config) {
        Ok(blocks) => blocks,
        Err(e) => {
            out.push(line("ID block in target", Verdict::Block, format!("{e:#}")));
            return;
        }
    };
    // This run's rows in the target, per table, asked for once and only when needed.
    let mut ours: Option<Vec<bptmig_load::ChunkStatus>> = None;
    for block in &blocks {
        let name = format!("ID block in target {}", block.table);
        let Some(client) = target.client(&name, out) else {
            continue;
        };
        let found = match occupied(client, block).await {
            Ok(found) => found,
            Err(e) => {
                out.push(target.failed(name, &e));
                continue;
            }
        };
        let mine = if found.rows > 0 && run.stages.contains_key(LOAD) {
            if ours.is_none() {
                match bptmig_load::chunk_status(config, &run.run_id).await {
                    Ok(status) => ours = Some(status),
                    Err(bptmig_load::Error::Db(e)) => {
                        out.push(target.failed(name, &e));
                        continue;
                    }
                    Err(e) => {
                        out.push(line(
                            name,
                            Verdict::Block,
                            format!("{:#}", anyhow::Error::from(e)),
                        ));
                        continue;
                    }
                }
            }
            loaded_rows(ours.as_deref().unwrap_or_default(), &block.table)
        } else {
            0
        };
        out.push(block_line(name, block, &found, mine));
    }
}

/// The blocks of every keyed table: the load plan's after a transform, else what the transform
/// will reserve from the extract; none before the extract is complete.
fn blocks(wd: &WorkDir, run: &RunState, config: &PipelineConfig) -> anyhow::Result<Vec<Block>> {
    if run.stages.get(TRANSFORM) == Some(&StageState::Done) {
        let plan = LoadPlan::build(wd, config.load.chunk_rows)?;
        return Ok(plan
            .tables
            .iter()
            .enumerate()
            .filter_map(|(ti, t)| {
                Some(Block {
                    table: t.name.clone(),
                    key: t.model.key?,
                    ranges: plan.table_ranges(ti),
                    kind: BlockKind::Reserved,
                })
            })
            .filter(|b| !b.ranges.is_empty())
            .collect());
    }
    if run.stages.get(EXTRACT) != Some(&StageState::Done) {
        return Ok(Vec::new());
    }
    let strategy = id_strategy::resolve(wd, config.ids)?;
    let snapshot = wd.snapshot_dir("target");
    let stats = Snapshot::new(&snapshot)
        .instance_stats()
        .with_context(|| format!("the target's row counts in `{}`", snapshot.display()))?;
    let mut out = Vec::new();
    for table in c::INSTANCE_TABLES {
        let Some(key) = table.key else { continue };
        let Some(manifest) = Manifest::read(&wd.table_dir(EXTRACT, table.name))? else {
            continue;
        };
        let (ranges, kind) = match strategy {
            // The target generates the IDs: no block is reserved.
            Resolved::Generated => continue,
            Resolved::Renumber => {
                // A block the transform would refuse is the identity line's BLOCK.
                let block = id_block::place(table.name, stats.get(table.name), manifest.rows());
                (
                    block.map(|b| renumbered(&b)).unwrap_or_default(),
                    BlockKind::WouldReserve,
                )
            }
            Resolved::Keep => (kept_spans(&manifest), BlockKind::KeptSpan),
        };
        if !ranges.is_empty() {
            out.push(Block {
                table: table.name.to_owned(),
                key,
                ranges,
                kind,
            });
        }
    }
    Ok(out)
}

/// The IDs of the block `renumber` would place ([`id_block::place`], at most as many as the
/// extract holds rows), as one range; none for an empty block.
fn renumbered(block: &id_block::Block) -> Vec<(i32, i32)> {
    match (i32::try_from(block.first), i32::try_from(block.last())) {
        (Ok(lo), Ok(hi)) if lo <= hi => vec![(lo, hi)],
        _ => Vec::new(),
    }
}

/// The extracted parts' key spans, merged.
fn kept_spans(manifest: &Manifest) -> Vec<(i32, i32)> {
    let mut spans: Vec<(i32, i32)> = manifest
        .parts
        .iter()
        .filter_map(|p| {
            let lo = i32::try_from(p.min_key?).ok()?;
            let hi = i32::try_from(p.max_key?).ok()?;
            Some((lo, hi))
        })
        .collect();
    spans.sort_unstable();
    merge_ranges(spans)
}

/// The statements that count `block`'s rows in the target (its table quoted as `table`, the
/// target's spelling) and find the lowest: one per [`RANGES_PER_STATEMENT`] ranges, so that
/// no statement grows with the block.
fn statements(block: &Block, table: &str) -> Vec<String> {
    let key = quote_ident(block.key);
    block
        .ranges
        .chunks(RANGES_PER_STATEMENT)
        .map(|ranges| {
            format!(
                "SELECT COUNT(*), MIN({key}) FROM {table} WHERE {}",
                range_predicate(&key, ranges)
            )
        })
        .collect()
}

/// How many of `block`'s IDs the target holds ([`statements`]).
async fn occupied(client: &mut SqlClient, block: &Block) -> db::Result<Occupied> {
    let mut found = Occupied {
        rows: 0,
        first: None,
    };
    let table = super::server::quoted(client, Side::Target, &block.table).await?;
    for sql in statements(block, &table) {
        let rows = db::query_rows(client, Side::Target, &sql, &[]).await?;
        let row = rows.first();
        found.rows += row.and_then(|r| db::int_cell(r, 0)).unwrap_or(0);
        if let Some(min) = row.and_then(|r| db::int_cell(r, 1)) {
            found.first = Some(found.first.map_or(min, |f: i64| f.min(min)));
        }
    }
    Ok(found)
}

/// Rows of `table` this run loaded, per the ledger.
fn loaded_rows(status: &[bptmig_load::ChunkStatus], table: &str) -> i64 {
    status
        .iter()
        .filter(|s| s.table == table)
        .map(|s| i64::try_from(s.rows_done).unwrap_or(i64::MAX))
        .sum()
}

/// `IDs 5..=57`, or the first ranges and how many there are.
fn shown(ranges: &[(i32, i32)]) -> String {
    let text: Vec<String> = ranges
        .iter()
        .take(RANGES_SHOWN)
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..={b}")
            }
        })
        .collect();
    if ranges.len() > RANGES_SHOWN {
        format!("IDs {}, … ({} ranges)", text.join(", "), ranges.len())
    } else {
        format!("IDs {}", text.join(", "))
    }
}

fn block_line(name: String, block: &Block, found: &Occupied, ours: i64) -> Line {
    let ids = shown(&block.ranges);
    let what = match block.kind {
        BlockKind::Reserved => format!("the block this run reserved ({ids})"),
        BlockKind::WouldReserve => format!("the block the transform will reserve (at most {ids})"),
        BlockKind::KeptSpan => format!("the span of the IDs the extracted rows keep ({ids})"),
    };
    let others = found.rows - ours;
    if others <= 0 {
        let detail = if ours > 0 {
            format!("{what}: only this run's {ours} row(s) there")
        } else {
            format!("{what}: free")
        };
        return line(name, Verdict::Ok, detail);
    }
    // With none of this run's rows there, the lowest ID found is the first in the way.
    let first = match found.first {
        Some(id) if ours == 0 => format!(", the first at ID {id}"),
        _ => format!(" ({ours} are this run's)"),
    };
    if block.kind == BlockKind::KeptSpan {
        return line(
            name,
            Verdict::Note,
            format!(
                "{others} row(s) the target gained since the extract lie in {what}{first}; the \
                 load refuses any that has the ID of a moving row: run the transform, then \
                 `bptmig check` again"
            ),
        );
    }
    line(
        name,
        Verdict::Block,
        format!(
            "{others} row(s) the target gained since the extract lie in {what}{first}; the load \
             refuses them: start a new work directory and run extract and transform again"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumbered_blocks_are_the_placed_block_as_one_range() {
        let block = |first, rows| id_block::Block {
            first,
            rows,
            rule: id_block::Rule::AboveMax,
        };
        assert_eq!(renumbered(&block(5, 59)), vec![(5, 63)]);
        assert_eq!(renumbered(&block(1, 1)), vec![(1, 1)]);
        assert_eq!(renumbered(&block(5, 0)), vec![]);
        assert_eq!(
            renumbered(&block(-2_147_483_647, 3)),
            vec![(-2_147_483_647, -2_147_483_645)]
        );
        // A placed block never passes the 32-bit limit; one that would is no range.
        assert_eq!(renumbered(&block(i64::from(i32::MAX), 2)), vec![]);
    }

    #[test]
    fn statements_stay_bounded_whatever_the_number_of_ranges() {
        // A million sparse ranges at the top of the ID space: the longest numbers there are.
        let ranges: Vec<(i32, i32)> = (0..1_000_000)
            .map(|i| (i32::MAX - 3 * i - 1, i32::MAX - 3 * i))
            .rev()
            .collect();
        let big = Block {
            ranges: ranges.clone(),
            ..block(BlockKind::Reserved)
        };
        let sql = statements(&big, "[ossys_BPM_Process]");
        assert_eq!(sql.len(), ranges.len().div_ceil(RANGES_PER_STATEMENT));
        // Each range costs at most its two numbers and a few words, whatever their count.
        let bound = 200 + RANGES_PER_STATEMENT * 64;
        let longest = sql.iter().map(String::len).max().unwrap();
        assert!(longest <= bound, "{longest} characters, bound {bound}");
    }

    #[test]
    fn a_few_ranges_are_named_then_how_many_there_are() {
        let ranges: Vec<(i32, i32)> = (0..1_000_000).map(|i| (i * 3, i * 3 + 1)).collect();
        assert_eq!(shown(&ranges[..2]), "IDs 0..=1, 3..=4");
        assert_eq!(
            shown(&ranges),
            "IDs 0..=1, 3..=4, 6..=7, … (1000000 ranges)"
        );
        assert_eq!(shown(&[(7, 7)]), "IDs 7");
    }

    fn block(kind: BlockKind) -> Block {
        Block {
            table: c::PROCESS.to_owned(),
            key: c::ID,
            ranges: vec![(5, 63)],
            kind,
        }
    }

    #[test]
    fn rows_in_the_block_block_and_name_the_first_unless_they_are_this_runs() {
        let at = |rows, first| Occupied { rows, first };
        let l = block_line("b".into(), &block(BlockKind::WouldReserve), &at(0, None), 0);
        assert_eq!(l.verdict, Verdict::Ok);
        assert!(l.detail.contains("at most IDs 5..=63"), "{}", l.detail);

        let l = block_line("b".into(), &block(BlockKind::Reserved), &at(2, Some(5)), 0);
        assert_eq!(l.verdict, Verdict::Block);
        assert!(
            l.detail.starts_with("2 row(s)") && l.detail.contains("IDs 5..=63), the first at ID 5"),
            "{}",
            l.detail
        );

        let l = block_line(
            "b".into(),
            &block(BlockKind::Reserved),
            &at(10, Some(5)),
            10,
        );
        assert_eq!(l.verdict, Verdict::Ok, "{}", l.detail);
        assert!(
            l.detail.contains("only this run's 10 row(s)"),
            "{}",
            l.detail
        );

        let l = block_line(
            "b".into(),
            &block(BlockKind::Reserved),
            &at(12, Some(5)),
            10,
        );
        assert_eq!(l.verdict, Verdict::Block);
        assert!(l.detail.contains("(10 are this run's)"), "{}", l.detail);

        let l = block_line("b".into(), &block(BlockKind::KeptSpan), &at(1, Some(9)), 0);
        assert_eq!(l.verdict, Verdict::Note, "{}", l.detail);
    }
}
