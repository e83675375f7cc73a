use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, StringArray, Time64NanosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, UInt8Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use bptmig_workdir::iso::{parse_iso_date_days, parse_iso_datetime_ns, parse_iso_time_ns};
use bptmig_workdir::sql_type::{SqlType, SQL_TYPE_METADATA_KEY};

use super::*;
use crate::testing::{batch, field, ms};
use crate::value::ValueError;

const NANOS_PER_DAY: i64 = 86_400 * bptmig_workdir::iso::NANOS_PER_SECOND;

/// Every field of a value, including those `PartialEq` and `Debug` blur: `Numeric` and
/// `Time` compare equal across scales, and `Numeric`'s `Debug` hides its scale.
fn exact(value: &ColumnData<'_>) -> String {
    match value {
        ColumnData::Numeric(Some(n)) => format!("Numeric({}e-{})", n.value(), n.scale()),
        ColumnData::DateTime(Some(d)) => {
            format!("DateTime({}, {})", d.days(), d.seconds_fragments())
        }
        ColumnData::SmallDateTime(Some(d)) => {
            format!("SmallDateTime({}, {})", d.days(), d.seconds_fragments())
        }
        ColumnData::Date(Some(d)) => format!("Date({})", d.days()),
        ColumnData::Time(Some(t)) => format!("Time({}@{})", t.increments(), t.scale()),
        ColumnData::DateTime2(Some(d)) => format!(
            "DateTime2({}, {}@{})",
            d.date().days(),
            d.time().increments(),
            d.time().scale()
        ),
        ColumnData::DateTimeOffset(Some(d)) => {
            let dt = d.datetime2();
            format!(
                "DateTimeOffset({}, {}@{}, {:+})",
                dt.date().days(),
                dt.time().increments(),
                dt.time().scale(),
                d.offset()
            )
        }
        ColumnData::Guid(Some(g)) => format!("Guid({:02X?})", g.as_bytes()),
        // The derived `Debug` of the rest shows every field; floats print the digits
        // that round-trip, and `-0.0` with its sign.
        other => format!("{other:?}"),
    }
}

/// The exact values of every row of a one-column batch.
fn convert(ty: SqlType, array: ArrayRef) -> Vec<Result<String>> {
    let batch = batch(vec![("C", ty, array)]);
    let builder = BoundBatch::new(&batch, &["C"]).unwrap();
    (0..builder.num_rows())
        .map(|row| {
            let out = builder.bulk_row(row)?;
            assert_eq!(out.len(), 1);
            Ok(exact(out.get(0).unwrap()))
        })
        .collect()
}

fn ok(ty: SqlType, array: ArrayRef) -> Vec<String> {
    convert(ty, array)
        .into_iter()
        .collect::<Result<_>>()
        .unwrap()
}

/// Why every row of a one-column batch is refused: `inexact: <reason>` or
/// `range: <range>`.
fn refused(ty: SqlType, array: ArrayRef) -> Vec<String> {
    convert(ty, array)
        .into_iter()
        .map(|result| match result {
            Err(ValueError::Inexact { reason, .. }) => format!("inexact: {reason}"),
            Err(ValueError::OutOfRange { range, .. }) => format!("range: {range}"),
            other => panic!("expected Inexact or OutOfRange, got {other:?}"),
        })
        .collect()
}

fn malformed(ty: SqlType, array: ArrayRef) {
    for (row, result) in convert(ty, array).into_iter().enumerate() {
        assert!(
            matches!(result, Err(ValueError::Malformed { .. })),
            "row {row}: {result:?}"
        );
    }
}

fn millis(values: &[&str]) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from(
        values.iter().map(|v| ms(v)).collect::<Vec<_>>(),
    ))
}

fn nanos(values: &[&str]) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(
        values
            .iter()
            .map(|v| parse_iso_datetime_ns(v).unwrap())
            .collect::<Vec<_>>(),
    ))
}

fn times(values: &[&str]) -> ArrayRef {
    Arc::new(Time64NanosecondArray::from(
        values
            .iter()
            .map(|v| parse_iso_time_ns(v).unwrap())
            .collect::<Vec<_>>(),
    ))
}

