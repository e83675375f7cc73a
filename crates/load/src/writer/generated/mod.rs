//! `ids.strategy = "generated"`: the target generates every moved row's ID, and the load
//! learns each one exactly.
//!
//! A keyed table's chunk is sent in batches of `batch_rows` rows, one round trip each:
//!
//! ```sql
//! DECLARE @i0 INT, @i1 INT;
//! INSERT INTO [T] (…) VALUES (…); SET @i0 = CAST(SCOPE_IDENTITY() AS INT);
//! INSERT INTO [T] (…, [PRECEDENT_ACTIVITY_ID], …) VALUES (…, @i0, …); SET @i1 = …;
//! SELECT @i0, @i1;
//! ```
//!
//! One `INSERT` per row, so that `SCOPE_IDENTITY()` names that row's ID (a multi-row
//! `INSERT … OUTPUT INSERTED.ID` does not promise the order of its `VALUES`); the last
//! `SELECT` gives them all back in row order. Before a row is rendered, each of its instance
//! references (the model's instance foreign keys, values typed as instance identifiers, the
//! subscription columns typed so: [`refs`]) is resolved through the IDs captured by earlier
//! chunks, earlier batches of this chunk, or — for a row of the same batch — its variable.
//! A reference that resolves to nothing is refused ([`ChunkError::Unresolved`]), never sent
//! unchanged; an identifier inside a value that points at no row of the run stays as the
//! transform kept it (it counted it under `unmoved_reference = "keep"`).
//!
//! What the chunk captured is recorded in the pairs table in the chunk's own transaction
//! ([`ChunkWriter::capture_statements`]), its deferred fix-ups and tree records use the new
//! IDs, and only once the chunk commits do its pairs join the captured map.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use bptmig_db::{self as db, SqlClient};
use bptmig_model::catalog::{self as c, ColumnRole, FkKind};
use bptmig_workdir::WorkDir;

use super::{ChunkError, ChunkRows, ChunkWriter};
use crate::id_maps::{self, TableMap};
use crate::ledger::pairs::{self, ChunkPairs};
use crate::ledger::trees::TreeRecord;
use crate::plan::{Fixup, LoadPlan, TableInput};
use crate::target::{self, Refused};
use crate::{Error, Result};

pub(crate) mod refs;

use refs::{held, in_ranges, parse_plain, typed_target, unresolved, Captured, Column, Held};

/// Writes chunks whose IDs the target generates, and keeps the IDs it generated.
#[derive(Debug)]
pub(crate) struct GeneratedWriter {
    batch_rows: usize,
    types: refs::ValueTypes,
    /// Per model table, the transformed IDs the run moves (inclusive ranges, ascending).
    moved: HashMap<String, Vec<(i32, i32)>>,
    /// Per table, the statements' header without the key, named as the target spells it.
    headers: HashMap<String, String>,
    captured: Captured,
    chunk: InFlight,
}

/// The pairs of the chunk under way, not yet committed.
#[derive(Debug, Default)]
struct InFlight {
    table: String,
    pairs: Vec<(i32, i32)>,
    by_old: HashMap<i32, i32>,
}

/// A resolved reference: an ID, or the variable of a row of the same batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ref {
    Id(i32),
    Var(usize),
}

/// One chunk's columns as the statements send them.
struct Shape<'a> {
    rows: &'a ChunkRows<'a>,
    columns: Vec<Column>,
    /// Per transformed column, its index in the chunk's batch.
    at: Vec<usize>,
}

impl GeneratedWriter {
    /// A writer for `plan` (of work directory `wd`), `batch_rows` rows per round trip.
    pub(crate) fn new(wd: &WorkDir, plan: &LoadPlan, batch_rows: usize) -> Result<Self> {
        let moved = plan
            .tables
            .iter()
            .enumerate()
            .filter(|(_, t)| t.has_key())
            .map(|(ti, t)| (t.name.clone(), plan.table_ranges(ti)))
            .collect();
        Ok(Self {
            batch_rows: batch_rows.max(1),
            types: refs::ValueTypes::read(wd)?,
            moved,
            headers: HashMap::new(),
            captured: Captured::default(),
            chunk: InFlight::default(),
        })
    }

    /// How many IDs of `table` are captured (committed chunks).
    pub(crate) fn captured_rows(&self, table: &str) -> usize {
        self.captured.len(table)
    }

