//! Column types: how one SQL Server column is read over TDS and stored in Arrow/Parquet.
//!
//! The path of a column is catalog → [`SqlType`] → [`ColumnPlan`] → [`ColumnBuilder`]:
//!
//! * [`SqlType::from_catalog`] reads a row of `INFORMATION_SCHEMA.COLUMNS` ([`CatalogColumn`])
//!   and refuses every type that cannot be moved exactly ([`TypeError::Unsupported`]).
//! * [`ColumnPlan::select_expr`] is the `SELECT` list item that reads the column, and
//!   [`ColumnPlan::arrow_field`] the Arrow field that stores it. The field carries the SQL type
//!   as metadata ([`SQL_TYPE_METADATA_KEY`], parsed back by [`SqlType::from_ddl`]) so the load
//!   side knows what to write.
//! * [`ColumnBuilder`] appends the `tiberius` values of one column and yields an Arrow array.
//!
//! # Exactness decisions
//!
//! Every value must survive SQL Server → Parquet → SQL Server unchanged.
//!
//! * **Date/times travel as text.** Some servers (the sandbox) encode date/times wrongly on the
//!   wire, and `tiberius` is built without chrono/time support, so the `SELECT` converts each
//!   date/time column to ISO text on the server ([`ColumnPlan::select_expr`]) and
//!   [`ColumnBuilder`] parses it with the allocation-free parsers of this module:
//!
//!   | SQL type | expression | text | Arrow |
//!   |---|---|---|---|
//!   | `datetime`, `smalldatetime` | `CONVERT(VARCHAR(33), c, 126)` | `yyyy-mm-ddThh:mi:ss[.mmm]` | `Timestamp(Millisecond)` |
//!   | `datetime2(n)` | `CONVERT(VARCHAR(33), c, 126)` | `yyyy-mm-ddThh:mi:ss[.fffffff]` | `Timestamp(Nanosecond)` |
//!   | `date` | `CONVERT(VARCHAR(10), c, 23)` | `yyyy-mm-dd` | `Date32` |
//!   | `time(n)` | `CAST(c AS VARCHAR(18))` | `hh:mi:ss[.fffffff]` | `Time64(Nanosecond)` |
//!   | `datetimeoffset(n)` | `CAST(c AS VARCHAR(40))` | `yyyy-mm-dd hh:mi:ss[.fffffff] +hh:mm` | `Utf8`, canonical |
//!
//!   Style 126 omits a zero fraction, which the parsers accept. `time` and `datetimeoffset`
//!   use the default conversion (SQL Server's ODBC-canonical style 121 for these types),
//!   which prints every digit of the column's scale and, for `datetimeoffset`, the offset;
//!   style 114 would print `hh:mi:ss:mmm` (milliseconds only) and style 127 is documented
//!   for UTC (`Z`) values. A `datetime` holds 1/300 s ticks; style 126 prints them rounded to
//!   the millisecond (`.003`, `.007`, `.997`), and writing that text back yields the same tick.
//!   The parsers take up to 9 fraction digits, because the sandbox prints chrono's `%.f`.
//! * **`datetime2` needs the 64-bit nanosecond range** (1677-09-21 to 2262-04-11). A value
//!   outside it is refused with [`ConvertError::Unrepresentable`] rather than truncated;
//!   `datetime` and `smalldatetime` use milliseconds, which cover 0001 to 9999.
//! * **`datetimeoffset` is stored as text** (`Utf8`), canonicalised to
//!   `yyyy-mm-ddThh:mi:ss[.f…]+hh:mm` with exactly the column's scale of fraction digits
//!   (`Z` becomes `+00:00`). Arrow's timestamp-with-time-zone keeps one zone per column, not
//!   one offset per value, so a timestamp would lose the offset each value was written with.
//! * **`uniqueidentifier` is stored as upper-case `8-4-4-4-12` text**, the form SQL Server
//!   itself prints (`tiberius`' `Uuid` displays lower case). SQL Server parses either case,
//!   so the load side can write the text back as it is.
//! * **`money` and `smallmoney`** are selected as `CAST(c AS DECIMAL(19,4))` /
//!   `CAST(c AS DECIMAL(10,4))`, because `tiberius` 0.13 decodes money as `f64`
//!   (`scaled_i64 as f64 / 1e4`), which cannot hold every money value. A builder still accepts
//!   such an `f64` and recovers the scaled integer exactly when its magnitude is below 2^52
//!   (about 450 billion); above that two money values can decode to the same `f64`, and it is
//!   refused.
//! * **Decimals** are rescaled to the column's scale only when no digit is lost, and must fit
//!   the column's precision.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64NanosecondBuilder, TimestampMillisecondBuilder, TimestampNanosecondBuilder, UInt8Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use tiberius::ColumnData;

/// Key of the Arrow field metadata entry that holds the column's SQL type as DDL
/// (`NVARCHAR(MAX)`, `DECIMAL(37,8)`, …); [`SqlType::from_ddl`] parses it back.
pub const SQL_TYPE_METADATA_KEY: &str = "bptmig.sql_type";

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;
const MILLIS_PER_DAY: i64 = 86_400_000;
/// Most fraction digits the parsers accept: nanoseconds. SQL Server prints at most 7.
const MAX_FRACTION_DIGITS: usize = 9;
/// Most string/binary bytes a builder reserves for its next batch from what the last one used,
/// so that one batch of huge values does not pin that much memory for every later batch.
const MAX_RESERVED_DATA_BYTES: usize = 64 << 20;
/// Scaled money values below this magnitude survive `tiberius`' `f64` decoding exactly.
const MONEY_F64_EXACT_LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A column the catalog describes but this module cannot plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeError {
    /// The column's type cannot be moved exactly through Parquet.
    #[error(
        "column `{table}.{column}` has type `{sql_type}`, which bptmig cannot move exactly; \
         exclude the column from the extract and report it, or convert it in the source first"
    )]
    Unsupported {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// `DATA_TYPE` as the catalog gave it.
        sql_type: String,
    },
    /// The catalog row lacks or contradicts a length, precision or scale the type needs.
    #[error(
        "column `{table}.{column}` of type `{sql_type}`: {problem} in INFORMATION_SCHEMA.COLUMNS; \
         read CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE and DATETIME_PRECISION \
         from the catalog"
    )]
    InvalidCatalog {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// `DATA_TYPE` as the catalog gave it.
        sql_type: String,
        /// What is wrong, e.g. "NUMERIC_PRECISION is NULL".
        problem: &'static str,
    },
}

/// Why ISO date/time text did not parse. Carries no text so that parsing never allocates;
/// [`ConvertError::Parse`] adds the column and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A character other than the one the format requires.
    #[error("expected {expected} at byte {at}")]
    Expected {
        /// What the format requires there, e.g. "a digit".
        expected: &'static str,
        /// Byte offset in the text.
        at: usize,
    },
    /// A field is outside its calendar or clock range (month 13, 31 April, hour 24, …).
    #[error("{field} {value} is out of range")]
    FieldOutOfRange {
        /// Which field: "year", "month", "day", "hour", "minute", "second", "offset".
        field: &'static str,
        /// The value read.
        value: u32,
    },
    /// More than 9 fraction digits (nanoseconds) after the seconds.
    #[error("more than 9 fraction digits at byte {at}")]
    TooManyFractionDigits {
        /// Byte offset of the first digit beyond the ninth.
        at: usize,
    },
    /// Text follows a complete value.
    #[error("unexpected text at byte {at} after a complete value")]
    Trailing {
        /// Byte offset of the first extra character.
        at: usize,
    },
    /// The instant is outside 64-bit nanoseconds since 1970 (1677-09-21 to 2262-04-11).
    #[error(
        "the instant is outside 1677-09-21T00:12:43.145224192 ..= 2262-04-11T23:47:16.854775807"
    )]
    Overflow,
}

/// A value that cannot be appended to its column exactly.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The server sent a different kind of value than the plan expects.
    #[error(
        "column `{column}`: expected {expected} from the server, got `{found}`; read the column \
         through `ColumnPlan::select_expr` and plan it from the current catalog"
    )]
    Mismatch {
        /// Column name.
        column: String,
        /// The value kind the plan expects.
        expected: &'static str,
        /// The `tiberius::ColumnData` variant that arrived.
        found: &'static str,
    },
    /// NULL in a column the catalog declares NOT NULL.
    #[error(
        "column `{column}` is NOT NULL in the catalog but the server sent NULL; re-read the \
         catalog (the column may have changed) and plan it again"
    )]
    UnexpectedNull {
        /// Column name.
        column: String,
    },
    /// Date/time text that is not the ISO form the select expression asks for.
    #[error(
        "column `{column}`: `{value}` is not the ISO text `ColumnPlan::select_expr` asks the \
         server for; read the column through it"
    )]
    Parse {
        /// Column name.
        column: String,
        /// The text received.
        value: String,
        /// What is wrong with it.
        #[source]
        source: ParseError,
    },
    /// A value that the column's Arrow type cannot hold without changing it.
    #[error("column `{column}`: `{value}` cannot be stored exactly as {target}; {hint}")]
    Unrepresentable {
        /// Column name.
        column: String,
        /// The value, as text.
        value: String,
        /// The Arrow type and its limit.
        target: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
}

// ---------------------------------------------------------------------------------------------
// Catalog and SQL types
// ---------------------------------------------------------------------------------------------

/// One row of `INFORMATION_SCHEMA.COLUMNS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    /// `COLUMN_NAME`.
    pub name: String,
    /// `DATA_TYPE` (any case; compared lower-cased).
    pub data_type: String,
    /// `CHARACTER_MAXIMUM_LENGTH`: characters for text types, bytes for binary ones; -1 = MAX.
    pub char_max_len: Option<i32>,
    /// `NUMERIC_PRECISION`.
    pub numeric_precision: Option<u8>,
    /// `NUMERIC_SCALE`.
    pub numeric_scale: Option<i32>,
    /// `DATETIME_PRECISION`: the fraction digits of `datetime2`, `time`, `datetimeoffset`.
    pub datetime_precision: Option<i16>,
    /// `IS_NULLABLE = 'YES'`.
    pub nullable: bool,
}

/// A column's SQL Server type, limited to the types bptmig moves exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// `tinyint` (0..=255).
    TinyInt,
    /// `smallint`.
    SmallInt,
    /// `int`.
    Int,
    /// `bigint`.
    BigInt,
    /// `bit`.
    Bit,
    /// `decimal(p,s)` / `numeric(p,s)`; `1 <= precision <= 38`, `0 <= scale <= precision`.
    Decimal {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
    /// `money`: 8-byte fixed point with 4 decimals.
    Money,
    /// `smallmoney`: 4-byte fixed point with 4 decimals.
    SmallMoney,
    /// `float` (= `float(53)`).
    Float,
    /// `real` (= `float(24)`).
    Real,
    /// `char(len)`.
    Char {
        /// Length in characters.
        len: u32,
    },
    /// `varchar(len)`; `None` = `varchar(max)`.
    VarChar {
        /// Length in characters, `None` for MAX.
        len: Option<u32>,
    },
    /// `nchar(len)`.
    NChar {
        /// Length in characters.
        len: u32,
    },
    /// `nvarchar(len)`; `None` = `nvarchar(max)`.
    NVarChar {
        /// Length in characters, `None` for MAX.
        len: Option<u32>,
    },
    /// `text`.
    Text,
    /// `ntext`.
    NText,
    /// `datetime` (1753..=9999, 1/300 s).
    DateTime,
    /// `smalldatetime` (1900..=2079, minutes).
    SmallDateTime,
    /// `datetime2(scale)`.
    DateTime2 {
        /// Fraction digits, 0..=7.
        scale: u8,
    },
    /// `date`.
    Date,
    /// `time(scale)`.
    Time {
        /// Fraction digits, 0..=7.
        scale: u8,
    },
    /// `datetimeoffset(scale)`.
    DateTimeOffset {
        /// Fraction digits, 0..=7.
        scale: u8,
    },
    /// `uniqueidentifier`.
    UniqueIdentifier,
    /// `binary(len)`.
    Binary {
        /// Length in bytes.
        len: u32,
    },
    /// `varbinary(len)`; `None` = `varbinary(max)`.
    VarBinary {
        /// Length in bytes, `None` for MAX.
        len: Option<u32>,
    },
    /// `image`.
    Image,
}

