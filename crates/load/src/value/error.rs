//! What can be wrong with a column or a value: [`ValueError`], and the allocation-free
//! [`ValueProblem`] a check returns in the hot loop.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use bptmig_workdir::sql_type::{SqlType, SQL_TYPE_METADATA_KEY};

/// A column that cannot be bound to its SQL type, or a value its column cannot hold exactly.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The batch has no column of that name.
    #[error("column `{column}` is not in the batch; load only the columns the Parquet holds")]
    MissingColumn {
        /// Column name.
        column: String,
    },
    /// The Arrow field has no SQL type in its metadata.
    #[error(
        "column `{column}` has no `{SQL_TYPE_METADATA_KEY}` field metadata; the Parquet was not \
         written by bptmig extract/transform, which record each column's SQL type"
    )]
    MissingSqlType {
        /// Column name.
        column: String,
    },
    /// The field metadata names a SQL type that `SqlType::from_ddl` does not parse.
    #[error(
        "column `{column}` has SQL type `{ddl}` in its field metadata, which bptmig does not \
         know; write the Parquet with the same bptmig version that loads it"
    )]
    UnknownSqlType {
        /// Column name.
        column: String,
        /// The metadata value.
        ddl: String,
    },
    /// The Arrow array does not have the type that stores the column's SQL type.
    #[error(
        "column `{column}`: expected Arrow {expected}, found Arrow `{found}`; write the \
         transformed Parquet with the extract's schema (`SqlType::arrow_type`)"
    )]
    Mismatch {
        /// Column name.
        column: String,
        /// The Arrow type the SQL type needs, and the SQL type, e.g. "`Int32` for `INT`".
        expected: String,
        /// The Arrow type found.
        found: String,
    },
    /// NaN or an infinity in a `float`/`real` column, which SQL Server cannot store.
    #[error("column `{column}` row {row}: `{value}` cannot be stored in SQL Server `{sql_type}`")]
    NonFinite {
        /// Column name.
        column: String,
        /// Row index in the batch.
        row: usize,
        /// The value, as Rust prints it.
        value: String,
        /// `FLOAT` or `REAL`.
        sql_type: String,
    },
    /// A value between two values of the column's SQL type: storing it would round it.
    #[error(
        "column `{column}` row {row}: `{value}` is not an exact `{sql_type}` value ({reason}); \
         it would be rounded, so the transform must produce values of the target type"
    )]
    Inexact {
        /// Column name.
        column: String,
        /// Row index in the batch.
        row: usize,
        /// The value, as text.
        value: String,
        /// The column's SQL type.
        sql_type: String,
        /// Why, e.g. "not on a 1/300 s tick".
        reason: &'static str,
    },
    /// A value beyond the range of the column's SQL type.
    #[error(
        "column `{column}` row {row}: `{value}` is outside the range of `{sql_type}` ({range}); \
         the target cannot store it, so the transform must produce values of the target type"
    )]
    OutOfRange {
        /// Column name.
        column: String,
        /// Row index in the batch.
        row: usize,
        /// The value, as text.
        value: String,
        /// The column's SQL type.
        sql_type: String,
        /// The range, e.g. "1753-01-01 ..= 9999-12-31".
        range: &'static str,
    },
    /// Text that is not the form its type is stored in (GUID, `datetimeoffset`).
    #[error("column `{column}` row {row}: `{value}` is not {expected}")]
    Malformed {
        /// Column name.
        column: String,
        /// Row index in the batch.
        row: usize,
        /// The text found.
        value: String,
        /// The form required, e.g. "an `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` GUID".
        expected: &'static str,
    },
}

/// `Result` of the value module.
pub type Result<T, E = ValueError> = std::result::Result<T, E>;

/// The Arrow type `ty` needs, and what was found instead.
pub(crate) fn mismatch(name: &str, ty: SqlType, found: &DataType) -> ValueError {
    ValueError::Mismatch {
        column: name.to_owned(),
        expected: format!("`{}` for `{}`", ty.arrow_type(), ty.ddl()),
        found: found.to_string(),
    }
}

/// What went wrong with one value; turned into a [`ValueError`] (which allocates) only on
/// the error path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueProblem {
    NonFinite,
    Inexact(&'static str),
    OutOfRange(&'static str),
    Malformed(&'static str),
}

impl ValueProblem {
    /// The error for the value at `row` of column `name` (of SQL type `ty`) in `array`.
    pub(crate) fn into_error(
        self,
        name: &str,
        ty: SqlType,
        array: &dyn Array,
        row: usize,
    ) -> ValueError {
        let column = name.to_owned();
        let value = || value_text(ty, array, row);
        match self {
            Self::NonFinite => ValueError::NonFinite {
                column,
                row,
                value: value(),
                sql_type: ty.ddl(),
            },
            Self::Inexact(reason) => ValueError::Inexact {
                column,
                row,
                value: value(),
                sql_type: ty.ddl(),
                reason,
            },
            Self::OutOfRange(range) => ValueError::OutOfRange {
                column,
                row,
                value: value(),
                sql_type: ty.ddl(),
                range,
            },
            Self::Malformed(expected) => ValueError::Malformed {
                column,
                row,
                value: value(),
                expected,
            },
        }
    }
}

/// The offending value as text, for an error message.
fn value_text(ty: SqlType, array: &dyn Array, row: usize) -> String {
    let text = match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Float32 => array.as_primitive::<Float32Type>().value(row).to_string(),
        _ => ArrayFormatter::try_new(array, &FormatOptions::default()).map_or_else(
            |_| format!("<{} value>", ty.ddl()),
            |formatter| formatter.value(row).to_string(),
        ),
    };
    // Keep messages readable when the value is a long text.
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
