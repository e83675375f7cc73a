//! The transform stage: phase 1 reads only key columns, decides which trees move and assigns
//! every moved row its target ID; phase 2 rewrites every part of every table in parallel.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBufferBuilder, Int32Array, RecordBatch,
    StringArray, StringBuilder,
};
use arrow::buffer::NullBuffer;
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use bptmig_model::catalog::{self as c, ColumnRole, FkKind, Table};
use bptmig_model::pipeline::{IdStrategy, PipelineConfig, UnmappedDefinition as DefPolicy};
use bptmig_model::{Reporter, SsType};
use bptmig_workdir::layout::{DEFERRED_FILE, EXTRACT, LEVEL_COLUMN};
use bptmig_workdir::part::{self as parts, PartMeta, PartWriter};
use bptmig_workdir::sql_type::{ColumnPlan, SqlType, SQL_TYPE_METADATA_KEY};
use bptmig_workdir::{Manifest, PartEntry, RunState, StageState, WorkDir};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;

use crate::maps::{self, DefinitionMaps, Snapshot};
use crate::principals::{self, MappingFile, Side};
use crate::report::{Report, SkippedTree, TableCounts, UnmappedValue};
use crate::{Error, Result};

/// Name of this stage in the work directory and in `run.json`.
pub const STAGE: &str = bptmig_workdir::layout::TRANSFORM;

/// What a transform did.
#[derive(Debug, Clone)]
pub struct TransformSummary {
    pub already_done: bool,
    pub report: Report,
}

/// Knobs that are not part of the pipeline.
#[derive(Debug, Clone, Default)]
pub struct TransformOptions {
    /// Set to stop before the next part ([`Error::Interrupted`]). Tables already rewritten
    /// are kept; the next run redoes only the table that was cut short.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Pause after each rewritten part. Only for tests that interrupt a running transform.
    pub part_delay: Option<std::time::Duration>,
}

impl TransformOptions {
    fn check_cancel(&self, run_id: &str) -> Result<()> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
        {
            return Err(Error::Interrupted {
                run_id: run_id.to_owned(),
            });
        }
        Ok(())
    }
}

/// Runs the transform stage for `config`.
pub fn transform(config: &PipelineConfig, reporter: &dyn Reporter) -> Result<TransformSummary> {
    transform_with(config, reporter, &TransformOptions::default())
}

/// Runs the transform stage for `config`, stopping early when `options.cancel` is set.
pub fn transform_with(
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &TransformOptions,
) -> Result<TransformSummary> {
    let wd = WorkDir::new(&config.workdir);
    let _lock = wd.lock(STAGE)?;
    let mut run = bptmig_workdir::open_run(&wd, config)?;
    if run.stages.get(EXTRACT) != Some(&StageState::Done) {
        return Err(Error::MissingInput {
            path: wd.stage_dir(EXTRACT),
            hint: "run `bptmig extract` first: the extract is not complete",
        });
    }
    let report_path = wd.root().join("report.json");
    if run.stages.get(STAGE) == Some(&StageState::Done) {
        let report = Report::read(&report_path)?;
        return Ok(TransformSummary {
            already_done: true,
            report,
        });
    }
    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(&wd)?;

    let report = run_transform(&wd, &run, config, reporter, options)?;
    report.write(&report_path)?;
    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(&wd)?;
    Ok(TransformSummary {
        already_done: false,
        report,
    })
}

/// An extracted table: its name, model shape and parts.
struct Input {
    name: String,
    model: Table,
    dir: PathBuf,
    manifest: Manifest,
}

fn inputs(wd: &WorkDir) -> Result<Vec<Input>> {
    let dir = wd.stage_dir(EXTRACT);
    let names = bptmig_workdir::stage_tables(&dir)?;
    names
        .into_iter()
        .map(|name| {
            let tdir = dir.join(&name);
            let manifest = Manifest::read(&tdir)?.ok_or_else(|| Error::MissingInput {
                path: tdir.clone(),
                hint: "run `bptmig extract` again",
            })?;
            Ok(Input {
                model: maps::model_table(&name),
                name,
                dir: tdir,
                manifest,
            })
        })
        .collect()
}

/// Old → new IDs of one instance table. Dense arrays where keys are dense, sorted vectors
/// (binary search) otherwise.
#[derive(Debug, Clone, Default)]
pub struct IdMap {
    dense: Option<(i64, Vec<i32>)>,
    olds: Vec<i32>,
    news: Vec<i32>,
}

/// Marks an absent entry in a dense map.
const ABSENT: i32 = i32::MIN;

impl IdMap {
    fn new(olds: Vec<i32>, news: Vec<i32>) -> Self {
        let dense = match (olds.first(), olds.last()) {
            (Some(&lo), Some(&hi))
                if (i64::from(hi) - i64::from(lo)) < 4 * olds.len() as i64 + 1024 =>
            {
                let mut v = vec![ABSENT; (i64::from(hi) - i64::from(lo) + 1) as usize];
                for (o, n) in olds.iter().zip(&news) {
                    v[(i64::from(*o) - i64::from(lo)) as usize] = *n;
                }
                Some((i64::from(lo), v))
            }
            _ => None,
        };
        Self { dense, olds, news }
    }

    /// The new ID of `old`.
    #[inline]
    pub fn get(&self, old: i32) -> Option<i32> {
        match &self.dense {
            Some((lo, v)) => {
                let i = i64::from(old) - lo;
                if i < 0 {
                    return None;
                }
                v.get(i as usize).copied().filter(|n| *n != ABSENT)
            }
            None => self.olds.binary_search(&old).ok().map(|i| self.news[i]),
        }
    }

    pub fn len(&self) -> usize {
        self.olds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.olds.is_empty()
    }
}

/// A compact `i32 → i32` map for tens of millions of entries: keys sorted in one vector,
/// values in another (a hash map would take several times the memory). When the keys are
/// nearly dense (IDs with a few gaps), a position per possible key beside them makes a
/// lookup one index instead of a binary search over millions.
#[derive(Debug, Clone, Default)]
struct SortedMap {
    keys: Vec<i32>,
    values: Vec<i32>,
    /// First key, and the position in `keys` of every key from it (`u32::MAX` = absent).
    index: Option<(i64, Vec<u32>)>,
}

impl SortedMap {
    fn new(pairs: impl Iterator<Item = (i32, i32)>) -> Self {
        let mut v: Vec<(i32, i32)> = pairs.collect();
        if !v.windows(2).all(|w| w[0].0 < w[1].0) {
            v.sort_unstable_by_key(|p| p.0);
            v.dedup_by_key(|p| p.0);
        }
        let (keys, values): (Vec<i32>, Vec<i32>) = v.into_iter().unzip();
        let index = match (keys.first(), keys.last()) {
            (Some(&lo), Some(&hi))
                if i64::from(hi) - i64::from(lo) < 4 * keys.len() as i64 + 1024 =>
            {
                let lo = i64::from(lo);
                let mut index = vec![u32::MAX; (i64::from(hi) - lo + 1) as usize];
                for (k, key) in keys.iter().enumerate() {
                    index[(i64::from(*key) - lo) as usize] = k as u32;
                }
                Some((lo, index))
            }
            _ => None,
        };
        Self {
            keys,
            values,
            index,
        }
    }

    /// From 64-bit pairs; a pair outside the 32-bit range cannot occur in an `int` column
    /// and is left out.
    fn from_i64(pairs: impl Iterator<Item = (i64, i64)>) -> Self {
        Self::new(pairs.filter_map(|(k, v)| Some((i32::try_from(k).ok()?, i32::try_from(v).ok()?))))
    }

    #[inline]
    fn get(&self, key: i32) -> Option<i32> {
        if let Some((lo, index)) = &self.index {
            let k = usize::try_from(i64::from(key) - lo).ok()?;
            return match index.get(k) {
                Some(&p) if p != u32::MAX => Some(self.values[p as usize]),
                _ => None,
            };
        }
        self.keys.binary_search(&key).ok().map(|i| self.values[i])
    }
}

/// The source → target IDs of `map` that have a target.
fn principal_ids(map: &principals::IdMap) -> SortedMap {
    SortedMap::from_i64(map.iter().filter_map(|(s, t)| Some((s, t?))))
}

