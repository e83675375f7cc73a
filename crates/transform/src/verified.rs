//! The parts a run has checked against their manifests ([`VerifiedParts`]).
//!
//! Every part the transform reads, of the extract or of its own earlier output, is checked
//! against its manifest entry (size, then SHA-256) before any of it is used
//! ([`PartReader::open_listed`]). The hash costs a read of the whole file, so a run checks
//! each part once: phase 1 reads every extract part and phase 2 reads them again, and the
//! second read skips the hash of a part whose file the file system says is unchanged since.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use bptmig_workdir::part::PartReader;
use bptmig_workdir::PartEntry;

use crate::Result;

/// What the file system says of a file. A file written, replaced or truncated since has
/// another stamp: on Unix its status-change time moves with any write, whatever its
/// modification time was set back to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    /// Device, inode and status-change time (seconds, nanoseconds).
    #[cfg(unix)]
    inode: (u64, u64, i64, i64),
}

impl FileStamp {
    /// The stamp of `path`, or `None` when it cannot be read (then nothing is remembered).
    fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
            },
        })
    }
}

/// The parts this run has verified: by path, the entry each matched and its file's stamp
/// from before the check. Shared by every worker of the run.
#[derive(Debug, Default)]
pub(crate) struct VerifiedParts {
    checked: Mutex<HashMap<PathBuf, (PartEntry, FileStamp)>>,
    /// How many files were hashed (each check that was not skipped).
    hashed: AtomicU64,
}

impl VerifiedParts {
    /// Opens part `entry` of `dir`, checked against `entry` unless this run already did and
    /// the file has not changed since. A damaged part is
    /// [`bptmig_workdir::Error::PartDamaged`], naming the file and both digests.
    pub(crate) fn open(&self, dir: &Path, entry: &PartEntry) -> Result<PartReader> {
        let path = dir.join(&entry.file);
        if self.already(&path, entry) {
            return Ok(PartReader::open(&path)?);
        }
        // The stamp from before the check: a change during it shows at the next one.
        let stamp = FileStamp::of(&path);
        self.hashed.fetch_add(1, Ordering::Relaxed);
        let reader = PartReader::open_listed(dir, entry)?;
        self.remember(path, entry, stamp);
        Ok(reader)
    }

    /// Checks part `entry` of `dir` like [`VerifiedParts::open`], without opening it.
    pub(crate) fn verify(&self, dir: &Path, entry: &PartEntry) -> Result<()> {
        let path = dir.join(&entry.file);
        if self.already(&path, entry) {
            return Ok(());
        }
        let stamp = FileStamp::of(&path);
        self.hashed.fetch_add(1, Ordering::Relaxed);
        entry.verify(dir)?;
        self.remember(path, entry, stamp);
        Ok(())
    }

    /// How many files this run has hashed.
    pub(crate) fn hashed(&self) -> u64 {
        self.hashed.load(Ordering::Relaxed)
    }

    /// Whether `path` was verified against `entry` by this run and has the same stamp now.
    fn already(&self, path: &Path, entry: &PartEntry) -> bool {
        let checked = self.lock();
        let Some((listed, stamp)) = checked.get(path) else {
            return false;
        };
        listed == entry && FileStamp::of(path).as_ref() == Some(stamp)
    }

    fn remember(&self, path: PathBuf, entry: &PartEntry, stamp: Option<FileStamp>) {
        if let Some(stamp) = stamp {
            self.lock().insert(path, (entry.clone(), stamp));
        }
    }

    /// The map, usable even if a holder panicked (each insert is whole).
    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, (PartEntry, FileStamp)>> {
        self.checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::file::properties::WriterProperties;

    use super::*;

    /// A part of 1,000 rows in `<dir>/extract/T/`, and its entry.
    fn part(dir: &Path) -> (PathBuf, PartEntry) {
        let table = dir.join("extract").join("T");
        std::fs::create_dir_all(&table).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("ID", DataType::Int32, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int32Array::from_iter_values(0..1000))],
        )
        .unwrap();
        let entry = bptmig_workdir::part::write_file(
            &table.join("part-00000.parquet"),
            schema,
            &[batch],
            WriterProperties::default(),
        )
        .unwrap();
        (table, entry)
    }

    /// Flips one byte in the middle of `path`, keeping its size and modification time.
    fn flip_a_byte(path: &Path) {
        let modified = std::fs::metadata(path).unwrap().modified().unwrap();
        let mut bytes = std::fs::read(path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(path, &bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
    }

    #[test]
    fn a_part_is_hashed_once_a_run_while_its_file_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let (table, entry) = part(dir.path());
        let verified = VerifiedParts::default();
        assert_eq!(verified.open(&table, &entry).unwrap().rows(), 1000);
        verified.verify(&table, &entry).unwrap();
        assert_eq!(verified.open(&table, &entry).unwrap().rows(), 1000);
        assert_eq!(verified.hashed(), 1, "checked once, then trusted");

        // Another run checks again.
        let next = VerifiedParts::default();
        next.verify(&table, &entry).unwrap();
        assert_eq!(next.hashed(), 1);
    }

    #[test]
    fn a_part_changed_after_its_check_is_checked_again_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (table, entry) = part(dir.path());
        let verified = VerifiedParts::default();
        verified.open(&table, &entry).unwrap();
        // Same size, same modification time: only the status-change time tells.
        flip_a_byte(&table.join(&entry.file));
        let err = verified.open(&table, &entry).unwrap_err();
        assert_eq!(verified.hashed(), 2);
        let message = err.to_string();
        assert!(
            matches!(
                &err,
                crate::Error::Workdir(bptmig_workdir::Error::PartDamaged { what: "SHA-256", listed, found, .. })
                    if *listed == entry.sha256 && *found != entry.sha256
            ),
            "{err:?}"
        );
        for needed in [
            "part-00000.parquet",
            entry.sha256.as_str(),
            "Run `bptmig extract` again",
        ] {
            assert!(message.contains(needed), "`{needed}` in {message}");
        }
        // A refused part is not remembered: every later read is refused too.
        assert!(verified.verify(&table, &entry).is_err());
    }

    #[test]
    fn a_missing_or_resized_part_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (table, entry) = part(dir.path());
        let verified = VerifiedParts::default();
        let path = table.join(&entry.file);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(
            verified.open(&table, &entry).unwrap_err(),
            crate::Error::Workdir(bptmig_workdir::Error::PartDamaged { what: "size", .. })
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(verified.verify(&table, &entry).is_err());
    }
}
