//! Identifiers inside values that a run could not map, counted before it runs (for
//! `bptmig check`), with the transform's own rules: the entity of each `SS_TYPE` from the
//! source snapshot (the `refs` module), the principals that values name resolved leniently
//! through the mapping file, names and policies, the definition and eSpace maps, and the
//! decision of each value (`rewrite::values::outcome`): the null identifier kept,
//! a value that is not a plain integer refused, an ID without a target unmoved.
//!
//! ```no_run
//! # fn demo(config: &bptmig_model::PipelineConfig, s: &bptmig_transform::maps::Snapshot,
//! #         t: &bptmig_transform::maps::Snapshot) -> bptmig_transform::Result<()> {
//! use bptmig_transform::unmoved::{count_unmoved, TypedValue, ValueTypes};
//! let types = ValueTypes::read(config, s)?;
//! let values = vec![TypedValue { ss_type: "bt…*…".into(), value: "12".into() }];
//! let moved = std::collections::BTreeMap::new();
//! let count = count_unmoved(config, (s, t), &types, &values, &moved)?;
//! println!("{} cannot be mapped", count.total);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bptmig_model::catalog as c;
use bptmig_model::PipelineConfig;
use bptmig_workdir::IdMap;

use crate::maps::{self, DefinitionMaps, Snapshot};
use crate::refs::{parse_plain, EntityOf, RefTypes, Target};
use crate::report::UnmovedReason;
use crate::rewrite::values::outcome::{of_text, Lookup, Outcome};
use crate::Result;

/// How many unmoved values [`UnmovedCount::first`] keeps.
pub const FIRST_SHOWN: usize = 20;

/// The source's entities, as the transform types identifiers inside values.
#[derive(Debug)]
pub struct ValueTypes {
    refs: RefTypes,
}

impl ValueTypes {
    /// The entities of the source snapshot, typed with this pipeline's maps.
    pub fn read(config: &PipelineConfig, source: &Snapshot) -> Result<Self> {
        let entity_maps = crate::entity::load_all(&config.mapping.entity_maps)?;
        let definitions: Vec<&'static str> = c::DEFINITION_TABLES.iter().map(|t| t.name).collect();
        Ok(Self {
            refs: RefTypes::read(source, &definitions, &entity_maps)?,
        })
    }

    /// Every `SS_TYPE` that names an entity bptmig maps itself (a user, group or tenant, an
    /// instance table, a definition table, the eSpace), sorted: the only values that can be
    /// unmoved.
    pub fn system_types(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .refs
            .ss_types()
            .filter(|(_, e)| {
                self.refs
                    .entities
                    .get(*e)
                    .is_some_and(|e| !matches!(e.target, Target::Other(_)))
            })
            .map(|(t, _)| t)
            .collect();
        out.sort();
        out
    }

    /// The instance table (model name) that values of `ss_type` point into, if any.
    pub fn instance_table(&self, ss_type: &str) -> Option<&'static str> {
        match self.target(ss_type)? {
            Target::Instance(t) => Some(t),
            _ => None,
        }
    }

    fn target(&self, ss_type: &str) -> Option<&Target> {
        match self.refs.entity_of(ss_type) {
            EntityOf::Entity(e) => self.refs.entities.get(e).map(|e| &e.target),
            _ => None,
        }
    }

    /// The entity's physical table as the source spells it.
    fn entity_name(&self, ss_type: &str) -> String {
        match self.refs.entity_of(ss_type) {
            EntityOf::Entity(e) => self
                .refs
                .entities
                .get(e)
                .map_or_else(String::new, |e| e.table.clone()),
            _ => String::new(),
        }
    }
}

/// One non-NULL value of a moving row, with its `SS_TYPE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedValue {
    pub ss_type: String,
    pub value: String,
}

/// One value that cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmovedValue {
    /// The entity's physical table, as the source spells it.
    pub entity: String,
    pub value: String,
    pub reason: UnmovedReason,
}

