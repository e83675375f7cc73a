//! One batch: the rows that move, each column through the function of its role.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array, RecordBatch, StringArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use bptmig_model::catalog::{self as c, ColumnRole, FkKind, TableRole};

use super::columns::{self, Nulled};
use super::levels;
use super::values::{rewrite_osevt_column, rewrite_values, Dropped};
use crate::anonymize::Anonymizer;
use crate::deferred::Deferred;
use crate::input::Input;
use crate::plan::TransformPlan;
use crate::report::TableCounts;
use crate::{Error, Result};

/// What every column of one batch is rewritten with.
struct BatchContext<'a> {
    input: &'a Input,
    plan: &'a TransformPlan,
    /// The table's own new IDs (for event subscriptions, the activities').
    own: Option<&'a bptmig_workdir::IdMap>,
    /// Source keys of the rows (sample rows for the report).
    source_keys: Option<&'a Int32Array>,
    ss_types: Option<&'a StringArray>,
}

/// Rewrites `batch` of `input`: rows of skipped trees (and rows outside every moved tree)
/// stay behind, every key and foreign key goes through `plan`, processes and activities get
/// their tree level and deferred references; the columns `[anonymize]` covers are masked.
pub(super) fn rewrite_batch(
    input: &Input,
    batch: &RecordBatch,
    (plan, anonymizer): (&TransformPlan, Option<&Anonymizer>),
    counts: &mut TableCounts,
    deferred: &mut Vec<Deferred>,
) -> Result<RecordBatch> {
    let own = plan.ids.get(input.owner_table());
    let batch = moving_rows(input, batch, own)?;
    let schema = batch.schema();
    let source_keys = batch
        .column_by_name(input.owner_column())
        .filter(|k| k.data_type() == &DataType::Int32)
        .map(|k| k.as_primitive::<Int32Type>().clone());
    let ss_types = batch
        .column_by_name(c::SS_TYPE)
        .filter(|a| a.data_type() == &DataType::Utf8)
        .map(|a| a.as_string::<i32>().clone());
    let context = BatchContext {
        input,
        plan,
        own,
        source_keys: source_keys.as_ref(),
        ss_types: ss_types.as_ref(),
    };
    let mut nulled = Nulled::default();
    let mut dropped = Dropped::default();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns() + 1);
    for (field, col) in schema.fields().iter().zip(batch.columns()) {
        columns.push(context.column(field, col, counts, (&mut nulled, &mut dropped))?);
    }
    nulled.record(counts);
    if let Some(a) = anonymizer {
        a.apply(&input.name, &batch, &schema, &mut columns, counts)?;
    }
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    levels::append(
        input,
        &plan.levels,
        (&batch, &schema),
        &mut fields,
        &mut columns,
        deferred,
    )?;
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let out = RecordBatch::try_new(schema, columns).map_err(|e| Error::arrow(&input.name, e))?;
    // Subscription rows whose filter could not be mapped under `unmoved_reference = "null"`.
    match dropped.keep_mask() {
        Some(keep) => {
            counts.subscriptions_dropped += (keep.len() - keep.true_count()) as u64;
            filter_record_batch(&out, &keep).map_err(|e| Error::arrow(&input.name, e))
        }
        None => Ok(out),
    }
}

/// The rows of `batch` whose owner key has a new ID in `own`.
fn moving_rows(
    input: &Input,
    batch: &RecordBatch,
    own: Option<&bptmig_workdir::IdMap>,
) -> Result<RecordBatch> {
    let keep: BooleanArray = match (batch.column_by_name(input.owner_column()), own) {
        (Some(k), Some(m)) if k.data_type() == &DataType::Int32 => {
            let k = k.as_primitive::<Int32Type>();
            (0..k.len())
                .map(|i| Some(k.is_valid(i) && m.get(k.value(i)).is_some()))
                .collect()
        }
        _ => (0..batch.num_rows()).map(|_| Some(false)).collect(),
    };
    // Usually every row moves: then there is nothing to copy.
    if keep.true_count() == keep.len() {
        return Ok(batch.clone());
    }
    filter_record_batch(batch, &keep).map_err(|e| Error::arrow(&input.name, e))
}

impl BatchContext<'_> {
    /// Column `col` (field `field`) through the function of its role.
    fn column(
        &self,
        field: &Field,
        col: &ArrayRef,
        counts: &mut TableCounts,
        (nulled, dropped): (&mut Nulled, &mut Dropped),
    ) -> Result<ArrayRef> {
        let (input, plan) = (self.input, self.plan);
        let model = input.model.column(field.name());
        if model.is_none() && input.model.role == TableRole::EventSubscription {
            let (table, name, keys) = (&input.name, field.name(), self.source_keys);
            return Ok(rewrite_osevt_column(
                table, name, col, plan, keys, counts, dropped,
            ));
        }
        let role = model.map_or(ColumnRole::Value, |mc| mc.role);
        let int = col.data_type() == &DataType::Int32;
        Ok(match role {
            ColumnRole::Key if int => {
                let Some(own) = self.own else {
                    return Err(Error::Internal {
                        path: input.dir.clone(),
                        what: "no ID map for the table",
                    });
                };
                columns::key(col, own)
            }
            ColumnRole::Fk {
                kind: FkKind::Instance,
                table,
            } if int => columns::instance_fk(col, plan.ids.get(table), counts),
            ColumnRole::Fk {
                kind: FkKind::Definition,
                table,
            } if int => columns::definition_fk(col, plan.defs.get(table), counts),
            ColumnRole::Fk {
                kind: kind @ (FkKind::User | FkKind::Group | FkKind::Tenant),
                ..
            } if int => {
                let map = match kind {
                    FkKind::User => &plan.users,
                    FkKind::Group => &plan.groups,
                    _ => &plan.tenants,
                };
                let column = model.map_or("?", |mc| mc.name);
                columns::principal_fk(col, map, kind.as_str(), column, self.source_keys, nulled)
            }
            ColumnRole::Fk {
                kind: FkKind::Espace,
                ..
            } if int => columns::espace_fk(col, &plan.espaces, counts),
            ColumnRole::EntityRefValue { .. } if col.data_type() == &DataType::Utf8 => {
                let name = field.name();
                rewrite_values(col, self.ss_types, name, self.source_keys, plan, counts)
            }
            ColumnRole::SchedulerState if plan.clear_locks && field.is_nullable() => {
                arrow::array::new_null_array(col.data_type(), col.len())
            }
            ColumnRole::Key | ColumnRole::Fk { .. } if !int => {
                return Err(Error::ColumnType {
                    table: input.name.clone(),
                    column: field.name().clone(),
                    found: col.data_type().to_string(),
                })
            }
            _ => col.clone(),
        })
    }
}