fn texts(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn dec(p: u8, s: i8, values: &[i128]) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(values.to_vec())
            .with_precision_and_scale(p, s)
            .unwrap(),
    )
}

/// One column of every type, in a batch of a row of values and a row of NULLs.
/// Expected day counts are from Python's `datetime.date` arithmetic; the
/// `datetimeoffset` is a value whose on-disk bytes SQL Server shows as
/// `0x8096980000 a0420b 98fe` (bornsql.ca, "How SQL Server stores data types:
/// DATETIMEOFFSET"): 10,000,000 increments, day 737,952, offset -360.
#[test]
#[expect(
    clippy::too_many_lines,
    reason = "a table of one column per SqlType variant"
)]
fn every_type_and_its_null() {
    let opt = |value: ArrayRef| -> ArrayRef {
        // Append a NULL row by taking [value, null] from a two-element array.
        let nulls = arrow::array::new_null_array(value.data_type(), 1);
        arrow::compute::concat(&[value.as_ref(), nulls.as_ref()]).unwrap()
    };
    let columns: Vec<(&str, SqlType, ArrayRef, &str, &str)> = vec![
        (
            "TINY",
            SqlType::TinyInt,
            Arc::new(UInt8Array::from(vec![255])),
            "U8(Some(255))",
            "U8(None)",
        ),
        (
            "SMALL",
            SqlType::SmallInt,
            Arc::new(Int16Array::from(vec![i16::MIN])),
            "I16(Some(-32768))",
            "I16(None)",
        ),
        (
            "INT",
            SqlType::Int,
            Arc::new(Int32Array::from(vec![i32::MAX])),
            "I32(Some(2147483647))",
            "I32(None)",
        ),
        (
            "BIG",
            SqlType::BigInt,
            Arc::new(Int64Array::from(vec![i64::MIN])),
            "I64(Some(-9223372036854775808))",
            "I64(None)",
        ),
        (
            "BIT",
            SqlType::Bit,
            Arc::new(BooleanArray::from(vec![true])),
            "Bit(Some(true))",
            "Bit(None)",
        ),
        (
            "DEC",
            SqlType::Decimal {
                precision: 37,
                scale: 8,
            },
            dec(37, 8, &[-1_250_000_000]),
            "Numeric(-1250000000e-8)",
            "Numeric(None)",
        ),
        (
            "MONEY",
            SqlType::Money,
            dec(19, 4, &[i64::MIN.into()]),
            "Numeric(-9223372036854775808e-4)",
            "Numeric(None)",
        ),
        (
            "SMALLMONEY",
            SqlType::SmallMoney,
            dec(10, 4, &[i32::MAX.into()]),
            "Numeric(2147483647e-4)",
            "Numeric(None)",
        ),
        (
            "FLOAT",
            SqlType::Float,
            Arc::new(Float64Array::from(vec![0.1])),
            "F64(Some(0.1))",
            "F64(None)",
        ),
        (
            "REAL",
            SqlType::Real,
            Arc::new(Float32Array::from(vec![0.1])),
            "F32(Some(0.1))",
            "F32(None)",
        ),
        (
            "CH",
            SqlType::Char { len: 3 },
            texts(&["ab "]),
            "String(Some(\"ab \"))",
            "String(None)",
        ),
        (
            "VC",
            SqlType::VarChar { len: Some(10) },
            texts(&["O'Brien"]),
            "String(Some(\"O'Brien\"))",
            "String(None)",
        ),
        (
            "NC",
            SqlType::NChar { len: 2 },
            texts(&["日本"]),
            "String(Some(\"日本\"))",
            "String(None)",
        ),
        (
            "NVC",
            SqlType::NVarChar { len: None },
            texts(&["a\0b\\\n𝄞"]),
            "String(Some(\"a\\0b\\\\\\n𝄞\"))",
            "String(None)",
        ),
        (
            "TXT",
            SqlType::Text,
            texts(&["t"]),
            "String(Some(\"t\"))",
            "String(None)",
        ),
        (
            "NTXT",
            SqlType::NText,
            texts(&["ü"]),
            "String(Some(\"ü\"))",
            "String(None)",
        ),
        (
            "DT",
            SqlType::DateTime,
            millis(&["2019-11-26T12:03:25.997"]),
            "DateTime(43793, 13021799)",
            "DateTime(None)",
        ),
        (
            "SDT",
            SqlType::SmallDateTime,
            millis(&["2079-06-06T23:59:00"]),
            "SmallDateTime(65535, 1439)",
            "SmallDateTime(None)",
        ),
        (
            "DT2",
            SqlType::DateTime2 { scale: 7 },
            nanos(&["2019-11-26T12:03:25.1234567"]),
            "DateTime2(737388, 434051234567@7)",
            "DateTime2(None)",
        ),
        (
            "DAY",
            SqlType::Date,
            Arc::new(Date32Array::from(vec![
                parse_iso_date_days("9999-12-31").unwrap()
            ])),
            "Date(3652058)",
            "Date(None)",
        ),
        (
            "AT",
            SqlType::Time { scale: 7 },
            times(&["23:59:59.9999999"]),
            "Time(863999999999@7)",
            "Time(None)",
        ),
        (
            "DTO",
            SqlType::DateTimeOffset { scale: 7 },
            texts(&["2021-06-11T18:00:01.0000000-06:00"]),
            "DateTimeOffset(737952, 10000000@7, -360)",
            "DateTimeOffset(None)",
        ),
        (
            "GUID",
            SqlType::UniqueIdentifier,
            texts(&["FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0"]),
            "Guid([FF, 1E, 2C, 3D, 4B, 5A, 69, 78, 87, 96, A5, B4, C3, D2, E1, F0])",
            "Guid(None)",
        ),
        (
            "BIN",
            SqlType::Binary { len: 2 },
            Arc::new(BinaryArray::from(vec![&[0x00_u8, 0xFF][..]])),
            "Binary(Some([0, 255]))",
            "Binary(None)",
        ),
        (
            "VBIN",
            SqlType::VarBinary { len: None },
            Arc::new(BinaryArray::from(vec![&[][..]])),
            "Binary(Some([]))",
            "Binary(None)",
        ),
        (
            "IMG",
            SqlType::Image,
            Arc::new(BinaryArray::from(vec![&[1_u8, 2, 3][..]])),
            "Binary(Some([1, 2, 3]))",
            "Binary(None)",
        ),
    ];
    assert_eq!(columns.len(), 26, "one column per SqlType variant");
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let expected_values: Vec<&str> = columns.iter().map(|c| c.3).collect();
    let expected_nulls: Vec<&str> = columns.iter().map(|c| c.4).collect();
    let batch = batch(
        columns
            .into_iter()
            .map(|(name, ty, array, _, _)| (name, ty, opt(array)))
            .collect(),
    );
    let builder = BoundBatch::new(&batch, &names).unwrap();
    assert_eq!(builder.num_rows(), 2);
    let row = |i| -> Vec<String> { builder.bulk_row(i).unwrap().iter().map(exact).collect() };
    assert_eq!(row(0), expected_values);
    assert_eq!(row(1), expected_nulls);

    // Text and binary values are owned, so rows outlive the batch and the builder.
    let owned: TokenRow<'static> = builder.bulk_row(0).unwrap();
    drop(builder);
    drop(batch);
    assert!(owned.iter().all(|v| !matches!(
        v,
        ColumnData::String(Some(Cow::Borrowed(_))) | ColumnData::Binary(Some(Cow::Borrowed(_)))
    )));
}

