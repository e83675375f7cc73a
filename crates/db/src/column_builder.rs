//! Column builders: one SQL Server column's `tiberius` values into an Arrow array.
//!
//! The path of a column is catalog → [`SqlType`] → [`ColumnPlan`] → [`ColumnBuilder`]:
//!
//! * [`SqlType::from_catalog`] reads a row of `INFORMATION_SCHEMA.COLUMNS` ([`CatalogColumn`](bptmig_workdir::sql_type::CatalogColumn))
//!   and refuses every type that cannot be moved exactly ([`TypeError::Unsupported`](bptmig_workdir::sql_type::TypeError::Unsupported)).
//! * [`ColumnPlan::select_expr`] is the `SELECT` list item that reads the column, and
//!   [`ColumnPlan::arrow_field`] the Arrow field that stores it. The field carries the SQL type
//!   as metadata ([`SQL_TYPE_METADATA_KEY`](bptmig_workdir::sql_type::SQL_TYPE_METADATA_KEY), parsed back by [`SqlType::from_ddl`]) so the load
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

use arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64NanosecondBuilder, TimestampMillisecondBuilder, TimestampNanosecondBuilder, UInt8Builder,
};
use arrow::datatypes::DataType;
use bptmig_workdir::iso::{
    canonical_datetimeoffset, parse_iso_date_days, parse_iso_datetime_ns, parse_iso_datetime_parts,
    parse_iso_time_ns, AsciiBuf, ParseError,
};
use bptmig_workdir::sql_type::{ColumnPlan, SqlType};
use tiberius::numeric::Numeric;
use tiberius::ColumnData;

const NANOS_PER_MILLI: i64 = 1_000_000;
const MILLIS_PER_DAY: i64 = 86_400_000;
/// Most string/binary bytes a builder reserves for its next batch from what the last one used,
/// so that one batch of huge values does not pin that much memory for every later batch.
const MAX_RESERVED_DATA_BYTES: usize = 64 << 20;
/// Scaled money values below this magnitude survive `tiberius`' `f64` decoding exactly.
const MONEY_F64_EXACT_LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52

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

/// `$body` with `$b` bound to the Arrow builder of whichever variant `$inner` is.
macro_rules! with_builder {
    ($inner:expr, $b:ident => $body:expr) => {
        match $inner {
            Inner::UInt8($b) => $body,
            Inner::Int16($b) => $body,
            Inner::Int32($b) => $body,
            Inner::Int64($b) => $body,
            Inner::Boolean($b) => $body,
            Inner::Decimal(DecimalColumn { builder: $b, .. }) => $body,
            Inner::Float64($b) => $body,
            Inner::Float32($b) => $body,
            Inner::Utf8($b) | Inner::Guid($b) | Inner::DateTimeOffset { builder: $b, .. } => $body,
            Inner::TimestampMs($b) => $body,
            Inner::TimestampNs($b) => $body,
            Inner::Date32($b) => $body,
            Inner::Time64Ns($b) => $body,
            Inner::Binary($b) => $body,
        }
    };
}

impl Inner {
    fn builder_ref(&self) -> &dyn ArrayBuilder {
        with_builder!(self, b => b)
    }

    fn builder(&mut self) -> &mut dyn ArrayBuilder {
        with_builder!(self, b => b)
    }

    fn append_null(&mut self) {
        with_builder!(self, b => b.append_null());
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
            (Inner::Decimal(d), ColumnData::Numeric(Some(n))) => d.append_numeric(name, n)?,
            (Inner::Decimal(d), ColumnData::F64(Some(v))) if d.money => {
                d.append_money_f64(name, v)?;
            }
            (Inner::Float64(b), ColumnData::F64(Some(v))) => b.append_value(v),
            (Inner::Float32(b), ColumnData::F32(Some(v))) => b.append_value(v),
            (Inner::Utf8(b), ColumnData::String(Some(s))) => b.append_value(&s),
            (Inner::TimestampMs(b), ColumnData::String(Some(s))) => {
                b.append_value(datetime_ms(name, &s)?);
            }
            (Inner::TimestampNs(b), ColumnData::String(Some(s))) => {
                b.append_value(datetime2_ns(name, &s)?);
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

impl DecimalColumn {
    /// Appends a `Numeric`, rescaled to the column's scale when no digit is lost.
    fn append_numeric(&mut self, column: &str, n: Numeric) -> Result<(), ConvertError> {
        let value = rescale(n.value(), n.scale(), self.scale)
            .filter(|v| v.unsigned_abs() < self.bound.unsigned_abs())
            .ok_or_else(|| ConvertError::Unrepresentable {
                column: column.to_owned(),
                value: n.to_string(),
                target: "the column's Decimal128(precision, scale)",
                hint: "the value has more digits than the catalog declares; re-read \
                       the catalog and plan the column again",
            })?;
        self.builder.append_value(value);
        Ok(())
    }

    /// Appends money as `tiberius` decodes it (`f64`), when the scaled integer is recoverable.
    fn append_money_f64(&mut self, column: &str, v: f64) -> Result<(), ConvertError> {
        let scaled = money_scaled_from_f64(v)
            .map(|s| i128::from(s) * 10_i128.pow(u32::from(self.scale).saturating_sub(4)))
            .filter(|s| s.unsigned_abs() < self.bound.unsigned_abs())
            .ok_or_else(|| ConvertError::Unrepresentable {
                column: column.to_owned(),
                value: v.to_string(),
                target: "money decoded by tiberius as f64 (exact below 450,359,962,737)",
                hint: "select the column as `CAST(c AS DECIMAL(19,4))`, as \
                       `ColumnPlan::select_expr` does",
            })?;
        self.builder.append_value(scaled);
        Ok(())
    }
}

/// Milliseconds since the Unix epoch of a `datetime`'s ISO text, which has no digit below the
/// millisecond.
fn datetime_ms(column: &str, text: &str) -> Result<i64, ConvertError> {
    let (days, nanos) =
        parse_iso_datetime_parts(text).map_err(|source| parse_error(column, text, source))?;
    if nanos % NANOS_PER_MILLI != 0 {
        return Err(ConvertError::Unrepresentable {
            column: column.to_owned(),
            value: text.to_owned(),
            target: "Timestamp(Millisecond)",
            hint: "a `datetime` has no digits below the millisecond; check the \
                   column is `datetime` or `smalldatetime` in the catalog",
        });
    }
    Ok(days * MILLIS_PER_DAY + nanos / NANOS_PER_MILLI)
}

/// Nanoseconds since the Unix epoch of a `datetime2`'s ISO text, within the 64-bit range.
fn datetime2_ns(column: &str, text: &str) -> Result<i64, ConvertError> {
    parse_iso_datetime_ns(text).map_err(|source| match source {
        ParseError::Overflow => ConvertError::Unrepresentable {
            column: column.to_owned(),
            value: text.to_owned(),
            target: "Timestamp(Nanosecond), which spans 1677-09-21 to 2262-04-11",
            hint: "exclude the column from the extract and report it, or correct \
                   the value in the source",
        },
        source => parse_error(column, text, source),
    })
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
mod tests;
