//! `bptmig-sandbox generate`: a work directory in exactly the extract stage's format, written
//! directly as Parquet without any server, at any size, for the transform benches.
//!
//! prod's history streams from the generator into per-table part writers (bounded memory);
//! both snapshots come from the published rows of prod (source) and a small qa (target).
//! Column types are those of `sql/schema.sql`, read as the extract would read them from the
//! live catalog.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array};
use arrow::record_batch::RecordBatch;
use bptmig_db::column_builder::ColumnBuilder;
use bptmig_model::catalog::{self as c, Table};
use bptmig_workdir::layout::{EXTRACT as STAGE, ROOTS_FILE};
use bptmig_workdir::part::{self as parts, LazyPartWriter, PartMeta};
use bptmig_workdir::snapshot::{snapshot_tables, SnapshotWriter};
use bptmig_workdir::sql_type::{schema_for, CatalogColumn, ColumnPlan, SqlType};
use bptmig_workdir::{Manifest, ManifestColumn, RunState, StageState, WorkDir};
use tiberius::numeric::Numeric;
use tiberius::ColumnData;

use crate::generator::shapes::{JOB_OFFER_EVENT_TABLE, USER_EVENT_TABLE};
use crate::generator::{
    generate, generate_published, EnvKind, EnvSpec, Sink, TableRows, CANDIDATE_EVENT_TABLE,
    HISTORY_TABLES,
};
use crate::sql::format_datetime;
use crate::{Error, Lit, Result, SCHEMA_SQL};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub out: PathBuf,
    pub spec: EnvSpec,
    pub part_rows: usize,
    pub row_group_rows: usize,
}

/// Rows and parts written per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedTable {
    pub table: String,
    pub rows: u64,
    pub parts: usize,
}

/// The run id of generated work directories.
pub const GENERATED_RUN_ID: &str = "generated";

/// The columns of `table` as `INFORMATION_SCHEMA.COLUMNS` would list them for the sandbox
/// schema (MAX lengths as -1, as SQL Server reports them).
pub fn ddl_columns(table: &str) -> Option<Vec<CatalogColumn>> {
    // The schema spells tables as the platform does (`ossys_BPM_Process`); callers may use
    // the model's upper-case names.
    let head = format!("CREATE TABLE {} (", table.to_ascii_uppercase());
    let start = SCHEMA_SQL.to_ascii_uppercase().find(&head)? + head.len();
    let body = &SCHEMA_SQL[start..];
    let end = body.find("\n)")?;
    let mut out = Vec::new();
    for line in body[..end].lines() {
        let line = line.trim().trim_end_matches(',');
        let mut words = line.split_whitespace();
        let (Some(name), Some(ty)) = (words.next(), words.next()) else {
            continue;
        };
        let (base, args) = match ty.split_once('(') {
            Some((b, rest)) => (b.to_ascii_lowercase(), Some(rest.trim_end_matches(')'))),
            None => (ty.to_ascii_lowercase(), None),
        };
        let (mut len, mut precision, mut scale) = (None, None, None);
        match (base.as_str(), args) {
            ("decimal" | "numeric", Some(a)) => {
                let (p, s) = a.split_once(',').unwrap_or((a, "0"));
                precision = p.trim().parse().ok();
                scale = s.trim().parse().ok();
            }
            (_, Some(n)) if n.eq_ignore_ascii_case("MAX") => len = Some(-1),
            (_, Some(n)) => len = n.parse().ok(),
            _ => {}
        }
        out.push(CatalogColumn {
            name: name.to_owned(),
            data_type: base,
            char_max_len: len,
            numeric_precision: precision,
            numeric_scale: scale,
            datetime_precision: None,
            nullable: !line.contains("NOT NULL"),
        });
    }
    Some(out)
}

fn plans(table: &str, only: Option<&Table>) -> Result<Vec<ColumnPlan>> {
    let live = ddl_columns(table).ok_or_else(|| Error::Unexpected {
        context: format!("`{table}` is not in the sandbox schema"),
    })?;
    let chosen: Vec<&CatalogColumn> = match only {
        // Snapshots keep the model's columns, in model order, like the extract does.
        Some(model) => model
            .columns
            .iter()
            .filter_map(|mc| live.iter().find(|lc| lc.name.eq_ignore_ascii_case(mc.name)))
            .collect(),
        None => live.iter().collect(),
    };
    chosen
        .into_iter()
        .map(|lc| {
            ColumnPlan::from_catalog(table, lc).map_err(|e| Error::Unexpected {
                context: e.to_string(),
            })
        })
        .collect()
}

