//! The map to publish: the load's (`load/maps/<TABLE>.parquet`, the rows it wrote) once the
//! run's load has finished, else the transform's (`transform/maps/<TABLE>.parquet`, the rows
//! it will write). Either is published only when the run's transform finished, the stage's
//! manifest is this run's, the file is the one it lists and its IDs are what a map promises
//! (every old ID once, every new ID once). The transform's is refused when the load has left
//! trees out: it lists their rows, which this run never wrote.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int32Type;
use bptmig_load::id_maps::{map_file, NEW_ID, OLD_ID};
use bptmig_model::PipelineConfig;
use bptmig_workdir::layout::{LOAD, TRANSFORM};
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{Manifest, PartEntry, RunState, StageState, WorkDir};

use super::{state_name, MapsError};

/// Which stage's map is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `transform/maps/`: the IDs the load will write, before it has finished.
    Transform,
    /// `load/maps/`: the IDs the finished load wrote, without the trees it left out.
    Load,
}

impl Source {
    /// The stage directory and `run.json` key.
    pub fn stage(self) -> &'static str {
        match self {
            Source::Transform => TRANSFORM,
            Source::Load => LOAD,
        }
    }

    /// The command that writes the stage's maps anew.
    pub fn command(self) -> &'static str {
        match self {
            Source::Transform => "bptmig transform",
            Source::Load => "bptmig load",
        }
    }
}

/// A map ready to publish.
#[derive(Debug)]
pub struct PublishedMap {
    pub run: RunState,
    pub source: Source,
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
    let load_done = run.stages.get(LOAD) == Some(&StageState::Done);
    let load_manifest = if load_done {
        read_manifest(wd, Source::Load)?
    } else {
        None
    };
    let (source, manifest) = match load_manifest {
        Some(m) => (Source::Load, m),
        // A load that finished without writing maps (an older bptmig): the transform's map,
        // refused below when the load left trees out.
        None => {
            let m = read_manifest(wd, Source::Transform)?.ok_or_else(|| MapsError::Damaged {
                path: stage_manifest(wd, Source::Transform),
                reason: "it is missing".into(),
                command: Source::Transform.command(),
            })?;
            (Source::Transform, m)
        }
    };
    let pairs = stage_map(wd, &run, source, &manifest, table)?;
    if source == Source::Transform {
        refuse_left_out(wd, table, load_done)?;
    }
    Ok(PublishedMap { run, source, pairs })
}

/// `<stage>/manifest.json` of `wd`.
pub fn stage_manifest(wd: &WorkDir, source: Source) -> std::path::PathBuf {
    Manifest::path(&wd.stage_dir(source.stage()))
}

/// The stage's manifest, `None` when there is none; an unreadable or incomplete one is
/// damaged.
fn read_manifest(wd: &WorkDir, source: Source) -> Result<Option<Manifest>, MapsError> {
    let damaged = |reason: String| MapsError::Damaged {
        path: stage_manifest(wd, source),
        reason,
        command: source.command(),
    };
    match Manifest::read(&wd.stage_dir(source.stage())) {
        Ok(Some(m)) if m.complete => Ok(Some(m)),
        Ok(Some(_)) => Err(damaged("it is incomplete".into())),
        Ok(None) => Ok(None),
        Err(e) => Err(damaged(e.to_string())),
    }
}

/// The pairs of `table`'s map as the stage's `manifest` lists it, checked against it and
/// the run.
fn stage_map(
    wd: &WorkDir,
    run: &RunState,
    source: Source,
    manifest: &Manifest,
    table: &str,
) -> Result<Vec<(i32, i32)>, MapsError> {
    if manifest.run_id != run.run_id {
        return Err(MapsError::OtherRun {
            manifest: stage_manifest(wd, source),
            found: manifest.run_id.clone(),
            run_id: run.run_id.clone(),
            command: source.command(),
        });
    }
    let file = map_file(table);
    let entry = manifest
        .parts
        .iter()
        .find(|p| p.file.eq_ignore_ascii_case(&file))
        .ok_or_else(|| MapsError::NotListed {
            manifest: stage_manifest(wd, source),
            file: file.clone(),
            table: table.to_owned(),
            command: source.command(),
        })?;
    let dir = wd.stage_dir(source.stage());
    let path = dir.join(&entry.file);
    // Size and SHA-256 against the manifest before anything of the file is read.
    let reader = open_listed(&dir, entry, source)?;
    read_pairs(&path, reader, entry.rows, source)
}

/// `entry`'s file in `dir`, opened after checking it against the entry; a file that differs
/// is damaged, with the stage that writes it anew.
fn open_listed(dir: &Path, entry: &PartEntry, source: Source) -> Result<PartReader, MapsError> {
    PartReader::open_listed(dir, entry).map_err(|e| {
        let reason = match &e {
            bptmig_workdir::Error::PartDamaged {
                what,
                listed,
                found,
                ..
            } => format!(
                "its {what} is `{found}`, `{}/manifest.json` says `{listed}`",
                source.stage()
            ),
            other => other.to_string(),
        };
        MapsError::Damaged {
            path: dir.join(&entry.file),
            reason,
            command: source.command(),
        }
    })
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
fn read_pairs(
    path: &Path,
    reader: PartReader,
    rows: u64,
    source: Source,
) -> Result<Vec<(i32, i32)>, MapsError> {
    let damaged = |reason: String| MapsError::Damaged {
        path: path.to_owned(),
        reason,
        command: source.command(),
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
    bptmig_load::id_maps::checked_pairs(pairs).map_err(damaged)
}

/// Refuses the transform's map when `report.json` says the load left trees out
/// (`selection.already_moved = "skip"`): it still lists their rows, which the target never
/// received from this run. `load_done`: the load finished (without maps of its own).
fn refuse_left_out(wd: &WorkDir, table: &str, load_done: bool) -> anyhow::Result<()> {
    let path = wd.report_file();
    let report: serde_json::Value = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| MapsError::Damaged {
            path: path.clone(),
            reason: e.to_string(),
            command: Source::Transform.command(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(bptmig_workdir::Error::io(&path, "read", e).into()),
    };
    let trees = left_out_trees(&report);
    if trees > 0 {
        return Err(MapsError::LeftOutByLoad {
            table: table.to_owned(),
            trees,
            advice: if load_done {
                "run `bptmig load` again: it writes the load's own maps, of the rows it wrote"
            } else {
                "run `bptmig load` to its end: it writes the load's own maps, of the rows it \
                 wrote, and `maps` publishes those"
            },
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
