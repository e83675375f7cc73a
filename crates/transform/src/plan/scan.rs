//! Phase 1's one read of the extract: every part of every table, once, all in parallel: the
//! key columns of the tree tables and the user, group and tenant columns of every table.
//!
//! Which principals are in use depends on which rows move, and that is known only once the
//! trees, their definitions and the new IDs are decided. So the scan does not keep the
//! principal columns: it keeps, per part and per principal, the first and the last row that
//! reference it ([`Witness`]). [`super::principals_used`] decides from those and reads a part
//! again only for a principal whose witnesses both stay behind while other rows of the part
//! reference it too.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Int32Type};
use bptmig_model::catalog::FkKind;
use rayon::prelude::*;

use super::id_set::IdSet;
use crate::input::Input;
use crate::verified::VerifiedParts;
use crate::{Error, Result};

/// Int32 columns of a table, whole (parts concatenated in part order = key order).
pub(super) type Keys = Vec<Int32Array>;

/// Rows per batch of the scan.
pub(super) const BATCH_ROWS: usize = 65_536;

/// The tables, in this order, whose principals are counted: users, groups, tenants.
pub(super) const PRINCIPAL_KINDS: [FkKind; 3] = [FkKind::User, FkKind::Group, FkKind::Tenant];

/// The user, group and tenant columns of a table, as `(column, position in
/// [`PRINCIPAL_KINDS`])` in model order.
pub(super) fn principal_columns(input: &Input) -> Vec<(&'static str, usize)> {
    input
        .model
        .foreign_keys()
        .filter_map(|(col, kind, _)| {
            let k = PRINCIPAL_KINDS.iter().position(|p| *p == kind)?;
            Some((col.name, k))
        })
        .collect()
}

/// A row of a part that references a principal: its position and its owner key
/// ([`Input::owner_column`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Sighting {
    pub(super) row: usize,
    pub(super) owner: i32,
}

/// The first and the last row of a part (with an owner) that reference `principal`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Witness {
    pub(super) principal: i32,
    pub(super) first: Sighting,
    pub(super) last: Sighting,
}

/// Per [`PRINCIPAL_KINDS`] entry, the witnesses of one part.
#[derive(Debug, Default)]
pub(super) struct Witnesses {
    pub(super) kinds: [Vec<Witness>; 3],
}

/// What the scan read of one table with principal columns.
pub(super) struct PrincipalScan<'a> {
    pub(super) input: &'a Input,
    /// Per part: its witnesses, or why the part could not be read for them.
    pub(super) parts: Vec<Result<Witnesses>>,
}

/// What the scan found.
pub(super) struct Scan<'a> {
    /// Per table asked for, its key columns.
    pub(super) keys: Vec<Keys>,
    /// Per table with principal columns, in input order.
    pub(super) principals: Vec<PrincipalScan<'a>>,
}

/// One part to read, and what of it.
struct Job<'a> {
    input: &'a Input,
    part: usize,
    /// Position in the tables asked for, and the key columns asked.
    keys: Option<(usize, &'a [&'a str])>,
    principals: &'a [(&'static str, usize)],
}

/// What one part yielded.
struct PartScan {
    keys: Keys,
    witnesses: Result<Witnesses>,
}

