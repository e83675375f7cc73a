//! Finding the tables of the catalog.

use super::{
    FkKind, Table, DEFINITION_TABLES, IDENTITY_TABLES, INSTANCE_TABLES, QUEUE_TABLES, STATIC_TABLES,
};

/// Every table with a fixed name that the model knows.
pub fn all_tables() -> impl Iterator<Item = &'static Table> {
    INSTANCE_TABLES
        .iter()
        .chain(DEFINITION_TABLES)
        .chain(STATIC_TABLES)
        .chain(QUEUE_TABLES)
        .chain(IDENTITY_TABLES)
}

/// The table with a fixed name called `name` (case-insensitive).
pub fn table(name: &str) -> Option<&'static Table> {
    all_tables().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// For an instance table, the definition table that its definition FK points at and the
/// column holding it (`PROCESS_DEF_ID` on `OSSYS_BPM_PROCESS`, ...).
pub fn definition_fk(table: &Table) -> Option<(&'static str, &'static str)> {
    table
        .foreign_keys()
        .find(|(_, kind, _)| *kind == FkKind::Definition)
        .map(|(c, _, target)| (c.name, target))
}
