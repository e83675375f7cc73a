//! What a column can hold exactly: the checks both writers run on every value, and the
//! conversions of date/time and GUID values to the forms SQL Server stores.
//!
//! Whichever strategy loads a row, the same values are refused for the same reasons: the
//! insert writer renders a literal only after these checks passed, the bulk writer sends the
//! values they return, and the ledger digest runs them on every row it hashes.

use std::ops::RangeInclusive;

use bptmig_workdir::iso::{parse_iso_datetime_parts, NANOS_PER_SECOND};
use bptmig_workdir::sql_type::SqlType;
use tiberius::time::{Date, DateTime, DateTime2, DateTimeOffset, SmallDateTime, Time};
use tiberius::Uuid;

use super::error::ValueProblem;

const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;
const MILLIS_PER_MINUTE: i64 = 60_000;
const MILLIS_PER_DAY: i64 = 86_400_000;
/// Days from 0001-01-01 (the epoch of `date`, `datetime2`, `datetimeoffset`) to 1970-01-01
/// (Arrow's): `-days_from_civil(1, 1, 1)` (pinned by a test).
const DAYS_0001_TO_1970: i64 = 719_162;
/// Days from 1900-01-01 (the epoch of `datetime`, `smalldatetime`) to 1970-01-01:
/// `-days_from_civil(1900, 1, 1)`.
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

/// A `decimal`/`numeric`/`money`/`smallmoney` value (unscaled), if within `range`.
pub(crate) fn decimal(
    value: i128,
    range: &RangeInclusive<i128>,
    limit: &'static str,
) -> Result<(), ValueProblem> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(ValueProblem::OutOfRange(limit))
    }
}

/// A `float` (or a `real`, widened exactly), unless NaN or infinite.
pub(crate) fn finite(value: f64) -> Result<(), ValueProblem> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(ValueProblem::NonFinite)
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
pub(crate) fn datetime(ms: i64) -> Result<DateTime, ValueProblem> {
    let days = ms.div_euclid(MILLIS_PER_DAY) + DAYS_1900_TO_1970;
    let ms_of_day = ms.rem_euclid(MILLIS_PER_DAY);
    // Every 10 ms are exactly 3 ticks; the ticks between print as 3.33 → 3 and 6.67 → 7 ms.
    let tick_in_10_ms = match ms_of_day % 10 {
        0 => 0,
        3 => 1,
        7 => 2,
        _ => return Err(ValueProblem::Inexact("not on a 1/300 s tick")),
    };
    if !DATETIME_DAYS.contains(&days) {
        return Err(ValueProblem::OutOfRange("1753-01-01 ..= 9999-12-31"));
    }
    let ticks = ms_of_day / 10 * 3 + tick_in_10_ms;
    Ok(DateTime::new(days as i32, ticks as u32))
}

/// A `smalldatetime` from milliseconds since 1970, if it is a whole minute and in range.
pub(crate) fn smalldatetime(ms: i64) -> Result<SmallDateTime, ValueProblem> {
    let ms_of_day = ms.rem_euclid(MILLIS_PER_DAY);
    if ms_of_day % MILLIS_PER_MINUTE != 0 {
        return Err(ValueProblem::Inexact("not a whole minute"));
    }
    // 1900-01-01 ..= 2079-06-06 are exactly days 0 ..= u16::MAX.
    let days = u16::try_from(ms.div_euclid(MILLIS_PER_DAY) + DAYS_1900_TO_1970)
        .map_err(|_| ValueProblem::OutOfRange("1900-01-01 ..= 2079-06-06"))?;
    Ok(SmallDateTime::new(
        days,
        (ms_of_day / MILLIS_PER_MINUTE) as u16,
    ))
}

