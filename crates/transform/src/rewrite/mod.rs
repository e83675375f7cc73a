//! Phase 2, the rewrite: every part of every table, in parallel, each into its own file.
//!
//! * here: the tables to rewrite ([`TableJob`]) and one queue over all their parts
//!   ([`Rewrite::run`]);
//! * [`part`]: one part read once, rewritten batch by batch, written as it goes;
//! * [`batch`]: one batch, column by column, through a function per column role
//!   ([`columns`], [`values`]), plus the tree level and deferred references ([`levels`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use bptmig_model::{PipelineConfig, Reporter};
use bptmig_workdir::{Cancel, Manifest, PartEntry, RunState, WorkDir};

use crate::deferred::{self, Deferred};
use crate::done::TableDone;
use crate::input::Input;
use crate::outputs::{Redone, TableOutput, TableState};
use crate::plan::TransformPlan;
use crate::report::{Report, TableCounts};
use crate::stage::{stop_if_cancelled, STAGE};
use crate::verified::VerifiedParts;
use crate::{Error, Result};

mod batch;
mod columns;
mod levels;
mod part;
pub(crate) mod values;

/// What every worker of phase 2 shares.
pub(crate) struct Rewrite<'a> {
    pub(crate) wd: &'a WorkDir,
    pub(crate) run: &'a RunState,
    pub(crate) config: &'a PipelineConfig,
    pub(crate) reporter: &'a dyn Reporter,
    pub(crate) cancel: &'a Cancel,
    /// Pause after each rewritten part (tests that interrupt a running transform).
    pub(crate) part_delay: Option<std::time::Duration>,
    pub(crate) plan: &'a TransformPlan,
    /// `[anonymize]`'s rules, resolved against the extract (none without the section).
    pub(crate) anonymizer: Option<&'a crate::anonymize::Anonymizer>,
    pub(crate) plan_hash: &'a str,
    pub(crate) started: std::time::Instant,
    /// The parts this run has checked against their manifests.
    pub(crate) verified: &'a VerifiedParts,
}

/// One rewritten part.
struct PartResult {
    rows_in: u64,
    entry: Option<PartEntry>,
    counts: TableCounts,
    deferred: Vec<Deferred>,
}

/// A table being rewritten by phase 2: where it goes, and its parts as they finish.
pub(crate) struct TableJob<'a> {
    input: &'a Input,
    output: TableOutput,
    started: AtomicBool,
    remaining: AtomicUsize,
    parts: Mutex<Vec<Option<PartResult>>>,
    errors: Mutex<Vec<Error>>,
    finished: Mutex<Option<(TableCounts, Vec<Deferred>)>>,
}

impl<'a> TableJob<'a> {
    fn new(wd: &WorkDir, input: &'a Input) -> Self {
        let n = input.manifest.parts.len();
        Self {
            input,
            output: TableOutput::new(wd, &input.name),
            started: AtomicBool::new(false),
            remaining: AtomicUsize::new(n),
            parts: Mutex::new((0..n).map(|_| None).collect()),
            errors: Mutex::new(Vec::new()),
            finished: Mutex::new(None),
        }
    }

    /// An empty output directory, with no manifest or done marker of an earlier attempt.
    fn prepare(&self) -> Result<()> {
        let out = &self.output;
        let _ = std::fs::remove_file(&out.done);
        std::fs::create_dir_all(&out.dir).map_err(|e| Error::io(&out.dir, "create", e))?;
        bptmig_workdir::remove_unlisted(&out.dir, &[])?;
        let _ = std::fs::remove_file(Manifest::path(&out.dir));
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
                return Err(Error::Internal {
                    path: self.output.dir.clone(),
                    what: "a part of the table was not rewritten",
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
        manifest.write(&self.output.dir)?;
        let deferred =
            deferred::write(&self.output.deferred, run, &table_deferred, row_group_rows)?;
        // Written last: its presence means everything above is complete.
        TableDone {
            plan_hash: plan_hash.to_owned(),
            counts: counts.clone(),
            deferred,
        }
        .write(&self.output.done)?;
        Ok((counts, table_deferred))
    }
}

impl Rewrite<'_> {
    /// The tables of `inputs` to rewrite. A table finished under the same plan (by an
    /// interrupted earlier run) whose output is intact is kept: its counts go to `report`,
    /// its rows to `deferred`. One marked done whose output is damaged is redone, and noted
    /// in `redone`.
    pub(crate) fn pending<'i>(
        &self,
        inputs: &'i [Input],
        report: &mut Report,
        deferred: &mut Vec<Deferred>,
        redone: &mut Vec<Redone>,
    ) -> Result<Vec<TableJob<'i>>> {
        let mut jobs = Vec::new();
        for input in inputs {
            stop_if_cancelled(self.cancel, &self.run.run_id)?;
            let job = TableJob::new(self.wd, input);
            match job.output.state(Some(self.plan_hash), self.verified)? {
                TableState::Intact(done) => {
                    self.reporter
                        .note(&format!("{}: already transformed, kept", input.name));
                    deferred.extend(deferred::read(&job.output.deferred)?);
                    report.tables.insert(input.name.clone(), done.counts);
                    continue;
                }
                TableState::Damaged(reason) => redone.push(Redone {
                    output: input.name.clone(),
                    reason,
                }),
                TableState::NotDone | TableState::OtherPlan => {}
            }
            job.prepare()?;
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// Rewrites every part of `jobs` and finishes each table as its last part is done.
    ///
    /// One queue over all parts, largest first, taken by one worker per thread: a worker
    /// never waits for a table's last part while parts of other tables are left, and the
    /// big parts do not come last. The first error stops the workers at their next part;
    /// tables finished by then are kept for the next run.
    pub(crate) fn run(&self, jobs: &[TableJob]) -> Result<()> {
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
        stop_if_cancelled(self.cancel, &self.run.run_id)?;
        if !job.started.swap(true, Ordering::Relaxed) {
            let rows = job.input.manifest.rows();
            self.reporter
                .table_started(STAGE, &job.input.name, Some(rows));
        }
        let rows = self.config.extract.row_group_rows;
        let result = part::rewrite_part(
            self.wd,
            self.run,
            (job.input, part),
            (self.plan, self.anonymizer),
            rows,
            self.verified,
        )?;
        if let Some(d) = self.part_delay {
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

/// The counts and deferred rows of every table of `jobs`, once [`Rewrite::run`] finished
/// them all.
pub(crate) fn collect(
    jobs: Vec<TableJob>,
    report: &mut Report,
    deferred: &mut Vec<Deferred>,
) -> Result<()> {
    for job in jobs {
        let Some((counts, table_deferred)) = lock(&job.finished).take() else {
            return Err(Error::Internal {
                path: job.output.dir.clone(),
                what: "a table was left unfinished",
            });
        };
        report.tables.insert(job.input.name.clone(), counts);
        deferred.extend(table_deferred);
    }
    Ok(())
}

/// A lock that a panicked holder does not poison for the others (its data stays usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
