//! New IDs: every moving row of an instance table gets its target ID: a block placed by
//! [`crate::id_block::place`], numbered in creation order (renumber; source-ID order unless
//! the source was reseeded, [`crate::id_block::creation_order`]), or the source IDs (keep,
//! generated).

use std::collections::BTreeMap;

use bptmig_model::catalog as c;
use bptmig_workdir::id_strategy::Resolved;
use bptmig_workdir::IdMap;
use rayon::prelude::*;

use super::trees::{TreeKeys, Trees, CHILDREN};
use crate::id_block::{self, Reseeded};
use crate::input::Input;
use crate::maps::InstanceStat;
use crate::{Error, Result};

/// The statistics of both environments' instance tables, by name.
pub(super) struct Stats<'a> {
    pub(super) source: &'a BTreeMap<String, InstanceStat>,
    pub(super) target: &'a BTreeMap<String, InstanceStat>,
    /// The source snapshot was taken after the rows (`run.json`): only then does a row
    /// above the source's identity show a reseed, not a row created during the extract.
    pub(super) source_after_rows: bool,
}

/// What numbering the rows of one table found out about the source's creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// The source was reseeded; its older rows were numbered first.
    Reseeded(Reseeded),
    /// Rows lie on both sides of the source's identity, but the server did not say whether
    /// explicit IDs move identities: numbered in source-ID order.
    Unsure(Reseeded),
}

/// The new IDs of every table, and what numbering found out about creation order.
#[derive(Debug, Default)]
pub(crate) struct Assigned {
    pub(crate) ids: BTreeMap<String, IdMap>,
    pub(crate) order: BTreeMap<String, Order>,
}

/// One table's new IDs, and what numbering it found out.
type One = (String, IdMap, Option<Order>);

/// Old → new IDs of every instance table with a key, table by table in parallel (activities
/// are the bulk of it). A row moves when its tree has a root outside `skipped`.
pub(super) fn assign_all(
    inputs: &[Input],
    keys: &TreeKeys,
    trees: &Trees,
    skipped: &BTreeMap<i32, String>,
    stats: &Stats<'_>,
    strategy: Resolved,
) -> Result<Assigned> {
    // Sorted root IDs, not a bitmap: a reseeded source's roots may be negative, or near 2^31.
    let skip: Vec<i32> = skipped.keys().copied().collect();
    let kept = |root: Option<i32>| {
        root.is_some_and(|r| skip.is_empty() || skip.binary_search(&r).is_err())
    };
    // Rows in source-ID order whose tree moves; the tree maps hold (ID, owner) in order.
    let moving = |m: &IdMap, root: &(dyn Fn(i32) -> Option<i32> + Sync)| -> Vec<i32> {
        m.iter()
            .filter(|(_, owner)| kept(root(*owner)))
            .map(|(id, _)| id)
            .collect()
    };
    let assigned: Vec<Result<Option<One>>> = inputs
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
            let (news, order) = assign(&input.name, &olds, stats, strategy)?;
            // Keys ascend: parts are in key order, and `moving` keeps it.
            Ok(Some((
                input.name.clone(),
                IdMap::from_sorted(olds, news),
                order,
            )))
        })
        .collect();
    let mut out = Assigned::default();
    for table in assigned {
        if let Some((name, map, order)) = table? {
            if let Some(order) = order {
                out.order.insert(name.clone(), order);
            }
            out.ids.insert(name, map);
        }
    }
    Ok(out)
}

/// New IDs for `olds` (ascending): a dense block where [`id_block::place`] puts it, in
/// creation order (renumber), or the same IDs (keep, refused when they could collide with
/// the target's), refusing what would overflow a 32-bit ID or lie on existing rows.
fn assign(
    table: &str,
    olds: &[i32],
    stats: &Stats<'_>,
    strategy: Resolved,
) -> Result<(Vec<i32>, Option<Order>)> {
    let target = stats.target.get(table);
    match strategy {
        Resolved::Renumber => {
            let order = match id_block::creation_order(olds, stats.source.get(table)) {
                // An older bptmig's snapshot, taken before the rows: a row created during
                // that extract lies above the identity too.
                Ok(Some(found)) if !stats.source_after_rows => {
                    return Err(Error::SourceSnapshotFirst {
                        table: table.to_owned(),
                        identity: found.identity,
                        older: found.older,
                        newer: found.newer,
                    });
                }
                Ok(found) => found.map(Order::Reseeded),
                Err(unsure) => Some(Order::Unsure(unsure)),
            };
            let reseeded = match &order {
                Some(Order::Reseeded(r)) => Some(r),
                _ => None,
            };
            let block = id_block::place(table, target, olds.len() as u64)?;
            Ok((id_block::numbered(block.first, olds.len(), reseeded), order))
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
            Ok((olds.to_vec(), None))
        }
        // The target generates the IDs at load: rows keep their source IDs until then.
        Resolved::Generated => Ok((olds.to_vec(), None)),
    }
}