/// Tree levels by new ID.
#[derive(Debug, Default)]
struct Levels {
    processes: SortedMap,
    activities: SortedMap,
}

impl Levels {
    fn get(&self, process: bool, new_id: i32) -> Option<i32> {
        if process {
            self.processes.get(new_id)
        } else {
            self.activities.get(new_id)
        }
    }
}

/// Int32 columns of a table, whole (parts concatenated in part order = key order).
type Keys = Vec<Int32Array>;

/// Reads the Int32 `columns` of every part of each table in `wanted` (a table that was
/// not extracted gets empty columns), all parts of all tables in one parallel pass.
fn key_columns(inputs: &[Input], wanted: &[(&str, &[&str])]) -> Result<Vec<Keys>> {
    let jobs: Vec<(usize, &Input, &PartEntry)> = wanted
        .iter()
        .enumerate()
        .filter_map(|(t, (name, _))| Some((t, inputs.iter().find(|i| i.name == *name)?)))
        .flat_map(|(t, input)| {
            input
                .manifest
                .parts
                .iter()
                .map(move |part| (t, input, part))
        })
        .collect();
    let per_part: Vec<Result<Keys>> = jobs
        .par_iter()
        .map(|(t, input, part)| part_key_columns(input, &input.dir.join(&part.file), wanted[*t].1))
        .collect();
    let mut parts: Vec<Vec<Keys>> = vec![Vec::new(); wanted.len()];
    for ((t, _, _), keys) in jobs.iter().zip(per_part) {
        parts[*t].push(keys?);
    }
    parts
        .into_iter()
        .zip(wanted)
        .map(|(parts, (_, columns))| {
            (0..columns.len())
                .map(|k| {
                    let arrays: Vec<&dyn Array> =
                        parts.iter().map(|p| &p[k] as &dyn Array).collect();
                    if arrays.is_empty() {
                        return Ok(Int32Array::from(Vec::<i32>::new()));
                    }
                    let all = arrow::compute::concat(&arrays).map_err(|e| Error::Arrow {
                        what: columns[k].to_owned(),
                        source: e,
                    })?;
                    Ok(all.as_primitive::<Int32Type>().clone())
                })
                .collect()
        })
        .collect()
}

fn part_key_columns(input: &Input, path: &Path, columns: &[&str]) -> Result<Keys> {
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.to_owned(),
        action: "open",
        source: e,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::Parquet {
        path: path.to_owned(),
        source: e,
    })?;
    let indices: Vec<Option<usize>> = columns
        .iter()
        .map(|col| builder.schema().index_of(col).ok())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().flatten().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| Error::Parquet {
            path: path.to_owned(),
            source: e,
        })?;
    let mut out: Vec<Vec<ArrayRef>> = vec![Vec::new(); columns.len()];
    for batch in reader {
        let batch = batch.map_err(|e| Error::Arrow {
            what: path.display().to_string(),
            source: e,
        })?;
        for (k, col) in columns.iter().enumerate() {
            match batch.column_by_name(col) {
                Some(a) if a.data_type() == &DataType::Int32 => out[k].push(a.clone()),
                Some(a) => {
                    return Err(Error::ColumnType {
                        table: input.name.clone(),
                        column: (*col).to_owned(),
                        found: a.data_type().to_string(),
                    })
                }
                None => out[k].push(arrow::array::new_null_array(
                    &DataType::Int32,
                    batch.num_rows(),
                )),
            }
        }
    }
    out.into_iter()
        .zip(columns)
        .map(|(arrays, col)| {
            let arrays: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
            if arrays.is_empty() {
                return Ok(Int32Array::from(Vec::<i32>::new()));
            }
            let all = arrow::compute::concat(&arrays).map_err(|e| Error::Arrow {
                what: format!("{}: {col}", path.display()),
                source: e,
            })?;
            Ok(all.as_primitive::<Int32Type>().clone())
        })
        .collect()
}

/// Everything phase 1 decides.
struct Plan {
    ids: BTreeMap<String, IdMap>,
    /// Tree level by new ID.
    levels: Levels,
    /// Source → target ID per definition table, and of eSpaces.
    defs: BTreeMap<&'static str, SortedMap>,
    espaces: SortedMap,
    /// Source → target ID of the users, groups and tenants that map to one (not to NULL).
    users: SortedMap,
    groups: SortedMap,
    tenants: SortedMap,
    entity_tables: HashMap<(String, String), String>,
    entity_maps: BTreeMap<String, HashMap<i64, i64>>,
    clear_locks: bool,
}

