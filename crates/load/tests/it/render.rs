//! `BoundBatch::render_row` literals written to a sandbox server and read back unchanged.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, BooleanArray, Decimal128Array, Int32Array, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use bptmig_load::value::BoundBatch;
use bptmig_sandbox::{connect, sql, SandboxServer};
use bptmig_workdir::iso::{format_iso_datetime_ms, parse_iso_date_days};
use bptmig_workdir::sql_type::{SqlType, SQL_TYPE_METADATA_KEY};
use tiberius::numeric::Numeric;

use crate::rng::Rng;

const ROWS: usize = 300;
const ROWS_PER_INSERT: usize = 100;
const SCALE: i8 = 8;
const MS_PER_DAY: i64 = 86_400_000;

fn field(name: &str, ty: SqlType, nullable: bool) -> Field {
    Field::new(name, ty.arrow_type(), nullable).with_metadata(HashMap::from([(
        SQL_TYPE_METADATA_KEY.to_owned(),
        ty.ddl(),
    )]))
}

/// `ROWS` rows of random text, extreme and random decimals, whole-second datetimes
/// (the sandbox rejects fractional datetime literals) and bits, with NULLs.
pub fn random_batch() -> RecordBatch {
    let mut rng = Rng(0xB7_2024);
    let max37 = 10_i128.pow(37) - 1;
    let first_ms = i64::from(parse_iso_date_days("1753-01-01").unwrap()) * MS_PER_DAY;
    let last_ms = i64::from(parse_iso_date_days("9999-12-31").unwrap()) * MS_PER_DAY;
    let mut texts = Vec::with_capacity(ROWS);
    let mut decimals = Vec::with_capacity(ROWS);
    let mut times = Vec::with_capacity(ROWS);
    let mut bits = Vec::with_capacity(ROWS);
    for row in 0..ROWS {
        texts.push(match row {
            0 => Some("\0".to_owned()),
            1 => Some(String::new()),
            2 => Some(format!(
                "{}\0{}",
                "é'😀".repeat(2_000),
                "\\\n".repeat(1_000)
            )),
            _ if rng.below(20) == 0 => None,
            _ => Some(rng.string(5_000)),
        });
        decimals.push(match row {
            0 => Some(max37),
            1 => Some(-max37),
            2 => Some(-1),
            3 => Some(0),
            _ if rng.below(20) == 0 => None,
            // Up to 38 random digits, cut to the column's 37.
            _ => Some((i128::from(rng.next()) << 64 | i128::from(rng.next())) % (max37 + 1)),
        });
        times.push(match row {
            0 => first_ms,
            1 => last_ms + MS_PER_DAY - 1_000,
            _ => first_ms + (rng.below((last_ms - first_ms) as u64 / 1_000) as i64) * 1_000,
        });
        bits.push(match rng.below(3) {
            0 => None,
            n => Some(n == 1),
        });
    }
    let decimal_ty = SqlType::Decimal {
        precision: 37,
        scale: SCALE,
    };
    let schema = Schema::new(vec![
        field("ID", SqlType::Int, false),
        field("V", SqlType::NVarChar { len: None }, true),
        field("D", decimal_ty, true),
        field("T", SqlType::DateTime, false),
        field("B", SqlType::Bit, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int32Array::from_iter_values(0..ROWS as i32)),
            Arc::new(StringArray::from(texts)),
            Arc::new(
                Decimal128Array::from(decimals)
                    .with_precision_and_scale(37, SCALE)
                    .unwrap(),
            ),
            Arc::new(TimestampMillisecondArray::from(times)),
            Arc::new(BooleanArray::from(bits)),
        ],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_rows_read_back_unchanged() {
    let batch = random_batch();
    let server = SandboxServer::start().unwrap();
    let mut client = connect(&server.connection_string()).await.unwrap();
    sql::execute(
        &mut client,
        "CREATE TABLE RENDERED (ID INT NOT NULL PRIMARY KEY, V NVARCHAR(MAX) NULL, \
         D DECIMAL(37,8) NULL, T DATETIME NOT NULL, B BIT NULL)",
    )
    .await
    .unwrap();

    let renderer = BoundBatch::new(&batch, &["ID", "V", "D", "T", "B"]).unwrap();
    let mut statement = String::new();
    for start in (0..ROWS).step_by(ROWS_PER_INSERT) {
        statement.clear();
        statement.push_str("BEGIN TRANSACTION;\nINSERT INTO RENDERED (ID, V, D, T, B) VALUES\n");
        for row in start..(start + ROWS_PER_INSERT).min(ROWS) {
            if row > start {
                statement.push_str(",\n");
            }
            renderer.render_row(&mut statement, row).unwrap();
        }
        statement.push_str(";\nCOMMIT;");
        sql::execute(&mut client, &statement).await.unwrap();
    }

    let rows = client
        .simple_query("SELECT ID, V, D, CONVERT(VARCHAR(33), T, 126), B FROM RENDERED ORDER BY ID")
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows.len(), ROWS);

    let texts = batch
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let decimals = batch
        .column(2)
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .unwrap();
    let times = batch
        .column(3)
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .unwrap();
    let bits = batch
        .column(4)
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap();
    let mut long_texts = 0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.get::<i32, _>(0), Some(i as i32));

        let text: Option<&str> = row.get(1);
        let expected = texts.is_valid(i).then(|| texts.value(i));
        assert!(text == expected, "row {i}: text differs");
        long_texts += usize::from(expected.is_some_and(|t| t.chars().count() > 4_000));

        let decimal: Option<Numeric> = row.get(2);
        let expected = decimals.is_valid(i).then(|| decimals.value(i));
        let decimal = decimal.map(|n| {
            assert_eq!(n.scale(), SCALE as u8, "row {i}");
            n.value()
        });
        assert_eq!(decimal, expected, "row {i}: decimal differs");

        let time: Option<&str> = row.get(3);
        let expected = format_iso_datetime_ms(times.value(i));
        assert_eq!(
            time,
            Some(expected.strip_suffix(".000").unwrap()),
            "row {i}: datetime differs"
        );

        let bit: Option<bool> = row.get(4);
        assert_eq!(bit, bits.is_valid(i).then(|| bits.value(i)), "row {i}");
    }
    // The data covered what it is meant to: long values (over the 4,000-character
    // non-MAX limit) and both decimal extremes.
    assert!(long_texts > 10, "{long_texts}");
    assert_eq!(decimals.value(0), 10_i128.pow(37) - 1);
}
