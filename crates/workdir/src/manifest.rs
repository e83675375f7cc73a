//! Per-table manifests: the part files that are complete, and nothing else.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::{read_json, write_json_atomic};
use crate::layout::{EXTRACT, LOAD, TRANSFORM};
use crate::{Error, Result};

/// One complete part file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartEntry {
    /// File name inside the table directory.
    pub file: String,
    pub rows: u64,
    /// Smallest and largest key in the part (the table's key, or its ordering column).
    pub min_key: Option<i64>,
    pub max_key: Option<i64>,
    pub bytes: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

impl PartEntry {
    /// Checks that `dir`'s file of this entry is the one the manifest lists: its size, then
    /// its SHA-256. A stage calls this before it uses any of a part, so that a file changed or
    /// damaged after it was written is refused, never read.
    pub fn verify(&self, dir: &Path) -> Result<()> {
        let path = dir.join(&self.file);
        let bytes = fs::metadata(&path)
            .map_err(|e| Error::io(&path, "read the size of", e))?
            .len();
        if bytes != self.bytes {
            return Err(damaged(
                path,
                "size",
                self.bytes.to_string(),
                bytes.to_string(),
            ));
        }
        let sha256 = crate::atomic::file_sha256(&path)?;
        if sha256 != self.sha256 {
            return Err(damaged(path, "SHA-256", self.sha256.clone(), sha256));
        }
        Ok(())
    }
}

fn damaged(path: PathBuf, what: &'static str, listed: String, found: String) -> Error {
    // Parts live under `<workdir>/<stage>/` (snapshots one level deeper): the stage that wrote
    // the file redoes it.
    let stage = path
        .ancestors()
        .filter_map(Path::file_name)
        .map(|n| n.to_string_lossy())
        .find(|n| [EXTRACT, TRANSFORM, LOAD].contains(&n.as_ref()))
        .map_or_else(|| "the stage".to_owned(), std::borrow::Cow::into_owned);
    Error::PartDamaged {
        path,
        what,
        listed,
        found,
        stage,
    }
}

/// A column as the stage wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestColumn {
    pub name: String,
    pub sql_type: String,
}

/// `<TABLE>/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub table: String,
    pub run_id: String,
    /// The column parts are ordered and paged by.
    pub key: Option<String>,
    pub columns: Vec<ManifestColumn>,
    /// All rows are listed; nothing more will be added.
    pub complete: bool,
    pub parts: Vec<PartEntry>,
}

impl Manifest {
    pub fn path(table_dir: &Path) -> PathBuf {
        table_dir.join("manifest.json")
    }

    pub fn read(table_dir: &Path) -> Result<Option<Self>> {
        read_json(&Self::path(table_dir))
    }

    pub fn write(&self, table_dir: &Path) -> Result<()> {
        write_json_atomic(&Self::path(table_dir), self)
    }

    pub fn rows(&self) -> u64 {
        self.parts.iter().map(|p| p.rows).sum()
    }

    /// The largest key listed: where a resumed stage continues.
    pub fn last_key(&self) -> Option<i64> {
        self.parts.iter().filter_map(|p| p.max_key).max()
    }

    /// File name of part `n`.
    pub fn part_name(n: usize) -> String {
        format!("part-{n:05}.parquet")
    }

    /// Deletes every file in `table_dir` that this manifest does not list (interrupted
    /// writes), so the directory holds exactly what is listed.
    pub fn remove_unlisted(&self, table_dir: &Path) -> Result<()> {
        remove_unlisted(
            table_dir,
            &self
                .parts
                .iter()
                .map(|p| p.file.as_str())
                .collect::<Vec<_>>(),
        )
    }
}

/// Deletes files of `dir` other than `keep` and the manifest.
pub fn remove_unlisted(dir: &Path, keep: &[&str]) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, "list", e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, "list", e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "manifest.json" || keep.contains(&name.as_ref()) {
            continue;
        }
        let path = entry.path();
        if path.is_file() {
            fs::remove_file(&path).map_err(|e| Error::io(&path, "remove the unlisted file", e))?;
        }
    }
    Ok(())
}
