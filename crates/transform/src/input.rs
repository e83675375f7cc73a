//! The extracted tables a transform reads: each one's name, model shape and parts.

use std::path::PathBuf;

use bptmig_model::catalog::Table;
use bptmig_workdir::layout::EXTRACT;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::{Manifest, WorkDir};

use crate::verified::VerifiedParts;
use crate::{maps, Error, Result};

/// An extracted table: its name, model shape and parts.
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) model: Table,
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Manifest,
}

impl Input {
    /// The file of part `index`.
    pub(crate) fn part_path(&self, index: usize) -> PathBuf {
        self.dir.join(&self.manifest.parts[index].file)
    }

    /// Opens part `index`, checked against its manifest entry unless this run already did.
    pub(crate) fn open_part(&self, index: usize, verified: &VerifiedParts) -> Result<PartReader> {
        verified.open(&self.dir, &self.manifest.parts[index])
    }

    /// The column that says whether a row moves: the key, or for event subscriptions (which
    /// have none) the activity they belong to.
    pub(crate) fn owner_column(&self) -> &'static str {
        if self.model.key.is_some() {
            bptmig_model::catalog::ID
        } else {
            bptmig_model::catalog::EVT_ACTIVITY_ID
        }
    }

    /// The table whose new IDs decide whether a row of this one moves.
    pub(crate) fn owner_table(&self) -> &str {
        if self.model.key.is_some() {
            &self.name
        } else {
            bptmig_model::catalog::ACTIVITY
        }
    }
}

/// Every table of the extract, with its manifest.
pub(crate) fn inputs(wd: &WorkDir) -> Result<Vec<Input>> {
    let dir = wd.stage_dir(EXTRACT);
    let names = bptmig_workdir::stage_tables(&dir)?;
    names
        .into_iter()
        .map(|name| {
            let tdir = dir.join(&name);
            let manifest = Manifest::read(&tdir)?.ok_or_else(|| Error::MissingInput {
                path: tdir.clone(),
                hint: "run `bptmig extract` again",
            })?;
            Ok(Input {
                model: maps::model_table(&name),
                name,
                dir: tdir,
                manifest,
            })
        })
        .collect()
}
