//! Extract: stream the selected BPT process history from a platform database into Parquet.
//!
//! [`extract()`] runs the stage (its `stage` module reads as its table of contents):
//!
//! * pre-flight: the platform tables present, the BPT queues drained (`bptmig_db::preflight`);
//! * `snapshot`: the mapping tables of both environments ([`write_snapshot`]);
//! * [`selection`]: the selected top-level processes ([`selection::roots_query`]), kept in
//!   `extract/roots.parquet`, and the trees under them, scoped level by level in temporary
//!   tables; `bptmig check` reads what those trees reference through
//!   [`selection::used_ids`];
//! * `stream`: each instance table in load order, keyset-paged (`ID > @last ORDER BY ID`)
//!   into part files of bounded row groups, and the key-less `OSEVT_*` tables through the
//!   same streaming writer. An interrupted extract resumes from its manifests.
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

pub use snapshot::write_snapshot;
pub use stage::{extract, ExtractOptions, ExtractSummary, TableSummary, STAGE};

pub mod selection;
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
}

pub type Result<T> = std::result::Result<T, Error>;