fn run_transform(
    wd: &WorkDir,
    run: &RunState,
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &TransformOptions,
) -> Result<Report> {
    let started = std::time::Instant::now();
    let source = Snapshot::new(wd.snapshot_dir("source"));
    let target = Snapshot::new(wd.snapshot_dir("target"));
    let mut report = Report::new(&run.run_id);
    let inputs = inputs(wd)?;

    // ---- maps from the snapshots
    let defs = DefinitionMaps::build(&source, &target)?;
    report.duplicate_definitions.clone_from(&defs.duplicates);
    report
        .warnings
        .extend(maps::static_differences(&source, &target)?);
    let espaces = maps::espace_map(&source, &target)?;
    let entity_tables = maps::entity_tables(&source)?;
    let entity_maps = crate::entity::load_all(&config.mapping.entity_maps)?;

    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "transform phase 1: maps from snapshots done"
    );
    // ---- phase 1: trees, skipped roots, principals in use
    // Key columns of the instance tables, read once: the IDs also serve the ID assignment.
    // Children: (table, owner column, definition column, definition table, by activity).
    let children = [
        (
            c::PROCESS_INPUT,
            c::PROCESS_ID,
            c::INPUT_DEF_ID,
            c::PROCESS_INPUT_DEF,
            false,
        ),
        (
            c::PROCESS_OUTPUT,
            c::PROCESS_ID,
            c::OUTPUT_DEF_ID,
            c::PROCESS_OUTPUT_DEF,
            false,
        ),
        (
            c::ACTIVITY_OUTPUT,
            c::ACTIVITY_ID,
            c::OUTPUT_DEF_ID,
            c::ACTIVITY_OUTPUT_DEF,
            true,
        ),
    ];
    let child_columns: Vec<[&str; 3]> = children
        .iter()
        .map(|(_, owner, def, _, _)| [c::ID, *owner, *def])
        .collect();
    let mut wanted: Vec<(&str, &[&str])> = vec![
        (
            c::PROCESS,
            &[
                c::ID,
                c::PARENT_PROCESS_ID,
                c::TOP_PROCESS_ID,
                c::PROCESS_DEF_ID,
            ],
        ),
        (c::ACTIVITY, &[c::ID, c::PROCESS_ID, c::ACTIVITY_DEF_ID]),
    ];
    wanted.extend(
        children
            .iter()
            .zip(&child_columns)
            .map(|((table, ..), cols)| (*table, cols.as_slice())),
    );
    let mut keys = key_columns(&inputs, &wanted)?.into_iter();
    let (Some(p), Some(a)) = (keys.next(), keys.next()) else {
        unreachable!("one entry per wanted table")
    };
    let child_keys: Vec<Keys> = keys.collect();
    let root_of_process = SortedMap::new(p[0].iter().zip(&p[1]).zip(&p[2]).filter_map(
        |((id, parent), top)| {
            let id = id?;
            Some((id, top.or(if parent.is_none() { Some(id) } else { None })?))
        },
    ));
    // Activities are many: their processes sit in a vector beside the sorted IDs, not in
    // a map; their roots are their processes' (tree levels need the processes too).
    let process_of_activity = SortedMap::new(
        a[0].iter()
            .zip(&a[1])
            .filter_map(|(id, pid)| Some((id?, pid?))),
    );
    let root_of_activity = |id: i32| root_of_process.get(process_of_activity.get(id)?);

    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "transform phase 1: process and activity key columns done"
    );
    // Unmapped definitions: the trees they occur in.
    // Source definition IDs that have a target, per table: one bit test per row.
    let mapped_defs: BTreeMap<&str, IdSet> = c::DEFINITION_TABLES
        .iter()
        .map(|t| {
            let mut set = IdSet::default();
            set.extend(
                defs.maps
                    .get(t.name)
                    .into_iter()
                    .flat_map(|m| m.keys().copied()),
            );
            (t.name, set)
        })
        .collect();
    // The table's set is looked up once per column, not by name per row.
    let is_mapped = |set: Option<&IdSet>, def: Option<i32>| {
        def.is_none_or(|d| set.is_some_and(|m| m.contains(i64::from(d))))
    };
    let mut skip: BTreeMap<i32, String> = BTreeMap::new();
    let mut unmapped_defs: BTreeMap<(String, i64), crate::maps::UnmappedDefinition> =
        BTreeMap::new();
    let mut check_def = |def_table: &str, def: Option<i32>, root: Option<i32>| {
        let Some(def) = def else { return };
        if defs.get(def_table, i64::from(def)).is_some() {
            return;
        }
        let name = defs
            .unmapped
            .get(def_table)
            .and_then(|m| m.get(&i64::from(def)));
        if let Some(u) = name {
            unmapped_defs
                .entry((def_table.to_owned(), i64::from(def)))
                .or_insert_with(|| u.clone());
        }
        if let Some(root) = root {
            let what = name.map_or_else(String::new, |u| format!(" `{}`", u.name));
            skip.entry(root).or_insert_with(|| {
                format!("`{def_table}`{what} (#{def}) has no match by SS_KEY in the target")
            });
        }
    };
    let mapped = mapped_defs.get(c::PROCESS_DEFINITION);
    for (id, def) in p[0]
        .iter()
        .zip(&p[3])
        .filter(|(_, d)| !is_mapped(mapped, *d))
    {
        check_def(
            c::PROCESS_DEFINITION,
            def,
            id.and_then(|i| root_of_process.get(i)),
        );
    }
    let mapped = mapped_defs.get(c::ACTIVITY_DEFINITION);
    for (pid, def) in a[1]
        .iter()
        .zip(&a[2])
        .filter(|(_, d)| !is_mapped(mapped, *d))
    {
        check_def(
            c::ACTIVITY_DEFINITION,
            def,
            pid.and_then(|i| root_of_process.get(i)),
        );
    }
    for ((_, _, _, def_table, by_activity), k) in children.iter().zip(&child_keys) {
        let mapped = mapped_defs.get(def_table);
        for (owner, def) in k[1]
            .iter()
            .zip(&k[2])
            .filter(|(_, d)| !is_mapped(mapped, *d))
        {
            let root = owner.and_then(|o| {
                if *by_activity {
                    root_of_activity(o)
                } else {
                    root_of_process.get(o)
                }
            });
            check_def(def_table, def, root);
        }
    }
    if !unmapped_defs.is_empty() && config.mapping.unmapped_definition == DefPolicy::Fail {
        return Err(Error::UnmappedDefinitions {
            items: unmapped_defs.into_values().collect(),
        });
    }
    report.unmapped_definitions = unmapped_defs.into_values().collect();
    report.skipped_trees = skip
        .iter()
        .map(|(root, reason)| SkippedTree {
            root_id: i64::from(*root),
            reason: reason.clone(),
        })
        .collect();

    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "transform phase 1: definition checks done"
    );
    // ---- new IDs, per instance table, in old-ID order (so new IDs keep that order).
    let stats = target.instance_stats()?;
    let mut ids = BTreeMap::new();
    let mut skipped = IdSet::default();
    skipped.extend(skip.keys().map(|r| i64::from(*r)));
    let kept = |root: Option<i32>| root.is_some_and(|r| !skipped.contains(i64::from(r)));
    // Rows in source-ID order whose tree moves; sorted maps hold (ID, owner) in order.
    let moving = |m: &SortedMap, root: &(dyn Fn(i32) -> Option<i32> + Sync)| -> Vec<i32> {
        m.keys
            .iter()
            .zip(&m.values)
            .filter(|(_, owner)| kept(root(**owner)))
            .map(|(id, _)| *id)
            .collect()
    };
    // Table by table in parallel (activities are the bulk of it).
    let assigned: Vec<Result<Option<(String, IdMap)>>> = inputs
        .par_iter()
        .filter(|i| i.model.key.is_some())
        .map(|input| {
            let olds: Vec<i32> = match input.name.as_str() {
                n if n == c::PROCESS => moving(&root_of_process, &Some),
                n if n == c::ACTIVITY => moving(&process_of_activity, &|p| root_of_process.get(p)),
                n => {
                    let by_activity = n == c::ACTIVITY_OUTPUT;
                    let Some(k) = children
                        .iter()
                        .position(|(table, ..)| *table == n)
                        .map(|t| &child_keys[t])
                    else {
                        return Ok(None);
                    };
                    k[0].iter()
                        .zip(&k[1])
                        .filter(|(_, o)| {
                            kept(o.and_then(|o| {
                                if by_activity {
                                    root_of_activity(o)
                                } else {
                                    root_of_process.get(o)
                                }
                            }))
                        })
                        .filter_map(|(id, _)| id)
                        .collect()
                }
            };
            let base = stats.get(&input.name).and_then(|s| s.1).unwrap_or(0);
            let news = assign(&input.name, &olds, base, config.ids)?;
            Ok(Some((input.name.clone(), IdMap::new(olds, news))))
        })
        .collect();
    for table in assigned {
        if let Some((name, map)) = table? {
            ids.insert(name, map);
        }
    }

    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "transform phase 1: new IDs done"
    );
    // Tree levels of kept processes and activities, by new ID (serial), while the
    // principals in use are collected (a parallel read of their columns).
    let (levels, used) = rayon::join(
        || {
            let level_of_old = tree_levels(&p[0], &p[1]);
            let empty = IdMap::default();
            let proc_ids = ids.get(c::PROCESS).unwrap_or(&empty);
            let processes = SortedMap::new(
                proc_ids
                    .olds
                    .iter()
                    .zip(&proc_ids.news)
                    .map(|(o, n)| (*n, level_of_old.get(*o).unwrap_or(0))),
            );
            drop(level_of_old);
            let act_ids = ids.get(c::ACTIVITY).unwrap_or(&empty);
            let activities =
                SortedMap::new(act_ids.olds.iter().zip(&act_ids.news).map(|(o, n)| {
                    let level = process_of_activity
                        .get(*o)
                        .and_then(|p| proc_ids.get(p))
                        .and_then(|p| processes.get(p))
                        .unwrap_or(0);
                    (*n, level)
                }));
            Levels {
                processes,
                activities,
            }
        },
        || principals_in_use(&inputs, &ids),
    );
    let used = used?;
    // Phase 1's columns are no longer needed; free them before the heavier phase 2.
    drop((p, a, child_keys, process_of_activity, root_of_process));
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "transform phase 1: tree levels and principals in use done"
    );
    // ---- principals in use, resolved through the mapping file, names, then policy.
    let resolution = resolve_used(config, &source, &target, &used)?;
    report.principals = resolution.how;
    report.unmapped_principals.clone_from(&resolution.unmapped);

    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "transform phase 1: principals done"
    );
    let plan = Plan {
        ids,
        levels,
        defs: defs
            .maps
            .iter()
            .map(|(table, m)| (*table, SortedMap::from_i64(m.iter().map(|(s, t)| (*s, *t)))))
            .collect(),
        espaces: SortedMap::from_i64(espaces.iter().map(|(s, t)| (*s, *t))),
        users: principal_ids(&resolution.maps.users),
        groups: principal_ids(&resolution.maps.groups),
        tenants: principal_ids(&resolution.maps.tenants),
        entity_tables,
        entity_maps,
        clear_locks: config.transform.clear_scheduler_locks,
    };

    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "transform phase 1 (maps, trees, IDs) done"
    );

    options.check_cancel(&run.run_id)?;

    // ---- phase 2: every part of every table in parallel, each into its own file. A table
    // finished under the same plan (an interrupted earlier run) is not redone.
    let hash = plan_hash(wd, run, config, &inputs)?;
    let mut deferred: Vec<Deferred> = Vec::new();
    let mut jobs: Vec<TableJob> = Vec::new();
    for input in &inputs {
        options.check_cancel(&run.run_id)?;
        let job = TableJob::new(wd, input);
        if let Some(done) = read_done(&job.done_path)? {
            if done.plan_hash == hash && Manifest::read(&job.out_dir)?.is_some_and(|m| m.complete) {
                reporter.note(&format!("{}: already transformed, kept", input.name));
                deferred.extend(read_deferred(&job.deferred_path)?);
                report.tables.insert(input.name.clone(), done.counts);
                continue;
            }
        }
        job.prepare()?;
        jobs.push(job);
    }
    // The ID maps go to disk beside the rewrite, not before it.
    let (maps, rewritten) = rayon::join(
        || {
            plan.ids.par_iter().try_for_each(|(table, map)| {
                write_map(wd, run, table, map, config.extract.row_group_rows)
            })
        },
        || {
            Phase2 {
                wd,
                run,
                config,
                reporter,
                options,
                plan: &plan,
                plan_hash: &hash,
                started,
            }
            .rewrite(&jobs)
        },
    );
    rewritten?;
    maps?;
    for job in jobs {
        let Some((counts, table_deferred)) = lock(&job.finished).take() else {
            return Err(Error::MissingInput {
                path: job.out_dir.clone(),
                hint: "internal: a table was left unfinished",
            });
        };
        report.tables.insert(job.input.name.clone(), counts);
        deferred.extend(table_deferred);
    }
    deferred.sort();
    write_deferred(
        &wd.stage_dir(STAGE).join(DEFERRED_FILE),
        run,
        &deferred,
        config.extract.row_group_rows,
    )?;
    report.deferred = deferred.len() as u64;
    report.finish();
    Ok(report)
}

