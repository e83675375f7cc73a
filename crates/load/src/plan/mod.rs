//! The load plan: every chunk of the transformed Parquet in load order, with its rows, its ID
//! ranges and the deferred fix-ups that belong to it.
//!
//! The plan is computed from the transformed part files alone, so `load`, `verify`,
//! `rollback` and `status` all derive the same chunks, and a chunk's name identifies the same
//! rows in every run of every command:
//!
//! * process trees level by level: the processes of level 0, then their activities, then the
//!   processes of level 1, and so on; inside a table and level, parts in order and rows in
//!   their order (source-ID order; ascending new IDs too, except where a reseeded source was
//!   numbered in creation order), cut every `chunk_rows` rows (`L<level>-<part>-<seq>`);
//! * then the other tables in the model's load order (`<part>-<seq>`).
//!
//! Planning reads each part once, and only its key, level and outward foreign-key columns:
//! the keys and levels cut the chunks, the foreign keys become the plan's [`References`],
//! which the load checks against the target before it writes anything. The rows themselves
//! are read once more, by the load, chunk by chunk.
//!
//! A deferred fix-up (`transform/deferred.parquet`: table, row ID, column, value) is inserted
//! as NULL in the row's own chunk and applied in the chunk that holds the later of the row and
//! the row its value references, before anything can reference the updated row
//! ([`Fixup`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, Int32Array, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_db::Names;
use bptmig_model::catalog::{self as c, ColumnRole, FkKind, Table};
use bptmig_model::graph;
use bptmig_workdir::layout::{LEVEL_COLUMN, MANIFEST_FILE, TRANSFORM};
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{Manifest, WorkDir};

use crate::{Error, Result};

mod fixups;
mod parts;
mod ranges;
mod references;
mod trees;

pub use fixups::Fixup;
pub(crate) use parts::PartCache;
pub use ranges::{
    merge_ranges, range_predicate, range_predicates, ranges_of, MAX_QUERY_CHARS,
    RANGES_PER_STATEMENT,
};
pub use references::References;
pub use trees::{parse_instant, Instant, PlannedRoot, TreeIndex};

/// A transformed table: name, model shape, part files and columns.
#[derive(Debug, Clone)]
pub struct TableInput {
    /// The model's name, the work directory's and the ledger's.
    pub name: String,
    /// The name as the target's catalog spells it ([`LoadPlan::spell`]); `name` until then.
    pub spelled: String,
    pub model: Table,
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The columns written to the target (the manifest's, without the level column).
    pub columns: Vec<String>,
}

impl TableInput {
    /// The table as the target spells it, quoted for a statement.
    pub fn sql(&self) -> String {
        bptmig_db::quote_ident(&self.spelled)
    }

    /// The column that identifies this table's rows for ranges: the key, or for `OSEVT_*`
    /// tables the activity they subscribe.
    pub fn id_column(&self) -> &'static str {
        self.model.key.unwrap_or(c::EVT_ACTIVITY_ID)
    }

    /// Whether the table's key is an identity the load writes explicitly.
    pub fn has_key(&self) -> bool {
        self.model.key.is_some()
    }

    pub fn part_path(&self, part: usize) -> PathBuf {
        self.dir.join(&self.manifest.parts[part].file)
    }

    pub fn rows(&self) -> u64 {
        self.manifest.rows()
    }

    /// The transformed columns, in their order, as the writers bind them.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(String::as_str).collect()
    }

    /// Part `part` opened after checking its size and SHA-256 against the manifest.
    pub fn open_part(&self, part: usize) -> Result<PartReader> {
        Ok(PartReader::open_listed(
            &self.dir,
            &self.manifest.parts[part],
        )?)
    }

    /// Every row and column of part `part`, as one batch (checked against the manifest first).
    pub fn read_part(&self, part: usize) -> Result<RecordBatch> {
        let path = self.part_path(part);
        let batches = self.open_part(part)?.read_all()?;
        let Some(first) = batches.first() else {
            return Err(Error::Corrupt {
                path,
                what: "rows".into(),
            });
        };
        arrow::compute::concat_batches(&first.schema(), &batches)
            .map_err(|e| Error::arrow(&self.name, e))
    }

    /// The outward foreign-key columns (definitions, principals, tenants, eSpaces, static
    /// entities) among the transformed columns.
    fn outward_fk_columns(&self) -> Vec<&'static str> {
        self.model
            .columns
            .iter()
            .filter(|col| {
                matches!(col.role, ColumnRole::Fk { kind, .. } if kind != FkKind::Instance)
                    && self.columns.iter().any(|n| n == col.name)
            })
            .map(|col| col.name)
            .collect()
    }
}