#[test]
fn rows_follow_the_given_column_order() {
    let batch = batch(vec![
        ("A", SqlType::Int, Arc::new(Int32Array::from(vec![1, 2]))),
        ("B", SqlType::NVarChar { len: Some(5) }, texts(&["x", "y"])),
    ]);
    let builder = BoundBatch::new(&batch, &["B", "A", "B"]).unwrap();
    let row: Vec<String> = builder.bulk_row(1).unwrap().iter().map(exact).collect();
    assert_eq!(
        row,
        ["String(Some(\"y\"))", "I32(Some(2))", "String(Some(\"y\"))"]
    );
    let none = BoundBatch::new(&batch, &[]).unwrap();
    assert_eq!(none.num_rows(), 2);
    assert!(none.bulk_row(0).unwrap().is_empty());
}

#[test]
fn integers_keep_their_extremes() {
    assert_eq!(
        ok(SqlType::TinyInt, Arc::new(UInt8Array::from(vec![0, 255]))),
        ["U8(Some(0))", "U8(Some(255))"]
    );
    assert_eq!(
        ok(
            SqlType::SmallInt,
            Arc::new(Int16Array::from(vec![i16::MIN, i16::MAX]))
        ),
        ["I16(Some(-32768))", "I16(Some(32767))"]
    );
    assert_eq!(
        ok(
            SqlType::Int,
            Arc::new(Int32Array::from(vec![i32::MIN, i32::MAX, 0]))
        ),
        [
            "I32(Some(-2147483648))",
            "I32(Some(2147483647))",
            "I32(Some(0))"
        ]
    );
    assert_eq!(
        ok(
            SqlType::BigInt,
            Arc::new(Int64Array::from(vec![i64::MIN, i64::MAX]))
        ),
        [
            "I64(Some(-9223372036854775808))",
            "I64(Some(9223372036854775807))"
        ]
    );
    assert_eq!(
        ok(
            SqlType::Bit,
            Arc::new(BooleanArray::from(vec![true, false]))
        ),
        ["Bit(Some(true))", "Bit(Some(false))"]
    );
}

