//! The principals that `SS_TYPE`-typed value columns (`INPUT_VALUE`, `OUTPUT_VALUE`) name.
//!
//! Most values are not identifiers of users, groups or tenants, and their text is what costs
//! to decode. So a part is read twice: first its `SS_TYPE` alone, as the dictionary it is
//! stored as (a key a row, its strings once); then, only if some row is typed as a user,
//! group or tenant, its owner, value and `SS_TYPE` columns for those rows only.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Int32Type};
use bptmig_model::catalog as c;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::IdMap;

use super::id_set::IdSet;
use super::scan::{int_column, BATCH_ROWS};
use crate::input::Input;
use crate::refs::{parse_plain, EntityOf, RefTypes, Target};
use crate::verified::VerifiedParts;
use crate::{Error, Result};

/// The principals that the moving rows (`owners`) of part `part` name in `cols`.
pub(super) fn read_typed_part(
    input: &Input,
    part: usize,
    cols: &[&str],
    owners: &IdMap,
    refs: &RefTypes,
    verified: &VerifiedParts,
) -> Result<[IdSet; 3]> {
    let mut used: [IdSet; 3] = Default::default();
    verified.verify(&input.dir, &input.manifest.parts[part])?;
    let path = input.part_path(part);
    let Some(selection) = principal_rows(input, &path, refs)? else {
        return Ok(used);
    };
    let owner = input.owner_column();
    let mut names: Vec<&str> = vec![owner];
    names.extend(cols.iter().copied());
    names.push(c::SS_TYPE);
    let (reader, _) = PartReader::open(&path)?.columns_present(&names);
    for batch in reader
        .rows_where(&selection)
        .batch_size(BATCH_ROWS)
        .batches()?
    {
        let batch = batch?;
        let Some(keys) = int_column(input, &batch, owner)? else {
            continue;
        };
        let keys = keys.as_primitive::<Int32Type>();
        let moving = |i: usize| keys.is_valid(i) && owners.get(keys.value(i)).is_some();
        typed(&batch, cols, refs, &moving, &mut used);
    }
    Ok(used)
}

/// Per batch of the part at `path`, which rows have an `SS_TYPE` naming a user, group or
/// tenant entity; `None` when no row does (or there is no owner column: then no row moves).
/// An owner column that is not Int32 is refused, as every read of the part refuses it.
fn principal_rows(
    input: &Input,
    path: &Path,
    refs: &RefTypes,
) -> Result<Option<Vec<BooleanArray>>> {
    // `SS_TYPE` read as a dictionary: its strings are looked at once per batch, not per row.
    let reader = PartReader::open_dictionary(path, c::SS_TYPE)?;
    let schema = Arc::clone(reader.schema());
    let owner = input.owner_column();
    match schema.field_with_name(owner).map(Field::data_type) {
        Ok(DataType::Int32) => {}
        Ok(found) if reader.rows() > 0 => {
            return Err(Error::ColumnType {
                table: input.name.clone(),
                column: owner.to_owned(),
                found: found.to_string(),
            })
        }
        _ => return Ok(None),
    }
    let Ok(types) = schema.field_with_name(c::SS_TYPE) else {
        return Ok(None);
    };
    if !matches!(types.data_type(), DataType::Dictionary(..)) {
        return Ok(None);
    }
    let mut kinds = Kinds::new(refs);
    let mut filters: Vec<BooleanArray> = Vec::new();
    for batch in reader
        .columns(&[c::SS_TYPE])?
        .batch_size(BATCH_ROWS)
        .batches()?
    {
        filters.push(kinds.principal_typed(batch?.column(0).as_ref()));
    }
    if filters.iter().all(|f| f.true_count() == 0) {
        return Ok(None);
    }
    Ok(Some(filters))
}

/// The kind of principal (0 users, 1 groups, 2 tenants) that each `SS_TYPE` names, if any.
struct Kinds<'r> {
    refs: &'r RefTypes,
    seen: HashMap<String, Option<usize>>,
}

impl<'r> Kinds<'r> {
    fn new(refs: &'r RefTypes) -> Self {
        Self {
            refs,
            seen: HashMap::new(),
        }
    }

    fn of(&mut self, ss_type: &str) -> Option<usize> {
        if let Some(k) = self.seen.get(ss_type) {
            return *k;
        }
        let k = principal_kind(self.refs, ss_type);
        self.seen.insert(ss_type.to_owned(), k);
        k
    }

    /// Per row of `types` (a dictionary of text), whether it names a principal entity.
    fn principal_typed(&mut self, types: &dyn Array) -> BooleanArray {
        let Some(dict) = types.as_dictionary_opt::<Int32Type>() else {
            return BooleanArray::from(vec![false; types.len()]);
        };
        let Some(values) = dict.values().as_string_opt::<i32>() else {
            return BooleanArray::from(vec![false; types.len()]);
        };
        let principal: Vec<bool> = (0..values.len())
            .map(|v| values.is_valid(v) && self.of(values.value(v)).is_some())
            .collect();
        let keys = dict.keys();
        (0..keys.len())
            .map(|i| {
                let key = usize::try_from(keys.value(i)).ok();
                Some(keys.is_valid(i) && key.and_then(|k| principal.get(k).copied()) == Some(true))
            })
            .collect()
    }
}

/// The kind of principal that `ss_type` names, if it names one.
fn principal_kind(refs: &RefTypes, ss_type: &str) -> Option<usize> {
    let EntityOf::Entity(e) = refs.entity_of(ss_type) else {
        return None;
    };
    match refs.entities.get(e)?.target {
        Target::Principal(k) => Some(k),
        _ => None,
    }
}

/// Values whose `SS_TYPE` names a user, group or tenant entity.
pub(super) fn typed(
    batch: &RecordBatch,
    cols: &[&str],
    refs: &RefTypes,
    moving: &dyn Fn(usize) -> bool,
    used: &mut [IdSet; 3],
) {
    let Some(types) = batch
        .column_by_name(c::SS_TYPE)
        .filter(|a| a.data_type() == &DataType::Utf8)
    else {
        return;
    };
    let types = types.as_string::<i32>();
    let mut seen: HashMap<&str, Option<usize>> = HashMap::new();
    for name in cols {
        let Some(values) = batch
            .column_by_name(name)
            .filter(|a| a.data_type() == &DataType::Utf8)
        else {
            continue;
        };
        let values = values.as_string::<i32>();
        for i in 0..values.len() {
            if values.is_null(i) || types.is_null(i) || !moving(i) {
                continue;
            }
            let kind = *seen
                .entry(types.value(i))
                .or_insert_with_key(|t| principal_kind(refs, t));
            let id = kind.zip(parse_plain(values.value(i)));
            if let Some((k, id)) = id.filter(|(_, id)| *id > 0) {
                used[k].insert(id);
            }
        }
    }
}