    /// The maps of what the load wrote: each transform map (source → transformed ID) with its
    /// new side through the captured pairs (→ the ID the target generated). `pairs` and
    /// `run_id` name where they came from, for the error when one is missing.
    pub(crate) fn maps(
        &self,
        wd: &WorkDir,
        plan: &LoadPlan,
        pairs: &str,
        run_id: &str,
    ) -> Result<Vec<TableMap>> {
        let mut out = Vec::new();
        for map in id_maps::planned(wd, plan)? {
            let composed: Option<Vec<(i32, i32)>> = map
                .pairs()
                .iter()
                .map(|&(source, moved)| Some((source, self.captured.get(&map.table, moved)?)))
                .collect();
            let incomplete = || Error::PairsIncomplete {
                pairs: pairs.to_owned(),
                run_id: run_id.to_owned(),
                table: map.table.clone(),
                found: self.captured.len(&map.table) as u64,
                rows: map.pairs().len() as u64,
            };
            let composed = composed.ok_or_else(incomplete)?;
            out.push(TableMap::new(&map.table, composed).map_err(|_| incomplete())?);
        }
        Ok(out)
    }

    /// The header of `t`'s statements: its transformed columns but the key, as the target
    /// spells them.
    async fn header(
        &mut self,
        client: &mut SqlClient,
        t: &TableInput,
    ) -> Result<String, ChunkError> {
        if let Some(h) = self.headers.get(&t.name) {
            return Ok(h.clone());
        }
        let spelled = target::spelled_columns(client, t)
            .await
            .map_err(|refused| ChunkError::Columns {
                table: t.name.clone(),
                refused,
            })?;
        let key = t.model.key;
        let names: Vec<String> = t
            .columns
            .iter()
            .zip(&spelled)
            .filter(|(n, _)| !key.is_some_and(|k| k.eq_ignore_ascii_case(n)))
            .map(|(_, s)| db::quote_ident(s))
            .collect();
        let h = format!("INSERT INTO {} ({}) VALUES ", t.sql(), names.join(", "));
        self.headers.insert(t.name.clone(), h.clone());
        Ok(h)
    }

    /// The ID a reference to `table` row `old` has in the target: captured by a committed
    /// chunk, by an earlier batch of this chunk, or (a row of this batch) its variable.
    fn resolve(&self, table: &str, old: i64, pending: &HashMap<i32, usize>) -> Option<Ref> {
        let old = i32::try_from(old).ok()?;
        if let Some(n) = self.captured.get(table, old) {
            return Some(Ref::Id(n));
        }
        if table != self.chunk.table {
            return None;
        }
        if let Some(&n) = self.chunk.by_old.get(&old) {
            return Some(Ref::Id(n));
        }
        pending.get(&old).map(|&k| Ref::Var(k))
    }

    /// Appends `(v1, v2, …)` of row `r` without the key, its references resolved.
    fn render_row(
        &self,
        out: &mut String,
        shape: &Shape<'_>,
        r: usize,
        pending: &HashMap<i32, usize>,
    ) -> Result<(), ChunkError> {
        let (t, batch) = (shape.rows.table, shape.rows.batch);
        out.push('(');
        let mut first = true;
        for (ci, column) in shape.columns.iter().enumerate() {
            if matches!(column, Column::Key) {
                continue;
            }
            if !first {
                out.push_str(", ");
            }
            first = false;
            let (to, fk) = match column {
                Column::Key | Column::Plain => (None, false),
                Column::Fk { to } => (Some(*to), true),
                Column::Typed { types } => {
                    (typed_target(&self.types, batch, shape.at[*types], r), false)
                }
                Column::Into { to } => (Some(to.as_str()), false),
            };
            let Some(to) = to else {
                shape
                    .rows
                    .bound
                    .render_value(out, ci, r)
                    .map_err(ChunkError::Value)?;
                continue;
            };
            let site = Site {
                column: &t.columns[ci],
                row: row_id(shape.rows, r),
                to,
                fk,
            };
            let value = held(batch, shape.at[ci], r)
                .ok_or_else(|| unresolved(site.column, site.row, 0, to))?;
            self.render_ref(out, shape, ci, r, &site, value, pending)?;
        }
        out.push(')');
        Ok(())
    }

