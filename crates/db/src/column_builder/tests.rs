//! Column builders and the Parquet round trip of every type.

use std::borrow::Cow;

use arrow::array::{
    Array, AsArray, BinaryArray, Date32Array, Decimal128Array, RecordBatch, StringArray,
    Time64NanosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
};
use arrow::datatypes::{Int32Type, UInt8Type};
use arrow::util::pretty::pretty_format_batches;
use bptmig_workdir::iso::{format_iso_date_days, format_iso_datetime_ms, format_iso_time_ns};
use bptmig_workdir::sql_type::{schema_for, SQL_TYPE_METADATA_KEY};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use tiberius::numeric::Numeric;
use tiberius::Uuid;

use super::*;

const NS: i64 = 1_000_000_000;

fn plan(name: &str, sql_type: SqlType, nullable: bool) -> ColumnPlan {
    ColumnPlan {
        name: name.to_owned(),
        sql_type,
        nullable,
    }
}

fn text(s: &str) -> ColumnData<'static> {
    ColumnData::String(Some(Cow::Owned(s.to_owned())))
}

fn numeric(value: i128, scale: u8) -> ColumnData<'static> {
    ColumnData::Numeric(Some(Numeric::new_with_scale(value, scale)))
}

/// What `tiberius` 0.13 makes of a money value scaled by 10^4 (`money::decode`, len 8).
fn tiberius_money(scaled: i64) -> f64 {
    let high = i64::from((scaled >> 32) as i32);
    let low = f64::from(scaled as u32);
    ((high << 32) as f64 + low) / 1e4
}

fn build(plan: &ColumnPlan, values: Vec<ColumnData<'_>>) -> Result<ArrayRef, ConvertError> {
    let values_len = values.len();
    let mut builder = ColumnBuilder::new(plan, values_len);
    for value in values {
        builder.append(value)?;
    }
    assert_eq!(builder.len(), values_len);
    Ok(builder.finish())
}

fn build_one(plan: &ColumnPlan, value: ColumnData<'_>) -> Result<ArrayRef, ConvertError> {
    let mut builder = ColumnBuilder::new(plan, 1);
    builder.append(value)?;
    Ok(builder.finish())
}

// ---- builders --------------------------------------------------------------------------------

#[test]
fn datetime_keeps_milliseconds_from_1753_to_9999() {
    let plan = plan("CREATED", SqlType::DateTime, true);
    let array = build(
        &plan,
        vec![
            text("2019-11-26T12:03:25"),
            text("2019-11-26T12:03:25.997"),
            text("2019-11-26T12:03:25.003"),
            text("2019-11-26T12:03:25.007"),
            text("1900-01-01T00:00:00"),
            text("1753-01-01T00:00:00"),
            text("9999-12-31T23:59:59.997"),
            ColumnData::String(None),
        ],
    )
    .unwrap();
    let array = array
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .unwrap();
    let base = 1_574_769_805_000;
    assert_eq!(
        array.iter().collect::<Vec<_>>(),
        vec![
            Some(base),
            Some(base + 997),
            Some(base + 3),
            Some(base + 7),
            Some(-2_208_988_800_000),
            Some(-6_847_804_800_000),
            Some(253_402_300_799_997),
            None
        ]
    );
    let back: Vec<_> = array.iter().flatten().map(format_iso_datetime_ms).collect();
    assert_eq!(back[1], "2019-11-26T12:03:25.997");
    assert_eq!(back[6], "9999-12-31T23:59:59.997");

    let err = build_one(&plan, text("2019-11-26T12:03:25.9975")).unwrap_err();
    assert!(matches!(err, ConvertError::Unrepresentable { .. }), "{err}");
}

