//! Values the load must keep exactly: date/times at full precision and long texts, each
//! rendered as the insert writer renders it, read back as the extract and verify read it.

use arrow::array::RecordBatch;
use bptmig_db::SqlClient;
use bptmig_workdir::iso::{parse_iso_datetime_ns, parse_iso_time_ns};
use bptmig_workdir::sql_type::{ColumnPlan, SqlType};

use super::roundtrip::{difference, insert_sql, read_back, run, Found as Outcome};
use super::sample::long_text;
use super::shape::{drop_sql, Shape};
use crate::value::BoundBatch;
use crate::Result;

/// A date/time type, a value at its full precision, and the same value at a whole second.
struct Case {
    ty: SqlType,
    full: &'static str,
    whole: &'static str,
}

const CASES: [Case; 4] = [
    Case {
        ty: SqlType::DateTime,
        full: "2019-11-26T12:03:25.997",
        whole: "2019-11-26T12:03:25",
    },
    Case {
        ty: SqlType::DateTime2 { scale: 7 },
        full: "2019-11-26T12:03:25.1234567",
        whole: "2019-11-26T12:03:25",
    },
    Case {
        ty: SqlType::DateTimeOffset { scale: 7 },
        full: "2019-11-26T12:03:25.1234567+05:45",
        whole: "2019-11-26T12:03:25.0000000+05:45",
    },
    Case {
        ty: SqlType::Time { scale: 7 },
        full: "23:59:59.9999999",
        whole: "23:59:59",
    },
];

/// What came of one value.
enum Kept {
    Exact,
    Lost(String),
    /// The server has no column of the type: its words.
    NoColumn(String),
}

/// Each date/time type at full precision, then (where that fails) at a whole second.
pub async fn date_times(client: &mut SqlClient) -> Result<Outcome> {
    let mut exact = Vec::new();
    let mut failed = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let ddl = case.ty.ddl();
        match one(client, &format!("{i}f"), case.ty, case.full).await? {
            Kept::Exact => exact.push(ddl),
            Kept::NoColumn(words) => {
                failed.push(format!(
                    "{ddl}: the server refused a column of this type ({words})"
                ));
            }
            Kept::Lost(full) => match one(client, &format!("{i}w"), case.ty, case.whole).await? {
                Kept::Exact => {
                    failed.push(format!(
                        "{ddl} whole seconds only (`{}`: {full})",
                        case.full
                    ));
                }
                Kept::Lost(whole) | Kept::NoColumn(whole) => {
                    failed.push(format!("{ddl} fails even at a whole second ({whole})"));
                }
            },
        }
    }
    if failed.is_empty() {
        return Ok(Ok(format!(
            "{} came back exact at full precision",
            exact.join(", ")
        )));
    }
    let works = if exact.is_empty() {
        String::new()
    } else {
        format!("; exact: {}", exact.join(", "))
    };
    Ok(Err(format!(
        "{}{works}; rows holding such values would be refused or changed by this server",
        failed.join("; ")
    )))
}

/// Each date/time type's temporary table (named `prefix` + a number) and its one row at full
/// precision, for the bulk copy to send as well.
pub fn full_precision(prefix: &str) -> std::result::Result<Vec<(Shape, RecordBatch)>, String> {
    CASES
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let shape = time_shape(&format!("{prefix}{i}"), case.ty);
            value_batch(&shape.plans, case.ty, case.full).map(|b| (shape, b))
        })
        .collect()
}

/// A temporary table `temp` of an `ID` and one value of type `ty`.
fn time_shape(temp: &str, ty: SqlType) -> Shape {
    Shape {
        table: "date/time",
        temp: temp.to_owned(),
        plans: vec![plan("ID", SqlType::Int), plan("V", ty)],
        identity: None,
    }
}

/// One value of type `ty` (its text `text`) through a temporary table.
async fn one(client: &mut SqlClient, i: &str, ty: SqlType, text: &str) -> Result<Kept> {
    let shape = time_shape(&format!("#bptmig_probe_time{i}"), ty);
    let sent = match value_batch(&shape.plans, ty, text) {
        Ok(b) => b,
        Err(why) => return Ok(Kept::Lost(why)),
    };
    round_trip(client, &shape, &sent).await
}

