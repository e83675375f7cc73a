//! `report.json`: everything a person must review after a transform.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::maps::{DuplicateKey, MissingDefinition};
use crate::principals::{ResolutionStats, Unmapped};
use crate::{Error, Result};

/// Rows in and out of one table, and what happened to its values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    pub rows_in: u64,
    pub rows_out: u64,
    /// User/group/tenant references written as NULL (policy `null`, or unknown in the source).
    pub principals_nulled: u64,
    /// References to rows or definitions that were not there; written as NULL.
    pub dangling_references: u64,
    /// Entity identifiers rewritten through an entity ID map.
    pub entity_refs_mapped: u64,
    /// Entity identifiers kept as they were, by entity (physical table).
    pub entity_refs_kept: BTreeMap<String, u64>,
    /// Each user/group/tenant value written as NULL (`user #12`): how often, and a row.
    #[serde(default)]
    pub unmapped_values: BTreeMap<String, UnmappedValue>,
    /// Identifiers inside values (inputs, outputs, subscription columns) of entities bptmig
    /// maps itself that it could not map, by column then entity (physical table): written as
    /// `mapping.unmoved_reference` says ([`Report::unmoved_reference`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unmoved_references: BTreeMap<String, BTreeMap<String, u64>>,
    /// The first of them, at most [`UNMOVED_SAMPLES`] per table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmoved_samples: Vec<UnmovedRef>,
    /// Subscription rows left behind because a filter column could not be mapped under
    /// `unmoved_reference = "null"` (NULL there would mean "any record").
    #[serde(default, skip_serializing_if = "is_zero")]
    pub subscriptions_dropped: u64,
    /// Subscription columns carried as they are although they may hold identifiers (no
    /// attribute types them, or their entity has no map): non-NULL values per column.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns_kept: BTreeMap<String, u64>,
    /// Values each `[anonymize]` rule replaced in this table, by rule (`anonymize.rules[2]`);
    /// summed over tables into [`Report::anonymized`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub anonymized: BTreeMap<String, u64>,
    /// Entity-reference typed values a value rule selected and left as they are (they hold
    /// identifiers, mapped like any other), by rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub anonymize_skipped: BTreeMap<String, u64>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many unmoved identifiers each table lists in full in the report.
pub const UNMOVED_SAMPLES: usize = 100;

/// Why an identifier inside a value could not be mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmovedReason {
    /// An instance row this run does not move.
    NotMoved,
    /// A user, group, tenant, definition or eSpace with no target.
    NoMatch,
    /// Not a plain decimal integer (spaces included): not guessed.
    NotAnInteger,
}

impl UnmovedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotMoved => "not moved by this run",
            Self::NoMatch => "no match in the target",
            Self::NotAnInteger => "not an integer",
        }
    }
}

/// One identifier inside a value that could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmovedRef {
    /// The source key of its row (for a subscription row, its activity's).
    pub row: i64,
    pub column: String,
    /// The entity's physical table, as the source spells it.
    pub entity: String,
    /// The value as the source holds it.
    pub value: String,
    pub reason: UnmovedReason,
}

/// One source user, group or tenant ID that had no target and was written as NULL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmappedValue {
    /// The column where it was first met.
    pub column: String,
    pub count: u64,
    /// The source ID of a row holding it.
    pub sample_row: i64,
}

