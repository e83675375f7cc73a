//! What one identifier inside a value becomes, and the record of those that could not be
//! mapped.

use std::collections::{BTreeMap, HashMap};

use bptmig_model::pipeline::UnmovedReference;
use bptmig_workdir::IdMap;

use crate::plan::TransformPlan;
use crate::refs::{parse_plain, Entity, Target};
use crate::report::{TableCounts, UnmovedReason, UnmovedRef, UNMOVED_SAMPLES};

/// The map that rewrites identifiers of one entity.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'p> {
    /// An entity bptmig maps itself; `miss` says why a value without an entry is unmoved.
    System {
        map: Option<&'p IdMap>,
        miss: UnmovedReason,
    },
    /// Any other entity: its pipeline entity map, if any.
    Other(Option<&'p HashMap<i64, i64>>),
}

impl<'p> Lookup<'p> {
    pub(super) fn of(plan: &'p TransformPlan, target: &Target) -> Self {
        let system = |map, miss| Self::System { map, miss };
        match target {
            Target::Principal(k) => {
                let map = [&plan.users, &plan.groups, &plan.tenants][(*k).min(2)];
                system(Some(map), UnmovedReason::NoMatch)
            }
            Target::Instance(t) => system(plan.ids.get(*t), UnmovedReason::NotMoved),
            Target::Definition(t) => system(plan.defs.get(t), UnmovedReason::NoMatch),
            Target::Espace => system(Some(&plan.espaces), UnmovedReason::NoMatch),
            Target::Other(key) => Self::Other(key.as_ref().and_then(|k| plan.entity_maps.get(k))),
        }
    }
}

/// What an identifier becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The platform's null identifier (`0`, the empty text): kept, never looked up.
    Null,
    Mapped(i64),
    /// An identifier of an entity with no map, or missing from its entity map: kept and
    /// counted per entity as before.
    Kept,
    /// Could not be mapped: follows `unmoved_reference`.
    Unmoved(UnmovedReason),
}

/// An identifier held as a number.
pub(crate) fn of_int(v: i64, lookup: Lookup) -> Outcome {
    if v == 0 {
        return Outcome::Null;
    }
    match lookup {
        Lookup::System { map, miss } => map
            .and_then(|m| i32::try_from(v).ok().and_then(|k| m.get(k)))
            .map_or(Outcome::Unmoved(miss), |n| Outcome::Mapped(i64::from(n))),
        Lookup::Other(map) => map
            .and_then(|m| m.get(&v))
            .map_or(Outcome::Kept, |n| Outcome::Mapped(*n)),
    }
}

/// An identifier held as text: plain decimal digits, with an optional leading `-`, nothing
/// else (no spaces, no sign `+`).
pub(crate) fn of_text(v: &str, lookup: Lookup) -> Outcome {
    if v.is_empty() {
        return Outcome::Null;
    }
    match parse_plain(v) {
        Some(n) => of_int(n, lookup),
        None => match lookup {
            Lookup::System { .. } => Outcome::Unmoved(UnmovedReason::NotAnInteger),
            Lookup::Other(_) => Outcome::Kept,
        },
    }
}

/// The unmoved identifiers of one column: counted per entity, the first ones kept as
/// samples in the table's counts.
pub(super) struct Unmoved<'a> {
    column: &'a str,
    entities: &'a [Entity],
    pub(super) policy: UnmovedReference,
    per_entity: BTreeMap<usize, u64>,
}

impl<'a> Unmoved<'a> {
    pub(super) fn new(column: &'a str, plan: &'a TransformPlan) -> Self {
        Self {
            column,
            entities: &plan.refs.entities,
            policy: plan.unmoved_reference,
            per_entity: BTreeMap::new(),
        }
    }

    /// Notes `value` of entity `entity` in the row with source key `row`.
    pub(super) fn note(
        &mut self,
        entity: usize,
        row: i64,
        value: &dyn std::fmt::Display,
        reason: UnmovedReason,
        counts: &mut TableCounts,
    ) {
        *self.per_entity.entry(entity).or_default() += 1;
        if counts.unmoved_samples.len() < UNMOVED_SAMPLES {
            counts.unmoved_samples.push(UnmovedRef {
                row,
                column: self.column.to_owned(),
                entity: self.entity_name(entity).to_owned(),
                value: value.to_string(),
                reason,
            });
        }
    }

    fn entity_name(&self, entity: usize) -> &str {
        self.entities.get(entity).map_or("?", |e| e.table.as_str())
    }

    /// Adds the column's counts to `counts`.
    pub(super) fn record(self, counts: &mut TableCounts) {
        if self.per_entity.is_empty() {
            return;
        }
        let mine = counts
            .unmoved_references
            .entry(self.column.to_owned())
            .or_default();
        for (e, n) in &self.per_entity {
            *mine.entry(self.entity_name(*e).to_owned()).or_default() += n;
        }
    }
}