    /// Appends the literal of an identifier `value` held at `site` (column `ci` of row `r`).
    #[expect(clippy::too_many_arguments, reason = "one value and where it stands")]
    fn render_ref(
        &self,
        out: &mut String,
        shape: &Shape<'_>,
        ci: usize,
        r: usize,
        site: &Site<'_>,
        value: Held<'_>,
        pending: &HashMap<i32, usize>,
    ) -> Result<(), ChunkError> {
        let (id, text) = match value {
            Held::Null => {
                out.push_str("NULL");
                return Ok(());
            }
            Held::Int(v) => (Some(v), false),
            Held::Text(s) => (parse_plain(s), true),
        };
        // The platform's null identifier, and text that is no identifier, stay as they are
        // (the transform kept and counted the latter).
        let Some(id) = id.filter(|&v| v != 0 || site.fk) else {
            return shape
                .rows
                .bound
                .render_value(out, ci, r)
                .map_err(ChunkError::Value);
        };
        match (self.resolve(site.to, id, pending), text) {
            (Some(Ref::Id(n)), false) => {
                let _ = write!(out, "{n}");
            }
            (Some(Ref::Id(n)), true) => {
                let _ = write!(out, "N'{n}'");
            }
            (Some(Ref::Var(k)), false) => {
                let _ = write!(out, "@i{k}");
            }
            (Some(Ref::Var(k)), true) => {
                let _ = write!(out, "CAST(@i{k} AS NVARCHAR(11))");
            }
            (None, _) => {
                let moved = self.moved.get(site.to).is_some_and(|m| in_ranges(m, id));
                if site.fk || moved {
                    return Err(unresolved(site.column, site.row, id, site.to));
                }
                // An identifier of a row this run does not move, kept by the transform.
                shape
                    .rows
                    .bound
                    .render_value(out, ci, r)
                    .map_err(ChunkError::Value)?;
            }
        }
        Ok(())
    }

    /// Sends the rows of a keyed table's chunk, batch by batch, capturing each new ID.
    async fn write_keyed(
        &mut self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
    ) -> Result<(), ChunkError> {
        let n = shape.rows.bound.num_rows();
        let mut pending: HashMap<i32, usize> = HashMap::new();
        for (index, start) in (0..n).step_by(self.batch_rows).enumerate() {
            let range = start..(start + self.batch_rows).min(n);
            pending.clear();
            let mut sql = String::with_capacity(range.len() * (header.len() + 320));
            sql.push_str("DECLARE ");
            for k in 0..range.len() {
                let _ = write!(sql, "{}@i{k} INT", if k > 0 { ", " } else { "" });
            }
            sql.push_str("; ");
            let mut olds = Vec::with_capacity(range.len());
            for (k, r) in range.clone().enumerate() {
                sql.push_str(header);
                self.render_row(&mut sql, shape, r, &pending)?;
                let _ = write!(sql, "; SET @i{k} = CAST(SCOPE_IDENTITY() AS INT); ");
                let old = row_id(shape.rows, r);
                let old32 = i32::try_from(old).map_err(|_| ChunkError::NoIdentity {
                    row: old,
                    sql: head(&sql),
                })?;
                pending.insert(old32, k);
                olds.push(old32);
            }
            sql.push_str("SELECT ");
            for k in 0..range.len() {
                let _ = write!(sql, "{}@i{k}", if k > 0 { ", " } else { "" });
            }
            sql.push(';');
            let news = new_ids(client, &sql, olds.len())
                .await
                .map_err(|e| e.at(index, &olds, &sql))?;
            for (old, new) in olds.into_iter().zip(news) {
                self.chunk.pairs.push((old, new));
                self.chunk.by_old.insert(old, new);
            }
        }
        Ok(())
    }

    /// Sends the rows of a table without a key (`OSEVT_*`), `batch_rows` rows a statement.
    async fn write_plain(
        &self,
        client: &mut SqlClient,
        shape: &Shape<'_>,
        header: &str,
    ) -> Result<(), ChunkError> {
        let n = shape.rows.bound.num_rows();
        let none = HashMap::new();
        for (index, start) in (0..n).step_by(self.batch_rows).enumerate() {
            let mut sql = header.to_owned();
            for r in start..(start + self.batch_rows).min(n) {
                if r > start {
                    sql.push_str(", ");
                }
                self.render_row(&mut sql, shape, r, &none)?;
            }
            target::run_batch(client, &sql)
                .await
                .map_err(|refused| ChunkError::Statement { index, refused })?;
        }
        Ok(())
    }

    /// `f` with its row and value as the target has them.
    fn target_fixup(&self, f: &Fixup) -> Result<Fixup, ChunkError> {
        let none = HashMap::new();
        let to = match c::table(&f.table)
            .and_then(|t| t.column(&f.column))
            .map(|col| col.role)
        {
            Some(ColumnRole::Fk {
                kind: FkKind::Instance,
                table,
            }) => table,
            _ => f.table.as_str(),
        };
        let id = |table: &str, old: i32| match self.resolve(table, i64::from(old), &none) {
            Some(Ref::Id(n)) => Ok(n),
            _ => Err(unresolved(
                &f.column,
                i64::from(f.id),
                i64::from(old),
                table,
            )),
        };
        Ok(Fixup {
            id: id(&f.table, f.id)?,
            value: id(to, f.value)?,
            ..f.clone()
        })
    }
}

/// Where an identifier stands: its column, its row's (transformed) ID, the table it points
/// into, and whether it is a foreign key (which must resolve).
struct Site<'a> {
    column: &'a str,
    row: i64,
    to: &'a str,
    fk: bool,
}

