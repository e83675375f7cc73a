//! Verify: read every moved row back from the target and compare it with the transformed
//! Parquet; check the platform invariants among the moved rows.

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_db::SqlClient;
use bptmig_model::catalog::{self as c, ColumnRole, FkKind};
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::{layout, StageState, WorkDir};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

use crate::ledger::Done;
use crate::plan::{Chunk, LoadPlan, References, TableInput};
use crate::value::BoundBatch;
use crate::{ledger, target, Error, Result};

/// Stage name in `run.json` and key in `report.json`.
pub const VERIFY_STAGE: &str = layout::VERIFY;

/// One table compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableCheck {
    pub table: String,
    /// Rows in the transformed Parquet.
    pub expected_rows: u64,
    /// Rows read back from the target.
    pub found_rows: u64,
    /// Order-independent digests (hex) of both.
    pub expected_digest: String,
    pub found_digest: String,
    pub ok: bool,
}

/// What verify found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifySummary {
    pub run_id: String,
    pub tables: Vec<TableCheck>,
    /// Chunks of the plan the ledger does not list.
    pub chunks_missing: usize,
    /// Every mismatch and broken invariant, in words.
    pub problems: Vec<String>,
}

impl VerifySummary {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// An order-independent digest: the wrapping sum of each row's SHA-256 (first 16 bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RowSum {
    sum: u128,
    rows: u64,
}

impl RowSum {
    /// Adds each row's SQL literal tuple, as the insert writer renders it.
    fn add_batch(&mut self, batch: &RecordBatch, cols: &[&str], table: &str) -> Result<()> {
        let r = BoundBatch::new(batch, cols).map_err(|e| Error::value(table, e))?;
        let mut s = String::with_capacity(256);
        for i in 0..r.num_rows() {
            s.clear();
            r.render_row(&mut s, i)
                .map_err(|e| Error::value(table, e))?;
            let h = Sha256::digest(s.as_bytes());
            let mut head = [0u8; 16];
            head.copy_from_slice(&h[..16]);
            self.sum = self.sum.wrapping_add(u128::from_le_bytes(head));
            self.rows += 1;
        }
        Ok(())
    }

    fn hex(self) -> String {
        format!("{:032x}", self.sum)
    }
}

/// Runs verify for `config`: exit status is [`VerifySummary::ok`].
pub async fn verify(config: &PipelineConfig, reporter: &dyn Reporter) -> Result<VerifySummary> {
    let wd = WorkDir::new(&config.workdir);
    let mut stage = ledger::open_stage(&wd, config, VERIFY_STAGE, None).await?;
    let (plan, done) = (&stage.target.plan, &stage.target.done);
    let client = &mut stage.target.client;
    let run = &mut stage.run;
    let mut summary = VerifySummary {
        run_id: run.run_id.clone(),
        ..VerifySummary::default()
    };
    count_missing_chunks(plan, done, &mut summary);
    // The rows read back, per table, for the invariants.
    let mut back: Vec<(usize, Vec<RecordBatch>)> = Vec::new();
    for (ti, t) in plan.tables.iter().enumerate() {
        reporter.table_started(VERIFY_STAGE, &t.name, Some(t.rows()));
        let (check, batches) = compare_table(client, plan, ti)
            .instrument(tracing::info_span!("compare", table = %t.name))
            .await?;
        if !check.ok {
            summary.problems.push(format!(
                "`{}`: the target holds {} row(s) with digest {}, the transformed Parquet {} \
                 with digest {}",
                t.name,
                check.found_rows,
                check.found_digest,
                check.expected_rows,
                check.expected_digest
            ));
        }
        reporter.rows(&t.name, check.found_rows);
        reporter.table_finished(&t.name, check.found_rows);
        summary.tables.push(check);
        back.push((ti, batches));
    }
    let refs = InstanceReferences::read(&wd)?;
    check_moved_rows(client, plan, &back, &refs, &mut summary.problems).await?;
    write_report(&wd, &summary)?;
    let state = if summary.ok() {
        StageState::Done
    } else {
        StageState::Failed
    };
    run.stages.insert(VERIFY_STAGE.to_owned(), state);
    run.write(&wd)?;
    Ok(summary)
}

/// Counts the chunks of the plan the ledger does not list, as a problem.
fn count_missing_chunks(plan: &LoadPlan, done: &Done, summary: &mut VerifySummary) {
    for chunk in &plan.chunks {
        let t = &plan.tables[chunk.table];
        if !done.contains_key(&(t.name.clone(), chunk.name())) {
            summary.chunks_missing += 1;
        }
    }
    if summary.chunks_missing > 0 {
        summary.problems.push(format!(
            "{} of {} chunk(s) are not loaded; run `bptmig load`",
            summary.chunks_missing,
            plan.chunks.len()
        ));
    }
}

