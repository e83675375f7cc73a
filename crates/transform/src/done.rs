//! `transform/<TABLE>.done.json`: a table finished under a plan, kept by the next run under
//! the same plan (an interrupted run resumes with the tables it had not finished) while its
//! output is intact ([`crate::outputs`]).

use std::path::{Path, PathBuf};

use bptmig_model::PipelineConfig;
use bptmig_workdir::{Manifest, PartEntry, RunState, WorkDir};

use crate::input::Input;
use crate::report::TableCounts;
use crate::{Error, Result};

/// The plan a finished table was written under, what it counted, and its deferred rows'
/// file (`<TABLE>.deferred.parquet`, named relative to the stage directory) as written.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct TableDone {
    pub(crate) plan_hash: String,
    pub(crate) counts: TableCounts,
    pub(crate) deferred: PartEntry,
}

impl TableDone {
    /// The record at `path`, if there is one; one that cannot be decoded is
    /// [`bptmig_workdir::Error::Corrupt`] (the table is then redone).
    pub(crate) fn read(path: &Path) -> Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::Workdir(bptmig_workdir::Error::Corrupt {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, "read", e)),
        }
    }

    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::io(path, "encode", e.into()))?;
        bptmig_workdir::write_atomic(path, &bytes)?;
        Ok(())
    }
}

/// Everything phase 2's output depends on: the run, the mapping settings and files, and the
/// extract's manifests (which carry every input part's digest).
pub(crate) fn plan_hash(
    wd: &WorkDir,
    run: &RunState,
    config: &PipelineConfig,
    inputs: &[Input],
) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(run.run_id.as_bytes());
    h.update(
        format!(
            "{:?}|{:?}|{:?}",
            config.mapping, config.ids, config.transform
        )
        .as_bytes(),
    );
    let mut files: Vec<PathBuf> = config.mapping.file.iter().cloned().collect();
    files.extend(config.mapping.entity_maps.values().cloned());
    files.extend(inputs.iter().map(|i| Manifest::path(&i.dir)));
    files.push(Manifest::path(&wd.snapshot_dir("source")));
    files.push(Manifest::path(&wd.snapshot_dir("target")));
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| Error::io(&f, "read", e))?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(bptmig_workdir::hex(&h.finalize()))
}