/// Hops beyond which a chain of parents is taken for a cycle (broken data; verify reports it).
const MAX_DEPTH: i32 = 10_000;

/// The tree level of every process, by its source ID: the hops up `PARENT_PROCESS_ID`
/// until a process without a parent, where a parent missing from the extract counts as one
/// hop. Each level is computed once, from its parent's, so this is linear in the processes
/// whatever the order of IDs; a chain longer than [`MAX_DEPTH`] (a cycle) gets
/// `MAX_DEPTH + 1`.
fn tree_levels(ids: &Int32Array, parents: &Int32Array) -> SortedMap {
    const UNKNOWN: i32 = -1;
    let position = SortedMap::new(
        ids.iter()
            .enumerate()
            .filter_map(|(k, id)| Some((id?, k as i32))),
    );
    let mut levels = vec![UNKNOWN; ids.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..ids.len() {
        if levels[start] != UNKNOWN {
            continue;
        }
        // Walk up until a process whose level is known, or a top (no parent, or a parent
        // outside the extract); then assign levels back down the path.
        path.clear();
        let mut cur = start;
        let mut base = loop {
            path.push(cur);
            if parents.is_null(cur) {
                break 0;
            }
            let parent = parents.value(cur);
            let Some(up) = position.get(parent).map(|k| k as usize) else {
                break 1;
            };
            if levels[up] != UNKNOWN {
                break levels[up] + 1;
            }
            if path.len() > MAX_DEPTH as usize {
                break MAX_DEPTH + 1;
            }
            cur = up;
        };
        let cycle = base > MAX_DEPTH;
        for &k in path.iter().rev() {
            levels[k] = base.min(MAX_DEPTH + 1);
            if !cycle {
                base += 1;
            }
        }
    }
    let SortedMap {
        keys,
        values,
        index,
    } = position;
    SortedMap {
        values: values.iter().map(|k| levels[*k as usize]).collect(),
        keys,
        index,
    }
}

/// New IDs for `olds` (ascending): a dense block above `base` (renumber) or the same IDs
/// (keep), refusing what would overflow a 32-bit ID or collide with the target.
fn assign(table: &str, olds: &[i32], base: i64, strategy: IdStrategy) -> Result<Vec<i32>> {
    match strategy {
        IdStrategy::Renumber => {
            let last = base + olds.len() as i64;
            if last > i64::from(i32::MAX) {
                return Err(Error::IdOverflow {
                    table: table.to_owned(),
                    base,
                    rows: olds.len() as u64,
                });
            }
            Ok((1..=olds.len() as i64).map(|r| (base + r) as i32).collect())
        }
        IdStrategy::Keep => {
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
    }
}

/// A set of IDs as a bitmap: principals are few and their IDs small, and marking one per
/// row must cost next to nothing.
#[derive(Default, Clone)]
pub(crate) struct IdSet {
    bits: Vec<u64>,
}

impl IdSet {
    #[inline]
    pub(crate) fn insert(&mut self, id: i64) {
        // Principal IDs are identity values (positive); anything else cannot match anyway.
        let Ok(id) = usize::try_from(id) else { return };
        let (word, bit) = (id / 64, id % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << bit;
    }

    fn contains(&self, id: i64) -> bool {
        usize::try_from(id).is_ok_and(|id| {
            self.bits
                .get(id / 64)
                .is_some_and(|w| w & (1 << (id % 64)) != 0)
        })
    }

    fn union(&mut self, other: &IdSet) {
        if other.bits.len() > self.bits.len() {
            self.bits.resize(other.bits.len(), 0);
        }
        for (mine, theirs) in self.bits.iter_mut().zip(&other.bits) {
            *mine |= theirs;
        }
    }

    fn extend(&mut self, ids: impl IntoIterator<Item = i64>) {
        for id in ids {
            self.insert(id);
        }
    }
}

/// Source IDs of the users, groups and tenants that moved rows reference.
#[derive(Default)]
pub(crate) struct Used {
    pub(crate) users: IdSet,
    pub(crate) groups: IdSet,
    pub(crate) tenants: IdSet,
}

fn principals_in_use(inputs: &[Input], ids: &BTreeMap<String, IdMap>) -> Result<Used> {
    // Per table: the key column, the principal columns and the map of moving keys.
    type Table<'a> = (&'a Input, Vec<&'a str>, Vec<FkKind>, Option<&'a IdMap>);
    let tables: Vec<Table> = inputs
        .iter()
        .filter_map(|input| {
            let (names, kinds): (Vec<&str>, Vec<FkKind>) = input
                .model
                .foreign_keys()
                .filter(|(_, k, _)| matches!(k, FkKind::User | FkKind::Group | FkKind::Tenant))
                .map(|(col, k, _)| (col.name, k))
                .unzip();
            if names.is_empty() {
                return None;
            }
            let (key, owners) = if input.model.key.is_some() {
                (c::ID, ids.get(&input.name))
            } else {
                (c::EVT_ACTIVITY_ID, ids.get(c::ACTIVITY))
            };
            let mut columns = vec![key];
            columns.extend(names);
            Some((input, columns, kinds, owners))
        })
        .collect();
    // Every part of every table in parallel, straight into bitsets: no column outlives its
    // part.
    let per_part: Vec<Result<Used>> = tables
        .iter()
        .flat_map(|t| t.0.manifest.parts.iter().map(move |part| (t, part)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|((input, columns, kinds, owners), part)| {
            let k = part_key_columns(input, &input.dir.join(&part.file), columns)?;
            let mut mine = Used::default();
            for (row, owner) in k[0].iter().enumerate() {
                if !owner.is_some_and(|id| owners.is_some_and(|m| m.get(id).is_some())) {
                    continue;
                }
                for (values, kind) in k[1..].iter().zip(kinds) {
                    if values.is_valid(row) {
                        let set = match kind {
                            FkKind::User => &mut mine.users,
                            FkKind::Group => &mut mine.groups,
                            _ => &mut mine.tenants,
                        };
                        set.insert(i64::from(values.value(row)));
                    }
                }
            }
            Ok(mine)
        })
        .collect();
    let mut used = Used::default();
    for part in per_part {
        let part = part?;
        used.users.union(&part.users);
        used.groups.union(&part.groups);
        used.tenants.union(&part.tenants);
    }
    Ok(used)
}

/// Resolves the principals that `used` names through the mapping file, names, then the
/// policies; shared by the transform and `bptmig check`.
pub(crate) fn resolve_used(
    config: &PipelineConfig,
    source: &Snapshot,
    target: &Snapshot,
    used: &Used,
) -> Result<principals::Resolution> {
    let file = config
        .mapping
        .file
        .as_deref()
        .map(MappingFile::load)
        .transpose()?;
    let src_side = restrict(&source.side()?, used, file.as_ref());
    Ok(principals::resolve(
        &src_side,
        &target.side()?,
        file.as_ref(),
        &config.mapping.unmapped_user,
        &config.mapping.unmapped_group,
    )?)
}

/// The source side limited to what moved rows use, what the mapping file names (so its
/// lines are checked against the whole source) and the tenants of those users and groups.
fn restrict(side: &Side, used: &Used, file: Option<&MappingFile>) -> Side {
    let named = |kind: principals::Kind, id: i64, name: &str| {
        file.is_some_and(|f| {
            f.entries.iter().any(|e| {
                e.kind == kind
                    && match &e.source {
                        principals::Ref::Id(i) => *i == id,
                        principals::Ref::Name { name: n, .. } => n == name,
                    }
            })
        })
    };
    let users: Vec<_> = side
        .users
        .iter()
        .filter(|u| used.users.contains(u.id) || named(principals::Kind::User, u.id, &u.username))
        .cloned()
        .collect();
    let groups: Vec<_> = side
        .groups
        .iter()
        .filter(|g| used.groups.contains(g.id) || named(principals::Kind::Group, g.id, &g.name))
        .cloned()
        .collect();
    let mut tenants = used.tenants.clone();
    tenants.extend(
        side.tenants
            .iter()
            .filter(|t| named(principals::Kind::Tenant, t.id, &t.name))
            .map(|t| t.id),
    );
    tenants.extend(users.iter().filter_map(|u| u.tenant_id));
    tenants.extend(groups.iter().filter_map(|g| g.tenant_id));
    Side {
        tenants: side
            .tenants
            .iter()
            .filter(|t| tenants.contains(t.id))
            .cloned()
            .collect(),
        users,
        groups,
    }
}

fn write_map(
    wd: &WorkDir,
    run: &RunState,
    table: &str,
    map: &IdMap,
    row_group_rows: usize,
) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("OLD_ID", DataType::Int32, false),
        Field::new("NEW_ID", DataType::Int32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(map.olds.clone())) as ArrayRef,
            Arc::new(Int32Array::from(map.news.clone())),
        ],
    )
    .map_err(|e| Error::Arrow {
        what: table.to_owned(),
        source: e,
    })?;
    let meta = PartMeta {
        run_id: run.run_id.clone(),
        table: table.to_owned(),
        column_roles: "{}".into(),
    };
    parts::write_file(
        &wd.stage_dir(STAGE)
            .join("maps")
            .join(format!("{table}.parquet")),
        schema,
        &[batch],
        // Both columns mostly climb by one: delta encoding stores them in a few bits a row
        // (plain + snappy took ten bytes a row, a quarter of all the bytes the stage wrote).
        parts::writer_properties(&meta, row_group_rows, &[])
            .into_builder()
            .set_dictionary_enabled(false)
            .set_encoding(parquet::basic::Encoding::DELTA_BINARY_PACKED)
            .build(),
    )?;
    Ok(())
}

