//! Extract: stream the selected BPT process history from a platform database into Parquet.
//!
//! * [`extract()`] runs the stage: pre-flight (platform tables present, BPT queues drained),
//!   snapshots of the mapping tables of both environments, selection of whole process trees,
//!   then each instance table in load order, keyset-paged (`ID > @last ORDER BY ID`) into part
//!   files of bounded row groups. An interrupted extract resumes from its manifests.
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

use std::path::Path;

mod stage;

pub use stage::{
    extract, roots_query, write_snapshot, ExtractOptions, ExtractSummary, TableSummary, STAGE,
};

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

impl Error {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        bptmig_workdir::Error::io(path, action, source).into()
    }

    pub(crate) fn parquet(path: &Path, source: parquet::errors::ParquetError) -> Self {
        bptmig_workdir::Error::parquet(path, source).into()
    }

    pub(crate) fn arrow(what: &str, source: arrow::error::ArrowError) -> Self {
        bptmig_workdir::Error::arrow(what, source).into()
    }

    /// A failed query, with its SQL cut to one line of at most 200 characters.
    pub fn query(side: bptmig_db::Side, sql: &str, source: tiberius::error::Error) -> Self {
        bptmig_db::Error::query(side, sql, source).into()
    }
}