/// Rows of one part (and level) applied in one transaction.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Index into [`LoadPlan::tables`].
    pub table: usize,
    pub level: Option<i32>,
    pub part: usize,
    pub seq: usize,
    /// Row indices in the part file, ascending.
    pub rows: Vec<u32>,
    /// The chunk's IDs (see [`TableInput::id_column`]) as inclusive ranges, ascending.
    pub ranges: Vec<(i32, i32)>,
    /// Rows of this chunk inserted with NULL in a column: `(row index in the part, column)`.
    pub nulls: Vec<(u32, String)>,
    /// Fix-ups applied in this chunk's transaction, after its rows.
    pub fixups: Vec<Fixup>,
}

impl Chunk {
    /// The chunk's name in the ledger.
    pub fn name(&self) -> String {
        match self.level {
            Some(l) => format!("L{l}-{:05}-{:04}", self.part, self.seq),
            None => format!("{:05}-{:04}", self.part, self.seq),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Smallest and largest ID.
    pub fn id_bounds(&self) -> Option<(i32, i32)> {
        Some((self.ranges.first()?.0, self.ranges.last()?.1))
    }
}

/// Every chunk in load order, and what the rows reference outside the run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub tables: Vec<TableInput>,
    pub chunks: Vec<Chunk>,
    /// Deferred fix-ups in `deferred.parquet`.
    pub fixups: usize,
    /// The definitions, principals, tenants, eSpaces and static rows the transformed rows
    /// reference, which the target must hold.
    pub references: References,
    /// The process trees: their roots, and which tree each row belongs to.
    pub trees: TreeIndex,
}

/// The ID (and, for the tree tables, level) column of one part, read when planning; its
/// rows' owners; for processes, `LAST_MODIFIED`.
struct PartKeys {
    ids: Int32Array,
    levels: Option<Int32Array>,
    owners: trees::PartOwners,
    last_modified: Vec<Option<Instant>>,
}

impl LoadPlan {
    /// Every table and fix-up named as the target's catalog spells it, for the statements;
    /// [`bptmig_db::Error::MissingTable`] for a table the target lacks in any case.
    pub fn spell(&mut self, names: &Names) -> Result<()> {
        for t in &mut self.tables {
            names.spelled(&t.name)?.clone_into(&mut t.spelled);
        }
        for chunk in &mut self.chunks {
            for f in &mut chunk.fixups {
                names.spelled(&f.table)?.clone_into(&mut f.spelled);
            }
        }
        Ok(())
    }

    /// Plans the load of `wd`'s transformed parts in chunks of at most `chunk_rows` rows.
    /// Every part is checked against its manifest (size and SHA-256) before any of it is
    /// used, so a damaged part stops the plan before anything is written.
    pub fn build(wd: &WorkDir, chunk_rows: usize) -> Result<Self> {
        let tables = inputs(wd)?;
        let mut references = References::default();
        let keys = tables
            .iter()
            .map(|t| read_keys(t, &mut references))
            .collect::<Result<Vec<_>>>()?;
        let chunk_rows = chunk_rows.max(1);
        let mut chunks = cut_tree_levels(&tables, &keys, chunk_rows);
        for ti in rest_order(&tables) {
            for (part, k) in keys[ti].iter().enumerate() {
                let rows: Vec<u32> = (0..k.ids.len() as u32).collect();
                cut(&mut chunks, ti, None, part, &rows, &k.ids, chunk_rows);
            }
        }
        let mut plan = Self {
            tables,
            chunks,
            fixups: 0,
            references,
            trees: TreeIndex::default(),
        };
        let ids = |ti: usize, part: usize| &keys[ti][part].ids;
        plan.fixups = fixups::place(&mut plan, wd, ids)?;
        plan.trees = tree_index(wd, &plan.tables, keys)?;
        Ok(plan)
    }

    /// Rows per table.
    pub fn table_rows(&self) -> BTreeMap<String, u64> {
        let mut out: BTreeMap<String, u64> = BTreeMap::new();
        for t in &self.tables {
            out.insert(t.name.clone(), t.rows());
        }
        out
    }

