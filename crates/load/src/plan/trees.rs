//! Process trees in the plan: the roots (level-0 processes) with their source IDs and
//! `LAST_MODIFIED`, which tree every planned row belongs to, and leaving whole trees out of
//! every chunk ([`LoadPlan::exclude_trees`]).
//!
//! A row's tree is found through its owner column: a process's `TOP_PROCESS_ID` (its own ID
//! when NULL), an activity's `PROCESS_ID`, an input's or output's process or activity, an
//! `OSEVT_*` row's `_ACTIVITY_ID`; an activity's tree is its process's.

use std::path::Path;

use arrow::array::{Array, AsArray, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, TimeUnit};
use bptmig_model::catalog::{self as c, ColumnRole, FkKind};
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{IdMap, WorkDir};

use super::{LoadPlan, TableInput};
use crate::{Error, Result};

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// An instant as (days since 1970-01-01, nanoseconds of the day): `datetime` spans years a
/// 64-bit nanosecond count does not.
pub type Instant = (i64, i64);

/// A root of a moved tree: a top-level process of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedRoot {
    /// Its ID in the target (the transform's new ID).
    pub target_id: i32,
    /// Its ID in the source.
    pub source_id: i32,
    /// Its `LAST_MODIFIED` as the extract read it.
    pub last_modified: Option<Instant>,
}

/// The roots of the plan, and each planned row's owner (kept until trees are left out).
#[derive(Debug, Clone, Default)]
pub struct TreeIndex {
    /// By ascending target ID.
    pub roots: Vec<PlannedRoot>,
    /// Per table, per part: the rows' IDs and owners.
    rows: Vec<Vec<PartOwners>>,
}

/// One part's ID column and owner column.
#[derive(Debug, Clone)]
pub(super) struct PartOwners {
    ids: Int32Array,
    owners: Option<Int32Array>,
}

impl PartOwners {
    /// The ID and owner columns of `batches` (one part of `t`), as planning read them.
    pub(super) fn read(
        t: &TableInput,
        path: &Path,
        batches: &[RecordBatch],
        ids: Int32Array,
    ) -> Result<Self> {
        let owners = owner_column(t)
            .map(|name| super::int_column(path, batches, name))
            .transpose()?;
        Ok(Self { ids, owners })
    }
}

/// The column naming the row a row of `t` hangs from, if any: `TOP_PROCESS_ID` for processes,
/// else the first non-nullable reference to a process or an activity, else the first nullable
/// one (`_ACTIVITY_ID` of `OSEVT_*` tables).
pub(super) fn owner_column(t: &TableInput) -> Option<&'static str> {
    if t.name == c::PROCESS {
        return t
            .columns
            .iter()
            .any(|n| n == c::TOP_PROCESS_ID)
            .then_some(c::TOP_PROCESS_ID);
    }
    let owners: Vec<&c::Column> = t
        .model
        .columns
        .iter()
        .filter(|col| {
            matches!(col.role, ColumnRole::Fk { kind: FkKind::Instance, table }
                if table == c::PROCESS || table == c::ACTIVITY)
                && t.columns.iter().any(|n| n == col.name)
        })
        .collect();
    owners
        .iter()
        .find(|col| !col.nullable)
        .or(owners.first())
        .map(|col| col.name)
}

/// The table `t`'s owner column references.
fn owner_table(t: &TableInput) -> Option<&'static str> {
    if t.name == c::PROCESS {
        return Some(c::PROCESS);
    }
    let name = owner_column(t)?;
    match t.model.column(name)?.role {
        ColumnRole::Fk { table, .. } => Some(table),
        _ => None,
    }
}

/// `LAST_MODIFIED` of the rows of a process part, if the part has it.
pub(super) fn last_modified(batches: &[RecordBatch]) -> Vec<Option<Instant>> {
    let mut out = Vec::new();
    for b in batches {
        let Some(a) = b.column_by_name(c::LAST_MODIFIED) else {
            out.extend(std::iter::repeat_n(None, b.num_rows()));
            continue;
        };
        let per_second: i64 = match a.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => 1,
            DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000,
            DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000_000,
            DataType::Timestamp(TimeUnit::Nanosecond, _) => 1_000_000_000,
            _ => {
                out.extend(std::iter::repeat_n(None, b.num_rows()));
                continue;
            }
        };
        let values = arrow::compute::cast(a, &DataType::Int64).ok();
        let values = values
            .as_ref()
            .map(AsArray::as_primitive::<arrow::datatypes::Int64Type>);
        for i in 0..b.num_rows() {
            out.push(values.filter(|v| v.is_valid(i)).map(|v| {
                let per_day = per_second * 86_400;
                let (day, rest) = (
                    v.value(i).div_euclid(per_day),
                    v.value(i).rem_euclid(per_day),
                );
                (day, rest * (1_000_000_000 / per_second))
            }));
        }
    }
    out
}

/// An instant from ISO text (`YYYY-MM-DDTHH:MM:SS[.f…]`, as `CONVERT(…, 126)` prints it).
pub fn parse_instant(text: &str) -> Option<Instant> {
    bptmig_workdir::iso::parse_iso_datetime_parts(text.trim())
        .ok()
        .filter(|(_, ns)| (0..NANOS_PER_DAY).contains(ns))
}

