//! `bptmig maps`: publish the ID map of one instance table, as `old_id,new_id`, for the tool
//! that migrates application data pointing at moved rows (README, "ID maps for application
//! data"): the load's once it has finished (the rows it wrote), before that the transform's
//! (the rows it will write).
//!
//! * [`table`]: the `--table` argument resolved to an instance table with IDs, or refused.
//! * [`read`]: the load's or the transform's map, checked against its stage's manifest and
//!   the run.
//! * [`mod@write`]: CSV (stdout or a file) or Parquet, written atomically.

use std::path::{Path, PathBuf};

use bptmig_workdir::layout::{LOAD, VERIFY};
use bptmig_workdir::{StageState, WorkDir};

use super::Outcome;
use crate::cli::{MapFormat, MapsArgs};
use crate::settings::Settings;
use read::Source;

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
        "`{}` belongs to run {found}, but the work directory's run is {run_id}: that stage's \
         output is from another run; run `{command}` again", manifest.display()
    )]
    OtherRun {
        manifest: PathBuf,
        found: String,
        run_id: String,
        command: &'static str,
    },
    #[error(
        "`{}` lists no map `{file}` of `{table}`; run `{command}` again to write it",
        manifest.display()
    )]
    NotListed {
        manifest: PathBuf,
        file: String,
        table: String,
        command: &'static str,
    },
    #[error("`{}` is damaged ({reason}); run `{command}` again: it writes a damaged map anew", path.display())]
    Damaged {
        path: PathBuf,
        reason: String,
        command: &'static str,
    },
    #[error(
        "the load left {trees} tree(s) out because the target already held them from an earlier \
         run (`report.json`, `load.already_moved`); the transform's map of `{table}` still lists \
         their rows, which this run never wrote, so it is not published: {advice}"
    )]
    LeftOutByLoad {
        table: String,
        trees: u64,
        advice: &'static str,
    },
    #[error(
        "run {run_id} uses `ids.strategy = \"generated\"`{why}: the target generates the IDs at \
         load, so there is no map of `{table}` before the load has finished (its state: \
         {state}); run `bptmig load` first, then `bptmig maps` publishes the pairs it captured"
    )]
    GeneratedAtLoad {
        run_id: String,
        table: String,
        /// How `auto` was decided, as ` (auto: …)`; empty when the pipeline named it.
        why: String,
        state: &'static str,
    },
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
    note(&map);
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
            "{} ID pair(s) of `{table}` (run {}, {}) written to `{}`",
            map.pairs.len(),
            map.run.run_id,
            origin(map.source),
            path.display()
        );
    }
    Ok(Outcome::Done)
}

/// Which map was published, as the summary line says it.
fn origin(source: Source) -> &'static str {
    match source {
        Source::Load => "the load's map: the rows it wrote",
        Source::Transform => "the transform's map: the rows the load will write",
    }
}

/// On stderr (it never mixes with a map on stdout): which map is published, and what the
/// person should do before relying on it.
fn note(map: &read::PublishedMap) {
    let run = &map.run;
    let verified = run.stages.get(VERIFY) == Some(&StageState::Done);
    match map.source {
        Source::Load if verified => eprintln!(
            "note: the load's map of run {}: the rows it wrote, checked by `bptmig verify`",
            run.run_id
        ),
        Source::Load => eprintln!(
            "note: the load's map of run {}: the rows it wrote; run `bptmig verify` to check \
             that the target holds them",
            run.run_id
        ),
        Source::Transform if run.stages.get(LOAD) == Some(&StageState::Done) => eprintln!(
            "note: the load of run {} wrote no maps of its own (an older bptmig), so this is the \
             transform's map; run `bptmig load` again to write the load's",
            run.run_id
        ),
        Source::Transform => eprintln!(
            "note: the load of run {} has not finished: this is the transform's map, the IDs the \
             load will write; a tree the target already holds, which the load leaves out, is \
             known only once it has run, so publish the map again after `bptmig load` and \
             `bptmig verify`: then it is the load's map, of the rows it wrote",
            run.run_id
        ),
    }
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
