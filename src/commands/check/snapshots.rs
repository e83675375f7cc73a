//! Snapshots of both sides for the lines that need the definition and principal tables: the
//! extract's when it wrote them, otherwise fresh ones in a scratch directory.

use std::path::PathBuf;

use bptmig_db::{Side, SqlClient};
use bptmig_model::PipelineConfig;
use bptmig_transform::maps::Snapshot;
use bptmig_workdir::{Manifest, WorkDir};

/// Snapshots of both sides: the extract's when it wrote them, otherwise fresh ones in a
/// scratch directory that is removed afterwards (`what` names the scratch directory).
pub struct Snapshots {
    pub source: Snapshot,
    pub target: Snapshot,
    scratch: Option<PathBuf>,
}

impl Drop for Snapshots {
    fn drop(&mut self) {
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub async fn snapshots(
    config: &PipelineConfig,
    source: &mut SqlClient,
    target: &mut SqlClient,
    what: &str,
) -> Result<Snapshots, bptmig_extract::Error> {
    let wd = WorkDir::new(&config.workdir);
    let complete = |side: &str| {
        Manifest::read(&wd.snapshot_dir(side))
            .ok()
            .flatten()
            .is_some_and(|m| m.complete)
    };
    if complete("source") && complete("target") {
        return Ok(Snapshots {
            source: Snapshot::new(wd.snapshot_dir("source")),
            target: Snapshot::new(wd.snapshot_dir("target")),
            scratch: None,
        });
    }
    let scratch = std::env::temp_dir().join(format!("bptmig-check-{what}-{}", std::process::id()));
    // Built first, so that a failure below still removes the scratch directory.
    let out = Snapshots {
        source: Snapshot::new(scratch.join("source")),
        target: Snapshot::new(scratch.join("target")),
        scratch: Some(scratch.clone()),
    };
    for (side, client, dir) in [
        (Side::Source, source, scratch.join("source")),
        (Side::Target, target, scratch.join("target")),
    ] {
        std::fs::create_dir_all(&dir).map_err(|e| bptmig_workdir::Error::io(&dir, "create", e))?;
        bptmig_extract::write_snapshot(&dir, "check", client, side, config.extract.row_group_rows)
            .await?;
    }
    Ok(out)
}
