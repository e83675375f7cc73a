//! Exact SQL literals for Arrow values, for multi-row `INSERT … VALUES` statements.
//!
//! [`render`] appends the literal of one value; [`BoundBatch::render_row`] appends a whole row
//! of a bound batch as `(v1, v2, …)`.
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
//! * **Every value is checked as [`tds`](super::tds) checks it**, by the same checks
//!   (the value module's checks): a value its column cannot hold exactly (a `datetime` off its 1/300 s
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
//! date/time formatters of [`bptmig_workdir::iso`] return a short `String` per date/time
//! value, and an error allocates its message fields.

use std::fmt::Write as _;

use arrow::array::Array;
use bptmig_workdir::iso::{
    format_iso_date_days, format_iso_datetime_ms, format_iso_datetime_ns, format_iso_time_ns,
    NANOS_PER_SECOND,
};
use bptmig_workdir::sql_type::SqlType;

use super::bound::{BoundBatch, BoundColumn, TypedArray};
use super::error::{Result, ValueProblem};

/// The column name [`render`] reports, which does not know it; [`BoundBatch`] names columns.
const UNNAMED: &str = "?";
/// Beyond this many bytes of UTF-8 a text value may exceed 4,000 UTF-16 units, where SQL
/// Server truncates a concatenation of non-MAX strings.
const MAX_NON_MAX_CONCAT_BYTES: usize = 4_000;
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends the SQL literal of `column[row]` (of SQL type `ty`) to `out`; no allocation beyond
/// `out`'s growth (but see the module docs for date/times). Errors name the column `?`; use
/// [`BoundBatch::render_row`] for named columns.
pub fn render(out: &mut String, ty: SqlType, column: &dyn Array, row: usize) -> Result<()> {
    let column = BoundColumn::bind(UNNAMED, ty, column)?;
    push_value(out, &column.values, row).map_err(|p| column.error(p, row))
}

impl BoundBatch {
    /// Appends `(v1, v2, …)` for `row` to `out`. On error `out` holds a partial row; the
    /// caller discards the statement.
    pub fn render_row(&self, out: &mut String, row: usize) -> Result<()> {
        out.push('(');
        for (i, column) in self.columns().iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_value(out, &column.values, row).map_err(|p| column.error(p, row))?;
        }
        out.push(')');
        Ok(())
    }

    /// Appends the literal of column `column`'s value at `row` to `out`.
    pub fn render_value(&self, out: &mut String, column: usize, row: usize) -> Result<()> {
        let Some(bound) = self.columns().get(column) else {
            return Err(super::ValueError::MissingColumn {
                column: format!("#{column}"),
            });
        };
        push_value(out, &bound.values, row).map_err(|p| bound.error(p, row))
    }
}

/// Appends the literal of the value at `row`, after the checks the bulk writer runs.
fn push_value(out: &mut String, values: &TypedArray, row: usize) -> Result<(), ValueProblem> {
    if values.array().is_null(row) {
        out.push_str("NULL");
        return Ok(());
    }
    values.check(row)?;
    match values {
        TypedArray::TinyInt(a) => push_display(out, a.value(row)),
        TypedArray::SmallInt(a) => push_display(out, a.value(row)),
        TypedArray::Int(a) => push_display(out, a.value(row)),
        TypedArray::BigInt(a) => push_display(out, a.value(row)),
        TypedArray::Bit(a) => out.push(if a.value(row) { '1' } else { '0' }),
        TypedArray::Decimal { array, scale, .. } => push_decimal(out, array.value(row), *scale),
        TypedArray::Float(a) => push_float(out, a.value(row)),
        // Widening is exact; see the module docs for why not the shortest `f32` digits.
        TypedArray::Real(a) => push_float(out, f64::from(a.value(row))),
        TypedArray::Text(a) => push_text(out, a.value(row)),
        TypedArray::DateTime(a) => push_datetime_ms(out, a.value(row), "DATETIME"),
        TypedArray::SmallDateTime(a) => push_datetime_ms(out, a.value(row), "SMALLDATETIME"),
        TypedArray::DateTime2 { array, scale } => {
            let ns = array.value(row);
            out.push_str("CAST('");
            out.push_str(&format_iso_datetime_ns(ns, fraction_digits(ns, *scale)));
            push_cast_end(out, "DATETIME2", Some(*scale));
        }
        TypedArray::Date(a) => {
            out.push_str("CAST('");
            out.push_str(&format_iso_date_days(a.value(row)));
            push_cast_end(out, "DATE", None);
        }
        TypedArray::Time { array, scale } => {
            let ns = array.value(row);
            out.push_str("CAST('");
            out.push_str(&format_iso_time_ns(ns, fraction_digits(ns, *scale)));
            push_cast_end(out, "TIME", Some(*scale));
        }
        TypedArray::DateTimeOffset { array, scale } => {
            // Checked in full (ranges, offset, digits beyond the scale): the text goes into
            // the literal as it is, and cannot end the quote.
            out.push_str("CAST('");
            out.push_str(array.value(row));
            push_cast_end(out, "DATETIMEOFFSET", Some(*scale));
        }
        TypedArray::Guid(a) => {
            // Checked: 8-4-4-4-12 hex digits, which cannot end the quote.
            out.push('\'');
            out.push_str(a.value(row));
            out.push('\'');
        }
        TypedArray::Binary(a) => push_hex(out, a.value(row)),
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

/// A `float` literal in E notation with the shortest round-trip digits (of a finite value,
/// which [`check::finite`](super::check::finite) ensured).
fn push_float(out: &mut String, value: f64) {
    // `{:E}` prints the shortest digits that parse back to `value`, always with an exponent,
    // which makes SQL Server type the literal as `float`.
    let _ = write!(out, "{value:E}");
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
mod tests;
