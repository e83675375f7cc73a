//! `bptmig maps`: publish a finished transform's ID map of one instance table, as
//! `old_id,new_id`, for the tool that migrates application data pointing at moved rows
//! (README, "ID maps for application data").
//!
//! * [`table`]: the `--table` argument resolved to an instance table with IDs, or refused.
//! * [`read`]: the transform's map, checked against `transform/manifest.json` and the run.
//! * [`write`]: CSV (stdout or a file) or Parquet, written atomically.

use std::path::{Path, PathBuf};

use bptmig_workdir::layout::{LOAD, TRANSFORM};
use bptmig_workdir::{StageState, WorkDir};

use super::Outcome;
use crate::cli::{MapFormat, MapsArgs};
use crate::settings::Settings;

mod read;
mod table;
mod write;

#[cfg(test)]
mod tests;

/// Why `bptmig maps` publishes nothing (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum MapsError {
    #[error(
        "`{name}` is an event-subscription table: its rows have no ID of their own, so there is \
         no ID map of it; ask for one of the tables with IDs: {tables}"
    )]
    NoIds { name: String, tables: String },
    #[error(
        "`{name}` is not a table bptmig moves with new IDs (the platform's own tables are \
         matched by natural key, not renumbered); ask for one of: {tables}"
    )]
    NotMoved { name: String, tables: String },
    #[error("`{name}` is not a table bptmig knows; ask for one of: {tables}")]
    Unknown { name: String, tables: String },
    #[error(
        "`--format parquet` needs `--out FILE.parquet`: a Parquet map is not written to stdout"
    )]
    ParquetToStdout,
    #[error(
        "`{}` does not end in `.{ext}`: `[mapping.entity_maps]` reads a map by its extension, \
         so a {format} map must be named `*.{ext}`; rename the file or change `--format`",
        path.display()
    )]
    Extension {
        path: PathBuf,
        format: &'static str,
        ext: &'static str,
    },
    #[error(
        "the work directory `{}` has no run yet; run `bptmig extract` and `bptmig transform` \
         first", workdir.display()
    )]
    NoRun { workdir: PathBuf },
    #[error(
        "the transform of run {run_id} has not finished in `{}` (its state: {state}); run \
         `bptmig transform` to its end first", workdir.display()
    )]
    NotTransformed {
        workdir: PathBuf,
        run_id: String,
        state: &'static str,
    },
    #[error(
        "`{}` belongs to run {found}, but the work directory's run is {run_id}: the transform's \
         output is from another run; run `bptmig transform` again", manifest.display()
    )]
    OtherRun {
        manifest: PathBuf,
        found: String,
        run_id: String,
    },
    #[error(
        "`{}` lists no map `{file}` of `{table}`; run `bptmig transform` again to write it",
        manifest.display()
    )]
    NotListed {
        manifest: PathBuf,
        file: String,
        table: String,
    },
    #[error("`{}` is damaged ({reason}); run `bptmig transform` again: it writes a damaged map anew", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "the load left {trees} tree(s) out because the target already held them from an earlier \
         run (`report.json`, `load.already_moved`); the transform's map of `{table}` still lists \
         their rows, which this run never wrote, so it is not published: take those trees' IDs \
         from the maps of the run that moved them, and migrate the rest from a work directory \
         whose selection leaves them out"
    )]
    LeftOutByLoad { table: String, trees: u64 },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where the map goes, settled before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    Csv(PathBuf),
    Parquet(PathBuf),
}

/// The destination of `--format` and `--out`: the format defaults from the extension of
/// `--out` (`.parquet`, else csv); a file's extension must be the one
/// `[mapping.entity_maps]` reads it by.
pub fn destination(
    format: Option<MapFormat>,
    out: Option<&Path>,
) -> Result<Destination, MapsError> {
    let is_parquet = |p: &Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    };
    let Some(path) = out else {
        return match format {
            Some(MapFormat::Parquet) => Err(MapsError::ParquetToStdout),
            Some(MapFormat::Csv) | None => Ok(Destination::Stdout),
        };
    };
    let format = format.unwrap_or(if is_parquet(path) {
        MapFormat::Parquet
    } else {
        MapFormat::Csv
    });
    match (format, is_parquet(path)) {
        (MapFormat::Parquet, true) => Ok(Destination::Parquet(path.to_owned())),
        (MapFormat::Csv, false) => Ok(Destination::Csv(path.to_owned())),
        (MapFormat::Parquet, false) => Err(MapsError::Extension {
            path: path.to_owned(),
            format: "Parquet",
            ext: "parquet",
        }),
        (MapFormat::Csv, true) => Err(MapsError::Extension {
            path: path.to_owned(),
            format: "CSV",
            ext: "csv",
        }),
    }
}

pub fn run(settings: &Settings, args: &MapsArgs) -> anyhow::Result<Outcome> {
    let config = &settings.config;
    let table = table::resolve(&args.table)?;
    let dest = destination(args.format, args.out.as_deref())?;
    let wd = WorkDir::new(&config.workdir);
    let map = read::published_map(&wd, config, table)?;
    if map.run.stages.get(LOAD) != Some(&StageState::Done) {
        eprintln!(
            "note: the load of run {} has not finished: these are the IDs it will write; a tree \
             the target already holds, which the load leaves out, is known only once it has run, \
             so publish the map again after `bptmig load` and `bptmig verify`",
            map.run.run_id
        );
    }
    let meta = write::Meta {
        run_id: &map.run.run_id,
        table,
        row_group_rows: config.extract.row_group_rows,
    };
    match &dest {
        Destination::Stdout => write::csv_stdout(&map.pairs)?,
        Destination::Csv(path) => write::csv_file(path, &map.pairs)?,
        Destination::Parquet(path) => write::parquet_file(path, &map.pairs, &meta)?,
    }
    if let (Destination::Csv(path) | Destination::Parquet(path), false) = (&dest, settings.quiet) {
        println!(
            "{} ID pair(s) of `{table}` (run {}) written to `{}`",
            map.pairs.len(),
            map.run.run_id,
            path.display()
        );
    }
    Ok(Outcome::Done)
}

/// The state of the transform in `run.json`, for messages.
fn state_name(state: Option<&StageState>) -> &'static str {
    match state {
        Some(StageState::Done) => "done",
        Some(StageState::Running) => "running or interrupted",
        Some(StageState::Failed) => "failed",
        None => "not started",
    }
}

/// `transform/manifest.json` of `wd`.
fn stage_manifest(wd: &WorkDir) -> PathBuf {
    bptmig_workdir::Manifest::path(&wd.stage_dir(TRANSFORM))
}