/// A reference applied after its row's chunk: (table, new ID, column, value). Names are
/// shared, so that recording one costs no allocation.
type Deferred = (Arc<str>, i32, Arc<str>, i32);

fn write_deferred(
    path: &Path,
    run: &RunState,
    rows: &[Deferred],
    row_group_rows: usize,
) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("TABLE", DataType::Utf8, false),
        Field::new("ID", DataType::Int32, false),
        Field::new("COLUMN", DataType::Utf8, false),
        Field::new("VALUE", DataType::Int32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| &*r.0).collect::<Vec<_>>(),
            )) as ArrayRef,
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| &*r.2).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
        ],
    )
    .map_err(|e| Error::Arrow {
        what: DEFERRED_FILE.into(),
        source: e,
    })?;
    let meta = PartMeta {
        run_id: run.run_id.clone(),
        table: "deferred".into(),
        column_roles: "{}".into(),
    };
    parts::write_file(
        path,
        schema,
        &[batch],
        // Table and column names repeat (dictionary); IDs and values climb (delta).
        ["ID", "VALUE"]
            .into_iter()
            .fold(
                parts::writer_properties(&meta, row_group_rows, &[]).into_builder(),
                |b, col| {
                    b.set_column_dictionary_enabled(col.into(), false)
                        .set_column_encoding(
                            col.into(),
                            parquet::basic::Encoding::DELTA_BINARY_PACKED,
                        )
                },
            )
            .build(),
    )?;
    Ok(())
}

fn read_deferred(path: &Path) -> Result<Vec<Deferred>> {
    let batches = maps::read_parquet(path)?;
    let mut out = Vec::new();
    let mut names = Vec::new();
    for b in &batches {
        let t = b.column(0).as_string::<i32>();
        let id = b.column(1).as_primitive::<Int32Type>();
        let col = b.column(2).as_string::<i32>();
        let v = b.column(3).as_primitive::<Int32Type>();
        for i in 0..b.num_rows() {
            out.push((
                shared(&mut names, t.value(i)),
                id.value(i),
                shared(&mut names, col.value(i)),
                v.value(i),
            ));
        }
    }
    Ok(out)
}

/// The shared copy of `name` in `names` (a handful of table and column names).
fn shared(names: &mut Vec<Arc<str>>, name: &str) -> Arc<str> {
    if let Some(n) = names.iter().find(|n| &***n == name) {
        return n.clone();
    }
    let n: Arc<str> = Arc::from(name);
    names.push(n.clone());
    n
}

/// `transform/<TABLE>.done.json`: the plan a finished table was written under.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct TableDone {
    plan_hash: String,
    counts: TableCounts,
}

fn read_done(path: &Path) -> Result<Option<TableDone>> {
    match std::fs::read(path) {
        // An unreadable record only means the table is redone.
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Io {
            path: path.to_owned(),
            action: "read",
            source: e,
        }),
    }
}

fn write_done(path: &Path, done: &TableDone) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(done).map_err(|e| Error::Io {
        path: path.to_owned(),
        action: "encode",
        source: e.into(),
    })?;
    bptmig_workdir::write_atomic(path, &bytes)?;
    Ok(())
}

/// Everything phase 2's output depends on: the run, the mapping settings and files, and the
/// extract's manifests (which carry every input part's digest).
fn plan_hash(
    wd: &WorkDir,
    run: &RunState,
    config: &PipelineConfig,
    inputs: &[Input],
) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(run.run_id.as_bytes());
    h.update(
        format!(
            "{:?}|{:?}|{:?}",
            config.mapping, config.ids, config.transform
        )
        .as_bytes(),
    );
    let mut files: Vec<PathBuf> = config.mapping.file.iter().cloned().collect();
    files.extend(config.mapping.entity_maps.values().cloned());
    files.extend(inputs.iter().map(|i| Manifest::path(&i.dir)));
    files.push(Manifest::path(&wd.snapshot_dir("source")));
    files.push(Manifest::path(&wd.snapshot_dir("target")));
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| Error::Io {
            path: f.clone(),
            action: "read",
            source: e,
        })?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(bptmig_workdir::hex(&h.finalize()))
}

// ---- phase 2 ---------------------------------------------------------------------------------

struct PartResult {
    rows_in: u64,
    entry: Option<PartEntry>,
    counts: TableCounts,
    deferred: Vec<Deferred>,
}

fn plans_of(schema: &Schema) -> Vec<ColumnPlan> {
    schema
        .fields()
        .iter()
        .filter_map(|f| {
            let ty = f
                .metadata()
                .get(SQL_TYPE_METADATA_KEY)
                .and_then(|d| SqlType::from_ddl(d))?;
            Some(ColumnPlan {
                name: f.name().clone(),
                sql_type: ty,
                nullable: f.is_nullable(),
            })
        })
        .collect()
}

