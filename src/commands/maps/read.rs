//! The transform's ID map of one table, published only when the run's transform finished, its
//! manifest is this run's, the file is the one the manifest lists and its IDs are what a map
//! promises (every old ID once, every new ID once), and the load left no tree out.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int32Type;
use bptmig_model::PipelineConfig;
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{Manifest, RunState, StageState, WorkDir};

use super::{stage_manifest, state_name, MapsError};

/// The columns of `transform/maps/<TABLE>.parquet`.
const OLD_ID: &str = "OLD_ID";
const NEW_ID: &str = "NEW_ID";

/// A map ready to publish.
#[derive(Debug)]
pub struct PublishedMap {
    pub run: RunState,
    /// `(old, new)`, ascending by old ID; old and new IDs each unique.
    pub pairs: Vec<(i32, i32)>,
}

/// The map of `table` (a model name) in `wd`, checked as the module says.
pub fn published_map(
    wd: &WorkDir,
    config: &PipelineConfig,
    table: &str,
) -> anyhow::Result<PublishedMap> {
    let run = finished_run(wd, config)?;
    let dir = wd.stage_dir(TRANSFORM);
    let manifest = Manifest::read(&dir)?
        .filter(|m| m.complete)
        .ok_or_else(|| MapsError::Damaged {
            path: stage_manifest(wd),
            reason: "it is missing or incomplete".into(),
        })?;
    if manifest.run_id != run.run_id {
        return Err(MapsError::OtherRun {
            manifest: stage_manifest(wd),
            found: manifest.run_id,
            run_id: run.run_id,
        }
        .into());
    }
    let file = format!("maps/{table}.parquet");
    let entry = manifest
        .parts
        .iter()
        .find(|p| p.file.eq_ignore_ascii_case(&file))
        .ok_or_else(|| MapsError::NotListed {
            manifest: stage_manifest(wd),
            file: file.clone(),
            table: table.to_owned(),
        })?;
    let path = dir.join(&entry.file);
    // Size and SHA-256 against the manifest before anything of the file is read.
    let reader = PartReader::open_listed(&dir, entry)?;
    let pairs = read_pairs(&path, reader, entry.rows)?;
    refuse_left_out(wd, table)?;
    Ok(PublishedMap { run, pairs })
}

/// The run of `wd`, for `config`'s databases, with its transform done.
fn finished_run(wd: &WorkDir, config: &PipelineConfig) -> anyhow::Result<RunState> {
    let run = RunState::read(wd)?.ok_or_else(|| MapsError::NoRun {
        workdir: wd.root().to_owned(),
    })?;
    if let Some(side) = bptmig_workdir::other_databases(&run, config) {
        return Err(bptmig_workdir::Error::WorkdirMismatch {
            workdir: wd.root().to_owned(),
            what: side,
        }
        .into());
    }
    let state = run.stages.get(TRANSFORM);
    if state != Some(&StageState::Done) {
        return Err(MapsError::NotTransformed {
            workdir: wd.root().to_owned(),
            run_id: run.run_id.clone(),
            state: state_name(state),
        }
        .into());
    }
    Ok(run)
}

/// The pairs of the map file at `path`, opened as `reader` and listed with `rows` rows.
fn read_pairs(path: &Path, reader: PartReader, rows: u64) -> Result<Vec<(i32, i32)>, MapsError> {
    let damaged = |reason: String| MapsError::Damaged {
        path: path.to_owned(),
        reason,
    };
    let batches = reader
        .columns(&[OLD_ID, NEW_ID])
        .and_then(PartReader::read_all)
        .map_err(|e| damaged(e.to_string()))?;
    let mut pairs = Vec::with_capacity(usize::try_from(rows).unwrap_or(0));
    for batch in &batches {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|a| a.as_primitive_opt::<Int32Type>())
                .filter(|a| a.null_count() == 0)
                .ok_or_else(|| damaged(format!("`{name}` is not a column of 32-bit integers")))
        };
        let (old, new) = (column(OLD_ID)?, column(NEW_ID)?);
        pairs.extend(
            old.values()
                .iter()
                .copied()
                .zip(new.values().iter().copied()),
        );
    }
    if pairs.len() as u64 != rows {
        return Err(damaged(format!(
            "it holds {} row(s), its manifest entry says {rows}",
            pairs.len()
        )));
    }
    check_unique(pairs).map_err(damaged)
}

/// `pairs` sorted by old ID, or why they are not a map: an old or a new ID twice.
pub fn check_unique(mut pairs: Vec<(i32, i32)>) -> Result<Vec<(i32, i32)>, String> {
    if !pairs.windows(2).all(|w| w[0].0 < w[1].0) {
        pairs.sort_unstable();
        if let Some(twice) = pairs.windows(2).find(|w| w[0].0 == w[1].0).map(|w| w[0].0) {
            return Err(format!("old ID {twice} appears twice"));
        }
    }
    let mut news: Vec<i32> = pairs.iter().map(|p| p.1).collect();
    news.sort_unstable();
    if let Some(twice) = news.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]) {
        return Err(format!("new ID {twice} appears twice"));
    }
    Ok(pairs)
}

/// Refuses when `report.json` says the load left trees out (`selection.already_moved =
/// "skip"`): the transform's map still lists their rows, which the target never received
/// from this run.
fn refuse_left_out(wd: &WorkDir, table: &str) -> anyhow::Result<()> {
    let path = wd.report_file();
    let report: serde_json::Value = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| MapsError::Damaged {
            path: path.clone(),
            reason: e.to_string(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(bptmig_workdir::Error::io(&path, "read", e).into()),
    };
    let trees = left_out_trees(&report);
    if trees > 0 {
        return Err(MapsError::LeftOutByLoad {
            table: table.to_owned(),
            trees,
        }
        .into());
    }
    Ok(())
}

/// How many trees `report.json`'s `load.already_moved` entry lists as left out.
pub fn left_out_trees(report: &serde_json::Value) -> u64 {
    let entry = &report["load"]["already_moved"];
    if entry["policy"].as_str() == Some("skip") {
        entry["trees"].as_u64().unwrap_or(0)
    } else {
        0
    }
}
