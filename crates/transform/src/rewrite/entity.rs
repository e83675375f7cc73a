//! Entity-reference values: `INPUT_VALUE`/`OUTPUT_VALUE` whose `SS_TYPE` names an entity
//! (`bt<eSpace>*<entity>`) hold that entity's ID, mapped through `[mapping.entity_maps]`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder};
use bptmig_model::SsType;

use crate::plan::TransformPlan;
use crate::report::TableCounts;

/// `INPUT_VALUE`/`OUTPUT_VALUE` holding an entity ID (`SS_TYPE` = `bt…*…`): through the
/// entity's ID map when the pipeline names one, else kept and counted per entity. No
/// allocation per row: entities are found by comparing borrowed keys, counts kept locally.
pub(super) fn rewrite_entity_values(
    col: &ArrayRef,
    ss_types: Option<&StringArray>,
    plan: &TransformPlan,
    counts: &mut TableCounts,
) -> ArrayRef {
    let values = col.as_string::<i32>();
    let Some(types) = ss_types else {
        return col.clone();
    };
    if plan.entity_maps.is_empty() {
        count_entity_refs(values, types, plan, counts);
        return col.clone();
    }
    let entities: Vec<(&(String, String), &String)> = plan.entity_tables.iter().collect();
    let maps: Vec<Option<&HashMap<i64, i64>>> = entities
        .iter()
        .map(|(_, t)| plan.entity_maps.get(*t))
        .collect();
    // Kept values per known entity, and per unknown `SS_TYPE` (rare: resolved after the loop).
    let mut kept = vec![0_u64; entities.len()];
    let mut unknown: BTreeMap<&str, u64> = BTreeMap::new();
    let mut kinds = ValueKinds::new(&entities);
    let mut b = StringBuilder::with_capacity(values.len(), values.value_data().len());
    let mut number = String::new();
    let mut changed = false;
    for i in 0..values.len() {
        if values.is_null(i) {
            b.append_null();
            continue;
        }
        let v = values.value(i);
        let kind = if types.is_valid(i) {
            kinds.of(types.value(i))
        } else {
            ValueKind::Plain
        };
        let e = match kind {
            ValueKind::Plain => {
                b.append_value(v);
                continue;
            }
            ValueKind::UnknownEntity => {
                *unknown.entry(types.value(i)).or_default() += 1;
                b.append_value(v);
                continue;
            }
            ValueKind::Entity(e) => e,
        };
        let mapped = maps[e].and_then(|m| v.trim().parse::<i64>().ok().and_then(|old| m.get(&old)));
        match mapped {
            Some(new) => {
                number.clear();
                let _ = std::fmt::Write::write_fmt(&mut number, format_args!("{new}"));
                b.append_value(&number);
                changed = true;
                counts.entity_refs_mapped += 1;
            }
            None => {
                kept[e] += 1;
                b.append_value(v);
            }
        }
    }
    for ((_, table), n) in entities.iter().zip(kept).filter(|(_, n)| *n > 0) {
        *counts.entity_refs_kept.entry((*table).clone()).or_default() += n;
    }
    for (ss_type, n) in unknown {
        *counts
            .entity_refs_kept
            .entry(ss_type.to_owned())
            .or_default() += n;
    }
    if changed {
        Arc::new(b.finish())
    } else {
        col.clone()
    }
}

/// Counts entity identifiers kept per entity when no entity map is configured: nothing to
/// rewrite, so no new column is built.
fn count_entity_refs(
    values: &StringArray,
    types: &StringArray,
    plan: &TransformPlan,
    counts: &mut TableCounts,
) {
    let entities: Vec<(&(String, String), &String)> = plan.entity_tables.iter().collect();
    let mut kept = vec![0_u64; entities.len()];
    let mut unknown: BTreeMap<&str, u64> = BTreeMap::new();
    let mut kinds = ValueKinds::new(&entities);
    for i in 0..values.len() {
        if values.is_null(i) || types.is_null(i) {
            continue;
        }
        match kinds.of(types.value(i)) {
            ValueKind::Plain => {}
            ValueKind::Entity(e) => kept[e] += 1,
            ValueKind::UnknownEntity => {
                *unknown.entry(types.value(i)).or_default() += 1;
            }
        }
    }
    for ((_, table), n) in entities.iter().zip(kept).filter(|(_, n)| *n > 0) {
        *counts.entity_refs_kept.entry((*table).clone()).or_default() += n;
    }
    for (ss_type, n) in unknown {
        *counts
            .entity_refs_kept
            .entry(ss_type.to_owned())
            .or_default() += n;
    }
}

/// What an `SS_TYPE` says of its row's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    /// Not an entity identifier (a basic type, or a malformed type).
    Plain,
    /// An identifier of the `n`th known entity.
    Entity(usize),
    /// An identifier of an entity the source snapshot does not know.
    UnknownEntity,
}

/// `SS_TYPE` values parsed once each: a column holds a few distinct types over millions of
/// rows, usually the same one several rows running.
struct ValueKinds<'e, 'v> {
    entities: &'e [(&'e (String, String), &'e String)],
    last: Option<(&'v str, ValueKind)>,
    seen: HashMap<&'v str, ValueKind>,
}

impl<'e, 'v> ValueKinds<'e, 'v> {
    fn new(entities: &'e [(&'e (String, String), &'e String)]) -> Self {
        Self {
            entities,
            last: None,
            seen: HashMap::new(),
        }
    }

    fn of(&mut self, ss_type: &'v str) -> ValueKind {
        if let Some((t, kind)) = self.last {
            if t == ss_type {
                return kind;
            }
        }
        let entities = self.entities;
        let kind = *self
            .seen
            .entry(ss_type)
            .or_insert_with(|| match SsType::parse(ss_type) {
                Ok(SsType::EntityRef {
                    espace_key,
                    entity_key,
                }) => entities
                    .iter()
                    .position(|((es, en), _)| es == espace_key && en == entity_key)
                    .map_or(ValueKind::UnknownEntity, ValueKind::Entity),
                _ => ValueKind::Plain,
            });
        self.last = Some((ss_type, kind));
        kind
    }
}
