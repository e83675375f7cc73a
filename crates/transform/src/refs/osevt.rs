//! The columns of the `OSEVT_*` subscription tables, typed from the source's
//! `OSSYS_ENTITY_ATTR`.
//!
//! A subscription table belongs to the entity whose `OSSYS_ENTITY.EVENT_TABLE_NAME` names it
//! (case-insensitively). After its six fixed columns come the entity's own `ID`, an identifier
//! of that entity; `TENANT_ID` on multi-tenant entities, a tenant; then its filter attributes,
//! each the column of the attribute whose `DATABASE_NAME` (else `NAME`) it is: one whose
//! `TYPE` is `bt<eSpace>*<entity>` is an identifier of that entity, any other a plain value.

use std::collections::HashMap;

use bptmig_model::catalog as c;

use super::{EntityOf, RefTypes, Target};
use crate::maps::{Rows, Snapshot};
use crate::Result;

/// The snapshot table of entity attributes, and its columns.
pub(crate) const ENTITY_ATTR: &str = "OSSYS_ENTITY_ATTR";
const ENTITY_ID: &str = "ENTITY_ID";
const TYPE: &str = "TYPE";
const DATABASE_NAME: &str = "DATABASE_NAME";

/// What a column of a subscription table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    /// An identifier of the `n`th entity of [`RefTypes::entities`].
    Ref(usize),
    /// An attribute of a basic type: a plain value, carried as it is.
    Plain,
    /// A column bptmig cannot type (no attribute of that name, no entity for the table, or
    /// no `OSSYS_ENTITY_ATTR` in the snapshot): carried as it is, counted.
    Unknown,
}

/// One subscription table's entity and its attributes' columns (upper case).
#[derive(Debug, Default)]
struct OsevtTable {
    own: Option<usize>,
    attrs: HashMap<String, ColumnType>,
}

/// The typed columns of every subscription table of the source.
#[derive(Debug, Default)]
pub(crate) struct OsevtTypes {
    /// By `EVENT_TABLE_NAME` in upper case.
    tables: HashMap<String, OsevtTable>,
    tenant: usize,
    /// The snapshot has no `OSSYS_ENTITY_ATTR` (a work directory extracted by an older
    /// bptmig): only `ID` and `TENANT_ID` are typed.
    pub(crate) attrs_missing: bool,
}

impl OsevtTypes {
    /// The type of column `column` of subscription table `table`.
    pub(crate) fn column(&self, table: &str, column: &str) -> ColumnType {
        let Some(t) = self.tables.get(&table.to_ascii_uppercase()) else {
            return ColumnType::Unknown;
        };
        if column.eq_ignore_ascii_case(c::ID) {
            return t.own.map_or(ColumnType::Unknown, ColumnType::Ref);
        }
        if column.eq_ignore_ascii_case(c::TENANT_ID) {
            return ColumnType::Ref(self.tenant);
        }
        t.attrs
            .get(&column.to_ascii_uppercase())
            .copied()
            .unwrap_or(ColumnType::Unknown)
    }
}

/// Types the subscription tables of every entity of `entities` (the source's `OSSYS_ENTITY`
/// rows, whose IDs are in `by_id`).
pub(super) fn read(
    source: &Snapshot,
    entities: &Rows,
    by_id: &HashMap<i64, usize>,
    types: &mut RefTypes,
) -> Result<OsevtTypes> {
    let mut out = OsevtTypes {
        tenant: types.entity_for(c::TENANT, Target::Principal(2)),
        ..OsevtTypes::default()
    };
    let mut of_entity: HashMap<i64, String> = HashMap::new();
    for (id, event) in entities
        .ints(c::ID)
        .into_iter()
        .zip(entities.texts(c::EVENT_TABLE_NAME))
    {
        let (Some(id), Some(event)) = (id, event) else {
            continue;
        };
        let key = event.to_ascii_uppercase();
        of_entity.insert(id, key.clone());
        out.tables.insert(
            key,
            OsevtTable {
                own: by_id.get(&id).copied(),
                attrs: HashMap::new(),
            },
        );
    }
    if !source.dir.join(format!("{ENTITY_ATTR}.parquet")).is_file() {
        out.attrs_missing = true;
        return Ok(out);
    }
    let attrs = source.rows(ENTITY_ATTR)?;
    let rows = attrs
        .ints(ENTITY_ID)
        .into_iter()
        .zip(attrs.texts(DATABASE_NAME))
        .zip(attrs.texts(c::NAME))
        .zip(attrs.texts(TYPE));
    for (((entity, db_name), name), ty) in rows {
        let Some(table) = entity.and_then(|e| of_entity.get(&e)) else {
            continue;
        };
        let Some(column) = db_name.filter(|n| !n.is_empty()).or(name) else {
            continue;
        };
        let kind = match ty.as_deref().map(|t| types.entity_of(t)) {
            Some(EntityOf::Entity(e)) => ColumnType::Ref(e),
            Some(EntityOf::Unknown) => ColumnType::Unknown,
            Some(EntityOf::None) | None => ColumnType::Plain,
        };
        if let Some(t) = out.tables.get_mut(table) {
            t.attrs.insert(column.to_ascii_uppercase(), kind);
        }
    }
    Ok(out)
}
