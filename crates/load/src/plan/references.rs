//! What transformed (or read-back) rows reference outside the run: definitions, principals,
//! tenants, eSpaces and static entities, each value with the rows that use it.

use std::collections::BTreeMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_model::catalog::{ColumnRole, FkKind};

use super::TableInput;

/// Distinct values of every outward foreign-key column: (table, column, referenced table) →
/// value → rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References(pub BTreeMap<(String, String, &'static str), BTreeMap<i64, u64>>);

impl References {
    /// Adds the outward references of `batch` (a batch of table `t`).
    pub fn add(&mut self, t: &TableInput, batch: &RecordBatch) {
        for col in t.model.columns {
            let ColumnRole::Fk { kind, table: to } = col.role else {
                continue;
            };
            if kind == FkKind::Instance {
                continue;
            }
            let Some(array) = batch.column_by_name(col.name) else {
                continue;
            };
            let Some(ints) = array.as_primitive_opt::<Int32Type>() else {
                continue;
            };
            let entry = self
                .0
                .entry((t.name.clone(), col.name.to_owned(), to))
                .or_default();
            for v in ints.iter().flatten() {
                *entry.entry(i64::from(v)).or_default() += 1;
            }
        }
    }
}