#[test]
fn decimals_keep_the_column_scale_and_every_digit() {
    let max38 = 10_i128.pow(38) - 1;
    assert_eq!(
        ok(
            SqlType::Decimal {
                precision: 37,
                scale: 8
            },
            dec(37, 8, &[-1_250_000_000, 5, 0, 100_000_000])
        ),
        [
            "Numeric(-1250000000e-8)",
            "Numeric(5e-8)",
            "Numeric(0e-8)",
            "Numeric(100000000e-8)"
        ]
    );
    assert_eq!(
        ok(
            SqlType::Decimal {
                precision: 38,
                scale: 0
            },
            dec(38, 0, &[max38, -max38])
        ),
        [
            format!("Numeric({max38}e-0)"),
            format!("Numeric(-{max38}e-0)")
        ]
    );
    assert_eq!(
        ok(
            SqlType::Decimal {
                precision: 38,
                scale: 38
            },
            dec(38, 38, &[max38])
        ),
        [format!("Numeric({max38}e-38)")]
    );
    // Arrow does not check precision; the server would overflow.
    assert_eq!(
        refused(
            SqlType::Decimal {
                precision: 5,
                scale: 2
            },
            dec(5, 2, &[100_000, -100_000])
        ),
        ["range: more digits than its precision"; 2]
    );
    assert_eq!(
        ok(
            SqlType::Decimal {
                precision: 5,
                scale: 2
            },
            dec(5, 2, &[99_999, -99_999])
        ),
        ["Numeric(99999e-2)", "Numeric(-99999e-2)"]
    );
    assert_eq!(
        ok(
            SqlType::Money,
            dec(19, 4, &[i64::MAX.into(), i64::MIN.into(), -1])
        ),
        [
            "Numeric(9223372036854775807e-4)",
            "Numeric(-9223372036854775808e-4)",
            "Numeric(-1e-4)"
        ]
    );
    assert_eq!(
        refused(
            SqlType::Money,
            dec(19, 4, &[i128::from(i64::MAX) + 1, i128::from(i64::MIN) - 1])
        ),
        ["range: -922337203685477.5808 ..= 922337203685477.5807"; 2]
    );
    assert_eq!(
        ok(SqlType::SmallMoney, dec(10, 4, &[i32::MIN.into()])),
        ["Numeric(-2147483648e-4)"]
    );
    assert_eq!(
        refused(SqlType::SmallMoney, dec(10, 4, &[i128::from(i32::MIN) - 1])),
        ["range: -214748.3648 ..= 214748.3647"]
    );
}

