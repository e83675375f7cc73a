//! The work directory of one migration run (design §3): run state, the lock, and per-table
//! manifests listing part files that are complete.
//!
//! Crash safety rests on two rules. A part file is written under a temporary name, flushed,
//! synced and renamed before the manifest lists it. The manifest is rewritten the same way.
//! On restart a stage trusts exactly what its manifest lists: files it does not list are
//! leftovers of an interrupted write and are deleted.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Suffix of files being written; never trusted.
const TMP_SUFFIX: &str = ".tmp";

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
        self.stage_dir("extract").join("snapshot").join(side)
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

// ---- lock ------------------------------------------------------------------------------------

/// Held while a stage runs; removed on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockInfo {
    pid: u32,
    stage: String,
}

impl Lock {
    fn acquire(path: &Path, stage: &str) -> Result<Self> {
        let info = LockInfo {
            pid: std::process::id(),
            stage: stage.to_owned(),
        };
        let body =
            serde_json::to_vec(&info).map_err(|e| Error::io(path, "encode the lock", e.into()))?;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    f.write_all(&body)
                        .and_then(|()| f.sync_all())
                        .map_err(|e| Error::io(path, "write the lock", e))?;
                    return Ok(Self {
                        path: path.to_owned(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held: Option<LockInfo> = fs::read(path)
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    match held {
                        Some(h) if process_alive(h.pid) => {
                            return Err(Error::Locked {
                                path: path.to_owned(),
                                pid: h.pid,
                                stage: h.stage,
                            });
                        }
                        // The holder died (kill -9): its lock is stale; take it over.
                        _ => {
                            tracing::warn!(lock = %path.display(), "removing a stale lock left by a process that is gone");
                            let _ = fs::remove_file(path);
                        }
                    }
                }
                Err(e) => return Err(Error::io(path, "create the lock", e)),
            }
        }
        Err(Error::io(
            path,
            "create the lock",
            std::io::Error::other("another process keeps re-creating it"),
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry but will never release the lock.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    // Without a cheap liveness check, never steal a lock: a person removes it.
    true
}

// ---- run state -------------------------------------------------------------------------------

/// `run.json`: what this work directory belongs to and how far each stage got.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunState {
    pub run_id: String,
    /// SHA-256 of the pipeline file as written (secrets are `${VAR}` references there).
    pub pipeline_hash: String,
    pub source_fingerprint: String,
    pub target_fingerprint: String,
    /// Stage name → state.
    #[serde(default)]
    pub stages: std::collections::BTreeMap<String, StageState>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StageState {
    Running,
    Done,
}

impl RunState {
    /// Reads `run.json`, or `None` when the work directory is new.
    pub fn read(dir: &WorkDir) -> Result<Option<Self>> {
        read_json(&dir.run_file())
    }

    pub fn write(&self, dir: &WorkDir) -> Result<()> {
        write_json_atomic(&dir.run_file(), self)
    }
}

/// A new run id: time, pid and path hashed, 16 hex digits.
pub fn new_run_id(dir: &WorkDir) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = Sha256::new();
    h.update(now.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(dir.root().to_string_lossy().as_bytes());
    hex(&h.finalize()[..8])
}

// ---- manifests -------------------------------------------------------------------------------

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

// ---- atomic files ----------------------------------------------------------------------------

/// The temporary name under which `path` is written.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(TMP_SUFFIX);
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, "create", e))?;
    }
    let tmp = tmp_path(path);
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, "create", e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(&tmp, "write", e))?;
    drop(f);
    commit_file(&tmp, path)
}

/// Renames a fully written and synced temporary file into place, then syncs the directory
/// so the rename itself survives a crash.
pub fn commit_file(tmp: &Path, path: &Path) -> Result<()> {
    fs::rename(tmp, path).map_err(|e| Error::io(path, "rename into place", e))?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| Error::io(path, "encode", e.into()))?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Corrupt {
                path: path.to_owned(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, "read", e)),
    }
}

/// SHA-256 of a file, streamed.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, "read", e))?;
    Ok(hex(&h.finalize()))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_lock_refuses_and_a_stale_one_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let wd = WorkDir::new(dir.path());
        let lock = wd.lock("extract").unwrap();
        match wd.lock("transform") {
            Err(Error::Locked { pid, stage, .. }) => {
                assert_eq!(pid, std::process::id());
                assert_eq!(stage, "extract");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(lock);
        assert!(!wd.lock_file().exists());
        // A lock left by a dead process (pid far above pid_max).
        fs::write(wd.lock_file(), r#"{"pid":4294967,"stage":"load"}"#).unwrap();
        let _again = wd.lock("extract").unwrap();
    }

    #[test]
    fn manifests_round_trip_and_unlisted_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            table: "T".into(),
            run_id: "r".into(),
            key: Some("ID".into()),
            columns: vec![ManifestColumn {
                name: "ID".into(),
                sql_type: "INT".into(),
            }],
            complete: false,
            parts: vec![PartEntry {
                file: Manifest::part_name(0),
                rows: 3,
                min_key: Some(1),
                max_key: Some(9),
                bytes: 10,
                sha256: "ab".into(),
            }],
        };
        m.write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), Some(m.clone()));
        assert_eq!(m.last_key(), Some(9));
        fs::write(dir.path().join("part-00000.parquet"), b"x").unwrap();
        fs::write(dir.path().join("part-00001.parquet.tmp"), b"x").unwrap();
        fs::write(dir.path().join("part-00001.parquet"), b"x").unwrap();
        m.remove_unlisted(dir.path()).unwrap();
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["manifest.json", "part-00000.parquet"]);
    }

    #[test]
    fn a_corrupt_manifest_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(Manifest::path(dir.path()), b"{not json").unwrap();
        let err = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("manifest.json"), "{err}");
    }
}