/// Reads every part of `inputs` once, each checked against its manifest first (`verified`):
/// the Int32 `columns` of each table in `wanted` (a table that was not extracted gets empty
/// columns) and the witnesses of every table with principal columns. A part of a `wanted`
/// table that cannot be read fails the scan; any other part's failure is kept for the
/// principals step, which is where it used to surface.
pub(super) fn scan<'a>(
    inputs: &'a [Input],
    wanted: &'a [(&str, &[&str])],
    verified: &VerifiedParts,
) -> Result<Scan<'a>> {
    let principal_columns: Vec<Vec<(&'static str, usize)>> =
        inputs.iter().map(principal_columns).collect();
    let jobs: Vec<Job> = inputs
        .iter()
        .zip(&principal_columns)
        .flat_map(|(input, principals)| {
            let keys = wanted
                .iter()
                .position(|(name, _)| *name == input.name)
                .map(|t| (t, wanted[t].1));
            let parts = if keys.is_some() || !principals.is_empty() {
                input.manifest.parts.len()
            } else {
                0
            };
            (0..parts).map(move |part| Job {
                input,
                part,
                keys,
                principals,
            })
        })
        .collect();
    let mut results: Vec<Option<Result<PartScan>>> = jobs
        .par_iter()
        .map(|job| Some(scan_part(job, verified)))
        .collect();

    // Failures in the order of the tables asked for, then of their parts.
    let mut keys: Vec<Vec<Keys>> = vec![Vec::new(); wanted.len()];
    for (t, keys) in keys.iter_mut().enumerate() {
        for (job, result) in jobs.iter().zip(&mut results) {
            if job.keys.is_none_or(|(table, _)| table != t) {
                continue;
            }
            match result {
                Some(Ok(scan)) => keys.push(std::mem::take(&mut scan.keys)),
                Some(Err(_)) => {
                    if let Some(Err(e)) = result.take() {
                        return Err(e);
                    }
                }
                None => {}
            }
        }
    }
    let keys = keys
        .into_iter()
        .zip(wanted)
        .map(|(parts, (_, columns))| concat_parts(&parts, columns))
        .collect::<Result<Vec<Keys>>>()?;

    let mut principals: Vec<PrincipalScan> = Vec::new();
    for (input, columns) in inputs.iter().zip(&principal_columns) {
        if columns.is_empty() {
            continue;
        }
        let parts = jobs
            .iter()
            .zip(&mut results)
            .filter(|(job, _)| std::ptr::eq(job.input, input))
            .filter_map(|(_, result)| result.take())
            .map(|result| result.and_then(|scan| scan.witnesses))
            .collect();
        principals.push(PrincipalScan { input, parts });
    }
    Ok(Scan { keys, principals })
}

/// One table's columns from its parts' columns.
fn concat_parts(parts: &[Keys], columns: &[&str]) -> Result<Keys> {
    (0..columns.len())
        .map(|k| {
            let arrays: Vec<&dyn Array> = parts.iter().map(|p| &p[k] as &dyn Array).collect();
            concat_int32(&arrays, || columns[k].to_owned())
        })
        .collect()
}

/// `arrays` (Int32) as one; `what` names them in an error.
fn concat_int32(arrays: &[&dyn Array], what: impl FnOnce() -> String) -> Result<Int32Array> {
    if arrays.is_empty() {
        return Ok(Int32Array::from(Vec::<i32>::new()));
    }
    let all = arrow::compute::concat(arrays).map_err(|e| Error::arrow(&what(), e))?;
    Ok(all.as_primitive::<Int32Type>().clone())
}

fn scan_part(job: &Job, verified: &VerifiedParts) -> Result<PartScan> {
    let input = job.input;
    let path = input.part_path(job.part);
    let key_columns = job.keys.map_or(&[][..], |(_, columns)| columns);
    let owner = input.owner_column();
    let mut names: Vec<&str> = key_columns.to_vec();
    if !job.principals.is_empty() {
        names.push(owner);
        names.extend(job.principals.iter().map(|(name, _)| *name));
    }
    let (reader, _) = input.open_part(job.part, verified)?.columns_present(&names);
    let mut keys: Vec<Vec<ArrayRef>> = vec![Vec::new(); key_columns.len()];
    let mut witnesses = (!job.principals.is_empty()).then(WitnessScan::default);
    let mut failed: Option<Error> = None;
    let mut offset = 0;
    for batch in reader.batch_size(BATCH_ROWS).batches()? {
        let batch = batch?;
        for (k, col) in key_columns.iter().enumerate() {
            keys[k].push(int_column(input, &batch, col)?.map_or_else(
                || arrow::array::new_null_array(&DataType::Int32, batch.num_rows()),
                |a| a.clone(),
            ));
        }
        if let Some(w) = witnesses.as_mut().filter(|_| failed.is_none()) {
            if let Err(e) = w.batch(input, &batch, offset, owner, job.principals) {
                failed = Some(e);
            }
        }
        offset += batch.num_rows();
    }
    let keys = keys
        .into_iter()
        .zip(key_columns)
        .map(|(arrays, col)| {
            let arrays: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
            concat_int32(&arrays, || format!("{}: {col}", path.display()))
        })
        .collect::<Result<Keys>>()?;
    let witnesses = match (failed, witnesses) {
        (Some(e), _) => Err(e),
        (None, w) => Ok(w.map(WitnessScan::finish).unwrap_or_default()),
    };
    Ok(PartScan { keys, witnesses })
}

