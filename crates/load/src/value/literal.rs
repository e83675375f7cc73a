//! Exact SQL literals for Arrow values, for multi-row `INSERT … VALUES` statements.
//!
//! [`render`] appends the literal of one value; [`RowRenderer`] binds the columns of one
//! `RecordBatch` (their SQL types read once from the field metadata
//! [`SQL_TYPE_METADATA_KEY`](bptmig_workdir::sql_type::SQL_TYPE_METADATA_KEY)) and appends whole rows as `(v1, v2, …)`.
//!
//! # The literals
//!
//! Every literal stores exactly the value it was rendered from, on SQL Server and on the
//! sandbox server (`iridium_server`), and is independent of the session's language and
//! date format:
//!
//! | SQL type | literal |
//! |---|---|
//! | any, NULL | `NULL` |
//! | `tinyint` … `bigint` | `-42` |
//! | `bit` | `0`, `1` |
//! | `decimal`, `numeric`, `money`, `smallmoney` | `-12.50000000` (every digit of the scale) |
//! | `float` | `1E-1`, `1.7976931348623157E308` |
//! | `real` | `1.0000000149011612E-1` (the `real` widened to `float`, see below) |
//! | `char` … `ntext` | `N'O''Brien'`, `N'a' + NCHAR(0) + N'b'` |
//! | `datetime`, `smalldatetime` | `CAST('2019-11-26T12:03:25.997' AS DATETIME)` |
//! | `datetime2(p)` | `CAST('2019-11-26T12:03:25.1234567' AS DATETIME2(7))` |
//! | `date` | `CAST('2019-11-26' AS DATE)` |
//! | `time(p)` | `CAST('12:03:25.1234567' AS TIME(7))` |
//! | `datetimeoffset(p)` | `CAST('2019-11-26T12:03:25.1234567+01:00' AS DATETIMEOFFSET(7))` |
//! | `uniqueidentifier` | `'FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0'` |
//! | `binary`, `varbinary`, `image` | `0x00FF`, `0x` (empty) |
//!
//! # Decisions
//!
//! * **Text is one `N''` literal with `'` doubled**, except for two sequences, where the
//!   value is split into pieces joined with `+`:
//!   * NUL is written as `NCHAR(0)`, so that statement text never contains a NUL (the sandbox
//!     accepts NUL inside a literal, but text tooling such as logs, traces and C-string APIs
//!     cuts at it);
//!   * a backslash followed by CR or LF ends its piece (`N'a\' + N'⏎b'`), because SQL Server
//!     reads backslash-newline inside a string constant as a line continuation and drops
//!     both (the sandbox does not, and accepts either form).
//!
//!   The pieces are joined as a balanced, parenthesised binary tree
//!   (`N'a' + (NCHAR(0) + N'b')`), ⌈log2 pieces⌉ deep: the sandbox refuses expressions more
//!   than 32 levels deep (`Maximum recursion depth (32) exceeded`, reached by ~50 chained
//!   `+`) and its parser overflows its stack on a few hundred. When a split value is longer
//!   than 4,000 bytes of UTF-8 every piece is `CAST(… AS NVARCHAR(MAX))`, because SQL Server
//!   truncates a concatenation of non-MAX strings at 4,000 characters. Every other character,
//!   including control characters, CR/LF and astral-plane characters, travels inside the
//!   literal. `NCHAR(n)` is never used for astral characters: SQL Server returns NULL for
//!   `n > 65535` without a supplementary-character collation.
//! * **Floats are written in E notation** with the shortest digits that round-trip, so that
//!   SQL Server types the literal as `float` (a literal without an exponent is a `decimal`
//!   and would be converted). A `real` is widened to `f64` first (exactly) and written with
//!   the shortest digits of that `f64`: parsing the shortest *`f32`* digits as a `float` and
//!   narrowing would round twice, which can land on the neighbouring `real`. NaN and ±∞ have no
//!   SQL Server representation and are refused.
//! * **Date/times are `CAST` from ISO text** (the `T` form is language-independent), printed
//!   by the extract's formatters. A zero fraction is left out (`'2019-11-26T12:03:25'`),
//!   because the sandbox rejects every `datetime` literal with a fraction, `.000` included;
//!   real fractions are needed for exactness on SQL Server and fail on the sandbox.
//! * **Every value is checked as [`bulk`](crate::bulk) checks it**, by the same functions
//!   ([`crate::value`]): a value its column cannot hold exactly (a `datetime` off its 1/300 s
//!   ticks, a `smalldatetime` with seconds, a `datetime2(p)`/`time(p)`/`datetimeoffset(p)` with
//!   digits beyond `p`), or outside its type's range (dates, decimal precision, money), is
//!   refused here, naming the row, rather than rounded or refused by the server. Whichever
//!   strategy loads a row, the same values are refused for the same reasons.
//! * **GUIDs and `datetimeoffset` text are parsed** before they are quoted, so malformed
//!   text is reported here and can never end a quoted literal early.
//!
//! The sandbox does not parse `DATETIME2(p)`, `TIME(p)` or `DATETIMEOFFSET(p)` in a `CAST`,
//! so those literals are proven by unit tests only.
//!
//! # Allocation
//!
//! Rendering appends to the caller's `String` and allocates nothing else, except that the
//! date/time formatters of `bptmig_extract::types` return a short `String` per date/time
//! value, and an error allocates its message fields.

use std::fmt::Write as _;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int16Array, Int32Array, Int64Array, StringArray, Time64NanosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, UInt8Array,
};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use bptmig_workdir::iso::{
    format_iso_date_days, format_iso_datetime_ms, format_iso_datetime_ns, format_iso_time_ns,
};
use bptmig_workdir::sql_type::SqlType;

use crate::value::{self, bind_column, Problem, Result};

