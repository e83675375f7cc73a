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

use bptmig_db::{self as db, SqlClient};
use bptmig_model::catalog::{self as c, ColumnRole, FkKind};
use bptmig_workdir::WorkDir;

use super::{ChunkError, ChunkRows, ChunkWriter};
use crate::id_maps::{self, TableMap};
use crate::ledger::pairs::{self, ChunkPairs};
use crate::ledger::trees::TreeRecord;
use crate::plan::{Chunk, Fixup, LoadPlan, TableInput};
use crate::{Error, Result};

pub(crate) mod refs;
mod render;
mod send;

use refs::{unresolved, Captured, Column};

/// Writes chunks whose IDs the target generates, and keeps the IDs it generated.
#[derive(Debug)]
pub(crate) struct GeneratedWriter {
    batch_rows: usize,
    types: refs::ValueTypes,
    /// Per model table, the transformed IDs the run moves (inclusive ranges, ascending).
    moved: HashMap<String, Vec<(i32, i32)>>,
    /// Per table, the statements' header without the key, named as the target spells it.
    headers: super::Headers,
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

/// The `INSERT` header of `t` without its key (the target generates it), its columns named
/// as `spelled` (the target's spelling, in `t.columns` order).
fn header_without_key(t: &TableInput, spelled: &[String]) -> String {
    let key = t.model.key;
    let names: Vec<String> = t
        .columns
        .iter()
        .zip(spelled)
        .filter(|(n, _)| !key.is_some_and(|k| k.eq_ignore_ascii_case(n)))
        .map(|(_, s)| db::quote_ident(s))
        .collect();
    format!("INSERT INTO {} ({}) VALUES ", t.sql(), names.join(", "))
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
            headers: super::Headers::default(),
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

    /// How the statements send the columns of `rows`.
    fn shape<'a>(&self, rows: &'a ChunkRows<'a>) -> Result<Shape<'a>, ChunkError> {
        let t = rows.table;
        let schema = rows.batch.schema();
        let at = t
            .columns
            .iter()
            .map(|n| schema.index_of(n))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                ChunkError::Value(crate::value::ValueError::MissingColumn {
                    column: t.columns.join(", "),
                })
            })?;
        Ok(Shape {
            rows,
            columns: refs::columns(t, &self.types),
            at,
        })
    }

    /// The header of `t`'s statements: its transformed columns but the key, as the target
    /// spells them.
    async fn header(
        &mut self,
        client: &mut SqlClient,
        t: &TableInput,
    ) -> Result<String, ChunkError> {
        self.headers.get(client, t, header_without_key).await
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

impl ChunkWriter for GeneratedWriter {
    fn names_ids(&self) -> bool {
        false
    }

    async fn write_rows(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
    ) -> Result<(), ChunkError> {
        let header = self.header(client, rows.table).await?;
        let shape = self.shape(rows)?;
        self.chunk = InFlight {
            table: rows.table.name.clone(),
            ..InFlight::default()
        };
        if rows.table.has_key() {
            self.write_keyed(client, &shape, &header).await
        } else {
            self.write_plain(client, &shape, &header).await
        }
    }

    /// Replays the chunk row by row (rolled back) to name the row the server refused.
    async fn diagnose(
        &mut self,
        client: &mut SqlClient,
        rows: &ChunkRows<'_>,
        begin: &str,
        error: ChunkError,
    ) -> (Option<i64>, ChunkError) {
        let ChunkError::Statement { index, .. } = &error else {
            return (None, error);
        };
        let failed = *index;
        let (Ok(header), Ok(shape)) = (self.header(client, rows.table).await, self.shape(rows))
        else {
            return (None, error);
        };
        self.chunk = InFlight {
            table: rows.table.name.clone(),
            ..InFlight::default()
        };
        let found = self
            .first_refused(client, &shape, &header, begin, failed)
            .await;
        self.chunk = InFlight::default();
        match found {
            Some((row, refused)) => (Some(row), ChunkError::RowRefused { refused }),
            None => (None, error),
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

    fn target_bounds(&self, chunk: &Chunk) -> Option<(i32, i32)> {
        if c::table(&self.chunk.table).is_some_and(|t| t.key.is_some()) {
            let news = self.chunk.pairs.iter().map(|p| p.1);
            return Some((news.clone().min()?, news.max()?));
        }
        // A subscription table: the activities its rows subscribe, as the target numbered
        // them (every ID inside a chunk's ranges is one of its rows').
        let none = HashMap::new();
        let news: Vec<i32> = chunk
            .ranges
            .iter()
            .flat_map(|&(lo, hi)| lo..=hi)
            .filter_map(
                |old| match self.resolve(c::ACTIVITY, i64::from(old), &none) {
                    Some(Ref::Id(n)) => Some(n),
                    _ => None,
                },
            )
            .collect();
        Some((*news.iter().min()?, *news.iter().max()?))
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