/// A seed value as the TDS value the extract would have received for a column of `ty`.
fn column_data(value: &Lit, ty: SqlType) -> ColumnData<'static> {
    match value {
        Lit::Null => ColumnData::I32(None),
        Lit::Int(v) => match ty {
            SqlType::BigInt => ColumnData::I64(Some(*v)),
            SqlType::Bit => ColumnData::Bit(Some(*v != 0)),
            _ => ColumnData::I32(Some(*v as i32)),
        },
        Lit::Bool(b) => ColumnData::Bit(Some(*b)),
        Lit::Text(s) => ColumnData::String(Some(Cow::Owned(s.clone()))),
        Lit::DateTime(secs) => ColumnData::String(Some(Cow::Owned(format_datetime(*secs)))),
        Lit::Decimal { value, scale } => {
            ColumnData::Numeric(Some(Numeric::new_with_scale(*value, *scale)))
        }
    }
}

fn unexpected(e: impl std::fmt::Display) -> Error {
    Error::Unexpected {
        context: e.to_string(),
    }
}

/// The column positions in `columns` (a generator's row) of each of `plans`.
fn positions(plans: &[ColumnPlan], columns: &[&str]) -> Vec<Option<usize>> {
    plans
        .iter()
        .map(|p| columns.iter().position(|c| c.eq_ignore_ascii_case(&p.name)))
        .collect()
}

/// Appends `row` to `builders`, one column per plan; `positions` says where each plan's value
/// is in the row (NULL when the row has no such column).
fn append_row(
    plans: &[ColumnPlan],
    builders: &mut [ColumnBuilder],
    positions: &[Option<usize>],
    row: &[Lit],
) -> Result<()> {
    for ((plan, builder), pos) in plans.iter().zip(builders).zip(positions) {
        let value = pos.map_or(&Lit::Null, |i| &row[i]);
        builder
            .append(column_data(value, plan.sql_type))
            .map_err(unexpected)?;
    }
    Ok(())
}

/// The model's shape of table `name`, and whether it has a key (`OSEVT_*` tables have none).
fn table_shape(name: &str) -> (Table, bool) {
    match c::table(name) {
        Some(t) => (*t, true),
        None => (c::osevt_table(CANDIDATE_EVENT_TABLE), false),
    }
}

/// The position of the `ID` plan, for a table with a key.
fn plans_id(plans: &[ColumnPlan], key: bool) -> Option<usize> {
    plans.iter().position(|p| p.name == c::ID).filter(|_| key)
}

/// One table's part writer.
struct TableOut {
    dir: PathBuf,
    plans: Vec<ColumnPlan>,
    schema: arrow::datatypes::SchemaRef,
    /// For each plan, the position of its column in the generator's rows.
    positions: Option<Vec<Option<usize>>>,
    builders: Vec<ColumnBuilder>,
    keys: Option<(i64, i64)>,
    /// The plan of the `ID` column, when the table has a key.
    id_plan: Option<usize>,
    /// The part being written; it opens itself on its first batch.
    part: LazyPartWriter,
    manifest: Manifest,
    meta: PartMeta,
    row_group_rows: usize,
    max_id: Option<i64>,
}

