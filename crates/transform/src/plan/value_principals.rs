//! The users, groups and tenants that only values name: `INPUT_VALUE`/`OUTPUT_VALUE` typed
//! as a User, Group or Tenant Identifier, and subscription columns typed so, in moving rows.
//!
//! They are resolved like every other principal (mapping file, names, a `user:`/`group:`
//! policy), but leniently: one left without a target does not stop the transform under
//! `unmapped_* = "fail"`; its values follow `unmoved_reference` instead.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use bptmig_model::catalog::{ColumnRole, TableRole};
use bptmig_model::{PipelineConfig, UsedIds};
use bptmig_workdir::IdMap;
use rayon::prelude::*;

use super::id_set::IdSet;
use super::principals_used::resolve_used_with;
use super::scan::{int_column, BATCH_ROWS};
use super::typed_values::read_typed_part;
use crate::input::Input;
use crate::maps::Snapshot;
use crate::principals::{Kind, PrincipalMap};
use crate::principals::{Resolution, Unmapped};
use crate::refs::{parse_plain, ColumnType, RefTypes, Target};
use crate::verified::VerifiedParts;
use crate::Result;

/// The columns of a table that may hold principal identifiers.
#[derive(Clone)]
enum Holders {
    /// Value columns typed row by row by `SS_TYPE`.
    Typed(Vec<&'static str>),
    /// Subscription columns, each of one kind (0 users, 1 groups, 2 tenants).
    Columns(Vec<(String, usize)>),
}

fn holders(input: &Input, refs: &RefTypes) -> Option<Holders> {
    if input.model.role == TableRole::EventSubscription {
        let cols: Vec<(String, usize)> = input
            .manifest
            .columns
            .iter()
            .filter(|col| input.model.column(&col.name).is_none())
            .filter_map(|col| match refs.osevt.column(&input.name, &col.name) {
                ColumnType::Ref(e) => match refs.entities.get(e)?.target {
                    Target::Principal(k) => Some((col.name.clone(), k)),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        return (!cols.is_empty()).then_some(Holders::Columns(cols));
    }
    let cols: Vec<&'static str> = input
        .model
        .columns
        .iter()
        .filter(|col| matches!(col.role, ColumnRole::EntityRefValue { .. }))
        .map(|col| col.name)
        .collect();
    (!cols.is_empty()).then_some(Holders::Typed(cols))
}

/// Source IDs of the users, groups and tenants that values of moving rows name.
pub(super) fn principals_in_values(
    inputs: &[Input],
    ids: &BTreeMap<String, IdMap>,
    refs: &RefTypes,
    verified: &VerifiedParts,
) -> Result<[IdSet; 3]> {
    let mut used: [IdSet; 3] = Default::default();
    if !refs.has_principals() {
        return Ok(used);
    }
    let jobs: Vec<(&Input, Holders, &IdMap, usize)> = inputs
        .iter()
        .filter_map(|input| {
            let owners = ids.get(input.owner_table())?;
            let h = holders(input, refs)?;
            Some((input, h, owners))
        })
        .flat_map(|(input, h, owners)| {
            let parts = input.manifest.parts.len();
            (0..parts).map(move |p| (input, h.clone(), owners, p))
        })
        .collect();
    let found: Vec<Result<[IdSet; 3]>> = jobs
        .par_iter()
        .map(|(input, h, owners, part)| read_part(input, *part, h, owners, refs, verified))
        .collect();
    for sets in found {
        for (mine, theirs) in used.iter_mut().zip(&sets?) {
            mine.union(theirs);
        }
    }
    Ok(used)
}

/// The principals that the moving rows of one part name in their values.
fn read_part(
    input: &Input,
    part: usize,
    holders: &Holders,
    owners: &IdMap,
    refs: &RefTypes,
    verified: &VerifiedParts,
) -> Result<[IdSet; 3]> {
    let cols = match holders {
        Holders::Typed(cols) => {
            return read_typed_part(input, part, cols, owners, refs, verified);
        }
        Holders::Columns(cols) => cols,
    };
    let owner = input.owner_column();
    let mut names: Vec<&str> = vec![owner];
    names.extend(cols.iter().map(|(n, _)| n.as_str()));
    let (reader, _) = input.open_part(part, verified)?.columns_present(&names);
    let mut used: [IdSet; 3] = Default::default();
    for batch in reader.batch_size(BATCH_ROWS).batches()? {
        let batch = batch?;
        let Some(keys) = int_column(input, &batch, owner)? else {
            continue;
        };
        let keys = keys.as_primitive::<Int32Type>();
        let moving = |i: usize| keys.is_valid(i) && owners.get(keys.value(i)).is_some();
        for (name, kind) in cols {
            if let Some(a) = batch.column_by_name(name) {
                column(a, &moving, &mut used[*kind]);
            }
        }
    }
    Ok(used)
}

/// An integer or text subscription column.
fn column(a: &ArrayRef, moving: &dyn Fn(usize) -> bool, used: &mut IdSet) {
    let get = |i: usize| -> Option<i64> {
        if a.is_null(i) || !moving(i) {
            return None;
        }
        match a.data_type() {
            DataType::Int32 => Some(i64::from(a.as_primitive::<Int32Type>().value(i))),
            DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(i)),
            DataType::Utf8 => parse_plain(a.as_string::<i32>().value(i)),
            _ => None,
        }
    };
    for id in (0..a.len()).filter_map(get).filter(|id| *id > 0) {
        used.insert(id);
    }
}

/// The principal maps: `fk` (the resolution of the principals that foreign keys use) and,
/// for those only values name (`in_values`), a lenient resolution. Returns the users, groups
/// and tenants maps, and the value-only principals mapped by a `user:`/`group:` policy.
pub(super) fn merge_value_principals(
    config: &PipelineConfig,
    (source, target): (&Snapshot, &Snapshot),
    fk: &Resolution,
    in_values: &[IdSet; 3],
) -> Result<([IdMap; 3], Vec<Unmapped>)> {
    let fk_maps = [&fk.maps.users, &fk.maps.groups, &fk.maps.tenants];
    let only: [BTreeSet<i64>; 3] = [0, 1, 2].map(|k| {
        let mut s = in_values[k].to_set();
        s.retain(|id| fk_maps[k].get(*id).is_none());
        s
    });
    if only.iter().all(BTreeSet::is_empty) {
        return Ok((fk_maps.map(|m| with_targets(m, None)), Vec::new()));
    }
    let value_used = UsedIds {
        definitions: BTreeMap::new(),
        users: only[0].clone(),
        groups: only[1].clone(),
        tenants: only[2].clone(),
    };
    let lenient = resolve_used_with(config, source, target, &value_used, true)?;
    let extra = [
        &lenient.maps.users,
        &lenient.maps.groups,
        &lenient.maps.tenants,
    ];
    let maps = [0, 1, 2].map(|k| with_targets(fk_maps[k], Some((extra[k], &only[k]))));
    let by_policy = lenient
        .unmapped
        .into_iter()
        .filter(|u| {
            let k = match u.kind {
                Kind::User => 0,
                Kind::Group => 1,
                Kind::Tenant => 2,
            };
            only[k].contains(&u.source_id)
        })
        .collect();
    Ok((maps, by_policy))
}

/// The source → target IDs of `map` that have a target, and those of `extra` among its
/// chosen IDs.
fn with_targets(map: &PrincipalMap, extra: Option<(&PrincipalMap, &BTreeSet<i64>)>) -> IdMap {
    let extra = extra
        .into_iter()
        .flat_map(|(m, only)| m.iter().filter(move |(s, _)| only.contains(s)));
    IdMap::from_i64(map.iter().chain(extra).filter_map(|(s, t)| Some((s, t?))))
}

/// The users, groups and tenants maps for principals that only values name (`in_values`:
/// source IDs of users, groups, tenants), resolved leniently as the transform resolves
/// those no foreign key uses; for `bptmig check`, which reads no foreign keys.
pub(crate) fn value_only_maps(
    config: &PipelineConfig,
    (source, target): (&Snapshot, &Snapshot),
    in_values: &[BTreeSet<i64>; 3],
) -> Result<[IdMap; 3]> {
    let none = resolve_used_with(config, source, target, &UsedIds::default(), true)?;
    let sets = in_values.clone().map(|ids| {
        let mut set = IdSet::default();
        set.extend(ids);
        set
    });
    let (maps, _) = merge_value_principals(config, (source, target), &none, &sets)?;
    Ok(maps)
}
