//! Each keyed instance table's identity in the target: where it stands now (seed and
//! increment), the block this run places after it, and where it stands after the load.
//!
//! The block is the transformed parts' (their manifests' ID bounds) once the transform is done; after the extract, what the
//! transform will place from the target snapshot (at most as many IDs as the extract holds
//! rows); before, it starts at the identity's next value (decided at the extract), and the
//! line says how many rows fit before the first row in the way. A row in the way of the block,
//! or a block past the 32-bit limit, blocks (rows the target gained inside a fixed block are
//! the ID block line's); a target whose identity lies below `MAX(ID)` (reseeded) is named.

use std::fmt::Write as _;

use bptmig_db::{Names, Side};
use bptmig_model::catalog as c;
use bptmig_model::PipelineConfig;
use bptmig_transform::id_block::{self, Block, Rule};
use bptmig_transform::maps::{InstanceStat, Snapshot};
use bptmig_workdir::id_strategy::{self, Resolved};
use bptmig_workdir::layout::{EXTRACT, TRANSFORM};
use bptmig_workdir::snapshot::{Identity, TableStats};
use bptmig_workdir::{Manifest, RunState, StageState, WorkDir};

use super::line::{line, Line, Verdict};
use super::server::Server;

/// The run's block of one table, as far as the work directory fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Planned {
    /// The transform is done: its lowest and highest new ID.
    Fixed { first: i64, last: i64 },
    /// Extracted, not transformed: what the transform will place (or why it refuses).
    Will(Result<Block, String>),
    /// Not extracted yet: decided at the extract.
    Later,
    /// The strategy gives no block (`keep`, `generated`).
    None(Resolved),
}

/// The run's block of each table, by name.
type PlannedBy = Box<dyn Fn(&str) -> Planned>;

/// One line per keyed instance table.
pub async fn identity(config: &PipelineConfig, target: &mut Server<'_>, out: &mut Vec<Line>) {
    let name = "identity in target";
    let Some(client) = target.client(name, out) else {
        return;
    };
    let live = match Names::read(client, Side::Target).await {
        Ok(names) => bptmig_extract::instance_stats(client, Side::Target, &names).await,
        Err(e) => Err(e.into()),
    };
    let live = match live {
        Ok(live) => live,
        Err(bptmig_extract::Error::Db(e)) => {
            out.push(target.failed(name, &e));
            return;
        }
        Err(e) => {
            out.push(line(name, Verdict::Unknown, super::line::describe(&e)));
            return;
        }
    };
    let planned = planned(config);
    for stat in live.iter().filter(|s| s.identity.is_some()) {
        let block = match &planned {
            Ok(p) => p(stat.table),
            Err(e) => Planned::Will(Err(e.clone())),
        };
        out.push(table_line(stat, &block));
    }
}

/// Under `renumber`, a line per keyed source table whose rows lie on both sides of its
/// identity (a reseeded source): numbered in creation order where the server showed that
/// explicit IDs move identities, else in source-ID order (`warn`: it could not tell). Nothing
/// for a source whose IDs are in creation order, nor for a server that showed that explicit
/// IDs do not move identities.
pub async fn source_order(config: &PipelineConfig, source: &mut Server<'_>, out: &mut Vec<Line>) {
    let name = "identity in source";
    let wd = WorkDir::new(&config.workdir);
    if id_strategy::resolve(&wd, config.ids).ok() != Some(Resolved::Renumber) {
        return;
    }
    let Some(client) = source.client(name, out) else {
        return;
    };
    let found = async {
        let names = Names::read(client, Side::Source).await?;
        let live = bptmig_extract::instance_stats(client, Side::Source, &names).await?;
        let mut lines = Vec::new();
        for stat in &live {
            let Some(current) = candidate(stat) else {
                continue;
            };
            // Rows above the identity exist (`first_in_way`); are there rows at or below it?
            let sql = format!(
                "SELECT COUNT_BIG(*) FROM {} WHERE {} <= {current}",
                names.quoted(stat.table)?,
                bptmig_db::quote_ident(c::ID)
            );
            let below = bptmig_db::scalar(client, Side::Source, &sql).await?;
            if below > 0 {
                lines.push(source_line(stat, current, below));
            }
        }
        Ok::<_, bptmig_extract::Error>(lines)
    };
    match found.await {
        Ok(lines) => out.extend(lines),
        Err(bptmig_extract::Error::Db(e)) => out.push(source.failed(name, &e)),
        Err(e) => out.push(line(name, Verdict::Unknown, super::line::describe(&e))),
    }
}