/// Table `ti`'s rows in the transformed Parquet and in the target, compared; and the rows
/// read back.
async fn compare_table(
    client: &mut SqlClient,
    plan: &LoadPlan,
    ti: usize,
) -> Result<(TableCheck, Vec<RecordBatch>)> {
    let t = &plan.tables[ti];
    let cols = t.column_names();
    let mut expected = RowSum::default();
    let mut kept = KeptRows::new(plan, ti);
    for part in 0..t.manifest.parts.len() {
        let mut offset = 0;
        for b in t.open_part(part)?.batches()? {
            let b = b?;
            let b = kept.of(part, offset, &b)?;
            offset += b.1;
            expected.add_batch(&b.0, &cols, &t.name)?;
        }
    }
    let plans = target::column_plans(client, t).await?;
    let batches = target::read_back(client, t, &plans, &read_back_ranges(plan, ti)).await?;
    let mut found = RowSum::default();
    for b in &batches {
        found.add_batch(b, &cols, &t.name)?;
    }
    let check = TableCheck {
        table: t.name.clone(),
        expected_rows: expected.rows,
        found_rows: found.rows,
        expected_digest: expected.hex(),
        found_digest: found.hex(),
        ok: expected == found,
    };
    Ok((check, batches))
}

/// The ID ranges verify reads table `ti` back by: its own, except for an `OSEVT_*` table,
/// whose rows are read by the moved activities' ranges (dense blocks, where its own
/// `_ACTIVITY_ID`s are sparse).
pub(crate) fn read_back_ranges(plan: &LoadPlan, ti: usize) -> Vec<(i32, i32)> {
    let t = &plan.tables[ti];
    if c::is_osevt(&t.name) {
        if let Some(ai) = plan.tables.iter().position(|a| a.name == c::ACTIVITY) {
            return plan.table_ranges(ai);
        }
    }
    plan.table_ranges(ti)
}

/// The rows of a table the plan loads: all of them, or, when trees were left out, those its
/// chunks still hold.
struct KeptRows {
    /// Per part, the rows kept (ascending), when trees were left out.
    parts: Option<Vec<Vec<u32>>>,
}

impl KeptRows {
    fn new(plan: &LoadPlan, ti: usize) -> Self {
        let t = &plan.tables[ti];
        let planned: usize = plan
            .chunks
            .iter()
            .filter(|ch| ch.table == ti)
            .map(Chunk::len)
            .sum();
        if planned as u64 == t.rows() {
            return Self { parts: None };
        }
        let mut parts = vec![Vec::new(); t.manifest.parts.len()];
        for ch in plan.chunks.iter().filter(|ch| ch.table == ti) {
            parts[ch.part].extend_from_slice(&ch.rows);
        }
        for p in &mut parts {
            p.sort_unstable();
        }
        Self { parts: Some(parts) }
    }

    /// The kept rows of `batch`, which holds the part's rows from `offset` on; and the
    /// batch's length.
    fn of(
        &mut self,
        part: usize,
        offset: usize,
        batch: &RecordBatch,
    ) -> Result<(RecordBatch, usize)> {
        let n = batch.num_rows();
        let Some(parts) = &self.parts else {
            return Ok((batch.clone(), n));
        };
        let rows = &parts[part];
        let (lo, hi) = (
            rows.partition_point(|&r| (r as usize) < offset),
            rows.partition_point(|&r| (r as usize) < offset + n),
        );
        let idx: arrow::array::UInt32Array =
            rows[lo..hi].iter().map(|&r| r - offset as u32).collect();
        let kept = arrow::compute::take_record_batch(batch, &idx)
            .map_err(|e| Error::arrow("verified rows", e))?;
        Ok((kept, n))
    }
}

/// The platform invariants among the rows read back, and their references outside the run.
async fn check_moved_rows(
    client: &mut SqlClient,
    plan: &LoadPlan,
    back: &[(usize, Vec<RecordBatch>)],
    value_refs: &InstanceReferences,
    problems: &mut Vec<String>,
) -> Result<()> {
    // Moved IDs per table.
    let mut moved: HashMap<String, HashSet<i32>> = HashMap::new();
    for (ti, batches) in back {
        let t = &plan.tables[*ti];
        let Some(key) = t.model.key else { continue };
        let ids = moved.entry(t.name.clone()).or_default();
        for b in batches {
            if let Some(a) = b
                .column_by_name(key)
                .and_then(|a| a.as_primitive_opt::<Int32Type>())
            {
                ids.extend(a.iter().flatten());
            }
        }
    }
    let mut refs = References::default();
    for (ti, batches) in back {
        let t = &plan.tables[*ti];
        for b in batches {
            refs.add(t, b);
            invariants(t, b, &moved, problems);
        }
        value_refs.check(t, batches, &moved, problems);
    }
    for m in target::missing_references(client, &refs).await? {
        problems.push(format!("dangling reference: {m}"));
    }
    Ok(())
}

