//! The bptmig work directory: the on-disk format every stage reads and writes.
//!
//! One work directory holds one migration run (README, "The work directory"):
//!
//! ```text
//! <workdir>/run.json                               run id, fingerprints, stage states  (run)
//! <workdir>/lock                                   held while a stage runs            (lock)
//! <workdir>/extract/<TABLE>/part-NNNNN.parquet     + manifest.json                    (part, manifest)
//! <workdir>/extract/roots.parquet                  the selected top-level process IDs
//! <workdir>/extract/roots.json                     its size and SHA-256
//! <workdir>/extract/broken_trees.json             the selection's broken trees      (broken_trees)
//! <workdir>/extract/snapshot/{source,target}/<TABLE>.parquet   mapping tables, instance stats
//! <workdir>/transform/<TABLE>/part-NNNNN.parquet   + manifest.json
//! <workdir>/transform/maps/<TABLE>.parquet         old ID → new ID
//! <workdir>/transform/deferred.parquet             (table, id, column, value) fix-ups
//! <workdir>/report.json                            what a person must review
//! ```
//!
//! * [`layout`]: every path, stage name and file or column name ([`WorkDir`]).
//! * [`lock`]: one stage at a time in a work directory (an OS-level lock the kernel releases).
//! * [`run`]: `run.json` ([`RunState`]), endpoint fingerprints, [`open_run`].
//! * [`manifest`]: the part files of a table that are complete ([`Manifest`]).
//! * [`atomic`]: files that appear whole or not at all.
//! * [`broken_trees`]: the trees the extract found broken in the source and left behind.
//! * [`id_map`]: the compact old → new ID map every stage uses ([`IdMap`]).
//! * [`id_strategy`]: `transform/ids.json`, the strategy the transform applied (`auto` decided).
//! * [`cancel`]: the interrupt flag a stage checks between parts.
//! * [`part`]: writing Parquet parts with the run's metadata ([`part::PartWriter`]) and
//!   reading them back ([`part::PartReader`]).
//! * [`snapshot`]: an environment's mapping tables, written alike by the extract and the sandbox.
//! * [`sql_type`]: the SQL type of each column, carried in the Arrow field metadata.
//! * [`iso`]: the ISO date/time text codec.
//!
//! This crate links no database client: the transform, which is pure, depends on it alone.
//!
//! ```no_run
//! # fn demo() -> bptmig_workdir::Result<()> {
//! use bptmig_workdir::{layout, Manifest, WorkDir};
//! let wd = WorkDir::new("work/demo");
//! let _lock = wd.lock(layout::TRANSFORM)?;
//! if let Some(m) = Manifest::read(&wd.table_dir(layout::EXTRACT, "OSSYS_BPM_PROCESS"))? {
//!     println!("{} rows in {} parts", m.rows(), m.parts.len());
//! }
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

pub mod atomic;
pub mod broken_trees;
pub mod cancel;
pub mod id_map;
pub mod id_strategy;
pub mod iso;
pub mod layout;
pub mod lock;
pub mod manifest;
pub mod part;
pub mod run;
pub mod snapshot;
pub mod sql_type;

pub use atomic::{commit_file, file_sha256, hex, tmp_path, write_atomic};
pub use cancel::Cancel;
pub use id_map::IdMap;
pub use layout::{stage_tables, WorkDir};
pub use lock::Lock;
pub use manifest::{remove_unlisted, Manifest, ManifestColumn, PartEntry};
pub use run::{
    fingerprint, new_run_id, open_run, other_databases, RunState, ServerClock, StageState,
};

/// Errors of the work directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
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
        "`{}` is not the part its manifest lists: its {what} is `{found}`, the manifest says \
         `{listed}`; the file was changed or damaged after it was written. Run `bptmig {stage}` \
         again: it writes damaged parts anew", path.display()
    )]
    PartDamaged {
        path: PathBuf,
        /// `size` or `SHA-256`.
        what: &'static str,
        listed: String,
        found: String,
        /// The stage whose directory holds the part.
        stage: String,
    },
    #[error(
        "the work directory `{}` is in use by process {pid} (`bptmig {stage}`); wait for it to \
         finish: the lock is the operating system's and goes when that process ends, however it \
         ends", path.parent().unwrap_or(path).display()
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
}

/// The result of a work-directory operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O failure while doing `action` to `path`.
    pub fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_owned(),
            action,
            source,
        }
    }

    /// A Parquet failure reading or writing `path`.
    pub fn parquet(path: &Path, source: parquet::errors::ParquetError) -> Self {
        Error::Parquet {
            path: path.to_owned(),
            source,
        }
    }

    /// An Arrow failure building `what`.
    pub fn arrow(what: &str, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            what: what.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests;