/// The identity of a source table with rows above it, where those may be older than a reseed.
fn candidate(stat: &TableStats<'_>) -> Option<i64> {
    let id = stat.identity?;
    id.first_in_way?;
    if id.increment.is_none_or(|i| i <= 0) || id.follows_explicit == Some(false) {
        return None;
    }
    id.current
}

/// The line of a source table with rows on both sides of its identity `current` (`below` at
/// or below it).
fn source_line(stat: &TableStats<'_>, current: i64, below: i64) -> Line {
    let name = format!("identity in source {}", stat.table);
    let above = stat.rows - below;
    let found = format!("{above} row(s) above the identity {current}, {below} at or below it");
    if stat.identity.and_then(|i| i.follows_explicit) == Some(true) {
        line(
            name,
            Verdict::Ok,
            format!(
                "reseeded: {found}; the rows above are older, and `renumber` numbers them first \
                 (creation order; `source_reseeded` in report.json)"
            ),
        )
    } else {
        line(
            name,
            Verdict::Unknown,
            format!(
                "{found}; the server did not show whether explicit IDs move its identities, so \
                 the rows above may be older (a reseed) or explicit ones: numbered in source-ID \
                 order"
            ),
        )
    }
}

/// The run's block of a table, by name, from the work directory; an error when the work
/// directory cannot be read.
fn planned(config: &PipelineConfig) -> Result<PlannedBy, String> {
    let wd = WorkDir::new(&config.workdir);
    let run = RunState::read(&wd).map_err(|e| super::line::describe(&e))?;
    let stage = |s| run.as_ref().and_then(|r| r.stages.get(s)) == Some(&StageState::Done);
    let strategy = id_strategy::resolve(&wd, config.ids).map_err(|e| super::line::describe(&e))?;
    if strategy != Resolved::Renumber {
        return Ok(Box::new(move |_| Planned::None(strategy)));
    }
    if stage(TRANSFORM) {
        // The transformed parts' manifests hold their new IDs' smallest and largest.
        let mut bounds: Vec<(String, i64, i64)> = Vec::new();
        for t in c::INSTANCE_TABLES.iter().filter(|t| t.key.is_some()) {
            let manifest = Manifest::read(&wd.table_dir(TRANSFORM, t.name))
                .map_err(|e| super::line::describe(&e))?;
            let parts = manifest.iter().flat_map(|m| &m.parts);
            let first = parts.clone().filter_map(|p| p.min_key).min();
            if let (Some(first), Some(last)) = (first, parts.filter_map(|p| p.max_key).max()) {
                bounds.push((t.name.to_owned(), first, last));
            }
        }
        return Ok(Box::new(move |table| {
            bounds.iter().find(|b| b.0 == table).map_or(
                Planned::Fixed { first: 0, last: -1 },
                |b| Planned::Fixed {
                    first: b.1,
                    last: b.2,
                },
            )
        }));
    }
    if !stage(EXTRACT) {
        return Ok(Box::new(|_| Planned::Later));
    }
    let stats = Snapshot::new(wd.snapshot_dir("target"))
        .instance_stats()
        .map_err(|e| super::line::describe(&e))?;
    let rows: Vec<(String, u64)> = c::INSTANCE_TABLES
        .iter()
        .filter_map(|t| {
            let m = Manifest::read(&wd.table_dir(EXTRACT, t.name)).ok()??;
            Some((t.name.to_owned(), m.rows()))
        })
        .collect();
    Ok(Box::new(move |table| {
        let n = rows.iter().find(|r| r.0 == table).map_or(0, |r| r.1);
        Planned::Will(id_block::place(table, stats.get(table), n).map_err(|e| e.to_string()))
    }))
}

