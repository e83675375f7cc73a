//! Definitions matched across environments by (eSpace SS_KEY, definition SS_KEY).

use std::collections::{BTreeMap, HashMap};

use bptmig_model::catalog as c;
use serde::{Deserialize, Serialize};

use super::Snapshot;
use crate::Result;

/// A definition's identity across environments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DefKey {
    pub espace_ss_key: String,
    pub ss_key: String,
}

/// A definition of one environment.
#[derive(Debug, Clone)]
struct DefRow {
    id: i64,
    key: Option<DefKey>,
    name: String,
    active: bool,
}

/// The column of a definition table that leads towards its eSpace, and the table it names.
fn parent_link(table: &str) -> (&'static str, &'static str) {
    match table {
        t if t == c::PROCESS_DEFINITION => (c::ESPACE_ID, c::ESPACE),
        t if t == c::ACTIVITY_OUTPUT_DEF => (c::ACTIVITY_DEF_ID, c::ACTIVITY_DEFINITION),
        _ => (c::PROCESS_DEF_ID, c::PROCESS_DEFINITION),
    }
}

/// All definition rows of an environment, with their (eSpace key, key) resolved.
fn definitions(snap: &Snapshot) -> Result<BTreeMap<&'static str, Vec<DefRow>>> {
    let espace_key: HashMap<i64, String> = snap.espace_keys()?.into_iter().collect();
    // id -> eSpace key, per definition table, filled parents first.
    let mut espace_of: BTreeMap<&str, HashMap<i64, String>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for table in c::DEFINITION_TABLES {
        let rows = snap.rows(table.name)?;
        let (link, parent) = parent_link(table.name);
        let parents: Option<&HashMap<i64, String>> = if parent == c::ESPACE {
            Some(&espace_key)
        } else {
            espace_of.get(parent)
        };
        let ids = rows.ints(c::ID);
        let links = rows.ints(link);
        let keys = rows.texts(c::SS_KEY);
        let names = rows.texts(c::NAME);
        let active = rows.bools(c::IS_ACTIVE, true);
        let mut mine = HashMap::new();
        let mut defs = Vec::with_capacity(ids.len());
        for i in 0..ids.len() {
            let Some(id) = ids[i] else { continue };
            let espace = links[i]
                .and_then(|l| parents.and_then(|p| p.get(&l)))
                .cloned();
            if let Some(e) = &espace {
                mine.insert(id, e.clone());
            }
            defs.push(DefRow {
                id,
                key: espace
                    .zip(keys[i].clone())
                    .map(|(espace_ss_key, ss_key)| DefKey {
                        espace_ss_key,
                        ss_key,
                    }),
                name: names[i].clone().unwrap_or_default(),
                active: active[i],
            });
        }
        espace_of.insert(table.name, mine);
        out.insert(table.name, defs);
    }
    Ok(out)
}

/// A source definition with no target counterpart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingDefinition {
    pub table: String,
    pub source_id: i64,
    pub name: String,
    pub key: Option<DefKey>,
}

/// Two or more target definitions share a key; the active one with the smallest ID is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateKey {
    pub table: String,
    pub key: DefKey,
    pub target_ids: Vec<i64>,
    pub chosen: i64,
}

/// Source definition ID → target definition ID, per definition table.
#[derive(Debug, Default)]
pub struct DefinitionMaps {
    pub maps: BTreeMap<&'static str, HashMap<i64, i64>>,
    pub unmapped: BTreeMap<&'static str, BTreeMap<i64, MissingDefinition>>,
    pub duplicates: Vec<DuplicateKey>,
}

impl DefinitionMaps {
    /// Matches every source definition to the target one with the same (eSpace SS_KEY,
    /// SS_KEY), preferring active rows.
    pub fn build(source: &Snapshot, target: &Snapshot) -> Result<Self> {
        let src = definitions(source)?;
        let tgt = definitions(target)?;
        let mut out = Self::default();
        for table in c::DEFINITION_TABLES {
            let mut by_key: BTreeMap<&DefKey, Vec<&DefRow>> = BTreeMap::new();
            for d in tgt.get(table.name).into_iter().flatten() {
                if let Some(k) = &d.key {
                    by_key.entry(k).or_default().push(d);
                }
            }
            let mut chosen: HashMap<&DefKey, i64> = HashMap::new();
            for (key, rows) in &by_key {
                // Active first, then the smallest ID: deterministic whatever the row order.
                let best = rows
                    .iter()
                    .min_by_key(|d| (!d.active, d.id))
                    .map_or(0, |d| d.id);
                if rows.len() > 1 {
                    let mut ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
                    ids.sort_unstable();
                    out.duplicates.push(DuplicateKey {
                        table: table.name.to_owned(),
                        key: (*key).clone(),
                        target_ids: ids,
                        chosen: best,
                    });
                }
                chosen.insert(key, best);
            }
            let mut map = HashMap::new();
            let mut unmapped = BTreeMap::new();
            for d in src.get(table.name).into_iter().flatten() {
                match d.key.as_ref().and_then(|k| chosen.get(k)) {
                    Some(t) => {
                        map.insert(d.id, *t);
                    }
                    None => {
                        unmapped.insert(
                            d.id,
                            MissingDefinition {
                                table: table.name.to_owned(),
                                source_id: d.id,
                                name: d.name.clone(),
                                key: d.key.clone(),
                            },
                        );
                    }
                }
            }
            out.maps.insert(table.name, map);
            out.unmapped.insert(table.name, unmapped);
        }
        Ok(out)
    }

    /// The target ID of source definition `id` of `table`.
    pub fn get(&self, table: &str, id: i64) -> Option<i64> {
        self.maps.get(table).and_then(|m| m.get(&id)).copied()
    }
}
