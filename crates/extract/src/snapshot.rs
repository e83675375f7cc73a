//! Snapshots of an environment's mapping tables (principals, definitions, static tables) and
//! its instance statistics, written through [`SnapshotWriter`].

use std::path::Path;

use arrow::record_batch::RecordBatch;
use bptmig_db::{self as db, quote_ident, Side, SqlClient};
use bptmig_model::catalog::{self as c, Table};
use bptmig_workdir::snapshot::{snapshot_tables, SnapshotWriter, TableStats};
use bptmig_workdir::sql_type::ColumnPlan;
use bptmig_workdir::ServerClock;

use crate::listed::snapshot_intact;
use crate::session::{Session, Step};
use crate::stage::Ctx;
use crate::stream::select_list;
use crate::{Error, Result};

mod identity;

/// Writes the session's side's snapshot into the work directory; with `reuse`, not when a
/// complete and intact one is there. Without it the snapshot is taken again whole (the
/// source's, after this extract read its rows), its old manifest removed first so that no
/// mix of the two is ever complete. The snapshot is one [`Step`]: a transient fault writes
/// it again whole. Returns the server's clock when the snapshot was taken (`None` when one
/// was reused, or the server told no time).
pub(crate) async fn snapshot(
    ctx: &Ctx<'_>,
    session: &mut Session<'_>,
    reuse: bool,
) -> Result<Option<ServerClock>> {
    let side = session.side();
    let dir = ctx.wd.snapshot_dir(side.as_str());
    if reuse && snapshot_intact(&dir)? {
        return Ok(None);
    }
    if !reuse {
        let manifest = bptmig_workdir::Manifest::path(&dir);
        match std::fs::remove_file(&manifest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bptmig_workdir::Error::io(&manifest, "remove", e).into()),
        }
    }
    ctx.check_cancel()?;
    let clock = session
        .run(&Step::Snapshot, async |client, _| {
            write_snapshot(&dir, ctx.run_id, client, side, ctx.row_group_rows).await
        })
        .await?;
    ctx.reporter
        .note(&format!("snapshot of the {side} written"));
    Ok(clock)
}

/// Copies the mapping tables of `side` (model columns only) into `dir`, with a manifest
/// written last; returns the server's clock at the end ([`server_clock`]). Used by extract
/// and by `bptmig check`.
pub async fn write_snapshot(
    dir: &Path,
    run_id: &str,
    client: &mut SqlClient,
    side: Side,
    row_group_rows: usize,
) -> Result<Option<ServerClock>> {
    let mut writer = SnapshotWriter::new(dir, side.as_str(), run_id, row_group_rows);
    let names = db::Names::read(client, side).await?;
    for table in snapshot_tables() {
        let live = db::table_columns(client, side, table.name).await?;
        // Only the columns the model knows: never password hashes or other payload.
        let plans: Vec<ColumnPlan> = table
            .columns
            .iter()
            .filter_map(|mc| db::find_column(&live, mc.name))
            .map(|lc| ColumnPlan::from_catalog(table.name, lc))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| db::Error::Type { side, source: e })?;
        require_columns(side, table, &plans)?;
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            select_list(&plans),
            names.quoted(table.name)?,
            quote_ident(c::ID)
        );
        let batches = db::read_batches(
            client,
            side,
            table.name,
            &sql,
            &[],
            &plans,
            row_group_rows,
            None,
        )
        .await?;
        let batches: Vec<RecordBatch> = batches.into_iter().map(|b| b.0).collect();
        writer.table(table, &plans, &batches)?;
    }
    let stats = instance_stats(client, side, &names).await?;
    let clock = server_clock(client, side).await?;
    writer.finish_with(&stats)?;
    Ok(clock)
}

/// The session's server's clock ([`server_clock`]), read as one [`Step`] of its own.
pub(crate) async fn clock(session: &mut Session<'_>) -> Result<Option<ServerClock>> {
    let side = session.side();
    session
        .run(&Step::Snapshot, async |client, _| {
            server_clock(client, side).await
        })
        .await
}

/// The server's `GETDATE()` beside this machine's UTC clock ([`ServerClock`]); `None` when
/// the server answers no text.
pub async fn server_clock(client: &mut SqlClient, side: Side) -> Result<Option<ServerClock>> {
    let sql = "SELECT CONVERT(VARCHAR(33), GETDATE(), 126) AS SERVER_NOW";
    let rows = db::query_rows(client, side, sql, &[]).await?;
    let read_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Ok(rows
        .first()
        .and_then(|r| db::text_cell(r, 0))
        .map(|server_now| ServerClock {
            server_now,
            read_at_ms,
        }))
}

/// Row count, maximum ID and (for a keyed table) identity of every instance table: the
/// target's decide the ID block, the source's the creation order of its rows. Used by the
/// snapshot and by `bptmig check`.
pub async fn instance_stats(
    client: &mut SqlClient,
    side: Side,
    names: &db::Names,
) -> Result<Vec<TableStats<'static>>> {
    let follows = identity::follows_explicit(client).await?;
    let mut stats = Vec::new();
    for table in c::INSTANCE_TABLES {
        let (rows, max_id) = db::table_stats(client, side, &names.quoted(table.name)?).await?;
        let identity = match table.key {
            Some(_) => Some(identity::identity(client, side, names, table, follows).await?),
            None => None,
        };
        stats.push(TableStats {
            table: table.name,
            rows,
            max_id,
            identity,
        });
    }
    Ok(stats)
}

/// Every column with a role other than a plain value must exist (older platform versions).
pub(crate) fn require_columns(side: Side, table: &Table, plans: &[ColumnPlan]) -> Result<()> {
    for mc in table.columns {
        let needed = !matches!(
            mc.role,
            c::ColumnRole::Value | c::ColumnRole::SchedulerState
        );
        if needed && !plans.iter().any(|p| p.name.eq_ignore_ascii_case(mc.name)) {
            return Err(Error::Db(db::Error::MissingColumn {
                side,
                table: table.name.to_owned(),
                column: mc.name,
            }));
        }
    }
    Ok(())
}