impl SqlType {
    /// The type of a catalog column, or why it cannot be moved.
    pub fn from_catalog(table: &str, col: &CatalogColumn) -> Result<Self, TypeError> {
        let invalid = |problem: &'static str| TypeError::InvalidCatalog {
            table: table.to_owned(),
            column: col.name.clone(),
            sql_type: col.data_type.clone(),
            problem,
        };
        let fixed_len = || match col.char_max_len {
            Some(n) if n > 0 => Ok(n.unsigned_abs()),
            Some(_) => Err(invalid("CHARACTER_MAXIMUM_LENGTH is not a positive length")),
            None => Err(invalid("CHARACTER_MAXIMUM_LENGTH is NULL")),
        };
        let var_len = || match col.char_max_len {
            Some(-1) => Ok(None),
            Some(n) if n > 0 => Ok(Some(n.unsigned_abs())),
            Some(_) => Err(invalid(
                "CHARACTER_MAXIMUM_LENGTH is neither -1 (MAX) nor positive",
            )),
            None => Err(invalid("CHARACTER_MAXIMUM_LENGTH is NULL")),
        };
        // SQL Server's default fraction digits are 7 when the catalog leaves them out.
        let time_scale = || match col.datetime_precision {
            None => Ok(7),
            Some(p @ 0..=7) => Ok(p.unsigned_abs() as u8),
            Some(_) => Err(invalid("DATETIME_PRECISION is outside 0..=7")),
        };
        let data_type = col.data_type.trim().to_ascii_lowercase();
        Ok(match data_type.as_str() {
            "tinyint" => Self::TinyInt,
            "smallint" => Self::SmallInt,
            "int" => Self::Int,
            "bigint" => Self::BigInt,
            "bit" => Self::Bit,
            "decimal" | "numeric" => {
                let precision = col
                    .numeric_precision
                    .ok_or_else(|| invalid("NUMERIC_PRECISION is NULL"))?;
                if !(1..=38).contains(&precision) {
                    return Err(invalid("NUMERIC_PRECISION is outside 1..=38"));
                }
                let scale = col
                    .numeric_scale
                    .ok_or_else(|| invalid("NUMERIC_SCALE is NULL"))?;
                let scale = i8::try_from(scale)
                    .ok()
                    .filter(|s| (0..=precision as i8).contains(s))
                    .ok_or_else(|| invalid("NUMERIC_SCALE is outside 0..=NUMERIC_PRECISION"))?;
                Self::Decimal { precision, scale }
            }
            "money" => Self::Money,
            "smallmoney" => Self::SmallMoney,
            // `float(n)` with n <= 24 is a `real`; the catalog normally says so already.
            "float" => match col.numeric_precision {
                Some(p) if p <= 24 => Self::Real,
                _ => Self::Float,
            },
            "real" => Self::Real,
            "char" => Self::Char { len: fixed_len()? },
            "varchar" => Self::VarChar { len: var_len()? },
            "nchar" => Self::NChar { len: fixed_len()? },
            "nvarchar" => Self::NVarChar { len: var_len()? },
            "text" => Self::Text,
            "ntext" => Self::NText,
            "datetime" => Self::DateTime,
            "smalldatetime" => Self::SmallDateTime,
            "datetime2" => Self::DateTime2 {
                scale: time_scale()?,
            },
            "date" => Self::Date,
            "time" => Self::Time {
                scale: time_scale()?,
            },
            "datetimeoffset" => Self::DateTimeOffset {
                scale: time_scale()?,
            },
            "uniqueidentifier" => Self::UniqueIdentifier,
            "binary" => Self::Binary { len: fixed_len()? },
            "varbinary" => Self::VarBinary { len: var_len()? },
            "image" => Self::Image,
            // xml, sql_variant, geography, geometry, hierarchyid, timestamp/rowversion, vector,
            // json, CLR types and anything newer.
            _ => {
                return Err(TypeError::Unsupported {
                    table: table.to_owned(),
                    column: col.name.clone(),
                    sql_type: col.data_type.clone(),
                })
            }
        })
    }

    /// The type as DDL, e.g. `NVARCHAR(MAX)`, `DECIMAL(37,8)`, `DATETIME2(7)`.
    pub fn ddl(&self) -> String {
        fn len_text(len: Option<u32>) -> String {
            len.map_or_else(|| "MAX".to_owned(), |n| n.to_string())
        }
        match *self {
            Self::TinyInt => "TINYINT".to_owned(),
            Self::SmallInt => "SMALLINT".to_owned(),
            Self::Int => "INT".to_owned(),
            Self::BigInt => "BIGINT".to_owned(),
            Self::Bit => "BIT".to_owned(),
            Self::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
            Self::Money => "MONEY".to_owned(),
            Self::SmallMoney => "SMALLMONEY".to_owned(),
            Self::Float => "FLOAT".to_owned(),
            Self::Real => "REAL".to_owned(),
            Self::Char { len } => format!("CHAR({len})"),
            Self::VarChar { len } => format!("VARCHAR({})", len_text(len)),
            Self::NChar { len } => format!("NCHAR({len})"),
            Self::NVarChar { len } => format!("NVARCHAR({})", len_text(len)),
            Self::Text => "TEXT".to_owned(),
            Self::NText => "NTEXT".to_owned(),
            Self::DateTime => "DATETIME".to_owned(),
            Self::SmallDateTime => "SMALLDATETIME".to_owned(),
            Self::DateTime2 { scale } => format!("DATETIME2({scale})"),
            Self::Date => "DATE".to_owned(),
            Self::Time { scale } => format!("TIME({scale})"),
            Self::DateTimeOffset { scale } => format!("DATETIMEOFFSET({scale})"),
            Self::UniqueIdentifier => "UNIQUEIDENTIFIER".to_owned(),
            Self::Binary { len } => format!("BINARY({len})"),
            Self::VarBinary { len } => format!("VARBINARY({})", len_text(len)),
            Self::Image => "IMAGE".to_owned(),
        }
    }

    /// Parses what [`SqlType::ddl`] writes (case-insensitive, spaces allowed around the
    /// arguments); `None` for anything else. The load side reads it from the field metadata.
    pub fn from_ddl(ddl: &str) -> Option<Self> {
        let ddl = ddl.trim();
        let (name, args) = match ddl.find('(') {
            Some(open) => (&ddl[..open], Some(ddl[open + 1..].strip_suffix(')')?)),
            None => (ddl, None),
        };
        let name = name.trim().to_ascii_uppercase();
        let one = |args: Option<&str>| args?.trim().parse::<u32>().ok().filter(|n| *n > 0);
        let len = |args: Option<&str>| match args?.trim() {
            max if max.eq_ignore_ascii_case("max") => Some(None),
            n => n.parse::<u32>().ok().filter(|n| *n > 0).map(Some),
        };
        let scale = |args: Option<&str>| args?.trim().parse::<u8>().ok().filter(|s| *s <= 7);
        Some(match (name.as_str(), args) {
            ("TINYINT", None) => Self::TinyInt,
            ("SMALLINT", None) => Self::SmallInt,
            ("INT", None) => Self::Int,
            ("BIGINT", None) => Self::BigInt,
            ("BIT", None) => Self::Bit,
            ("DECIMAL" | "NUMERIC", Some(args)) => {
                let (p, s) = args.split_once(',')?;
                let precision = p
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|p| (1..=38).contains(p))?;
                let scale = s.trim().parse::<i8>().ok()?;
                if !(0..=precision as i8).contains(&scale) {
                    return None;
                }
                Self::Decimal { precision, scale }
            }
            ("MONEY", None) => Self::Money,
            ("SMALLMONEY", None) => Self::SmallMoney,
            ("FLOAT", None) => Self::Float,
            ("REAL", None) => Self::Real,
            ("CHAR", args) => Self::Char { len: one(args)? },
            ("VARCHAR", args) => Self::VarChar { len: len(args)? },
            ("NCHAR", args) => Self::NChar { len: one(args)? },
            ("NVARCHAR", args) => Self::NVarChar { len: len(args)? },
            ("TEXT", None) => Self::Text,
            ("NTEXT", None) => Self::NText,
            ("DATETIME", None) => Self::DateTime,
            ("SMALLDATETIME", None) => Self::SmallDateTime,
            ("DATETIME2", args) => Self::DateTime2 {
                scale: scale(args)?,
            },
            ("DATE", None) => Self::Date,
            ("TIME", args) => Self::Time {
                scale: scale(args)?,
            },
            ("DATETIMEOFFSET", args) => Self::DateTimeOffset {
                scale: scale(args)?,
            },
            ("UNIQUEIDENTIFIER", None) => Self::UniqueIdentifier,
            ("BINARY", args) => Self::Binary { len: one(args)? },
            ("VARBINARY", args) => Self::VarBinary { len: len(args)? },
            ("IMAGE", None) => Self::Image,
            _ => return None,
        })
    }

    /// The Arrow type that stores this SQL type exactly (see the module docs).
    pub fn arrow_type(&self) -> DataType {
        match *self {
            Self::TinyInt => DataType::UInt8,
            Self::SmallInt => DataType::Int16,
            Self::Int => DataType::Int32,
            Self::BigInt => DataType::Int64,
            Self::Bit => DataType::Boolean,
            Self::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            Self::Money => DataType::Decimal128(19, 4),
            Self::SmallMoney => DataType::Decimal128(10, 4),
            Self::Float => DataType::Float64,
            Self::Real => DataType::Float32,
            Self::Char { .. }
            | Self::VarChar { .. }
            | Self::NChar { .. }
            | Self::NVarChar { .. }
            | Self::Text
            | Self::NText
            | Self::DateTimeOffset { .. }
            | Self::UniqueIdentifier => DataType::Utf8,
            Self::DateTime | Self::SmallDateTime => {
                DataType::Timestamp(TimeUnit::Millisecond, None)
            }
            Self::DateTime2 { .. } => DataType::Timestamp(TimeUnit::Nanosecond, None),
            Self::Date => DataType::Date32,
            Self::Time { .. } => DataType::Time64(TimeUnit::Nanosecond),
            Self::Binary { .. } | Self::VarBinary { .. } | Self::Image => DataType::Binary,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Column plans
// ---------------------------------------------------------------------------------------------

/// How one column is read and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPlan {
    /// Column name as in the catalog.
    pub name: String,
    /// Its SQL type.
    pub sql_type: SqlType,
    /// Whether it may hold NULL.
    pub nullable: bool,
}

impl ColumnPlan {
    /// The plan for a catalog column.
    pub fn from_catalog(table: &str, col: &CatalogColumn) -> Result<Self, TypeError> {
        Ok(Self {
            name: col.name.clone(),
            sql_type: SqlType::from_catalog(table, col)?,
            nullable: col.nullable,
        })
    }

    /// The `SELECT` list item that reads the column, aliased back to its name. Date/times are
    /// converted to ISO text and money to `DECIMAL` on the server (see the module docs).
    pub fn select_expr(&self) -> String {
        let col = quote_ident(&self.name);
        match self.sql_type {
            SqlType::DateTime | SqlType::SmallDateTime | SqlType::DateTime2 { .. } => {
                format!("CONVERT(VARCHAR(33), {col}, 126) AS {col}")
            }
            SqlType::Date => format!("CONVERT(VARCHAR(10), {col}, 23) AS {col}"),
            SqlType::Time { .. } => format!("CAST({col} AS VARCHAR(18)) AS {col}"),
            SqlType::DateTimeOffset { .. } => format!("CAST({col} AS VARCHAR(40)) AS {col}"),
            SqlType::Money => format!("CAST({col} AS DECIMAL(19,4)) AS {col}"),
            SqlType::SmallMoney => format!("CAST({col} AS DECIMAL(10,4)) AS {col}"),
            _ => col,
        }
    }

    /// Whether Parquet dictionary encoding is likely to pay for this column: yes for
    /// bounded-length text and `bit`/`tinyint`, whose values repeat (names, outcomes, flags);
    /// no for the rest (keys, date/times, numbers, GUIDs, binaries, MAX text), whose values
    /// rarely repeat, so that interning them costs time and the dictionary bytes. On the
    /// `to_parquet` bench (`OSSYS_BPM_ACTIVITY`-shaped rows) this made writing ~1.4× faster
    /// and the file ~14 % smaller than dictionary encoding every column.
    pub fn dictionary_encoding(&self) -> bool {
        matches!(
            self.sql_type,
            SqlType::Char { .. }
                | SqlType::NChar { .. }
                | SqlType::VarChar { len: Some(_) }
                | SqlType::NVarChar { len: Some(_) }
                | SqlType::Bit
                | SqlType::TinyInt
        )
    }

    /// The Arrow field, with metadata `{`[`SQL_TYPE_METADATA_KEY`]`: ddl}`.
    pub fn arrow_field(&self) -> Field {
        Field::new(&self.name, self.sql_type.arrow_type(), self.nullable).with_metadata(
            HashMap::from([(SQL_TYPE_METADATA_KEY.to_owned(), self.sql_type.ddl())]),
        )
    }
}

/// The Arrow schema of a table read with these plans, in plan order.
pub fn schema_for(plans: &[ColumnPlan]) -> SchemaRef {
    Arc::new(Schema::new(
        plans
            .iter()
            .map(ColumnPlan::arrow_field)
            .collect::<Vec<_>>(),
    ))
}

/// `[name]`, with `]` doubled as T-SQL requires.
fn quote_ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

// ---------------------------------------------------------------------------------------------
// ISO text: parsing and formatting
// ---------------------------------------------------------------------------------------------

/// Parses `YYYY-MM-DDTHH:MM:SS[.f…]` (or a space instead of `T`, up to 9 fraction digits)
/// as nanoseconds since 1970-01-01T00:00:00, proleptic Gregorian.
pub fn parse_iso_datetime_ns(s: &str) -> Result<i64, ParseError> {
    let (days, nanos) = parse_datetime_parts(s.as_bytes())?;
    datetime_ns(days, nanos).ok_or(ParseError::Overflow)
}

/// Parses `YYYY-MM-DD` as days since 1970-01-01.
pub fn parse_iso_date_days(s: &str) -> Result<i32, ParseError> {
    let b = s.as_bytes();
    let (days, pos) = parse_date(b, 0)?;
    expect_end(b, pos)?;
    // Years 1..=9999 span about ±3 million days.
    Ok(days as i32)
}

/// Parses `HH:MM:SS[.f…]` (up to 9 fraction digits) as nanoseconds since midnight.
pub fn parse_iso_time_ns(s: &str) -> Result<i64, ParseError> {
    let b = s.as_bytes();
    let (nanos, pos) = parse_time(b, 0)?;
    expect_end(b, pos)?;
    Ok(nanos)
}

/// Formats nanoseconds since 1970 as `YYYY-MM-DDTHH:MM:SS` followed by `.` and the first
/// `fraction_digits` (at most 9) digits of the fraction; 0 prints no fraction. Digits beyond
/// `fraction_digits` are cut, so pass the column's scale for the text SQL Server would print.
pub fn format_iso_datetime_ns(ns: i64, fraction_digits: u8) -> String {
    let days = ns.div_euclid(NANOS_PER_DAY);
    let nanos = ns.rem_euclid(NANOS_PER_DAY);
    let mut out = AsciiBuf::new();
    out.datetime(days, nanos, usize::from(fraction_digits.min(9)));
    out.as_str().to_owned()
}

/// Formats milliseconds since 1970 (a `datetime` column) as `YYYY-MM-DDTHH:MM:SS.mmm`, the
/// form style 126 prints for a non-zero fraction; SQL Server reads it back exactly.
pub fn format_iso_datetime_ms(ms: i64) -> String {
    let days = ms.div_euclid(MILLIS_PER_DAY);
    let nanos = ms.rem_euclid(MILLIS_PER_DAY) * NANOS_PER_MILLI;
    let mut out = AsciiBuf::new();
    out.datetime(days, nanos, 3);
    out.as_str().to_owned()
}

/// Formats days since 1970 as `YYYY-MM-DD`.
pub fn format_iso_date_days(days: i32) -> String {
    let mut out = AsciiBuf::new();
    out.date(i64::from(days));
    out.as_str().to_owned()
}

/// Formats nanoseconds since midnight (taken modulo one day) as `HH:MM:SS` and
/// `fraction_digits` (at most 9) fraction digits, like [`format_iso_datetime_ns`].
pub fn format_iso_time_ns(ns: i64, fraction_digits: u8) -> String {
    let mut out = AsciiBuf::new();
    out.time(
        ns.rem_euclid(NANOS_PER_DAY),
        usize::from(fraction_digits.min(9)),
    );
    out.as_str().to_owned()
}

/// Nanoseconds since 1970 from days and nanoseconds of the day, if an `i64` holds them.
/// The sum goes through `i128` because near 1677 the day product alone overflows `i64`.
fn datetime_ns(days: i64, nanos: i64) -> Option<i64> {
    i64::try_from(i128::from(days) * i128::from(NANOS_PER_DAY) + i128::from(nanos)).ok()
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f…]` → (days since 1970, nanoseconds of the day).
fn parse_datetime_parts(b: &[u8]) -> Result<(i64, i64), ParseError> {
    let (days, nanos, pos) = parse_datetime_prefix(b)?;
    expect_end(b, pos)?;
    Ok((days, nanos))
}

/// The date and time at the start of `b`: (days since 1970, nanoseconds of the day, position
/// after them).
fn parse_datetime_prefix(b: &[u8]) -> Result<(i64, i64, usize), ParseError> {
    let (days, pos) = parse_date(b, 0)?;
    match b.get(pos) {
        Some(b'T' | b' ') => {}
        _ => {
            return Err(ParseError::Expected {
                expected: "`T` or a space",
                at: pos,
            })
        }
    }
    let (nanos, pos) = parse_time(b, pos + 1)?;
    Ok((days, nanos, pos))
}

/// `YYYY-MM-DD` at `pos` → (days since 1970, position after it).
fn parse_date(b: &[u8], pos: usize) -> Result<(i64, usize), ParseError> {
    // Fast path for well-formed text; anything else takes the slow path, which finds the
    // exact position of the problem.
    if let Some(&[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1]) = b.get(pos..pos + 10) {
        if let (Some(century), Some(year), Some(month), Some(day)) = (
            two_digits(y0, y1),
            two_digits(y2, y3),
            two_digits(m0, m1),
            two_digits(d0, d1),
        ) {
            return Ok((checked_days(century * 100 + year, month, day)?, pos + 10));
        }
    }
    let year = digits(b, pos, 4)?;
    let pos = expect_byte(b, pos + 4, b'-', "`-`")?;
    let month = digits(b, pos, 2)?;
    let pos = expect_byte(b, pos + 2, b'-', "`-`")?;
    let day = digits(b, pos, 2)?;
    Ok((checked_days(year, month, day)?, pos + 2))
}

/// Days since 1970 of a calendar date, after checking it exists.
fn checked_days(year: u32, month: u32, day: u32) -> Result<i64, ParseError> {
    if year == 0 {
        return Err(ParseError::FieldOutOfRange {
            field: "year",
            value: year,
        });
    }
    if !(1..=12).contains(&month) {
        return Err(ParseError::FieldOutOfRange {
            field: "month",
            value: month,
        });
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(ParseError::FieldOutOfRange {
            field: "day",
            value: day,
        });
    }
    Ok(days_from_civil(year, month, day))
}

/// `HH:MM:SS[.f{1,9}]` at `pos` → (nanoseconds of the day, position after it).
fn parse_time(b: &[u8], pos: usize) -> Result<(i64, usize), ParseError> {
    let fast = match b.get(pos..pos + 8) {
        Some(&[h0, h1, b':', m0, m1, b':', s0, s1]) => {
            match (two_digits(h0, h1), two_digits(m0, m1), two_digits(s0, s1)) {
                (Some(hour), Some(minute), Some(second)) => Some((hour, minute, second)),
                _ => None,
            }
        }
        _ => None,
    };
    let (hour, minute, second) = if let Some(clock) = fast {
        clock
    } else {
        let hour = digits(b, pos, 2)?;
        let after = expect_byte(b, pos + 2, b':', "`:`")?;
        let minute = digits(b, after, 2)?;
        let after = expect_byte(b, after + 2, b':', "`:`")?;
        (hour, minute, digits(b, after, 2)?)
    };
    let mut pos = pos + 8;
    for (field, value, max) in [
        ("hour", hour, 23),
        ("minute", minute, 59),
        ("second", second, 59),
    ] {
        if value > max {
            return Err(ParseError::FieldOutOfRange { field, value });
        }
    }
    let mut fraction: i64 = 0;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while let Some(d) = b.get(pos).filter(|c| c.is_ascii_digit()) {
            if pos - start == MAX_FRACTION_DIGITS {
                return Err(ParseError::TooManyFractionDigits { at: pos });
            }
            fraction = fraction * 10 + i64::from(d - b'0');
            pos += 1;
        }
        let count = pos - start;
        if count == 0 {
            return Err(ParseError::Expected {
                expected: "a digit",
                at: pos,
            });
        }
        fraction *= POW10_I64[MAX_FRACTION_DIGITS - count];
    }
    let seconds = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Ok((seconds * NANOS_PER_SECOND + fraction, pos))
}

/// Two ASCII digits as a number.
fn two_digits(high: u8, low: u8) -> Option<u32> {
    let (high, low) = (high.wrapping_sub(b'0'), low.wrapping_sub(b'0'));
    (high < 10 && low < 10).then(|| u32::from(high) * 10 + u32::from(low))
}

/// Exactly `n` ASCII digits at `pos`.
fn digits(b: &[u8], pos: usize, n: usize) -> Result<u32, ParseError> {
    let mut value = 0;
    for at in pos..pos + n {
        match b.get(at) {
            Some(c) if c.is_ascii_digit() => value = value * 10 + u32::from(c - b'0'),
            _ => {
                return Err(ParseError::Expected {
                    expected: "a digit",
                    at,
                })
            }
        }
    }
    Ok(value)
}

fn expect_byte(b: &[u8], at: usize, want: u8, expected: &'static str) -> Result<usize, ParseError> {
    if b.get(at) == Some(&want) {
        Ok(at + 1)
    } else {
        Err(ParseError::Expected { expected, at })
    }
}

fn expect_end(b: &[u8], at: usize) -> Result<(), ParseError> {
    if at == b.len() {
        Ok(())
    } else {
        Err(ParseError::Trailing { at })
    }
}

/// An offset `Z`, `+hh:mm` or `-hh:mm`, optionally after one space, ending the text →
/// signed minutes east of UTC.
fn parse_offset(b: &[u8], pos: usize) -> Result<i32, ParseError> {
    let pos = if b.get(pos) == Some(&b' ') {
        pos + 1
    } else {
        pos
    };
    let sign = match b.get(pos) {
        Some(b'Z') => {
            expect_end(b, pos + 1)?;
            return Ok(0);
        }
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => {
            return Err(ParseError::Expected {
                expected: "an offset (`Z`, `+hh:mm` or `-hh:mm`)",
                at: pos,
            })
        }
    };
    let hours = digits(b, pos + 1, 2)?;
    let after = expect_byte(b, pos + 3, b':', "`:`")?;
    let minutes = digits(b, after, 2)?;
    expect_end(b, after + 2)?;
    let total = hours * 60 + minutes;
    // SQL Server offsets span -14:00 ..= +14:00.
    if minutes > 59 || total > 14 * 60 {
        return Err(ParseError::FieldOutOfRange {
            field: "offset",
            value: hours * 100 + minutes,
        });
    }
    Ok(sign * total as i32)
}

const POW10_I64: [i64; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`),
/// for years 1..=9999, which keeps every intermediate value non-negative.
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    i64::from(era * 146_097 + day_of_era) - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// A fixed-size ASCII buffer for formatting without allocating.
struct AsciiBuf {
    /// Room for the longest text written: a 20-digit signed year, time, 9 fraction digits
    /// and an offset.
    buf: [u8; 64],
    len: usize,
}