#[test]
fn floats_keep_their_bits_and_refuse_non_finite_values() {
    assert_eq!(
        ok(
            SqlType::Float,
            Arc::new(Float64Array::from(vec![
                f64::MAX,
                f64::MIN_POSITIVE,
                -0.0,
                -1e-300
            ]))
        ),
        [
            "F64(Some(1.7976931348623157e308))",
            "F64(Some(2.2250738585072014e-308))",
            "F64(Some(-0.0))",
            "F64(Some(-1e-300))"
        ]
    );
    assert_eq!(
        ok(
            SqlType::Real,
            Arc::new(Float32Array::from(vec![f32::MAX, std::f32::consts::E]))
        ),
        ["F32(Some(3.4028235e38))", "F32(Some(2.7182817))"]
    );
    let results = convert(
        SqlType::Float,
        Arc::new(Float64Array::from(vec![1.0, f64::NAN])),
    );
    assert_eq!(
        results[1],
        Err(ValueError::NonFinite {
            column: "C".into(),
            row: 1,
            value: "NaN".into(),
            sql_type: "FLOAT".into(),
        })
    );
    let results = convert(
        SqlType::Real,
        Arc::new(Float32Array::from(vec![f32::NEG_INFINITY])),
    );
    assert_eq!(
        results[0],
        Err(ValueError::NonFinite {
            column: "C".into(),
            row: 0,
            value: "-inf".into(),
            sql_type: "REAL".into(),
        })
    );
}

#[test]
fn text_and_binary_are_sent_as_they_are() {
    let long: String = "é𝄞x".repeat(4_000);
    let text = ok(
        SqlType::NVarChar { len: None },
        Arc::new(StringArray::from(vec![
            "",
            "\0",
            "a\\\r\nb",
            "'",
            long.as_str(),
        ])),
    );
    assert_eq!(
        text[..4],
        [
            "String(Some(\"\"))",
            "String(Some(\"\\0\"))",
            "String(Some(\"a\\\\\\r\\nb\"))",
            "String(Some(\"'\"))"
        ]
    );
    assert_eq!(text[4], format!("String(Some({long:?}))"));
    let bytes: Vec<u8> = (0..=255).collect();
    let binary = ok(
        SqlType::VarBinary { len: None },
        Arc::new(BinaryArray::from(vec![&[][..], &[0][..], &bytes[..]])),
    );
    assert_eq!(binary[..2], ["Binary(Some([]))", "Binary(Some([0]))"]);
    assert_eq!(binary[2], format!("Binary(Some({bytes:?}))"));
}

#[test]
fn datetime_ticks_are_exact_and_off_tick_values_refused() {
    assert_eq!(
        ok(
            SqlType::DateTime,
            millis(&[
                "1900-01-01T00:00:00",
                "1900-01-01T00:00:00.003",
                "1900-01-01T00:00:00.007",
                "1900-01-01T00:00:00.010",
                "1900-01-01T00:00:01",
                "1899-12-31T23:59:59.997",
                "1753-01-01T00:00:00",
                "9999-12-31T23:59:59.997",
                "2020-02-29T00:00:00.003",
            ])
        ),
        [
            "DateTime(0, 0)",
            "DateTime(0, 1)",
            "DateTime(0, 2)",
            "DateTime(0, 3)",
            "DateTime(0, 300)",
            "DateTime(-1, 25919999)",
            "DateTime(-53690, 0)",
            "DateTime(2958463, 25919999)",
            "DateTime(43888, 1)",
        ]
    );
    let after_9999 = ms("9999-12-31T00:00:00") + 86_400_000;
    assert_eq!(
        refused(
            SqlType::DateTime,
            Arc::new(TimestampMillisecondArray::from(vec![
                ms("2019-11-26T12:03:25.998"),
                ms("2019-11-26T12:03:25.001"),
                ms("2019-11-26T12:03:25.005"),
                ms("1752-12-31T23:59:59.997"),
                after_9999,
            ]))
        ),
        [
            "inexact: not on a 1/300 s tick",
            "inexact: not on a 1/300 s tick",
            "inexact: not on a 1/300 s tick",
            "range: 1753-01-01 ..= 9999-12-31",
            "range: 1753-01-01 ..= 9999-12-31",
        ]
    );
    // The error names the column, the row and the value.
    let batch = batch(vec![(
        "CREATED",
        SqlType::DateTime,
        millis(&["2019-11-26T12:03:25", "2019-11-26T12:03:25.998"]),
    )]);
    let builder = BoundBatch::new(&batch, &["CREATED"]).unwrap();
    assert_eq!(
        builder.bulk_row(1).unwrap_err(),
        ValueError::Inexact {
            column: "CREATED".into(),
            row: 1,
            value: "2019-11-26T12:03:25.998".into(),
            sql_type: "DATETIME".into(),
            reason: "not on a 1/300 s tick",
        }
    );
}