impl TableOut {
    fn new(out: &WorkDir, name: &str, row_group_rows: usize) -> Result<Self> {
        let (model, key) = table_shape(name);
        let plans = plans(name, None)?;
        let dir = out.table_dir(STAGE, name);
        std::fs::create_dir_all(&dir).map_err(unexpected)?;
        let meta = PartMeta::for_table(GENERATED_RUN_ID, name, &model, &plans);
        let id_plan = plans_id(&plans, key);
        Ok(Self {
            schema: schema_for(&plans),
            builders: plans
                .iter()
                .map(|p| ColumnBuilder::new(p, row_group_rows))
                .collect(),
            manifest: Manifest {
                table: name.to_owned(),
                run_id: GENERATED_RUN_ID.to_owned(),
                key: key.then(|| c::ID.to_owned()),
                columns: plans
                    .iter()
                    .map(|p| ManifestColumn {
                        name: p.name.clone(),
                        sql_type: p.sql_type.ddl(),
                    })
                    .collect(),
                complete: false,
                parts: Vec::new(),
            },
            part: LazyPartWriter::new(
                &dir,
                &Manifest::part_name(0),
                meta.clone(),
                row_group_rows,
                plans.clone(),
            ),
            meta,
            row_group_rows,
            plans,
            dir,
            id_plan,
            positions: None,
            keys: None,
            max_id: None,
        })
    }

    fn push(&mut self, columns: &[&str], row: &[Lit], opts: &GenerateOptions) -> Result<()> {
        let positions = self
            .positions
            .get_or_insert_with(|| positions(&self.plans, columns));
        if let Some(id) = self.id_plan {
            if let Some(k) = positions[id].and_then(|i| row[i].as_int()) {
                self.keys = Some(self.keys.map_or((k, k), |(lo, hi)| (lo.min(k), hi.max(k))));
                self.max_id = Some(self.max_id.map_or(k, |m| m.max(k)));
            }
        }
        append_row(&self.plans, &mut self.builders, positions, row)?;
        if self.builders[0].len() >= opts.row_group_rows {
            self.flush(opts)?;
        }
        Ok(())
    }

    fn flush(&mut self, opts: &GenerateOptions) -> Result<()> {
        if self.builders[0].is_empty() {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(unexpected)?;
        self.part
            .write(&batch, self.keys.take())
            .map_err(unexpected)?;
        if self.part.rows() as usize >= opts.part_rows {
            self.next_part()?;
        }
        Ok(())
    }

    /// Finishes the full part and starts the next one.
    fn next_part(&mut self) -> Result<()> {
        let next = LazyPartWriter::new(
            &self.dir,
            &Manifest::part_name(self.manifest.parts.len() + 1),
            self.meta.clone(),
            self.row_group_rows,
            self.plans.clone(),
        );
        let full = std::mem::replace(&mut self.part, next);
        self.manifest
            .parts
            .extend(full.finish().map_err(unexpected)?);
        Ok(())
    }

    fn close(mut self, opts: &GenerateOptions) -> Result<(Manifest, Option<i64>)> {
        self.flush(opts)?;
        self.manifest
            .parts
            .extend(self.part.finish().map_err(unexpected)?);
        self.manifest.complete = true;
        self.manifest.write(&self.dir).map_err(unexpected)?;
        Ok((self.manifest, self.max_id))
    }
}

/// Streams history rows into part files.
struct ParquetSink<'a> {
    out: &'a WorkDir,
    opts: &'a GenerateOptions,
    tables: BTreeMap<&'static str, TableOut>,
    /// Key-less (OSEVT) rows, held to be written in the extract's order: by every column.
    keyless: BTreeMap<&'static str, (&'static [&'static str], Vec<Vec<Lit>>)>,
    roots: Vec<i32>,
    error: Option<Error>,
}

impl Sink for ParquetSink<'_> {
    fn row(
        &mut self,
        table: &'static str,
        columns: &'static [&'static str],
        level: usize,
        row: Vec<Lit>,
    ) {
        if self.error.is_some() {
            return;
        }
        if c::table(table).is_none() {
            // Only subscriptions of moved activities are extracted, not Launch-On rows.
            let activity = columns.iter().position(|c| *c == c::EVT_ACTIVITY_ID);
            if activity.is_some_and(|i| row[i].as_int().is_some()) {
                self.keyless
                    .entry(table)
                    .or_insert((columns, Vec::new()))
                    .1
                    .push(row);
            }
            return;
        }
        if let Err(e) = self.push(table, columns, level, &row) {
            self.error = Some(e);
        }
    }
}

impl<'a> ParquetSink<'a> {
    fn new(out: &'a WorkDir, opts: &'a GenerateOptions) -> Self {
        Self {
            out,
            opts,
            tables: BTreeMap::new(),
            keyless: BTreeMap::new(),
            roots: Vec::new(),
            error: None,
        }
    }