impl AsciiBuf {
    fn new() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        self.buf[self.len] = byte;
        self.len += 1;
    }

    /// `value` as exactly `width` digits (the highest digits are cut if it is wider).
    fn number(&mut self, value: u64, width: usize) {
        let mut value = value;
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += width;
    }

    fn date(&mut self, days: i64) {
        let (year, month, day) = civil_from_days(days);
        if year < 0 {
            self.push(b'-');
        }
        // At least 4 digits; more only for instants beyond year 9999, which SQL Server never
        // holds but an i64 of milliseconds can.
        let year = year.unsigned_abs();
        let width = (4..20).find(|&w| year < 10_u64.pow(w)).unwrap_or(20);
        self.number(year, width as usize);
        self.push(b'-');
        self.number(u64::from(month), 2);
        self.push(b'-');
        self.number(u64::from(day), 2);
    }

    /// `HH:MM:SS` and, when `fraction_digits > 0`, `.` and that many fraction digits.
    fn time(&mut self, nanos_of_day: i64, fraction_digits: usize) {
        let nanos = nanos_of_day.unsigned_abs();
        let seconds = nanos / NANOS_PER_SECOND.unsigned_abs();
        self.number(seconds / 3600, 2);
        self.push(b':');
        self.number(seconds / 60 % 60, 2);
        self.push(b':');
        self.number(seconds % 60, 2);
        if fraction_digits > 0 {
            self.push(b'.');
            let fraction = nanos % NANOS_PER_SECOND.unsigned_abs();
            self.number(
                fraction / POW10_I64[MAX_FRACTION_DIGITS - fraction_digits].unsigned_abs(),
                fraction_digits,
            );
        }
    }

    fn datetime(&mut self, days: i64, nanos_of_day: i64, fraction_digits: usize) {
        self.date(days);
        self.push(b'T');
        self.time(nanos_of_day, fraction_digits);
    }

    fn as_str(&self) -> &str {
        // Only ASCII is ever pushed, so this cannot fail.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// Fraction digits needed to print `nanos` exactly, at least `min`.
fn fraction_digits_needed(nanos: i64, min: usize) -> usize {
    let fraction = nanos % NANOS_PER_SECOND;
    (min..MAX_FRACTION_DIGITS)
        .find(|&digits| fraction % POW10_I64[MAX_FRACTION_DIGITS - digits] == 0)
        .unwrap_or(MAX_FRACTION_DIGITS)
}

/// Writes `datetimeoffset` text in canonical form: `YYYY-MM-DDTHH:MM:SS[.f…]±HH:MM` with
/// `scale` fraction digits (more only if the value has them), `Z` as `+00:00`.
fn canonical_datetimeoffset(s: &str, scale: u8, out: &mut AsciiBuf) -> Result<(), ParseError> {
    let b = s.as_bytes();
    let (days, nanos, pos) = parse_datetime_prefix(b)?;
    let offset = parse_offset(b, pos)?;
    out.datetime(
        days,
        nanos,
        fraction_digits_needed(nanos, usize::from(scale)),
    );
    out.push(if offset < 0 { b'-' } else { b'+' });
    let offset = u64::from(offset.unsigned_abs());
    out.number(offset / 60, 2);
    out.push(b':');
    out.number(offset % 60, 2);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Column builders
// ---------------------------------------------------------------------------------------------

/// Appends one column's `tiberius` values into the Arrow builder its plan calls for.
///
/// | SQL type | accepted `ColumnData` |
/// |---|---|
/// | `tinyint` | `U8` |
/// | `smallint`, `int`, `bigint` | `I16`, `I32`, `I64` of that width or narrower, `U8` |
/// | `bit` | `Bit` |
/// | `decimal`/`numeric` | `Numeric`, rescaled exactly |
/// | `money`, `smallmoney` | `Numeric` (from the `CAST`), or `F64` as `tiberius` decodes money |
/// | `float`, `real` | `F64`, `F32` |
/// | text types | `String` |
/// | date/time types | `String` holding the ISO text of [`ColumnPlan::select_expr`] |
/// | `uniqueidentifier` | `Guid` |
/// | binary types | `Binary` |
///
/// A NULL of any variant is a NULL; anything else is a [`ConvertError::Mismatch`].
///
/// [`append`](Self::append) does not allocate on success (strings and binaries are copied into
/// the builder's buffers, date/times parsed in place); [`finish`](Self::finish) yields the
/// array and leaves the builder empty for the next batch.
pub struct ColumnBuilder {
    name: String,
    nullable: bool,
    sql_type: SqlType,
    /// Values per batch, reserved again after each [`finish`](Self::finish).
    capacity: usize,
    inner: Inner,
}

/// Decimal state: the builder and the column's limits.
struct DecimalColumn {
    builder: Decimal128Builder,
    scale: u8,
    /// `10^precision`: every value's magnitude must be below it.
    bound: i128,
    /// A money column, which also accepts `tiberius`' `f64` money.
    money: bool,
}

enum Inner {
    UInt8(UInt8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Boolean(BooleanBuilder),
    Decimal(DecimalColumn),
    Float64(Float64Builder),
    Float32(Float32Builder),
    Utf8(StringBuilder),
    TimestampMs(TimestampMillisecondBuilder),
    TimestampNs(TimestampNanosecondBuilder),
    Date32(Date32Builder),
    Time64Ns(Time64NanosecondBuilder),
    DateTimeOffset { builder: StringBuilder, scale: u8 },
    Guid(StringBuilder),
    Binary(BinaryBuilder),
}

impl Inner {
    fn builder_ref(&self) -> &dyn ArrayBuilder {
        match self {
            Self::UInt8(b) => b,
            Self::Int16(b) => b,
            Self::Int32(b) => b,
            Self::Int64(b) => b,
            Self::Boolean(b) => b,
            Self::Decimal(d) => &d.builder,
            Self::Float64(b) => b,
            Self::Float32(b) => b,
            Self::Utf8(b) | Self::Guid(b) | Self::DateTimeOffset { builder: b, .. } => b,
            Self::TimestampMs(b) => b,
            Self::TimestampNs(b) => b,
            Self::Date32(b) => b,
            Self::Time64Ns(b) => b,
            Self::Binary(b) => b,
        }
    }

    fn builder(&mut self) -> &mut dyn ArrayBuilder {
        match self {
            Self::UInt8(b) => b,
            Self::Int16(b) => b,
            Self::Int32(b) => b,
            Self::Int64(b) => b,
            Self::Boolean(b) => b,
            Self::Decimal(d) => &mut d.builder,
            Self::Float64(b) => b,
            Self::Float32(b) => b,
            Self::Utf8(b) | Self::Guid(b) | Self::DateTimeOffset { builder: b, .. } => b,
            Self::TimestampMs(b) => b,
            Self::TimestampNs(b) => b,
            Self::Date32(b) => b,
            Self::Time64Ns(b) => b,
            Self::Binary(b) => b,
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::UInt8(b) => b.append_null(),
            Self::Int16(b) => b.append_null(),
            Self::Int32(b) => b.append_null(),
            Self::Int64(b) => b.append_null(),
            Self::Boolean(b) => b.append_null(),
            Self::Decimal(d) => d.builder.append_null(),
            Self::Float64(b) => b.append_null(),
            Self::Float32(b) => b.append_null(),
            Self::Utf8(b) | Self::Guid(b) | Self::DateTimeOffset { builder: b, .. } => {
                b.append_null();
            }
            Self::TimestampMs(b) => b.append_null(),
            Self::TimestampNs(b) => b.append_null(),
            Self::Date32(b) => b.append_null(),
            Self::Time64Ns(b) => b.append_null(),
            Self::Binary(b) => b.append_null(),
        }
    }

    /// What this builder accepts, for [`ConvertError::Mismatch`].
    fn expected(&self) -> &'static str {
        match self {
            Self::UInt8(_) => "`U8`",
            Self::Int16(_) => "`I16` (or `U8`)",
            Self::Int32(_) => "`I32` (or a narrower integer)",
            Self::Int64(_) => "`I64` (or a narrower integer)",
            Self::Boolean(_) => "`Bit`",
            Self::Decimal(d) if d.money => "`Numeric` (or `F64` money)",
            Self::Decimal(_) => "`Numeric`",
            Self::Float64(_) => "`F64`",
            Self::Float32(_) => "`F32`",
            Self::Utf8(_) => "`String`",
            Self::TimestampMs(_) | Self::TimestampNs(_) => "ISO date-time text (`String`)",
            Self::Date32(_) => "ISO date text (`String`)",
            Self::Time64Ns(_) => "ISO time text (`String`)",
            Self::DateTimeOffset { .. } => "ISO date-time-offset text (`String`)",
            Self::Guid(_) => "`Guid`",
            Self::Binary(_) => "`Binary`",
        }
    }
}

impl Inner {
    /// An empty builder for `sql_type` with room for `capacity` values and, for strings and
    /// binaries, `data_bytes` bytes of data (else an estimate from the type).
    fn new(sql_type: SqlType, capacity: usize, data_bytes: Option<usize>) -> Self {
        let bytes = |bytes_per_value: usize| {
            data_bytes.unwrap_or_else(|| capacity.saturating_mul(bytes_per_value))
        };
        let strings =
            |bytes_per_value| StringBuilder::with_capacity(capacity, bytes(bytes_per_value));
        match sql_type {
            SqlType::TinyInt => Inner::UInt8(UInt8Builder::with_capacity(capacity)),
            SqlType::SmallInt => Inner::Int16(Int16Builder::with_capacity(capacity)),
            SqlType::Int => Inner::Int32(Int32Builder::with_capacity(capacity)),
            SqlType::BigInt => Inner::Int64(Int64Builder::with_capacity(capacity)),
            SqlType::Bit => Inner::Boolean(BooleanBuilder::with_capacity(capacity)),
            SqlType::Decimal { .. } | SqlType::Money | SqlType::SmallMoney => {
                let data_type = sql_type.arrow_type();
                let (precision, scale) = match data_type {
                    DataType::Decimal128(p, s) => (p, s),
                    _ => (38, 0),
                };
                Inner::Decimal(DecimalColumn {
                    builder: Decimal128Builder::with_capacity(capacity).with_data_type(data_type),
                    scale: scale.unsigned_abs(),
                    bound: 10_i128.pow(u32::from(precision.min(38))),
                    money: matches!(sql_type, SqlType::Money | SqlType::SmallMoney),
                })
            }
            SqlType::Float => Inner::Float64(Float64Builder::with_capacity(capacity)),
            SqlType::Real => Inner::Float32(Float32Builder::with_capacity(capacity)),
            SqlType::Char { len } | SqlType::NChar { len } => {
                Inner::Utf8(strings((len as usize).min(64)))
            }
            SqlType::VarChar { len } | SqlType::NVarChar { len } => {
                Inner::Utf8(strings(len.map_or(64, |n| (n as usize).min(32))))
            }
            SqlType::Text | SqlType::NText => Inner::Utf8(strings(64)),
            SqlType::DateTime | SqlType::SmallDateTime => {
                Inner::TimestampMs(TimestampMillisecondBuilder::with_capacity(capacity))
            }
            SqlType::DateTime2 { .. } => {
                Inner::TimestampNs(TimestampNanosecondBuilder::with_capacity(capacity))
            }
            SqlType::Date => Inner::Date32(Date32Builder::with_capacity(capacity)),
            SqlType::Time { .. } => {
                Inner::Time64Ns(Time64NanosecondBuilder::with_capacity(capacity))
            }
            SqlType::DateTimeOffset { scale } => Inner::DateTimeOffset {
                builder: strings(34),
                scale,
            },
            SqlType::UniqueIdentifier => Inner::Guid(strings(36)),
            SqlType::Binary { .. } | SqlType::VarBinary { .. } | SqlType::Image => {
                Inner::Binary(BinaryBuilder::with_capacity(capacity, bytes(32)))
            }
        }
    }

    /// Bytes of string or binary data appended so far.
    fn data_bytes(&self) -> Option<usize> {
        match self {
            Self::Utf8(b) | Self::Guid(b) | Self::DateTimeOffset { builder: b, .. } => {
                Some(b.values_slice().len())
            }
            Self::Binary(b) => Some(b.values_slice().len()),
            _ => None,
        }
    }
}

impl ColumnBuilder {
    /// An empty builder for `plan`, with room for `capacity` values.
    pub fn new(plan: &ColumnPlan, capacity: usize) -> Self {
        Self {
            name: plan.name.clone(),
            nullable: plan.nullable,
            sql_type: plan.sql_type,
            capacity,
            inner: Inner::new(plan.sql_type, capacity, None),
        }
    }

    /// The column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Appends one value. NULL appends a null; anything else must be the kind the plan reads
    /// (see the module docs) and fit the column exactly.
    pub fn append(&mut self, value: ColumnData<'_>) -> Result<(), ConvertError> {
        if is_null(&value) {
            if !self.nullable {
                return Err(ConvertError::UnexpectedNull {
                    column: self.name.clone(),
                });
            }
            self.inner.append_null();
            return Ok(());
        }
        let Self { name, inner, .. } = self;
        match (&mut *inner, value) {
            (Inner::UInt8(b), ColumnData::U8(Some(v))) => b.append_value(v),
            (Inner::Int16(b), ColumnData::I16(Some(v))) => b.append_value(v),
            (Inner::Int16(b), ColumnData::U8(Some(v))) => b.append_value(v.into()),
            (Inner::Int32(b), ColumnData::I32(Some(v))) => b.append_value(v),
            (Inner::Int32(b), ColumnData::I16(Some(v))) => b.append_value(v.into()),
            (Inner::Int32(b), ColumnData::U8(Some(v))) => b.append_value(v.into()),
            (Inner::Int64(b), ColumnData::I64(Some(v))) => b.append_value(v),
            (Inner::Int64(b), ColumnData::I32(Some(v))) => b.append_value(v.into()),
            (Inner::Int64(b), ColumnData::I16(Some(v))) => b.append_value(v.into()),
            (Inner::Int64(b), ColumnData::U8(Some(v))) => b.append_value(v.into()),
            (Inner::Boolean(b), ColumnData::Bit(Some(v))) => b.append_value(v),
            (Inner::Decimal(d), ColumnData::Numeric(Some(n))) => {
                let value = rescale(n.value(), n.scale(), d.scale)
                    .filter(|v| v.unsigned_abs() < d.bound.unsigned_abs())
                    .ok_or_else(|| ConvertError::Unrepresentable {
                        column: name.clone(),
                        value: n.to_string(),
                        target: "the column's Decimal128(precision, scale)",
                        hint: "the value has more digits than the catalog declares; re-read \
                               the catalog and plan the column again",
                    })?;
                d.builder.append_value(value);
            }
            (Inner::Decimal(d), ColumnData::F64(Some(v))) if d.money => {
                let scaled = money_scaled_from_f64(v)
                    .map(|s| i128::from(s) * 10_i128.pow(u32::from(d.scale).saturating_sub(4)))
                    .filter(|s| s.unsigned_abs() < d.bound.unsigned_abs())
                    .ok_or_else(|| ConvertError::Unrepresentable {
                        column: name.clone(),
                        value: v.to_string(),
                        target: "money decoded by tiberius as f64 (exact below 450,359,962,737)",
                        hint: "select the column as `CAST(c AS DECIMAL(19,4))`, as \
                               `ColumnPlan::select_expr` does",
                    })?;
                d.builder.append_value(scaled);
            }
            (Inner::Float64(b), ColumnData::F64(Some(v))) => b.append_value(v),
            (Inner::Float32(b), ColumnData::F32(Some(v))) => b.append_value(v),
            (Inner::Utf8(b), ColumnData::String(Some(s))) => b.append_value(&s),
            (Inner::TimestampMs(b), ColumnData::String(Some(s))) => {
                let (days, nanos) = parse_datetime_parts(s.as_bytes())
                    .map_err(|source| parse_error(name, &s, source))?;
                if nanos % NANOS_PER_MILLI != 0 {
                    return Err(ConvertError::Unrepresentable {
                        column: name.clone(),
                        value: s.into_owned(),
                        target: "Timestamp(Millisecond)",
                        hint: "a `datetime` has no digits below the millisecond; check the \
                               column is `datetime` or `smalldatetime` in the catalog",
                    });
                }
                b.append_value(days * MILLIS_PER_DAY + nanos / NANOS_PER_MILLI);
            }
            (Inner::TimestampNs(b), ColumnData::String(Some(s))) => {
                let ns = parse_iso_datetime_ns(&s).map_err(|source| match source {
                    ParseError::Overflow => ConvertError::Unrepresentable {
                        column: name.clone(),
                        value: s.to_string(),
                        target: "Timestamp(Nanosecond), which spans 1677-09-21 to 2262-04-11",
                        hint: "exclude the column from the extract and report it, or correct \
                               the value in the source",
                    },
                    source => parse_error(name, &s, source),
                })?;
                b.append_value(ns);
            }
            (Inner::Date32(b), ColumnData::String(Some(s))) => {
                let days =
                    parse_iso_date_days(&s).map_err(|source| parse_error(name, &s, source))?;
                b.append_value(days);
            }
            (Inner::Time64Ns(b), ColumnData::String(Some(s))) => {
                let ns = parse_iso_time_ns(&s).map_err(|source| parse_error(name, &s, source))?;
                b.append_value(ns);
            }
            (Inner::DateTimeOffset { builder, scale }, ColumnData::String(Some(s))) => {
                let mut out = AsciiBuf::new();
                canonical_datetimeoffset(&s, *scale, &mut out)
                    .map_err(|source| parse_error(name, &s, source))?;
                builder.append_value(out.as_str());
            }
            (Inner::Guid(b), ColumnData::Guid(Some(g))) => {
                let mut text = tiberius::Uuid::encode_buffer();
                b.append_value(g.hyphenated().encode_upper(&mut text));
            }
            (Inner::Binary(b), ColumnData::Binary(Some(v))) => b.append_value(&v),
            (inner, other) => {
                return Err(ConvertError::Mismatch {
                    column: name.clone(),
                    expected: inner.expected(),
                    found: variant_name(&other),
                })
            }
        }
        Ok(())
    }

    /// The values appended since the last call, as an array; the builder is empty afterwards.
    ///
    /// The next batch starts with room for the capacity given to [`new`](Self::new) and, for
    /// strings and binaries, for as many bytes as this batch used, so that a steady stream of
    /// batches does not grow (copy) its buffers value by value.
    pub fn finish(&mut self) -> ArrayRef {
        let data_bytes = self
            .inner
            .data_bytes()
            .map(|used| (used + used / 8).min(MAX_RESERVED_DATA_BYTES));
        let next = Inner::new(self.sql_type, self.capacity, data_bytes);
        std::mem::replace(&mut self.inner, next).builder().finish()
    }

    /// Values appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.inner.builder_ref().len()
    }

    /// Whether nothing was appended since the last [`finish`](Self::finish).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn parse_error(column: &str, value: &str, source: ParseError) -> ConvertError {
    ConvertError::Parse {
        column: column.to_owned(),
        value: value.to_owned(),
        source,
    }
}

/// `value × 10^(from − to)` rescaled from scale `from` to scale `to`, if no digit is lost
/// and no overflow occurs.
fn rescale(value: i128, from: u8, to: u8) -> Option<i128> {
    match from.cmp(&to) {
        std::cmp::Ordering::Equal => Some(value),
        std::cmp::Ordering::Less => value.checked_mul(10_i128.checked_pow(u32::from(to - from))?),
        std::cmp::Ordering::Greater => {
            let factor = 10_i128.checked_pow(u32::from(from - to))?;
            (value % factor == 0).then_some(value / factor)
        }
    }
}

/// The scaled money integer (value × 10⁴) that `tiberius` 0.13 decoded into `v`.
///
/// `tiberius` computes `((high << 32) as f64 + low) / 1e4`, which for `|scaled| <= 2^53` is
/// `(scaled as f64) / 1e4` correctly rounded. Below 2^52 consecutive scaled integers decode to
/// distinct `f64`s, so the one candidate near `v × 10⁴` that decodes to `v` is the original.
/// Above that the decoding may have merged two values, so `None`.
fn money_scaled_from_f64(v: f64) -> Option<i64> {
    let approx = (v * 1e4).round();
    // The bound keeps the neighbours below within i64; NaN fails it too.
    if approx.is_nan() || approx.abs() > MONEY_F64_EXACT_LIMIT {
        return None;
    }
    let approx = approx as i64;
    [approx, approx - 1, approx + 1]
        .into_iter()
        .find(|&scaled| {
            (scaled.unsigned_abs() as f64) < MONEY_F64_EXACT_LIMIT
                && (scaled as f64 / 1e4).to_bits() == v.to_bits()
        })
}

fn is_null(value: &ColumnData<'_>) -> bool {
    match value {
        ColumnData::U8(v) => v.is_none(),
        ColumnData::I16(v) => v.is_none(),
        ColumnData::I32(v) => v.is_none(),
        ColumnData::I64(v) => v.is_none(),
        ColumnData::F32(v) => v.is_none(),
        ColumnData::F64(v) => v.is_none(),
        ColumnData::Bit(v) => v.is_none(),
        ColumnData::String(v) => v.is_none(),
        ColumnData::Guid(v) => v.is_none(),
        ColumnData::Binary(v) => v.is_none(),
        ColumnData::Numeric(v) => v.is_none(),
        ColumnData::Xml(v) => v.is_none(),
        ColumnData::DateTime(v) => v.is_none(),
        ColumnData::SmallDateTime(v) => v.is_none(),
        ColumnData::Time(v) => v.is_none(),
        ColumnData::Date(v) => v.is_none(),
        ColumnData::DateTime2(v) => v.is_none(),
        ColumnData::DateTimeOffset(v) => v.is_none(),
    }
}

fn variant_name(value: &ColumnData<'_>) -> &'static str {
    match value {
        ColumnData::U8(_) => "U8",
        ColumnData::I16(_) => "I16",
        ColumnData::I32(_) => "I32",
        ColumnData::I64(_) => "I64",
        ColumnData::F32(_) => "F32",
        ColumnData::F64(_) => "F64",
        ColumnData::Bit(_) => "Bit",
        ColumnData::String(_) => "String",
        ColumnData::Guid(_) => "Guid",
        ColumnData::Binary(_) => "Binary",
        ColumnData::Numeric(_) => "Numeric",
        ColumnData::Xml(_) => "Xml",
        ColumnData::DateTime(_) => "DateTime",
        ColumnData::SmallDateTime(_) => "SmallDateTime",
        ColumnData::Time(_) => "Time",
        ColumnData::Date(_) => "Date",
        ColumnData::DateTime2(_) => "DateTime2",
        ColumnData::DateTimeOffset(_) => "DateTimeOffset",
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use arrow::array::{
        Array, AsArray, BinaryArray, Date32Array, Decimal128Array, RecordBatch, StringArray,
        Time64NanosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    };
    use arrow::datatypes::{Int32Type, UInt8Type};
    use arrow::util::pretty::pretty_format_batches;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ArrowWriter;
    use tiberius::numeric::Numeric;
    use tiberius::Uuid;

    use super::*;

    const NS: i64 = 1_000_000_000;

    fn catalog(data_type: &str) -> CatalogColumn {
        CatalogColumn {
            name: "COL".to_owned(),
            data_type: data_type.to_owned(),
            char_max_len: None,
            numeric_precision: None,
            numeric_scale: None,
            datetime_precision: None,
            nullable: true,
        }
    }

    fn with_len(data_type: &str, len: i32) -> CatalogColumn {
        CatalogColumn {
            char_max_len: Some(len),
            ..catalog(data_type)
        }
    }

    fn plan(name: &str, sql_type: SqlType, nullable: bool) -> ColumnPlan {
        ColumnPlan {
            name: name.to_owned(),
            sql_type,
            nullable,
        }
    }

    fn text(s: &str) -> ColumnData<'static> {
        ColumnData::String(Some(Cow::Owned(s.to_owned())))
    }

    fn numeric(value: i128, scale: u8) -> ColumnData<'static> {
        ColumnData::Numeric(Some(Numeric::new_with_scale(value, scale)))
    }

    /// What `tiberius` 0.13 makes of a money value scaled by 10^4 (`money::decode`, len 8).
    fn tiberius_money(scaled: i64) -> f64 {
        let high = i64::from((scaled >> 32) as i32);
        let low = f64::from(scaled as u32);
        ((high << 32) as f64 + low) / 1e4
    }

    fn build(plan: &ColumnPlan, values: Vec<ColumnData<'_>>) -> Result<ArrayRef, ConvertError> {
        let values_len = values.len();
        let mut builder = ColumnBuilder::new(plan, values_len);
        for value in values {
            builder.append(value)?;
        }
        assert_eq!(builder.len(), values_len);
        Ok(builder.finish())
    }

    fn build_one(plan: &ColumnPlan, value: ColumnData<'_>) -> Result<ArrayRef, ConvertError> {
        let mut builder = ColumnBuilder::new(plan, 1);
        builder.append(value)?;
        Ok(builder.finish())
    }

    // ---- catalog ---------------------------------------------------------------------------

    #[test]
    fn from_catalog_maps_every_supported_type() {
        let decimal = CatalogColumn {
            numeric_precision: Some(37),
            numeric_scale: Some(8),
            ..catalog("decimal")
        };
        let numeric = CatalogColumn {
            numeric_precision: Some(38),
            numeric_scale: Some(0),
            ..catalog("NUMERIC")
        };
        let float24 = CatalogColumn {
            numeric_precision: Some(24),
            ..catalog("float")
        };
        let float53 = CatalogColumn {
            numeric_precision: Some(53),
            ..catalog("float")
        };
        let precise = |data_type: &str, p: i16| CatalogColumn {
            datetime_precision: Some(p),
            ..catalog(data_type)
        };
        let cases = [
            (catalog("tinyint"), SqlType::TinyInt, "TINYINT"),
            (catalog("smallint"), SqlType::SmallInt, "SMALLINT"),
            (catalog("int"), SqlType::Int, "INT"),
            (catalog("bigint"), SqlType::BigInt, "BIGINT"),
            (catalog("bit"), SqlType::Bit, "BIT"),
            (
                decimal,
                SqlType::Decimal {
                    precision: 37,
                    scale: 8,
                },
                "DECIMAL(37,8)",
            ),
            (
                numeric,
                SqlType::Decimal {
                    precision: 38,
                    scale: 0,
                },
                "DECIMAL(38,0)",
            ),
            (catalog("money"), SqlType::Money, "MONEY"),
            (catalog("smallmoney"), SqlType::SmallMoney, "SMALLMONEY"),
            (float53, SqlType::Float, "FLOAT"),
            (float24, SqlType::Real, "REAL"),
            (catalog("real"), SqlType::Real, "REAL"),
            (with_len("char", 10), SqlType::Char { len: 10 }, "CHAR(10)"),
            (
                with_len("varchar", 8000),
                SqlType::VarChar { len: Some(8000) },
                "VARCHAR(8000)",
            ),
            (
                with_len("varchar", -1),
                SqlType::VarChar { len: None },
                "VARCHAR(MAX)",
            ),
            (with_len("nchar", 1), SqlType::NChar { len: 1 }, "NCHAR(1)"),
            (
                with_len("nvarchar", 50),
                SqlType::NVarChar { len: Some(50) },
                "NVARCHAR(50)",
            ),
            (
                with_len("nvarchar", -1),
                SqlType::NVarChar { len: None },
                "NVARCHAR(MAX)",
            ),
            (with_len("text", i32::MAX), SqlType::Text, "TEXT"),
            (with_len("ntext", 1_073_741_823), SqlType::NText, "NTEXT"),
            (catalog("datetime"), SqlType::DateTime, "DATETIME"),
            (
                catalog("smalldatetime"),
                SqlType::SmallDateTime,
                "SMALLDATETIME",
            ),
            (
                precise("datetime2", 3),
                SqlType::DateTime2 { scale: 3 },
                "DATETIME2(3)",
            ),
            (
                catalog("datetime2"),
                SqlType::DateTime2 { scale: 7 },
                "DATETIME2(7)",
            ),
            (catalog("date"), SqlType::Date, "DATE"),
            (precise("time", 0), SqlType::Time { scale: 0 }, "TIME(0)"),
            (
                precise("datetimeoffset", 7),
                SqlType::DateTimeOffset { scale: 7 },
                "DATETIMEOFFSET(7)",
            ),
            (
                catalog("uniqueidentifier"),
                SqlType::UniqueIdentifier,
                "UNIQUEIDENTIFIER",
            ),
            (
                with_len("binary", 16),
                SqlType::Binary { len: 16 },
                "BINARY(16)",
            ),
            (
                with_len("varbinary", -1),
                SqlType::VarBinary { len: None },
                "VARBINARY(MAX)",
            ),
            (
                with_len("varbinary", 8000),
                SqlType::VarBinary { len: Some(8000) },
                "VARBINARY(8000)",
            ),
            (with_len("image", i32::MAX), SqlType::Image, "IMAGE"),
        ];
        for (column, expected, ddl) in cases {
            let sql_type = SqlType::from_catalog("T", &column).unwrap();
            assert_eq!(sql_type, expected, "{}", column.data_type);
            assert_eq!(sql_type.ddl(), ddl);
            assert_eq!(SqlType::from_ddl(ddl), Some(sql_type), "{ddl}");
            assert_eq!(
                SqlType::from_ddl(&ddl.to_lowercase()),
                Some(sql_type),
                "{ddl}"
            );
            let plan = ColumnPlan::from_catalog("T", &column).unwrap();
            assert_eq!(plan.sql_type, sql_type);
        }
    }

    #[test]
    fn unsupported_types_are_refused_with_what_to_do() {
        for data_type in [
            "xml",
            "sql_variant",
            "geography",
            "geometry",
            "hierarchyid",
            "timestamp",
            "rowversion",
            "vector",
            "json",
            "something_new",
        ] {
            let column = CatalogColumn {
                name: "PAYLOAD".to_owned(),
                ..catalog(data_type)
            };
            let err = SqlType::from_catalog("OSSYS_X", &column).unwrap_err();
            assert_eq!(
                err,
                TypeError::Unsupported {
                    table: "OSSYS_X".to_owned(),
                    column: "PAYLOAD".to_owned(),
                    sql_type: data_type.to_owned(),
                }
            );
            let message = err.to_string();
            assert!(message.contains("`OSSYS_X.PAYLOAD`"), "{message}");
            assert!(message.contains(&format!("`{data_type}`")), "{message}");
            assert!(message.contains("exclude the column"), "{message}");
        }
    }

    #[test]
    fn incomplete_catalog_rows_are_refused() {
        let cases = [
            catalog("decimal"),
            CatalogColumn {
                numeric_precision: Some(39),
                numeric_scale: Some(0),
                ..catalog("decimal")
            },
            CatalogColumn {
                numeric_precision: Some(10),
                numeric_scale: Some(11),
                ..catalog("decimal")
            },
            catalog("nvarchar"),
            with_len("nvarchar", 0),
            with_len("char", -1),
            CatalogColumn {
                datetime_precision: Some(8),
                ..catalog("datetime2")
            },
        ];
        for column in cases {
            let err = SqlType::from_catalog("T", &column).unwrap_err();
            assert!(
                matches!(err, TypeError::InvalidCatalog { .. }),
                "{column:?}: {err}"
            );
            assert!(err.to_string().contains("`T.COL`"));
        }
    }

    #[test]
    fn from_ddl_rejects_what_ddl_never_writes() {
        for ddl in [
            "",
            "XML",
            "INT(4)",
            "NVARCHAR",
            "NVARCHAR(0)",
            "NVARCHAR(MAX",
            "DECIMAL(39,0)",
            "DECIMAL(5,6)",
            "DECIMAL(5)",
            "DATETIME2(8)",
            "MONEY(4)",
        ] {
            assert_eq!(SqlType::from_ddl(ddl), None, "{ddl}");
        }
        assert_eq!(
            SqlType::from_ddl(" numeric( 10 , 2 ) "),
            Some(SqlType::Decimal {
                precision: 10,
                scale: 2
            })
        );
    }

    // ---- plans -----------------------------------------------------------------------------

    #[test]
    fn select_expr_converts_date_times_to_iso_text() {
        let expr = |name: &str, sql_type| plan(name, sql_type, true).select_expr();
        assert_eq!(
            expr("CREATED", SqlType::DateTime),
            "CONVERT(VARCHAR(33), [CREATED], 126) AS [CREATED]"
        );
        assert_eq!(
            expr("D", SqlType::DateTime2 { scale: 7 }),
            "CONVERT(VARCHAR(33), [D], 126) AS [D]"
        );
        assert_eq!(
            expr("D", SqlType::SmallDateTime),
            "CONVERT(VARCHAR(33), [D], 126) AS [D]"
        );
        assert_eq!(
            expr("D", SqlType::Date),
            "CONVERT(VARCHAR(10), [D], 23) AS [D]"
        );
        assert_eq!(
            expr("T", SqlType::Time { scale: 7 }),
            "CAST([T] AS VARCHAR(18)) AS [T]"
        );
        assert_eq!(
            expr("O", SqlType::DateTimeOffset { scale: 7 }),
            "CAST([O] AS VARCHAR(40)) AS [O]"
        );
        assert_eq!(
            expr("M", SqlType::Money),
            "CAST([M] AS DECIMAL(19,4)) AS [M]"
        );
        assert_eq!(
            expr("M", SqlType::SmallMoney),
            "CAST([M] AS DECIMAL(10,4)) AS [M]"
        );
        assert_eq!(expr("ID", SqlType::Int), "[ID]");
        assert_eq!(expr("odd]name", SqlType::Int), "[odd]]name]");
    }

    #[test]
    fn dictionary_encoding_for_repeating_values_only() {
        let dict = |sql_type| plan("C", sql_type, true).dictionary_encoding();
        assert!(dict(SqlType::NVarChar { len: Some(50) }));
        assert!(dict(SqlType::Char { len: 1 }));
        assert!(dict(SqlType::Bit));
        assert!(!dict(SqlType::NVarChar { len: None }));
        assert!(!dict(SqlType::Int));
        assert!(!dict(SqlType::DateTime));
        assert!(!dict(SqlType::UniqueIdentifier));
    }

    #[test]
    fn arrow_field_carries_type_and_ddl() {
        let field = plan(
            "AMOUNT",
            SqlType::Decimal {
                precision: 37,
                scale: 8,
            },
            false,
        )
        .arrow_field();
        assert_eq!(field.name(), "AMOUNT");
        assert_eq!(field.data_type(), &DataType::Decimal128(37, 8));
        assert!(!field.is_nullable());
        assert_eq!(
            field
                .metadata()
                .get(SQL_TYPE_METADATA_KEY)
                .map(String::as_str),
            Some("DECIMAL(37,8)")
        );
        let schema = schema_for(&[
            plan("A", SqlType::Int, false),
            plan("B", SqlType::DateTime, true),
        ]);
        assert_eq!(schema.fields().len(), 2);
        assert_eq!(
            schema.field(1).data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, None)
        );
    }

    // ---- ISO parsing -----------------------------------------------------------------------

    #[test]
    fn parses_datetime_as_style_126_prints_it() {
        let base = 1_574_769_805 * NS; // 2019-11-26T12:03:25Z
        assert_eq!(parse_iso_datetime_ns("2019-11-26T12:03:25"), Ok(base));
        assert_eq!(parse_iso_datetime_ns("2019-11-26 12:03:25"), Ok(base));
        assert_eq!(
            parse_iso_datetime_ns("2019-11-26T12:03:25.997"),
            Ok(base + 997_000_000)
        );
        assert_eq!(
            parse_iso_datetime_ns("2019-11-26T12:03:25.003"),
            Ok(base + 3_000_000)
        );
        assert_eq!(
            parse_iso_datetime_ns("2019-11-26T12:03:25.007"),
            Ok(base + 7_000_000)
        );
        assert_eq!(
            parse_iso_datetime_ns("2019-11-26T12:03:25.1234567"),
            Ok(base + 123_456_700)
        );
        assert_eq!(
            parse_iso_datetime_ns("2019-11-26T12:03:25.5"),
            Ok(base + 500_000_000)
        );
        // chrono's `%.f`, which the sandbox prints, may use 9 digits.
        assert_eq!(
            parse_iso_datetime_ns("2019-11-26T12:03:25.123456700"),
            Ok(base + 123_456_700)
        );
        // The OutSystems "empty date".
        assert_eq!(
            parse_iso_datetime_ns("1900-01-01T00:00:00"),
            Ok(-2_208_988_800 * NS)
        );
        assert_eq!(
            parse_iso_datetime_ns("1753-01-01T00:00:00"),
            Ok(-6_847_804_800 * NS)
        );
        assert_eq!(parse_iso_datetime_ns("1970-01-01T00:00:00"), Ok(0));
        assert_eq!(
            parse_iso_datetime_ns("1969-12-31T23:59:59.9999999"),
            Ok(-100)
        );
    }

    #[test]
    fn leap_days() {
        assert_eq!(
            parse_iso_datetime_ns("2020-02-29T23:59:59"),
            Ok(1_583_020_799 * NS)
        );
        assert_eq!(parse_iso_date_days("2000-02-29"), Ok(11_016));
        assert_eq!(parse_iso_date_days("2000-03-01"), Ok(11_017));
        for not_a_day in ["2019-02-29", "1900-02-29", "2100-02-29", "2020-02-30"] {
            assert_eq!(
                parse_iso_date_days(not_a_day),
                Err(ParseError::FieldOutOfRange {
                    field: "day",
                    value: not_a_day[8..].parse().unwrap()
                }),
                "{not_a_day}"
            );
        }
        assert_eq!(
            parse_iso_date_days("2020-04-31"),
            Err(ParseError::FieldOutOfRange {
                field: "day",
                value: 31
            })
        );
    }

    #[test]
    fn date_range_and_time_of_day() {
        assert_eq!(parse_iso_date_days("0001-01-01"), Ok(-719_162));
        assert_eq!(parse_iso_date_days("9999-12-31"), Ok(2_932_896));
        assert_eq!(parse_iso_date_days("2019-11-26"), Ok(18_226));
        assert_eq!(parse_iso_time_ns("00:00:00"), Ok(0));
        assert_eq!(parse_iso_time_ns("23:59:59.9999999"), Ok(86_400 * NS - 100));
        assert_eq!(
            parse_iso_time_ns("12:03:25.1"),
            Ok((12 * 3600 + 3 * 60 + 25) * NS + 100_000_000)
        );
    }

    #[test]
    fn nanoseconds_cover_1677_to_2262_only() {
        assert_eq!(
            parse_iso_datetime_ns("2262-04-11T23:47:16.854775807"),
            Ok(i64::MAX)
        );
        assert_eq!(
            parse_iso_datetime_ns("1677-09-21T00:12:43.145224192"),
            Ok(i64::MIN)
        );
        for outside in [
            "2262-04-11T23:47:16.854775808",
            "1677-09-21T00:12:43.145224191",
            "9999-12-31T23:59:59.997",
            "0001-01-01T00:00:00",
        ] {
            assert_eq!(
                parse_iso_datetime_ns(outside),
                Err(ParseError::Overflow),
                "{outside}"
            );
        }
    }

    #[test]
    fn malformed_text_is_a_typed_error() {
        let expected = |expected, at| Err(ParseError::Expected { expected, at });
        let out_of_range = |field, value| Err(ParseError::FieldOutOfRange { field, value });
        let cases: &[(&str, Result<i64, ParseError>)] = &[
            ("", expected("a digit", 0)),
            ("2019-11-26", expected("`T` or a space", 10)),
            ("2019-11-26T", expected("a digit", 11)),
            ("2019-11-26T12:03", expected("`:`", 16)),
            ("2019-11-26T12:03:2", expected("a digit", 18)),
            ("2019-11-26X12:03:25", expected("`T` or a space", 10)),
            ("2019/11/26T12:03:25", expected("`-`", 4)),
            ("2019-1-26T12:03:25", expected("a digit", 6)),
            ("19-11-26T12:03:25", expected("a digit", 2)),
            ("+2019-11-26T12:03:25", expected("a digit", 0)),
            ("２０19-11-26T12:03:25", expected("a digit", 0)),
            ("2019-11-26T12:03:25.", expected("a digit", 20)),
            (
                "2019-11-26T12:03:25,5",
                Err(ParseError::Trailing { at: 19 }),
            ),
            ("2019-11-26T12:03:25Z", Err(ParseError::Trailing { at: 19 })),
            ("2019-11-26T12:03:25 ", Err(ParseError::Trailing { at: 19 })),
            (
                "2019-11-26T12:03:25.1234567890",
                Err(ParseError::TooManyFractionDigits { at: 29 }),
            ),
            ("0000-01-01T00:00:00", out_of_range("year", 0)),
            ("2019-13-01T00:00:00", out_of_range("month", 13)),
            ("2019-00-01T00:00:00", out_of_range("month", 0)),
            ("2019-11-00T00:00:00", out_of_range("day", 0)),
            ("2019-11-31T00:00:00", out_of_range("day", 31)),
            ("2019-11-26T24:00:00", out_of_range("hour", 24)),
            ("2019-11-26T12:60:00", out_of_range("minute", 60)),
            ("2019-11-26T12:03:60", out_of_range("second", 60)),
        ];
        for (text, result) in cases {
            assert_eq!(parse_iso_datetime_ns(text), *result, "{text:?}");
        }
        assert_eq!(
            parse_iso_date_days("2019-11-26T00:00:00"),
            Err(ParseError::Trailing { at: 10 })
        );
        assert_eq!(
            parse_iso_time_ns("12:03:25:123"),
            Err(ParseError::Trailing { at: 8 })
        );
        assert_eq!(
            parse_iso_time_ns("1:03:25"),
            Err(ParseError::Expected {
                expected: "a digit",
                at: 1
            })
        );
    }

    #[test]
    fn formatting_inverts_parsing() {
        for text in [
            "1970-01-01T00:00:00.0000000",
            "1900-01-01T00:00:00.0000000",
            "1753-01-01T00:00:00.0000000",
            "2019-11-26T12:03:25.1234567",
            "2000-02-29T23:59:59.9999999",
            "1677-09-21T00:12:43.1452242",
            "2262-04-11T23:47:16.8547758",
        ] {
            let ns = parse_iso_datetime_ns(text).unwrap();
            assert_eq!(format_iso_datetime_ns(ns, 7), text);
        }
        let ns = parse_iso_datetime_ns("2019-11-26T12:03:25.997").unwrap();
        assert_eq!(format_iso_datetime_ns(ns, 0), "2019-11-26T12:03:25");
        assert_eq!(format_iso_datetime_ns(ns, 3), "2019-11-26T12:03:25.997");
        assert_eq!(
            format_iso_datetime_ns(ns, 12),
            "2019-11-26T12:03:25.997000000"
        );
        assert_eq!(format_iso_datetime_ms(-1), "1969-12-31T23:59:59.999");
        assert_eq!(
            format_iso_datetime_ms(253_402_300_799_997),
            "9999-12-31T23:59:59.997"
        );
        assert_eq!(
            format_iso_datetime_ms(i64::MAX),
            "292278994-08-17T07:12:55.807"
        );
        assert_eq!(
            format_iso_datetime_ms(i64::MIN),
            "-292275055-05-16T16:47:04.192"
        );
        assert_eq!(format_iso_date_days(-719_162), "0001-01-01");
        assert_eq!(format_iso_date_days(2_932_896), "9999-12-31");
        assert_eq!(format_iso_time_ns(86_400 * NS - 100, 7), "23:59:59.9999999");

        // Every day from 0001 to 9999 survives format → parse.
        for days in (-719_162..=2_932_896).step_by(97) {
            let text = format_iso_date_days(days);
            assert_eq!(parse_iso_date_days(&text), Ok(days), "{text}");
        }
        let mut ns = i64::MIN;
        while let Some(next) = ns.checked_add(7_777_777_777_777_777) {
            assert_eq!(
                parse_iso_datetime_ns(&format_iso_datetime_ns(ns, 9)),
                Ok(ns)
            );
            ns = next;
        }
    }

    // ---- builders --------------------------------------------------------------------------

    #[test]
    fn datetime_keeps_milliseconds_from_1753_to_9999() {
        let plan = plan("CREATED", SqlType::DateTime, true);
        let array = build(
            &plan,
            vec![
                text("2019-11-26T12:03:25"),
                text("2019-11-26T12:03:25.997"),
                text("2019-11-26T12:03:25.003"),
                text("2019-11-26T12:03:25.007"),
                text("1900-01-01T00:00:00"),
                text("1753-01-01T00:00:00"),
                text("9999-12-31T23:59:59.997"),
                ColumnData::String(None),
            ],
        )
        .unwrap();
        let array = array
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        let base = 1_574_769_805_000;
        assert_eq!(
            array.iter().collect::<Vec<_>>(),
            vec![
                Some(base),
                Some(base + 997),
                Some(base + 3),
                Some(base + 7),
                Some(-2_208_988_800_000),
                Some(-6_847_804_800_000),
                Some(253_402_300_799_997),
                None
            ]
        );
        let back: Vec<_> = array.iter().flatten().map(format_iso_datetime_ms).collect();
        assert_eq!(back[1], "2019-11-26T12:03:25.997");
        assert_eq!(back[6], "9999-12-31T23:59:59.997");

        let err = build_one(&plan, text("2019-11-26T12:03:25.9975")).unwrap_err();
        assert!(matches!(err, ConvertError::Unrepresentable { .. }), "{err}");
    }

    #[test]
    fn datetime2_outside_nanoseconds_names_the_value() {
        let plan = plan("D2", SqlType::DateTime2 { scale: 7 }, true);
        let array = build_one(&plan, text("2019-11-26T12:03:25.1234567")).unwrap();
        assert_eq!(
            array
                .as_any()
                .downcast_ref::<TimestampNanosecondArray>()
                .unwrap()
                .value(0),
            1_574_769_805 * NS + 123_456_700
        );
        let err = build_one(&plan, text("9999-12-31T23:59:59.9999999")).unwrap_err();
        assert!(matches!(err, ConvertError::Unrepresentable { .. }));
        let message = err.to_string();
        assert!(message.contains("`D2`"), "{message}");
        assert!(
            message.contains("`9999-12-31T23:59:59.9999999`"),
            "{message}"
        );
        assert!(message.contains("1677-09-21 to 2262-04-11"), "{message}");

        let err = build_one(&plan, text("26/11/2019")).unwrap_err();
        assert_eq!(
            err,
            ConvertError::Parse {
                column: "D2".to_owned(),
                value: "26/11/2019".to_owned(),
                source: ParseError::Expected {
                    expected: "a digit",
                    at: 2
                },
            }
        );
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn datetimeoffset_is_canonical_text_with_the_offset() {
        let dto = |scale: u8, input: &str| {
            let plan = plan("O", SqlType::DateTimeOffset { scale }, true);
            build_one(&plan, text(input)).map(|a| a.as_string::<i32>().value(0).to_owned())
        };
        assert_eq!(
            dto(7, "2019-11-26 12:03:25.1234567 +01:00").unwrap(),
            "2019-11-26T12:03:25.1234567+01:00"
        );
        assert_eq!(
            dto(7, "2019-11-26T12:03:25.1234567+01:00").unwrap(),
            "2019-11-26T12:03:25.1234567+01:00"
        );
        assert_eq!(
            dto(0, "2019-11-26T12:03:25Z").unwrap(),
            "2019-11-26T12:03:25+00:00"
        );
        assert_eq!(
            dto(3, "0001-01-01 00:00:00 -05:30").unwrap(),
            "0001-01-01T00:00:00.000-05:30"
        );
        assert_eq!(
            dto(7, "9999-12-31 23:59:59.9999999 -14:00").unwrap(),
            "9999-12-31T23:59:59.9999999-14:00"
        );
        // More digits than the scale are kept rather than cut.
        assert_eq!(
            dto(0, "2019-11-26 12:03:25.5 +00:00").unwrap(),
            "2019-11-26T12:03:25.5+00:00"
        );
        for bad in [
            "2019-11-26 12:03:25",
            "2019-11-26 12:03:25 +15:00",
            "2019-11-26 12:03:25 +01:60",
            "2019-11-26 12:03:25 +0100",
            "2019-11-26 12:03:25 +01:00 ",
        ] {
            let err = dto(7, bad).unwrap_err();
            assert!(matches!(err, ConvertError::Parse { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn decimals_are_rescaled_only_when_exact() {
        let plan = plan(
            "AMOUNT",
            SqlType::Decimal {
                precision: 10,
                scale: 4,
            },
            true,
        );
        let array = build(
            &plan,
            vec![
                numeric(12_345, 2),         // 123.45
                numeric(1_234_500, 4),      // 123.4500
                numeric(-1_234_500_000, 7), // -123.4500000
                numeric(9_999_999_999, 4),  // the largest DECIMAL(10,4)
            ],
        )
        .unwrap();
        let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(
            array.iter().collect::<Vec<_>>(),
            vec![
                Some(1_234_500),
                Some(1_234_500),
                Some(-1_234_500),
                Some(9_999_999_999)
            ]
        );
        for lossy in [
            numeric(1_234_501, 6),
            numeric(10_000_000_000, 4),
            numeric(1, 38),
        ] {
            let err = build_one(&plan, lossy).unwrap_err();
            assert!(matches!(err, ConvertError::Unrepresentable { .. }), "{err}");
            assert!(err.to_string().contains("`AMOUNT`"));
        }
    }

    #[test]
    fn money_is_exact_from_numeric_and_from_tiberius_f64() {
        let money = plan("M", SqlType::Money, true);
        let mut scaled_values = vec![
            0,
            1,
            -1,
            12_345_678,
            -9_999,
            (1 << 52) - 1,
            -(1 << 52) + 1,
            (1 << 40) + 7,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for bits in 1..52 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let v = (x >> 12) as i64 & ((1 << bits) - 1);
            scaled_values.push(v);
            scaled_values.push(-v);
        }
        let floats: Vec<_> = scaled_values
            .iter()
            .map(|&s| ColumnData::F64(Some(tiberius_money(s))))
            .collect();
        let array = build(&money, floats).unwrap();
        let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
        let got: Vec<i128> = array.iter().flatten().collect();
        let want: Vec<i128> = scaled_values.iter().map(|&s| i128::from(s)).collect();
        assert_eq!(got, want);

        // Above 2^52 two money values can decode to one f64: refused, pointing at the CAST.
        let err = build_one(&money, ColumnData::F64(Some(tiberius_money(i64::MAX)))).unwrap_err();
        assert!(err.to_string().contains("DECIMAL(19,4)"), "{err}");
        // The CAST select expression yields Numeric, exact over the whole range.
        let array = build(
            &money,
            vec![numeric(i64::MAX.into(), 4), numeric(i64::MIN.into(), 4)],
        )
        .unwrap();
        let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(array.value(0), i128::from(i64::MAX));
        assert_eq!(array.value(1), i128::from(i64::MIN));
        assert_eq!(array.value_as_string(0), "922337203685477.5807");

        let small = plan("S", SqlType::SmallMoney, false);
        let values = [i32::MIN, i32::MAX, 0, -1];
        let array = build(
            &small,
            values
                .iter()
                .map(|&s| ColumnData::F64(Some(f64::from(s) / 1e4)))
                .collect(),
        )
        .unwrap();
        let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(
            array.iter().flatten().collect::<Vec<_>>(),
            values.iter().map(|&v| i128::from(v)).collect::<Vec<_>>()
        );
        // F64 is accepted for money only.
        let decimal = plan(
            "D",
            SqlType::Decimal {
                precision: 19,
                scale: 4,
            },
            true,
        );
        assert!(matches!(
            build_one(&decimal, ColumnData::F64(Some(1.0))),
            Err(ConvertError::Mismatch { .. })
        ));
    }

    #[test]
    fn mismatches_and_nulls_are_typed_errors() {
        let id = plan("ID", SqlType::Int, false);
        let err = build_one(&id, ColumnData::I64(Some(1))).unwrap_err();
        assert_eq!(
            err,
            ConvertError::Mismatch {
                column: "ID".to_owned(),
                expected: "`I32` (or a narrower integer)",
                found: "I64",
            }
        );
        assert!(err.to_string().contains("`ColumnPlan::select_expr`"));
        assert_eq!(
            build_one(&id, ColumnData::I32(None)).unwrap_err(),
            ConvertError::UnexpectedNull {
                column: "ID".to_owned()
            }
        );
        // A native date/time value means the column was not read through `select_expr`.
        let created = plan("CREATED", SqlType::DateTime, false);
        let native = ColumnData::DateTime(Some(tiberius::time::DateTime::new(0, 0)));
        assert!(matches!(
            build_one(&created, native).unwrap_err(),
            ConvertError::Mismatch {
                found: "DateTime",
                ..
            }
        ));
        let tiny = plan("T", SqlType::TinyInt, true);
        assert!(build_one(&tiny, ColumnData::I16(Some(1))).is_err());
        let name = plan("NAME", SqlType::NVarChar { len: Some(50) }, true);
        assert!(build_one(&name, ColumnData::I32(Some(1))).is_err());
        // NULL of any variant is a NULL.
        let array = build_one(&name, ColumnData::I32(None)).unwrap();
        assert!(array.is_null(0));
    }

    #[test]
    fn builders_are_reusable_across_batches() {
        let plan = plan("ID", SqlType::Int, true);
        let mut builder = ColumnBuilder::new(&plan, 2);
        assert!(builder.is_empty());
        builder.append(ColumnData::I32(Some(1))).unwrap();
        builder.append(ColumnData::I32(None)).unwrap();
        assert_eq!(builder.len(), 2);
        assert_eq!(builder.name(), "ID");
        let first = builder.finish();
        assert!(builder.is_empty());
        builder.append(ColumnData::I32(Some(3))).unwrap();
        let second = builder.finish();
        assert_eq!(first.len(), 2);
        assert_eq!(second.as_primitive::<Int32Type>().value(0), 3);
    }

    // ---- the round trip --------------------------------------------------------------------

    const ROWS: usize = 6;

    /// A column of every supported type with `ROWS` values each, NULLs and extremes included.
    fn every_type() -> Vec<(ColumnPlan, Vec<ColumnData<'static>>)> {
        let long_unicode: String = "Ünïcödé ✓ 日本語 𝄞 ".repeat(300); // 4,800 characters
        let long_ascii = "x".repeat(8_000);
        let max_38 = 10_i128.pow(38) - 1;
        let guid = Uuid::parse_str("ff1e2c3d-4b5a-6978-8796-a5b4c3d2e1f0").unwrap();
        let bytes: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        let binary = |b: &[u8]| ColumnData::Binary(Some(Cow::Owned(b.to_vec())));
        let s = |v: &str| text(v);
        let null_text = || ColumnData::String(None);
        vec![
            (
                plan("TINY", SqlType::TinyInt, true),
                vec![
                    ColumnData::U8(Some(0)),
                    ColumnData::U8(Some(255)),
                    ColumnData::U8(None),
                    ColumnData::U8(Some(7)),
                    ColumnData::U8(Some(1)),
                    ColumnData::U8(Some(2)),
                ],
            ),
            (
                plan("SMALL", SqlType::SmallInt, true),
                vec![
                    ColumnData::I16(Some(i16::MIN)),
                    ColumnData::I16(Some(i16::MAX)),
                    ColumnData::I16(None),
                    ColumnData::U8(Some(5)),
                    ColumnData::I16(Some(0)),
                    ColumnData::I16(Some(-1)),
                ],
            ),
            (
                plan("ID", SqlType::Int, false),
                vec![
                    ColumnData::I32(Some(i32::MIN)),
                    ColumnData::I32(Some(i32::MAX)),
                    ColumnData::I32(Some(0)),
                    ColumnData::I16(Some(-3)),
                    ColumnData::I32(Some(1)),
                    ColumnData::I32(Some(2)),
                ],
            ),
            (
                plan("BIG", SqlType::BigInt, true),
                vec![
                    ColumnData::I64(Some(i64::MIN)),
                    ColumnData::I64(Some(i64::MAX)),
                    ColumnData::I64(None),
                    ColumnData::I32(Some(-1)),
                    ColumnData::I64(Some(0)),
                    ColumnData::I64(Some(1)),
                ],
            ),
            (
                plan("FLAG", SqlType::Bit, true),
                vec![
                    ColumnData::Bit(Some(true)),
                    ColumnData::Bit(Some(false)),
                    ColumnData::Bit(None),
                    ColumnData::Bit(Some(true)),
                    ColumnData::Bit(Some(false)),
                    ColumnData::Bit(None),
                ],
            ),
            (
                plan(
                    "DEC38",
                    SqlType::Decimal {
                        precision: 38,
                        scale: 10,
                    },
                    true,
                ),
                vec![
                    numeric(max_38, 10),
                    numeric(-max_38, 10),
                    ColumnData::Numeric(None),
                    numeric(12_345, 2),
                    numeric(-1, 10),
                    numeric(0, 0),
                ],
            ),
            (
                plan(
                    "DEC_INT",
                    SqlType::Decimal {
                        precision: 38,
                        scale: 0,
                    },
                    true,
                ),
                vec![
                    numeric(max_38, 0),
                    numeric(-max_38, 0),
                    ColumnData::Numeric(None),
                    numeric(-42, 0),
                    numeric(1, 0),
                    numeric(0, 0),
                ],
            ),
            (
                plan("MONEY", SqlType::Money, true),
                vec![
                    numeric(i64::MAX.into(), 4),
                    numeric(i64::MIN.into(), 4),
                    ColumnData::Numeric(None),
                    ColumnData::F64(Some(123.4567)),
                    ColumnData::F64(Some(-0.0001)),
                    numeric(0, 4),
                ],
            ),
            (
                plan("SMALLMONEY", SqlType::SmallMoney, true),
                vec![
                    numeric(i32::MAX.into(), 4),
                    numeric(i32::MIN.into(), 4),
                    ColumnData::Numeric(None),
                    ColumnData::F64(Some(-214_748.364_8)),
                    numeric(1, 4),
                    numeric(0, 4),
                ],
            ),
            (
                plan("FLOAT", SqlType::Float, true),
                vec![
                    ColumnData::F64(Some(f64::MAX)),
                    ColumnData::F64(Some(f64::MIN_POSITIVE)),
                    ColumnData::F64(None),
                    ColumnData::F64(Some(std::f64::consts::PI)),
                    ColumnData::F64(Some(-1e-300)),
                    ColumnData::F64(Some(0.1)),
                ],
            ),
            (
                plan("REAL", SqlType::Real, true),
                vec![
                    ColumnData::F32(Some(f32::MAX)),
                    ColumnData::F32(Some(f32::MIN_POSITIVE)),
                    ColumnData::F32(None),
                    ColumnData::F32(Some(std::f32::consts::E)),
                    ColumnData::F32(Some(-1.5)),
                    ColumnData::F32(Some(0.1)),
                ],
            ),
            (
                plan("CODE", SqlType::Char { len: 10 }, true),
                vec![
                    s("abc       "),
                    s("0123456789"),
                    null_text(),
                    s("          "),
                    s("x         "),
                    s("y         "),
                ],
            ),
            (
                plan("VC", SqlType::VarChar { len: Some(8000) }, true),
                vec![
                    s(""),
                    s(&long_ascii),
                    null_text(),
                    s("a'b\"c"),
                    s(" "),
                    s("z"),
                ],
            ),
            (
                plan("NC", SqlType::NChar { len: 3 }, true),
                vec![
                    s("日本語"),
                    s("a  "),
                    null_text(),
                    s("𝄞 "),
                    s("abc"),
                    s("   "),
                ],
            ),
            (
                plan("NAME", SqlType::NVarChar { len: Some(50) }, true),
                vec![
                    s("Approve Request"),
                    s("Ünïcödé ✓"),
                    null_text(),
                    s(""),
                    s("tab\tnewline\n"),
                    s("\u{0}nul"),
                ],
            ),
            (
                plan("INBOX_DETAIL", SqlType::NVarChar { len: None }, true),
                vec![
                    s(&long_unicode),
                    s(&long_ascii),
                    null_text(),
                    s(""),
                    s("short"),
                    s(&long_unicode[..4_001]),
                ],
            ),
            (
                plan("TXT", SqlType::Text, true),
                vec![s(&long_ascii), s(""), null_text(), s("t"), s("u"), s("v")],
            ),
            (
                plan("NTXT", SqlType::NText, true),
                vec![s(&long_unicode), s(""), null_text(), s("t"), s("u"), s("v")],
            ),
            (
                plan("CREATED", SqlType::DateTime, false),
                vec![
                    s("2019-11-26T12:03:25"),
                    s("2019-11-26T12:03:25.997"),
                    s("1900-01-01T00:00:00"),
                    s("1753-01-01T00:00:00"),
                    s("9999-12-31T23:59:59.997"),
                    s("2020-02-29T00:00:00.003"),
                ],
            ),
            (
                plan("SMALLDT", SqlType::SmallDateTime, true),
                vec![
                    s("1900-01-01T00:00:00"),
                    s("2079-06-06T23:59:00"),
                    null_text(),
                    s("2019-11-26T12:03:00"),
                    s("2000-02-29T00:01:00"),
                    null_text(),
                ],
            ),
            (
                plan("DT2", SqlType::DateTime2 { scale: 7 }, true),
                vec![
                    s("2019-11-26T12:03:25.1234567"),
                    s("2262-04-11T23:47:16.8547758"),
                    null_text(),
                    s("1677-09-21T00:12:43.1452242"),
                    s("1900-01-01T00:00:00"),
                    s("1970-01-01T00:00:00.0000001"),
                ],
            ),
            (
                plan("DAY", SqlType::Date, true),
                vec![
                    s("0001-01-01"),
                    s("9999-12-31"),
                    null_text(),
                    s("2020-02-29"),
                    s("1900-01-01"),
                    s("1970-01-01"),
                ],
            ),
            (
                plan("AT", SqlType::Time { scale: 7 }, true),
                vec![
                    s("00:00:00"),
                    s("23:59:59.9999999"),
                    null_text(),
                    s("12:03:25.1234567"),
                    s("00:00:00.0000001"),
                    s("12:00:00"),
                ],
            ),
            (
                plan("DTO", SqlType::DateTimeOffset { scale: 7 }, true),
                vec![
                    s("2019-11-26 12:03:25.1234567 +01:00"),
                    s("9999-12-31 23:59:59.9999999 -14:00"),
                    null_text(),
                    s("0001-01-01 00:00:00.0000000 +14:00"),
                    s("2019-11-26T12:03:25Z"),
                    s("2019-11-26 12:03:25.0000000 -05:30"),
                ],
            ),
            (
                plan("SS_KEY", SqlType::UniqueIdentifier, true),
                vec![
                    ColumnData::Guid(Some(guid)),
                    ColumnData::Guid(Some(Uuid::nil())),
                    ColumnData::Guid(None),
                    ColumnData::Guid(Some(Uuid::max())),
                    ColumnData::Guid(Some(guid)),
                    ColumnData::Guid(None),
                ],
            ),
            (
                plan("BIN", SqlType::Binary { len: 4 }, true),
                vec![
                    binary(&[0, 1, 2, 3]),
                    binary(&[255; 4]),
                    ColumnData::Binary(None),
                    binary(&[0; 4]),
                    binary(&[9, 8, 7, 6]),
                    binary(&[1; 4]),
                ],
            ),
            (
                plan("VBIN", SqlType::VarBinary { len: None }, true),
                vec![
                    binary(&bytes),
                    binary(&[]),
                    ColumnData::Binary(None),
                    binary(&[0]),
                    binary(&bytes[..8_001]),
                    binary(&[1, 2]),
                ],
            ),
            (
                plan("IMG", SqlType::Image, true),
                vec![
                    binary(&bytes),
                    binary(&[]),
                    ColumnData::Binary(None),
                    binary(&[0xFF]),
                    binary(&[0]),
                    binary(&[1]),
                ],
            ),
        ]
    }

    fn batch_of(columns: Vec<(ColumnPlan, Vec<ColumnData<'static>>)>) -> RecordBatch {
        let plans: Vec<ColumnPlan> = columns.iter().map(|(p, _)| p.clone()).collect();
        let arrays = columns
            .into_iter()
            .map(|(plan, values)| {
                assert_eq!(values.len(), ROWS, "{}", plan.name);
                build(&plan, values).unwrap()
            })
            .collect();
        RecordBatch::try_new(schema_for(&plans), arrays).unwrap()
    }

    fn parquet_round_trip(batch: &RecordBatch) -> RecordBatch {
        let mut bytes = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
        writer.write(batch).unwrap();
        writer.close().unwrap();
        // The reader wants a `ChunkReader` (a file or `bytes::Bytes`); the bytes stay in memory
        // until here, then go through an anonymous temporary file.
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &bytes).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.len(), 1);
        batches.into_iter().next().unwrap()
    }

    #[test]
    fn every_type_survives_parquet() {
        let batch = batch_of(every_type());
        assert_eq!(batch.num_columns(), 28);
        let back = parquet_round_trip(&batch);
        assert_eq!(back.schema(), batch.schema());
        assert_eq!(back, batch);

        // Spot checks on what was stored, beyond "the same as before".
        let column = |name: &str| back.column_by_name(name).unwrap().clone();
        assert_eq!(column("TINY").as_primitive::<UInt8Type>().value(1), 255);
        let dec = column("DEC38");
        let dec = dec.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(
            dec.value_as_string(0),
            "9999999999999999999999999999.9999999999"
        );
        assert_eq!(
            dec.value_as_string(1),
            "-9999999999999999999999999999.9999999999"
        );
        assert_eq!(dec.value_as_string(3), "123.4500000000");
        let money = column("MONEY");
        let money = money.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(money.value_as_string(1), "-922337203685477.5808");
        assert_eq!(money.value_as_string(3), "123.4567");
        assert_eq!(money.value_as_string(4), "-0.0001");
        let detail = column("INBOX_DETAIL");
        let detail = detail.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(detail.value(0).chars().count(), 4_800);
        let guid = column("SS_KEY");
        let guid = guid.as_string::<i32>();
        assert_eq!(guid.value(0), "FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0");
        assert_eq!(guid.value(3), "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF");
        let dto = column("DTO");
        let dto = dto.as_string::<i32>();
        assert_eq!(dto.value(4), "2019-11-26T12:03:25.0000000+00:00");
        assert_eq!(dto.value(5), "2019-11-26T12:03:25.0000000-05:30");
        let day = column("DAY");
        let day = day.as_any().downcast_ref::<Date32Array>().unwrap();
        assert_eq!(format_iso_date_days(day.value(0)), "0001-01-01");
        let at = column("AT");
        let at = at.as_any().downcast_ref::<Time64NanosecondArray>().unwrap();
        assert_eq!(format_iso_time_ns(at.value(1), 7), "23:59:59.9999999");
        let vbin = column("VBIN");
        let vbin = vbin.as_any().downcast_ref::<BinaryArray>().unwrap();
        assert_eq!(vbin.value(0).len(), 10_000);
        let created = column("CREATED");
        let created = created
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(
            format_iso_datetime_ms(created.value(4)),
            "9999-12-31T23:59:59.997"
        );
        for field in back.schema().fields() {
            let ddl = field.metadata().get(SQL_TYPE_METADATA_KEY).unwrap();
            assert!(SqlType::from_ddl(ddl).is_some(), "{ddl}");
        }
    }

    #[test]
    fn date_times_read_back_as_iso_tables() {
        let batch = batch_of(
            every_type()
                .into_iter()
                .filter(|(p, _)| ["CREATED", "DT2", "DAY", "AT", "DTO"].contains(&p.name.as_str()))
                .collect(),
        );
        let back = parquet_round_trip(&batch);
        let table = pretty_format_batches(&[back]).unwrap().to_string();
        let expected = "\
+-------------------------+-------------------------------+------------+--------------------+-----------------------------------+
| CREATED                 | DT2                           | DAY        | AT                 | DTO                               |
+-------------------------+-------------------------------+------------+--------------------+-----------------------------------+
| 2019-11-26T12:03:25     | 2019-11-26T12:03:25.123456700 | 0001-01-01 | 00:00:00           | 2019-11-26T12:03:25.1234567+01:00 |
| 2019-11-26T12:03:25.997 | 2262-04-11T23:47:16.854775800 | 9999-12-31 | 23:59:59.999999900 | 9999-12-31T23:59:59.9999999-14:00 |
| 1900-01-01T00:00:00     |                               |            |                    |                                   |
| 1753-01-01T00:00:00     | 1677-09-21T00:12:43.145224200 | 2020-02-29 | 12:03:25.123456700 | 0001-01-01T00:00:00.0000000+14:00 |
| 9999-12-31T23:59:59.997 | 1900-01-01T00:00:00           | 1900-01-01 | 00:00:00.000000100 | 2019-11-26T12:03:25.0000000+00:00 |
| 2020-02-29T00:00:00.003 | 1970-01-01T00:00:00.000000100 | 1970-01-01 | 12:00:00           | 2019-11-26T12:03:25.0000000-05:30 |
+-------------------------+-------------------------------+------------+--------------------+-----------------------------------+";
        assert_eq!(table, expected);
    }
}