/// A root process has `TOP_PROCESS_ID = ID`; every instance reference points at a moved row.
fn invariants(
    t: &TableInput,
    b: &RecordBatch,
    moved: &HashMap<String, HashSet<i32>>,
    problems: &mut Vec<String>,
) {
    const SHOWN: usize = 20;
    let mut report = |p: String| {
        if problems.len() < SHOWN {
            problems.push(p);
        } else if problems.len() == SHOWN {
            problems.push("… more problems not shown".into());
        }
    };
    let col = |name: &str| {
        b.column_by_name(name)
            .and_then(|a| a.as_primitive_opt::<Int32Type>())
            .cloned()
    };
    if t.name == c::PROCESS {
        if let (Some(id), Some(parent), Some(top)) = (
            col(c::ID),
            col(c::PARENT_PROCESS_ID),
            col(c::TOP_PROCESS_ID),
        ) {
            for i in 0..b.num_rows() {
                if parent.is_null(i) && (top.is_null(i) || top.value(i) != id.value(i)) {
                    report(format!(
                        "`{}` row {}: a top-level process must have TOP_PROCESS_ID = ID, has {}",
                        t.name,
                        id.value(i),
                        if top.is_null(i) {
                            "NULL".to_owned()
                        } else {
                            top.value(i).to_string()
                        }
                    ));
                }
            }
        }
    }
    for column in t.model.columns {
        let ColumnRole::Fk {
            kind: FkKind::Instance,
            table: to,
        } = column.role
        else {
            continue;
        };
        let Some(values) = col(column.name) else {
            continue;
        };
        let ids = moved.get(to);
        for (i, v) in values.iter().enumerate() {
            let Some(v) = v else { continue };
            if !ids.is_some_and(|s| s.contains(&v)) {
                let who = t
                    .model
                    .key
                    .and_then(&col)
                    .map_or(format!("row {i}"), |k| format!("row {}", k.value(i)));
                report(format!(
                    "`{}` {who}: `{}` = {v} does not point at a moved `{to}` row",
                    t.name, column.name
                ));
            }
        }
    }
}

/// `transform/references.json`, which the transform writes when the source has instance
/// identifier types: where the moved values hold instance identifiers (`SS_TYPE`s and
/// subscription columns, each with the table it points into) and how many of them, per
/// table and column, `unmoved_reference = "keep"` carried over unchanged.
#[derive(Debug, Default, serde::Deserialize)]
struct InstanceReferences {
    #[serde(default)]
    instance_types: HashMap<String, String>,
    #[serde(default)]
    instance_columns: HashMap<String, HashMap<String, String>>,
    #[serde(default)]
    kept: HashMap<String, HashMap<String, u64>>,
}

