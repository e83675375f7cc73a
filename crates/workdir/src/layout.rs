//! Where everything lives in a work directory, and what its stages and files are called.

use std::fs;
use std::path::{Path, PathBuf};

use crate::lock::Lock;
use crate::{Error, Result};

/// The extract stage's directory and `run.json` key.
pub const EXTRACT: &str = "extract";
/// The transform stage's directory and `run.json` key.
pub const TRANSFORM: &str = "transform";
/// The load stage's `run.json` key.
pub const LOAD: &str = "load";
/// The verify stage's `run.json` key.
pub const VERIFY: &str = "verify";
/// The selected top-level process IDs, written once per run by the extract.
pub const ROOTS_FILE: &str = "roots.parquet";
/// The manifest entry (size, SHA-256) of [`ROOTS_FILE`], beside it.
pub const ROOTS_ENTRY_FILE: &str = "roots.json";
/// The selection's broken trees (`broken_trees`), beside the roots.
pub const BROKEN_TREES_FILE: &str = "broken_trees.json";
/// Per-table row count and maximum ID of an environment, in each snapshot.
pub const INSTANCE_STATS: &str = "instance_stats";
/// The transform's deferred fix-ups: `(table, id, column, value)`.
pub const DEFERRED_FILE: &str = "deferred.parquet";
/// The column in which the transform records each process's and activity's tree level.
pub const LEVEL_COLUMN: &str = "BPTMIG_LEVEL";
/// Everything a person must review, at the work directory's root.
pub const REPORT_FILE: &str = "report.json";
/// A table directory's manifest.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Paths inside a work directory.
#[derive(Debug, Clone)]
pub struct WorkDir {
    root: PathBuf,
}

impl WorkDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn run_file(&self) -> PathBuf {
        self.root.join("run.json")
    }

    /// `<workdir>/report.json`.
    pub fn report_file(&self) -> PathBuf {
        self.root.join(REPORT_FILE)
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join("lock")
    }

    /// `<workdir>/<stage>`, e.g. `extract`.
    pub fn stage_dir(&self, stage: &str) -> PathBuf {
        self.root.join(stage)
    }

    /// `<workdir>/<stage>/<TABLE>`.
    pub fn table_dir(&self, stage: &str, table: &str) -> PathBuf {
        self.stage_dir(stage).join(table)
    }

    /// `<workdir>/extract/snapshot/<side>` with side `source` or `target`.
    pub fn snapshot_dir(&self, side: &str) -> PathBuf {
        self.stage_dir(EXTRACT).join("snapshot").join(side)
    }

    /// Creates the directory (and parents).
    pub fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.root)
            .map_err(|e| Error::io(&self.root, "create the work directory", e))
    }

    /// Takes the work directory's lock, refusing when another live process holds it.
    pub fn lock(&self, stage: &str) -> Result<Lock> {
        Lock::acquire(&self.lock_file(), stage)
    }
}

/// The tables with a manifest in a stage directory: the instance tables in load order, then
/// the others (the `OSEVT_*` tables) by name. An absent directory has none.
pub fn stage_tables(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, "list", e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(std::result::Result::ok)
        .filter(|e| e.path().join("manifest.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "snapshot")
        .collect();
    names.sort_by_key(|n| {
        (
            bptmig_model::catalog::INSTANCE_TABLES
                .iter()
                .position(|t| t.name.eq_ignore_ascii_case(n))
                .unwrap_or(usize::MAX),
            n.clone(),
        )
    });
    Ok(names)
}