/// The transformed ID of row `r` of a keyed chunk (0 for a table without one).
fn row_id(rows: &ChunkRows<'_>, r: usize) -> i64 {
    target::int_value(rows.batch, rows.table.id_column(), r).map_or(0, i64::from)
}

/// Why a batch's IDs could not be read.
enum Capture {
    Refused(Refused),
    Missing(usize),
}

impl Capture {
    /// As the chunk's error: statement `index`, rows `olds`.
    fn at(self, index: usize, olds: &[i32], sql: &str) -> ChunkError {
        match self {
            Capture::Refused(refused) => ChunkError::Statement { index, refused },
            Capture::Missing(k) => ChunkError::NoIdentity {
                row: olds.get(k).map_or(0, |&o| i64::from(o)),
                sql: head(sql),
            },
        }
    }
}

/// Runs a batch whose one result row holds `n` generated IDs, in row order.
async fn new_ids(client: &mut SqlClient, sql: &str, n: usize) -> Result<Vec<i32>, Capture> {
    let rows = match client.simple_query(sql).await {
        Ok(stream) => stream.into_first_result().await,
        Err(e) => Err(e),
    }
    .map_err(|e| Capture::Refused(Refused::from(&e)))?;
    let Some(row) = rows.first() else {
        return Err(Capture::Missing(0));
    };
    (0..n)
        .map(|k| {
            db::int_cell(row, k)
                .and_then(|v| i32::try_from(v).ok())
                .ok_or(Capture::Missing(k))
        })
        .collect()
}

/// The start of a statement, for messages.
fn head(sql: &str) -> String {
    match sql.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &sql[..i]),
        None => sql.to_owned(),
    }
}

impl ChunkWriter for GeneratedWriter {
    fn names_ids(&self) -> bool {
        false
    }

    async fn write_rows(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
    ) -> Result<(), ChunkError> {
        let t = rows.table;
        let header = self.header(client, t).await?;
        let schema = rows.batch.schema();
        let at = t
            .columns
            .iter()
            .map(|n| schema.index_of(n).unwrap_or(usize::MAX))
            .collect::<Vec<_>>();
        if at.contains(&usize::MAX) {
            return Err(ChunkError::Value(crate::value::ValueError::MissingColumn {
                column: t.columns.join(", "),
            }));
        }
        let shape = Shape {
            rows,
            columns: refs::columns(t, &self.types),
            at,
        };
        self.chunk = InFlight {
            table: t.name.clone(),
            ..InFlight::default()
        };
        if t.has_key() {
            self.write_keyed(client, &shape, &header).await
        } else {
            self.write_plain(client, &shape, &header).await
        }
    }

    async fn finish_table(&mut self, _client: &mut SqlClient, _table: &TableInput) -> Result<()> {
        Ok(())
    }

    fn generates_ids(&self) -> bool {
        true
    }

    fn target_fixups<'f>(&self, fixups: &'f [Fixup]) -> Result<Cow<'f, [Fixup]>, ChunkError> {
        let v = fixups
            .iter()
            .map(|f| self.target_fixup(f))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cow::Owned(v))
    }

    fn target_trees<'f>(
        &self,
        trees: &'f [TreeRecord],
    ) -> Result<Cow<'f, [TreeRecord]>, ChunkError> {
        let none = HashMap::new();
        let v = trees
            .iter()
            .map(
                |t| match self.resolve(c::PROCESS, i64::from(t.target_root_id), &none) {
                    Some(Ref::Id(n)) => Ok(TreeRecord {
                        target_root_id: n,
                        ..t.clone()
                    }),
                    _ => Err(unresolved(
                        c::TOP_PROCESS_ID,
                        i64::from(t.target_root_id),
                        i64::from(t.target_root_id),
                        c::PROCESS,
                    )),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cow::Owned(v))
    }

    fn capture_statements(&self, pairs: &str, run_id: &str, chunk: &str) -> Vec<String> {
        pairs::record_statements(
            pairs,
            run_id,
            &ChunkPairs {
                table: &self.chunk.table,
                chunk,
                pairs: &self.chunk.pairs,
            },
        )
    }

    fn committed(&mut self) {
        let chunk = std::mem::take(&mut self.chunk);
        self.captured.add(&chunk.table, &chunk.pairs);
    }

    fn discarded(&mut self) {
        self.chunk = InFlight::default();
    }

    async fn recover(&mut self, client: &mut SqlClient, pairs: &str, run_id: &str) -> Result<()> {
        self.captured = Captured::from_pairs(pairs::read_pairs(client, pairs, run_id).await?);
        self.chunk = InFlight::default();
        Ok(())
    }
}