    /// All ID ranges of table `ti`, merged.
    pub fn table_ranges(&self, ti: usize) -> Vec<(i32, i32)> {
        let mut all: Vec<(i32, i32)> = self
            .chunks
            .iter()
            .filter(|ch| ch.table == ti)
            .flat_map(|ch| ch.ranges.iter().copied())
            .collect();
        all.sort_unstable();
        merge_ranges(all)
    }
}

/// The plan's trees from what planning read: the level-0 processes are the roots.
fn tree_index(wd: &WorkDir, tables: &[TableInput], keys: Vec<Vec<PartKeys>>) -> Result<TreeIndex> {
    let mut roots = Vec::new();
    let mut owners = Vec::with_capacity(keys.len());
    for (t, parts) in tables.iter().zip(keys) {
        let mut table_owners = Vec::with_capacity(parts.len());
        for k in parts {
            if t.name == c::PROCESS {
                if let Some(levels) = &k.levels {
                    for i in 0..k.ids.len() {
                        if k.ids.is_valid(i) && levels.is_valid(i) && levels.value(i) == 0 {
                            let modified = k.last_modified.get(i).copied().flatten();
                            roots.push((k.ids.value(i), modified));
                        }
                    }
                }
            }
            table_owners.push(k.owners);
        }
        owners.push(table_owners);
    }
    TreeIndex::new(wd, owners, roots)
}

/// Whether `name` is a process-tree table, loaded level by level.
fn is_tree(name: &str) -> bool {
    name == c::PROCESS || name == c::ACTIVITY
}

/// Reads the ID column (and the level column of a tree table), the owner column (and a
/// process's `LAST_MODIFIED`) of every part of `t`, and adds the outward references of its
/// rows to `references`: one read of each part, after checking it against the manifest.
fn read_keys(t: &TableInput, references: &mut References) -> Result<Vec<PartKeys>> {
    let level = is_tree(&t.name).then_some(LEVEL_COLUMN);
    let modified = (t.name == c::PROCESS && t.columns.iter().any(|n| n == c::LAST_MODIFIED))
        .then_some(c::LAST_MODIFIED);
    let mut names = vec![t.id_column()];
    names.extend(level);
    for name in t
        .outward_fk_columns()
        .into_iter()
        .chain(trees::owner_column(t))
        .chain(modified)
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    (0..t.manifest.parts.len())
        .map(|part| {
            let path = t.part_path(part);
            let batches = t.open_part(part)?.columns(&names)?.read_all()?;
            for b in &batches {
                references.add(t, b);
            }
            let ids = int_column(&path, &batches, t.id_column())?;
            Ok(PartKeys {
                levels: level.map(|l| int_column(&path, &batches, l)).transpose()?,
                owners: trees::PartOwners::read(t, &path, &batches, ids.clone())?,
                last_modified: if modified.is_some() {
                    trees::last_modified(&batches)
                } else {
                    Vec::new()
                },
                ids,
            })
        })
        .collect()
}

/// Column `name` of the batches of one part file, as one `Int32` array.
fn int_column(path: &std::path::Path, batches: &[RecordBatch], name: &str) -> Result<Int32Array> {
    let mut arrays: Vec<&dyn Array> = Vec::with_capacity(batches.len());
    for b in batches {
        let col = b.column_by_name(name).ok_or_else(|| Error::Corrupt {
            path: path.to_owned(),
            what: format!("column `{name}`"),
        })?;
        if col.as_primitive_opt::<Int32Type>().is_none() {
            return Err(Error::Corrupt {
                path: path.to_owned(),
                what: format!("`{name}` as 32-bit integers"),
            });
        }
        arrays.push(col.as_ref());
    }
    if arrays.is_empty() {
        return Ok(Int32Array::from(Vec::<i32>::new()));
    }
    Ok(arrow::compute::concat(&arrays)
        .map_err(|e| Error::arrow(name, e))?
        .as_primitive::<Int32Type>()
        .clone())
}

/// The chunks of the process trees: per level, the processes, then the activities.
fn cut_tree_levels(tables: &[TableInput], keys: &[Vec<PartKeys>], chunk_rows: usize) -> Vec<Chunk> {
    let max_level = keys
        .iter()
        .flatten()
        .filter_map(|k| k.levels.as_ref())
        .filter_map(|levels| levels.iter().flatten().max())
        .max()
        .unwrap_or(-1);
    let mut chunks = Vec::new();
    for level in 0..=max_level {
        for name in [c::PROCESS, c::ACTIVITY] {
            let Some(ti) = tables.iter().position(|t| t.name == name) else {
                continue;
            };
            for (part, k) in keys[ti].iter().enumerate() {
                let Some(levels) = &k.levels else { continue };
                let rows: Vec<u32> = (0..k.ids.len())
                    .filter(|&i| levels.is_valid(i) && levels.value(i) == level)
                    .map(|i| i as u32)
                    .collect();
                cut(
                    &mut chunks,
                    ti,
                    Some(level),
                    part,
                    &rows,
                    &k.ids,
                    chunk_rows,
                );
            }
        }
    }
    chunks
}

/// Cuts `rows` of one part into chunks.
fn cut(
    chunks: &mut Vec<Chunk>,
    table: usize,
    level: Option<i32>,
    part: usize,
    rows: &[u32],
    ids: &Int32Array,
    chunk_rows: usize,
) {
    for (seq, slice) in rows.chunks(chunk_rows).enumerate() {
        let mut v: Vec<i32> = slice
            .iter()
            .filter(|&&r| ids.is_valid(r as usize))
            .map(|&r| ids.value(r as usize))
            .collect();
        v.sort_unstable();
        v.dedup();
        chunks.push(Chunk {
            table,
            level,
            part,
            seq,
            rows: slice.to_vec(),
            ranges: ranges_of(&v),
            nulls: Vec::new(),
            fixups: Vec::new(),
        });
    }
}

/// The tables after the process trees, in the model's load order (`OSEVT_*` by name).
fn rest_order(tables: &[TableInput]) -> Vec<usize> {
    let mut out = Vec::new();
    for node in graph::load_order() {
        if is_tree(node) {
            continue;
        }
        for (i, t) in tables.iter().enumerate() {
            let hit = if node == graph::OSEVT_NODE {
                c::is_osevt(&t.name)
            } else {
                t.name == node
            };
            if hit {
                out.push(i);
            }
        }
    }
    out
}

/// The transform's derived file `file` (named relative to its stage directory: an ID map, the
/// deferred fix-ups) opened after checking it against its entry in `transform/manifest.json`;
/// `None` when the manifest does not list it and it does not exist. A file that exists
/// unlisted (or without the manifest) is refused: the transform writes both again.
pub(crate) fn open_derived(wd: &WorkDir, file: &str) -> Result<Option<PartReader>> {
    let dir = wd.stage_dir(TRANSFORM);
    let manifest = Manifest::read(&dir)?.filter(|m| m.complete);
    let entry = manifest
        .as_ref()
        .and_then(|m| m.parts.iter().find(|p| p.file == file));
    match entry {
        Some(entry) => Ok(Some(PartReader::open_listed(&dir, entry)?)),
        None if dir.join(file).exists() => Err(Error::Corrupt {
            path: dir.join(file),
            what: format!("an entry in `{TRANSFORM}/{MANIFEST_FILE}`"),
        }),
        None => Ok(None),
    }
}

/// The transformed tables, in catalog order (`OSEVT_*` last, by name).
pub fn inputs(wd: &WorkDir) -> Result<Vec<TableInput>> {
    let dir = wd.stage_dir(TRANSFORM);
    let names = bptmig_workdir::stage_tables(&dir)?;
    names
        .into_iter()
        .map(|name| {
            let tdir = dir.join(&name);
            let manifest = Manifest::read(&tdir)?.ok_or_else(|| Error::NotTransformed {
                workdir: wd.root().to_owned(),
            })?;
            let model = c::table(&name)
                .copied()
                .unwrap_or_else(|| c::osevt_table(graph::OSEVT_NODE));
            let columns = manifest
                .columns
                .iter()
                .map(|col| col.name.clone())
                .filter(|n| n != LEVEL_COLUMN)
                .collect();
            Ok(TableInput {
                spelled: name.clone(),
                name,
                model,
                dir: tdir,
                manifest,
                columns,
            })
        })
        .collect()
}

/// The rows of `chunk` from its part (already read whole), deferred columns set to NULL.
pub fn chunk_batch(part: &RecordBatch, chunk: &Chunk) -> Result<RecordBatch> {
    let idx = arrow::array::UInt32Array::from(chunk.rows.clone());
    let batch =
        arrow::compute::take_record_batch(part, &idx).map_err(|e| Error::arrow("chunk rows", e))?;
    if chunk.nulls.is_empty() {
        return Ok(batch);
    }
    let schema = batch.schema();
    let mut columns: Vec<Arc<dyn Array>> = batch.columns().to_vec();
    for (ci, field) in schema.fields().iter().enumerate() {
        let hit: std::collections::HashSet<u32> = chunk
            .nulls
            .iter()
            .filter(|(_, col)| col == field.name())
            .map(|(r, _)| *r)
            .collect();
        if hit.is_empty() {
            continue;
        }
        let mask: BooleanArray = chunk.rows.iter().map(|r| Some(hit.contains(r))).collect();
        columns[ci] = arrow::compute::nullif(columns[ci].as_ref(), &mask)
            .map_err(|e| Error::arrow("deferred columns", e))?;
    }
    RecordBatch::try_new(schema, columns).map_err(|e| Error::arrow("deferred columns", e))
}
