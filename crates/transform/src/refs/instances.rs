//! `transform/references.json`: where the moved values hold instance identifiers, for
//! `bptmig verify` to check that each points at a moved row.
//!
//! ```json
//! {
//!   "instance_types": { "bt<eSpace SS_KEY>*<entity SS_KEY>": "OSSYS_BPM_PROCESS" },
//!   "instance_columns": { "OSEVT_3ar_Candidate": { "PROCESS_ID": "OSSYS_BPM_PROCESS" } },
//!   "kept": { "OSSYS_BPM_PROCESS_INPUT": { "INPUT_VALUE": 3 } }
//! }
//! ```
//!
//! `instance_types`: the `SS_TYPE`s of values that are instance identifiers, with the table
//! they point into; `instance_columns`: the subscription columns typed so; `kept`: per table
//! and column, how many instance identifiers `unmoved_reference = "keep"` carried over
//! unchanged (which point at no moved row). Written only when the source has such types.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bptmig_model::catalog::TableRole;
use bptmig_workdir::WorkDir;
use serde::{Deserialize, Serialize};

use super::{ColumnType, RefTypes, Target};
use crate::input::Input;
use crate::report::Report;
use crate::Result;

/// The file's name in the transform directory.
pub const REFERENCES_FILE: &str = "references.json";

/// The content of [`REFERENCES_FILE`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceReferences {
    pub instance_types: BTreeMap<String, String>,
    pub instance_columns: BTreeMap<String, BTreeMap<String, String>>,
    pub kept: BTreeMap<String, BTreeMap<String, u64>>,
}

impl InstanceReferences {
    /// Where the instance identifiers of `inputs` are, and what `report` says was kept.
    pub(crate) fn new(refs: &RefTypes, inputs: &[Input], report: &Report, keep: bool) -> Self {
        let instance = |e: usize| match refs.entities.get(e).map(|e| &e.target) {
            Some(Target::Instance(t)) => Some((*t).to_owned()),
            _ => None,
        };
        let instance_types = refs
            .ss_types()
            .filter_map(|(ss_type, e)| Some((ss_type, instance(e)?)))
            .collect();
        let mut instance_columns: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for input in inputs
            .iter()
            .filter(|i| i.model.role == TableRole::EventSubscription)
        {
            for col in &input.manifest.columns {
                if input.model.column(&col.name).is_some() {
                    continue;
                }
                if let ColumnType::Ref(e) = refs.osevt.column(&input.name, &col.name) {
                    if let Some(t) = instance(e) {
                        let table = instance_columns.entry(input.name.clone()).or_default();
                        table.insert(col.name.clone(), t);
                    }
                }
            }
        }
        let instance_tables: Vec<&str> = refs
            .entities
            .iter()
            .filter(|e| matches!(e.target, Target::Instance(_)))
            .map(|e| e.table.as_str())
            .collect();
        let mut kept: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for (table, counts) in report.tables.iter().filter(|_| keep) {
            for (column, by_entity) in &counts.unmoved_references {
                let n: u64 = by_entity
                    .iter()
                    .filter(|(e, _)| instance_tables.contains(&e.as_str()))
                    .map(|(_, n)| n)
                    .sum();
                if n > 0 {
                    kept.entry(table.clone())
                        .or_default()
                        .insert(column.clone(), n);
                }
            }
        }
        Self {
            instance_types,
            instance_columns,
            kept,
        }
    }

    /// Writes the file when there is anything to say; removes an earlier one otherwise.
    pub(crate) fn write(&self, wd: &WorkDir) -> Result<()> {
        let path = Self::path(wd);
        if self.instance_types.is_empty() && self.instance_columns.is_empty() {
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| crate::Error::io(&path, "encode", e.into()))?;
        bytes.push(b'\n');
        bptmig_workdir::write_atomic(&path, &bytes)?;
        Ok(())
    }

    pub fn path(wd: &WorkDir) -> PathBuf {
        wd.stage_dir(crate::STAGE).join(REFERENCES_FILE)
    }
}
