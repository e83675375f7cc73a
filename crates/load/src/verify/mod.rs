//! Verify: read every moved row back from the target and compare it with the transformed
//! Parquet; check the platform invariants among the moved rows.
//!
//! * `rows`: the order-independent digest, and the rows of a part the plan loads;
//! * `generated`: the comparison under `ids.strategy = "generated"`, through the pairs;
//! * `invariants`: root processes, instance references, outward references;
//! * `values`: instance identifiers inside values (`transform/references.json`).

use std::collections::BTreeMap;

use arrow::array::{AsArray, Int32Array, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_db::SqlClient;
use bptmig_model::catalog as c;
use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::id_strategy::{self, Resolved};
use bptmig_workdir::{layout, StageState, WorkDir};
use serde::Serialize;
use tracing::Instrument as _;

use crate::id_maps::captured::{ranges_owner, CapturedPairs};
use crate::ledger::{Done, LedgerTables};
use crate::plan::{LoadPlan, TableInput};
use crate::{ledger, target, Result};
use generated::RowDiff;
use invariants::check_moved_rows;
use rows::{KeptRows, RowSum};
use values::InstanceReferences;

mod generated;
mod invariants;
mod rows;
mod values;

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
    /// Under `ids.strategy = "generated"`: the pairs the load captured, per table (the model's
    /// name); `None` under the other strategies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<BTreeMap<String, u64>>,
}

impl VerifySummary {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Runs verify for `config`: exit status is [`VerifySummary::ok`].
///
/// Under `ids.strategy = "generated"` (as `transform/ids.json` resolved it) the target's rows
/// are found by the IDs the pairs table says the load gave them, and the transformed rows are
/// compared as the load had to write them (the `generated` module); the pairs themselves are
/// checked first (each ID paired once, every row of a loaded chunk paired).
pub async fn verify(config: &PipelineConfig, reporter: &dyn Reporter) -> Result<VerifySummary> {
    let wd = WorkDir::new(&config.workdir);
    let mut stage = ledger::open_stage(&wd, config, VERIFY_STAGE, None).await?;
    let strategy = id_strategy::resolve(&wd, config.ids)?;
    let (plan, done) = (&stage.target.plan, &stage.target.done);
    let client = &mut stage.target.client;
    let run = &mut stage.run;
    let mut summary = VerifySummary {
        run_id: run.run_id.clone(),
        ..VerifySummary::default()
    };
    count_missing_chunks(plan, done, &mut summary);
    let refs = InstanceReferences::read(&wd)?;
    let pairs = if strategy == Resolved::Generated {
        let table = LedgerTables::of(&config.load).pairs;
        let read = ledger::pairs::read_pairs(client, &table, &run.run_id).await?;
        let (pairs, problems) = CapturedPairs::new(&table, read);
        summary.problems.extend(problems);
        summary.problems.extend(pairs.check_chunks(plan, done));
        summary.pairs = Some(pairs.counts());
        Some((table, pairs))
    } else {
        None
    };
    let ids = pairs.as_ref().map(|(table, pairs)| Generated {
        table,
        pairs,
        refs: &refs,
    });
    // The rows read back, per table, for the invariants.
    let mut back: Vec<(usize, Vec<RecordBatch>)> = Vec::new();
    for (ti, t) in plan.tables.iter().enumerate() {
        reporter.table_started(VERIFY_STAGE, &t.name, Some(t.rows()));
        let (check, batches) = compare_table(client, plan, ti, ids.as_ref(), &mut summary.problems)
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

/// What verify compares by under `generated`.
struct Generated<'a> {
    /// The pairs table, for messages.
    table: &'a str,
    pairs: &'a CapturedPairs,
    refs: &'a InstanceReferences,
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
/// read back. Under `generated` (`ids`), the transformed rows go through the pairs first and
/// a keyed table's rows are also compared one by one, each problem added to `problems`.
async fn compare_table(
    client: &mut SqlClient,
    plan: &LoadPlan,
    ti: usize,
    ids: Option<&Generated<'_>>,
    problems: &mut Vec<String>,
) -> Result<(TableCheck, Vec<RecordBatch>)> {
    let t = &plan.tables[ti];
    let cols = t.column_names();
    let mut expected = RowSum::default();
    let mut kept = KeptRows::new(plan, ti);
    // Under `generated`, the rows of a keyed table one by one.
    let mut diff = ids.filter(|_| t.has_key()).map(|_| RowDiff::default());
    let own = ids.and_then(|g| g.pairs.table(&t.name));
    let mut hashes = Vec::new();
    for part in 0..t.manifest.parts.len() {
        let mut offset = 0;
        for b in t.open_part(part)?.batches()? {
            let b = b?;
            let (b, n) = kept.of(part, offset, &b)?;
            offset += n;
            let Some(g) = ids else {
                expected.add_batch(&b, &cols, &t.name, None)?;
                continue;
            };
            let written = generated::forward(t, &b, g.pairs, g.refs)?;
            hashes.clear();
            expected.add_batch(&written, &cols, &t.name, Some(&mut hashes))?;
            if let (Some(d), Some(keys)) = (diff.as_mut(), key_column(t, &b)) {
                d.expect(own, keys, &hashes);
            }
        }
    }
    let ranges = match ids {
        Some(g) => generated_ranges(plan, ti, g.pairs),
        None => read_back_ranges(plan, ti),
    };
    let plans = target::column_plans(client, t).await?;
    let batches = target::read_back(client, t, &plans, &ranges).await?;
    let mut found = RowSum::default();
    for b in &batches {
        hashes.clear();
        let each = diff.is_some().then_some(&mut hashes);
        found.add_batch(b, &cols, &t.name, each)?;
        if let (Some(d), Some(keys)) = (diff.as_mut(), key_column(t, b)) {
            d.found(keys, &hashes);
        }
    }
    if let (Some(d), Some(g)) = (&diff, ids) {
        problems.extend(d.problems(&t.name, own, g.table));
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

/// The key column of a batch of `t`, as 32-bit integers.
fn key_column<'b>(t: &TableInput, b: &'b RecordBatch) -> Option<&'b Int32Array> {
    b.column_by_name(t.model.key?)?
        .as_primitive_opt::<Int32Type>()
}

/// Under `generated`, the target IDs verify reads table `ti` back by: those the pairs give
/// its planned rows, or for an `OSEVT_*` table its activities'.
fn generated_ranges(plan: &LoadPlan, ti: usize, pairs: &CapturedPairs) -> Vec<(i32, i32)> {
    let owner = ranges_owner(plan, ti);
    let Some(oi) = plan.tables.iter().position(|t| t.name == owner) else {
        return Vec::new();
    };
    pairs
        .table(owner)
        .map(|p| p.new_ranges(&plan.table_ranges(oi)))
        .unwrap_or_default()
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

/// Adds the verify result to `report.json` (key `verify`); under `generated` with the pairs
/// it found per table (`pairs`).
fn write_report(wd: &WorkDir, summary: &VerifySummary) -> Result<()> {
    let mut value = serde_json::json!({
        "ok": summary.ok(),
        "chunks_missing": summary.chunks_missing,
        "tables": summary.tables,
        "problems": summary.problems,
    });
    if let (Some(pairs), Some(obj)) = (&summary.pairs, value.as_object_mut()) {
        obj.insert("pairs".to_owned(), serde_json::json!(pairs));
    }
    crate::report::set_entry(wd, VERIFY_STAGE, Some(value))
}