/// A `date` from days since 1970, if in 0001-01-01 ..= 9999-12-31 (which also keeps
/// `Date::new` from panicking beyond 24 bits).
pub(crate) fn date(days_since_1970: i64) -> Result<Date, ValueProblem> {
    let days = days_since_1970 + DAYS_0001_TO_1970;
    if !DATE_DAYS.contains(&days) {
        return Err(ValueProblem::OutOfRange(DATE_RANGE));
    }
    Ok(Date::new(days as u32))
}

/// A `time(scale)` from nanoseconds of the day (in `0..NANOS_PER_DAY`), if it has no digits
/// beyond `scale`.
pub(crate) fn time(nanos_of_day: i64, scale: u8) -> Result<Time, ValueProblem> {
    // `from_ddl` keeps scales within 0..=7.
    let unit = 10_i64.pow(9_u32.saturating_sub(u32::from(scale)));
    if nanos_of_day % unit != 0 {
        return Err(ValueProblem::Inexact(
            "more fraction digits than the column's scale",
        ));
    }
    Ok(Time::new((nanos_of_day / unit) as u64, scale))
}

/// A `datetime2(scale)` from nanoseconds since 1970, if in range with no digits beyond
/// `scale`.
pub(crate) fn datetime2(ns: i64, scale: u8) -> Result<DateTime2, ValueProblem> {
    let date = date(ns.div_euclid(NANOS_PER_DAY))?;
    let time = time(ns.rem_euclid(NANOS_PER_DAY), scale)?;
    Ok(DateTime2::new(date, time))
}

/// A `time(scale)` from nanoseconds since midnight, if within the day with no digits beyond
/// `scale`.
pub(crate) fn time_of_day(ns: i64, scale: u8) -> Result<Time, ValueProblem> {
    if !(0..NANOS_PER_DAY).contains(&ns) {
        return Err(ValueProblem::OutOfRange("00:00:00 ..< 24:00:00"));
    }
    time(ns, scale)
}

/// A `datetimeoffset(scale)` from its text: the UTC date and time, and the offset.
pub(crate) fn datetimeoffset(text: &str, scale: u8) -> Result<DateTimeOffset, ValueProblem> {
    let (local_days, local_nanos, offset_minutes) =
        parse_datetimeoffset(text).ok_or(ValueProblem::Malformed(DATETIMEOFFSET_TEXT))?;
    // Both fit an i64 easily: the shift is at most ±14 h, the days at most ±3 million.
    let shifted = local_nanos - i64::from(offset_minutes) * NANOS_PER_MINUTE;
    let utc_days = local_days + shifted.div_euclid(NANOS_PER_DAY);
    let date =
        date(utc_days).map_err(|_| ValueProblem::OutOfRange("0001-01-01 ..= 9999-12-31 in UTC"))?;
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
    let (days, nanos) = parse_iso_datetime_parts(local).ok()?;
    Some((days, nanos, offset))
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
pub(crate) fn guid(text: &str) -> Result<Uuid, ValueProblem> {
    parse_guid(text).ok_or(ValueProblem::Malformed(GUID_TEXT))
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

#[cfg(test)]
mod tests {
    use bptmig_workdir::iso::days_from_civil;

    use super::*;

    /// The epochs and ranges above are the shared calendar's days.
    #[test]
    fn epochs_and_ranges_are_the_calendar_s() {
        assert_eq!(DAYS_0001_TO_1970, -days_from_civil(1, 1, 1));
        assert_eq!(DAYS_1900_TO_1970, -days_from_civil(1900, 1, 1));
        assert_eq!(
            *DATE_DAYS.end(),
            days_from_civil(9999, 12, 31) - days_from_civil(1, 1, 1)
        );
        let since_1900 = |y, m, d| days_from_civil(y, m, d) - days_from_civil(1900, 1, 1);
        assert_eq!(*DATETIME_DAYS.start(), since_1900(1753, 1, 1));
        assert_eq!(*DATETIME_DAYS.end(), since_1900(9999, 12, 31));
        assert_eq!(since_1900(2079, 6, 6), i64::from(u16::MAX));
    }
}