impl TreeIndex {
    /// The index of `tables` from what planning read (`owners`, per table and part), with the
    /// roots: level-0 processes (`roots`: target ID and `LAST_MODIFIED`), their source IDs from
    /// the transform's process map.
    pub(super) fn new(
        wd: &WorkDir,
        rows: Vec<Vec<PartOwners>>,
        mut roots: Vec<(i32, Option<Instant>)>,
    ) -> Result<Self> {
        roots.sort_unstable_by_key(|r| r.0);
        roots.dedup_by_key(|r| r.0);
        let roots = if roots.is_empty() {
            Vec::new()
        } else {
            let file = crate::id_maps::map_file(c::PROCESS);
            let path = wd.stage_dir(TRANSFORM).join(&file);
            let Some(reader) = super::open_derived(wd, &file)? else {
                return Err(Error::Corrupt {
                    path,
                    what: "the transform's ID map of its processes".into(),
                });
            };
            let new_to_old = read_reverse_map(&path, reader)?;
            roots
                .into_iter()
                .map(|(target_id, last_modified)| {
                    let source_id = new_to_old.get(target_id).ok_or_else(|| Error::Corrupt {
                        path: path.clone(),
                        what: format!("the source ID of process {target_id}"),
                    })?;
                    Ok(PlannedRoot {
                        target_id,
                        source_id,
                        last_modified,
                    })
                })
                .collect::<Result<_>>()?
        };
        Ok(Self { roots, rows })
    }

    /// The root with target ID `id`, if it is one of the plan's.
    pub fn root(&self, id: i32) -> Option<&PlannedRoot> {
        let i = self.roots.binary_search_by_key(&id, |r| r.target_id).ok()?;
        self.roots.get(i)
    }
}

/// A transform ID map (at `path`, opened as `reader`) read as new ID → old ID.
fn read_reverse_map(path: &Path, reader: PartReader) -> Result<IdMap> {
    let pairs = crate::id_maps::read_pairs(path, reader)?;
    Ok(IdMap::new(pairs.into_iter().map(|(old, new)| (new, old))))
}

/// Which tree each process and activity of the plan belongs to.
struct RootOf {
    /// Process → root.
    process: IdMap,
    /// Activity → process.
    activity: IdMap,
}

impl RootOf {
    fn new(plan: &LoadPlan, rows: &[Vec<PartOwners>]) -> Self {
        let pairs = |name: &str, own: bool| -> Vec<(i32, i32)> {
            let Some(ti) = plan.tables.iter().position(|t| t.name == name) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for p in &rows[ti] {
                for i in 0..p.ids.len() {
                    if !p.ids.is_valid(i) {
                        continue;
                    }
                    let id = p.ids.value(i);
                    match &p.owners {
                        Some(o) if o.is_valid(i) => out.push((id, o.value(i))),
                        _ if own => out.push((id, id)),
                        _ => {}
                    }
                }
            }
            out
        };
        Self {
            process: IdMap::new(pairs(c::PROCESS, true).into_iter()),
            activity: IdMap::new(pairs(c::ACTIVITY, false).into_iter()),
        }
    }

    /// The root of the row a reference to `table` row `id` names.
    fn of(&self, table: &str, id: i32) -> Option<i32> {
        if table == c::ACTIVITY {
            self.process.get(self.activity.get(id)?)
        } else if table == c::PROCESS {
            self.process.get(id)
        } else {
            None
        }
    }
}

impl LoadPlan {
    /// Leaves the trees rooted at `roots` (target IDs, ascending) out of every chunk of every
    /// table, with their deferred fix-ups; drops the chunks left empty. Chunk names stay, so a
    /// chunk names the same rows in every command that leaves out the same trees. Returns the
    /// rows left out.
    pub fn exclude_trees(&mut self, roots: &[i32]) -> u64 {
        let rows = std::mem::take(&mut self.trees.rows);
        if roots.is_empty() {
            return 0;
        }
        let root_of = RootOf::new(self, &rows);
        let skipped = |table: &str, id: i32| {
            root_of
                .of(table, id)
                .is_some_and(|r| roots.binary_search(&r).is_ok())
        };
        let mut left_out = 0;
        for chunk in &mut self.chunks {
            let t = &self.tables[chunk.table];
            let part = &rows[chunk.table][chunk.part];
            chunk.fixups.retain(|f| !skipped(&f.table, f.id));
            let (Some(owners), Some(to)) = (&part.owners, owner_table(t)) else {
                continue;
            };
            let before = chunk.rows.len();
            chunk.rows.retain(|&r| {
                let r = r as usize;
                let owner = owners.is_valid(r).then(|| owners.value(r));
                let owner = if t.name == c::PROCESS {
                    owner.or_else(|| part.ids.is_valid(r).then(|| part.ids.value(r)))
                } else {
                    owner
                };
                !owner.is_some_and(|o| skipped(to, o))
            });
            if chunk.rows.len() == before {
                continue;
            }
            left_out += (before - chunk.rows.len()) as u64;
            let kept = &chunk.rows;
            chunk.nulls.retain(|(r, _)| kept.binary_search(r).is_ok());
            let mut ids: Vec<i32> = kept
                .iter()
                .filter(|&&r| part.ids.is_valid(r as usize))
                .map(|&r| part.ids.value(r as usize))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            chunk.ranges = super::ranges_of(&ids);
        }
        self.chunks
            .retain(|ch| !ch.rows.is_empty() || !ch.fixups.is_empty());
        self.fixups = self.chunks.iter().map(|ch| ch.fixups.len()).sum();
        left_out
    }
}
