//! What [`resolve`](super::resolve) yields: a [`PrincipalMap`] per kind, how each principal
//! was mapped, and the principals left to a policy.

use std::fmt;

use super::Kind;

/// Where a mapping came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// A line of the mapping file.
    File,
    /// The same name (and mapped tenant) in the target.
    Automatic,
    /// The `unmapped_user` / `unmapped_group` policy (`null` or `user:`/`group:`).
    Policy,
}

/// One source ID and what it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    /// The ID in the source.
    pub source: i64,
    /// The ID in the target; `None` writes NULL (the `null` policy).
    pub target: Option<i64>,
    /// Where the mapping came from.
    pub how: How,
}

/// Source ID -> target ID for one kind of principal, kept sorted by source ID (lookups are a
/// binary search over a flat array; the rewrite loop builds a
/// [`bptmig_workdir::IdMap`] from [`PrincipalMap::iter`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalMap {
    /// Sorted by `source`, no source twice.
    entries: Vec<Mapped>,
}

impl PrincipalMap {
    /// The target of `source`: `None` when `source` is not a known source ID, `Some(None)`
    /// when it maps to NULL, `Some(Some(id))` otherwise.
    pub fn get(&self, source: i64) -> Option<Option<i64>> {
        self.find(source).map(|mapped| mapped.target)
    }

    /// Where the mapping of `source` came from, if it is a known source ID.
    pub fn how(&self, source: i64) -> Option<How> {
        self.find(source).map(|mapped| mapped.how)
    }

    /// Number of source IDs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no source ID is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(source, target)` pairs in ascending source ID.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (i64, Option<i64>)> + '_ {
        self.entries
            .iter()
            .map(|mapped| (mapped.source, mapped.target))
    }

    /// Every mapping with where it came from, in ascending source ID.
    pub fn entries(&self) -> &[Mapped] {
        &self.entries
    }

    fn find(&self, source: i64) -> Option<&Mapped> {
        self.entries
            .binary_search_by_key(&source, |mapped| mapped.source)
            .ok()
            .map(|index| &self.entries[index])
    }
}

/// Builds a map from mappings in any order; of two mappings of the same source, the first wins.
impl FromIterator<Mapped> for PrincipalMap {
    fn from_iter<I: IntoIterator<Item = Mapped>>(iter: I) -> Self {
        let mut entries: Vec<Mapped> = iter.into_iter().collect();
        entries.sort_by_key(|mapped| mapped.source); // stable: the first of equals stays first
        entries.dedup_by_key(|mapped| mapped.source);
        Self { entries }
    }
}

/// The ID maps of all three kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalMaps {
    /// `OSSYS_TENANT`: never maps to NULL.
    pub tenants: PrincipalMap,
    /// `OSSYS_USER`.
    pub users: PrincipalMap,
    /// `OSSYS_GROUP`.
    pub groups: PrincipalMap,
}

/// A source principal as messages and the report name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unmapped {
    /// What it is.
    pub kind: Kind,
    /// Its ID in the source.
    pub source_id: i64,
    /// Its username (users) or name (groups, tenants).
    pub name: String,
    /// The name of its source tenant (`#<id>` if that tenant is not in the source); `None`
    /// for a NULL tenant and for tenants themselves.
    pub tenant: Option<String>,
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.tenant, self.kind) {
            (_, Kind::Tenant) => write!(f, "`{}` (#{})", self.name, self.source_id),
            (Some(tenant), _) => write!(f, "`{}@{tenant}` (#{})", self.name, self.source_id),
            (None, _) => write!(f, "`{}` (#{}, no tenant)", self.name, self.source_id),
        }
    }
}

/// How many principals of one kind were mapped each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HowCounts {
    /// By a line of the mapping file.
    pub file: usize,
    /// By automatic matching.
    pub automatic: usize,
    /// By the `null` or `user:`/`group:` policy.
    pub policy: usize,
}

impl HowCounts {
    /// All mapped principals of the kind.
    pub fn total(&self) -> usize {
        self.file + self.automatic + self.policy
    }

    pub(super) fn count(&mut self, how: How) {
        match how {
            How::File => self.file += 1,
            How::Automatic => self.automatic += 1,
            How::Policy => self.policy += 1,
        }
    }
}

/// [`HowCounts`] per kind, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolutionStats {
    /// Tenants (never by policy).
    pub tenants: HowCounts,
    /// Users.
    pub users: HowCounts,
    /// Groups.
    pub groups: HowCounts,
}

/// What [`resolve`](super::resolve) found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// The ID maps: every source principal has an entry.
    pub maps: PrincipalMaps,
    /// How many were mapped each way.
    pub how: ResolutionStats,
    /// The users and groups mapped by the `null` or `user:`/`group:` policy, by kind then source
    /// ID; the report lists them for review.
    pub unmapped: Vec<Unmapped>,
}
