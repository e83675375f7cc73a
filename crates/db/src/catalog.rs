//! What the server's catalog says about a table, found whatever case the name is written in.
//!
//! The platform spells its physical names in mixed case (`ossys_BPM_Process`,
//! `OSUSR_3ar_Candidate`) while bptmig's model writes them in upper case. Whether
//! `TABLE_NAME = 'OSSYS_BPM_PROCESS'` finds `ossys_BPM_Process` depends on the database's
//! collation, so every lookup here compares upper-cased names: it finds the table on a
//! case-insensitive and on a case-sensitive (or binary) database alike, and refuses when a
//! case-sensitive database holds two tables whose names differ only by case.

use bptmig_workdir::sql_type::CatalogColumn;

use crate::query::{int_cell, query_rows, text_cell};
use crate::{Error, Result, Side, SqlClient};

/// The columns of `table` (any case) from `INFORMATION_SCHEMA.COLUMNS`, in ordinal order,
/// each named as the catalog spells it; empty when the table does not exist.
/// [`Error::AmbiguousTable`] when two tables' names differ from `table` only by case.
pub async fn table_columns(
    client: &mut SqlClient,
    side: Side,
    table: &str,
) -> Result<Vec<CatalogColumn>> {
    let sql = "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, \
               NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, IS_NULLABLE \
               FROM INFORMATION_SCHEMA.COLUMNS WHERE UPPER(TABLE_NAME) = @P1 \
               ORDER BY TABLE_NAME, ORDINAL_POSITION";
    let upper = table.to_uppercase();
    let rows = query_rows(client, side, sql, &[&upper]).await?;
    let mut spelled: Vec<String> = Vec::new();
    let mut columns = Vec::with_capacity(rows.len());
    for r in &rows {
        let name = text_cell(r, 0).unwrap_or_default();
        // `UPPER` and Rust's folding agree on ASCII, which is all the platform uses.
        if !name.eq_ignore_ascii_case(table) {
            continue;
        }
        if !spelled.contains(&name) {
            spelled.push(name);
        }
        columns.push(catalog_column(r));
    }
    if spelled.len() > 1 {
        return Err(Error::AmbiguousTable {
            side,
            table: table.to_owned(),
            spellings: spelled.join("`, `"),
        });
    }
    Ok(columns)
}

/// One row of the `INFORMATION_SCHEMA.COLUMNS` query above (its column 0 is the table).
fn catalog_column(r: &tiberius::Row) -> CatalogColumn {
    let data_type = text_cell(r, 2).unwrap_or_default();
    CatalogColumn {
        name: text_cell(r, 1).unwrap_or_default(),
        char_max_len: int_cell(r, 3).map(|v| normalize_max_len(&data_type, v)),
        data_type,
        numeric_precision: int_cell(r, 4).map(|v| v as u8),
        numeric_scale: int_cell(r, 5).map(|v| v as i32),
        datetime_precision: int_cell(r, 6).map(|v| v as i16),
        nullable: text_cell(r, 7).is_some_and(|v| v.eq_ignore_ascii_case("YES")),
    }
}

/// The column of `columns` named `name` in any case.
pub fn find_column<'a>(columns: &'a [CatalogColumn], name: &str) -> Option<&'a CatalogColumn> {
    columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// SQL Server reports `(MAX)` as -1; a length no declared column can have (over 4,000 for
/// `nvarchar`, over 8,000 for `varchar`/`varbinary`) can only mean MAX too, which is how
/// some compatible servers (the sandbox's) report it.
fn normalize_max_len(data_type: &str, len: i64) -> i32 {
    let limit = match data_type.to_ascii_lowercase().as_str() {
        "nvarchar" | "nchar" => 4000,
        "varchar" | "char" | "varbinary" | "binary" => 8000,
        _ => i64::from(i32::MAX),
    };
    if len > limit {
        -1
    } else {
        len as i32
    }
}