#[test]
fn datetime2_outside_nanoseconds_names_the_value() {
    let plan = plan("D2", SqlType::DateTime2 { scale: 7 }, true);
    let array = build_one(&plan, text("2019-11-26T12:03:25.1234567")).unwrap();
    assert_eq!(
        array
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .unwrap()
            .value(0),
        1_574_769_805 * NS + 123_456_700
    );
    let err = build_one(&plan, text("9999-12-31T23:59:59.9999999")).unwrap_err();
    assert!(matches!(err, ConvertError::Unrepresentable { .. }));
    let message = err.to_string();
    assert!(message.contains("`D2`"), "{message}");
    assert!(
        message.contains("`9999-12-31T23:59:59.9999999`"),
        "{message}"
    );
    assert!(message.contains("1677-09-21 to 2262-04-11"), "{message}");

    let err = build_one(&plan, text("26/11/2019")).unwrap_err();
    assert_eq!(
        err,
        ConvertError::Parse {
            column: "D2".to_owned(),
            value: "26/11/2019".to_owned(),
            source: ParseError::Expected {
                expected: "a digit",
                at: 2
            },
        }
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn datetimeoffset_is_canonical_text_with_the_offset() {
    let dto = |scale: u8, input: &str| {
        let plan = plan("O", SqlType::DateTimeOffset { scale }, true);
        build_one(&plan, text(input)).map(|a| a.as_string::<i32>().value(0).to_owned())
    };
    let canonical = [
        (
            7,
            "2019-11-26 12:03:25.1234567 +01:00",
            "2019-11-26T12:03:25.1234567+01:00",
        ),
        (
            7,
            "2019-11-26T12:03:25.1234567+01:00",
            "2019-11-26T12:03:25.1234567+01:00",
        ),
        (0, "2019-11-26T12:03:25Z", "2019-11-26T12:03:25+00:00"),
        (
            3,
            "0001-01-01 00:00:00 -05:30",
            "0001-01-01T00:00:00.000-05:30",
        ),
        (
            7,
            "9999-12-31 23:59:59.9999999 -14:00",
            "9999-12-31T23:59:59.9999999-14:00",
        ),
        // More digits than the scale are kept rather than cut.
        (
            0,
            "2019-11-26 12:03:25.5 +00:00",
            "2019-11-26T12:03:25.5+00:00",
        ),
    ];
    for (scale, input, expected) in canonical {
        assert_eq!(dto(scale, input).unwrap(), expected, "{input}");
    }
    for bad in [
        "2019-11-26 12:03:25",
        "2019-11-26 12:03:25 +15:00",
        "2019-11-26 12:03:25 +01:60",
        "2019-11-26 12:03:25 +0100",
        "2019-11-26 12:03:25 +01:00 ",
    ] {
        let err = dto(7, bad).unwrap_err();
        assert!(matches!(err, ConvertError::Parse { .. }), "{bad}: {err}");
    }
}

#[test]
fn decimals_are_rescaled_only_when_exact() {
    let plan = plan(
        "AMOUNT",
        SqlType::Decimal {
            precision: 10,
            scale: 4,
        },
        true,
    );
    let array = build(
        &plan,
        vec![
            numeric(12_345, 2),         // 123.45
            numeric(1_234_500, 4),      // 123.4500
            numeric(-1_234_500_000, 7), // -123.4500000
            numeric(9_999_999_999, 4),  // the largest DECIMAL(10,4)
        ],
    )
    .unwrap();
    let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert_eq!(
        array.iter().collect::<Vec<_>>(),
        vec![
            Some(1_234_500),
            Some(1_234_500),
            Some(-1_234_500),
            Some(9_999_999_999)
        ]
    );
    for lossy in [
        numeric(1_234_501, 6),
        numeric(10_000_000_000, 4),
        numeric(1, 38),
    ] {
        let err = build_one(&plan, lossy).unwrap_err();
        assert!(matches!(err, ConvertError::Unrepresentable { .. }), "{err}");
        assert!(err.to_string().contains("`AMOUNT`"));
    }
}

#[test]
fn money_is_exact_from_numeric_and_from_tiberius_f64() {
    let money = plan("M", SqlType::Money, true);
    let mut scaled_values = vec![
        0,
        1,
        -1,
        12_345_678,
        -9_999,
        (1 << 52) - 1,
        -(1 << 52) + 1,
        (1 << 40) + 7,
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for bits in 1..52 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let v = (x >> 12) as i64 & ((1 << bits) - 1);
        scaled_values.push(v);
        scaled_values.push(-v);
    }
    let floats: Vec<_> = scaled_values
        .iter()
        .map(|&s| ColumnData::F64(Some(tiberius_money(s))))
        .collect();
    let array = build(&money, floats).unwrap();
    let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
    let got: Vec<i128> = array.iter().flatten().collect();
    let want: Vec<i128> = scaled_values.iter().map(|&s| i128::from(s)).collect();
    assert_eq!(got, want);

    // Above 2^52 two money values can decode to one f64: refused, pointing at the CAST.
    let err = build_one(&money, ColumnData::F64(Some(tiberius_money(i64::MAX)))).unwrap_err();
    assert!(err.to_string().contains("DECIMAL(19,4)"), "{err}");
    // The CAST select expression yields Numeric, exact over the whole range.
    let array = build(
        &money,
        vec![numeric(i64::MAX.into(), 4), numeric(i64::MIN.into(), 4)],
    )
    .unwrap();
    let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert_eq!(array.value(0), i128::from(i64::MAX));
    assert_eq!(array.value(1), i128::from(i64::MIN));
    assert_eq!(array.value_as_string(0), "922337203685477.5807");

    let small = plan("S", SqlType::SmallMoney, false);
    let values = [i32::MIN, i32::MAX, 0, -1];
    let array = build(
        &small,
        values
            .iter()
            .map(|&s| ColumnData::F64(Some(f64::from(s) / 1e4)))
            .collect(),
    )
    .unwrap();
    let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert_eq!(
        array.iter().flatten().collect::<Vec<_>>(),
        values.iter().map(|&v| i128::from(v)).collect::<Vec<_>>()
    );
    // F64 is accepted for money only.
    let decimal = plan(
        "D",
        SqlType::Decimal {
            precision: 19,
            scale: 4,
        },
        true,
    );
    assert!(matches!(
        build_one(&decimal, ColumnData::F64(Some(1.0))),
        Err(ConvertError::Mismatch { .. })
    ));
}

#[test]
fn mismatches_and_nulls_are_typed_errors() {
    let id = plan("ID", SqlType::Int, false);
    let err = build_one(&id, ColumnData::I64(Some(1))).unwrap_err();
    assert_eq!(
        err,
        ConvertError::Mismatch {
            column: "ID".to_owned(),
            expected: "`I32` (or a narrower integer)",
            found: "I64",
        }
    );
    assert!(err.to_string().contains("`ColumnPlan::select_expr`"));
    assert_eq!(
        build_one(&id, ColumnData::I32(None)).unwrap_err(),
        ConvertError::UnexpectedNull {
            column: "ID".to_owned()
        }
    );
    // A native date/time value means the column was not read through `select_expr`.
    let created = plan("CREATED", SqlType::DateTime, false);
    let native = ColumnData::DateTime(Some(tiberius::time::DateTime::new(0, 0)));
    assert!(matches!(
        build_one(&created, native).unwrap_err(),
        ConvertError::Mismatch {
            found: "DateTime",
            ..
        }
    ));
    let tiny = plan("T", SqlType::TinyInt, true);
    assert!(build_one(&tiny, ColumnData::I16(Some(1))).is_err());
    let name = plan("NAME", SqlType::NVarChar { len: Some(50) }, true);
    assert!(build_one(&name, ColumnData::I32(Some(1))).is_err());
    // NULL of any variant is a NULL.
    let array = build_one(&name, ColumnData::I32(None)).unwrap();
    assert!(array.is_null(0));
}

#[test]
fn builders_are_reusable_across_batches() {
    let plan = plan("ID", SqlType::Int, true);
    let mut builder = ColumnBuilder::new(&plan, 2);
    assert!(builder.is_empty());
    builder.append(ColumnData::I32(Some(1))).unwrap();
    builder.append(ColumnData::I32(None)).unwrap();
    assert_eq!(builder.len(), 2);
    assert_eq!(builder.name(), "ID");
    let first = builder.finish();
    assert!(builder.is_empty());
    builder.append(ColumnData::I32(Some(3))).unwrap();
    let second = builder.finish();
    assert_eq!(first.len(), 2);
    assert_eq!(second.as_primitive::<Int32Type>().value(0), 3);
}

// ---- the round trip --------------------------------------------------------------------------

const ROWS: usize = 6;

/// A column of every supported type with `ROWS` values each, NULLs and extremes included.
fn every_type() -> Vec<(ColumnPlan, Vec<ColumnData<'static>>)> {
    [
        integer_and_bit_columns(),
        decimal_and_float_columns(),
        text_columns(),
        date_time_columns(),
        guid_and_binary_columns(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

type Columns = Vec<(ColumnPlan, Vec<ColumnData<'static>>)>;

/// 4,800 characters outside ASCII.
fn long_unicode() -> String {
    "Ünïcödé ✓ 日本語 𝄞 ".repeat(300)
}

/// 8,000 ASCII characters.
fn long_ascii() -> String {
    "x".repeat(8_000)
}

fn null_text() -> ColumnData<'static> {
    ColumnData::String(None)
}

fn binary(b: &[u8]) -> ColumnData<'static> {
    ColumnData::Binary(Some(Cow::Owned(b.to_vec())))
}

/// Integers and bits, at their extremes.
fn integer_and_bit_columns() -> Columns {
    vec![
        (
            plan("TINY", SqlType::TinyInt, true),
            vec![
                ColumnData::U8(Some(0)),
                ColumnData::U8(Some(255)),
                ColumnData::U8(None),
                ColumnData::U8(Some(7)),
                ColumnData::U8(Some(1)),
                ColumnData::U8(Some(2)),
            ],
        ),
        (
            plan("SMALL", SqlType::SmallInt, true),
            vec![
                ColumnData::I16(Some(i16::MIN)),
                ColumnData::I16(Some(i16::MAX)),
                ColumnData::I16(None),
                ColumnData::U8(Some(5)),
                ColumnData::I16(Some(0)),
                ColumnData::I16(Some(-1)),
            ],
        ),
        (
            plan("ID", SqlType::Int, false),
            vec![
                ColumnData::I32(Some(i32::MIN)),
                ColumnData::I32(Some(i32::MAX)),
                ColumnData::I32(Some(0)),
                ColumnData::I16(Some(-3)),
                ColumnData::I32(Some(1)),
                ColumnData::I32(Some(2)),
            ],
        ),
        (
            plan("BIG", SqlType::BigInt, true),
            vec![
                ColumnData::I64(Some(i64::MIN)),
                ColumnData::I64(Some(i64::MAX)),
                ColumnData::I64(None),
                ColumnData::I32(Some(-1)),
                ColumnData::I64(Some(0)),
                ColumnData::I64(Some(1)),
            ],
        ),
        (
            plan("FLAG", SqlType::Bit, true),
            vec![
                ColumnData::Bit(Some(true)),
                ColumnData::Bit(Some(false)),
                ColumnData::Bit(None),
                ColumnData::Bit(Some(true)),
                ColumnData::Bit(Some(false)),
                ColumnData::Bit(None),
            ],
        ),
    ]
}

/// Decimals, money and floats, at their extremes.
fn decimal_and_float_columns() -> Columns {
    let max_38 = 10_i128.pow(38) - 1;
    vec![
        (
            plan(
                "DEC38",
                SqlType::Decimal {
                    precision: 38,
                    scale: 10,
                },
                true,
            ),
            vec![
                numeric(max_38, 10),
                numeric(-max_38, 10),
                ColumnData::Numeric(None),
                numeric(12_345, 2),
                numeric(-1, 10),
                numeric(0, 0),
            ],
        ),
        (
            plan(
                "DEC_INT",
                SqlType::Decimal {
                    precision: 38,
                    scale: 0,
                },
                true,
            ),
            vec![
                numeric(max_38, 0),
                numeric(-max_38, 0),
                ColumnData::Numeric(None),
                numeric(-42, 0),
                numeric(1, 0),
                numeric(0, 0),
            ],
        ),
        (
            plan("MONEY", SqlType::Money, true),
            vec![
                numeric(i64::MAX.into(), 4),
                numeric(i64::MIN.into(), 4),
                ColumnData::Numeric(None),
                ColumnData::F64(Some(123.4567)),
                ColumnData::F64(Some(-0.0001)),
                numeric(0, 4),
            ],
        ),
        (
            plan("SMALLMONEY", SqlType::SmallMoney, true),
            vec![
                numeric(i32::MAX.into(), 4),
                numeric(i32::MIN.into(), 4),
                ColumnData::Numeric(None),
                ColumnData::F64(Some(-214_748.364_8)),
                numeric(1, 4),
                numeric(0, 4),
            ],
        ),
        (
            plan("FLOAT", SqlType::Float, true),
            vec![
                ColumnData::F64(Some(f64::MAX)),
                ColumnData::F64(Some(f64::MIN_POSITIVE)),
                ColumnData::F64(None),
                ColumnData::F64(Some(std::f64::consts::PI)),
                ColumnData::F64(Some(-1e-300)),
                ColumnData::F64(Some(0.1)),
            ],
        ),
        (
            plan("REAL", SqlType::Real, true),
            vec![
                ColumnData::F32(Some(f32::MAX)),
                ColumnData::F32(Some(f32::MIN_POSITIVE)),
                ColumnData::F32(None),
                ColumnData::F32(Some(std::f32::consts::E)),
                ColumnData::F32(Some(-1.5)),
                ColumnData::F32(Some(0.1)),
            ],
        ),
    ]
}

/// Text of every width, long values and control characters included.
fn text_columns() -> Columns {
    let long_unicode = long_unicode();
    let long_ascii = long_ascii();
    let s = |v: &str| text(v);
    vec![
        (
            plan("CODE", SqlType::Char { len: 10 }, true),
            vec![
                s("abc       "),
                s("0123456789"),
                null_text(),
                s("          "),
                s("x         "),
                s("y         "),
            ],
        ),
        (
            plan("VC", SqlType::VarChar { len: Some(8000) }, true),
            vec![
                s(""),
                s(&long_ascii),
                null_text(),
                s("a'b\"c"),
                s(" "),
                s("z"),
            ],
        ),
        (
            plan("NC", SqlType::NChar { len: 3 }, true),
            vec![
                s("日本語"),
                s("a  "),
                null_text(),
                s("𝄞 "),
                s("abc"),
                s("   "),
            ],
        ),
        (
            plan("NAME", SqlType::NVarChar { len: Some(50) }, true),
            vec![
                s("Approve Request"),
                s("Ünïcödé ✓"),
                null_text(),
                s(""),
                s("tab\tnewline\n"),
                s("\u{0}nul"),
            ],
        ),
        (
            plan("INBOX_DETAIL", SqlType::NVarChar { len: None }, true),
            vec![
                s(&long_unicode),
                s(&long_ascii),
                null_text(),
                s(""),
                s("short"),
                s(&long_unicode[..4_001]),
            ],
        ),
        (
            plan("TXT", SqlType::Text, true),
            vec![s(&long_ascii), s(""), null_text(), s("t"), s("u"), s("v")],
        ),
        (
            plan("NTXT", SqlType::NText, true),
            vec![s(&long_unicode), s(""), null_text(), s("t"), s("u"), s("v")],
        ),
    ]
}

/// Date/times as the ISO text the server sends, at the ends of their ranges.
fn date_time_columns() -> Columns {
    let s = |v: &str| text(v);
    vec![
        (
            plan("CREATED", SqlType::DateTime, false),
            vec![
                s("2019-11-26T12:03:25"),
                s("2019-11-26T12:03:25.997"),
                s("1900-01-01T00:00:00"),
                s("1753-01-01T00:00:00"),
                s("9999-12-31T23:59:59.997"),
                s("2020-02-29T00:00:00.003"),
            ],
        ),
        (
            plan("SMALLDT", SqlType::SmallDateTime, true),
            vec![
                s("1900-01-01T00:00:00"),
                s("2079-06-06T23:59:00"),
                null_text(),
                s("2019-11-26T12:03:00"),
                s("2000-02-29T00:01:00"),
                null_text(),
            ],
        ),
        (
            plan("DT2", SqlType::DateTime2 { scale: 7 }, true),
            vec![
                s("2019-11-26T12:03:25.1234567"),
                s("2262-04-11T23:47:16.8547758"),
                null_text(),
                s("1677-09-21T00:12:43.1452242"),
                s("1900-01-01T00:00:00"),
                s("1970-01-01T00:00:00.0000001"),
            ],
        ),
        (
            plan("DAY", SqlType::Date, true),
            vec![
                s("0001-01-01"),
                s("9999-12-31"),
                null_text(),
                s("2020-02-29"),
                s("1900-01-01"),
                s("1970-01-01"),
            ],
        ),
        (
            plan("AT", SqlType::Time { scale: 7 }, true),
            vec![
                s("00:00:00"),
                s("23:59:59.9999999"),
                null_text(),
                s("12:03:25.1234567"),
                s("00:00:00.0000001"),
                s("12:00:00"),
            ],
        ),
        (
            plan("DTO", SqlType::DateTimeOffset { scale: 7 }, true),
            vec![
                s("2019-11-26 12:03:25.1234567 +01:00"),
                s("9999-12-31 23:59:59.9999999 -14:00"),
                null_text(),
                s("0001-01-01 00:00:00.0000000 +14:00"),
                s("2019-11-26T12:03:25Z"),
                s("2019-11-26 12:03:25.0000000 -05:30"),
            ],
        ),
    ]
}

/// GUIDs and binaries, long values included.
fn guid_and_binary_columns() -> Columns {
    let guid = Uuid::parse_str("ff1e2c3d-4b5a-6978-8796-a5b4c3d2e1f0").unwrap();
    let bytes: Vec<u8> = (0..=255).cycle().take(10_000).collect();
    vec![
        (
            plan("SS_KEY", SqlType::UniqueIdentifier, true),
            vec![
                ColumnData::Guid(Some(guid)),
                ColumnData::Guid(Some(Uuid::nil())),
                ColumnData::Guid(None),
                ColumnData::Guid(Some(Uuid::max())),
                ColumnData::Guid(Some(guid)),
                ColumnData::Guid(None),
            ],
        ),
        (
            plan("BIN", SqlType::Binary { len: 4 }, true),
            vec![
                binary(&[0, 1, 2, 3]),
                binary(&[255; 4]),
                ColumnData::Binary(None),
                binary(&[0; 4]),
                binary(&[9, 8, 7, 6]),
                binary(&[1; 4]),
            ],
        ),
        (
            plan("VBIN", SqlType::VarBinary { len: None }, true),
            vec![
                binary(&bytes),
                binary(&[]),
                ColumnData::Binary(None),
                binary(&[0]),
                binary(&bytes[..8_001]),
                binary(&[1, 2]),
            ],
        ),
        (
            plan("IMG", SqlType::Image, true),
            vec![
                binary(&bytes),
                binary(&[]),
                ColumnData::Binary(None),
                binary(&[0xFF]),
                binary(&[0]),
                binary(&[1]),
            ],
        ),
    ]
}

fn batch_of(columns: Vec<(ColumnPlan, Vec<ColumnData<'static>>)>) -> RecordBatch {
    let plans: Vec<ColumnPlan> = columns.iter().map(|(p, _)| p.clone()).collect();
    let arrays = columns
        .into_iter()
        .map(|(plan, values)| {
            assert_eq!(values.len(), ROWS, "{}", plan.name);
            build(&plan, values).unwrap()
        })
        .collect();
    RecordBatch::try_new(schema_for(&plans), arrays).unwrap()
}

fn parquet_round_trip(batch: &RecordBatch) -> RecordBatch {
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    // The reader wants a `ChunkReader` (a file or `bytes::Bytes`); the bytes stay in memory
    // until here, then go through an anonymous temporary file.
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(batches.len(), 1);
    batches.into_iter().next().unwrap()
}

#[test]
fn every_type_survives_parquet() {
    let batch = batch_of(every_type());
    assert_eq!(batch.num_columns(), 28);
    let back = parquet_round_trip(&batch);
    assert_eq!(back.schema(), batch.schema());
    assert_eq!(back, batch);

    // Spot checks on what was stored, beyond "the same as before".
    let column = |name: &str| back.column_by_name(name).unwrap().clone();
    assert_eq!(column("TINY").as_primitive::<UInt8Type>().value(1), 255);
    let dec = column("DEC38");
    let dec = dec.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert_eq!(
        dec.value_as_string(0),
        "9999999999999999999999999999.9999999999"
    );
    assert_eq!(
        dec.value_as_string(1),
        "-9999999999999999999999999999.9999999999"
    );
    assert_eq!(dec.value_as_string(3), "123.4500000000");
    let money = column("MONEY");
    let money = money.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert_eq!(money.value_as_string(1), "-922337203685477.5808");
    assert_eq!(money.value_as_string(3), "123.4567");
    assert_eq!(money.value_as_string(4), "-0.0001");
    let detail = column("INBOX_DETAIL");
    let detail = detail.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(detail.value(0).chars().count(), 4_800);
    let guid = column("SS_KEY");
    let guid = guid.as_string::<i32>();
    assert_eq!(guid.value(0), "FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F0");
    assert_eq!(guid.value(3), "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF");
    let dto = column("DTO");
    let dto = dto.as_string::<i32>();
    assert_eq!(dto.value(4), "2019-11-26T12:03:25.0000000+00:00");
    assert_eq!(dto.value(5), "2019-11-26T12:03:25.0000000-05:30");
    let day = column("DAY");
    let day = day.as_any().downcast_ref::<Date32Array>().unwrap();
    assert_eq!(format_iso_date_days(day.value(0)), "0001-01-01");
    let at = column("AT");
    let at = at.as_any().downcast_ref::<Time64NanosecondArray>().unwrap();
    assert_eq!(format_iso_time_ns(at.value(1), 7), "23:59:59.9999999");
    let vbin = column("VBIN");
    let vbin = vbin.as_any().downcast_ref::<BinaryArray>().unwrap();
    assert_eq!(vbin.value(0).len(), 10_000);
    let created = column("CREATED");
    let created = created
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .unwrap();
    assert_eq!(
        format_iso_datetime_ms(created.value(4)),
        "9999-12-31T23:59:59.997"
    );
    for field in back.schema().fields() {
        let ddl = field.metadata().get(SQL_TYPE_METADATA_KEY).unwrap();
        assert!(SqlType::from_ddl(ddl).is_some(), "{ddl}");
    }
}

#[test]
fn date_times_read_back_as_iso_tables() {
    let batch = batch_of(
        every_type()
            .into_iter()
            .filter(|(p, _)| ["CREATED", "DT2", "DAY", "AT", "DTO"].contains(&p.name.as_str()))
            .collect(),
    );
    let back = parquet_round_trip(&batch);
    let table = pretty_format_batches(&[back]).unwrap().to_string();
    let expected = "\
+-------------------------+-------------------------------+------------+--------------------+-----------------------------------+
| CREATED                 | DT2                           | DAY        | AT                 | DTO                               |
+-------------------------+-------------------------------+------------+--------------------+-----------------------------------+
| 2019-11-26T12:03:25     | 2019-11-26T12:03:25.123456700 | 0001-01-01 | 00:00:00           | 2019-11-26T12:03:25.1234567+01:00 |
| 2019-11-26T12:03:25.997 | 2262-04-11T23:47:16.854775800 | 9999-12-31 | 23:59:59.999999900 | 9999-12-31T23:59:59.9999999-14:00 |
| 1900-01-01T00:00:00     |                               |            |                    |                                   |
| 1753-01-01T00:00:00     | 1677-09-21T00:12:43.145224200 | 2020-02-29 | 12:03:25.123456700 | 0001-01-01T00:00:00.0000000+14:00 |
| 9999-12-31T23:59:59.997 | 1900-01-01T00:00:00           | 1900-01-01 | 00:00:00.000000100 | 2019-11-26T12:03:25.0000000+00:00 |
| 2020-02-29T00:00:00.003 | 1970-01-01T00:00:00.000000100 | 1970-01-01 | 12:00:00           | 2019-11-26T12:03:25.0000000-05:30 |
+-------------------------+-------------------------------+------------+--------------------+-----------------------------------+";
    assert_eq!(table, expected);
}
