//! Maps from source to target keys, built from the two snapshots the extract wrote:
//! definitions by (eSpace SS_KEY, definition SS_KEY), eSpaces by SS_KEY, static tables checked
//! equal by name, and the user/group/tenant sides for [`crate::principals::resolve()`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use bptmig_model::catalog::{self as c, Table};
use bptmig_workdir::part::PartReader;
use serde::{Deserialize, Serialize};

use crate::principals::{GroupRow, Principals, TenantRow, UserRow};
use crate::{Error, Result};

/// One environment's snapshot directory.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
}

/// A snapshot table read whole: column name → values.
#[derive(Debug, Default)]
pub struct Rows {
    batches: Vec<RecordBatch>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An integer column (INT or BIGINT); missing columns read as NULL.
    pub fn ints(&self, col: &str) -> Vec<Option<i64>> {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.batches {
            match b.column_by_name(col) {
                Some(a) => match a.data_type() {
                    DataType::Int32 => {
                        let a = a.as_primitive::<Int32Type>();
                        out.extend(
                            (0..a.len()).map(|i| a.is_valid(i).then(|| i64::from(a.value(i)))),
                        );
                    }
                    DataType::Int64 => {
                        let a = a.as_primitive::<Int64Type>();
                        out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))));
                    }
                    _ => out.extend(std::iter::repeat_n(None, b.num_rows())),
                },
                None => out.extend(std::iter::repeat_n(None, b.num_rows())),
            }
        }
        out
    }

    /// A text column; missing columns read as NULL.
    pub fn texts(&self, col: &str) -> Vec<Option<String>> {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.batches {
            match b
                .column_by_name(col)
                .filter(|a| a.data_type() == &DataType::Utf8)
            {
                Some(a) => {
                    let a = a.as_string::<i32>();
                    out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i).to_owned())));
                }
                None => out.extend(std::iter::repeat_n(None, b.num_rows())),
            }
        }
        out
    }

    /// A bit column; missing columns read as `default`.
    pub fn bools(&self, col: &str, default: bool) -> Vec<bool> {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.batches {
            match b
                .column_by_name(col)
                .filter(|a| a.data_type() == &DataType::Boolean)
            {
                Some(a) => {
                    let a = a.as_boolean();
                    out.extend(
                        (0..a.len()).map(|i| if a.is_valid(i) { a.value(i) } else { default }),
                    );
                }
                None => out.extend(std::iter::repeat_n(default, b.num_rows())),
            }
        }
        out
    }
}

/// Reads every batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    Ok(PartReader::open(path)?.read_all()?)
}

impl Snapshot {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The whole snapshot of `table`.
    pub fn rows(&self, table: &str) -> Result<Rows> {
        let path = self.dir.join(format!("{table}.parquet"));
        if !path.is_file() {
            return Err(Error::MissingInput {
                path,
                hint: "run `bptmig extract` first (its snapshots are missing)",
            });
        }
        Ok(Rows {
            batches: read_parquet(&path)?,
        })
    }

    /// Row count and maximum ID of each instance table of this environment.
    pub fn instance_stats(&self) -> Result<BTreeMap<String, (i64, Option<i64>)>> {
        let rows = self.rows(bptmig_workdir::layout::INSTANCE_STATS)?;
        let names = rows.texts("TABLE");
        let counts = rows.ints("ROWS");
        let max = rows.ints("MAX_ID");
        Ok(names
            .into_iter()
            .zip(counts)
            .zip(max)
            .filter_map(|((n, r), m)| n.map(|n| (n, (r.unwrap_or(0), m))))
            .collect())
    }

