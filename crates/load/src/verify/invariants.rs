//! The platform invariants among the rows read back from the target: a root process has
//! `TOP_PROCESS_ID = ID`, every instance reference and every instance identifier inside a
//! value points at a moved row, every outward reference at a row the target holds.

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_db::SqlClient;
use bptmig_model::catalog::{self as c, ColumnRole, FkKind};

use super::values::InstanceReferences;
use crate::plan::{LoadPlan, References, TableInput};
use crate::{target, Result};

/// The platform invariants among the rows read back, and their references outside the run.
pub(super) async fn check_moved_rows(
    client: &mut SqlClient,
    plan: &LoadPlan,
    back: &[(usize, Vec<RecordBatch>)],
    value_refs: &InstanceReferences,
    problems: &mut Vec<String>,
) -> Result<()> {
    // Moved IDs per table.
    let mut moved: HashMap<String, HashSet<i32>> = HashMap::new();
    for (ti, batches) in back {
        let t = &plan.tables[*ti];
        let Some(key) = t.model.key else { continue };
        let ids = moved.entry(t.name.clone()).or_default();
        for b in batches {
            if let Some(a) = b
                .column_by_name(key)
                .and_then(|a| a.as_primitive_opt::<Int32Type>())
            {
                ids.extend(a.iter().flatten());
            }
        }
    }
    let mut refs = References::default();
    for (ti, batches) in back {
        let t = &plan.tables[*ti];
        for b in batches {
            refs.add(t, b);
            invariants(t, b, &moved, problems);
        }
        value_refs.check(t, batches, &moved, problems);
    }
    for m in target::missing_references(client, &refs).await? {
        problems.push(format!("dangling reference: {m}"));
    }
    Ok(())
}

/// A root process has `TOP_PROCESS_ID = ID`; every instance reference points at a moved row.
fn invariants(
    t: &TableInput,
    b: &RecordBatch,
    moved: &HashMap<String, HashSet<i32>>,
    problems: &mut Vec<String>,
) {
    const SHOWN: usize = 20;
    let mut report = |p: String| {
        if problems.len() < SHOWN {
            problems.push(p);
        } else if problems.len() == SHOWN {
            problems.push("… more problems not shown".into());
        }
    };
    let col = |name: &str| {
        b.column_by_name(name)
            .and_then(|a| a.as_primitive_opt::<Int32Type>())
            .cloned()
    };
    if t.name == c::PROCESS {
        if let (Some(id), Some(parent), Some(top)) = (
            col(c::ID),
            col(c::PARENT_PROCESS_ID),
            col(c::TOP_PROCESS_ID),
        ) {
            for i in 0..b.num_rows() {
                if parent.is_null(i) && (top.is_null(i) || top.value(i) != id.value(i)) {
                    report(format!(
                        "`{}` row {}: a top-level process must have TOP_PROCESS_ID = ID, has {}",
                        t.name,
                        id.value(i),
                        if top.is_null(i) {
                            "NULL".to_owned()
                        } else {
                            top.value(i).to_string()
                        }
                    ));
                }
            }
        }
    }
    for column in t.model.columns {
        let ColumnRole::Fk {
            kind: FkKind::Instance,
            table: to,
        } = column.role
        else {
            continue;
        };
        let Some(values) = col(column.name) else {
            continue;
        };
        let ids = moved.get(to);
        for (i, v) in values.iter().enumerate() {
            let Some(v) = v else { continue };
            if !ids.is_some_and(|s| s.contains(&v)) {
                let who = t
                    .model
                    .key
                    .and_then(&col)
                    .map_or(format!("row {i}"), |k| format!("row {}", k.value(i)));
                report(format!(
                    "`{}` {who}: `{}` = {v} does not point at a moved `{to}` row",
                    t.name, column.name
                ));
            }
        }
    }
}