    fn push(
        &mut self,
        table: &'static str,
        columns: &[&str],
        level: usize,
        row: &[Lit],
    ) -> Result<()> {
        if table == c::PROCESS && level == 0 {
            if let Some(id) = columns
                .iter()
                .position(|c| *c == c::ID)
                .and_then(|i| row[i].as_int())
            {
                self.roots.push(id as i32);
            }
        }
        if !self.tables.contains_key(table) {
            let out = TableOut::new(self.out, table, self.opts.row_group_rows)?;
            self.tables.insert(table, out);
        }
        match self.tables.get_mut(table) {
            Some(t) => t.push(columns, row, self.opts),
            None => Ok(()),
        }
    }

    /// Writes the key-less rows held back, each table sorted as SQL Server's `ORDER BY` over
    /// its columns sorts: NULL first, then by value.
    fn write_keyless(&mut self) -> Result<()> {
        for (table, (columns, mut rows)) in std::mem::take(&mut self.keyless) {
            let order: Vec<Option<usize>> = ddl_columns(table)
                .unwrap_or_default()
                .iter()
                .map(|lc| {
                    columns
                        .iter()
                        .position(|c| c.eq_ignore_ascii_case(&lc.name))
                })
                .collect();
            let key = |r: &Vec<Lit>| {
                order
                    .iter()
                    .map(|i| i.map_or(Lit::Null, |i| r[i].clone()))
                    .collect::<Vec<_>>()
            };
            rows.sort_by_cached_key(key);
            for row in rows {
                self.push(table, columns, 0, &row)?;
            }
        }
        Ok(())
    }

    /// Closes every instance table in load order (a table without rows still gets its empty
    /// manifest); returns the summary and each table's (rows, largest ID).
    fn close_tables(&mut self) -> Result<(Vec<GeneratedTable>, InstanceStats)> {
        let mut summary = Vec::new();
        let mut stats = BTreeMap::new();
        let mut tables = std::mem::take(&mut self.tables);
        // The extract writes the event tables that OSSYS_ENTITY names, in name order.
        let shaped: &[&'static str] = if self.opts.spec.platform_shapes {
            &[JOB_OFFER_EVENT_TABLE, USER_EVENT_TABLE]
        } else {
            &[]
        };
        let mut names: Vec<&'static str> = HISTORY_TABLES.iter().chain(shaped).copied().collect();
        let others: Vec<&'static str> = tables
            .keys()
            .copied()
            .filter(|t| !names.contains(t))
            .collect();
        names.extend(others);
        names[c::INSTANCE_TABLES.len()..].sort_unstable();
        for name in names {
            let t = match tables.remove(name) {
                Some(t) => t,
                None => TableOut::new(self.out, name, self.opts.row_group_rows)?,
            };
            let (manifest, max_id) = t.close(self.opts)?;
            stats.insert(name, (manifest.rows() as i64, max_id));
            summary.push(GeneratedTable {
                table: name.to_owned(),
                rows: manifest.rows(),
                parts: manifest.parts.len(),
            });
        }
        Ok((summary, stats))
    }
}

/// Rows and largest ID per instance table, for a snapshot's `instance_stats`.
type InstanceStats = BTreeMap<&'static str, (i64, Option<i64>)>;

/// Writes the work directory; returns rows and parts per instance table.
pub fn generate_workdir(opts: &GenerateOptions) -> Result<Vec<GeneratedTable>> {
    let out = WorkDir::new(&opts.out);
    if opts.spec.reseeded {
        return Err(Error::Unexpected {
            context: "a reseeded prod is seeded into a server only: a generated work \
                      directory's parts must ascend by ID"
                .to_owned(),
        });
    }
    if out.run_file().exists() || out.stage_dir(STAGE).exists() {
        return Err(Error::Unexpected {
            context: format!(
                "`{}` already holds a work directory; choose an empty --out",
                opts.out.display()
            ),
        });
    }
    std::fs::create_dir_all(out.stage_dir(STAGE)).map_err(unexpected)?;

    let mut prod = generate_published(EnvKind::Prod, &opts.spec);
    let mut sink = ParquetSink::new(&out, opts);
    prod.history(&opts.spec, false, &mut sink);
    sink.write_keyless()?;
    if let Some(e) = sink.error.take() {
        return Err(e);
    }
    let (summary, source_stats) = sink.close_tables()?;
    write_roots(&out, &sink.roots, opts.row_group_rows)?;
    write_snapshot(
        &out,
        "source",
        &prod.tables,
        &source_stats,
        opts.row_group_rows,
    )?;
    write_target_snapshot(&out, opts)?;
    write_run_state(&out)?;
    Ok(summary)
}

