//! The load plan: every chunk of the transformed Parquet in load order, with its rows, its ID
//! ranges and the deferred fix-ups that belong to it.
//!
//! The plan is computed from the transformed part files alone (key and level columns only), so
//! `load`, `verify` and `rollback` all derive the same chunks, and a chunk's name identifies the
//! same rows in every run of every command:
//!
//! * process trees level by level: the processes of level 0, then their activities, then the
//!   processes of level 1, and so on; inside a table and level, parts in order and rows in
//!   ascending new ID, cut every `chunk_rows` rows (`L<level>-<part>-<seq>`);
//! * then the other tables in the model's load order (`<part>-<seq>`).
//!
//! A deferred fix-up (`transform/deferred.parquet`: table, row ID, column, value) is inserted
//! as NULL in the row's own chunk and applied in the chunk that holds the later of the row and
//! the row its value references, before anything can reference the updated row.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, Int32Array, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_model::catalog::{self as c, ColumnRole, FkKind, Table};
use bptmig_model::graph;
use bptmig_workdir::layout::{DEFERRED_FILE, LEVEL_COLUMN, TRANSFORM};
use bptmig_workdir::{Manifest, WorkDir};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::{Error, Result};

/// A transformed table: name, model shape, part files and columns.
#[derive(Debug, Clone)]
pub struct TableInput {
    pub name: String,
    pub model: Table,
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The columns written to the target (the manifest's, without the level column).
    pub columns: Vec<String>,
}

impl TableInput {
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
}

/// One deferred reference: `table.column` of row `id` must become `value`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fixup {
    pub table: String,
    pub column: String,
    pub id: i32,
    pub value: i32,
}

/// Rows of one part (and level) applied in one transaction.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Index into [`Plan::tables`].
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

/// Every chunk in load order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tables: Vec<TableInput>,
    pub chunks: Vec<Chunk>,
    pub fixups: usize,
}

impl Plan {
    /// Plans the load of `wd`'s transformed parts in chunks of at most `chunk_rows` rows.
    pub fn build(wd: &WorkDir, chunk_rows: usize) -> Result<Self> {
        let tables = inputs(wd)?;
        let chunk_rows = chunk_rows.max(1);
        let mut chunks = Vec::new();
        let tree = |name: &str| name == c::PROCESS || name == c::ACTIVITY;
        // Key and level of every part of the tree tables, read once.
        let mut tree_parts: HashMap<usize, Vec<(Int32Array, Int32Array)>> = HashMap::new();
        let mut max_level = -1;
        for (ti, t) in tables.iter().enumerate().filter(|(_, t)| tree(&t.name)) {
            let mut parts = Vec::new();
            for part in 0..t.manifest.parts.len() {
                let cols = read_int_columns(&t.part_path(part), &[t.id_column(), LEVEL_COLUMN])?;
                let [ids, levels]: [Int32Array; 2] =
                    cols.try_into().map_err(|_| Error::Corrupt {
                        path: t.part_path(part),
                        what: "key and level columns".into(),
                    })?;
                max_level = max_level.max(levels.iter().flatten().max().unwrap_or(-1));
                parts.push((ids, levels));
            }
            tree_parts.insert(ti, parts);
        }
        let find = |name: &str| tables.iter().position(|t| t.name == name);
        for level in 0..=max_level {
            for name in [c::PROCESS, c::ACTIVITY] {
                let Some(ti) = find(name) else { continue };
                for (part, (ids, levels)) in tree_parts[&ti].iter().enumerate() {
                    let rows: Vec<u32> = (0..ids.len())
                        .filter(|&i| levels.is_valid(i) && levels.value(i) == level)
                        .map(|i| i as u32)
                        .collect();
                    cut(&mut chunks, ti, Some(level), part, &rows, ids, chunk_rows);
                }
            }
        }
        for ti in rest_order(&tables) {
            let t = &tables[ti];
            for part in 0..t.manifest.parts.len() {
                let cols = read_int_columns(&t.part_path(part), &[t.id_column()])?;
                let Some(ids) = cols.into_iter().next() else {
                    continue;
                };
                let rows: Vec<u32> = (0..ids.len() as u32).collect();
                cut(&mut chunks, ti, None, part, &rows, &ids, chunk_rows);
            }
        }
        let mut plan = Self {
            tables,
            chunks,
            fixups: 0,
        };
        plan.place_fixups(wd)?;
        Ok(plan)
    }

