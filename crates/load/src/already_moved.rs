//! Trees a target already received from this source (README, "Moving a tree twice"): found
//! in the tree ledger by source root ID, and what `selection.already_moved` makes of them.
//!
//! * [`find`]: the plan's roots the tree ledger lists for another run, before the first chunk.
//! * [`already_moved()`]: the same count for `bptmig check`, from the source's selected roots,
//!   before anything is extracted.

use std::collections::BTreeSet;

use bptmig_db::{self as db, Side, SqlClient};
use bptmig_model::pipeline::AlreadyMoved;
use bptmig_model::PipelineConfig;
use bptmig_workdir::{RunState, WorkDir};
use serde_json::json;

use crate::ledger::trees::{self, RecordedTree};
use crate::ledger::LedgerTables;
use crate::plan::{parse_instant, Instant, LoadPlan};
use crate::Result;

/// Trees shown by name in messages and in `report.json`.
const SHOWN: usize = 20;

/// A tree of this run that the target already holds from an earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedTree {
    /// The root's ID in the source.
    pub source_root_id: i32,
    /// The ID this run gave the root (the rows it would have loaded).
    pub target_root_id: i32,
    /// What the tree ledger recorded.
    pub recorded: RecordedTree,
    /// The root's `LAST_MODIFIED` in the source is now later than recorded: the tree changed
    /// in the source since it was moved.
    pub changed_since: bool,
}

/// The trees of this run that the target already holds, by source root ID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlreadyMovedTrees {
    pub trees: Vec<MovedTree>,
}

impl AlreadyMovedTrees {
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// How many changed in the source since they were moved.
    pub fn changed_since(&self) -> usize {
        self.trees.iter().filter(|t| t.changed_since).count()
    }

    /// The runs that moved them, each once.
    pub fn runs(&self) -> Vec<&str> {
        let runs: BTreeSet<&str> = self
            .trees
            .iter()
            .map(|t| t.recorded.run_id.as_str())
            .collect();
        runs.into_iter().collect()
    }

    /// This run's target IDs of their roots, ascending.
    pub fn target_roots(&self) -> Vec<i32> {
        let mut out: Vec<i32> = self.trees.iter().map(|t| t.target_root_id).collect();
        out.sort_unstable();
        out
    }

    /// The first source root IDs, for messages: `12, 15, 31, …`.
    pub fn first_ids(&self) -> String {
        let mut out: Vec<String> = self
            .trees
            .iter()
            .take(SHOWN)
            .map(|t| t.source_root_id.to_string())
            .collect();
        if self.trees.len() > SHOWN {
            out.push("…".into());
        }
        out.join(", ")
    }

    /// The `already_moved` entry of the load's part of `report.json`.
    pub fn report(&self, policy: AlreadyMoved) -> serde_json::Value {
        let first: Vec<serde_json::Value> = self
            .trees
            .iter()
            .take(SHOWN)
            .map(|t| {
                json!({
                    "source_root_id": t.source_root_id,
                    "target_root_id": t.recorded.target_root_id,
                    "run_id": t.recorded.run_id,
                    "changed_since": t.changed_since,
                })
            })
            .collect();
        json!({
            "policy": policy.as_str(),
            "trees": self.len(),
            "changed_since": self.changed_since(),
            "runs": self.runs(),
            "first": first,
        })
    }
}

/// The source database's fingerprint, as `run.json` and the tree ledger hold it.
pub(crate) fn source_fingerprint(config: &PipelineConfig) -> String {
    bptmig_workdir::fingerprint(config.source.connection.expose())
}

/// The roots of `plan` that the tree ledger lists from this source for a run other than
/// `run_id`.
pub(crate) async fn find(
    client: &mut SqlClient,
    config: &PipelineConfig,
    plan: &LoadPlan,
    run_id: &str,
) -> Result<AlreadyMovedTrees> {
    let mut roots: Vec<_> = plan.trees.roots.iter().collect();
    roots.sort_unstable_by_key(|r| r.source_id);
    let ids: Vec<i32> = roots.iter().map(|r| r.source_id).collect();
    let table = LedgerTables::of(&config.load).trees;
    let recorded = trees::recorded(
        client,
        &table,
        &source_fingerprint(config),
        Some(run_id),
        &ids,
    )
    .await?;
    let trees = recorded
        .into_iter()
        .filter_map(|rec| {
            let i = ids.binary_search(&rec.source_root_id).ok()?;
            let root = roots[i];
            Some(MovedTree {
                source_root_id: root.source_id,
                target_root_id: root.target_id,
                changed_since: later(root.last_modified, rec.source_last_modified),
                recorded: rec,
            })
        })
        .collect();
    Ok(AlreadyMovedTrees { trees })
}

/// Whether `now` is later than `then` (unknown is not).
fn later(now: Option<Instant>, then: Option<Instant>) -> bool {
    matches!((now, then), (Some(n), Some(t)) if n > t)
}

/// A top-level process the selection picks in the source, for [`already_moved()`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRoot {
    pub id: i32,
    /// Its `LAST_MODIFIED` as ISO text (`CONVERT(VARCHAR(33), LAST_MODIFIED, 126)`).
    pub last_modified: Option<String>,
}

/// How many selected trees the target already holds from this source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlreadyMovedCount {
    pub trees: usize,
    /// Of those, the ones whose root changed in the source since.
    pub changed_since: usize,
    /// The runs that moved them.
    pub runs: Vec<String>,
}

/// Counts the trees among `roots` (the source's selected top-level processes) that the
/// target's tree ledger lists as moved from this source, by a run other than this work
/// directory's: what `selection.already_moved` will skip or refuse. For `bptmig check`:
/// reads the target only, writes nothing.
pub async fn already_moved(
    config: &PipelineConfig,
    roots: &[SourceRoot],
) -> Result<AlreadyMovedCount> {
    let run = RunState::read(&WorkDir::new(&config.workdir))?;
    let mut roots: Vec<&SourceRoot> = roots.iter().collect();
    roots.sort_unstable_by_key(|r| r.id);
    roots.dedup_by_key(|r| r.id);
    let ids: Vec<i32> = roots.iter().map(|r| r.id).collect();
    let mut client = db::connect(Side::Target, &config.target).await?;
    let table = LedgerTables::of(&config.load).trees;
    let recorded = trees::recorded(
        &mut client,
        &table,
        &source_fingerprint(config),
        run.as_ref().map(|r| r.run_id.as_str()),
        &ids,
    )
    .await?;
    let mut count = AlreadyMovedCount::default();
    let mut runs = BTreeSet::new();
    for rec in recorded {
        let Ok(i) = ids.binary_search(&rec.source_root_id) else {
            continue;
        };
        let now = roots[i].last_modified.as_deref().and_then(parse_instant);
        count.trees += 1;
        count.changed_since += usize::from(later(now, rec.source_last_modified));
        runs.insert(rec.run_id);
    }
    count.runs = runs.into_iter().collect();
    Ok(count)
}
