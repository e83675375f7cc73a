//! Identifiers inside values: which entity a value's `SS_TYPE` (`bt<eSpace>*<entity>`) or an
//! `OSEVT_*` column names, and which of this run's maps rewrites it.
//!
//! The entity is found in the source snapshot (`OSSYS_ENTITY` by eSpace SS_KEY and entity
//! SS_KEY), never from known GUIDs; its `PHYSICAL_TABLE_NAME`, compared ASCII
//! case-insensitively, says what it is ([`Target`]):
//!
//! * `OSSYS_USER`, `OSSYS_GROUP`, `OSSYS_TENANT`: the principal maps;
//! * an instance table (`OSSYS_BPM_PROCESS`, `OSSYS_BPM_ACTIVITY`, …): this run's ID maps;
//! * a definition table and `OSSYS_ESPACE`: the definition and eSpace maps;
//! * anything else: the `[mapping.entity_maps]` map of that table, when the pipeline names one
//!   (its table name matched case-insensitively).
//!
//! The columns of the subscription tables are typed in [`osevt`].

use std::collections::{BTreeMap, HashMap};

use bptmig_model::catalog as c;
use bptmig_model::SsType;

use crate::maps::Snapshot;
use crate::Result;

pub(crate) use osevt::{ColumnType, OsevtTypes, ENTITY_ATTR};

pub(crate) use instances::InstanceReferences;

mod instances;
mod osevt;

/// A user (0), group (1) or tenant (2).
pub(crate) type PrincipalKind = usize;

/// Which map rewrites an identifier of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A user (0), group (1) or tenant (2): the principal maps.
    Principal(PrincipalKind),
    /// An instance table: this run's ID map of that table (by its model name).
    Instance(&'static str),
    /// A definition table: its SS_KEY map (by its model name).
    Definition(&'static str),
    /// `OSSYS_ESPACE`: the eSpace map.
    Espace,
    /// Any other entity: the pipeline's entity map of the table, when it names one (the key
    /// of `[mapping.entity_maps]` as written there).
    Other(Option<String>),
}

/// What an `SS_TYPE` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntityOf {
    /// No entity: a basic or malformed type.
    None,
    /// An entity the source snapshot does not know.
    Unknown,
    /// The `n`th entity of [`RefTypes::entities`].
    Entity(usize),
}

/// One entity of the source snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entity {
    /// `PHYSICAL_TABLE_NAME` as the snapshot spells it.
    pub(crate) table: String,
    pub(crate) target: Target,
}

/// The source's entities and subscription columns, typed.
#[derive(Debug, Default)]
pub(crate) struct RefTypes {
    pub(crate) entities: Vec<Entity>,
    /// eSpace SS_KEY → entity SS_KEY → position in `entities`.
    by_key: HashMap<String, HashMap<String, usize>>,
    pub(crate) osevt: OsevtTypes,
}

impl RefTypes {
    /// The entities of `source` (with their eSpaces' SS_KEYs) and the columns of its
    /// subscription tables, each typed with the maps of this run: `definitions` (the
    /// definition tables) and `entity_maps` (the pipeline's application maps).
    pub(crate) fn read(
        source: &Snapshot,
        definitions: &[&'static str],
        entity_maps: &BTreeMap<String, HashMap<i64, i64>>,
    ) -> Result<Self> {
        let espace: HashMap<i64, String> = source.espace_keys()?.into_iter().collect();
        let r = source.rows(c::ENTITY)?;
        let ids = r.ints(c::ID);
        let mut out = Self::default();
        let mut by_id: HashMap<i64, usize> = HashMap::new();
        let rows = r
            .ints(c::ESPACE_ID)
            .into_iter()
            .zip(r.texts(c::SS_KEY))
            .zip(r.texts(c::PHYSICAL_TABLE_NAME))
            .zip(ids);
        for (((esp, key), table), id) in rows {
            let (Some(esp), Some(key), Some(table)) =
                (esp.and_then(|e| espace.get(&e)), key, table)
            else {
                continue;
            };
            let target = classify(&table, definitions, entity_maps);
            let n = out.insert(esp.clone(), key, Entity { table, target });
            if let Some(id) = id {
                by_id.insert(id, n);
            }
        }
        out.osevt = osevt::read(source, &r, &by_id, &mut out)?;
        Ok(out)
    }

    /// Adds `entity` under its keys (a repeated pair keeps its first entity); its position.
    fn insert(&mut self, espace_key: String, entity_key: String, entity: Entity) -> usize {
        let n = self.entities.len();
        let slot = self.by_key.entry(espace_key).or_default();
        if let Some(first) = slot.get(&entity_key) {
            return *first;
        }
        slot.insert(entity_key, n);
        self.entities.push(entity);
        n
    }

    /// The entity an `SS_TYPE` (or `OSSYS_ENTITY_ATTR.TYPE`) names.
    pub(crate) fn entity_of(&self, ss_type: &str) -> EntityOf {
        match SsType::parse(ss_type) {
            Ok(SsType::EntityRef {
                espace_key,
                entity_key,
            }) => self
                .by_key
                .get(espace_key)
                .and_then(|m| m.get(entity_key))
                .map_or(EntityOf::Unknown, |e| EntityOf::Entity(*e)),
            _ => EntityOf::None,
        }
    }

    /// The position of the first entity that `target` rewrites, added (under keys no
    /// `SS_TYPE` spells) when the snapshot has none.
    fn entity_for(&mut self, table: &str, target: Target) -> usize {
        if let Some(n) = self.entities.iter().position(|e| e.target == target) {
            return n;
        }
        self.entities.push(Entity {
            table: table.to_owned(),
            target,
        });
        self.entities.len() - 1
    }

    /// Every entity-reference `SS_TYPE` the source knows, with its entity.
    pub(crate) fn ss_types(&self) -> impl Iterator<Item = (String, usize)> + '_ {
        self.by_key.iter().flat_map(|(espace_key, m)| {
            m.iter().map(move |(entity_key, e)| {
                let t = SsType::EntityRef {
                    espace_key,
                    entity_key,
                };
                (t.to_string(), *e)
            })
        })
    }

    /// Whether any entity is a user, group or tenant.
    pub(crate) fn has_principals(&self) -> bool {
        self.entities
            .iter()
            .any(|e| matches!(e.target, Target::Principal(_)))
    }
}

/// `v` as a plain decimal integer (digits, an optional leading `-`; no spaces, no `+`), or
/// `None`: an identifier inside a value is never trimmed or guessed.
pub(crate) fn parse_plain(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// What the entity stored in `table` is, to this run.
pub(crate) fn classify(
    table: &str,
    definitions: &[&'static str],
    entity_maps: &BTreeMap<String, HashMap<i64, i64>>,
) -> Target {
    let is = |name: &str| table.eq_ignore_ascii_case(name);
    if let Some(k) = [c::USER, c::GROUP, c::TENANT].iter().position(|n| is(n)) {
        return Target::Principal(k);
    }
    if is(c::ESPACE) {
        return Target::Espace;
    }
    if let Some(t) = c::INSTANCE_TABLES.iter().find(|t| is(t.name)) {
        return Target::Instance(t.name);
    }
    if let Some(t) = definitions.iter().find(|t| is(t)) {
        return Target::Definition(t);
    }
    Target::Other(entity_maps.keys().find(|k| is(k)).cloned())
}

#[cfg(test)]
pub(crate) mod tests;
