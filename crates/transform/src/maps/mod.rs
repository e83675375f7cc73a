//! Maps from source to target keys, built from the two snapshots the extract wrote:
//! definitions by (eSpace SS_KEY, definition SS_KEY) ([`DefinitionMaps`]), eSpaces by SS_KEY,
//! static tables checked equal by name, entity types, and the users, groups and tenants for
//! [`crate::principals::resolve()`] ([`Snapshot::principals`]).

use std::collections::{BTreeMap, HashMap};

use bptmig_model::catalog::{self as c, Table};

use crate::Result;

pub use definitions::{DefKey, DefinitionMaps, DuplicateKey, MissingDefinition};
pub use snapshot::{read_parquet, InstanceStat, Rows, Snapshot};

mod definitions;
mod snapshot;

/// eSpace ID map by SS_KEY.
pub fn espace_map(source: &Snapshot, target: &Snapshot) -> Result<HashMap<i64, i64>> {
    let target: HashMap<String, i64> = target
        .espace_keys()?
        .into_iter()
        .map(|(i, k)| (k, i))
        .collect();
    Ok(source
        .espace_keys()?
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
    let espace: HashMap<i64, String> = source.espace_keys()?.into_iter().collect();
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
