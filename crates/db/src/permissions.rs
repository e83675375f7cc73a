//! What the session may do to an object, as the server reports it (`HAS_PERMS_BY_NAME`).

use std::fmt;

use crate::query::{int_cell, query_rows};
use crate::sql::quote_text;
use crate::{Result, Side, SqlClient};

/// A permission on a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Select,
    Insert,
    Alter,
    Delete,
}

impl Permission {
    /// The permission's T-SQL name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Select => "SELECT",
            Permission::Insert => "INSERT",
            Permission::Alter => "ALTER",
            Permission::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the session holds `permission` on the object `object`; `None` when the server
/// answers NULL (it cannot tell, or does not know the object).
///
/// Some compatible servers answer 0 or NULL even for what the session just read, so a caller
/// should first ask about an object it knows it may read, and trust a `false` only when that
/// answer was `true`.
pub async fn has_object_permission(
    client: &mut SqlClient,
    side: Side,
    object: &str,
    permission: Permission,
) -> Result<Option<bool>> {
    let sql = format!(
        "SELECT HAS_PERMS_BY_NAME({}, 'OBJECT', '{permission}')",
        quote_text(object)
    );
    let rows = query_rows(client, side, &sql, &[]).await?;
    Ok(rows.first().and_then(|r| int_cell(r, 0)).map(|v| v == 1))
}
