//! The extract stage as a table of contents: pre-flight, snapshots of both environments,
//! selection of whole process trees, then every instance table of those trees.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use bptmig_db::{self as db, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::PipelineConfig;
use bptmig_model::Reporter;
use bptmig_workdir::layout::ROOTS_FILE;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{open_run, Cancel, Manifest, RunState, StageState, WorkDir};
use tracing::Instrument as _;

use crate::selection::{self, TreeScope};
use crate::{snapshot, stream, Error, Result};

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
/// visible with `-v`, and leaving the default log lines as they are.
pub async fn extract(
    config: &PipelineConfig,
    reporter: &dyn Reporter,
    options: &ExtractOptions,
) -> Result<ExtractSummary> {
    let wd = WorkDir::new(&config.workdir);
    wd.create()?;
    let _lock = wd.lock(STAGE)?;
    let mut run = open_run(&wd, config)?;
    if run.stages.get(STAGE) == Some(&StageState::Done) {
        let mut summary = summarize(&wd, &run)?;
        summary.already_done = true;
        return Ok(summary);
    }
    run.stages.insert(STAGE.to_owned(), StageState::Running);
    run.write(&wd)?;

    let (mut source, mut target) = connect(config)
        .instrument(tracing::debug_span!("preflight"))
        .await?;
    let ctx = Ctx {
        wd: &wd,
        run_id: &run.run_id,
        part_rows: config.extract.part_rows,
        row_group_rows: config.extract.row_group_rows,
        reporter,
        cancel: options.cancel.clone().into(),
        part_delay: options.part_delay,
    };
    async {
        snapshot::snapshot(&ctx, &mut target, Side::Target).await?;
        snapshot::snapshot(&ctx, &mut source, Side::Source).await
    }
    .instrument(tracing::debug_span!("snapshots"))
    .await?;
    drop(target);

    let roots = selection::select_roots(&ctx, &mut source, &config.selection)
        .instrument(tracing::debug_span!("selection"))
        .await?;
    let tables = extract_trees(&ctx, &mut source)
        .instrument(tracing::debug_span!("trees"))
        .await?;

    run.stages.insert(STAGE.to_owned(), StageState::Done);
    run.write(&wd)?;
    Ok(ExtractSummary {
        run_id: run.run_id.clone(),
        already_done: false,
        roots,
        tables,
    })
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
async fn connect(config: &PipelineConfig) -> Result<(SqlClient, SqlClient)> {
    let mut source = db::connect(Side::Source, &config.source).await?;
    db::preflight::require_platform(&mut source, Side::Source).await?;
    if let Some((table, rows)) = db::preflight::queued_events(&mut source, Side::Source).await? {
        return Err(Error::Db(db::Error::PendingEvents {
            side: Side::Source,
            table,
            rows,
        }));
    }
    let mut target = db::connect(Side::Target, &config.target).await?;
    db::preflight::require_platform(&mut target, Side::Target).await?;
    Ok((source, target))
}

/// Every instance table of the selected trees in load order, each scoped by the IDs of the
/// level above it (the roots, then the extracted processes, then their activities), then the
/// `OSEVT_*` tables of those activities.
async fn extract_trees(ctx: &Ctx<'_>, source: &mut SqlClient) -> Result<Vec<TableSummary>> {
    let scope = TreeScope::extract();
    let stage_dir = ctx.wd.stage_dir(STAGE);
    scope
        .fill_from_parts(
            source,
            selection::Level::Roots,
            &[stage_dir.join(ROOTS_FILE)],
        )
        .await?;
    let mut tables = Vec::new();
    for model in c::INSTANCE_TABLES {
        let filter = scope.filter(model.name);
        tables.push(stream::extract_table(ctx, source, model, &filter).await?);
        if let Some(level) = selection::Level::filled_by(model.name) {
            let parts = part_files(&ctx.wd.table_dir(STAGE, model.name))?;
            scope.fill_from_parts(source, level, &parts).await?;
        }
    }
    for name in selection::event_tables(source).await? {
        let model = c::osevt_table("OSEVT_*");
        let filter = scope.filter(&name);
        tables.push(stream::extract_keyless(ctx, source, &name, &model, &filter).await?);
    }
    Ok(tables)
}

/// The part files `dir`'s manifest lists.
fn part_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    Ok(Manifest::read(dir)?
        .map(|m| m.parts.iter().map(|p| dir.join(&p.file)).collect())
        .unwrap_or_default())
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
    let roots = PartReader::open(&dir.join(ROOTS_FILE))?.rows();
    Ok(ExtractSummary {
        run_id: run.run_id.clone(),
        already_done: false,
        roots,
        tables,
    })
}
