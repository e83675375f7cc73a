//! `extract/broken_trees.json`: the process trees the extract found broken in the source (a
//! parent, parent activity or top process missing, a `TOP_PROCESS_ID` that disagrees with the
//! parent's, a parent cycle) among those the selection asked for, each left behind whole.
//!
//! The extract writes it on every selection, empty when every tree is whole, before it writes
//! the roots; the report copies its trees ([`trees`]).

use std::fmt;
use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::atomic::{read_json, write_json_atomic};
use crate::layout::{BROKEN_TREES_FILE, EXTRACT};
use crate::{Error, Result, WorkDir};

/// The broken trees of one selection, and the policy that decided about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenTrees {
    /// `selection.broken_tree` of the run: `fail` (the extract refused) or `skip` (left out).
    pub policy: String,
    /// Every broken tree, by its smallest process ID.
    pub trees: Vec<Tree>,
}

/// One broken tree: every process connected to the damage through a parent, a parent
/// activity or a top process, none of which moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// The tree's top-level process: one whose `TOP_PROCESS_ID` is its own ID, else one
    /// without parent (the smallest); `None` for a fragment with neither.
    pub top: Option<i32>,
    /// Every process of the tree, ascending.
    pub processes: Vec<i32>,
    /// What is broken, as a stable code.
    pub reason: Reason,
    /// What is broken, in words naming the processes concerned.
    pub detail: String,
}

/// What makes a tree broken: the first of these found, in this order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A process lies on a cycle of `PARENT_PROCESS_ID`s.
    Cycle,
    /// A process's `PARENT_PROCESS_ID` names a process the source does not have.
    MissingParent,
    /// A process's `PARENT_ACTIVITY_ID` names an activity the source does not have, or one
    /// whose process it does not have.
    MissingParentActivity,
    /// A process's `TOP_PROCESS_ID` is NULL or names a process the source does not have.
    MissingTop,
    /// A process's `TOP_PROCESS_ID` is not its parent's, or not its own without a parent.
    TopDisagrees,
    /// A process's `PARENT_ACTIVITY_ID` is an activity of another tree.
    ParentActivityElsewhere,
}

impl Reason {
    /// The stable code, as written in the file and the report.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Cycle => "cycle",
            Reason::MissingParent => "missing_parent",
            Reason::MissingParentActivity => "missing_parent_activity",
            Reason::MissingTop => "missing_top",
            Reason::TopDisagrees => "top_disagrees",
            Reason::ParentActivityElsewhere => "parent_activity_elsewhere",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `<workdir>/extract/broken_trees.json`.
pub fn path(wd: &WorkDir) -> PathBuf {
    wd.stage_dir(EXTRACT).join(BROKEN_TREES_FILE)
}

/// Writes the file whole or not at all.
pub fn write(wd: &WorkDir, trees: &BrokenTrees) -> Result<()> {
    write_json_atomic(&path(wd), trees)
}

/// The file, `None` when the extract has not written it (not yet, or by a version before it).
pub fn read(wd: &WorkDir) -> Result<Option<BrokenTrees>> {
    read_json(&path(wd))
}

/// The broken trees the extract listed, none when it listed none or wrote no file: what
/// `report.json` lists as `broken_trees`.
pub fn trees(wd: &WorkDir) -> Result<Vec<Tree>> {
    Ok(read(wd)?.map(|b| b.trees).unwrap_or_default())
}

/// Removes the file, if there is one (when the selection starts over).
pub fn remove(wd: &WorkDir) -> Result<()> {
    let path = path(wd);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&path, "remove", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BrokenTrees {
        BrokenTrees {
            policy: "skip".to_owned(),
            trees: vec![Tree {
                top: Some(7),
                processes: vec![7, 8, 9],
                reason: Reason::MissingParent,
                detail: "process `9` names parent process `5`, which the source does not have"
                    .to_owned(),
            }],
        }
    }

    #[test]
    fn written_file_reads_back_with_stable_codes() {
        let dir = tempfile::tempdir().unwrap();
        let wd = WorkDir::new(dir.path());
        assert_eq!(read(&wd).unwrap(), None);
        assert!(trees(&wd).unwrap().is_empty());
        fs::create_dir_all(wd.stage_dir(EXTRACT)).unwrap();
        write(&wd, &sample()).unwrap();
        assert_eq!(read(&wd).unwrap(), Some(sample()));
        assert_eq!(trees(&wd).unwrap(), sample().trees);
        let text = fs::read_to_string(path(&wd)).unwrap();
        assert!(text.contains(r#""reason": "missing_parent""#), "{text}");
        remove(&wd).unwrap();
        remove(&wd).unwrap();
        assert_eq!(read(&wd).unwrap(), None);
    }

    #[test]
    fn every_code_is_its_serde_name() {
        for reason in [
            Reason::Cycle,
            Reason::MissingParent,
            Reason::MissingParentActivity,
            Reason::MissingTop,
            Reason::TopDisagrees,
            Reason::ParentActivityElsewhere,
        ] {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.code()));
        }
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let wd = WorkDir::new(dir.path());
        fs::create_dir_all(wd.stage_dir(EXTRACT)).unwrap();
        fs::write(path(&wd), b"{\"policy\": \"skip\", \"tre").unwrap();
        assert!(matches!(read(&wd), Err(Error::Corrupt { .. })));
    }
}
