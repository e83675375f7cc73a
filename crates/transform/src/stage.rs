//! The transform stage: phase 1 plans ([`crate::plan`]), phase 2 rewrites
//! ([`crate::rewrite`]); this module runs them in order and records the stage's state. A
//! stage marked done runs again only for what of its output is damaged or missing
//! ([`crate::outputs`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::layout::{DEFERRED_FILE, EXTRACT};
use bptmig_workdir::{Cancel, RunState, StageState, WorkDir};
use rayon::prelude::*;

use crate::anonymize::{self, Anonymizer};
use crate::input::Input;
use crate::outputs::{self, Redone};
use crate::report::Report;
use crate::rewrite::{self, Rewrite};
use crate::verified::VerifiedParts;
use crate::{deferred, done, id_maps, input, plan, Error, Result};

/// Name of this stage in the work directory and in `run.json`.
pub const STAGE: &str = bptmig_workdir::layout::TRANSFORM;

/// What a transform did.
#[derive(Debug, Clone)]
pub struct TransformSummary {
    pub already_done: bool,
    pub report: Report,
    /// What of an earlier run's output was found damaged or missing and written again, and
    /// why (each also sent to the reporter as a note when found).
    pub redone: Vec<Redone>,
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
    run_stage(config, reporter, options, &VerifiedParts::default())
}

/// [`transform_with`], with the parts checked so far in this run in `verified`.
pub(crate) fn run_stage(
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &TransformOptions,
    verified: &VerifiedParts,
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
    let report_path = wd.report_file();
    let inputs = input::inputs(&wd)?;
    let mut redone = Vec::new();
    if run.stages.get(STAGE) == Some(&StageState::Done) {
        let damaged = tracing::info_span!("check_output")
            .in_scope(|| outputs::damaged(&wd, &inputs, verified))?;
        if damaged.is_empty() {
            let report = Report::read(&report_path)?;
            return Ok(TransformSummary {
                already_done: true,
                report,
                redone,
            });
        }
        note_redone(reporter, &mut redone, damaged);
    }
    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(&wd)?;

    let steps = Steps {
        wd: &wd,
        run: &run,
        config,
        reporter,
        options,
        verified,
    };
    let report = steps.run_transform(&inputs, &mut redone)?;
    tracing::info!(
        parts = verified.hashed(),
        "parts checked against their manifests"
    );
    report.write(&report_path)?;
    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(&wd)?;
    Ok(TransformSummary {
        already_done: false,
        report,
        redone,
    })
}

/// Adds to `redone` what of `found` it does not name yet, each noted for the person running
/// the stage.
fn note_redone(reporter: &dyn Reporter, redone: &mut Vec<Redone>, found: Vec<Redone>) {
    for r in found {
        if redone.iter().any(|known| known.output == r.output) {
            continue;
        }
        tracing::warn!(output = %r.output, reason = %r.reason, "transform output written again");
        reporter.note(&r.to_string());
        redone.push(r);
    }
}

/// What every step of a run shares.
struct Steps<'a> {
    wd: &'a WorkDir,
    run: &'a RunState,
    config: &'a PipelineConfig,
    reporter: &'a dyn Reporter,
    options: &'a TransformOptions,
    verified: &'a VerifiedParts,
}

