//! The source IDs that the rows to move reference: what the extract's selection finds for
//! `check`, and what the transform's mapping coverage resolves.

use std::collections::{BTreeMap, BTreeSet};

/// Source IDs that the rows to move reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsedIds {
    /// Per definition table.
    pub definitions: BTreeMap<String, BTreeSet<i64>>,
    pub users: BTreeSet<i64>,
    pub groups: BTreeSet<i64>,
    pub tenants: BTreeSet<i64>,
}
