//! The load's and the verify's entries in `report.json` (README, "The report"), merged into
//! what the transform wrote there.

use bptmig_model::pipeline::AlreadyMoved;
use bptmig_workdir::{layout, WorkDir};

use crate::already_moved::AlreadyMovedTrees;
use crate::Result;

/// Key of the load's entry.
const LOAD_KEY: &str = layout::LOAD;

/// Sets `key` of `report.json` to `value`, or removes it when `value` is `None`; other keys
/// stay as they are.
pub(crate) fn set_entry(wd: &WorkDir, key: &str, value: Option<serde_json::Value>) -> Result<()> {
    let path = wd.report_file();
    let existing = std::fs::read(&path).ok();
    if existing.is_none() && value.is_none() {
        return Ok(());
    }
    let mut report: serde_json::Value = existing
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let Some(obj) = report.as_object_mut() else {
        return Ok(());
    };
    let changed = match value {
        Some(v) => {
            obj.insert(key.to_owned(), v);
            true
        }
        None => obj.remove(key).is_some(),
    };
    if changed {
        let text = serde_json::to_vec_pretty(&report).unwrap_or_default();
        bptmig_workdir::write_atomic(&path, &text)?;
    }
    Ok(())
}

/// The load's entry: the trees left out because the target already holds them, when there
/// are any (`load.already_moved`: policy, count, how many changed since, the runs, the first
/// trees); no entry otherwise.
pub(crate) fn write_already_moved(
    wd: &WorkDir,
    policy: AlreadyMoved,
    trees: &AlreadyMovedTrees,
) -> Result<()> {
    let value =
        (!trees.is_empty()).then(|| serde_json::json!({ "already_moved": trees.report(policy) }));
    set_entry(wd, LOAD_KEY, value)
}
