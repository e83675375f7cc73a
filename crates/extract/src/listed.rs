//! The extract's own earlier output, read back only after it is checked against what was
//! listed: a part against its manifest entry (size and SHA-256), the roots file against
//! [`ROOTS_ENTRY_FILE`]. A damaged file is written anew on the next run (a table from its last
//! intact part, a snapshot whole, the roots with everything after them), so the advice "run
//! `bptmig extract` again" always repairs it.

use std::fs;
use std::path::{Path, PathBuf};

use bptmig_workdir::layout::{EXTRACT, ROOTS_FILE};
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{stage_tables, Manifest, PartEntry, WorkDir};

use crate::Result;

/// The manifest entry of `extract/roots.parquet` (its size, rows and SHA-256), beside it.
pub use bptmig_workdir::layout::ROOTS_ENTRY_FILE;

/// A part file and the manifest entry it must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedPart {
    pub dir: PathBuf,
    pub entry: PartEntry,
}

impl ListedPart {
    /// Opens the part after checking it against its entry.
    pub(crate) fn open(&self) -> Result<PartReader> {
        Ok(PartReader::open_listed(&self.dir, &self.entry)?)
    }
}

/// The parts the manifest of the table in `dir` lists (none without a manifest).
pub(crate) fn listed_parts(dir: &Path) -> Result<Vec<ListedPart>> {
    Ok(Manifest::read(dir)?
        .map(|m| {
            m.parts
                .into_iter()
                .map(|entry| ListedPart {
                    dir: dir.to_owned(),
                    entry,
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Whether `error` says a listed file is not what was listed: changed, cut short or gone.
fn is_damage(error: &bptmig_workdir::Error) -> bool {
    match error {
        bptmig_workdir::Error::PartDamaged { .. } | bptmig_workdir::Error::Corrupt { .. } => true,
        bptmig_workdir::Error::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
        _ => false,
    }
}

/// The first of `parts` in `dir` that is damaged, and why; `None` when all are intact.
pub(crate) fn first_damaged(
    dir: &Path,
    parts: &[PartEntry],
) -> Result<Option<(usize, bptmig_workdir::Error)>> {
    for (i, part) in parts.iter().enumerate() {
        match part.verify(dir) {
            Ok(()) => {}
            Err(e) if is_damage(&e) => return Ok(Some((i, e))),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// Cuts `manifest` (of `dir`) before its first damaged part and writes it, so that the table
/// is extracted again from its last intact part; a table without key, read in one query, is
/// extracted again whole. Returns whether anything was cut.
pub(crate) fn drop_damaged(dir: &Path, manifest: &mut Manifest) -> Result<bool> {
    let Some((first, why)) = first_damaged(dir, &manifest.parts)? else {
        return Ok(false);
    };
    let keep = if manifest.key.is_some() { first } else { 0 };
    tracing::warn!(
        table = %manifest.table,
        "{why}; extracting `{}` again from part {keep}",
        manifest.table
    );
    manifest.parts.truncate(keep);
    manifest.complete = false;
    manifest.write(dir)?;
    Ok(true)
}

/// Whether the snapshot in `dir` is complete and every file of it intact.
pub(crate) fn snapshot_intact(dir: &Path) -> Result<bool> {
    let Some(manifest) = Manifest::read(dir)?.filter(|m| m.complete) else {
        return Ok(false);
    };
    match first_damaged(dir, &manifest.parts)? {
        None => Ok(true),
        Some((_, why)) => {
            tracing::warn!("{why}; writing the snapshot `{}` again", dir.display());
            Ok(false)
        }
    }
}

/// What the roots of an earlier run are.
#[derive(Debug)]
pub(crate) enum Roots {
    /// None chosen yet.
    Absent,
    /// Chosen, and the file is the one listed.
    Intact(ListedPart),
    /// The file or its entry is damaged or gone: the selection must start over.
    Damaged,
}

/// The roots an earlier run of this work directory chose, checked against
/// [`ROOTS_ENTRY_FILE`]. A roots file without that entry (written by an earlier version, or by
/// the sandbox's generator) is taken as it is, and its entry recorded now.
pub(crate) fn listed_roots(stage_dir: &Path) -> Result<Roots> {
    let entry_file = stage_dir.join(ROOTS_ENTRY_FILE);
    if !entry_file.is_file() {
        if !stage_dir.join(ROOTS_FILE).is_file() {
            return Ok(Roots::Absent);
        }
        return match entry_of(stage_dir, ROOTS_FILE) {
            Ok(entry) => {
                record_roots(stage_dir, &entry)?;
                Ok(Roots::Intact(ListedPart {
                    dir: stage_dir.to_owned(),
                    entry,
                }))
            }
            Err(e) if is_damage(&e) || matches!(e, bptmig_workdir::Error::Parquet { .. }) => {
                tracing::warn!("{e}; choosing the top-level processes again");
                Ok(Roots::Damaged)
            }
            Err(e) => Err(e.into()),
        };
    }
    let bytes =
        fs::read(&entry_file).map_err(|e| bptmig_workdir::Error::io(&entry_file, "read", e))?;
    let Ok(entry) = serde_json::from_slice::<PartEntry>(&bytes) else {
        tracing::warn!(
            "`{}` is damaged; choosing the top-level processes again",
            entry_file.display()
        );
        return Ok(Roots::Damaged);
    };
    match entry.verify(stage_dir) {
        Ok(()) => Ok(Roots::Intact(ListedPart {
            dir: stage_dir.to_owned(),
            entry,
        })),
        Err(e) if is_damage(&e) => {
            tracing::warn!("{e}; choosing the top-level processes again");
            Ok(Roots::Damaged)
        }
        Err(e) => Err(e.into()),
    }
}

/// The manifest entry of the file `name` of `dir` as it is now (no key range).
fn entry_of(dir: &Path, name: &str) -> bptmig_workdir::Result<PartEntry> {
    let path = dir.join(name);
    let rows = PartReader::open(&path)?.rows();
    let bytes = fs::metadata(&path)
        .map_err(|e| bptmig_workdir::Error::io(&path, "read the size of", e))?
        .len();
    Ok(PartEntry {
        file: name.to_owned(),
        rows,
        min_key: None,
        max_key: None,
        bytes,
        sha256: bptmig_workdir::file_sha256(&path)?,
    })
}

/// Writes [`ROOTS_ENTRY_FILE`] for the roots file just written.
pub(crate) fn record_roots(stage_dir: &Path, entry: &PartEntry) -> Result<()> {
    let path = stage_dir.join(ROOTS_ENTRY_FILE);
    let mut bytes = serde_json::to_vec_pretty(entry)
        .map_err(|e| bptmig_workdir::Error::io(&path, "encode", e.into()))?;
    bytes.push(b'\n');
    bptmig_workdir::write_atomic(&path, &bytes)?;
    Ok(())
}

/// Removes the roots and every table extracted under them (the snapshots stay), so that the
/// selection starts over: each table's rows depend on the roots.
pub(crate) fn discard_selection(stage_dir: &Path) -> Result<()> {
    for name in stage_tables(stage_dir)? {
        let dir = stage_dir.join(name);
        fs::remove_dir_all(&dir)
            .map_err(|e| bptmig_workdir::Error::io(&dir, "remove the damaged table", e))?;
    }
    for name in [ROOTS_FILE, ROOTS_ENTRY_FILE] {
        let path = stage_dir.join(name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bptmig_workdir::Error::io(&path, "remove", e).into()),
        }
    }
    Ok(())
}

/// Whether everything a finished extract wrote is as listed: the roots, both snapshots and
/// every part of every table. Each damaged file found is logged.
pub(crate) fn output_intact(wd: &WorkDir) -> Result<bool> {
    let stage_dir = wd.stage_dir(EXTRACT);
    if !matches!(listed_roots(&stage_dir)?, Roots::Intact(_)) {
        return Ok(false);
    }
    for side in ["source", "target"] {
        if !snapshot_intact(&wd.snapshot_dir(side))? {
            return Ok(false);
        }
    }
    for name in stage_tables(&stage_dir)? {
        let dir = stage_dir.join(&name);
        let Some(manifest) = Manifest::read(&dir)? else {
            continue;
        };
        if let Some((_, why)) = first_damaged(&dir, &manifest.parts)? {
            tracing::warn!(table = %name, "{why}; extracting the damaged parts again");
            return Ok(false);
        }
    }
    Ok(true)
}
