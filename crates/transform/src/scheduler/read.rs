//! The transform's findings: the moving processes and activities read from the extract, only
//! the columns the findings need, every part in parallel.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMillisecondType};
use bptmig_model::catalog as c;
use bptmig_model::Reporter;
use bptmig_workdir::{IdMap, WorkDir};
use rayon::prelude::*;

use super::{evaluate, now_ms, ActivityRow, Facts, Now, ProcessRow, TargetIds};
use crate::input::Input;
use crate::maps::Snapshot;
use crate::plan::TransformPlan;
use crate::report::SchedulerFindings;
use crate::verified::VerifiedParts;
use crate::{Error, Result};

const PROCESS_COLUMNS: [&str; 4] = [c::ID, c::PROCESS_DEF_ID, c::TENANT_ID, c::STATUS_ID];
const ACTIVITY_COLUMNS: [&str; 5] = [
    c::ID,
    c::PROCESS_ID,
    c::ACTIVITY_DEF_ID,
    c::STATUS_ID,
    c::NEXT_RUN,
];

/// The plan's maps, as [`TargetIds`].
struct PlanIds<'a>(&'a TransformPlan);

fn mapped(map: Option<&IdMap>, source: i64) -> Option<i64> {
    map?.get(i32::try_from(source).ok()?).map(i64::from)
}

impl TargetIds for PlanIds<'_> {
    fn process_definition(&self, source: i64) -> Option<i64> {
        mapped(self.0.defs.get(c::PROCESS_DEFINITION), source)
    }

    fn activity_definition(&self, source: i64) -> Option<i64> {
        mapped(self.0.defs.get(c::ACTIVITY_DEFINITION), source)
    }

    fn tenant(&self, source: i64) -> Option<i64> {
        mapped(Some(&self.0.tenants), source)
    }
}

/// `Report.scheduler` of a transform whose phase 1 decided `plan`: the moving rows, as
/// extracted (`NEXT_RUN` as moved), against the target snapshot's flags at this moment.
/// Flags the target lacks are noted to `reporter`.
pub(crate) fn findings(
    wd: &WorkDir,
    inputs: &[Input],
    plan: &TransformPlan,
    verified: &VerifiedParts,
    reporter: &dyn Reporter,
) -> Result<SchedulerFindings> {
    let started = std::time::Instant::now();
    let _span = tracing::info_span!("scheduler").entered();
    let facts = Facts::read(
        &Snapshot::new(wd.snapshot_dir("source")),
        &Snapshot::new(wd.snapshot_dir("target")),
    )?;
    let run = bptmig_workdir::RunState::read(wd)?;
    let clock = Now::of_target(run.and_then(|r| r.target_clock).as_ref(), now_ms());
    for column in &facts.unchecked {
        tracing::info!(column = %column, "scheduler findings: flag not looked for");
        reporter.note(&format!(
            "scheduler findings: `{column}` is not in the snapshots, so it is not looked for"
        ));
    }
    let now = clock.ms;
    let moving = |table: &str| plan.ids.get(table);
    let processes = read_rows(inputs, c::PROCESS, &PROCESS_COLUMNS, verified, |cols, i| {
        let p = ProcessRow {
            id: cols[0][i]?,
            definition: cols[1][i],
            tenant: cols[2][i],
            status: cols[3][i],
        };
        let moves = mapped(moving(c::PROCESS), p.id).is_some();
        (moves && facts.process_open(p.status)).then_some(p)
    })?;
    let activities = read_rows(
        inputs,
        c::ACTIVITY,
        &ACTIVITY_COLUMNS,
        verified,
        |cols, i| {
            let a = ActivityRow {
                id: cols[0][i]?,
                process: cols[1][i]?,
                definition: cols[2][i],
                status: cols[3][i],
                next_run: cols[4][i],
            };
            let moves = mapped(moving(c::ACTIVITY), a.id).is_some();
            (moves && facts.activity_due(&a, now)).then_some(a)
        },
    )?;
    let mut found = evaluate(&facts, &PlanIds(plan), &processes, &activities, now);
    // Only the target's clock is named: a report says the same of the same work directory.
    found.now = clock.target_clock.then(|| clock.describe());
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        processes = processes.len(),
        activities = activities.len(),
        "scheduler findings done (open processes and due activities read)"
    );
    Ok(found)
}

/// Integer (or timestamp, in milliseconds) columns of one batch, by position in the list
/// asked for; a column the part lacks reads as NULL.
type Columns = Vec<Vec<Option<i64>>>;