fn rewrite_part(
    wd: &WorkDir,
    run: &RunState,
    input: &Input,
    index: usize,
    plan: &Plan,
    row_group_rows: usize,
) -> Result<PartResult> {
    let part = &input.manifest.parts[index];
    let path = input.dir.join(&part.file);
    let file = std::fs::File::open(&path).map_err(|e| Error::Io {
        path: path.clone(),
        action: "open",
        source: e,
    })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| {
            b.with_batch_size(row_group_rows.clamp(1024, 65_536))
                .build()
        })
        .map_err(|e| Error::Parquet {
            path: path.clone(),
            source: e,
        })?;
    let mut counts = TableCounts::default();
    let mut deferred = Vec::new();
    let mut writer: Option<PartWriter> = None;
    let key_name = input.model.key;
    // One batch at a time: read, rewrite, write. Memory stays at a few batches per thread.
    for batch in reader {
        let batch = batch.map_err(|e| Error::Arrow {
            what: path.display().to_string(),
            source: e,
        })?;
        let out = rewrite_batch(input, &batch, plan, &mut counts, &mut deferred)?;
        if out.num_rows() == 0 {
            continue;
        }
        let w = match writer.as_mut() {
            Some(w) => w,
            None => {
                let mut plans = plans_of(&out.schema());
                plans.retain(|p| p.name != LEVEL_COLUMN);
                let meta = PartMeta::for_table(&run.run_id, &input.name, &input.model, &plans);
                let dir = wd.table_dir(STAGE, &input.name);
                let props = parts::part_properties(&meta, row_group_rows, &plans, &out);
                writer.insert(PartWriter::create(&dir, &part.file, out.schema(), props)?)
            }
        };
        let keys = key_name
            .and_then(|k| out.schema().index_of(k).ok())
            .and_then(|i| {
                let a = out.column(i).as_primitive::<Int32Type>();
                Some((
                    i64::from(a.values().first().copied()?),
                    i64::from(a.values().last().copied()?),
                ))
            });
        w.write(&out, keys)?;
    }
    let entry = writer.map(PartWriter::finish).transpose()?;
    Ok(PartResult {
        rows_in: part.rows,
        entry,
        counts,
        deferred,
    })
}

/// A table being rewritten by phase 2: where it goes, and its parts as they finish.
struct TableJob<'a> {
    input: &'a Input,
    out_dir: PathBuf,
    done_path: PathBuf,
    deferred_path: PathBuf,
    started: AtomicBool,
    remaining: AtomicUsize,
    parts: Mutex<Vec<Option<PartResult>>>,
    errors: Mutex<Vec<Error>>,
    finished: Mutex<Option<(TableCounts, Vec<Deferred>)>>,
}

impl<'a> TableJob<'a> {
    fn new(wd: &WorkDir, input: &'a Input) -> Self {
        let stage = wd.stage_dir(STAGE);
        let n = input.manifest.parts.len();
        Self {
            input,
            out_dir: wd.table_dir(STAGE, &input.name),
            done_path: stage.join(format!("{}.done.json", input.name)),
            deferred_path: stage.join(format!("{}.deferred.parquet", input.name)),
            started: AtomicBool::new(false),
            remaining: AtomicUsize::new(n),
            parts: Mutex::new((0..n).map(|_| None).collect()),
            errors: Mutex::new(Vec::new()),
            finished: Mutex::new(None),
        }
    }

    /// An empty output directory, with no manifest or done marker of an earlier attempt.
    fn prepare(&self) -> Result<()> {
        let _ = std::fs::remove_file(&self.done_path);
        std::fs::create_dir_all(&self.out_dir).map_err(|e| Error::Io {
            path: self.out_dir.clone(),
            action: "create",
            source: e,
        })?;
        bptmig_workdir::remove_unlisted(&self.out_dir, &[])?;
        let _ = std::fs::remove_file(Manifest::path(&self.out_dir));
        Ok(())
    }

    /// Writes the manifest (parts in part order), the table's deferred rows and, last, its
    /// done marker; returns the counts and deferred rows.
    fn finish(
        &self,
        run: &RunState,
        plan_hash: &str,
        row_group_rows: usize,
    ) -> Result<(TableCounts, Vec<Deferred>)> {
        let input = self.input;
        let mut manifest = Manifest {
            table: input.name.clone(),
            run_id: run.run_id.clone(),
            key: input.manifest.key.clone(),
            columns: input.manifest.columns.clone(),
            complete: true,
            parts: Vec::new(),
        };
        let mut counts = TableCounts::default();
        let mut table_deferred = Vec::new();
        for r in std::mem::take(&mut *lock(&self.parts)) {
            let Some(r) = r else {
                return Err(Error::MissingInput {
                    path: self.out_dir.clone(),
                    hint: "internal: a part of the table was not rewritten",
                });
            };
            counts.rows_in += r.rows_in;
            counts.rows_out += r.entry.as_ref().map_or(0, |e| e.rows);
            counts.merge(&r.counts);
            table_deferred.extend(r.deferred);
            if let Some(e) = r.entry {
                manifest.parts.push(e);
            }
        }
        table_deferred.sort();
        manifest.write(&self.out_dir)?;
        write_deferred(&self.deferred_path, run, &table_deferred, row_group_rows)?;
        // Written last: its presence means everything above is complete.
        write_done(
            &self.done_path,
            &TableDone {
                plan_hash: plan_hash.to_owned(),
                counts: counts.clone(),
            },
        )?;
        Ok((counts, table_deferred))
    }
}

/// What every worker of phase 2 shares.
struct Phase2<'a> {
    wd: &'a WorkDir,
    run: &'a RunState,
    config: &'a PipelineConfig,
    reporter: &'a dyn Reporter,
    options: &'a TransformOptions,
    plan: &'a Plan,
    plan_hash: &'a str,
    started: std::time::Instant,
}

impl Phase2<'_> {
    /// Rewrites every part of `jobs` and finishes each table as its last part is done.
    ///
    /// One queue over all parts, largest first, taken by one worker per thread: a worker
    /// never waits for a table's last part while parts of other tables are left, and the
    /// big parts do not come last. The first error stops the workers at their next part;
    /// tables finished by then are kept for the next run.
    fn rewrite(&self, jobs: &[TableJob]) -> Result<()> {
        let mut queue: Vec<(usize, usize)> = jobs
            .iter()
            .enumerate()
            .flat_map(|(table, job)| {
                (0..job.input.manifest.parts.len()).map(move |part| (table, part))
            })
            .collect();
        queue.sort_by_key(|&(table, part)| {
            std::cmp::Reverse(jobs[table].input.manifest.parts[part].bytes)
        });
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let work = || {
            while !failed.load(Ordering::Relaxed) {
                let Some(&(table, part)) = queue.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let job = &jobs[table];
                if let Err(e) = self.rewrite_one(job, part) {
                    failed.store(true, Ordering::Relaxed);
                    lock(&job.errors).push(e);
                }
            }
        };
        rayon::scope(|scope| {
            for _ in 1..rayon::current_num_threads() {
                scope.spawn(|_| work());
            }
            work();
        });
        // Errors in table order; an interrupt only when nothing else went wrong.
        let mut errors: Vec<Error> = jobs
            .iter()
            .flat_map(|j| std::mem::take(&mut *lock(&j.errors)))
            .collect();
        if let Some(k) = errors
            .iter()
            .position(|e| !matches!(e, Error::Interrupted { .. }))
        {
            return Err(errors.swap_remove(k));
        }
        if let Some(e) = errors.pop() {
            return Err(e);
        }
        for job in jobs.iter().filter(|j| j.input.manifest.parts.is_empty()) {
            self.reporter.table_started(STAGE, &job.input.name, Some(0));
            self.finish(job)?;
        }
        Ok(())
    }

    fn rewrite_one(&self, job: &TableJob, part: usize) -> Result<()> {
        let run_id = &self.run.run_id;
        self.options.check_cancel(run_id)?;
        if !job.started.swap(true, Ordering::Relaxed) {
            let rows = job.input.manifest.rows();
            self.reporter
                .table_started(STAGE, &job.input.name, Some(rows));
        }
        let rows = self.config.extract.row_group_rows;
        let result = rewrite_part(self.wd, self.run, job.input, part, self.plan, rows)?;
        if let Some(d) = self.options.part_delay {
            std::thread::sleep(d);
        }
        self.reporter.rows(&job.input.name, result.rows_in);
        lock(&job.parts)[part] = Some(result);
        // The table's last part: its manifest, deferred rows and done marker.
        if job.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.finish(job)?;
        }
        Ok(())
    }

    fn finish(&self, job: &TableJob) -> Result<()> {
        let rows = self.config.extract.row_group_rows;
        let (counts, deferred) = job.finish(self.run, self.plan_hash, rows)?;
        self.reporter
            .table_finished(&job.input.name, counts.rows_out);
        tracing::info!(
            table = %job.input.name,
            seconds = self.started.elapsed().as_secs_f64(),
            "transform phase 2 table done"
        );
        *lock(&job.finished) = Some((counts, deferred));
        Ok(())
    }
}

