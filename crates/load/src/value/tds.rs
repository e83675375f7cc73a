//! Exact `tiberius` bulk-load rows for Arrow values, for `INSERT BULK`
//! (`Client::bulk_insert_with_options`).
//!
//! [`BoundBatch::bulk_row`] turns a row of a bound batch into a [`TokenRow`] whose values are
//! in the order of the column names [`BoundBatch::new`] was given, which must be the bulk
//! request's columns.
//!
//! # The values
//!
//! Every value is the `ColumnData` that stores exactly the Arrow value (as the extract wrote
//! it, see [`bptmig_workdir::sql_type`]):
//!
//! | SQL type | Arrow | `ColumnData` |
//! |---|---|---|
//! | any, NULL | | the type's variant with `None`, e.g. `I32(None)` |
//! | `tinyint`, `smallint`, `int`, `bigint` | `UInt8` … `Int64` | `U8`, `I16`, `I32`, `I64` |
//! | `bit` | `Boolean` | `Bit` |
//! | `decimal(p,s)`, `numeric(p,s)` | `Decimal128(p,s)` | `Numeric` of the same integer at scale `s` |
//! | `money`, `smallmoney` | `Decimal128(19,4)`, `Decimal128(10,4)` | `Numeric` at scale 4 |
//! | `float`, `real` | `Float64`, `Float32` | `F64`, `F32` (the same bits) |
//! | `char` … `ntext` | `Utf8` | `String` (owned) |
//! | `datetime` | `Timestamp(Millisecond)` | `DateTime`: days since 1900-01-01, 1/300 s ticks of the day |
//! | `smalldatetime` | `Timestamp(Millisecond)` | `SmallDateTime`: days since 1900-01-01, minutes of the day |
//! | `datetime2(p)` | `Timestamp(Nanosecond)` | `DateTime2`: `Date` (days since 0001-01-01), `Time` (10^-p s of the day, scale `p`) |
//! | `date` | `Date32` | `Date`: days since 0001-01-01 |
//! | `time(p)` | `Time64(Nanosecond)` | `Time`: 10^-p s of the day, scale `p` |
//! | `datetimeoffset(p)` | `Utf8`, `yyyy-mm-ddThh:mi:ss[.f…]+hh:mm` | `DateTimeOffset`: the *UTC* date and time at scale `p`, offset in minutes |
//! | `uniqueidentifier` | `Utf8`, `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` | `Guid` |
//! | `binary`, `varbinary`, `image` | `Binary` | `Binary` (owned) |
//!
//! # Decisions
//!
//! * **Every value is at the scale of its column.** `tiberius` encodes a value with the
//!   target column's TYPE_INFO and only half-handles a different scale: it rescales a
//!   `Numeric` but rounds digits beyond the column's scale away, rescales a `DateTime2`
//!   through `f64` and truncates, and sends `Time` and `DateTimeOffset` increments unchanged,
//!   which the server then reads at the column's scale. So a `decimal(p,s)` value is a
//!   `Numeric` at scale `s`, and a `datetime2(p)`, `time(p)` or `datetimeoffset(p)` value is
//!   counted in 10^-p s. This is exact as long as the target column has the SQL type recorded
//!   in the metadata (the source column's); the load stage has to check that.
//! * **Values the column cannot hold exactly are refused**, never rounded, with a
//!   [`ValueError`](super::ValueError) naming the column, the row and the value, as [`literal`](super::literal)
//!   refuses them: [`ValueError::Inexact`](super::ValueError::Inexact) for a `datetime` off its 1/300 s ticks (milliseconds
//!   that do not end in 0, 3 or 7: ticks print as `.000`, `.003`, `.007`, `.010`, …, so
//!   every 10 ms are exactly 3 ticks), a `smalldatetime` with seconds, and a
//!   `datetime2(p)`/`time(p)`/`datetimeoffset(p)` with digits beyond `p`;
//!   [`ValueError::OutOfRange`](super::ValueError::OutOfRange) for a decimal with more digits than its precision (Arrow does
//!   not check it), money outside 64 bits (`smallmoney`: 32 bits) of ten-thousandths, and
//!   dates outside the type's range (`datetime` 1753-01-01 ..= 9999-12-31, `smalldatetime`
//!   1900-01-01 ..= 2079-06-06, the others 0001-01-01 ..= 9999-12-31);
//!   [`ValueError::NonFinite`](super::ValueError::NonFinite) for NaN and ±∞. `tiberius` would otherwise round, truncate,
//!   panic (`Date::new` beyond 24 bits) or send a value the server rejects, without naming
//!   the row.
//! * **`datetimeoffset` is sent as UTC.** On the wire (MS-TDS) and on disk, the date and time
//!   of a `datetimeoffset` are the UTC instant and the offset is kept beside it; the text
//!   `2021-06-11T18:00:01-06:00` is sent as 2021-06-12 00:00:01 and -360 minutes. A value
//!   whose UTC instant falls outside 0001-01-01 ..= 9999-12-31 (e.g.
//!   `0001-01-01T00:00:00+14:00`) has no wire form (the day count is unsigned) and is refused
//!   as [`ValueError::OutOfRange`](super::ValueError::OutOfRange). The text is parsed
//!   with the work directory's ISO parsers ([`bptmig_workdir::iso`]); `Z` and a space before the offset or for the `T` are
//!   accepted, as [`literal`](super::literal) accepts them.
//! * **GUID text is parsed strictly** (`8-4-4-4-12` hex digits of either case, nothing else):
//!   the [`Uuid`](tiberius::Uuid) holds the bytes in text order and `tiberius` reorders them into SQL Server's
//!   mixed-endian wire form, so the server prints the same text.
//! * **Text is sent as it is**, NUL, CR/LF and astral characters included (no literal rules
//!   apply here). `tiberius` encodes it as UTF-16 for `nchar`/`nvarchar`/`ntext` columns and in
//!   the column collation's code page for `char`/`varchar`/`text`, where a character the code
//!   page lacks fails the `send` (`tiberius::error::Error::Encoding`) instead of becoming `?`.
//!
//! # Allocation
//!
//! One `TokenRow` (a `Vec` of the columns) per row and an owned copy of every text and
//! binary value: `BulkLoadRequest<'a>::send` takes a `TokenRow<'a>` for the lifetime of the
//! whole request, which outlives the batches fed to it, so rows are `TokenRow<'static>`.
//! Nothing else allocates, except errors.