/// The target snapshot: a small qa, generated in memory.
fn write_target_snapshot(out: &WorkDir, opts: &GenerateOptions) -> Result<()> {
    let qa = generate(EnvKind::Qa, &opts.spec);
    let mut stats = BTreeMap::new();
    for t in c::INSTANCE_TABLES {
        let rows = qa.rows(t.name);
        stats.insert(
            t.name,
            (
                rows.len() as i64,
                rows.iter().filter_map(|r| r[c::ID].as_int()).max(),
            ),
        );
    }
    write_snapshot(out, "target", &qa.tables, &stats, opts.row_group_rows)
}

/// `run.json`: the extract done, under [`GENERATED_RUN_ID`].
fn write_run_state(out: &WorkDir) -> Result<()> {
    let mut stages = BTreeMap::new();
    stages.insert(STAGE.to_owned(), StageState::Done);
    RunState {
        run_id: GENERATED_RUN_ID.to_owned(),
        pipeline_hash: String::new(),
        source_fingerprint: bptmig_workdir::fingerprint("server=generated-prod"),
        target_fingerprint: bptmig_workdir::fingerprint("server=generated-qa"),
        stages,
        target_clock: None,
        source_snapshot_after_rows: false,
    }
    .write(out)
    .map_err(unexpected)
}

fn write_roots(out: &WorkDir, roots: &[i32], row_group_rows: usize) -> Result<()> {
    // The same column plan the extract reads roots with.
    let plans = [ColumnPlan {
        name: c::ID.to_owned(),
        sql_type: SqlType::Int,
        nullable: false,
    }];
    let schema = schema_for(&plans);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int32Array::from(roots.to_vec())) as ArrayRef],
    )
    .map_err(unexpected)?;
    let meta = PartMeta {
        run_id: GENERATED_RUN_ID.to_owned(),
        table: "roots".to_owned(),
        column_roles: r#"{"ID":"key"}"#.to_owned(),
    };
    parts::write_file(
        &out.stage_dir(STAGE).join(ROOTS_FILE),
        schema,
        &[batch],
        parts::writer_properties(&meta, row_group_rows, &plans),
    )
    .map_err(unexpected)?;
    Ok(())
}

fn write_snapshot(
    out: &WorkDir,
    side: &str,
    tables: &[TableRows],
    stats: &InstanceStats,
    row_group_rows: usize,
) -> Result<()> {
    let dir = out.snapshot_dir(side);
    let mut writer = SnapshotWriter::new(&dir, side, GENERATED_RUN_ID, row_group_rows);
    for model in snapshot_tables() {
        let plans = plans(model.name, Some(model))?;
        let mut builders: Vec<ColumnBuilder> =
            plans.iter().map(|p| ColumnBuilder::new(p, 64)).collect();
        for group in tables.iter().filter(|t| t.table == model.name) {
            let positions = positions(&plans, &group.columns);
            for row in &group.rows {
                append_row(&plans, &mut builders, &positions, row)?;
            }
        }
        let columns: Vec<ArrayRef> = builders.iter_mut().map(ColumnBuilder::finish).collect();
        let schema = schema_for(&plans);
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(unexpected)?;
        writer.table(model, &plans, &[batch]).map_err(unexpected)?;
    }
    let stats: Vec<(&str, i64, Option<i64>)> = c::INSTANCE_TABLES
        .iter()
        .map(|t| {
            let (rows, max) = stats.get(t.name).copied().unwrap_or((0, None));
            (t.name, rows, max)
        })
        .collect();
    writer.finish(&stats).map_err(unexpected)
}
