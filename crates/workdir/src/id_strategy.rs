//! `transform/ids.json`: the ID strategy a transform actually used, with `auto` decided.
//!
//! The transform writes it on every run ([`write()`]); the load, verify, rollback and `maps`
//! read it ([`read`], or [`resolve`] with the pipeline's fallback) so that every stage after
//! the transform agrees on one strategy even when the pipeline says `ids.strategy = "auto"`.
//! A work directory without the file (one transformed by an older bptmig) used the
//! pipeline's strategy, `auto` meaning `renumber`.

use std::fmt;
use std::path::PathBuf;

use bptmig_model::pipeline::IdStrategy;
use serde::{Deserialize, Serialize};

use crate::atomic::{read_json, write_json_atomic};
use crate::layout::TRANSFORM;
use crate::{Result, WorkDir};

/// The file's name inside the transform directory.
pub const IDS_FILE: &str = "ids.json";

/// A strategy as a transform applies it: never `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolved {
    /// A dense block right after the target's identity.
    Renumber,
    /// The source's IDs.
    Keep,
    /// The target generates every moved row's ID at load time.
    Generated,
}

impl Resolved {
    /// The spelling of the pipeline file and of `ids.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Renumber => "renumber",
            Self::Keep => "keep",
            Self::Generated => "generated",
        }
    }

    /// The pipeline's strategy as applied without a decision: `auto` is `renumber`.
    pub fn from_pipeline(strategy: IdStrategy) -> Self {
        match strategy {
            IdStrategy::Renumber | IdStrategy::Auto => Self::Renumber,
            IdStrategy::Keep => Self::Keep,
            IdStrategy::Generated => Self::Generated,
        }
    }

    /// The pipeline strategy that names this one.
    pub fn to_pipeline(self) -> IdStrategy {
        match self {
            Self::Renumber => IdStrategy::Renumber,
            Self::Keep => IdStrategy::Keep,
            Self::Generated => IdStrategy::Generated,
        }
    }
}

impl fmt::Display for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The content of `transform/ids.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedIds {
    /// The strategy the transform applied.
    pub strategy: Resolved,
    /// Why, when the pipeline said `auto`; `None` when the pipeline named the strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

impl ResolvedIds {
    /// A strategy the pipeline named itself.
    pub fn named(strategy: Resolved) -> Self {
        Self {
            strategy,
            decided_by: None,
        }
    }
}

/// `<workdir>/transform/ids.json`.
pub fn path(wd: &WorkDir) -> PathBuf {
    wd.stage_dir(TRANSFORM).join(IDS_FILE)
}

/// Writes `transform/ids.json` atomically.
pub fn write(wd: &WorkDir, resolved: &ResolvedIds) -> Result<()> {
    write_json_atomic(&path(wd), resolved)
}

/// Reads `transform/ids.json`; `None` when the transform did not write one.
pub fn read(wd: &WorkDir) -> Result<Option<ResolvedIds>> {
    read_json(&path(wd))
}

/// The strategy the work directory's transform applied: `ids.json` when present, else the
/// pipeline's (`auto` → `renumber`).
pub fn resolve(wd: &WorkDir, pipeline: IdStrategy) -> Result<Resolved> {
    Ok(read(wd)?.map_or_else(|| Resolved::from_pipeline(pipeline), |r| r.strategy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_falls_back_to_the_pipeline() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io(".".as_ref(), "tmp", e))?;
        let wd = WorkDir::new(dir.path());
        assert_eq!(read(&wd)?, None);
        assert_eq!(resolve(&wd, IdStrategy::Auto)?, Resolved::Renumber);
        assert_eq!(resolve(&wd, IdStrategy::Generated)?, Resolved::Generated);
        let r = ResolvedIds {
            strategy: Resolved::Generated,
            decided_by: Some("`OSSYS_BPM_PROCESS` refuses IDENTITY_INSERT".into()),
        };
        write(&wd, &r)?;
        assert_eq!(read(&wd)?, Some(r));
        assert_eq!(resolve(&wd, IdStrategy::Renumber)?, Resolved::Generated);
        let text = std::fs::read_to_string(path(&wd))
            .map_err(|e| crate::Error::io(&path(&wd), "read", e))?;
        assert!(text.contains("\"strategy\": \"generated\""), "{text}");
        write(&wd, &ResolvedIds::named(Resolved::Keep))?;
        let text = std::fs::read_to_string(path(&wd))
            .map_err(|e| crate::Error::io(&path(&wd), "read", e))?;
        assert!(!text.contains("decided_by"), "{text}");
        Ok(())
    }
}
