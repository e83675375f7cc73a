//! Load: write the transformed Parquet into the target in dependency order, exactly once per
//! chunk; read it back to verify; remove it again on rollback (README, "Load", "Verify" and
//! "Rollback").
//!
//! * [`load()`]: the [`plan::LoadPlan`] (every chunk, read once from the transformed parts,
//!   each part checked against its manifest first), the target's lock (one load at a time
//!   per target), the trees the target already holds from this source
//!   ([`AlreadyMovedTrees`], skipped or refused per `selection.already_moved`), the pre-load
//!   checks (queues empty, the reserved ID block still free, every definition, user, group
//!   and tenant the rows point at still present, bulk copy's column types), then every chunk
//!   in its own transaction together with its [`LedgerRow`] and the trees whose roots it
//!   holds, so that a rerun skips what is done, a crash leaves nothing of a chunk behind and
//!   the target remembers what it received. A chunk cut off by a transient fault (a lost
//!   connection, a timeout, a deadlock) is tried again on a new connection. A chunk's rows
//!   reach the target through a writer: batched `INSERT … VALUES` (strategy `insert`) or TDS
//!   bulk copy (strategy `bulk`).
//! * [`verify()`]: the transformed parts checked against their manifests, then counts, an
//!   order-independent content digest per table, and the platform invariants over the rows
//!   the ledger lists.
//! * [`rollback()`]: the run's chunks deleted in reverse order, each with its ledger row and
//!   its trees' rows.
//! * [`already_moved()`]: for `bptmig check`, how many selected trees the target already holds.
//! * [`value`]: a chunk's columns bound once to their SQL types, and the exact SQL literals
//!   and TDS bulk values both writers send.
//!
//! ```no_run
//! # async fn demo(config: &bptmig_model::PipelineConfig) -> bptmig_load::Result<()> {
//! let options = bptmig_load::LoadOptions::default();
//! let summary = bptmig_load::load(config, &bptmig_model::NoProgress, &options).await?;
//! println!("{} chunk(s) loaded with {}", summary.chunks_loaded, summary.strategy);
//! # Ok(()) }
//! ```

use std::path::PathBuf;

use bptmig_db::{Fault, Side, Transient};
use bptmig_model::pipeline::CommandTimeout;

pub mod id_maps;
pub mod plan;
pub mod probe;
pub mod value;

mod already_moved;
mod ledger;
mod preflight;
mod report;
mod rollback;
mod stage;
#[cfg(test)]
mod statement_bounds;
mod status;
mod target;
#[cfg(test)]
mod testing;
mod verify;
mod writer;

pub use already_moved::{
    already_moved, AlreadyMovedCount, AlreadyMovedTrees, MovedTree, SourceRoot,
};
pub use ledger::lock::{LockHolder, STALE_AFTER};
pub use ledger::shape::missing_unique_keys;
pub use ledger::trees::RecordedTree;
pub use ledger::{LedgerRow, LedgerTables};
pub use rollback::{rollback, RollbackSummary};
pub use stage::{load, LoadOptions, LoadSummary, TableLoad, STAGE};
pub use status::{chunk_status, ChunkStatus};
pub use target::Refused;
pub use verify::{verify, TableCheck, VerifySummary, VERIFY_STAGE};
pub use writer::{BulkRefusal, ChunkError};

