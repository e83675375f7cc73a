//! The extract stage as a table of contents: pre-flight, snapshots of both environments,
//! selection of whole process trees, then every instance table of those trees.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use bptmig_db::{self as db, Side};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::PipelineConfig;
use bptmig_model::Reporter;
use bptmig_workdir::layout::ROOTS_FILE;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{open_run, Cancel, Manifest, RunState, StageState, WorkDir};
use tracing::Instrument as _;

use crate::listed::{self, ListedPart};
use crate::session::{Session, Step};
use crate::{selection, snapshot, stream, Error, Result};

/// Name of this stage in the work directory and in `run.json`.
pub const STAGE: &str = bptmig_workdir::layout::EXTRACT;

/// Knobs that are not part of the pipeline.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Pause after each committed part. Only for tests that interrupt a running extract.
    pub part_delay: Option<Duration>,
    /// Set to stop at the next part boundary ([`Error::Interrupted`]); every part written
    /// so far stays listed and the next run resumes after it.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// What an extract did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractSummary {
    pub run_id: String,
    /// Nothing was left to do.
    pub already_done: bool,
    pub roots: u64,
    pub tables: Vec<TableSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub table: String,
    pub rows: u64,
    pub parts: usize,
    /// Rows that an earlier, interrupted run had already written.
    pub resumed_rows: u64,
}

/// Runs the extract stage for `config`, resuming whatever an earlier run left.
///
/// Each step runs in its own `debug` span (`preflight`, `snapshots`, `selection`, `trees`):
/// visible with `-v`, and leaving the default log lines as they are. The work directory is
/// bound to the pipeline's databases (`run.json`) only once both are connected and have
/// passed the pre-flight: a wrong port or password leaves nothing a corrected pipeline would
/// refuse.
pub async fn extract(
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &ExtractOptions,
) -> Result<ExtractSummary> {
    let wd = WorkDir::new(&config.workdir);
    wd.create()?;
    let _lock = wd.lock(STAGE)?;
    let earlier = earlier_run(&wd, config)?;
    // A run whose source snapshot an older bptmig took before the rows is extracted again
    // (everything listed is kept): only the snapshot is taken anew.
    if let Some(run) = earlier
        .as_ref()
        .filter(|r| r.stages.get(STAGE) == Some(&StageState::Done) && r.source_snapshot_after_rows)
    {
        if listed::output_intact(&wd)? {
            let mut summary = summarize(&wd, run)?;
            summary.already_done = true;
            return Ok(summary);
        }
    }

    let (mut source, mut target) = connect(config)
        .instrument(tracing::debug_span!("preflight"))
        .await?;
    let mut run = match earlier {
        Some(run) => run,
        None => open_run(&wd, config)?,
    };
    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(&wd)?;

    let ctx = Ctx {
        wd: &wd,
        run_id: &run.run_id,
        part_rows: config.extract.part_rows,
        row_group_rows: config.extract.row_group_rows,
        reporter,
        cancel: options.cancel.clone().into(),
        part_delay: options.part_delay,
    };
    let mut clock = snapshot::snapshot(&ctx, &mut target, true)
        .instrument(tracing::debug_span!("snapshot.target"))
        .await?;
    if clock.is_none() && run.target_clock.is_none() {
        // A snapshot kept from a run that stopped before recording its clock: now is close
        // enough (the findings compare it with NEXT_RUN, not with the rows).
        clock = snapshot::clock(&mut target).await?;
    }
    drop(target);
    if clock.is_some() {
        // Kept with the run, not in the snapshot, whose files a re-extract reproduces byte
        // for byte: the scheduler findings compare `NEXT_RUN` with the target's own time.
        run.target_clock = clock;
        run.write(&wd)?;
    }

    let roots = selection::select_roots(&ctx, &mut source, &config.selection)
        .instrument(tracing::debug_span!("selection"))
        .await?;
    let selected = roots.entry.rows;
    let tables = extract_trees(&ctx, &mut source, roots)
        .instrument(tracing::debug_span!("trees"))
        .await?;
    // The source's snapshot after its rows, taken again by every extract that gets here:
    // every extracted row then lies at or below its table's identity unless it is older
    // than a reseed (the creation order of a reseeded source), and every principal or
    // definition a row was given meanwhile is in it.
    snapshot::snapshot(&ctx, &mut source, false)
        .instrument(tracing::debug_span!("snapshot.source"))
        .await?;
    run.source_snapshot_after_rows = true;

    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(&wd)?;
    Ok(ExtractSummary {
        run_id: run.run_id.clone(),
        already_done: false,
        roots: selected,
        tables,
    })
}