/// `now 4 (seed 1, increment 1)`, and `reseeded: below MAX(ID) 2147483000` when it is (when
/// the server did not show that explicit IDs move identities, either may be the cause).
fn now(stat: &TableStats<'_>, id: &Identity) -> String {
    let mut text = format!(
        "now {} (seed {}, increment {})",
        shown(id.current),
        shown(id.seed),
        shown(id.increment)
    );
    if let (Some(current), Some(max)) = (id.current, stat.max_id) {
        if current < max {
            if id.follows_explicit == Some(true) {
                let _ = write!(text, ", reseeded: below MAX(ID) {max}");
            } else {
                let _ = write!(
                    text,
                    ", below MAX(ID) {max} (reseeded, or rows inserted with explicit IDs that \
                     the server did not move it past)"
                );
            }
        }
    }
    text
}

fn shown(v: Option<i64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| v.to_string())
}

/// The line of one table.
fn table_line(stat: &TableStats<'_>, planned: &Planned) -> Line {
    let name = format!("identity in target {}", stat.table);
    let id = stat.identity.unwrap_or_default();
    let now = now(stat, &id);
    match planned {
        Planned::None(strategy) => line(
            name,
            Verdict::Ok,
            format!("{now}; `{strategy}` places no block"),
        ),
        Planned::Fixed { first, last } if first > last => {
            line(name, Verdict::Ok, format!("{now}; no rows move"))
        }
        Planned::Fixed { first, last } => fixed_line(name, &now, &id, *first, *last),
        Planned::Will(Ok(block)) => line(
            name,
            Verdict::Ok,
            format!(
                "{now}; block at most {}..={} ({}); {}",
                block.first,
                block.last(),
                block.rule,
                after(&id, block.last())
            ),
        ),
        Planned::Will(Err(why)) => line(name, Verdict::Block, format!("{now}; {why}")),
        Planned::Later => later_line(name, &now, stat, &id),
    }
}

/// The line of a table whose block the transform fixed (rows inside it are the ID block
/// line's: this run's, or the platform's since the extract).
fn fixed_line(name: String, now: &str, id: &Identity, first: i64, last: i64) -> Line {
    line(
        name,
        Verdict::Ok,
        format!("{now}; block {first}..={last}; {}", after(id, last)),
    )
}

/// `identity after the load 57`, and when the server may not move it there itself, that the
/// load then tries `DBCC CHECKIDENT` and warns when refused.
fn after(id: &Identity, last: i64) -> String {
    let current = id.current.unwrap_or(i64::MIN);
    let mut text = format!("identity after the load {}", last.max(current));
    if current < last && id.follows_explicit != Some(true) {
        text.push_str(
            " (where the server does not move it past explicit IDs, the load runs DBCC \
             CHECKIDENT and warns when that is refused)",
        );
    }
    text
}