/// A lock that a panicked holder does not poison for the others (its data stays usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Maps an Int32 column through `f(row, value)`; `None` from `f` means NULL.
fn map_ints(col: &ArrayRef, mut f: impl FnMut(usize, i32) -> Option<i32>) -> ArrayRef {
    let a = col.as_primitive::<Int32Type>();
    let mut values: Vec<i32> = Vec::with_capacity(a.len());
    let mut valid = BooleanBufferBuilder::new(a.len());
    for (i, v) in a.values().iter().enumerate() {
        let new = if a.is_valid(i) { f(i, *v) } else { None };
        values.push(new.unwrap_or_default());
        valid.append(new.is_some());
    }
    let nulls = NullBuffer::new(valid.finish());
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    Arc::new(Int32Array::new(values.into(), nulls))
}

#[allow(clippy::too_many_lines, reason = "one match arm per column role")]
fn rewrite_batch(
    input: &Input,
    batch: &RecordBatch,
    plan: &Plan,
    counts: &mut TableCounts,
    deferred: &mut Vec<Deferred>,
) -> Result<RecordBatch> {
    // Rows of skipped trees (and of rows outside every moved tree) stay behind.
    let own = if input.model.key.is_some() {
        plan.ids.get(&input.name)
    } else {
        plan.ids.get(c::ACTIVITY)
    };
    let key_col = if input.model.key.is_some() {
        c::ID
    } else {
        c::EVT_ACTIVITY_ID
    };
    let keep: BooleanArray = match (batch.column_by_name(key_col), own) {
        (Some(k), Some(m)) if k.data_type() == &DataType::Int32 => {
            let k = k.as_primitive::<Int32Type>();
            (0..k.len())
                .map(|i| Some(k.is_valid(i) && m.get(k.value(i)).is_some()))
                .collect()
        }
        _ => (0..batch.num_rows()).map(|_| Some(false)).collect(),
    };
    // Usually every row moves: then there is nothing to copy.
    let batch = if keep.true_count() == keep.len() {
        batch.clone()
    } else {
        filter_record_batch(batch, &keep).map_err(|e| Error::Arrow {
            what: input.name.clone(),
            source: e,
        })?
    };
    let schema = batch.schema();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns() + 1);
    // Source IDs of the kept rows (sample rows for the report) and NULLed principals.
    let source_keys = batch
        .column_by_name(key_col)
        .filter(|k| k.data_type() == &DataType::Int32)
        .map(|k| k.as_primitive::<Int32Type>().clone());
    let source_keys = source_keys.as_ref();
    let mut nulled: BTreeMap<(&'static str, i32), (&'static str, u64, i64)> = BTreeMap::new();
    let ss_types = batch
        .column_by_name(c::SS_TYPE)
        .filter(|a| a.data_type() == &DataType::Utf8)
        .map(|a| a.as_string::<i32>().clone());
    for (field, col) in schema.fields().iter().zip(batch.columns()) {
        let role = input
            .model
            .column(field.name())
            .map_or(ColumnRole::Value, |mc| mc.role);
        let int = col.data_type() == &DataType::Int32;
        let new: ArrayRef = match role {
            ColumnRole::Key if int => {
                let Some(m) = own else {
                    return Err(Error::MissingInput {
                        path: input.dir.clone(),
                        hint: "internal: no ID map for the table",
                    });
                };
                map_ints(col, |_, v| m.get(v))
            }
            ColumnRole::Fk {
                kind: FkKind::Instance,
                table,
            } if int => match plan.ids.get(table) {
                Some(m) => {
                    let mut dangling = 0;
                    let a = map_ints(col, |_, v| {
                        let n = m.get(v);
                        dangling += u64::from(n.is_none());
                        n
                    });
                    counts.dangling_references += dangling;
                    a
                }
                None => col.clone(),
            },
            ColumnRole::Fk {
                kind: FkKind::Definition,
                table,
            } if int => {
                let mut missing = 0;
                let map = plan.defs.get(table);
                let a = map_ints(col, |_, v| {
                    let n = map.and_then(|m| m.get(v));
                    missing += u64::from(n.is_none());
                    n
                });
                counts.dangling_references += missing;
                a
            }
            ColumnRole::Fk {
                kind: kind @ (FkKind::User | FkKind::Group | FkKind::Tenant),
                ..
            } if int => {
                let map = match kind {
                    FkKind::User => &plan.users,
                    FkKind::Group => &plan.groups,
                    _ => &plan.tenants,
                };
                let column = input.model.column(field.name()).map_or("?", |mc| mc.name);
                map_ints(col, |i, v| {
                    let t = map.get(v);
                    if t.is_none() {
                        let sample = source_keys.map_or(0, |k| i64::from(k.value(i)));
                        let e = nulled
                            .entry((kind.as_str(), v))
                            .or_insert((column, 0, sample));
                        e.1 += 1;
                    }
                    t
                })
            }
            ColumnRole::Fk {
                kind: FkKind::Espace,
                ..
            } if int => {
                let mut missing = 0;
                let a = map_ints(col, |_, v| {
                    let n = plan.espaces.get(v);
                    missing += u64::from(n.is_none());
                    n
                });
                counts.dangling_references += missing;
                a
            }
            ColumnRole::EntityRefValue { .. } if col.data_type() == &DataType::Utf8 => {
                rewrite_entity_values(col, ss_types.as_ref(), plan, counts)
            }
            ColumnRole::SchedulerState if plan.clear_locks && field.is_nullable() => {
                arrow::array::new_null_array(col.data_type(), col.len())
            }
            ColumnRole::Key | ColumnRole::Fk { .. } if !int => {
                return Err(Error::ColumnType {
                    table: input.name.clone(),
                    column: field.name().clone(),
                    found: col.data_type().to_string(),
                })
            }
            _ => col.clone(),
        };
        columns.push(new);
    }
    for ((kind, id), (column, count, sample_row)) in nulled {
        counts.principals_nulled += count;
        let key = format!("{kind} #{id}");
        match counts.unmapped_values.get_mut(&key) {
            Some(v) => v.count += count,
            None => {
                counts.unmapped_values.insert(
                    key,
                    UnmappedValue {
                        column: column.to_owned(),
                        count,
                        sample_row,
                    },
                );
            }
        }
    }
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    let is_process = input.name == c::PROCESS;
    if is_process || input.name == c::ACTIVITY {
        let idx = schema.index_of(c::ID).map_err(|e| Error::Arrow {
            what: input.name.clone(),
            source: e,
        })?;
        let ids = columns[idx].as_primitive::<Int32Type>().clone();
        let levels: Int32Array = ids
            .iter()
            .map(|id| id.and_then(|id| plan.levels.get(is_process, id)))
            .collect();
        // Deferred: a top-level process referencing itself, and any precedent loaded later.
        // The names are shared by every deferred row of the batch.
        let table: Arc<str> = Arc::from(input.name.as_str());
        let column: Arc<str> = Arc::from(if is_process {
            c::TOP_PROCESS_ID
        } else {
            c::PRECEDENT_ACTIVITY_ID
        });
        if is_process {
            if let Ok(t) = schema.index_of(c::TOP_PROCESS_ID) {
                let top = columns[t].as_primitive::<Int32Type>();
                for i in 0..ids.len() {
                    if top.is_valid(i) && ids.is_valid(i) && top.value(i) == ids.value(i) {
                        deferred.push((table.clone(), ids.value(i), column.clone(), top.value(i)));
                    }
                }
            }
        } else if let Ok(pc) = schema.index_of(c::PRECEDENT_ACTIVITY_ID) {
            let pre = columns[pc].as_primitive::<Int32Type>();
            for i in 0..ids.len() {
                if pre.is_valid(i) && ids.is_valid(i) {
                    let me = (levels.value(i), ids.value(i));
                    let other = (
                        plan.levels.get(false, pre.value(i)).unwrap_or(i32::MAX),
                        pre.value(i),
                    );
                    if other >= me {
                        deferred.push((table.clone(), ids.value(i), column.clone(), pre.value(i)));
                    }
                }
            }
        }
        fields.push(Arc::new(Field::new(LEVEL_COLUMN, DataType::Int32, false)));
        columns.push(Arc::new(levels));
    }
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    RecordBatch::try_new(schema, columns).map_err(|e| Error::Arrow {
        what: input.name.clone(),
        source: e,
    })
}

