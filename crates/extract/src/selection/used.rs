//! What the selected trees reference, read on the server before anything is extracted.

use bptmig_db::{self as db, quote_ident, Side, SqlClient};
use bptmig_model::catalog::{self as c, FkKind};
use bptmig_model::pipeline::Selection;
use bptmig_model::UsedIds;

use super::scope::{Level, TreeScope, LEVEL_TABLES};
use super::select_trees;
use crate::Result;

/// The source IDs of definitions, users, groups and tenants that the whole trees `sel`
/// selects reference (broken trees left out, whatever the policy), read on the server with
/// the extract's own scoping (for `bptmig check`, before anything is extracted). The scope's temporary tables have names of their own, so that
/// several checks may run against one server at once.
pub async fn used_ids(client: &mut SqlClient, sel: &Selection) -> Result<UsedIds> {
    let scope = TreeScope::unique();
    let roots = select_trees(client, sel).await?.roots;
    scope.fill_from_ids(client, Level::Roots, &roots).await?;
    for (table, level) in LEVEL_TABLES {
        let select = format!("SELECT ID FROM {table} WHERE {}", scope.filter(table));
        scope.fill_from_query(client, level, &select, &[]).await?;
    }
    let mut used = UsedIds::default();
    for table in c::INSTANCE_TABLES {
        let filter = scope.filter(table.name);
        for (column, kind, referenced) in table.foreign_keys() {
            let set = match kind {
                FkKind::Definition => used.definitions.entry(referenced.to_owned()).or_default(),
                FkKind::User => &mut used.users,
                FkKind::Group => &mut used.groups,
                FkKind::Tenant => &mut used.tenants,
                _ => continue,
            };
            let sql = format!(
                "SELECT DISTINCT {col} FROM {} WHERE {col} IS NOT NULL AND {filter}",
                table.name,
                col = quote_ident(column.name)
            );
            for row in db::query_rows(client, Side::Source, &sql, &[]).await? {
                set.extend(db::int_cell(&row, 0));
            }
        }
    }
    Ok(used)
}
