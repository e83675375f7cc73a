//! ISO text parsing and formatting.

use super::*;

const NS: i64 = 1_000_000_000;

// ---- ISO parsing -----------------------------------------------------------------------------

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