    /// Reads `deferred.parquet` and attaches each fix-up to its chunks.
    fn place_fixups(&mut self, wd: &WorkDir) -> Result<()> {
        let path = wd.stage_dir(TRANSFORM).join(DEFERRED_FILE);
        let fixups = read_fixups(&path)?;
        self.fixups = fixups.len();
        if fixups.is_empty() {
            return Ok(());
        }
        // (table, sorted range starts) → chunk ordinal, for the tables fix-ups touch.
        let mut index: HashMap<usize, Vec<(i32, i32, usize)>> = HashMap::new();
        for (ord, chunk) in self.chunks.iter().enumerate() {
            if self.tables[chunk.table].has_key() {
                let e = index.entry(chunk.table).or_default();
                e.extend(chunk.ranges.iter().map(|&(lo, hi)| (lo, hi, ord)));
            }
        }
        for v in index.values_mut() {
            v.sort_unstable();
        }
        let locate = |table: usize, id: i32| -> Option<usize> {
            let v = index.get(&table)?;
            let i = v.partition_point(|r| r.0 <= id).checked_sub(1)?;
            (v[i].1 >= id).then_some(v[i].2)
        };
        let mut id_cache: HashMap<(usize, usize), Int32Array> = HashMap::new();
        for f in fixups {
            let Some(ti) = self.tables.iter().position(|t| t.name == f.table) else {
                return Err(Error::Corrupt {
                    path: path.clone(),
                    what: format!("a fix-up of table `{}`, which was not transformed", f.table),
                });
            };
            let target = match self.tables[ti].model.column(&f.column).map(|col| col.role) {
                Some(ColumnRole::Fk {
                    kind: FkKind::Instance,
                    table,
                }) => self.tables.iter().position(|t| t.name == table),
                _ => None,
            };
            let Some(own) = locate(ti, f.id) else {
                return Err(Error::Corrupt {
                    path: path.clone(),
                    what: format!(
                        "a fix-up of `{}` row {}, which is not in its parts",
                        f.table, f.id
                    ),
                });
            };
            let at = target
                .and_then(|t| locate(t, f.value))
                .map_or(own, |other| other.max(own));
            let part = self.chunks[own].part;
            let ids = match id_cache.entry((ti, part)) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let t = &self.tables[ti];
                    let cols = read_int_columns(&t.part_path(part), &[t.id_column()])?;
                    e.insert(
                        cols.into_iter()
                            .next()
                            .unwrap_or_else(|| Int32Array::from(Vec::<i32>::new())),
                    )
                }
            };
            // Rows of a keyed table ascend by ID inside a chunk.
            let rows = &self.chunks[own].rows;
            let at_row = rows.partition_point(|&r| ids.value(r as usize) < f.id);
            let row = rows
                .get(at_row)
                .copied()
                .filter(|&r| ids.value(r as usize) == f.id)
                .ok_or_else(|| Error::Corrupt {
                    path: path.clone(),
                    what: format!("row {} of `{}`", f.id, f.table),
                })?;
            self.chunks[own].nulls.push((row, f.column.clone()));
            self.chunks[at].fixups.push(f);
        }
        Ok(())
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

/// The tables after the process trees, in the model's load order (`OSEVT_*` by name).
fn rest_order(tables: &[TableInput]) -> Vec<usize> {
    let mut out = Vec::new();
    for node in graph::load_order() {
        if node == c::PROCESS || node == c::ACTIVITY {
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
                name,
                model,
                dir: tdir,
                manifest,
                columns,
            })
        })
        .collect()
}

/// Reads whole `Int32` columns of one part file.
pub fn read_int_columns(path: &Path, names: &[&str]) -> Result<Vec<Int32Array>> {
    let batches = read_part(path, Some(names))?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut arrays: Vec<&dyn Array> = Vec::with_capacity(batches.len());
        for b in &batches {
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
        let whole = if arrays.is_empty() {
            Int32Array::from(Vec::<i32>::new())
        } else {
            arrow::compute::concat(&arrays)
                .map_err(|e| Error::arrow(name, e))?
                .as_primitive::<Int32Type>()
                .clone()
        };
        out.push(whole);
    }
    Ok(out)
}

/// Reads a part file (some or all columns) as one batch.
pub fn read_part(path: &Path, names: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::parquet(path, e))?
        .with_batch_size(64 * 1024);
    if let Some(names) = names {
        let schema = builder.schema().clone();
        let mut idx = Vec::new();
        for n in names {
            idx.push(schema.index_of(n).map_err(|_| Error::Corrupt {
                path: path.to_owned(),
                what: format!("column `{n}`"),
            })?);
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), idx);
        builder = builder.with_projection(mask);
    }
    let reader = builder.build().map_err(|e| Error::parquet(path, e))?;
    reader
        .map(|b| b.map_err(|e| Error::arrow(&path.display().to_string(), e)))
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

fn read_fixups(path: &Path) -> Result<Vec<Fixup>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for b in read_part(path, None)? {
        let get = |n: &str| {
            b.column_by_name(n).ok_or_else(|| Error::Corrupt {
                path: path.to_owned(),
                what: format!("column `{n}`"),
            })
        };
        let (t, id, col, v) = (get("TABLE")?, get("ID")?, get("COLUMN")?, get("VALUE")?);
        let bad = || Error::Corrupt {
            path: path.to_owned(),
            what: "deferred column types".into(),
        };
        let t = t.as_string_opt::<i32>().ok_or_else(bad)?;
        let col = col.as_string_opt::<i32>().ok_or_else(bad)?;
        let id = id.as_primitive_opt::<Int32Type>().ok_or_else(bad)?;
        let v = v.as_primitive_opt::<Int32Type>().ok_or_else(bad)?;
        for i in 0..b.num_rows() {
            out.push(Fixup {
                table: t.value(i).to_owned(),
                column: col.value(i).to_owned(),
                id: id.value(i),
                value: v.value(i),
            });
        }
    }
    Ok(out)
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
