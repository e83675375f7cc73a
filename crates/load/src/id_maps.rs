//! The ID maps of what the load wrote: `load/maps/<TABLE>.parquet` with (`OLD_ID`, `NEW_ID`),
//! the transform's columns and encoding, listed with size and SHA-256 in `load/manifest.json`
//! as `transform/manifest.json` lists the transform's (README, "ID maps for application
//! data").
//!
//! * [`planned`]: the pairs of the rows a plan writes: each map the transform wrote, without
//!   the rows of the trees the plan leaves out (`selection.already_moved = "skip"`).
//! * [`write()`]: any such pairs, however they were obtained, written atomically with the
//!   manifest last; the same pairs give the same bytes. Under `ids.strategy = "generated"`
//!   they are the pairs the load captured: neither dense nor ascending in the old IDs' order,
//!   which a [`TableMap`] accepts as long as each old and each new ID appears once.
//! * `captured`: those captured pairs as verify and rollback look them up.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use bptmig_workdir::layout::{LOAD, TRANSFORM};
use bptmig_workdir::part::{self as parts, PartMeta, PartReader};
use bptmig_workdir::{Manifest, PartEntry, WorkDir};

use crate::plan::LoadPlan;
use crate::{Error, Result};

pub(crate) mod captured;

/// The folder of the maps, inside the transform's and the load's stage directories.
pub const MAPS_DIR: &str = "maps";
/// The columns of an ID map.
pub const OLD_ID: &str = "OLD_ID";
pub const NEW_ID: &str = "NEW_ID";

/// `pairs` sorted by old ID, or why they are not a map: an old or a new ID twice.
pub fn checked_pairs(mut pairs: Vec<(i32, i32)>) -> Result<Vec<(i32, i32)>, String> {
    if !pairs.windows(2).all(|w| w[0].0 < w[1].0) {
        pairs.sort_unstable();
        if let Some(twice) = pairs.windows(2).find(|w| w[0].0 == w[1].0).map(|w| w[0].0) {
            return Err(format!("old ID {twice} appears twice"));
        }
    }
    let mut news: Vec<i32> = pairs.iter().map(|p| p.1).collect();
    news.sort_unstable();
    if let Some(twice) = news.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]) {
        return Err(format!("new ID {twice} appears twice"));
    }
    Ok(pairs)
}

/// The map of one table: `(old, new)` ascending by old ID, each old and each new ID once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMap {
    /// The model's name (`OSSYS_BPM_PROCESS`).
    pub table: String,
    pairs: Vec<(i32, i32)>,
}

impl TableMap {
    /// The map of `table` from `pairs` in any order; refused, with the ID, when an old or a
    /// new ID appears twice (nothing is dropped to make it a map).
    pub fn new(table: &str, pairs: Vec<(i32, i32)>) -> Result<Self, String> {
        Ok(Self {
            table: table.to_owned(),
            pairs: checked_pairs(pairs)?,
        })
    }

    /// `(old, new)`, ascending by old ID.
    pub fn pairs(&self) -> &[(i32, i32)] {
        &self.pairs
    }

    /// `load/maps/<TABLE>.parquet`, relative to the load's stage directory.
    pub fn file(&self) -> String {
        map_file(&self.table)
    }
}

/// `maps/<TABLE>.parquet`: where a stage keeps its map of `table`.
pub fn map_file(table: &str) -> String {
    format!("{MAPS_DIR}/{table}.parquet")
}

/// `load/manifest.json` of `wd`.
pub fn manifest_path(wd: &WorkDir) -> PathBuf {
    Manifest::path(&wd.stage_dir(LOAD))
}

/// The maps of the rows `plan` writes: for every map `transform/manifest.json` lists (each
/// checked against it), its pairs whose new ID is a row of the plan's chunks. A table the plan
/// has no row of gets an empty map, so the load lists a map of every table the transform did.
pub fn planned(wd: &WorkDir, plan: &LoadPlan) -> Result<Vec<TableMap>> {
    let dir = wd.stage_dir(TRANSFORM);
    let Some(manifest) = Manifest::read(&dir)?.filter(|m| m.complete) else {
        return Err(Error::NotTransformed {
            workdir: wd.root().to_owned(),
        });
    };
    let mut out = Vec::new();
    for entry in &manifest.parts {
        let Some(table) = entry
            .file
            .strip_prefix(&format!("{MAPS_DIR}/"))
            .and_then(|f| f.strip_suffix(".parquet"))
        else {
            continue;
        };
        let path = dir.join(&entry.file);
        let reader = PartReader::open_listed(&dir, entry)?;
        let ranges = plan
            .tables
            .iter()
            .position(|t| t.name == table)
            .map(|ti| plan.table_ranges(ti))
            .unwrap_or_default();
        let written = read_pairs(&path, reader)?
            .into_iter()
            .filter(|&(_, new)| in_ranges(&ranges, new))
            .collect();
        let map = TableMap::new(table, written).map_err(|what| Error::Corrupt {
            path: path.clone(),
            what: format!("one pair per ID ({what})"),
        })?;
        out.push(map);
    }
    Ok(out)
}

