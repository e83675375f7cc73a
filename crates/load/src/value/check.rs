//! What the two ways of sending rows share: [`render`](crate::render) (SQL literals) and
//! [`bulk`](crate::bulk) (TDS bulk copy) bind a batch's columns to the SQL types recorded in
//! the field metadata (`bind_column`), check every value the same way against what its
//! column can hold exactly (the date/time and GUID functions below), and report the same
//! [`ValueError`], naming the column, the row and the value. Whichever strategy loads a row,
//! the same values are refused for the same reasons.

use std::ops::RangeInclusive;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use bptmig_workdir::iso::{parse_iso_date_days, parse_iso_time_ns};
use bptmig_workdir::sql_type::{SqlType, SQL_TYPE_METADATA_KEY};
use tiberius::time::{Date, DateTime, DateTime2, DateTimeOffset, SmallDateTime, Time};
use tiberius::Uuid;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;
const MILLIS_PER_MINUTE: i64 = 60_000;
const MILLIS_PER_DAY: i64 = 86_400_000;
/// Days from 0001-01-01 (the epoch of `date`, `datetime2`, `datetimeoffset`) to 1970-01-01
/// (Arrow's).
const DAYS_0001_TO_1970: i64 = 719_162;
/// Days from 1900-01-01 (the epoch of `datetime`, `smalldatetime`) to 1970-01-01.
const DAYS_1900_TO_1970: i64 = 25_567;
/// 0001-01-01 ..= 9999-12-31 in days since 0001-01-01.
const DATE_DAYS: RangeInclusive<i64> = 0..=3_652_058;
/// 1753-01-01 ..= 9999-12-31 in days since 1900-01-01: the dates of a `datetime`.
const DATETIME_DAYS: RangeInclusive<i64> = -53_690..=2_958_463;
/// SQL Server offsets span -14:00 ..= +14:00.
const MAX_OFFSET_MINUTES: i16 = 14 * 60;

const DATE_RANGE: &str = "0001-01-01 ..= 9999-12-31";
const DATETIMEOFFSET_TEXT: &str =
    "`yyyy-mm-ddThh:mi:ss[.fffffff]+hh:mm` datetimeoffset text with an offset within ±14:00";
const GUID_TEXT: &str = "an `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` GUID";

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

/// `Result` of this module.
pub type Result<T, E = ValueError> = std::result::Result<T, E>;

/// Column `name` of `batch` with the SQL type its field metadata records, checked against
/// the Arrow type that stores that SQL type.
pub(crate) fn bind_column(batch: &RecordBatch, name: &str) -> Result<(SqlType, ArrayRef)> {
    let schema = batch.schema();
    let (index, field) =
        schema
            .column_with_name(name)
            .ok_or_else(|| ValueError::MissingColumn {
                column: name.to_owned(),
            })?;
    let ddl =
        field
            .metadata()
            .get(SQL_TYPE_METADATA_KEY)
            .ok_or_else(|| ValueError::MissingSqlType {
                column: name.to_owned(),
            })?;
    let ty = SqlType::from_ddl(ddl).ok_or_else(|| ValueError::UnknownSqlType {
        column: name.to_owned(),
        ddl: ddl.clone(),
    })?;
    let array = batch.column(index).clone();
    if *array.data_type() != ty.arrow_type() {
        return Err(mismatch(name, ty, array.data_type()));
    }
    Ok((ty, array))
}

pub(crate) fn mismatch(name: &str, ty: SqlType, found: &DataType) -> ValueError {
    ValueError::Mismatch {
        column: name.to_owned(),
        expected: format!("`{}` for `{}`", ty.arrow_type(), ty.ddl()),
        found: found.to_string(),
    }
}

