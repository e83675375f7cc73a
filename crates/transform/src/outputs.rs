//! The transform's own output, checked on every run against what the transform recorded of
//! it, so that a damaged or missing file is written again and the advice "run `bptmig
//! transform` again" (a later stage's, for a damaged transformed part) always holds:
//!
//! * each finished table ([`TableOutput`]): its parts against its manifest, and its deferred
//!   rows (`<TABLE>.deferred.parquet`) against its done marker ([`TableDone`]);
//! * the files derived from the plan, the ID maps (`maps/<TABLE>.parquet`) and
//!   `deferred.parquet`, against the stage's own manifest `transform/manifest.json`
//!   ([`write_derived`]), which lists them as a table's manifest lists its parts.
//!
//! What a run found damaged and wrote again is a [`Redone`].

use std::fmt;
use std::path::PathBuf;

use bptmig_workdir::{Manifest, PartEntry, RunState, WorkDir};

use crate::done::TableDone;
use crate::input::Input;
use crate::stage::STAGE;
use crate::verified::VerifiedParts;
use crate::{Error, Result};

/// An output of an earlier run that this run found damaged or missing, and wrote again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redone {
    /// The table redone (`OSSYS_BPM_PROCESS`), or the derived file written again, inside the
    /// work directory (`transform/maps/OSSYS_BPM_PROCESS.parquet`,
    /// `transform/deferred.parquet`, `transform/manifest.json`).
    pub output: String,
    /// What was wrong: the file, and its digest and the listed one, or what was missing.
    pub reason: String,
}

impl fmt::Display for Redone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` written again: {}", self.output, self.reason)
    }
}

/// Where one table's output lives in the stage directory.
#[derive(Debug, Clone)]
pub(crate) struct TableOutput {
    stage_dir: PathBuf,
    /// `transform/<TABLE>/`: the parts and their manifest.
    pub(crate) dir: PathBuf,
    /// `transform/<TABLE>.done.json`.
    pub(crate) done: PathBuf,
    /// `transform/<TABLE>.deferred.parquet`.
    pub(crate) deferred: PathBuf,
}

/// What a table's earlier output is worth to this run.
#[derive(Debug)]
pub(crate) enum TableState {
    /// No done marker: the table is not finished.
    NotDone,
    /// Finished under another plan: rewritten like an unfinished table.
    OtherPlan,
    /// Marked done, but its output is damaged or incomplete, for this reason.
    Damaged(String),
    /// Marked done, every file as recorded.
    Intact(Box<TableDone>),
}

impl TableOutput {
    pub(crate) fn new(wd: &WorkDir, table: &str) -> Self {
        let stage_dir = wd.stage_dir(STAGE);
        Self {
            dir: wd.table_dir(STAGE, table),
            done: stage_dir.join(format!("{table}.done.json")),
            deferred: stage_dir.join(format!("{table}.deferred.parquet")),
            stage_dir,
        }
    }

    /// Checks the table's output: its done marker (written under `plan_hash`, when given),
    /// its complete manifest, every part it lists and the deferred rows' file.
    pub(crate) fn state(
        &self,
        plan_hash: Option<&str>,
        verified: &VerifiedParts,
    ) -> Result<TableState> {
        let done = match TableDone::read(&self.done) {
            Ok(Some(done)) => done,
            Ok(None) => return Ok(TableState::NotDone),
            Err(e) => return damage(e).map(TableState::Damaged),
        };
        if plan_hash.is_some_and(|hash| hash != done.plan_hash) {
            return Ok(TableState::OtherPlan);
        }
        let manifest = match Manifest::read(&self.dir) {
            Ok(Some(manifest)) if manifest.complete => manifest,
            Ok(found) => {
                let what = if found.is_some() {
                    "incomplete"
                } else {
                    "missing"
                };
                let path = Manifest::path(&self.dir);
                return Ok(TableState::Damaged(format!(
                    "`{}` is {what}",
                    path.display()
                )));
            }
            Err(e) => return damage(e.into()).map(TableState::Damaged),
        };
        let files = manifest
            .parts
            .iter()
            .map(|part| (self.dir.as_path(), part))
            .chain([(self.stage_dir.as_path(), &done.deferred)]);
        for (dir, entry) in files {
            if let Err(e) = verified.verify(dir, entry) {
                return damage(e).map(TableState::Damaged);
            }
        }
        Ok(TableState::Intact(Box::new(done)))
    }
}

/// For a stage marked done: what of its output is damaged or missing, the tables of `inputs`
/// first, then the derived files. Empty when the stage's output is as it recorded.
pub(crate) fn damaged(
    wd: &WorkDir,
    inputs: &[Input],
    verified: &VerifiedParts,
) -> Result<Vec<Redone>> {
    let mut found = Vec::new();
    for input in inputs {
        let output = TableOutput::new(wd, &input.name);
        let reason = match output.state(None, verified)? {
            TableState::Intact(_) | TableState::OtherPlan => continue,
            TableState::NotDone => format!("`{}` is missing", output.done.display()),
            TableState::Damaged(reason) => reason,
        };
        found.push(Redone {
            output: input.name.clone(),
            reason,
        });
    }
    found.extend(derived_damage(wd, verified)?);
    Ok(found)
}

/// Writes `transform/manifest.json`, listing the derived files `written` (named relative to
/// the stage directory): the last file a run writes before it marks the stage done.
pub(crate) fn write_derived(wd: &WorkDir, run: &RunState, written: Vec<PartEntry>) -> Result<()> {
    Manifest {
        table: STAGE.to_owned(),
        run_id: run.run_id.clone(),
        key: None,
        columns: Vec::new(),
        complete: true,
        parts: written,
    }
    .write(&wd.stage_dir(STAGE))?;
    Ok(())
}

/// The derived files that differ from `transform/manifest.json`, or the manifest itself when
/// it is missing or damaged.
fn derived_damage(wd: &WorkDir, verified: &VerifiedParts) -> Result<Vec<Redone>> {
    let dir = wd.stage_dir(STAGE);
    let in_workdir = |file: &str| format!("{STAGE}/{file}");
    let manifest = match Manifest::read(&dir) {
        Ok(Some(manifest)) if manifest.complete => manifest,
        found => {
            let reason = match found {
                Ok(Some(_)) => "it is incomplete".to_owned(),
                Ok(None) => "it is missing".to_owned(),
                Err(e) => damage(e.into())?,
            };
            return Ok(vec![Redone {
                output: in_workdir(bptmig_workdir::layout::MANIFEST_FILE),
                reason: format!("{reason}; the ID maps and the deferred fix-ups are written again"),
            }]);
        }
    };
    let mut found = Vec::new();
    for entry in &manifest.parts {
        if let Err(e) = verified.verify(&dir, entry) {
            found.push(Redone {
                output: in_workdir(&entry.file),
                reason: damage(e)?,
            });
        }
    }
    Ok(found)
}

/// Why `error` means an output must be written again: a file changed since it was written,
/// undecodable or missing. Any other failure (a permission, a full disk) is returned as is.
fn damage(error: Error) -> Result<String> {
    use bptmig_workdir::Error as W;
    match error {
        Error::Workdir(W::PartDamaged {
            path,
            what,
            listed,
            found,
            ..
        }) => Ok(format!(
            "`{}` has {what} `{found}`, its record says `{listed}`",
            path.display()
        )),
        Error::Workdir(W::Corrupt { path, reason }) => {
            Ok(format!("`{}` is damaged ({reason})", path.display()))
        }
        Error::Workdir(W::Io { path, source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(format!("`{}` is missing", path.display()))
        }
        other => Err(other),
    }
}