/// Errors of load, verify and rollback.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A connection or a statement failed.
    #[error(transparent)]
    Db(#[from] bptmig_db::Error),
    /// The work directory could not be read or written, or a transformed part not read.
    #[error(transparent)]
    Workdir(#[from] bptmig_workdir::Error),
    #[error(
        "the transform is not complete in `{}`; run `bptmig transform` first",
        workdir.display()
    )]
    NotTransformed { workdir: PathBuf },
    #[error("Arrow data of `{what}`")]
    Arrow {
        what: String,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("`{}` is damaged: it lacks {what}; run `bptmig transform` again", path.display())]
    Corrupt { path: PathBuf, what: String },
    /// A column the writers cannot bind, or a value its column cannot hold exactly.
    #[error("table `{table}`")]
    Value {
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
        "the ledger says chunk `{chunk}` of `{table}` was loaded by run {run_id}, by an older \
         bptmig (text digest), and these rows no longer render to that digest: the transform \
         was re-run after a partial load, or this bptmig writes literals differently; finish \
         the load with the bptmig version that started it, or run `bptmig rollback` and load \
         again"
    )]
    LedgerOlderDigest {
        run_id: String,
        table: String,
        chunk: String,
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
        reason: Box<ChunkError>,
    },
    #[error(
        "load strategy `bulk` is not accepted by the target ({reason}); use `load.strategy = \
         \"insert\"` (or `\"auto\"`)"
    )]
    BulkUnsupported { reason: BulkRefusal },
    #[error(
        "load strategy `bulk` cannot be used with `ids.strategy = \"generated\"`: bulk copy \
         writes the IDs it is given, and here the target must generate them; set \
         `load.strategy = \"insert\"` (or `\"auto\"`)"
    )]
    BulkWithGenerated,
    #[error(
        "the target's `{table}` would give the moved rows IDs {first} to {last}, but {found} \
         of its rows already have IDs there (rows were inserted with explicit IDs above its \
         identity): reseed its identity above them (`DBCC CHECKIDENT`, by someone allowed to), \
         or use `ids.strategy = \"renumber\"`"
    )]
    IdentityTaken {
        table: String,
        first: i64,
        last: i64,
        found: i64,
    },
    #[error(
        "the tables `[load.tables]` names are not as bptmig needs them (see the README, \
         \"Targets without DDL rights\"); nothing was loaded: {}",
        problems.join("; ")
    )]
    OwnTables { problems: Vec<String> },
    #[error(
        "the target's pairs table `{pairs}` holds {found} ID pair(s) of run {run_id} for \
         `{table}`, but the ledger lists {rows} row(s) of it as loaded: the captured IDs were \
         changed outside bptmig; run `bptmig rollback` and load again"
    )]
    PairsIncomplete {
        pairs: String,
        run_id: String,
        table: String,
        found: u64,
        rows: u64,
    },
    #[error(
        "loading chunk `{chunk}` of `{table}` failed {attempts} time(s), the last time because \
         {}; nothing of that chunk was kept (each try was rolled back) and {done} earlier \
         chunk(s) stay loaded; run the same command again to continue (`target.retries` sets \
         how often a chunk is tried)",
        fault.describe(Side::Target, timeout)
    )]
    ChunkRetriesSpent {
        table: String,
        chunk: String,
        done: usize,
        attempts: u32,
        fault: Fault,
        timeout: CommandTimeout,
    },
    #[error(
        "{holder}; wait for it to finish and run the same command again (a lock whose holder \
         is gone is taken over once it has been silent for {} minutes)",
        STALE_AFTER.as_secs() / 60
    )]
    TargetBusy { holder: Box<LockHolder> },
    #[error(
        "this load lost the target's lock: {holder}; it stopped before its next chunk (every \
         chunk loaded so far is complete); run the same command again once that one is done"
    )]
    LockLost { holder: Box<LockHolder> },
    #[error(
        "{} tree(s) of this selection are already in the target: run(s) {} moved them there \
         from this source (source root IDs {}; {} of them changed in the source since); \
         `selection.already_moved = \"fail\"` refuses to move them again: set it to \
         \"skip\" to leave them out, or narrow `[selection]`",
        trees.len(),
        trees.runs().join(", "),
        trees.first_ids(),
        trees.changed_since()
    )]
    AlreadyMoved { trees: Box<AlreadyMovedTrees> },
    #[error(
        "rollback of run {run_id} removed nothing: the pairs table `{pairs}` cannot say where \
         all of the run's rows are in the target ({}); restore its rows of run {run_id} (from a \
         backup of the target) and run `bptmig rollback` again",
        problems.join("; ")
    )]
    RollbackPairs {
        pairs: String,
        run_id: String,
        problems: Vec<String>,
    },
    #[error("the load of run {run_id} was interrupted; run the same command again to resume")]
    Interrupted { run_id: String },
}

impl Transient for Error {
    /// A chunk or a statement cut off by a lost connection, a timeout, a deadlock, a lock
    /// timeout, or a new connection that could not be made.
    fn fault(&self) -> Option<Fault> {
        match self {
            Error::Db(e) => e.fault(),
            Error::ChunkFailed { reason, .. } => reason.fault(),
            _ => None,
        }
    }
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
    fn arrow(what: &str, source: arrow::error::ArrowError) -> Self {
        Self::Arrow {
            what: what.to_owned(),
            source,
        }
    }

    /// A value error of table `table`.
    fn value(table: &str, source: value::ValueError) -> Self {
        Self::Value {
            table: table.to_owned(),
            source: Box::new(source),
        }
    }
}

/// `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
