//! Extract: stream the selected BPT process history from a platform database into Parquet.
//!
//! [`extract()`] runs the stage (its `stage` module reads as its table of contents):
//!
//! * pre-flight: the platform tables present, the BPT queues drained (`bptmig_db::preflight`);
//!   only then is the work directory bound to the two databases (`run.json`);
//! * `snapshot`: the mapping tables of both environments ([`write_snapshot`]);
//! * [`selection`]: the selected top-level processes ([`selection::roots_query`]), kept in
//!   `extract/roots.parquet`, and the trees under them, scoped level by level in temporary
//!   tables; `bptmig check` reads what those trees reference through
//!   [`selection::used_ids`];
//! * `stream`: each instance table in load order, keyset-paged (`ID > @last ORDER BY ID`)
//!   into part files of bounded row groups, and the key-less `OSEVT_*` tables through the
//!   same streaming writer. An interrupted extract resumes from its manifests.
//!
//! Every statement runs inside a [`Step`] of a `session`: a transient fault (a dropped
//! connection, a command timeout, a deadlock) redoes that step on a new connection, up to the
//! side's `retries`, and when they are spent the stage stops with [`Error::RetriesSpent`].
//! Whatever the extract reads back of its own output (resumed tables, the ID files that scope
//! the trees, the roots file) is first checked against what was listed (`listed`); a damaged
//! file is written anew.
//!
//! The work-directory format is `bptmig_workdir`'s; connections, queries and the TDS → Arrow
//! conversion are `bptmig_db`'s.
//!
//! ```no_run
//! # async fn demo(config: bptmig_model::PipelineConfig) -> bptmig_extract::Result<()> {
//! let summary = bptmig_extract::extract(&config, &bptmig_model::NoProgress, &Default::default()).await?;
//! println!("{} tables", summary.tables.len());
//! # Ok(()) }
//! ```

pub use listed::ROOTS_ENTRY_FILE;
pub use session::Step;
pub use snapshot::{instance_stats, server_clock, write_snapshot};
pub use stage::{extract, ExtractOptions, ExtractSummary, TableSummary, STAGE};

use bptmig_db::{Fault, Side, Transient};
use bptmig_model::pipeline::CommandTimeout;

mod listed;
pub mod selection;
mod session;
mod snapshot;
mod stage;
mod stream;

/// Errors of the extract stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A connection or a statement failed.
    #[error(transparent)]
    Db(#[from] bptmig_db::Error),
    /// The work directory could not be read or written.
    #[error(transparent)]
    Workdir(#[from] bptmig_workdir::Error),
    /// The selection asks for broken trees under `selection.broken_tree = "fail"`.
    #[error(transparent)]
    BrokenTrees(#[from] selection::BrokenTreesRefused),
    #[error("`{key}` names `{unknown}`, which the source does not have; it has `{known}`")]
    UnknownNames {
        key: &'static str,
        unknown: String,
        known: String,
    },
    #[error(
        "the {stage} of run {run_id} was interrupted; every finished part is kept: run the same \
         command again to resume"
    )]
    Interrupted { stage: &'static str, run_id: String },
    /// A step met transient faults on every attempt its side's `retries` allowed.
    #[error(
        "{step} on the {side} failed {}: {}. Nothing partial was kept: every part finished \
         before it stays listed, so run the same command again to resume from there",
        attempts(*side, *retries),
        fault.describe(*side, timeout)
    )]
    RetriesSpent {
        step: Step,
        side: Side,
        /// The side's `retries`.
        retries: u32,
        /// The fault of the last attempt.
        fault: Fault,
        /// The side's command timeout, which a timeout's message names.
        timeout: CommandTimeout,
    },
}

/// "after 6 attempts (`source.retries = 5`)", or for no retries "at once
/// (`source.retries = 0`)".
fn attempts(side: Side, retries: u32) -> String {
    if retries == 0 {
        format!("at once (`{side}.retries = 0`)")
    } else {
        format!(
            "after {} attempts (`{side}.retries = {retries}`)",
            retries.saturating_add(1)
        )
    }
}

impl Transient for Error {
    fn fault(&self) -> Option<Fault> {
        match self {
            Error::Db(e) => e.fault(),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
