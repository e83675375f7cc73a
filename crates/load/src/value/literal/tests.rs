use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, StringArray, Time64NanosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, UInt8Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use bptmig_workdir::iso::{parse_iso_date_days, parse_iso_datetime_ns, parse_iso_time_ns};
use bptmig_workdir::sql_type::SQL_TYPE_METADATA_KEY;

use super::*;
use crate::testing::{field, ms};
use crate::value::ValueError;

fn one(ty: SqlType, array: &dyn Array, row: usize) -> String {
    let mut out = String::new();
    render(&mut out, ty, array, row).unwrap();
    out
}

fn all(ty: SqlType, array: &dyn Array) -> Vec<String> {
    (0..array.len()).map(|row| one(ty, array, row)).collect()
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
    let small =
        TimestampMillisecondArray::from(vec![ms("2079-06-06T23:59:00"), ms("2019-11-26T12:03:25")]);
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
fn datetime2_keeps_the_digits_of_its_scale() {
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
}

#[test]
fn dates_and_times() {
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
}

#[test]
fn datetimeoffsets_keep_their_text_after_the_checks() {
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

#[test]
fn bound_batch_renders_rows_in_the_given_column_order() {
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
    let renderer = BoundBatch::new(&batch, &["ID", "NAME", "AMOUNT", "CREATED", "DONE"]).unwrap();
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
    let reordered = BoundBatch::new(&batch, &["DONE", "ID"]).unwrap();
    out.clear();
    reordered.render_row(&mut out, 0).unwrap();
    assert_eq!(out, "(1, 1)");

    assert_eq!(
        BoundBatch::new(&batch, &["ID", "NOPE"]).unwrap_err(),
        ValueError::MissingColumn {
            column: "NOPE".into()
        }
    );
}

#[test]
fn bound_batch_checks_metadata_and_names_the_column() {
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
        BoundBatch::new(&batch, &["A"]).unwrap_err().to_string(),
        "column `A` has no `bptmig.sql_type` field metadata; the Parquet was not written by \
         bptmig extract/transform, which record each column's SQL type"
    );
    assert_eq!(
        BoundBatch::new(&batch, &["B"]).unwrap_err(),
        ValueError::UnknownSqlType {
            column: "B".into(),
            ddl: "SQL_VARIANT".into()
        }
    );
    assert_eq!(
        BoundBatch::new(&batch, &["C"]).unwrap_err(),
        ValueError::Mismatch {
            column: "C".into(),
            expected: "`Int64` for `BIGINT`".into(),
            found: "Int32".into(),
        }
    );
    let renderer = BoundBatch::new(&batch, &["F"]).unwrap();
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