/// The column name [`render`] reports, which does not know it; [`RowRenderer`] names columns.
const UNNAMED: &str = "?";
/// Beyond this many bytes of UTF-8 a text value may exceed 4,000 UTF-16 units, where SQL
/// Server truncates a concatenation of non-MAX strings.
const MAX_NON_MAX_CONCAT_BYTES: usize = 4_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends the SQL literal of `column[row]` (of SQL type `ty`) to `out`; no allocation beyond
/// `out`'s growth (but see the module docs for date/times). Errors name the column `?`; use
/// [`RowRenderer`] for named columns.
pub fn render(out: &mut String, ty: SqlType, column: &dyn Array, row: usize) -> Result<()> {
    check_type(UNNAMED, ty, column.data_type())?;
    render_checked(out, ty, column, row).map_err(|p| p.into_error(UNNAMED, ty, column, row))
}

/// Renders rows of one `RecordBatch` as `(v1, v2, …)`, for the columns it was built with.
#[derive(Debug, Clone)]
pub struct RowRenderer {
    columns: Vec<BoundColumn>,
}

#[derive(Debug, Clone)]
struct BoundColumn {
    name: String,
    ty: SqlType,
    array: ArrayRef,
}

impl RowRenderer {
    /// Binds `columns` (in this order) of `batch`, reading each SQL type from the field
    /// metadata and checking the Arrow type against it.
    pub fn new(batch: &RecordBatch, columns: &[&str]) -> Result<Self> {
        let columns = columns
            .iter()
            .map(|&name| {
                let (ty, array) = bind_column(batch, name)?;
                Ok(BoundColumn {
                    name: name.to_owned(),
                    ty,
                    array,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { columns })
    }

    /// Number of rows of the bound batch.
    pub fn num_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.array.len())
    }

    /// Appends `(v1, v2, …)` for `row` to `out`. On error `out` holds a partial row; the
    /// caller discards the statement.
    pub fn render_row(&self, out: &mut String, row: usize) -> Result<()> {
        out.push('(');
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            render_checked(out, column.ty, column.array.as_ref(), row)
                .map_err(|p| p.into_error(&column.name, column.ty, column.array.as_ref(), row))?;
        }
        out.push(')');
        Ok(())
    }
}

fn check_type(name: &str, ty: SqlType, found: &DataType) -> Result<()> {
    if *found == ty.arrow_type() {
        Ok(())
    } else {
        Err(value::mismatch(name, ty, found))
    }
}

/// Renders a value of an array whose type `check_type` accepted.
fn render_checked(
    out: &mut String,
    ty: SqlType,
    array: &dyn Array,
    row: usize,
) -> Result<(), Problem> {
    if array.is_null(row) {
        out.push_str("NULL");
        return Ok(());
    }
    let any = array.as_any();
    macro_rules! value {
        ($array:ty) => {
            any.downcast_ref::<$array>()
                .ok_or(Problem::Downcast)?
                .value(row)
        };
    }
    match ty {
        SqlType::TinyInt => push_display(out, value!(UInt8Array)),
        SqlType::SmallInt => push_display(out, value!(Int16Array)),
        SqlType::Int => push_display(out, value!(Int32Array)),
        SqlType::BigInt => push_display(out, value!(Int64Array)),
        SqlType::Bit => out.push(if value!(BooleanArray) { '1' } else { '0' }),
        SqlType::Decimal { .. } | SqlType::Money | SqlType::SmallMoney => {
            let value = value!(Decimal128Array);
            let scale = match ty {
                SqlType::Decimal { scale, .. } => scale.unsigned_abs(),
                _ => 4,
            };
            if let Some((range, limit)) = value::decimal_range(ty) {
                if !range.contains(&value) {
                    return Err(Problem::OutOfRange(limit));
                }
            }
            push_decimal(out, value, scale);
        }
        SqlType::Float => push_float(out, value!(Float64Array))?,
        // Widening is exact; see the module docs for why not the shortest `f32` digits.
        SqlType::Real => push_float(out, f64::from(value!(Float32Array)))?,
        SqlType::Char { .. }
        | SqlType::VarChar { .. }
        | SqlType::NChar { .. }
        | SqlType::NVarChar { .. }
        | SqlType::Text
        | SqlType::NText => push_text(out, value!(StringArray)),
        SqlType::DateTime => {
            let ms = value!(TimestampMillisecondArray);
            value::datetime(ms)?;
            push_datetime_ms(out, ms, "DATETIME");
        }
        SqlType::SmallDateTime => {
            let ms = value!(TimestampMillisecondArray);
            value::smalldatetime(ms)?;
            push_datetime_ms(out, ms, "SMALLDATETIME");
        }
        SqlType::DateTime2 { scale } => {
            let ns = value!(TimestampNanosecondArray);
            value::datetime2(ns, scale)?;
            out.push_str("CAST('");
            out.push_str(&format_iso_datetime_ns(ns, fraction_digits(ns, scale)));
            push_cast_end(out, "DATETIME2", Some(scale));
        }
        SqlType::Date => {
            let days = value!(Date32Array);
            value::date(i64::from(days))?;
            out.push_str("CAST('");
            out.push_str(&format_iso_date_days(days));
            push_cast_end(out, "DATE", None);
        }
        SqlType::Time { scale } => {
            let ns = value!(Time64NanosecondArray);
            value::time_of_day(ns, scale)?;
            out.push_str("CAST('");
            out.push_str(&format_iso_time_ns(ns, fraction_digits(ns, scale)));
            push_cast_end(out, "TIME", Some(scale));
        }
        SqlType::DateTimeOffset { scale } => {
            let text = value!(StringArray);
            // Checked in full (ranges, offset, digits beyond the scale), like `bulk`: the
            // text then goes into the literal as it is, and cannot end the quote.
            value::datetimeoffset(text, scale)?;
            out.push_str("CAST('");
            out.push_str(text);
            push_cast_end(out, "DATETIMEOFFSET", Some(scale));
        }
        SqlType::UniqueIdentifier => {
            let text = value!(StringArray);
            value::guid(text)?;
            out.push('\'');
            out.push_str(text);
            out.push('\'');
        }
        SqlType::Binary { .. } | SqlType::VarBinary { .. } | SqlType::Image => {
            push_hex(out, value!(BinaryArray));
        }
    }
    Ok(())
}