/// What went wrong with one value; turned into a [`ValueError`] (which allocates) only on
/// the error path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Problem {
    /// The array is not of the Arrow type binding accepted (cannot happen after it).
    Downcast,
    NonFinite,
    Inexact(&'static str),
    OutOfRange(&'static str),
    Malformed(&'static str),
}

impl Problem {
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
            Self::Downcast => mismatch(name, ty, array.data_type()),
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

/// The unscaled integers a `decimal`/`numeric`/`money`/`smallmoney` column holds, and that
/// range as an error message says it; `None` for other types.
pub(crate) fn decimal_range(ty: SqlType) -> Option<(RangeInclusive<i128>, &'static str)> {
    Some(match ty {
        SqlType::Decimal { precision, .. } => {
            // `from_ddl` keeps precision within 1..=38, whose 10^p fits an i128.
            let max = 10_i128
                .checked_pow(u32::from(precision))
                .map_or(i128::MAX, |limit| limit - 1);
            (-max..=max, "more digits than its precision")
        }
        SqlType::Money => (
            i128::from(i64::MIN)..=i128::from(i64::MAX),
            "-922337203685477.5808 ..= 922337203685477.5807",
        ),
        SqlType::SmallMoney => (
            i128::from(i32::MIN)..=i128::from(i32::MAX),
            "-214748.3648 ..= 214748.3647",
        ),
        _ => return None,
    })
}

/// A `datetime` from milliseconds since 1970, if it is on a 1/300 s tick and in range.
pub(crate) fn datetime(ms: i64) -> Result<DateTime, Problem> {
    let days = ms.div_euclid(MILLIS_PER_DAY) + DAYS_1900_TO_1970;
    let ms_of_day = ms.rem_euclid(MILLIS_PER_DAY);
    // Every 10 ms are exactly 3 ticks; the ticks between print as 3.33 → 3 and 6.67 → 7 ms.
    let tick_in_10_ms = match ms_of_day % 10 {
        0 => 0,
        3 => 1,
        7 => 2,
        _ => return Err(Problem::Inexact("not on a 1/300 s tick")),
    };
    if !DATETIME_DAYS.contains(&days) {
        return Err(Problem::OutOfRange("1753-01-01 ..= 9999-12-31"));
    }
    let ticks = ms_of_day / 10 * 3 + tick_in_10_ms;
    Ok(DateTime::new(days as i32, ticks as u32))
}

/// A `smalldatetime` from milliseconds since 1970, if it is a whole minute and in range.
pub(crate) fn smalldatetime(ms: i64) -> Result<SmallDateTime, Problem> {
    let ms_of_day = ms.rem_euclid(MILLIS_PER_DAY);
    if ms_of_day % MILLIS_PER_MINUTE != 0 {
        return Err(Problem::Inexact("not a whole minute"));
    }
    // 1900-01-01 ..= 2079-06-06 are exactly days 0 ..= u16::MAX.
    let days = u16::try_from(ms.div_euclid(MILLIS_PER_DAY) + DAYS_1900_TO_1970)
        .map_err(|_| Problem::OutOfRange("1900-01-01 ..= 2079-06-06"))?;
    Ok(SmallDateTime::new(
        days,
        (ms_of_day / MILLIS_PER_MINUTE) as u16,
    ))
}

/// A `date` from days since 1970, if in 0001-01-01 ..= 9999-12-31 (which also keeps
/// `Date::new` from panicking beyond 24 bits).
pub(crate) fn date(days_since_1970: i64) -> Result<Date, Problem> {
    let days = days_since_1970 + DAYS_0001_TO_1970;
    if !DATE_DAYS.contains(&days) {
        return Err(Problem::OutOfRange(DATE_RANGE));
    }
    Ok(Date::new(days as u32))
}

/// A `time(scale)` from nanoseconds of the day (in `0..NANOS_PER_DAY`), if it has no digits
/// beyond `scale`.
pub(crate) fn time(nanos_of_day: i64, scale: u8) -> Result<Time, Problem> {
    // `from_ddl` keeps scales within 0..=7.
    let unit = 10_i64.pow(9_u32.saturating_sub(u32::from(scale)));
    if nanos_of_day % unit != 0 {
        return Err(Problem::Inexact(
            "more fraction digits than the column's scale",
        ));
    }
    Ok(Time::new((nanos_of_day / unit) as u64, scale))
}

/// A `datetime2(scale)` from nanoseconds since 1970, if in range with no digits beyond
/// `scale`.
pub(crate) fn datetime2(ns: i64, scale: u8) -> Result<DateTime2, Problem> {
    let date = date(ns.div_euclid(NANOS_PER_DAY))?;
    let time = time(ns.rem_euclid(NANOS_PER_DAY), scale)?;
    Ok(DateTime2::new(date, time))
}

/// A `time(scale)` from nanoseconds since midnight, if within the day with no digits beyond
/// `scale`.
pub(crate) fn time_of_day(ns: i64, scale: u8) -> Result<Time, Problem> {
    if !(0..NANOS_PER_DAY).contains(&ns) {
        return Err(Problem::OutOfRange("00:00:00 ..< 24:00:00"));
    }
    time(ns, scale)
}

/// A `datetimeoffset(scale)` from its text: the UTC date and time, and the offset.
pub(crate) fn datetimeoffset(text: &str, scale: u8) -> Result<DateTimeOffset, Problem> {
    let (local_days, local_nanos, offset_minutes) =
        parse_datetimeoffset(text).ok_or(Problem::Malformed(DATETIMEOFFSET_TEXT))?;
    // Both fit an i64 easily: the shift is at most ±14 h, the days at most ±3 million.
    let shifted = local_nanos - i64::from(offset_minutes) * NANOS_PER_MINUTE;
    let utc_days = local_days + shifted.div_euclid(NANOS_PER_DAY);
    let date =
        date(utc_days).map_err(|_| Problem::OutOfRange("0001-01-01 ..= 9999-12-31 in UTC"))?;
    // A whole-minute offset leaves the fraction as it is.
    let time = time(shifted.rem_euclid(NANOS_PER_DAY), scale)?;
    Ok(DateTimeOffset::new(
        DateTime2::new(date, time),
        offset_minutes,
    ))
}

/// `yyyy-mm-dd[T ]hh:mi:ss[.f…][ ](Z|±hh:mm)` → (local days since 1970, local nanoseconds of
/// the day, offset minutes east of UTC).
fn parse_datetimeoffset(text: &str) -> Option<(i64, i64, i16)> {
    // ASCII only, so that every byte position below is a character boundary.
    if !text.is_ascii() {
        return None;
    }
    let (local, offset) = match text.strip_suffix('Z') {
        Some(local) => (local, 0),
        None => {
            let (local, offset) = text.split_at(text.len().checked_sub(6)?);
            (local, parse_offset(offset.as_bytes())?)
        }
    };
    let local = local.strip_suffix(' ').unwrap_or(local);
    if !matches!(local.as_bytes().get(10), Some(b'T' | b' ')) {
        return None;
    }
    let days = parse_iso_date_days(local.get(..10)?).ok()?;
    let nanos = parse_iso_time_ns(local.get(11..)?).ok()?;
    Some((i64::from(days), nanos, offset))
}

/// `±hh:mm` within ±14:00 → minutes east of UTC.
fn parse_offset(text: &[u8]) -> Option<i16> {
    let &[sign, h0, h1, b':', m0, m1] = text else {
        return None;
    };
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digit = |b: u8| b.is_ascii_digit().then(|| i16::from(b - b'0'));
    let hours = digit(h0)? * 10 + digit(h1)?;
    let minutes = digit(m0)? * 10 + digit(m1)?;
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= MAX_OFFSET_MINUTES).then_some(sign * total)
}

/// `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` (hex digits of either case) → its bytes in text
/// order. Stricter than `Uuid::parse_str`, which also takes braces, `urn:uuid:` and no dashes.
pub(crate) fn guid(text: &str) -> Result<Uuid, Problem> {
    parse_guid(text).ok_or(Problem::Malformed(GUID_TEXT))
}

fn parse_guid(text: &str) -> Option<Uuid> {
    let text = text.as_bytes();
    if text.len() != 36 {
        return None;
    }
    let mut bytes = [0_u8; 16];
    let mut nibble = 0;
    for (i, &c) in text.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let value = char::from(c).to_digit(16)? as u8;
        // 36 characters less 4 dashes are exactly 32 nibbles.
        bytes[nibble / 2] = bytes[nibble / 2] << 4 | value;
        nibble += 1;
    }
    Some(Uuid::from_bytes(bytes))
}
