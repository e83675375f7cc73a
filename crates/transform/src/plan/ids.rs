//! New IDs: every moving row of an instance table gets its target ID, in source-ID order:
//! a block placed by [`crate::id_block::place`] (renumber), or the source IDs (keep,
//! generated).

use std::collections::BTreeMap;

use bptmig_model::catalog as c;
use bptmig_workdir::id_strategy::Resolved;
use bptmig_workdir::IdMap;
use rayon::prelude::*;

use super::id_set::IdSet;
use super::trees::{TreeKeys, Trees, CHILDREN};
use crate::id_block;
use crate::input::Input;
use crate::maps::InstanceStat;
use crate::{Error, Result};

/// The statistics of both environments' instance tables, by name.
pub(super) struct Stats<'a> {
    pub(super) source: &'a BTreeMap<String, InstanceStat>,
    pub(super) target: &'a BTreeMap<String, InstanceStat>,
}

/// Old → new IDs of every instance table with a key, table by table in parallel (activities
/// are the bulk of it). A row moves when its tree has a root outside `skipped`.
pub(super) fn assign_all(
    inputs: &[Input],
    keys: &TreeKeys,
    trees: &Trees,
    skipped: &BTreeMap<i32, String>,
    stats: &Stats<'_>,
    strategy: Resolved,
) -> Result<BTreeMap<String, IdMap>> {
    let mut skip = IdSet::default();
    skip.extend(skipped.keys().map(|r| i64::from(*r)));
    let kept = |root: Option<i32>| root.is_some_and(|r| !skip.contains(i64::from(r)));
    // Rows in source-ID order whose tree moves; the tree maps hold (ID, owner) in order.
    let moving = |m: &IdMap, root: &(dyn Fn(i32) -> Option<i32> + Sync)| -> Vec<i32> {
        m.iter()
            .filter(|(_, owner)| kept(root(*owner)))
            .map(|(id, _)| id)
            .collect()
    };
    let assigned: Vec<Result<Option<(String, IdMap)>>> = inputs
        .par_iter()
        .filter(|i| i.model.key.is_some())
        .map(|input| {
            let olds: Vec<i32> = match input.name.as_str() {
                n if n == c::PROCESS => moving(&trees.root_of_process, &Some),
                n if n == c::ACTIVITY => moving(&trees.process_of_activity, &|p| {
                    trees.root_of_process.get(p)
                }),
                n => {
                    let Some(t) = CHILDREN.iter().position(|child| child.table == n) else {
                        return Ok(None);
                    };
                    let (k, by_activity) = (&keys.children[t], CHILDREN[t].by_activity);
                    k[0].iter()
                        .zip(&k[1])
                        .filter(|(_, o)| kept(o.and_then(|o| trees.root_of(o, by_activity))))
                        .filter_map(|(id, _)| id)
                        .collect()
                }
            };
            let news = assign(&input.name, &olds, stats, strategy)?;
            // Keys ascend: parts are in key order, and `moving` keeps it.
            Ok(Some((input.name.clone(), IdMap::from_sorted(olds, news))))
        })
        .collect();
    let mut ids = BTreeMap::new();
    for table in assigned {
        if let Some((name, map)) = table? {
            ids.insert(name, map);
        }
    }
    Ok(ids)
}

/// New IDs for `olds` (ascending): a dense block where [`id_block::place`] puts it
/// (renumber) or the same IDs (keep, refused when they could collide with the target's),
/// refusing what would overflow a 32-bit ID or lie on existing rows.
fn assign(table: &str, olds: &[i32], stats: &Stats<'_>, strategy: Resolved) -> Result<Vec<i32>> {
    let target = stats.target.get(table);
    match strategy {
        Resolved::Renumber => {
            id_block::creation_order(table, olds, stats.source.get(table))?;
            let block = id_block::place(table, target, olds.len() as u64)?;
            // `place` keeps the block inside the 32-bit range.
            Ok((0..olds.len() as i64)
                .map(|r| (block.first + r) as i32)
                .collect())
        }
        Resolved::Keep => {
            let base = target.and_then(|s| s.max_id).unwrap_or(0);
            if let Some(first) = olds.first() {
                if i64::from(*first) <= base {
                    return Err(Error::IdCollision {
                        table: table.to_owned(),
                        first: i64::from(*first),
                        target_max: base,
                    });
                }
            }
            Ok(olds.to_vec())
        }
        // The target generates the IDs at load: rows keep their source IDs until then.
        Resolved::Generated => Ok(olds.to_vec()),
    }
}