/// The rows `keep` returns for each row of every part of `table` (none without the table).
fn read_rows<T: Send>(
    inputs: &[Input],
    table: &str,
    columns: &[&str],
    verified: &VerifiedParts,
    keep: impl Fn(&Columns, usize) -> Option<T> + Sync,
) -> Result<Vec<T>> {
    let Some(input) = inputs.iter().find(|i| i.name.eq_ignore_ascii_case(table)) else {
        return Ok(Vec::new());
    };
    let parts: Vec<Vec<T>> = (0..input.manifest.parts.len())
        .into_par_iter()
        .map(|index| {
            let reader = input.open_part(index, verified)?;
            let spelled: Vec<String> = columns
                .iter()
                .filter_map(|want| {
                    reader
                        .schema()
                        .fields()
                        .iter()
                        .find(|f| f.name().eq_ignore_ascii_case(want))
                        .map(|f| f.name().clone())
                })
                .collect();
            let names: Vec<&str> = spelled.iter().map(String::as_str).collect();
            let mut out = Vec::new();
            for batch in reader.columns(&names)?.batches()? {
                let batch = batch?;
                let cols = batch_columns(&batch, columns, &input.part_path(index))?;
                out.extend((0..batch.num_rows()).filter_map(|i| keep(&cols, i)));
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    Ok(parts.into_iter().flatten().collect())
}

/// `columns` of `batch` as [`Columns`].
fn batch_columns(batch: &RecordBatch, columns: &[&str], path: &std::path::Path) -> Result<Columns> {
    columns
        .iter()
        .map(|want| {
            let found = batch
                .schema()
                .fields()
                .iter()
                .position(|f| f.name().eq_ignore_ascii_case(want));
            match found {
                Some(i) => as_i64(batch.column(i)).ok_or_else(|| Error::Internal {
                    path: path.to_owned(),
                    what: "a scheduler column is neither an integer nor a date/time",
                }),
                None => Ok(vec![None; batch.num_rows()]),
            }
        })
        .collect()
}

/// An integer column as `i64`, a date/time column in milliseconds since 1970-01-01.
fn as_i64(a: &ArrayRef) -> Option<Vec<Option<i64>>> {
    let values = |a: &dyn Array, get: &dyn Fn(usize) -> i64| -> Vec<Option<i64>> {
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| get(i)))
            .collect()
    };
    match a.data_type() {
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
            let ms = cast(a, &DataType::Timestamp(TimeUnit::Millisecond, None)).ok()?;
            let ms = ms.as_primitive::<TimestampMillisecondType>();
            Some(values(ms, &|i| ms.value(i)))
        }
        t if t.is_integer() => {
            let n = cast(a, &DataType::Int64).ok()?;
            let n = n.as_primitive::<Int64Type>();
            Some(values(n, &|i| n.value(i)))
        }
        _ => None,
    }
}

/// What the findings cost a transform, measured over a generated work directory (not run by
/// default):
///
/// ```text
/// bptmig-sandbox generate --out <dir> --processes 100000
/// BPTMIG_MEASURE_WORKDIR=<dir> cargo test --release -p bptmig-transform --lib \
///     scheduler_cost -- --ignored --nocapture
/// ```
///
/// Times the findings' reads (every row taken as moving) three times, then one whole
/// transform (which includes them) for scale.
#[cfg(test)]
mod measure {
    use std::time::Instant;

    use bptmig_model::{NoProgress, PipelineConfig};

    use super::*;
    use crate::stage::{run_stage, TransformOptions};

    #[test]
    #[ignore = "a measurement over a large generated work directory (see the module)"]
    fn scheduler_cost() {
        let Some(dir) = std::env::var_os("BPTMIG_MEASURE_WORKDIR") else {
            eprintln!("set BPTMIG_MEASURE_WORKDIR to a generated work directory");
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        let wd = WorkDir::new(&dir);
        let inputs = crate::input::inputs(&wd).unwrap();
        let verified = VerifiedParts::default();
        for round in 0..3 {
            let started = Instant::now();
            let facts = Facts::read(
                &Snapshot::new(wd.snapshot_dir("source")),
                &Snapshot::new(wd.snapshot_dir("target")),
            )
            .unwrap();
            let now = now_ms();
            let processes = read_rows(&inputs, c::PROCESS, &PROCESS_COLUMNS, &verified, |k, i| {
                let status = k[3][i];
                facts.process_open(status).then_some(k[0][i])
            })
            .unwrap();
            let activities = read_rows(
                &inputs,
                c::ACTIVITY,
                &ACTIVITY_COLUMNS,
                &verified,
                |k, i| {
                    let a = ActivityRow {
                        id: k[0][i]?,
                        process: k[1][i]?,
                        definition: k[2][i],
                        status: k[3][i],
                        next_run: k[4][i],
                    };
                    facts.activity_due(&a, now).then_some(a)
                },
            )
            .unwrap();
            println!(
                "round {round}: findings' reads {:.3} s ({} open processes, {} due activities)",
                started.elapsed().as_secs_f64(),
                processes.len(),
                activities.len()
            );
        }
        let text = format!(
            "workdir = \"{}\"\n[source]\nconnection = \"server=generated-prod\"\n[target]\n\
             connection = \"server=generated-qa\"\n[mapping]\nunmapped_user = \"null\"\n\
             unmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n\
             unmoved_reference = \"null\"\n",
            dir.display()
        );
        let path = dir.join("measure-pipeline.toml");
        std::fs::write(&path, &text).unwrap();
        let config = PipelineConfig::parse(&text, &path, &|_| Some("unused".to_owned())).unwrap();
        let _ = std::fs::remove_dir_all(wd.stage_dir(crate::STAGE));
        let mut run = bptmig_workdir::RunState::read(&wd).unwrap().unwrap();
        run.stages.remove(crate::STAGE);
        run.write(&wd).unwrap();
        let started = Instant::now();
        let summary = run_stage(
            &config,
            &NoProgress,
            &TransformOptions::default(),
            &verified,
        )
        .unwrap();
        println!(
            "whole transform {:.3} s; scheduler: {:?}",
            started.elapsed().as_secs_f64(),
            summary.report.scheduler
        );
    }
}