#[test]
fn smalldatetime_is_whole_minutes_in_range() {
    assert_eq!(
        ok(
            SqlType::SmallDateTime,
            millis(&[
                "1900-01-01T00:00:00",
                "2079-06-06T23:59:00",
                "2019-11-26T12:03:00"
            ])
        ),
        [
            "SmallDateTime(0, 0)",
            "SmallDateTime(65535, 1439)",
            "SmallDateTime(43793, 723)"
        ]
    );
    assert_eq!(
        refused(
            SqlType::SmallDateTime,
            millis(&[
                "2019-11-26T12:03:01",
                "2019-11-26T12:03:00.003",
                "1899-12-31T23:59:00",
                "2079-06-07T00:00:00"
            ])
        ),
        [
            "inexact: not a whole minute",
            "inexact: not a whole minute",
            "range: 1900-01-01 ..= 2079-06-06",
            "range: 1900-01-01 ..= 2079-06-06",
        ]
    );
}

#[test]
fn datetime2_counts_increments_of_the_column_scale() {
    assert_eq!(
        ok(
            SqlType::DateTime2 { scale: 7 },
            nanos(&[
                "2019-11-26T12:03:25.1234567",
                "1970-01-01T00:00:00.0000001",
                "1969-12-31T23:59:59.9999999",
                "1677-09-21T00:12:43.1452242",
                "2262-04-11T23:47:16.8547758",
            ])
        ),
        [
            "DateTime2(737388, 434051234567@7)",
            "DateTime2(719162, 1@7)",
            "DateTime2(719161, 863999999999@7)",
            "DateTime2(612410, 7631452242@7)",
            "DateTime2(825913, 856368547758@7)",
        ]
    );
    assert_eq!(
        ok(
            SqlType::DateTime2 { scale: 3 },
            nanos(&["2019-11-26T12:03:25.123", "2019-11-26T12:03:25"])
        ),
        [
            "DateTime2(737388, 43405123@3)",
            "DateTime2(737388, 43405000@3)"
        ]
    );
    assert_eq!(
        ok(
            SqlType::DateTime2 { scale: 0 },
            nanos(&["2019-11-26T12:03:25"])
        ),
        ["DateTime2(737388, 43405@0)"]
    );
    assert_eq!(
        refused(
            SqlType::DateTime2 { scale: 3 },
            nanos(&["2019-11-26T12:03:25.1234", "2019-11-26T12:03:25.000000001"])
        ),
        ["inexact: more fraction digits than the column's scale"; 2]
    );
    assert_eq!(
        refused(
            SqlType::DateTime2 { scale: 7 },
            nanos(&["2019-11-26T12:03:25.12345678"])
        ),
        ["inexact: more fraction digits than the column's scale"]
    );
}

#[test]
fn dates_are_days_since_0001() {
    let days = |v: &[&str]| -> ArrayRef {
        Arc::new(Date32Array::from(
            v.iter()
                .map(|d| parse_iso_date_days(d).unwrap())
                .collect::<Vec<_>>(),
        ))
    };
    assert_eq!(
        ok(
            SqlType::Date,
            days(&["0001-01-01", "1970-01-01", "2020-02-29", "9999-12-31"])
        ),
        ["Date(0)", "Date(719162)", "Date(737483)", "Date(3652058)"]
    );
    assert_eq!(
        refused(
            SqlType::Date,
            Arc::new(Date32Array::from(vec![
                -719_163,
                2_932_897,
                i32::MIN,
                i32::MAX
            ]))
        ),
        ["range: 0001-01-01 ..= 9999-12-31"; 4]
    );
}