    /// Tenants, users and groups, for principal resolution.
    pub fn principals(&self) -> Result<Principals> {
        let t = self.rows(c::TENANT)?;
        let u = self.rows(c::USER)?;
        let g = self.rows(c::GROUP)?;
        Ok(Principals {
            tenants: t
                .ints(c::ID)
                .into_iter()
                .zip(t.texts(c::NAME))
                .filter_map(|(id, name)| {
                    Some(TenantRow {
                        id: id?,
                        name: name.unwrap_or_default(),
                    })
                })
                .collect(),
            users: u
                .ints(c::ID)
                .into_iter()
                .zip(u.texts(c::USERNAME))
                .zip(u.ints(c::TENANT_ID))
                .filter_map(|((id, username), tenant_id)| {
                    Some(UserRow {
                        id: id?,
                        username: username.unwrap_or_default(),
                        tenant_id,
                    })
                })
                .collect(),
            groups: g
                .ints(c::ID)
                .into_iter()
                .zip(g.texts(c::NAME))
                .zip(g.ints(c::TENANT_ID))
                .filter_map(|((id, name), tenant_id)| {
                    Some(GroupRow {
                        id: id?,
                        name: name.unwrap_or_default(),
                        tenant_id,
                    })
                })
                .collect(),
        })
    }
}

// ---- definitions -----------------------------------------------------------------------------

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
    let espaces = snap.rows(c::ESPACE)?;
    let espace_key: HashMap<i64, String> = espaces
        .ints(c::ID)
        .into_iter()
        .zip(espaces.texts(c::SS_KEY))
        .filter_map(|(id, k)| Some((id?, k?)))
        .collect();
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

/// eSpace ID map by SS_KEY.
pub fn espace_map(source: &Snapshot, target: &Snapshot) -> Result<HashMap<i64, i64>> {
    let read = |s: &Snapshot| -> Result<Vec<(i64, String)>> {
        let r = s.rows(c::ESPACE)?;
        Ok(r.ints(c::ID)
            .into_iter()
            .zip(r.texts(c::SS_KEY))
            .filter_map(|(i, k)| Some((i?, k?)))
            .collect())
    };
    let target: HashMap<String, i64> = read(target)?.into_iter().map(|(i, k)| (k, i)).collect();
    Ok(read(source)?
        .into_iter()
        .filter_map(|(i, k)| target.get(&k).map(|t| (i, *t)))
        .collect())
}

/// Static tables must hold the same names under the same IDs in both environments
/// (platform-seeded); returns one message per difference.
pub fn static_differences(source: &Snapshot, target: &Snapshot) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for table in c::STATIC_TABLES {
        let names = |s: &Snapshot| -> Result<BTreeMap<i64, String>> {
            let r = s.rows(table.name)?;
            Ok(r.ints(c::ID)
                .into_iter()
                .zip(r.texts(c::NAME))
                .filter_map(|(i, n)| Some((i?, n.unwrap_or_default())))
                .collect())
        };
        let (s, t) = (names(source)?, names(target)?);
        for (id, name) in &s {
            match t.get(id) {
                Some(tn) if tn == name => {}
                Some(tn) => out.push(format!(
                    "`{}` ID {id} is `{name}` in the source but `{tn}` in the target",
                    table.name
                )),
                None => out.push(format!(
                    "`{}` ID {id} (`{name}`) is missing in the target",
                    table.name
                )),
            }
        }
    }
    Ok(out)
}

/// Physical table of each entity-reference type: (eSpace SS_KEY, entity SS_KEY) → table.
pub fn entity_tables(source: &Snapshot) -> Result<HashMap<(String, String), String>> {
    let e = source.rows(c::ESPACE)?;
    let espace: HashMap<i64, String> = e
        .ints(c::ID)
        .into_iter()
        .zip(e.texts(c::SS_KEY))
        .filter_map(|(i, k)| Some((i?, k?)))
        .collect();
    let r = source.rows(c::ENTITY)?;
    let mut out = HashMap::new();
    for ((esp, key), table) in r
        .ints(c::ESPACE_ID)
        .into_iter()
        .zip(r.texts(c::SS_KEY))
        .zip(r.texts(c::PHYSICAL_TABLE_NAME))
    {
        if let (Some(esp), Some(key), Some(table)) = (esp.and_then(|e| espace.get(&e)), key, table)
        {
            out.insert((esp.clone(), key), table);
        }
    }
    Ok(out)
}

/// The model table behind an extracted table name (OSEVT tables share one shape).
pub fn model_table(name: &str) -> Table {
    c::table(name)
        .copied()
        .unwrap_or_else(|| c::osevt_table("OSEVT_*"))
}
