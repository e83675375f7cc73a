//! One part: read once, rewritten batch by batch, written as it goes.

use arrow::array::AsArray;
use arrow::datatypes::{Int32Type, Schema};
use bptmig_workdir::part::{LazyPartWriter, PartMeta};
use bptmig_workdir::sql_type::{ColumnPlan, SqlType, SQL_TYPE_METADATA_KEY};
use bptmig_workdir::{RunState, WorkDir};

use super::batch::rewrite_batch;
use super::PartResult;
use crate::anonymize::Anonymizer;
use crate::input::Input;
use crate::plan::TransformPlan;
use crate::report::TableCounts;
use crate::stage::STAGE;
use crate::verified::VerifiedParts;
use crate::Result;

/// The SQL types the fields of `schema` carry. A column without one (the tree level the
/// rewrite adds) has no plan.
fn plans_of(schema: &Schema) -> Vec<ColumnPlan> {
    schema
        .fields()
        .iter()
        .filter_map(|f| {
            let ty = f
                .metadata()
                .get(SQL_TYPE_METADATA_KEY)
                .and_then(|d| SqlType::from_ddl(d))?;
            Some(ColumnPlan {
                name: f.name().clone(),
                sql_type: ty,
                nullable: f.is_nullable(),
            })
        })
        .collect()
}

/// Rewrites part `index` of `input` into the same file name under the stage's table folder;
/// a part left without rows leaves no file. The part is checked against its manifest first,
/// unless phase 1 did and it has not changed since (`verified`).
pub(super) fn rewrite_part(
    wd: &WorkDir,
    run: &RunState,
    (input, index): (&Input, usize),
    plan: (&TransformPlan, Option<&Anonymizer>),
    row_group_rows: usize,
    verified: &VerifiedParts,
) -> Result<PartResult> {
    let part = &input.manifest.parts[index];
    let reader = input.open_part(index, verified)?;
    // The output's columns are the input's (the tree level has no SQL type).
    let plans = plans_of(reader.schema());
    let meta = PartMeta::for_table(&run.run_id, &input.name, &input.model, &plans);
    let mut writer = LazyPartWriter::new(
        &wd.table_dir(STAGE, &input.name),
        &part.file,
        meta,
        row_group_rows,
        plans,
    );
    let mut counts = TableCounts::default();
    let mut deferred = Vec::new();
    let key_name = input.model.key;
    // One batch at a time: read, rewrite, write. Memory stays at a few batches per thread.
    let batches = reader
        .batch_size(row_group_rows.clamp(1024, 65_536))
        .batches()?;
    for batch in batches {
        let out = rewrite_batch(input, &batch?, plan, &mut counts, &mut deferred)?;
        // The smallest and largest new key: new IDs ascend inside a part unless a reseeded
        // source was numbered in creation order.
        let keys = key_name
            .and_then(|k| out.schema().index_of(k).ok())
            .and_then(|i| {
                let a = out.column(i).as_primitive::<Int32Type>();
                Some((
                    i64::from(arrow::compute::min(a)?),
                    i64::from(arrow::compute::max(a)?),
                ))
            });
        writer.write(&out, keys)?;
    }
    Ok(PartResult {
        rows_in: part.rows,
        entry: writer.finish()?,
        counts,
        deferred,
    })
}