/// Column `col` of `batch` if it is there: it must be Int32 (keys and foreign keys are INT).
pub(super) fn int_column<'b>(
    input: &Input,
    batch: &'b RecordBatch,
    col: &str,
) -> Result<Option<&'b ArrayRef>> {
    match batch.column_by_name(col) {
        Some(a) if a.data_type() == &DataType::Int32 => Ok(Some(a)),
        Some(a) => Err(Error::ColumnType {
            table: input.name.clone(),
            column: col.to_owned(),
            found: a.data_type().to_string(),
        }),
        None => Ok(None),
    }
}

/// The witnesses of one part, batch by batch.
#[derive(Default)]
struct WitnessScan {
    kinds: [KindScan; 3],
}

/// The witnesses of one kind of principal in one part.
#[derive(Default)]
struct KindScan {
    /// Principals already met in the part.
    seen: IdSet,
    /// Principals met in this batch from its end, cleared after each batch.
    seen_last: IdSet,
    witnesses: Vec<Witness>,
    /// Principal → position in `witnesses`: updated once per principal and batch.
    slot: HashMap<i32, usize>,
}

impl WitnessScan {
    fn batch(
        &mut self,
        input: &Input,
        batch: &RecordBatch,
        offset: usize,
        owner: &str,
        principals: &[(&'static str, usize)],
    ) -> Result<()> {
        // Every column is checked, the owner first, before a row is looked at.
        let owners = int_column(input, batch, owner)?;
        let mut columns: [Vec<&Int32Array>; 3] = Default::default();
        for (name, kind) in principals {
            if let Some(a) = int_column(input, batch, name)? {
                columns[*kind].push(a.as_primitive::<Int32Type>());
            }
        }
        // A missing owner column is all NULL: no row of the part moves.
        let Some(owners) = owners else { return Ok(()) };
        let owners = owners.as_primitive::<Int32Type>();
        for (scan, columns) in self.kinds.iter_mut().zip(&columns) {
            if !columns.is_empty() {
                scan.batch(owners, columns, offset);
            }
        }
        Ok(())
    }

    fn finish(self) -> Witnesses {
        Witnesses {
            kinds: self.kinds.map(|k| k.witnesses),
        }
    }
}

impl KindScan {
    /// Notes the first rows of the part, then the last rows of the batch, that reference each
    /// principal: two bit tests a value, and a map update only once per principal and batch.
    fn batch(&mut self, owners: &Int32Array, columns: &[&Int32Array], offset: usize) {
        let sighting = |row: usize| Sighting {
            row: offset + row,
            owner: owners.value(row),
        };
        for row in (0..owners.len()).filter(|r| owners.is_valid(*r)) {
            for col in columns {
                if col.is_valid(row) && !self.seen.contains(i64::from(col.value(row))) {
                    let principal = col.value(row);
                    if principal < 0 {
                        continue;
                    }
                    self.seen.insert(i64::from(principal));
                    self.slot.insert(principal, self.witnesses.len());
                    self.witnesses.push(Witness {
                        principal,
                        first: sighting(row),
                        last: sighting(row),
                    });
                }
            }
        }
        let mut met = Vec::new();
        for row in (0..owners.len()).rev().filter(|r| owners.is_valid(*r)) {
            for col in columns.iter().rev() {
                let principal = col.value(row);
                if col.is_valid(row)
                    && principal >= 0
                    && !self.seen_last.contains(i64::from(principal))
                {
                    self.seen_last.insert(i64::from(principal));
                    met.push(principal);
                    if let Some(&w) = self.slot.get(&principal) {
                        self.witnesses[w].last = sighting(row);
                    }
                }
            }
        }
        for principal in met {
            self.seen_last.remove(i64::from(principal));
        }
    }
}