/// What the transform would find of the values given to [`count_unmoved`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnmovedCount {
    /// Values typed as identifiers of entities bptmig maps itself, null identifiers included.
    pub typed: u64,
    /// Those that cannot be mapped.
    pub total: u64,
    pub by_reason: BTreeMap<UnmovedReason, u64>,
    /// By entity (physical table, as the source spells it).
    pub by_entity: BTreeMap<String, u64>,
    /// The first [`FIRST_SHOWN`] of them.
    pub first: Vec<UnmovedValue>,
}

/// The maps one run would rewrite system identifiers with.
struct Maps {
    principals: [IdMap; 3],
    instances: BTreeMap<&'static str, IdMap>,
    definitions: BTreeMap<&'static str, IdMap>,
    espaces: IdMap,
}

impl Maps {
    fn lookup(&self, target: &Target) -> Option<Lookup<'_>> {
        let system = |map, miss| Some(Lookup::System { map, miss });
        match target {
            Target::Principal(k) => system(self.principals.get(*k), UnmovedReason::NoMatch),
            Target::Instance(t) => system(self.instances.get(t), UnmovedReason::NotMoved),
            Target::Definition(t) => system(self.definitions.get(t), UnmovedReason::NoMatch),
            Target::Espace => system(Some(&self.espaces), UnmovedReason::NoMatch),
            Target::Other(_) => None,
        }
    }
}

/// Counts the `values` (of the rows that move) that the transform could not map, given the
/// source IDs of the instance rows that move (`moved`, by instance table model name).
pub fn count_unmoved(
    config: &PipelineConfig,
    (source, target): (&Snapshot, &Snapshot),
    types: &ValueTypes,
    values: &[TypedValue],
    moved: &BTreeMap<&'static str, BTreeSet<i64>>,
) -> Result<UnmovedCount> {
    let mut named: [BTreeSet<i64>; 3] = Default::default();
    for v in values {
        if let Some(Target::Principal(k)) = types.target(&v.ss_type) {
            if let Some(id) = parse_plain(&v.value).filter(|id| *id > 0) {
                named[(*k).min(2)].insert(id);
            }
        }
    }
    let defs = DefinitionMaps::build(source, target)?;
    let to_map = |m: &HashMap<i64, i64>| IdMap::from_i64(m.iter().map(|(s, t)| (*s, *t)));
    let maps = Maps {
        principals: crate::plan::value_only_maps(config, (source, target), &named)?,
        instances: moved
            .iter()
            .map(|(t, ids)| (*t, IdMap::from_i64(ids.iter().map(|id| (*id, *id)))))
            .collect(),
        definitions: defs.maps.iter().map(|(t, m)| (*t, to_map(m))).collect(),
        espaces: to_map(&maps::espace_map(source, target)?),
    };
    Ok(tally(types, &maps, values))
}

/// Each value through its lookup.
fn tally(types: &ValueTypes, maps: &Maps, values: &[TypedValue]) -> UnmovedCount {
    let mut count = UnmovedCount::default();
    for v in values {
        let Some(lookup) = types.target(&v.ss_type).and_then(|t| maps.lookup(t)) else {
            continue;
        };
        count.typed += 1;
        if let Outcome::Unmoved(reason) = of_text(&v.value, lookup) {
            count.note(types.entity_name(&v.ss_type), &v.value, reason);
        }
    }
    count
}

impl UnmovedCount {
    fn note(&mut self, entity: String, value: &str, reason: UnmovedReason) {
        self.total += 1;
        *self.by_reason.entry(reason).or_default() += 1;
        *self.by_entity.entry(entity.clone()).or_default() += 1;
        if self.first.len() < FIRST_SHOWN {
            self.first.push(UnmovedValue {
                entity,
                value: value.to_owned(),
                reason,
            });
        }
    }
}

#[cfg(test)]
mod tests;