/// The sent batch's rows inserted with the load's literals and read back.
async fn round_trip(
    client: &mut SqlClient,
    shape: &Shape,
    sent: &arrow::array::RecordBatch,
) -> Result<Kept> {
    let columns: Vec<String> = shape.plans.iter().map(|p| p.name.clone()).collect();
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let insert = BoundBatch::new(sent, &names)
        .map_err(|e| e.to_string())
        .and_then(|b| insert_sql(&shape.temp, &columns, &b));
    let insert = match insert {
        Ok(sql) => sql,
        Err(why) => return Ok(Kept::Lost(why)),
    };
    if let Err(words) = run(client, &shape.create_sql()).await? {
        return Ok(Kept::NoColumn(words));
    }
    let kept = match run(client, &insert).await? {
        Err(words) => Kept::Lost(format!("refused: {words}")),
        Ok(()) => match read_back(client, shape, "ID", false).await? {
            Err(why) => Kept::Lost(format!("not read back: {why}")),
            Ok(read) if read.num_rows() != sent.num_rows() => {
                Kept::Lost(format!("{} row(s) came back", read.num_rows()))
            }
            Ok(read) => (0..sent.num_rows())
                .find_map(|r| difference(shape.table, &columns, (sent, r), (&read, r)))
                .map_or(Kept::Exact, Kept::Lost),
        },
    };
    run(client, &drop_sql(&shape.temp)).await?.ok();
    Ok(kept)
}

fn plan(name: &str, sql_type: SqlType) -> ColumnPlan {
    ColumnPlan {
        name: name.to_owned(),
        sql_type,
        nullable: name != "ID",
    }
}

/// A one-row batch: ID 1, and `text` as a value of `ty`.
fn value_batch(
    plans: &[ColumnPlan],
    ty: SqlType,
    text: &str,
) -> std::result::Result<arrow::array::RecordBatch, String> {
    use arrow::array::{
        ArrayRef, Int32Array, StringArray, Time64NanosecondArray, TimestampMillisecondArray,
        TimestampNanosecondArray,
    };
    use std::sync::Arc;
    let bad = |e: bptmig_workdir::iso::ParseError| format!("`{text}`: {e}");
    let value: ArrayRef = match ty {
        SqlType::DateTime => Arc::new(TimestampMillisecondArray::from(vec![
            parse_iso_datetime_ns(text).map_err(bad)? / 1_000_000,
        ])),
        SqlType::DateTime2 { .. } => {
            Arc::new(TimestampNanosecondArray::from(vec![parse_iso_datetime_ns(
                text,
            )
            .map_err(bad)?]))
        }
        SqlType::Time { .. } => {
            Arc::new(Time64NanosecondArray::from(vec![
                parse_iso_time_ns(text).map_err(bad)?
            ]))
        }
        _ => Arc::new(StringArray::from(vec![text])),
    };
    let ids: ArrayRef = Arc::new(Int32Array::from(vec![1]));
    arrow::array::RecordBatch::try_new(
        bptmig_workdir::sql_type::schema_for(plans),
        vec![ids, value],
    )
    .map_err(|e| e.to_string())
}

/// `NVARCHAR(MAX)` values over 4,000 characters with quotes, astral characters, a NUL and a
/// backslash before a newline, through the load's literals.
pub async fn long_texts(client: &mut SqlClient) -> Result<Outcome> {
    use arrow::array::{ArrayRef, Int32Array, StringArray};
    use std::sync::Arc;
    let texts = [
        long_text(0),
        long_text(3),
        "'".repeat(8_001),
        "😀".repeat(4_000),
    ];
    let plans = vec![
        plan("ID", SqlType::Int),
        plan("V", SqlType::NVarChar { len: None }),
    ];
    let shape = Shape {
        table: "long text",
        temp: "#bptmig_probe_text".to_owned(),
        plans,
        identity: None,
    };
    let ids: ArrayRef = Arc::new(Int32Array::from(
        (1..=texts.len() as i32).collect::<Vec<_>>(),
    ));
    let values: ArrayRef = Arc::new(StringArray::from(
        texts.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let sent = match arrow::array::RecordBatch::try_new(
        bptmig_workdir::sql_type::schema_for(&shape.plans),
        vec![ids, values],
    ) {
        Ok(b) => b,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let lengths: Vec<String> = texts
        .iter()
        .map(|t| t.encode_utf16().count().to_string())
        .collect();
    Ok(match round_trip(client, &shape, &sent).await? {
        Kept::Exact => Ok(format!(
            "{} `NVARCHAR(MAX)` values of {} UTF-16 units (quotes, astral characters, NUL, \
             backslash-newline) came back exact",
            texts.len(),
            lengths.join(", ")
        )),
        Kept::Lost(why) => Err(why),
        Kept::NoColumn(words) => Err(format!(
            "the server refused an `NVARCHAR(MAX)` column ({words})"
        )),
    })
}