#[test]
fn times_count_increments_of_the_column_scale() {
    assert_eq!(
        ok(
            SqlType::Time { scale: 7 },
            times(&[
                "00:00:00",
                "00:00:00.0000001",
                "23:59:59.9999999",
                "12:03:25.1234567"
            ])
        ),
        [
            "Time(0@7)",
            "Time(1@7)",
            "Time(863999999999@7)",
            "Time(434051234567@7)"
        ]
    );
    assert_eq!(
        ok(
            SqlType::Time { scale: 2 },
            times(&["12:03:25.25", "12:03:25"])
        ),
        ["Time(4340525@2)", "Time(4340500@2)"]
    );
    assert_eq!(
        refused(SqlType::Time { scale: 2 }, times(&["12:03:25.255"])),
        ["inexact: more fraction digits than the column's scale"]
    );
    assert_eq!(
        refused(
            SqlType::Time { scale: 7 },
            Arc::new(Time64NanosecondArray::from(vec![NANOS_PER_DAY, -100]))
        ),
        ["range: 00:00:00 ..< 24:00:00"; 2]
    );
}

/// Expected values: the UTC date and time, in days since 0001-01-01 and 100 ns
/// increments, and the offset in minutes. The second is a value whose stored bytes SQL
/// Server shows as `0x0700E034956400000030FD` (sqlfascination.com, "What is the SQL
/// Server 2008 DateTimeOffset Internal Structure?"): 12 h, day 0, offset -720.
#[test]
fn datetimeoffset_is_the_utc_instant_and_the_offset() {
    let ty = SqlType::DateTimeOffset { scale: 7 };
    assert_eq!(
        ok(
            ty,
            texts(&[
                "2021-06-11T18:00:01.0000000-06:00",
                "0001-01-01T00:00:00.0000000-12:00",
                "2019-11-26T12:03:25.1234567+01:00",
                "2019-11-26T00:30:00.0000000+01:00",
                "2019-11-26 12:03:25 +00:00",
                "2019-11-26T12:03:25Z",
                "2019-11-26T12:03:25.1234567-05:30",
                "9999-12-31T23:59:59.9999999+14:00",
                "2019-12-31T23:00:00-14:00",
            ])
        ),
        [
            "DateTimeOffset(737952, 10000000@7, -360)",
            "DateTimeOffset(0, 432000000000@7, -720)",
            "DateTimeOffset(737388, 398051234567@7, +60)",
            "DateTimeOffset(737387, 846000000000@7, +60)",
            "DateTimeOffset(737388, 434050000000@7, +0)",
            "DateTimeOffset(737388, 434050000000@7, +0)",
            "DateTimeOffset(737388, 632051234567@7, -330)",
            "DateTimeOffset(3652058, 359999999999@7, +840)",
            // 2020-01-01T13:00 UTC.
            "DateTimeOffset(737424, 468000000000@7, -840)",
        ]
    );
    assert_eq!(
        ok(
            SqlType::DateTimeOffset { scale: 3 },
            texts(&["2019-11-26T12:03:25.123+01:00"])
        ),
        ["DateTimeOffset(737388, 39805123@3, +60)"]
    );
    assert_eq!(
        refused(
            SqlType::DateTimeOffset { scale: 3 },
            texts(&[
                "2019-11-26T12:03:25.1234+01:00",
                "9999-12-31T23:59:59.999-14:00",
                "0001-01-01T00:00:00.000+14:00",
            ])
        ),
        [
            "inexact: more fraction digits than the column's scale",
            "range: 0001-01-01 ..= 9999-12-31 in UTC",
            "range: 0001-01-01 ..= 9999-12-31 in UTC",
        ]
    );
    malformed(
        ty,
        texts(&[
            "2019-11-26T12:03:25",
            "2019-11-26T12:03:25+14:01",
            "2019-11-26T12:03:25+01:60",
            "2019-11-26T12:03:25+0100",
            "2019-11-26T12:03:25.+01:00",
            "2019-13-26T12:03:25+01:00",
            "2019-11-26X12:03:25+01:00",
            "2019-11-26T24:00:00+01:00",
            "2019-11-26T12:03:25  +01:00",
            "2019-11-26T12:03:25+01:0０",
            "+01:00",
            "Z",
            "",
        ]),
    );
}

