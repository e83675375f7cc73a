//! Identifiers inside values: `INPUT_VALUE`/`OUTPUT_VALUE` whose `SS_TYPE` names an entity
//! (`bt<eSpace>*<entity>`) hold that entity's ID ([`rewrite_values`]), as do the columns of
//! the subscription tables after their six fixed ones ([`osevt`]). Each goes through the map
//! of its entity ([`crate::refs`]); what cannot be mapped follows `unmoved_reference`
//! ([`outcome`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, StringArray, StringBuilder};
use bptmig_model::pipeline::UnmovedReference;

use crate::plan::TransformPlan;
use crate::refs::EntityOf;
use crate::report::TableCounts;

use outcome::{of_text, Lookup, Outcome, Unmoved};

pub(super) use osevt::{rewrite_osevt_column, Dropped};

mod osevt;
pub(crate) mod outcome;

/// The source key of row `i` (0 when the batch has none).
fn source_key(keys: Option<&Int32Array>, i: usize) -> i64 {
    keys.map_or(0, |k| i64::from(k.value(i)))
}

/// `INPUT_VALUE`/`OUTPUT_VALUE` `col` (named `column`) of a batch whose `SS_TYPE` column is
/// `ss_types`: each identifier through the map of its entity; one that cannot be mapped
/// follows `unmoved_reference` and is noted. No allocation per row: types are parsed once
/// each, numbers written into one buffer, counts kept locally. Returns `col` itself when no
/// value changed.
pub(super) fn rewrite_values(
    col: &ArrayRef,
    ss_types: Option<&StringArray>,
    column: &str,
    source_keys: Option<&Int32Array>,
    plan: &TransformPlan,
    counts: &mut TableCounts,
) -> ArrayRef {
    let values = col.as_string::<i32>();
    let Some(types) = ss_types else {
        return col.clone();
    };
    let mut kept = vec![0_u64; plan.refs.entities.len()];
    let mut unknown: BTreeMap<&str, u64> = BTreeMap::new();
    let mut unmoved = Unmoved::new(column, plan);
    let mut kinds = ValueKinds::new(plan);
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
        let (e, lookup) = match kind {
            ValueKind::Plain => {
                b.append_value(v);
                continue;
            }
            ValueKind::UnknownEntity => {
                *unknown.entry(types.value(i)).or_default() += 1;
                b.append_value(v);
                continue;
            }
            ValueKind::Entity(e, lookup) => (e, lookup),
        };
        match of_text(v, lookup) {
            Outcome::Null => b.append_value(v),
            Outcome::Mapped(new) => {
                number.clear();
                let _ = std::fmt::Write::write_fmt(&mut number, format_args!("{new}"));
                b.append_value(&number);
                changed = true;
                counts.entity_refs_mapped += 1;
            }
            Outcome::Kept => {
                kept[e] += 1;
                b.append_value(v);
            }
            Outcome::Unmoved(reason) => {
                unmoved.note(e, source_key(source_keys, i), &v, reason, counts);
                if unmoved.policy == UnmovedReference::Null {
                    b.append_null();
                    changed = true;
                } else {
                    b.append_value(v);
                }
            }
        }
    }
    unmoved.record(counts);
    let entities = &plan.refs.entities;
    for (entity, n) in entities.iter().zip(kept).filter(|(_, n)| *n > 0) {
        *counts
            .entity_refs_kept
            .entry(entity.table.clone())
            .or_default() += n;
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

/// What an `SS_TYPE` says of its row's value.
#[derive(Debug, Clone, Copy)]
enum ValueKind<'p> {
    /// Not an entity identifier (a basic type, or a malformed type).
    Plain,
    /// An identifier of the `n`th entity, rewritten through the lookup.
    Entity(usize, Lookup<'p>),
    /// An identifier of an entity the source snapshot does not know.
    UnknownEntity,
}

/// `SS_TYPE` values parsed once each: a column holds a few distinct types over millions of
/// rows, usually the same one several rows running.
struct ValueKinds<'p, 'v> {
    plan: &'p TransformPlan,
    last: Option<(&'v str, ValueKind<'p>)>,
    seen: HashMap<&'v str, ValueKind<'p>>,
}

impl<'p, 'v> ValueKinds<'p, 'v> {
    fn new(plan: &'p TransformPlan) -> Self {
        Self {
            plan,
            last: None,
            seen: HashMap::new(),
        }
    }

    fn of(&mut self, ss_type: &'v str) -> ValueKind<'p> {
        if let Some((t, kind)) = self.last {
            if t == ss_type {
                return kind;
            }
        }
        let plan = self.plan;
        let kind =
            *self
                .seen
                .entry(ss_type)
                .or_insert_with(|| match plan.refs.entity_of(ss_type) {
                    EntityOf::None => ValueKind::Plain,
                    EntityOf::Unknown => ValueKind::UnknownEntity,
                    EntityOf::Entity(e) => plan
                        .refs
                        .entities
                        .get(e)
                        .map_or(ValueKind::UnknownEntity, |entity| {
                            ValueKind::Entity(e, Lookup::of(plan, &entity.target))
                        }),
                });
        self.last = Some((ss_type, kind));
        kind
    }
}

#[cfg(test)]
mod tests;
