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
//! let count = count_unmoved(config, (s, t), &types, (&values, &[]), &moved)?;
//! println!("{} cannot be mapped", count.total);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bptmig_model::catalog as c;
use bptmig_model::PipelineConfig;
use bptmig_workdir::IdMap;

use crate::maps::{self, DefinitionMaps, Snapshot};
use crate::refs::{parse_plain, ColumnType, EntityOf, RefTypes, Target};
use crate::report::UnmovedReason;
use crate::rewrite::values::outcome::{of_text, Lookup, Outcome};
use crate::Result;

/// How many unmoved values [`UnmovedCount::first`] keeps.
pub const FIRST_SHOWN: usize = 20;

/// The source's entities, as the transform types identifiers inside values.
#[derive(Debug)]
pub struct ValueTypes {
    refs: RefTypes,
    /// The subscription tables `OSSYS_ENTITY.EVENT_TABLE_NAME` names, upper case, sorted.
    subscription_tables: Vec<String>,
}

impl ValueTypes {
    /// The entities of the source snapshot, typed with this pipeline's maps.
    pub fn read(config: &PipelineConfig, source: &Snapshot) -> Result<Self> {
        let entity_maps = crate::entity::load_all(&config.mapping.entity_maps)?;
        let definitions: Vec<&'static str> = c::DEFINITION_TABLES.iter().map(|t| t.name).collect();
        let mut subscription_tables: Vec<String> = source
            .rows(c::ENTITY)?
            .texts(c::EVENT_TABLE_NAME)
            .into_iter()
            .flatten()
            .filter(|t| c::is_osevt(t))
            .map(|t| t.to_ascii_uppercase())
            .collect();
        subscription_tables.sort();
        subscription_tables.dedup();
        Ok(Self {
            refs: RefTypes::read(source, &definitions, &entity_maps)?,
            subscription_tables,
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
            EntityOf::Entity(e) => self.table_of(e),
            _ => String::new(),
        }
    }

    fn table_of(&self, entity: usize) -> String {
        self.refs
            .entities
            .get(entity)
            .map_or_else(String::new, |e| e.table.clone())
    }

    /// The subscription (`OSEVT_*`) tables the source snapshot's `OSSYS_ENTITY` names, in
    /// upper case, sorted.
    pub fn subscription_tables(&self) -> &[String] {
        &self.subscription_tables
    }

    /// The entity whose identifiers column `column` of subscription table `table` holds,
    /// when it is one bptmig maps itself: the only columns whose values can be unmoved.
    fn column_entity(&self, table: &str, column: &str) -> Option<usize> {
        let ColumnType::Ref(e) = self.refs.osevt.column(table, column) else {
            return None;
        };
        let target = &self.refs.entities.get(e)?.target;
        (!matches!(target, Target::Other(_))).then_some(e)
    }

    /// Whether column `column` of subscription table `table` holds identifiers of an entity
    /// bptmig maps itself (the six fixed columns are not asked about).
    pub fn is_system_column(&self, table: &str, column: &str) -> bool {
        self.column_entity(table, column).is_some()
    }

    /// The activity IDs that `values` and `subscriptions` name (positive, within `INT`).
    pub fn named_activities(
        &self,
        values: &[TypedValue],
        subscriptions: &[SubscriptionRow],
    ) -> BTreeSet<i64> {
        let of_values = values
            .iter()
            .filter(|v| self.instance_table(&v.ss_type) == Some(c::ACTIVITY))
            .map(|v| v.value.as_str());
        let of_subscriptions = subscriptions.iter().flat_map(|row| {
            row.values
                .iter()
                .filter(|(column, _)| {
                    self.column_entity(&row.table, column)
                        .and_then(|e| self.refs.entities.get(e))
                        .is_some_and(|e| e.target == Target::Instance(c::ACTIVITY))
                })
                .map(|(_, v)| v.as_str())
        });
        of_values
            .chain(of_subscriptions)
            .filter_map(parse_plain)
            .filter(|id| *id > 0 && i32::try_from(*id).is_ok())
            .collect()
    }
}

/// One non-NULL value of a moving row, with its `SS_TYPE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedValue {
    pub ss_type: String,
    pub value: String,
}

/// One subscription row that moves: its table (as `OSSYS_ENTITY` names it) and its non-NULL
/// values of the columns [`ValueTypes::is_system_column`] names, as decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub table: String,
    /// (column, value).
    pub values: Vec<(String, String)>,
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
    /// Of those, the ones in subscription columns.
    pub in_subscriptions: u64,
    /// The subscription rows holding one: what `unmoved_reference = "null"` leaves behind
    /// (`subscriptions_dropped`).
    pub subscriptions: u64,
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

/// Counts the `values` and `subscriptions` (of the rows that move) that the transform could
/// not map, given the source IDs of the instance rows that move (`moved`, by instance table
/// model name).
pub fn count_unmoved(
    config: &PipelineConfig,
    (source, target): (&Snapshot, &Snapshot),
    types: &ValueTypes,
    (values, subscriptions): (&[TypedValue], &[SubscriptionRow]),
    moved: &BTreeMap<&'static str, BTreeSet<i64>>,
) -> Result<UnmovedCount> {
    let mut named: [BTreeSet<i64>; 3] = Default::default();
    let mut name = |target: Option<&Target>, v: &str| {
        if let Some(Target::Principal(k)) = target {
            if let Some(id) = parse_plain(v).filter(|id| *id > 0) {
                named[(*k).min(2)].insert(id);
            }
        }
    };
    for v in values {
        name(types.target(&v.ss_type), &v.value);
    }
    for row in subscriptions {
        for (column, v) in &row.values {
            let entity = types.column_entity(&row.table, column);
            name(
                entity
                    .and_then(|e| types.refs.entities.get(e))
                    .map(|e| &e.target),
                v,
            );
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
    let mut count = tally(types, &maps, values);
    tally_subscriptions(types, &maps, subscriptions, &mut count);
    Ok(count)
}

/// Each subscription value through its column's lookup; a row holding one that cannot be
/// mapped counts once in [`UnmovedCount::subscriptions`].
fn tally_subscriptions(
    types: &ValueTypes,
    maps: &Maps,
    rows: &[SubscriptionRow],
    count: &mut UnmovedCount,
) {
    for row in rows {
        let mut unmoved = false;
        for (column, v) in &row.values {
            let Some(entity) = types.column_entity(&row.table, column) else {
                continue;
            };
            let target = types.refs.entities.get(entity).map(|e| &e.target);
            let Some(lookup) = target.and_then(|t| maps.lookup(t)) else {
                continue;
            };
            count.typed += 1;
            if let Outcome::Unmoved(reason) = of_text(v, lookup) {
                count.note(types.table_of(entity), v, reason);
                count.in_subscriptions += 1;
                unmoved = true;
            }
        }
        count.subscriptions += u64::from(unmoved);
    }
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
