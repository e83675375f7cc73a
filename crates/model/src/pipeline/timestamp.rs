//! The selection's date bounds.

use std::ops::Range;

use super::keys::MIN_YEAR;
use crate::calendar::days_in_month;

/// A validated selection bound, comparable; a date alone means midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

pub(super) enum TimestampError {
    Form,
    NotReal(&'static str),
}

impl Timestamp {
    pub(super) fn parse(s: &str) -> Result<Self, TimestampError> {
        let b = s.as_bytes();
        let shape_ok = match b.len() {
            10 => true,
            19 => b[10] == b'T' && b[13] == b':' && b[16] == b':',
            _ => false,
        } && b[4] == b'-'
            && b[7] == b'-';
        if !shape_ok {
            return Err(TimestampError::Form);
        }
        let number = |range: Range<usize>| -> Result<u32, TimestampError> {
            let digits = &b[range];
            if digits.iter().all(u8::is_ascii_digit) {
                Ok(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
            } else {
                Err(TimestampError::Form)
            }
        };
        let year = number(0..4)?;
        let month = number(5..7)?;
        let day = number(8..10)?;
        let (hour, minute, second) = if b.len() == 19 {
            (number(11..13)?, number(14..16)?, number(17..19)?)
        } else {
            (0, 0, 0)
        };
        if year < MIN_YEAR {
            return Err(TimestampError::NotReal(
                "SQL Server `datetime` starts in the year 1753",
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(TimestampError::NotReal("the month must be 01 to 12"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(TimestampError::NotReal("that month has no such day"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(TimestampError::NotReal(
                "the time must be 00:00:00 to 23:59:59",
            ));
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }
}