#[test]
fn guids_are_parsed_strictly() {
    let expected = "Guid([FF, 1E, 2C, 3D, 4B, 5A, 69, 78, 87, 96, A5, B4, C3, D2, E1, F0])";
    assert_eq!(
        ok(
            SqlType::UniqueIdentifier,
            texts(&[
                "FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0",
                "ff1e2c3d-4b5a-6978-8796-a5b4c3d2e1f0",
                "00000000-0000-0000-0000-000000000000",
            ])
        ),
        [
            expected,
            expected,
            "Guid([00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00])"
        ]
    );
    malformed(
        SqlType::UniqueIdentifier,
        texts(&[
            "FF1E2C3D4B5A69788796A5B4C3D2E1F0",
            "{FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0}",
            "urn:uuid:FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0",
            "FF1E2C3D4-B5A-6978-8796-A5B4C3D2E1F0",
            "GF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0",
            "FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F",
            "FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F00",
            "FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1É",
            "",
        ]),
    );
}

#[test]
fn value_errors_name_the_column_the_row_and_the_value() {
    let batch = batch(vec![
        (
            "DAY",
            SqlType::Date,
            Arc::new(Date32Array::from(vec![0, -719_163])),
        ),
        ("SS_KEY", SqlType::UniqueIdentifier, texts(&["x", "y"])),
    ]);
    let err = BoundBatch::new(&batch, &["DAY"])
        .unwrap()
        .bulk_row(1)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column `DAY` row 1: `0000-12-31` is outside the range of `DATE` (0001-01-01 ..= \
         9999-12-31); the target cannot store it, so the transform must produce values of \
         the target type"
    );
    let err = BoundBatch::new(&batch, &["SS_KEY"])
        .unwrap()
        .bulk_row(0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "column `SS_KEY` row 0: `x` is not an `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` GUID"
    );
}

#[test]
fn binding_checks_names_metadata_and_arrow_types() {
    let plain = Field::new("PLAIN", DataType::Int32, false);
    let unknown = Field::new("UNKNOWN", DataType::Int32, false).with_metadata(HashMap::from([(
        SQL_TYPE_METADATA_KEY.to_owned(),
        "SQL_VARIANT".to_owned(),
    )]));
    let wrong = field("WRONG", SqlType::BigInt, true).with_data_type(DataType::Int32);
    let scale = field(
        "SCALE",
        SqlType::Decimal {
            precision: 37,
            scale: 8,
        },
        true,
    )
    .with_data_type(DataType::Decimal128(37, 6));
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![plain, unknown, wrong, scale])),
        vec![
            Arc::new(Int32Array::from(vec![1])),
            Arc::new(Int32Array::from(vec![1])),
            Arc::new(Int32Array::from(vec![1])),
            dec(37, 6, &[1]),
        ],
    )
    .unwrap();
    assert_eq!(
        BoundBatch::new(&batch, &["NOPE"]).unwrap_err(),
        ValueError::MissingColumn {
            column: "NOPE".into()
        }
    );
    assert_eq!(
        BoundBatch::new(&batch, &["PLAIN"]).unwrap_err(),
        ValueError::MissingSqlType {
            column: "PLAIN".into()
        }
    );
    assert_eq!(
        BoundBatch::new(&batch, &["UNKNOWN"]).unwrap_err(),
        ValueError::UnknownSqlType {
            column: "UNKNOWN".into(),
            ddl: "SQL_VARIANT".into()
        }
    );
    assert_eq!(
        BoundBatch::new(&batch, &["WRONG"]).unwrap_err(),
        ValueError::Mismatch {
            column: "WRONG".into(),
            expected: "`Int64` for `BIGINT`".into(),
            found: "Int32".into(),
        }
    );
    assert_eq!(
        BoundBatch::new(&batch, &["SCALE"]).unwrap_err(),
        ValueError::Mismatch {
            column: "SCALE".into(),
            expected: "`Decimal128(37, 8)` for `DECIMAL(37,8)`".into(),
            found: "Decimal128(37, 6)".into(),
        }
    );
}