fn push_display(out: &mut String, value: impl std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{value}");
}

/// `value` × 10^-`scale` with every digit of the scale: `-12.50000000`, `0.00000005`, `7`.
fn push_decimal(out: &mut String, value: i128, scale: u8) {
    // u128::MAX has 39 digits.
    let mut buf = [0u8; 39];
    let mut n = value.unsigned_abs();
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = &buf[start..];
    let scale = usize::from(scale);
    if value < 0 {
        out.push('-');
    }
    let push_digits = |out: &mut String, digits: &[u8]| {
        out.extend(digits.iter().map(|&d| char::from(d)));
    };
    if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        push_digits(out, int);
        if scale > 0 {
            out.push('.');
            push_digits(out, frac);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        push_digits(out, digits);
    }
}

/// A `float` literal in E notation with the shortest round-trip digits.
fn push_float(out: &mut String, value: f64) -> Result<(), Problem> {
    if !value.is_finite() {
        return Err(Problem::NonFinite);
    }
    // `{:E}` prints the shortest digits that parse back to `value`, always with an exponent,
    // which makes SQL Server type the literal as `float`.
    let _ = write!(out, "{value:E}");
    Ok(())
}

/// `N'…'` with `'` doubled, split around NUL and backslash-newline (see the module docs).
fn push_text(out: &mut String, text: &str) {
    if !text.bytes().any(|b| b == 0 || b == b'\\') {
        // The common case: one literal.
        push_literal(out, text, false);
        return;
    }
    let pieces = Pieces { rest: text }.count();
    let max = text.len() > MAX_NON_MAX_CONCAT_BYTES;
    push_piece_tree(out, &mut Pieces { rest: text }, pieces, max, false);
}

/// The pieces of a split text value, in order: runs of characters to quote, and NULs.
struct Pieces<'a> {
    rest: &'a str,
}

#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    Run(&'a str),
    Nul,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let b = self.rest.as_bytes();
        let first = *b.first()?;
        if first == 0 {
            self.rest = &self.rest[1..];
            return Some(Piece::Nul);
        }
        // NUL, backslash, CR and LF are ASCII, so byte positions are character boundaries.
        let end = (0..b.len())
            .find(|&i| b[i] == 0 || (i > 0 && b[i - 1] == b'\\' && matches!(b[i], b'\r' | b'\n')))
            .unwrap_or(b.len());
        let (run, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(Piece::Run(run))
    }
}

/// Appends the next `count` pieces joined with ` + ` as a balanced binary tree, so that the
/// expression is ⌈log2 count⌉ deep rather than `count` (the sandbox evaluates at most 32
/// levels and its parser overflows its stack on a few hundred chained `+`). `max` casts every
/// piece to `NVARCHAR(MAX)`, so that no concatenation is truncated at 4,000 characters.
fn push_piece_tree(
    out: &mut String,
    pieces: &mut Pieces<'_>,
    count: usize,
    max: bool,
    nested: bool,
) {
    if count <= 1 {
        match pieces.next() {
            Some(Piece::Run(run)) => push_literal(out, run, max),
            Some(Piece::Nul) if max => out.push_str("CAST(NCHAR(0) AS NVARCHAR(MAX))"),
            Some(Piece::Nul) => out.push_str("NCHAR(0)"),
            None => {}
        }
        return;
    }
    if nested {
        out.push('(');
    }
    let left = count / 2;
    push_piece_tree(out, pieces, left, max, true);
    out.push_str(" + ");
    push_piece_tree(out, pieces, count - left, max, true);
    if nested {
        out.push(')');
    }
}

/// `N'…'`, or `CAST(N'…' AS NVARCHAR(MAX))`.
fn push_literal(out: &mut String, text: &str, max: bool) {
    out.push_str(if max { "CAST(N'" } else { "N'" });
    push_quoted_run(out, text);
    out.push_str(if max { "' AS NVARCHAR(MAX))" } else { "'" });
}

/// Appends `text` with every `'` doubled, copying the runs between quotes whole.
fn push_quoted_run(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(quote) = rest.find('\'') {
        out.push_str(&rest[..=quote]);
        out.push('\'');
        rest = &rest[quote + 1..];
    }
    out.push_str(rest);
}

/// `CAST('…' AS DATETIME)`, without a fraction when it is zero.
fn push_datetime_ms(out: &mut String, ms: i64, sql_type: &str) {
    let text = format_iso_datetime_ms(ms);
    let text = if ms.rem_euclid(1_000) == 0 {
        // `format_iso_datetime_ms` always prints `.mmm`; the sandbox rejects `.000`.
        text.strip_suffix(".000").unwrap_or(&text)
    } else {
        &text
    };
    out.push_str("CAST('");
    out.push_str(text);
    push_cast_end(out, sql_type, None);
}

/// `' AS TYPE)` or `' AS TYPE(p))`.
fn push_cast_end(out: &mut String, sql_type: &str, scale: Option<u8>) {
    out.push_str("' AS ");
    out.push_str(sql_type);
    if let Some(scale) = scale {
        let _ = write!(out, "({scale})");
    }
    out.push(')');
}

/// The fraction digits to print for `ns` in a column of `scale` digits (already checked to
/// have none beyond it): none for whole seconds, else `scale`.
fn fraction_digits(ns: i64, scale: u8) -> u8 {
    if ns.rem_euclid(NANOS_PER_SECOND) == 0 {
        0
    } else {
        scale
    }
}