/// Where one column's instance identifiers point.
enum Points<'a> {
    /// Per row, by the `SS_TYPE` in this column.
    Typed(&'a str),
    /// Every value, into this table.
    Into(&'a str),
}

impl InstanceReferences {
    /// The file, or nothing to check when the transform wrote none.
    fn read(wd: &WorkDir) -> Result<Self> {
        let path = wd.stage_dir(layout::TRANSFORM).join("references.json");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(bptmig_workdir::Error::io(&path, "read", e).into()),
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| bptmig_workdir::Error::io(&path, "decode", e.into()).into())
    }

    /// Every instance identifier inside the values of `t` read back (`batches`) points at a
    /// moved row, is the null identifier (`0`, empty), or is one of those kept.
    fn check(
        &self,
        t: &TableInput,
        batches: &[RecordBatch],
        moved: &HashMap<String, HashSet<i32>>,
        problems: &mut Vec<String>,
    ) {
        let mut columns: Vec<(&str, Points)> = Vec::new();
        if !self.instance_types.is_empty() {
            for col in t.model.columns {
                if let ColumnRole::EntityRefValue { type_column } = col.role {
                    columns.push((col.name, Points::Typed(type_column)));
                }
            }
        }
        for (col, to) in self.instance_columns.get(&t.name).into_iter().flatten() {
            columns.push((col, Points::Into(to)));
        }
        for (col, points) in columns {
            let mut bad = 0_u64;
            let mut first = None;
            for b in batches {
                self.count_bad(b, col, &points, moved, &mut bad, &mut first);
            }
            let kept = self.kept.get(&t.name).and_then(|k| k.get(col)).copied();
            if bad > kept.unwrap_or(0) {
                let (value, to) = first.unwrap_or_default();
                problems.push(format!(
                    "`{}`.`{col}`: {bad} instance identifier(s) point at no moved row ({} kept \
                     under `unmoved_reference = \"keep\"`), e.g. `{value}` into `{to}`",
                    t.name,
                    kept.unwrap_or(0)
                ));
            }
        }
    }

    fn count_bad(
        &self,
        b: &RecordBatch,
        col: &str,
        points: &Points,
        moved: &HashMap<String, HashSet<i32>>,
        bad: &mut u64,
        first: &mut Option<(String, String)>,
    ) {
        let Some(values) = b.column_by_name(col) else {
            return;
        };
        let types = match points {
            Points::Typed(tc) => b.column_by_name(tc).and_then(|a| a.as_string_opt::<i32>()),
            Points::Into(_) => None,
        };
        for i in 0..values.len() {
            let to = match points {
                Points::Into(to) => Some(*to),
                Points::Typed(_) => types
                    .filter(|t| t.is_valid(i))
                    .and_then(|t| self.instance_types.get(t.value(i)))
                    .map(String::as_str),
            };
            let Some(to) = to else { continue };
            let Some(text) = value_text(values, i) else {
                continue;
            };
            if text.is_empty() || text == "0" {
                continue;
            }
            let ok = text
                .parse::<i32>()
                .is_ok_and(|v| moved.get(to).is_some_and(|s| s.contains(&v)));
            if !ok {
                *bad += 1;
                first.get_or_insert_with(|| (text, to.to_owned()));
            }
        }
    }
}

/// Value `i` of an integer or text column as text; `None` for NULL or another type.
fn value_text(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    if let Some(s) = a.as_string_opt::<i32>() {
        return Some(s.value(i).to_owned());
    }
    if let Some(n) = a.as_primitive_opt::<Int32Type>() {
        return Some(n.value(i).to_string());
    }
    a.as_primitive_opt::<arrow::datatypes::Int64Type>()
        .map(|n| n.value(i).to_string())
}

/// Adds the verify result to `report.json` (key `verify`).
fn write_report(wd: &WorkDir, summary: &VerifySummary) -> Result<()> {
    let value = serde_json::json!({
        "ok": summary.ok(),
        "chunks_missing": summary.chunks_missing,
        "tables": summary.tables,
        "problems": summary.problems,
    });
    crate::report::set_entry(wd, VERIFY_STAGE, Some(value))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn count(refs: &InstanceReferences, b: &RecordBatch, col: &str, p: &Points) -> u64 {
        let moved = HashMap::from([(c::PROCESS.to_owned(), HashSet::from([105, 106]))]);
        let (mut bad, mut first) = (0, None);
        refs.count_bad(b, col, p, &moved, &mut bad, &mut first);
        bad
    }

    #[test]
    fn instance_identifiers_inside_values_must_point_at_moved_rows() {
        let refs = InstanceReferences {
            instance_types: HashMap::from([("btP".to_owned(), c::PROCESS.to_owned())]),
            ..InstanceReferences::default()
        };
        let values: ArrayRef = Arc::new(StringArray::from(vec![
            Some("105"),
            Some("7"),
            Some("0"),
            Some(""),
            None,
            Some("7"),
            Some(" 105"),
        ]));
        let types: ArrayRef = Arc::new(StringArray::from(vec![
            "btP", "btP", "btP", "btP", "btP", "rtText", "btP",
        ]));
        let schema = Arc::new(Schema::new(vec![
            Field::new(c::INPUT_VALUE, DataType::Utf8, true),
            Field::new(c::SS_TYPE, DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(schema, vec![values, types]).unwrap();
        // `7` typed as a process, and a value with a space; not the plain text `7`.
        assert_eq!(
            count(&refs, &b, c::INPUT_VALUE, &Points::Typed(c::SS_TYPE)),
            2
        );

        let ids: ArrayRef = Arc::new(Int32Array::from(vec![Some(106), Some(0), None, Some(5)]));
        let schema = Arc::new(Schema::new(vec![Field::new("PROC", DataType::Int32, true)]));
        let b = RecordBatch::try_new(schema, vec![ids]).unwrap();
        assert_eq!(count(&refs, &b, "PROC", &Points::Into(c::PROCESS)), 1);
    }
}