impl Steps<'_> {
    /// Phase 1, then phase 2 beside the ID maps, then the deferred file, the stage's
    /// manifest and the report's totals. Tables marked done whose output is damaged are
    /// added to `redone`.
    fn run_transform(&self, inputs: &[Input], redone: &mut Vec<Redone>) -> Result<Report> {
        let Self {
            wd,
            run,
            config,
            reporter,
            options,
            verified,
        } = *self;
        let started = std::time::Instant::now();
        let cancel = Cancel::from(options.cancel.clone());
        let mut report = Report::new(&run.run_id);
        report.broken_trees = bptmig_workdir::broken_trees::trees(wd)?;

        let plan = plan::build(wd, config, inputs, &mut report, verified)?;
        report.scheduler = crate::scheduler::findings(wd, inputs, &plan, verified, reporter)?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "transform phase 1 (maps, trees, IDs) done"
        );
        stop_if_cancelled(&cancel, &run.run_id)?;

        let plan_hash = done::plan_hash(wd, run, config, inputs)?;
        let plan_hash = anonymize::plan_hash(plan_hash, config.anonymize.as_ref());
        let source = crate::maps::Snapshot::new(wd.snapshot_dir("source"));
        let anonymizer = tracing::info_span!("anonymize.rules")
            .in_scope(|| Anonymizer::build(config.anonymize.as_ref(), inputs, &source, verified))?;
        let rewrite = Rewrite {
            wd,
            run,
            config,
            reporter,
            cancel: &cancel,
            part_delay: options.part_delay,
            plan: &plan,
            anonymizer: anonymizer.as_ref(),
            plan_hash: &plan_hash,
            started,
            verified,
        };
        let mut deferred = Vec::new();
        let mut damaged = Vec::new();
        let jobs = rewrite.pending(inputs, &mut report, &mut deferred, &mut damaged)?;
        note_redone(reporter, redone, damaged);
        // The ID maps go to disk beside the rewrite, not before it.
        let row_group_rows = config.extract.row_group_rows;
        let (maps, rewritten) = rayon::join(
            || {
                plan.ids
                    .par_iter()
                    .map(|(table, map)| id_maps::write(wd, run, table, map, row_group_rows))
                    .collect::<Result<Vec<_>>>()
            },
            || tracing::info_span!("rewrite").in_scope(|| rewrite.run(&jobs)),
        );
        rewritten?;
        let mut derived = maps?;
        rewrite::collect(jobs, &mut report, &mut deferred)?;
        anonymize::summarise(config.anonymize.as_ref(), &mut report);
        unmoved_policy(config, &mut report)?;
        let keep =
            config.mapping.unmoved_reference == bptmig_model::pipeline::UnmovedReference::Keep;
        crate::refs::InstanceReferences::new(&plan.refs, inputs, &report, keep).write(wd)?;

        deferred.sort();
        let path = wd.stage_dir(STAGE).join(DEFERRED_FILE);
        derived.push(deferred::write(&path, run, &deferred, row_group_rows)?);
        outputs::write_derived(wd, run, derived)?;
        report.deferred = deferred.len() as u64;
        report.finish();
        Ok(report)
    }
}

/// Applies `mapping.unmoved_reference` to the identifiers inside values that could not be
/// mapped: under `fail`, [`Error::UnmovedReferences`] listing them; else the policy is
/// noted in the report beside their counts.
fn unmoved_policy(config: &PipelineConfig, report: &mut Report) -> Result<()> {
    let total = report.unmoved_total();
    if total == 0 {
        return Ok(());
    }
    let policy = config.mapping.unmoved_reference;
    if policy == bptmig_model::pipeline::UnmovedReference::Fail {
        let items = report
            .tables
            .iter()
            .flat_map(|(t, c)| c.unmoved_samples.iter().map(|u| (t.clone(), u.clone())))
            .collect();
        return Err(Error::UnmovedReferences { total, items });
    }
    report.unmoved_reference = Some(policy.as_str().to_owned());
    Ok(())
}

/// [`Error::Interrupted`] once `cancel` is set.
pub(crate) fn stop_if_cancelled(cancel: &Cancel, run_id: &str) -> Result<()> {
    if cancel.is_set() {
        return Err(Error::Interrupted {
            run_id: run_id.to_owned(),
        });
    }
    Ok(())
}

/// Where `transform` writes `table`'s parts.
pub fn output_dir(workdir: &Path, table: &str) -> PathBuf {
    workdir.join(STAGE).join(table)
}

#[cfg(test)]
mod measure;