impl TableCounts {
    pub fn merge(&mut self, other: &TableCounts) {
        self.principals_nulled += other.principals_nulled;
        self.dangling_references += other.dangling_references;
        self.entity_refs_mapped += other.entity_refs_mapped;
        for (k, v) in &other.entity_refs_kept {
            *self.entity_refs_kept.entry(k.clone()).or_default() += v;
        }
        for (column, entities) in &other.unmoved_references {
            let mine = self.unmoved_references.entry(column.clone()).or_default();
            for (entity, n) in entities {
                *mine.entry(entity.clone()).or_default() += n;
            }
        }
        let room = UNMOVED_SAMPLES.saturating_sub(self.unmoved_samples.len());
        self.unmoved_samples
            .extend(other.unmoved_samples.iter().take(room).cloned());
        self.subscriptions_dropped += other.subscriptions_dropped;
        for (k, v) in &other.columns_kept {
            *self.columns_kept.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.anonymized {
            *self.anonymized.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.anonymize_skipped {
            *self.anonymize_skipped.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.unmapped_values {
            match self.unmapped_values.get_mut(k) {
                // The first part's sample stays: parts merge in order, so it is deterministic.
                Some(mine) => mine.count += v.count,
                None => {
                    self.unmapped_values.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// A process tree left behind, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedTree {
    pub root_id: i64,
    pub reason: String,
}

/// A source table whose identity was reseeded below some of the moving rows: `renumber`
/// numbered its `older_rows` (above the identity, created before the reseed) first, then its
/// `newer_rows`, so that the new IDs follow creation order, not source-ID order. Not a
/// finding: what a person may want to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReseededSource {
    pub table: String,
    /// The source's identity (`IDENT_CURRENT`) in its snapshot.
    pub identity: i64,
    pub older_rows: u64,
    pub newer_rows: u64,
}

/// Values one `[anonymize]` rule replaced (never a value itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymizedCount {
    /// The rule, as the pipeline names it (`anonymize.rules[2]`).
    pub rule: String,
    /// `TABLE.COLUMN` as the rule selects it.
    pub column: String,
    /// `clear`, `hash`, `fake` (`fake:person` …) or `keep-format`.
    pub method: String,
    /// Non-NULL values the rule replaced.
    pub values_changed: u64,
    /// Entity-reference typed values the rule selected and left as they are (identifiers,
    /// never anonymised).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub entity_refs_skipped: u64,
}

/// Moved processes the target's scheduler treats specially (issue 15 §4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerFindings {
    /// Moved processes that will never run in the target: their target definition, eSpace
    /// or tenant is inactive or locked. One entry per reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub never_run: Vec<SchedulerGroup>,
    /// Open activities whose `NEXT_RUN` is in the past: the target's scheduler runs them as
    /// soon as it sees them (automatic ones may call the target's integrations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub past_next_run: Option<SchedulerGroup>,
    /// The moment `NEXT_RUN` was compared with, and which clock it came from (the target
    /// server's, from its snapshot; this machine's UTC clock for a snapshot without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
}

impl SchedulerFindings {
    pub fn is_empty(&self) -> bool {
        self.never_run.is_empty() && self.past_next_run.is_none()
    }
}

/// A count with the first source IDs (at most [`SCHEDULER_SAMPLES`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerGroup {
    /// Stable reason code (`definition_inactive`, `definition_locked`, `espace_inactive`,
    /// `espace_locked`, `tenant_inactive`, `next_run_past`).
    pub reason: String,
    /// Processes (for `never_run`) or activities (for `past_next_run`).
    pub count: u64,
    /// Of them, automatic activities (for `past_next_run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<u64>,
    /// Source IDs of the first of them.
    pub sample_ids: Vec<i64>,
}

/// How many sample IDs a scheduler finding lists.
pub const SCHEDULER_SAMPLES: usize = 10;

/// The transform's report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub run_id: String,
    pub tables: BTreeMap<String, TableCounts>,
    pub skipped_trees: Vec<SkippedTree>,
    /// Trees the extract found broken in the source and left behind whole
    /// (`extract/broken_trees.json`, under `selection.broken_tree = "skip"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub broken_trees: Vec<bptmig_workdir::broken_trees::Tree>,
    #[serde(default)]
    pub unmapped_definitions: Vec<MissingDefinition>,
    #[serde(default)]
    pub duplicate_definitions: Vec<DuplicateKey>,
    #[serde(default)]
    pub unmapped_principals: Vec<Unmapped>,
    #[serde(default)]
    pub principals: ResolutionStats,
    /// Rows of `transform/deferred.parquet`.
    pub deferred: u64,
    pub warnings: Vec<String>,
    /// `mapping.unmoved_reference` when some identifier inside a value could not be mapped
    /// (see each table's `unmoved_references`): `null` or `keep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmoved_reference: Option<String>,
    /// Source tables numbered in creation order although their IDs are not in it (a source
    /// reseeded below some of the moving rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_reseeded: Vec<ReseededSource>,
    /// Values each `[anonymize]` rule replaced, in rule order (absent without `[anonymize]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anonymized: Vec<AnonymizedCount>,
    /// Moved processes the target's scheduler will never run, or will run at once.
    #[serde(default, skip_serializing_if = "SchedulerFindings::is_empty")]
    pub scheduler: SchedulerFindings,
    /// How many findings a person must review; the stage exits 1 when non-zero.
    pub problems: u64,
}

impl Report {
    pub fn new(run_id: &str) -> Self {
        Self {
            run_id: run_id.to_owned(),
            ..Self::default()
        }
    }

    /// Counts the findings.
    pub fn finish(&mut self) {
        let kept: u64 = self
            .tables
            .values()
            .flat_map(|t| t.entity_refs_kept.values())
            .sum();
        let dangling: u64 = self.tables.values().map(|t| t.dangling_references).sum();
        let unmoved = self.unmoved_total();
        let columns_kept = self.tables.values().any(|t| !t.columns_kept.is_empty());
        self.problems = self.skipped_trees.len() as u64
            + self.broken_trees.len() as u64
            + self.unmapped_principals.len() as u64
            + self.duplicate_definitions.len() as u64
            + self.warnings.len() as u64
            + u64::from(kept > 0)
            + dangling
            + unmoved
            + u64::from(columns_kept)
            + self.scheduler.never_run.len() as u64
            + u64::from(self.scheduler.past_next_run.is_some());
    }

    /// How many identifiers inside values could not be mapped, over every table.
    pub fn unmoved_total(&self) -> u64 {
        self.tables
            .values()
            .flat_map(|t| t.unmoved_references.values())
            .flat_map(BTreeMap::values)
            .sum()
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::io(path, "encode", e.into()))?;
        bytes.push(b'\n');
        bptmig_workdir::write_atomic(path, &bytes)?;
        Ok(())
    }

    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::io(path, "decode", e.into()))
    }
}