/// The line of a table before the extract: where the block would start, and how many rows
/// fit before the first row in the way.
fn later_line(name: String, now: &str, stat: &TableStats<'_>, id: &Identity) -> Line {
    let live = InstanceStat {
        rows: stat.rows,
        max_id: stat.max_id,
        identity: stat.identity,
    };
    match id_block::place(stat.table, Some(&live), 1) {
        Ok(block) => {
            let room = match (block.rule, id.first_in_way) {
                (Rule::AfterIdentity { .. }, Some(row)) => {
                    format!("room for {} rows before row {row}", row - block.first)
                }
                _ => format!("room for {} rows", i64::from(i32::MAX) - block.first + 1),
            };
            line(
                name,
                Verdict::Ok,
                format!(
                    "{now}; the block will start at {} ({}), {room}; the extract fixes it",
                    block.first, block.rule
                ),
            )
        }
        Err(e) => line(name, Verdict::Block, format!("{now}; {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(current: i64, max: i64, in_way: Option<i64>) -> TableStats<'static> {
        TableStats {
            table: c::PROCESS,
            rows: 10,
            max_id: Some(max),
            identity: Some(Identity {
                current: Some(current),
                seed: Some(1),
                increment: Some(1),
                never_used: Some(false),
                first_in_way: in_way,
                checked: true,
                identity_insert: Some(true),
                follows_explicit: Some(true),
            }),
        }
    }

    #[test]
    fn a_reseeded_target_shows_the_block_after_its_identity_and_the_room_left() {
        let s = stat(-2_147_483_648, 2_147_483_000, Some(2_147_482_000));
        let l = table_line(&s, &Planned::Later);
        assert_eq!(l.verdict, Verdict::Ok, "{}", l.detail);
        assert!(
            l.detail.contains("reseeded: below MAX(ID) 2147483000"),
            "{}",
            l.detail
        );
        assert!(l.detail.contains("start at -2147483647"), "{}", l.detail);
        assert!(l
            .detail
            .contains("room for 4294965647 rows before row 2147482000"));
        let block = id_block::place(c::PROCESS, Some(&live(&s)), 5);
        let l = table_line(&s, &Planned::Will(block.map_err(|e| e.to_string())));
        assert!(
            l.detail.contains("block at most -2147483647..=-2147483643"),
            "{}",
            l.detail
        );
        assert!(l.detail.ends_with("identity after the load -2147483643"));
    }

    #[test]
    fn a_row_in_the_way_blocks_a_fixed_block_is_shown_with_the_identity_after_the_load() {
        let s = stat(100, 2_000, Some(103));
        let will = id_block::place(c::PROCESS, Some(&live(&s)), 5).map_err(|e| e.to_string());
        let l = table_line(&s, &Planned::Will(will));
        assert_eq!(l.verdict, Verdict::Block);
        assert!(l.detail.contains("row 103"), "{}", l.detail);
        // A server that did not show that explicit IDs move its identity: the load's DBCC.
        let mut sandbox = stat(0, 4, Some(1));
        sandbox.identity.as_mut().unwrap().follows_explicit = None;
        let l = table_line(&sandbox, &Planned::Fixed { first: 5, last: 57 });
        assert_eq!(l.verdict, Verdict::Ok, "{}", l.detail);
        assert!(l
            .detail
            .contains("identity after the load 57 (where the server does not"));
        let fine = stat(100, 100, None);
        let l = table_line(
            &fine,
            &Planned::Fixed {
                first: 101,
                last: 105,
            },
        );
        assert_eq!(l.verdict, Verdict::Ok);
        assert!(l
            .detail
            .ends_with("block 101..=105; identity after the load 105"));
        let l = table_line(&fine, &Planned::None(Resolved::Generated));
        assert!(
            l.detail.ends_with("`generated` places no block"),
            "{}",
            l.detail
        );
    }

    #[test]
    fn a_reseeded_source_is_named_an_ordinary_one_is_not() {
        let mut s = stat(-2_147_483_000, 2_147_483_000, Some(1_001));
        assert_eq!(candidate(&s), Some(-2_147_483_000));
        let l = source_line(&s, -2_147_483_000, 4);
        assert_eq!(l.verdict, Verdict::Ok);
        assert!(
            l.detail.starts_with(
                "reseeded: 6 row(s) above the identity -2147483000, 4 at or below it; the rows \
                 above are older"
            ),
            "{}",
            l.detail
        );
        s.identity.as_mut().unwrap().follows_explicit = None;
        assert_eq!(candidate(&s), Some(-2_147_483_000));
        assert_eq!(source_line(&s, -2_147_483_000, 4).verdict, Verdict::Unknown);
        s.identity.as_mut().unwrap().follows_explicit = Some(false);
        assert_eq!(candidate(&s), None, "rows above are explicit ones there");
        assert_eq!(candidate(&stat(5_000, 5_000, None)), None, "nothing above");
    }

    fn live(s: &TableStats<'_>) -> InstanceStat {
        InstanceStat {
            rows: s.rows,
            max_id: s.max_id,
            identity: s.identity,
        }
    }
}
