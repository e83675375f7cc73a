//! The load's own checks before it writes anything; each refuses with what to do.
//!
//! In order: every transformed column exists in the target ([`Error::MissingColumns`]), the
//! target's BPT queues are drained ([`Error::QueueNotEmpty`], on
//! [`bptmig_db::preflight::queued_events`]), the run's ID block holds only the chunks the
//! ledger lists ([`Error::IdBlockTaken`]), every row the plan's references need is there
//! ([`Error::MissingReferences`]); then the strategy is chosen, and for bulk copy every column
//! has the same type in the target as in the Parquet ([`Error::BulkUnsupported`]). When the
//! target generates the IDs (`ids.strategy = "generated"`) there is no ID block to check and
//! no bulk copy ([`Error::BulkWithGenerated`]); instead, the IDs each table's identity would
//! give the moved rows must be free ([`Error::IdentityTaken`]).

use bptmig_db::{Side, SqlClient};
use bptmig_model::PipelineConfig;
use bptmig_workdir::sql_type::ColumnPlan;

use crate::ledger::{Done, LedgerTables};
use crate::plan::{LoadPlan, TableInput};
use crate::writer::{self, BulkRefusal, Strategy};
use crate::{target, Error, Result};

/// Runs every check and chooses the strategy; `generated` when the target generates the IDs.
pub(crate) async fn check(
    client: &mut SqlClient,
    config: &PipelineConfig,
    plan: &LoadPlan,
    done: &Done,
    generated: bool,
) -> Result<Strategy> {
    let mut columns = Vec::with_capacity(plan.tables.len());
    for t in &plan.tables {
        columns.push(target::column_plans(client, t).await?);
    }
    let names = bptmig_db::Names::read(client, Side::Target).await?;
    if let Some((table, rows)) = bptmig_db::preflight::queued_events(client, &names).await? {
        return Err(Error::QueueNotEmpty { table, rows });
    }
    if generated {
        check_identity_room(client, plan).await?;
    } else {
        check_block(client, plan, done).await?;
    }
    let missing = target::missing_references(client, &plan.references).await?;
    if !missing.is_empty() {
        return Err(Error::MissingReferences { items: missing });
    }
    let ledger = LedgerTables::of(&config.load).chunks;
    let strategy = writer::choose_strategy(config, &ledger, generated).await?;
    if strategy == Strategy::Bulk {
        for (t, target) in plan.tables.iter().zip(&columns) {
            check_bulk_types(t, target)?;
        }
    }
    Ok(strategy)
}

/// Refuses a target that holds rows in this run's ID block beyond the chunks the ledger
/// lists: the target moved on since the extract.
async fn check_block(client: &mut SqlClient, plan: &LoadPlan, done: &Done) -> Result<()> {
    for (ti, t) in plan.tables.iter().enumerate() {
        let Some(key) = t.model.key else { continue };
        let ranges = plan.table_ranges(ti);
        let found = target::count_in(client, &t.spelled, key, &ranges).await?;
        let ours: i64 = done
            .values()
            .filter(|r| r.table == t.name)
            .map(|r| r.rows)
            .sum();
        if found != ours {
            let shown: Vec<String> = ranges
                .iter()
                .take(3)
                .map(|(a, b)| format!("{a}..={b}"))
                .collect();
            let more = if ranges.len() > 3 { ", …" } else { "" };
            return Err(Error::IdBlockTaken {
                table: t.name.clone(),
                ranges: format!("IDs {}{more}", shown.join(", ")),
                found: found - ours,
                ours,
            });
        }
    }
    Ok(())
}

/// Under `generated`: refuses a table whose identity would give the moved rows IDs that rows
/// of the target already hold (rows inserted with explicit IDs above the identity, which
/// SQL Server only allows after a reseed): the first such insert would fail.
async fn check_identity_room(client: &mut SqlClient, plan: &LoadPlan) -> Result<()> {
    for (ti, t) in plan.tables.iter().enumerate() {
        let Some(key) = t.model.key else { continue };
        let rows: i64 = plan
            .chunks
            .iter()
            .filter(|ch| ch.table == ti)
            .map(|ch| ch.len() as i64)
            .sum();
        if rows == 0 {
            continue;
        }
        let (first, last) = identity_range(client, &t.spelled, rows).await?;
        let found = bptmig_db::scalar(
            client,
            Side::Target,
            &format!(
                "SELECT COUNT(*) FROM {} WHERE {} BETWEEN {first} AND {last}",
                t.sql(),
                bptmig_db::quote_ident(key)
            ),
        )
        .await?;
        if found > 0 {
            return Err(Error::IdentityTaken {
                table: t.name.clone(),
                first,
                last,
                found,
            });
        }
    }
    Ok(())
}

/// The lowest and highest ID the identity of `table` hands out to its next `rows` rows:
/// from its current value on by its increment, from the seed itself when it was never used.
async fn identity_range(client: &mut SqlClient, table: &str, rows: i64) -> Result<(i64, i64)> {
    let name = bptmig_db::quote_text(table);
    let sql = format!(
        "SELECT CAST(IDENT_CURRENT({name}) AS BIGINT), CAST(IDENT_INCR({name}) AS BIGINT), \
         CASE WHEN last_value IS NULL THEN 1 ELSE 0 END FROM sys.identity_columns \
         WHERE object_id = OBJECT_ID({name})"
    );
    let found = bptmig_db::query_rows(client, Side::Target, &sql, &[]).await?;
    let cell = |i| found.first().and_then(|r| bptmig_db::int_cell(r, i));
    let current = cell(0).unwrap_or(0);
    let step = cell(1).filter(|s| *s != 0).unwrap_or(1);
    let first = if cell(2) == Some(1) {
        current
    } else {
        current + step
    };
    let end = first + step * (rows - 1);
    Ok((first.min(end), first.max(end)))
}

/// Bulk copy sends values at the Parquet column's type and scale, and the server would
/// reinterpret them at the target column's: refuse any difference.
fn check_bulk_types(t: &TableInput, target: &[ColumnPlan]) -> Result<()> {
    let differences: Vec<String> = t
        .manifest
        .columns
        .iter()
        .filter_map(|col| {
            let live = target
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&col.name))?;
            let ddl = live.sql_type.ddl();
            (ddl != col.sql_type)
                .then(|| format!("`{}` is {} there, {} here", col.name, ddl, col.sql_type))
        })
        .collect();
    if differences.is_empty() {
        Ok(())
    } else {
        Err(Error::BulkUnsupported {
            reason: BulkRefusal::Types {
                table: t.name.clone(),
                differences,
            },
        })
    }
}