/// Whether `id` lies in one of `ranges` (inclusive, ascending, disjoint).
fn in_ranges(ranges: &[(i32, i32)], id: i32) -> bool {
    let i = ranges.partition_point(|r| r.1 < id);
    ranges.get(i).is_some_and(|r| r.0 <= id)
}

/// The `(OLD_ID, NEW_ID)` pairs of a map file at `path`, opened as `reader`, in file order.
pub(crate) fn read_pairs(path: &Path, reader: PartReader) -> Result<Vec<(i32, i32)>> {
    let mut pairs = Vec::new();
    for b in reader.columns(&[OLD_ID, NEW_ID])?.read_all()? {
        let col = |n: &str| {
            b.column_by_name(n)
                .and_then(|a| a.as_primitive_opt::<Int32Type>())
                .ok_or_else(|| Error::Corrupt {
                    path: path.to_owned(),
                    what: format!("`{n}` as 32-bit integers"),
                })
        };
        let (old, new) = (col(OLD_ID)?, col(NEW_ID)?);
        pairs.extend(
            old.iter()
                .zip(new.iter())
                .filter_map(|(o, n)| Some((o?, n?))),
        );
    }
    Ok(pairs)
}

/// Writes `maps` into `load/maps/` (each file atomically), removes any other file there, then
/// writes `load/manifest.json` listing them; returns their entries.
pub fn write(
    wd: &WorkDir,
    run_id: &str,
    maps: &[TableMap],
    row_group_rows: usize,
) -> Result<Vec<PartEntry>> {
    let dir = wd.stage_dir(LOAD);
    let entries = maps
        .iter()
        .map(|map| write_one(&dir, run_id, map, row_group_rows))
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = maps
        .iter()
        .map(|m| format!("{}.parquet", m.table))
        .collect();
    let keep: Vec<&str> = names.iter().map(String::as_str).collect();
    bptmig_workdir::remove_unlisted(&dir.join(MAPS_DIR), &keep)?;
    Manifest {
        table: LOAD.to_owned(),
        run_id: run_id.to_owned(),
        key: None,
        columns: Vec::new(),
        complete: true,
        parts: entries.clone(),
    }
    .write(&dir)?;
    Ok(entries)
}

/// Removes the load's maps and `load/manifest.json` (the rows they list are gone, e.g. after
/// a rollback); nothing to remove is fine. The manifest goes first, so that an interrupted
/// removal leaves no listed map missing.
pub fn remove(wd: &WorkDir) -> Result<()> {
    let dir = wd.stage_dir(LOAD);
    let remove_file = |path: &Path| match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(bptmig_workdir::Error::io(path, "remove", e))
        }
        _ => Ok(()),
    };
    remove_file(&Manifest::path(&dir))?;
    bptmig_workdir::remove_unlisted(&dir.join(MAPS_DIR), &[])?;
    Ok(())
}

/// One map file, named relative to the stage directory in its entry.
fn write_one(dir: &Path, run_id: &str, map: &TableMap, row_group_rows: usize) -> Result<PartEntry> {
    let schema = Arc::new(Schema::new(vec![
        Field::new(OLD_ID, DataType::Int32, false),
        Field::new(NEW_ID, DataType::Int32, false),
    ]));
    let column = |f: fn(&(i32, i32)) -> i32| -> ArrayRef {
        Arc::new(Int32Array::from_iter_values(map.pairs.iter().map(f)))
    };
    let batch = RecordBatch::try_new(schema.clone(), vec![column(|p| p.0), column(|p| p.1)])
        .map_err(|e| Error::arrow(&map.table, e))?;
    let meta = PartMeta {
        run_id: run_id.to_owned(),
        table: map.table.clone(),
        column_roles: "{}".into(),
    };
    let file = map.file();
    let path = dir.join(&file);
    // As the transform writes its maps.
    let props = parts::id_map_properties(&meta, row_group_rows);
    let entry = parts::write_file(&path, schema, &[batch], props)?;
    Ok(PartEntry { file, ..entry })
}

#[cfg(test)]
pub(crate) mod tests;
