//! What the server's catalog says about a table.

use bptmig_workdir::sql_type::CatalogColumn;

use crate::query::{int_cell, query_rows, text_cell};
use crate::{Result, Side, SqlClient};

/// The columns of `table` from `INFORMATION_SCHEMA.COLUMNS`, in ordinal order; empty when
/// the table does not exist.
pub async fn table_columns(
    client: &mut SqlClient,
    side: Side,
    table: &str,
) -> Result<Vec<CatalogColumn>> {
    let sql = "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, \
               NUMERIC_SCALE, DATETIME_PRECISION, IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS \
               WHERE TABLE_NAME = @P1 ORDER BY ORDINAL_POSITION";
    let rows = query_rows(client, side, sql, &[&table]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let data_type = text_cell(r, 1).unwrap_or_default();
            CatalogColumn {
                name: text_cell(r, 0).unwrap_or_default(),
                char_max_len: int_cell(r, 2).map(|v| normalize_max_len(&data_type, v)),
                data_type,
                numeric_precision: int_cell(r, 3).map(|v| v as u8),
                numeric_scale: int_cell(r, 4).map(|v| v as i32),
                datetime_precision: int_cell(r, 5).map(|v| v as i16),
                nullable: text_cell(r, 6).is_some_and(|v| v.eq_ignore_ascii_case("YES")),
            }
        })
        .collect())
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