/// `INPUT_VALUE`/`OUTPUT_VALUE` holding an entity ID (`SS_TYPE` = `bt…*…`): through the
/// entity's ID map when the pipeline names one, else kept and counted per entity. No
/// allocation per row: entities are found by comparing borrowed keys, counts kept locally.
fn rewrite_entity_values(
    col: &ArrayRef,
    ss_types: Option<&StringArray>,
    plan: &Plan,
    counts: &mut TableCounts,
) -> ArrayRef {
    let values = col.as_string::<i32>();
    let Some(types) = ss_types else {
        return col.clone();
    };
    if plan.entity_maps.is_empty() {
        count_entity_refs(values, types, plan, counts);
        return col.clone();
    }
    let entities: Vec<(&(String, String), &String)> = plan.entity_tables.iter().collect();
    let maps: Vec<Option<&HashMap<i64, i64>>> = entities
        .iter()
        .map(|(_, t)| plan.entity_maps.get(*t))
        .collect();
    // Kept values per known entity, and per unknown `SS_TYPE` (rare: resolved after the loop).
    let mut kept = vec![0_u64; entities.len()];
    let mut unknown: BTreeMap<&str, u64> = BTreeMap::new();
    let mut kinds = ValueKinds::new(&entities);
    let mut b = StringBuilder::with_capacity(values.len(), values.value_data().len());
    let mut number = String::new();
    let mut changed = false;
    for i in 0..values.len() {
        if values.is_null(i) {
            b.append_null();
            continue;
        }
        let v = values.value(i);
        let kind = if types.is_valid(i) {
            kinds.of(types.value(i))
        } else {
            ValueKind::Plain
        };
        let e = match kind {
            ValueKind::Plain => {
                b.append_value(v);
                continue;
            }
            ValueKind::UnknownEntity => {
                *unknown.entry(types.value(i)).or_default() += 1;
                b.append_value(v);
                continue;
            }
            ValueKind::Entity(e) => e,
        };
        let mapped = maps[e].and_then(|m| v.trim().parse::<i64>().ok().and_then(|old| m.get(&old)));
        match mapped {
            Some(new) => {
                number.clear();
                let _ = std::fmt::Write::write_fmt(&mut number, format_args!("{new}"));
                b.append_value(&number);
                changed = true;
                counts.entity_refs_mapped += 1;
            }
            None => {
                kept[e] += 1;
                b.append_value(v);
            }
        }
    }
    for ((_, table), n) in entities.iter().zip(kept).filter(|(_, n)| *n > 0) {
        *counts.entity_refs_kept.entry((*table).clone()).or_default() += n;
    }
    for (ss_type, n) in unknown {
        *counts
            .entity_refs_kept
            .entry(ss_type.to_owned())
            .or_default() += n;
    }
    if changed {
        Arc::new(b.finish())
    } else {
        col.clone()
    }
}

/// Counts entity identifiers kept per entity when no entity map is configured: nothing to
/// rewrite, so no new column is built.
fn count_entity_refs(
    values: &StringArray,
    types: &StringArray,
    plan: &Plan,
    counts: &mut TableCounts,
) {
    let entities: Vec<(&(String, String), &String)> = plan.entity_tables.iter().collect();
    let mut kept = vec![0_u64; entities.len()];
    let mut unknown: BTreeMap<&str, u64> = BTreeMap::new();
    let mut kinds = ValueKinds::new(&entities);
    for i in 0..values.len() {
        if values.is_null(i) || types.is_null(i) {
            continue;
        }
        match kinds.of(types.value(i)) {
            ValueKind::Plain => {}
            ValueKind::Entity(e) => kept[e] += 1,
            ValueKind::UnknownEntity => {
                *unknown.entry(types.value(i)).or_default() += 1;
            }
        }
    }
    for ((_, table), n) in entities.iter().zip(kept).filter(|(_, n)| *n > 0) {
        *counts.entity_refs_kept.entry((*table).clone()).or_default() += n;
    }
    for (ss_type, n) in unknown {
        *counts
            .entity_refs_kept
            .entry(ss_type.to_owned())
            .or_default() += n;
    }
}

/// What an `SS_TYPE` says of its row's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    /// Not an entity identifier (a basic type, or a malformed type).
    Plain,
    /// An identifier of the `n`th known entity.
    Entity(usize),
    /// An identifier of an entity the source snapshot does not know.
    UnknownEntity,
}

/// `SS_TYPE` values parsed once each: a column holds a few distinct types over millions of
/// rows, usually the same one several rows running.
struct ValueKinds<'e, 'v> {
    entities: &'e [(&'e (String, String), &'e String)],
    last: Option<(&'v str, ValueKind)>,
    seen: HashMap<&'v str, ValueKind>,
}

impl<'e, 'v> ValueKinds<'e, 'v> {
    fn new(entities: &'e [(&'e (String, String), &'e String)]) -> Self {
        Self {
            entities,
            last: None,
            seen: HashMap::new(),
        }
    }

    fn of(&mut self, ss_type: &'v str) -> ValueKind {
        if let Some((t, kind)) = self.last {
            if t == ss_type {
                return kind;
            }
        }
        let entities = self.entities;
        let kind = *self
            .seen
            .entry(ss_type)
            .or_insert_with(|| match SsType::parse(ss_type) {
                Ok(SsType::EntityRef {
                    espace_key,
                    entity_key,
                }) => entities
                    .iter()
                    .position(|((es, en), _)| es == espace_key && en == entity_key)
                    .map_or(ValueKind::UnknownEntity, ValueKind::Entity),
                _ => ValueKind::Plain,
            });
        self.last = Some((ss_type, kind));
        kind
    }
}

/// Where `transform` writes `table`'s parts.
pub fn output_dir(workdir: &Path, table: &str) -> PathBuf {
    workdir.join(STAGE).join(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(pairs: &[(i32, Option<i32>)]) -> Vec<(i32, Option<i32>)> {
        let ids: Int32Array = pairs.iter().map(|p| Some(p.0)).collect();
        let parents: Int32Array = pairs.iter().map(|p| p.1).collect();
        let m = tree_levels(&ids, &parents);
        pairs.iter().map(|p| (p.0, m.get(p.0))).collect()
    }

    #[test]
    fn tree_levels_count_hops_whatever_the_id_order() {
        // 10 → 11 → 12, and 5 whose parent 20 comes later in ID order, whose parent 12.
        let got = levels(&[
            (5, Some(20)),
            (10, None),
            (11, Some(10)),
            (12, Some(11)),
            (20, Some(12)),
        ]);
        assert_eq!(
            got,
            vec![
                (5, Some(4)),
                (10, Some(0)),
                (11, Some(1)),
                (12, Some(2)),
                (20, Some(3))
            ]
        );
    }

    #[test]
    fn a_parent_outside_the_extract_counts_as_one_hop() {
        let got = levels(&[(7, Some(3)), (8, Some(7)), (9, None)]);
        assert_eq!(got, vec![(7, Some(1)), (8, Some(2)), (9, Some(0))]);
    }

    #[test]
    fn a_cycle_ends_at_the_depth_limit_instead_of_looping() {
        let got = levels(&[(1, Some(2)), (2, Some(1)), (3, Some(1))]);
        let cap = MAX_DEPTH + 1;
        assert_eq!(got, vec![(1, Some(cap)), (2, Some(cap)), (3, Some(cap))]);
    }
}
