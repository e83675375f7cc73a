//! What the selected trees reference, read on the server before anything is extracted.

use bptmig_db::{self as db, quote_ident, Names, Side, SqlClient};
use bptmig_model::catalog::{self as c, FkKind};
use bptmig_model::UsedIds;

use super::scope::{Level, TreeScope, LEVEL_TABLES};
use crate::Result;

/// The source IDs of definitions, users, groups and tenants that the trees under `roots`
/// reference (the whole trees a selection selects: [`super::SelectedTrees::roots`]), read
/// on the server with the extract's own scoping (for `bptmig check`, before anything is
/// extracted), every table named as `names` spells it. The scope's temporary tables have
/// names of their own, so that several checks may run against one server at once.
pub async fn used_ids(client: &mut SqlClient, names: &Names, roots: &[i32]) -> Result<UsedIds> {
    let scope = TreeScope::unique();
    scope.fill_from_ids(client, Level::Roots, roots).await?;
    for (table, level) in LEVEL_TABLES {
        let select = level_sql(names, &scope, table)?;
        scope.fill_from_query(client, level, &select, &[]).await?;
    }
    let mut used = UsedIds::default();
    for table in c::INSTANCE_TABLES {
        for (column, kind, referenced) in table.foreign_keys() {
            let set = match kind {
                FkKind::Definition => used.definitions.entry(referenced.to_owned()).or_default(),
                FkKind::User => &mut used.users,
                FkKind::Group => &mut used.groups,
                FkKind::Tenant => &mut used.tenants,
                _ => continue,
            };
            let sql = referenced_sql(names, &scope, table.name, column.name)?;
            for row in db::query_rows(client, Side::Source, &sql, &[]).await? {
                set.extend(db::int_cell(&row, 0));
            }
        }
    }
    Ok(used)
}

/// The IDs of `table`'s rows of the scoped trees, which fill the level below.
pub(super) fn level_sql(names: &Names, scope: &TreeScope, table: &str) -> db::Result<String> {
    Ok(format!(
        "SELECT ID FROM {} WHERE {}",
        names.quoted(table)?,
        scope.filter(table)
    ))
}

/// The values of `table.column` in the scoped trees' rows.
pub(super) fn referenced_sql(
    names: &Names,
    scope: &TreeScope,
    table: &str,
    column: &str,
) -> db::Result<String> {
    Ok(format!(
        "SELECT DISTINCT {col} FROM {} WHERE {col} IS NOT NULL AND {}",
        names.quoted(table)?,
        scope.filter(table),
        col = quote_ident(column)
    ))
}
