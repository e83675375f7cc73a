//! ISO date/time text: allocation-free parsing and formatting, proleptic Gregorian.
//!
//! The extract reads every date/time column as ISO text (see [`crate::sql_type`]), parses it
//! here into the integers Arrow stores, and the load formats them back the same way.

/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;
const MILLIS_PER_DAY: i64 = 86_400_000;
/// Most fraction digits the parsers accept: nanoseconds. SQL Server prints at most 7.
const MAX_FRACTION_DIGITS: usize = 9;

/// Why ISO date/time text did not parse. Carries no text so that parsing never allocates;
/// the extract's `ConvertError::Parse` adds the column and the value.
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
/// Parses `YYYY-MM-DDTHH:MM:SS[.f…]` as (days since 1970-01-01, nanoseconds of the day),
/// for instants outside the 64-bit nanosecond range too.
pub fn parse_iso_datetime_parts(s: &str) -> Result<(i64, i64), ParseError> {
    parse_datetime_parts(s.as_bytes())
}

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

pub use bptmig_model::calendar::{days_in_month, is_leap_year};

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`),
/// for years 1..=9999, which keeps every intermediate value non-negative.
pub fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    i64::from(era * 146_097 + day_of_era) - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
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
pub struct AsciiBuf {
    /// Room for the longest text written: a 20-digit signed year, time, 9 fraction digits
    /// and an offset.
    buf: [u8; 64],
    len: usize,
}

impl Default for AsciiBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl AsciiBuf {
    /// An empty buffer.
    pub fn new() -> Self {
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

    /// The text written so far.
    pub fn as_str(&self) -> &str {
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
pub fn canonical_datetimeoffset(s: &str, scale: u8, out: &mut AsciiBuf) -> Result<(), ParseError> {
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

#[cfg(test)]
mod tests;