/// The `run.json` of an earlier run of this work directory, checked against the pipeline's
/// databases; `None` when the directory is new (nothing is written then).
fn earlier_run(wd: &WorkDir, config: &PipelineConfig) -> Result<Option<RunState>> {
    if RunState::read(wd)?.is_none() {
        return Ok(None);
    }
    Ok(Some(open_run(wd, config)?))
}

/// What every step of one extract shares.
pub(crate) struct Ctx<'a> {
    pub wd: &'a WorkDir,
    pub run_id: &'a str,
    pub part_rows: usize,
    pub row_group_rows: usize,
    pub reporter: &'a dyn Reporter,
    cancel: Cancel,
    /// Pause after each committed part ([`ExtractOptions::part_delay`]).
    pub part_delay: Option<Duration>,
}

impl Ctx<'_> {
    /// Fails with [`Error::Interrupted`] once an interrupt was asked for.
    pub fn check_cancel(&self) -> Result<()> {
        if self.cancel.is_set() {
            return Err(Error::Interrupted {
                stage: STAGE,
                run_id: self.run_id.to_owned(),
            });
        }
        Ok(())
    }
}

/// Opens both sides and refuses a database that is not a platform, or a source whose BPT
/// queues still hold events.
async fn connect(config: &PipelineConfig) -> Result<(Session<'_>, Session<'_>)> {
    let mut source = Session::open(Side::Source, &config.source).await?;
    source.read_names().await?;
    let names = source.names().clone();
    source
        .run(
            &Step::Preflight,
            async |client, _| match db::preflight::queued_events(client, &names).await? {
                Some((table, rows)) => Err(Error::Db(db::Error::PendingEvents {
                    side: Side::Source,
                    table,
                    rows,
                })),
                None => Ok(()),
            },
        )
        .await?;
    let mut target = Session::open(Side::Target, &config.target).await?;
    target.read_names().await?;
    Ok((source, target))
}

/// Every instance table of the selected trees in load order, each scoped by the IDs of the
/// level above it (the roots, then the extracted processes, then their activities), then the
/// `OSEVT_*` tables of those activities.
async fn extract_trees(
    ctx: &Ctx<'_>,
    source: &mut Session<'_>,
    roots: ListedPart,
) -> Result<Vec<TableSummary>> {
    source.fill(selection::Level::Roots, vec![roots]).await?;
    let mut tables = Vec::new();
    for model in c::INSTANCE_TABLES {
        tables.push(stream::extract_table(ctx, source, model).await?);
        if let Some(level) = selection::Level::filled_by(model.name) {
            let parts = listed::listed_parts(&ctx.wd.table_dir(STAGE, model.name))?;
            source.fill(level, parts).await?;
        }
    }
    let spelled = source.names().clone();
    let names = source
        .run(&Step::EventTables, async |client, _| {
            selection::event_tables(client, &spelled).await
        })
        .await?;
    for name in names {
        // An event table has no name in the model: the work directory keeps the one
        // `OSSYS_ENTITY.EVENT_TABLE_NAME` gives, as bptmig always did.
        let model = c::osevt_table("OSEVT_*");
        tables.push(stream::extract_keyless(ctx, source, &name, &model).await?);
    }
    Ok(tables)
}

/// The summary of an extract that an earlier run finished.
fn summarize(wd: &WorkDir, run: &RunState) -> Result<ExtractSummary> {
    let mut tables = Vec::new();
    let dir = wd.stage_dir(STAGE);
    for name in bptmig_workdir::stage_tables(&dir)? {
        if let Some(m) = Manifest::read(&dir.join(&name))? {
            tables.push(TableSummary {
                table: name,
                rows: m.rows(),
                parts: m.parts.len(),
                resumed_rows: m.rows(),
            });
        }
    }
    let roots = match listed::listed_roots(&dir)? {
        listed::Roots::Intact(roots) => roots.entry.rows,
        _ => PartReader::open(&dir.join(ROOTS_FILE))?.rows(),
    };
    Ok(ExtractSummary {
        run_id: run.run_id.clone(),
        already_done: false,
        roots,
        tables,
    })
}