use std::borrow::Cow;

use tiberius::numeric::Numeric;
use tiberius::{ColumnData, TokenRow};

use super::bound::{BoundBatch, TypedArray};
use super::check;
use super::error::{Result, ValueProblem};

impl BoundBatch {
    /// The bulk-load row for `row` of the batch, one value per bound column.
    ///
    /// # Panics
    ///
    /// If `row >= self.num_rows()`, like indexing.
    pub fn bulk_row(&self, row: usize) -> Result<TokenRow<'static>> {
        let mut out = TokenRow::with_capacity(self.columns().len());
        for column in self.columns() {
            let value = column_data(&column.values, row).map_err(|p| column.error(p, row))?;
            out.push(value);
        }
        Ok(out)
    }
}

/// The NULL of a column's `ColumnData` variant.
fn null(values: &TypedArray) -> ColumnData<'static> {
    match values {
        TypedArray::TinyInt(_) => ColumnData::U8(None),
        TypedArray::SmallInt(_) => ColumnData::I16(None),
        TypedArray::Int(_) => ColumnData::I32(None),
        TypedArray::BigInt(_) => ColumnData::I64(None),
        TypedArray::Bit(_) => ColumnData::Bit(None),
        TypedArray::Decimal { .. } => ColumnData::Numeric(None),
        TypedArray::Float(_) => ColumnData::F64(None),
        TypedArray::Real(_) => ColumnData::F32(None),
        TypedArray::Text(_) => ColumnData::String(None),
        TypedArray::DateTime(_) => ColumnData::DateTime(None),
        TypedArray::SmallDateTime(_) => ColumnData::SmallDateTime(None),
        TypedArray::DateTime2 { .. } => ColumnData::DateTime2(None),
        TypedArray::Date(_) => ColumnData::Date(None),
        TypedArray::Time { .. } => ColumnData::Time(None),
        TypedArray::DateTimeOffset { .. } => ColumnData::DateTimeOffset(None),
        TypedArray::Guid(_) => ColumnData::Guid(None),
        TypedArray::Binary(_) => ColumnData::Binary(None),
    }
}

/// The value at `row`, checked as the insert writer checks it, in the form that stores it
/// exactly.
fn column_data(values: &TypedArray, row: usize) -> Result<ColumnData<'static>, ValueProblem> {
    if values.array().is_null(row) {
        return Ok(null(values));
    }
    Ok(match values {
        TypedArray::TinyInt(a) => ColumnData::U8(Some(a.value(row))),
        TypedArray::SmallInt(a) => ColumnData::I16(Some(a.value(row))),
        TypedArray::Int(a) => ColumnData::I32(Some(a.value(row))),
        TypedArray::BigInt(a) => ColumnData::I64(Some(a.value(row))),
        TypedArray::Bit(a) => ColumnData::Bit(Some(a.value(row))),
        TypedArray::Decimal {
            array,
            scale,
            range,
            limit,
        } => {
            let value = array.value(row);
            check::decimal(value, range, limit)?;
            ColumnData::Numeric(Some(Numeric::new_with_scale(value, *scale)))
        }
        TypedArray::Float(a) => {
            let value = a.value(row);
            check::finite(value)?;
            ColumnData::F64(Some(value))
        }
        TypedArray::Real(a) => {
            let value = a.value(row);
            check::finite(f64::from(value))?;
            ColumnData::F32(Some(value))
        }
        TypedArray::Text(a) => ColumnData::String(Some(Cow::Owned(a.value(row).to_owned()))),
        TypedArray::DateTime(a) => ColumnData::DateTime(Some(check::datetime(a.value(row))?)),
        TypedArray::SmallDateTime(a) => {
            ColumnData::SmallDateTime(Some(check::smalldatetime(a.value(row))?))
        }
        TypedArray::DateTime2 { array, scale } => {
            ColumnData::DateTime2(Some(check::datetime2(array.value(row), *scale)?))
        }
        TypedArray::Date(a) => ColumnData::Date(Some(check::date(i64::from(a.value(row)))?)),
        TypedArray::Time { array, scale } => {
            ColumnData::Time(Some(check::time_of_day(array.value(row), *scale)?))
        }
        TypedArray::DateTimeOffset { array, scale } => {
            ColumnData::DateTimeOffset(Some(check::datetimeoffset(array.value(row), *scale)?))
        }
        TypedArray::Guid(a) => ColumnData::Guid(Some(check::guid(a.value(row))?)),
        TypedArray::Binary(a) => ColumnData::Binary(Some(Cow::Owned(a.value(row).to_vec()))),
    })
}

#[cfg(test)]
mod tests;