/// `0x` and two upper-case hex digits per byte.
fn push_hex(out: &mut String, bytes: &[u8]) {
    out.reserve(2 + 2 * bytes.len());
    out.push_str("0x");
    for &b in bytes {
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0xF)]));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow::array::{
        BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
        Int16Array, Int32Array, Int64Array, StringArray, Time64NanosecondArray,
        TimestampMillisecondArray, TimestampNanosecondArray, UInt8Array,
    };
    use arrow::datatypes::{Field, Schema};
    use bptmig_workdir::iso::{parse_iso_date_days, parse_iso_datetime_ns, parse_iso_time_ns};
    use bptmig_workdir::sql_type::SQL_TYPE_METADATA_KEY;

    use super::*;
    use crate::value::ValueError;

    fn one(ty: SqlType, array: &dyn Array, row: usize) -> String {
        let mut out = String::new();
        render(&mut out, ty, array, row).unwrap();
        out
    }

    fn all(ty: SqlType, array: &dyn Array) -> Vec<String> {
        (0..array.len()).map(|row| one(ty, array, row)).collect()
    }

    /// Milliseconds since 1970 (parsed by parts: nanoseconds end in 2262).
    fn ms(iso: &str) -> i64 {
        let (date, time) = iso.split_once('T').unwrap();
        i64::from(parse_iso_date_days(date).unwrap()) * 86_400_000
            + parse_iso_time_ns(time).unwrap() / 1_000_000
    }

    fn ns(iso: &str) -> i64 {
        parse_iso_datetime_ns(iso).unwrap()
    }

    fn dec(p: u8, s: i8, values: &[Option<i128>]) -> Decimal128Array {
        Decimal128Array::from(values.to_vec())
            .with_precision_and_scale(p, s)
            .unwrap()
    }

    #[test]
    fn integers_and_bits() {
        let tiny = UInt8Array::from(vec![Some(0), Some(255), None]);
        assert_eq!(all(SqlType::TinyInt, &tiny), ["0", "255", "NULL"]);
        let small = Int16Array::from(vec![Some(i16::MIN), Some(i16::MAX), None]);
        assert_eq!(all(SqlType::SmallInt, &small), ["-32768", "32767", "NULL"]);
        let int = Int32Array::from(vec![Some(i32::MIN), Some(i32::MAX), Some(0), None]);
        assert_eq!(
            all(SqlType::Int, &int),
            ["-2147483648", "2147483647", "0", "NULL"]
        );
        let big = Int64Array::from(vec![Some(i64::MIN), Some(i64::MAX), None]);
        assert_eq!(
            all(SqlType::BigInt, &big),
            ["-9223372036854775808", "9223372036854775807", "NULL"]
        );
        let bit = BooleanArray::from(vec![Some(true), Some(false), None]);
        assert_eq!(all(SqlType::Bit, &bit), ["1", "0", "NULL"]);
    }

    #[test]
    fn decimals_keep_every_digit() {
        let ty = SqlType::Decimal {
            precision: 37,
            scale: 8,
        };
        let max37 = 10_i128.pow(37) - 1;
        let array = dec(
            37,
            8,
            &[
                Some(-1_250_000_000),
                Some(5),
                Some(0),
                Some(max37),
                Some(-max37),
                Some(100_000_000),
                None,
            ],
        );
        assert_eq!(
            all(ty, &array),
            [
                "-12.50000000",
                "0.00000005",
                "0.00000000",
                "99999999999999999999999999999.99999999",
                "-99999999999999999999999999999.99999999",
                "1.00000000",
                "NULL"
            ]
        );
        let max38 = 10_i128.pow(38) - 1;
        let ty38 = SqlType::Decimal {
            precision: 38,
            scale: 0,
        };
        let array = dec(38, 0, &[Some(max38), Some(-max38), Some(-7)]);
        assert_eq!(
            all(ty38, &array),
            [
                "99999999999999999999999999999999999999",
                "-99999999999999999999999999999999999999",
                "-7"
            ]
        );
        let ty38_38 = SqlType::Decimal {
            precision: 38,
            scale: 38,
        };
        let array = dec(38, 38, &[Some(max38), Some(-1)]);
        assert_eq!(
            all(ty38_38, &array),
            [
                "0.99999999999999999999999999999999999999",
                "-0.00000000000000000000000000000000000001"
            ]
        );
        let money = dec(
            19,
            4,
            &[Some(i64::MIN.into()), Some(i64::MAX.into()), Some(-1)],
        );
        assert_eq!(
            all(SqlType::Money, &money),
            ["-922337203685477.5808", "922337203685477.5807", "-0.0001"]
        );
        let small = dec(10, 4, &[Some(i32::MIN.into())]);
        assert_eq!(all(SqlType::SmallMoney, &small), ["-214748.3648"]);
    }

    #[test]
    fn floats_are_shortest_e_notation_and_round_trip() {
        let values = [
            0.1,
            -0.0,
            0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            1e308,
            std::f64::consts::PI,
            -1.5,
            123_456_789.0,
        ];
        let array = Float64Array::from(values.to_vec());
        let text = all(SqlType::Float, &array);
        assert_eq!(text[0], "1E-1");
        assert_eq!(text[1], "-0E0");
        assert_eq!(text[3], "1.7976931348623157E308");
        assert_eq!(text[6], "5E-324");
        assert_eq!(text[7], "1E308");
        assert_eq!(text[10], "1.23456789E8");
        for (t, v) in text.iter().zip(values) {
            assert!(t.contains('E'), "{t}");
            assert_eq!(t.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{t}");
        }
        let reals = [0.1_f32, f32::MAX, f32::MIN_POSITIVE, -2.5, 16_777_217.0];
        let array = Float32Array::from(reals.to_vec());
        let text = all(SqlType::Real, &array);
        assert_eq!(text[0], "1.0000000149011612E-1");
        assert_eq!(text[3], "-2.5E0");
        for (t, v) in text.iter().zip(reals) {
            // Exact as a float, and narrowing that float gives back the real.
            let wide = t.parse::<f64>().unwrap();
            assert_eq!(wide.to_bits(), f64::from(v).to_bits(), "{t}");
            assert_eq!((wide as f32).to_bits(), v.to_bits(), "{t}");
        }
        let nulls = Float64Array::from(vec![None]);
        assert_eq!(all(SqlType::Float, &nulls), ["NULL"]);
    }

    #[test]
    fn non_finite_floats_are_refused() {
        let array = Float64Array::from(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        for row in 0..3 {
            let err = render(&mut String::new(), SqlType::Float, &array, row).unwrap_err();
            assert!(matches!(err, ValueError::NonFinite { row: r, .. } if r == row));
        }
        let array = Float32Array::from(vec![f32::NAN]);
        let err = render(&mut String::new(), SqlType::Real, &array, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column `?` row 0: `NaN` cannot be stored in SQL Server `REAL`"
        );
    }

    #[test]
    fn text_quotes_and_characters() {
        let ty = SqlType::NVarChar { len: None };
        let array = StringArray::from(vec![
            Some("O'Brien"),
            Some(""),
            Some("''"),
            Some("日本🚀😀\u{10FFFF}"),
            Some("tab\tcr\rlf\n\u{1}\u{1F}\u{7F}\u{85}"),
            Some("a\0b"),
            Some("\0"),
            Some("a\\\nb"),
            Some("a\\\r\nb"),
            Some("a\\b\\"),
            Some("\\\\\n'\0'"),
            None,
        ]);
        assert_eq!(
            all(ty, &array),
            [
                "N'O''Brien'",
                "N''",
                "N''''''",
                "N'日本🚀😀\u{10FFFF}'",
                "N'tab\tcr\rlf\n\u{1}\u{1F}\u{7F}\u{85}'",
                "N'a' + (NCHAR(0) + N'b')",
                "NCHAR(0)",
                "N'a\\' + N'\nb'",
                "N'a\\' + N'\r\nb'",
                "N'a\\b\\'",
                "(N'\\\\' + N'\n''') + (NCHAR(0) + N'''')",
                "NULL",
            ]
        );
        // Every text type renders alike.
        for ty in [
            SqlType::Char { len: 7 },
            SqlType::VarChar { len: Some(10) },
            SqlType::NChar { len: 7 },
            SqlType::Text,
            SqlType::NText,
        ] {
            assert_eq!(one(ty, &array, 0), "N'O''Brien'");
        }
    }

    #[test]
    fn long_text_is_one_literal_or_a_max_concatenation() {
        let ty = SqlType::NVarChar { len: None };
        let long = "x'😀".repeat(3_000);
        let with_nul = format!("{long}\0{long}");
        let array = StringArray::from(vec![long.as_str(), with_nul.as_str()]);
        let plain = one(ty, &array, 0);
        assert!(plain.starts_with("N'x''😀"));
        assert_eq!(parse_literal(&plain), long);
        let split = one(ty, &array, 1);
        assert!(split.starts_with("CAST(N'x''😀"));
        assert!(split.contains("' AS NVARCHAR(MAX)) + (CAST(NCHAR(0) AS NVARCHAR(MAX)) + CAST(N'x"));
        assert_eq!(parse_literal(&split), with_nul);
        // Short split values need no CAST.
        let array = StringArray::from(vec!["a".repeat(3_999) + "\0"]);
        assert!(one(ty, &array, 0).starts_with("N'aaa"));
        // Many pieces make a shallow tree.
        let many = "a\0".repeat(2_000);
        let array = StringArray::from(vec![many.as_str()]);
        let sql = one(ty, &array, 0);
        assert_eq!(parse_literal(&sql), many);
        assert_eq!(max_paren_depth(&sql), 11); // 4,000 pieces: ⌈log2 4,000⌉ - 1 levels of `(`
    }

    #[test]
    fn datetimes_whole_seconds_when_the_fraction_is_zero() {
        let array = TimestampMillisecondArray::from(vec![
            Some(ms("2019-11-26T12:03:25")),
            Some(ms("2019-11-26T12:03:25.003")),
            Some(ms("2019-11-26T12:03:25.997")),
            Some(ms("2019-11-26T12:03:25.010")),
            Some(ms("1753-01-01T00:00:00")),
            Some(ms("9999-12-31T23:59:59.997")),
            None,
        ]);
        assert_eq!(
            all(SqlType::DateTime, &array),
            [
                "CAST('2019-11-26T12:03:25' AS DATETIME)",
                "CAST('2019-11-26T12:03:25.003' AS DATETIME)",
                "CAST('2019-11-26T12:03:25.997' AS DATETIME)",
                "CAST('2019-11-26T12:03:25.010' AS DATETIME)",
                "CAST('1753-01-01T00:00:00' AS DATETIME)",
                "CAST('9999-12-31T23:59:59.997' AS DATETIME)",
                "NULL",
            ]
        );
        let off_tick = TimestampMillisecondArray::from(vec![ms("2019-11-26T12:03:25.001")]);
        let err = render(&mut String::new(), SqlType::DateTime, &off_tick, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column `?` row 0: `2019-11-26T12:03:25.001` is not an exact `DATETIME` value (not \
             on a 1/300 s tick); it would be rounded, so the transform must produce \
             values of the target type"
        );
        let small = TimestampMillisecondArray::from(vec![
            ms("2079-06-06T23:59:00"),
            ms("2019-11-26T12:03:25"),
        ]);
        assert_eq!(
            one(SqlType::SmallDateTime, &small, 0),
            "CAST('2079-06-06T23:59:00' AS SMALLDATETIME)"
        );
        assert!(matches!(
            render(&mut String::new(), SqlType::SmallDateTime, &small, 1),
            Err(ValueError::Inexact { .. })
        ));
    }

    #[test]
    fn datetime2_date_time_and_offsets() {
        let ty = SqlType::DateTime2 { scale: 7 };
        let array = TimestampNanosecondArray::from(vec![
            Some(ns("2019-11-26T12:03:25.1234567")),
            Some(ns("1970-01-01T00:00:00.0000001")),
            Some(ns("1900-01-01T00:00:00")),
            Some(ns("1677-09-21T00:12:43.1452242")),
            Some(ns("2019-11-26T12:03:25.5")),
            None,
        ]);
        assert_eq!(
            all(ty, &array),
            [
                "CAST('2019-11-26T12:03:25.1234567' AS DATETIME2(7))",
                "CAST('1970-01-01T00:00:00.0000001' AS DATETIME2(7))",
                "CAST('1900-01-01T00:00:00' AS DATETIME2(7))",
                "CAST('1677-09-21T00:12:43.1452242' AS DATETIME2(7))",
                "CAST('2019-11-26T12:03:25.5000000' AS DATETIME2(7))",
                "NULL",
            ]
        );
        let ty3 = SqlType::DateTime2 { scale: 3 };
        assert_eq!(
            one(ty3, &array, 4),
            "CAST('2019-11-26T12:03:25.500' AS DATETIME2(3))"
        );
        assert!(matches!(
            render(&mut String::new(), ty3, &array, 0),
            Err(ValueError::Inexact { .. })
        ));
        assert_eq!(
            one(SqlType::DateTime2 { scale: 0 }, &array, 2),
            "CAST('1900-01-01T00:00:00' AS DATETIME2(0))"
        );

        let days = Date32Array::from(vec![
            Some(parse_iso_date_days("0001-01-01").unwrap()),
            Some(parse_iso_date_days("9999-12-31").unwrap()),
            None,
        ]);
        assert_eq!(
            all(SqlType::Date, &days),
            [
                "CAST('0001-01-01' AS DATE)",
                "CAST('9999-12-31' AS DATE)",
                "NULL"
            ]
        );

        let times = Time64NanosecondArray::from(vec![
            Some(parse_iso_time_ns("23:59:59.9999999").unwrap()),
            Some(parse_iso_time_ns("00:00:00").unwrap()),
            Some(parse_iso_time_ns("12:03:25.25").unwrap()),
            None,
        ]);
        assert_eq!(
            all(SqlType::Time { scale: 7 }, &times),
            [
                "CAST('23:59:59.9999999' AS TIME(7))",
                "CAST('00:00:00' AS TIME(7))",
                "CAST('12:03:25.2500000' AS TIME(7))",
                "NULL"
            ]
        );
        assert_eq!(
            one(SqlType::Time { scale: 2 }, &times, 2),
            "CAST('12:03:25.25' AS TIME(2))"
        );

        let dto = SqlType::DateTimeOffset { scale: 7 };
        let offsets = StringArray::from(vec![
            Some("2019-11-26T12:03:25.1234567+01:00"),
            Some("9999-12-31T23:59:59.9999999+14:00"),
            Some("2019-11-26 12:03:25 +00:00"),
            Some("2019-11-26T12:03:25Z"),
            None,
        ]);
        assert_eq!(
            all(dto, &offsets),
            [
                "CAST('2019-11-26T12:03:25.1234567+01:00' AS DATETIMEOFFSET(7))",
                "CAST('9999-12-31T23:59:59.9999999+14:00' AS DATETIMEOFFSET(7))",
                "CAST('2019-11-26 12:03:25 +00:00' AS DATETIMEOFFSET(7))",
                "CAST('2019-11-26T12:03:25Z' AS DATETIMEOFFSET(7))",
                "NULL",
            ]
        );
        let bad = StringArray::from(vec![
            "2019-11-26T12:03:25",
            "2019-11-26T12:03:25+01:00'); DROP TABLE X; --",
            "",
        ]);
        for row in 0..bad.len() {
            assert!(matches!(
                render(&mut String::new(), dto, &bad, row),
                Err(ValueError::Malformed { .. })
            ));
        }
        // Checked as `bulk` checks them: the UTC instant past 9999-12-31, an offset beyond
        // ±14:00, digits beyond the column's scale.
        let refused = StringArray::from(vec![
            "9999-12-31T23:59:59.9999999-14:00",
            "2019-11-26T12:03:25+14:30",
            "2019-11-26T12:03:25.123+01:00",
        ]);
        let got: Vec<_> = (0..refused.len())
            .map(|row| {
                render(
                    &mut String::new(),
                    SqlType::DateTimeOffset { scale: 2 },
                    &refused,
                    row,
                )
            })
            .collect();
        assert!(
            matches!(got[0], Err(ValueError::OutOfRange { .. })),
            "{got:?}"
        );
        assert!(
            matches!(got[1], Err(ValueError::Malformed { .. })),
            "{got:?}"
        );
        assert!(matches!(got[2], Err(ValueError::Inexact { .. })), "{got:?}");
    }

    #[test]
    fn guids_and_binaries() {
        let guids = StringArray::from(vec![
            Some("FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0"),
            Some("00000000-0000-0000-0000-000000000000"),
            None,
        ]);
        assert_eq!(
            all(SqlType::UniqueIdentifier, &guids),
            [
                "'FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0'",
                "'00000000-0000-0000-0000-000000000000'",
                "NULL"
            ]
        );
        let bad = StringArray::from(vec![
            "FF1E2C3D4B5A-6978-8796-A5B4C3D2E1F0-",
            "GF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0",
            "FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F",
            "'F1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0",
        ]);
        for row in 0..bad.len() {
            let err = render(&mut String::new(), SqlType::UniqueIdentifier, &bad, row).unwrap_err();
            assert!(matches!(err, ValueError::Malformed { .. }), "{err}");
        }
        let bytes: Vec<u8> = (0..=255).collect();
        let binaries = BinaryArray::from_opt_vec(vec![
            Some(&[0x00, 0xFF, 0x1A][..]),
            Some(&[][..]),
            Some(&bytes[..]),
            None,
        ]);
        let text = all(SqlType::VarBinary { len: None }, &binaries);
        assert_eq!(text[0], "0x00FF1A");
        assert_eq!(text[1], "0x");
        assert_eq!(text[2].len(), 2 + 512);
        assert!(text[2].ends_with("FDFEFF"));
        assert_eq!(text[3], "NULL");
        assert_eq!(one(SqlType::Binary { len: 3 }, &binaries, 0), "0x00FF1A");
        assert_eq!(one(SqlType::Image, &binaries, 0), "0x00FF1A");
    }

    #[test]
    fn mismatched_arrow_types_are_named() {
        let ints = Int64Array::from(vec![1]);
        let err = render(&mut String::new(), SqlType::Int, &ints, 0).unwrap_err();
        assert_eq!(
            err,
            ValueError::Mismatch {
                column: "?".into(),
                expected: "`Int32` for `INT`".into(),
                found: "Int64".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "column `?`: expected Arrow `Int32` for `INT`, found Arrow `Int64`; write the \
             transformed Parquet with the extract's schema (`SqlType::arrow_type`)"
        );
        let wrong_scale = dec(37, 6, &[Some(1)]);
        let ty = SqlType::Decimal {
            precision: 37,
            scale: 8,
        };
        assert!(matches!(
            render(&mut String::new(), ty, &wrong_scale, 0),
            Err(ValueError::Mismatch { .. })
        ));
    }

    fn field(name: &str, ty: SqlType, nullable: bool) -> Field {
        Field::new(name, ty.arrow_type(), nullable).with_metadata(HashMap::from([(
            SQL_TYPE_METADATA_KEY.to_owned(),
            ty.ddl(),
        )]))
    }

    #[test]
    fn row_renderer_renders_rows_in_the_given_column_order() {
        let dec_ty = SqlType::Decimal {
            precision: 37,
            scale: 8,
        };
        let schema = Schema::new(vec![
            field("ID", SqlType::Int, false),
            field("NAME", SqlType::NVarChar { len: Some(50) }, true),
            field("AMOUNT", dec_ty, true),
            field("CREATED", SqlType::DateTime, false),
            field("DONE", SqlType::Bit, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int32Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("O'Brien"), None])),
                Arc::new(dec(37, 8, &[Some(-1_250_000_000), None])),
                Arc::new(TimestampMillisecondArray::from(vec![
                    ms("2019-11-26T12:03:25"),
                    ms("2019-11-26T12:03:25.997"),
                ])),
                Arc::new(BooleanArray::from(vec![Some(true), None])),
            ],
        )
        .unwrap();
        let renderer =
            RowRenderer::new(&batch, &["ID", "NAME", "AMOUNT", "CREATED", "DONE"]).unwrap();
        assert_eq!(renderer.num_rows(), 2);
        let mut out = String::new();
        renderer.render_row(&mut out, 0).unwrap();
        out.push_str(",\n");
        renderer.render_row(&mut out, 1).unwrap();
        assert_eq!(
            out,
            "(1, N'O''Brien', -12.50000000, CAST('2019-11-26T12:03:25' AS DATETIME), 1),\n\
             (2, NULL, NULL, CAST('2019-11-26T12:03:25.997' AS DATETIME), NULL)"
        );
        let reordered = RowRenderer::new(&batch, &["DONE", "ID"]).unwrap();
        out.clear();
        reordered.render_row(&mut out, 0).unwrap();
        assert_eq!(out, "(1, 1)");

        assert_eq!(
            RowRenderer::new(&batch, &["ID", "NOPE"]).unwrap_err(),
            ValueError::MissingColumn {
                column: "NOPE".into()
            }
        );
    }

    #[test]
    fn row_renderer_checks_metadata_and_names_the_column() {
        let plain = Field::new("A", DataType::Int32, false);
        let unknown = Field::new("B", DataType::Int32, false).with_metadata(HashMap::from([(
            SQL_TYPE_METADATA_KEY.to_owned(),
            "SQL_VARIANT".to_owned(),
        )]));
        let wrong = field("C", SqlType::BigInt, false).with_data_type(DataType::Int32);
        let float = field("F", SqlType::Float, false);
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![plain, unknown, wrong, float])),
            vec![
                Arc::new(Int32Array::from(vec![1])),
                Arc::new(Int32Array::from(vec![1])),
                Arc::new(Int32Array::from(vec![1])),
                Arc::new(Float64Array::from(vec![f64::INFINITY])),
            ],
        )
        .unwrap();
        assert_eq!(
            RowRenderer::new(&batch, &["A"]).unwrap_err().to_string(),
            "column `A` has no `bptmig.sql_type` field metadata; the Parquet was not written by \
             bptmig extract/transform, which record each column's SQL type"
        );
        assert_eq!(
            RowRenderer::new(&batch, &["B"]).unwrap_err(),
            ValueError::UnknownSqlType {
                column: "B".into(),
                ddl: "SQL_VARIANT".into()
            }
        );
        assert_eq!(
            RowRenderer::new(&batch, &["C"]).unwrap_err(),
            ValueError::Mismatch {
                column: "C".into(),
                expected: "`Int64` for `BIGINT`".into(),
                found: "Int32".into(),
            }
        );
        let renderer = RowRenderer::new(&batch, &["F"]).unwrap();
        assert_eq!(
            renderer.render_row(&mut String::new(), 0).unwrap_err(),
            ValueError::NonFinite {
                column: "F".into(),
                row: 0,
                value: "inf".into(),
                sql_type: "FLOAT".into(),
            }
        );
    }

    // ---- Property test: random text → literal → independent parser → same text ----------

    /// SplitMix64: a tiny deterministic PRNG, so the test needs no extra crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn char(&mut self) -> char {
            const SPECIAL: &[char] = &[
                '\'', '\\', '\0', '\r', '\n', '\t', '\u{1}', '\u{1F}', '\u{7F}', '\u{85}',
                '\u{A0}', '\u{2028}', '\u{FEFF}', '\u{FFFF}', '"', '[', ']', '%', '+', 'N',
            ];
            loop {
                let c = match self.below(10) {
                    0..=3 => char::from_u32(0x20 + self.below(0x5F) as u32),
                    4 | 5 => Some(SPECIAL[self.below(SPECIAL.len() as u64) as usize]),
                    6 => char::from_u32(self.below(0x20) as u32),
                    7 => char::from_u32(0x80 + self.below(0xFF80) as u32),
                    8 => char::from_u32(0x1_0000 + self.below(0x10_0000) as u32),
                    _ => char::from_u32(0x1F600 + self.below(0x50) as u32),
                };
                // `None` for surrogate code points, which are not Unicode scalars.
                if let Some(c) = c {
                    return c;
                }
            }
        }

        fn string(&mut self, max_len: u64) -> String {
            // Mostly short strings, some long ones.
            let len = if self.below(4) == 0 {
                self.below(max_len + 1)
            } else {
                self.below(65)
            };
            (0..len).map(|_| self.char()).collect()
        }
    }

    /// Parses the grammar `push_text` emits, independently of it:
    /// expr = term ( ` + ` term )*; term = `(` expr `)` | `CAST(` term ` AS NVARCHAR(MAX))` |
    /// `N'…'` (with `''` for `'`) | `NCHAR(0)`. Also checks what SQL Server would otherwise
    /// misread: no NUL in the statement text, and no backslash-newline inside a literal.
    fn parse_literal(sql: &str) -> String {
        assert!(!sql.contains('\0'), "NUL in statement text");
        let mut value = String::new();
        let rest = parse_expr(sql, &mut value);
        assert!(rest.is_empty(), "trailing text: {rest:?}");
        value
    }

    fn parse_expr<'a>(mut sql: &'a str, value: &mut String) -> &'a str {
        loop {
            sql = parse_term(sql, value);
            match sql.strip_prefix(" + ") {
                Some(after) => sql = after,
                None => return sql,
            }
        }
    }

    fn parse_term<'a>(sql: &'a str, value: &mut String) -> &'a str {
        if let Some(after) = sql.strip_prefix('(') {
            let rest = parse_expr(after, value);
            return rest.strip_prefix(')').expect("`)` closes `(`");
        }
        if let Some(after) = sql.strip_prefix("CAST(") {
            let rest = parse_term(after, value);
            return rest
                .strip_prefix(" AS NVARCHAR(MAX))")
                .expect("CAST to NVARCHAR(MAX)");
        }
        if let Some(after) = sql.strip_prefix("NCHAR(0)") {
            value.push('\0');
            return after;
        }
        let body = sql.strip_prefix("N'").expect("a term");
        let mut chars = body.char_indices();
        loop {
            let (i, c) = chars.next().expect("unterminated literal");
            if c == '\'' {
                if body[i + 1..].starts_with('\'') {
                    chars.next();
                    value.push('\'');
                } else {
                    return &body[i + 1..];
                }
            } else {
                assert!(
                    !(c == '\\' && body[i + 1..].starts_with(['\r', '\n'])),
                    "backslash-newline inside a literal"
                );
                value.push(c);
            }
        }
    }

    /// Deepest nesting of the tree's parentheses (not CAST's or NCHAR's) outside literals.
    fn max_paren_depth(sql: &str) -> usize {
        let (mut max, mut in_literal, mut previous) = (0, false, ' ');
        // Per open parenthesis: whether it is the tree's.
        let mut open: Vec<bool> = Vec::new();
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            match (in_literal, c) {
                (false, '\'') => in_literal = true,
                (true, '\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                (true, '\'') => in_literal = false,
                (false, '(') => {
                    open.push(!previous.is_ascii_alphabetic());
                    max = max.max(open.iter().filter(|&&tree| tree).count());
                }
                (false, ')') => {
                    open.pop().unwrap();
                }
                _ => {}
            }
            previous = c;
        }
        max
    }

    #[test]
    fn random_text_round_trips_through_the_literal_grammar() {
        let mut rng = Rng(0x5EED_2024);
        let ty = SqlType::NVarChar { len: None };
        let mut out = String::new();
        let mut lengths = 0_usize;
        for _ in 0..2_000 {
            let text = rng.string(5_000);
            lengths += text.chars().count();
            let array = StringArray::from(vec![text.as_str()]);
            out.clear();
            render(&mut out, ty, &array, 0).unwrap();
            assert_eq!(parse_literal(&out), text);
            // A balanced tree of at most 5,000 pieces stays shallow.
            assert!(max_paren_depth(&out) <= 12, "{}", max_paren_depth(&out));
        }
        // The generator reaches long strings, not just short ones.
        assert!(lengths > 500_000, "{lengths}");
    }

    #[test]
    fn values_outside_their_type_are_refused_as_bulk_refuses_them() {
        let refused = |ty: SqlType, array: &dyn Array| render(&mut String::new(), ty, array, 0);
        // decimal(5,2) holds up to 999.99; 1000.00 has more digits than its precision.
        let d = Decimal128Array::from(vec![100_000_i128])
            .with_precision_and_scale(5, 2)
            .unwrap();
        let ty = SqlType::Decimal {
            precision: 5,
            scale: 2,
        };
        assert!(matches!(
            refused(ty, &d),
            Err(ValueError::OutOfRange { .. })
        ));
        let big = Decimal128Array::from(vec![i128::from(i32::MAX) + 1])
            .with_precision_and_scale(10, 4)
            .unwrap();
        assert!(matches!(
            refused(SqlType::SmallMoney, &big),
            Err(ValueError::OutOfRange { .. })
        ));
        // A datetime before 1753, a smalldatetime after 2079-06-06.
        let early = TimestampMillisecondArray::from(vec![ms("1752-12-31T00:00:00")]);
        assert!(matches!(
            refused(SqlType::DateTime, &early),
            Err(ValueError::OutOfRange { .. })
        ));
        let late = TimestampMillisecondArray::from(vec![ms("2079-06-07T00:00:00")]);
        assert!(matches!(
            refused(SqlType::SmallDateTime, &late),
            Err(ValueError::OutOfRange { .. })
        ));
    }
}
