//! Extract: stream the selected BPT process history from a platform database into Parquet.
//!
//! * [`extract()`] runs the stage: pre-flight (platform tables present, BPT queues drained),
//!   snapshots of the mapping tables of both environments, selection of whole process trees,
//!   then each instance table in load order, keyset-paged (`ID > @last ORDER BY ID`) into part
//!   files of bounded row groups. An interrupted extract resumes from its manifests.
//! * [`workdir`]: the work-directory layout, lock, `run.json` and manifests (shared by every
//!   stage).
//! * [`types`]: SQL Server types → Arrow, exact conversions, date/times as ISO text.
//! * [`db`]: connections with errors a person can act on.
//!
//! ```no_run
//! # async fn demo(config: bptmig_model::PipelineConfig) -> bptmig_extract::Result<()> {
//! let summary = bptmig_extract::extract(&config, &bptmig_model::NoProgress, &Default::default()).await?;
//! println!("{} tables", summary.tables.len());
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

pub mod db;
pub mod parts;
mod stage;
pub mod types;
pub mod workdir;

pub use db::Side;
pub use stage::{
    extract, fingerprint, open_run, other_databases, read_batches, roots_query, snapshot_tables,
    write_snapshot, ExtractOptions, ExtractSummary, TableSummary, INSTANCE_STATS, ROOTS_FILE,
    STAGE,
};

/// Errors of the extract stage and of the work directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the {side} connection string is not valid: {reason}")]
    BadConnection { side: Side, reason: String },
    #[error(
        "cannot reach the {side} at `{addr}` within {timeout_secs} s ({reason}); check the host and \
         port in the pipeline's `{side}.connection`, the network, and `{side}.connect_timeout_secs`"
    )]
    Unreachable {
        side: Side,
        addr: String,
        timeout_secs: u64,
        reason: String,
    },
    #[error("login to the {side} at `{addr}` failed: {reason}; check the user in `{side}.connection` and the password variable it references")]
    LoginFailed {
        side: Side,
        addr: String,
        reason: String,
    },
    #[error("the {side} at `{addr}` refused the session: {reason}")]
    Handshake {
        side: Side,
        addr: String,
        reason: String,
    },
    #[error("the {side} is not an OutSystems platform database: missing {missing}; check `{side}.connection` (server and database)")]
    NotPlatform { side: Side, missing: String },
    #[error(
        "the {side} table `{table}` lacks column `{column}` that bptmig needs; the platform \
         version may be older than the one bptmig knows"
    )]
    MissingColumn {
        side: Side,
        table: String,
        column: &'static str,
    },
    #[error(
        "the {side}'s `{table}` holds {rows} unprocessed event(s): the BPT scheduler has not \
         drained it. Let it finish (or stop the applications that raise events) and run again; \
         extracting now would lose those events"
    )]
    PendingEvents {
        side: Side,
        table: &'static str,
        rows: i64,
    },
    #[error("`{key}` names `{unknown}`, which the source does not have; it has `{known}`")]
    UnknownNames {
        key: &'static str,
        unknown: String,
        known: String,
    },
    #[error("{side} query failed: `{sql}`")]
    Query {
        side: Side,
        sql: String,
        #[source]
        source: tiberius::error::Error,
    },
    #[error("{side} column type")]
    Type {
        side: Side,
        #[source]
        source: types::TypeError,
    },
    #[error("table `{table}`")]
    Convert {
        table: String,
        #[source]
        source: types::ConvertError,
    },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("Parquet file `{}`", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("Arrow data of `{what}`")]
    Arrow {
        what: String,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("`{}` is damaged ({reason}); delete the work directory's stage folder to redo the stage", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the work directory `{}` is in use by process {pid} (`bptmig {stage}`); wait for it to \
         finish, or remove `lock` there if that process is gone", path.parent().unwrap_or(path).display()
    )]
    Locked {
        path: PathBuf,
        pid: u32,
        stage: String,
    },
    #[error(
        "the work directory `{}` belongs to another {what} database; use a new `workdir` for \
         this pipeline", workdir.display()
    )]
    WorkdirMismatch {
        workdir: PathBuf,
        what: &'static str,
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
        Error::Io {
            path: path.to_owned(),
            action,
            source,
        }
    }

    pub(crate) fn parquet(path: &Path, source: parquet::errors::ParquetError) -> Self {
        Error::Parquet {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn arrow(what: &str, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            what: what.to_owned(),
            source,
        }
    }

    /// A failed query, with its SQL cut to one line of at most 200 characters.
    pub fn query(side: Side, sql: &str, source: tiberius::error::Error) -> Self {
        let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let sql = match one_line.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &one_line[..i]),
            None => one_line,
        };
        Error::Query { side, sql, source }
    }
}
