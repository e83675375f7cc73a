//! Load: write the transformed Parquet into the target in dependency order, exactly once per
//! chunk; read it back to verify; remove it again on rollback (README, "Load", "Verify" and "Rollback").
//!
//! * [`load()`]: pre-load checks (queues empty, the reserved ID block still free, every
//!   definition, user, group and tenant the rows point at still present), then every chunk of
//!   the [`plan::Plan`] in its own transaction together with its row in the ledger table, so
//!   that a rerun skips what is done and a crash leaves nothing of a chunk behind.
//! * [`verify()`]: counts, an order-independent content digest per table, and the platform
//!   invariants over the rows the ledger lists.
//! * [`rollback()`]: the run's chunks deleted in reverse order, each with its ledger row.
//! * [`render`]: exact SQL literals (strategy `insert`); [`bulk`]: exact TDS bulk rows
//!   (strategy `bulk`).

use std::path::{Path, PathBuf};

pub mod bulk;
mod ledger;
pub mod plan;
pub mod render;
mod rollback;
mod stage;
mod target;
pub mod value;
mod verify;

pub use ledger::LedgerRow;
pub use rollback::{rollback, RollbackSummary};
pub use stage::{chunk_status, load, ChunkStatus, LoadOptions, LoadSummary, TableLoad, STAGE};
pub use verify::{verify, TableCheck, VerifySummary, VERIFY_STAGE};

/// Errors of load, verify and rollback.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A connection or a statement failed.
    #[error(transparent)]
    Db(#[from] bptmig_db::Error),
    /// The work directory could not be read or written.
    #[error(transparent)]
    Workdir(#[from] bptmig_workdir::Error),
    #[error(
        "the transform is not complete in `{}`; run `bptmig transform` first",
        workdir.display()
    )]
    NotTransformed { workdir: PathBuf },
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read `{}`: {source}; run `bptmig transform` again", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{what}: {source}")]
    Arrow {
        what: String,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("`{}` is damaged: it lacks {what}; run `bptmig transform` again", path.display())]
    Corrupt { path: PathBuf, what: String },
    #[error("table `{table}`: {source}")]
    Render {
        table: String,
        #[source]
        source: Box<value::ValueError>,
    },
    #[error("table `{table}`: {source}")]
    Bulk {
        table: String,
        #[source]
        source: Box<value::ValueError>,
    },
    #[error(
        "the target's BPT queue `{table}` holds {rows} row(s); let the target's scheduler drain \
         it (or stop the processes that fill it) before loading history"
    )]
    QueueNotEmpty { table: &'static str, rows: i64 },
    #[error(
        "the target's `{table}` has {found} row(s) with IDs in the block this run reserved \
         ({ranges}) that this run did not load ({ours} are this run's): the target moved on \
         since the extract; start a new work directory and run extract and transform again"
    )]
    IdBlockTaken {
        table: String,
        ranges: String,
        found: i64,
        ours: i64,
    },
    #[error(
        "{} value(s) the transformed rows reference are missing in the target: {}; restore \
         them in the target, or start a new work directory and run extract and transform again \
         so that the maps are made from the target as it is now",
        items.len(),
        items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    MissingReferences { items: Vec<MissingReference> },
    #[error(
        "the target's `{table}` lacks column(s) {columns} that the transformed rows carry; the \
         two environments run different platform versions, or the table differs"
    )]
    MissingColumns { table: String, columns: String },
    #[error(
        "the ledger says chunk `{chunk}` of `{table}` was loaded by run {run_id} from \
         different rows (digest {had}, now {has}): the transform was re-run after a partial \
         load; run `bptmig rollback` with the previous transform output, or start over in a new \
         work directory"
    )]
    LedgerConflict {
        run_id: String,
        table: String,
        chunk: String,
        had: String,
        has: String,
    },
    #[error(
        "loading chunk `{chunk}` of `{table}` failed and was rolled back (nothing of it is in \
         the target; {done} earlier chunk(s) stay loaded){}: {reason}; fix the target and run \
         `bptmig load` again to continue",
        row.as_ref().map(|r| format!(" at row ID {r}")).unwrap_or_default()
    )]
    ChunkFailed {
        table: String,
        chunk: String,
        done: usize,
        row: Option<i64>,
        reason: String,
    },
    #[error(
        "load strategy `bulk` is not accepted by the target ({reason}); use `load.strategy = \
         \"insert\"` (or `\"auto\"`)"
    )]
    BulkUnsupported { reason: String },
    #[error("the load of run {run_id} was interrupted; run the same command again to resume")]
    Interrupted { run_id: String },
}

/// A value referenced by transformed rows that the target lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingReference {
    pub table: String,
    pub column: String,
    pub value: i64,
    pub references: String,
    pub rows: u64,
}

impl std::fmt::Display for MissingReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}.{}` = {} ({} row(s)) needs `{}` row {}",
            self.table, self.column, self.value, self.rows, self.references, self.value
        )
    }
}

impl Error {
    fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            action,
            source,
        }
    }

    fn parquet(path: &Path, source: parquet::errors::ParquetError) -> Self {
        Self::Parquet {
            path: path.to_owned(),
            source,
        }
    }

    fn arrow(what: &str, source: arrow::error::ArrowError) -> Self {
        Self::Arrow {
            what: what.to_owned(),
            source,
        }
    }
}

/// `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
