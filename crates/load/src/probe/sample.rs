//! Rows to round-trip: a value of every column's SQL type, exact, chosen to catch what a
//! server or a writer might change (quotes, astral characters, NULLs, the ends of the ID
//! range), as an Arrow batch carrying each column's SQL type in its metadata (what
//! [`BoundBatch`](crate::value::BoundBatch) binds).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, RecordBatch, StringArray, Time64NanosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, UInt8Array,
};
use arrow::datatypes::DataType;
use bptmig_workdir::sql_type::{schema_for, ColumnPlan, SqlType};

/// 2019-11-26T12:03:25 in seconds since 1970-01-01: a whole second, which every server
/// stores (the date/times probe tries fractions).
const WHOLE_SECOND: i64 = 1_574_769_805;
/// The same day, in days since 1970-01-01.
const DAY: i32 = 18_226;
/// 12:03:25 in seconds of the day.
const TIME_OF_DAY: i64 = 43_405;

/// A text of `units` UTF-16 code units or fewer, with a quote and (when it fits) an
/// astral-plane character: what literal rendering and the server's encoding must keep.
pub fn short_text(units: usize, row: usize) -> String {
    let mut s = String::new();
    for c in format!("O'Brien {row} «ü» 😀 \\x").chars() {
        if s.encode_utf16().count() + c.len_utf16() > units {
            break;
        }
        s.push(c);
    }
    s
}

/// A text over 4,000 characters (where SQL Server truncates a concatenation of non-MAX
/// strings), with single and doubled quotes, astral-plane characters, a backslash before a
/// newline (a line continuation inside a SQL Server string constant) and a NUL.
pub fn long_text(row: usize) -> String {
    let piece = "It's ''quoted'' 😀𝄞 — ü\\\r\nend ";
    let mut s = format!("row {row}: ");
    while s.encode_utf16().count() < 4_500 + row * 1_000 {
        s.push_str(piece);
    }
    s.push('\0');
    s.push_str("after NUL");
    s
}

/// `rows` rows of `plans`, the ID column (`id`, if any) taking `ids`: every other column a
/// value of its type, NULL in row 1 where the column allows it.
pub fn batch(plans: &[ColumnPlan], id: Option<&str>, ids: &[i32]) -> Result<RecordBatch, String> {
    let rows = ids.len();
    let columns = plans
        .iter()
        .map(|p| {
            if id.is_some_and(|id| id.eq_ignore_ascii_case(&p.name)) {
                Ok(Arc::new(Int32Array::from(ids.to_vec())) as ArrayRef)
            } else {
                column(p, rows)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema_for(plans), columns).map_err(|e| e.to_string())
}

/// A column of `rows` values of `plan`'s type.
fn column(plan: &ColumnPlan, rows: usize) -> Result<ArrayRef, String> {
    let values = Values {
        rows,
        nullable: plan.nullable && rows > 2,
    };
    if let Some(array) = number_column(plan, values)? {
        return Ok(array);
    }
    Ok(match plan.sql_type {
        SqlType::Char { len } | SqlType::NChar { len } => {
            // Fixed length: a shorter value would come back padded.
            let n = len as usize;
            values.texts(|r| format!("{r}{}", "x".repeat(n)).chars().take(n).collect())
        }
        SqlType::VarChar { len } => {
            // Any code page holds ASCII.
            let n = len.map_or(100, |l| l as usize);
            values.texts(|r| format!("O'Brien {r}").chars().take(n).collect())
        }
        SqlType::NVarChar { len: Some(len) } => values.texts(|r| short_text(len as usize, r)),
        SqlType::NVarChar { len: None } | SqlType::NText => values.texts(long_text),
        SqlType::Text => values.texts(|r| format!("O'Brien {r}")),
        SqlType::UniqueIdentifier => {
            values.texts(|r| format!("FF1E2C3D-4B5A-6978-8796-A5B4C3D2E1F{:X}", r % 16))
        }
        SqlType::Binary { len } => Arc::new(
            values
                .each(|r| {
                    (0..len)
                        .map(|i| (i as usize + r) as u8)
                        .collect::<Vec<u8>>()
                })
                .collect::<BinaryArray>(),
        ),
        SqlType::VarBinary { .. } | SqlType::Image => Arc::new(
            values
                .each(|r| vec![0, 0xFF, r as u8])
                .collect::<BinaryArray>(),
        ),
        _ => time_column(plan.sql_type, values)?,
    })
}

/// How many values, and whether row 1 is NULL.
#[derive(Debug, Clone, Copy)]
struct Values {
    rows: usize,
    nullable: bool,
}

impl Values {
    /// `f(row)` for each row, `None` for row 1 of a nullable column.
    fn each<T>(self, f: impl Fn(usize) -> T) -> impl Iterator<Item = Option<T>> {
        let nullable = self.nullable;
        (0..self.rows).map(move |r| (!(nullable && r == 1)).then(|| f(r)))
    }

    fn texts(self, f: impl Fn(usize) -> String) -> ArrayRef {
        Arc::new(self.each(f).collect::<StringArray>())
    }
}

/// Numbers and bits; `None` for other types.
fn number_column(plan: &ColumnPlan, values: Values) -> Result<Option<ArrayRef>, String> {
    let n = |r: usize| r as i64;
    Ok(Some(match plan.sql_type {
        SqlType::TinyInt => Arc::new(values.each(|r| r as u8 + 1).collect::<UInt8Array>()),
        SqlType::SmallInt => Arc::new(values.each(|r| -(r as i16) - 1).collect::<Int16Array>()),
        SqlType::Int => Arc::new(values.each(|r| 1_000 + r as i32).collect::<Int32Array>()),
        SqlType::BigInt => Arc::new(values.each(|r| i64::MIN + n(r)).collect::<Int64Array>()),
        SqlType::Bit => Arc::new(values.each(|r| r % 2 == 0).collect::<BooleanArray>()),
        SqlType::Decimal { .. } | SqlType::Money | SqlType::SmallMoney => {
            let DataType::Decimal128(p, s) = plan.sql_type.arrow_type() else {
                return Err(format!("`{}`: no decimal type", plan.name));
            };
            let array = values
                .each(|r| r as i128 * 12_345 - 1)
                .collect::<Decimal128Array>()
                .with_precision_and_scale(p, s)
                .map_err(|e| e.to_string())?;
            Arc::new(array)
        }
        SqlType::Float => Arc::new(values.each(|r| 0.1 + r as f64).collect::<Float64Array>()),
        SqlType::Real => Arc::new(values.each(|r| 0.5 + r as f32).collect::<Float32Array>()),
        _ => return Ok(None),
    }))
}

/// Date/times at whole minutes (which `smalldatetime` holds too).
fn time_column(ty: SqlType, values: Values) -> Result<ArrayRef, String> {
    let seconds = |r: usize| WHOLE_SECOND - 25 + 86_400 * r as i64;
    Ok(match ty {
        SqlType::DateTime | SqlType::SmallDateTime => Arc::new(
            values
                .each(|r| seconds(r) * 1_000)
                .collect::<TimestampMillisecondArray>(),
        ),
        SqlType::DateTime2 { .. } => Arc::new(
            values
                .each(|r| seconds(r) * 1_000_000_000)
                .collect::<TimestampNanosecondArray>(),
        ),
        SqlType::Date => Arc::new(values.each(|r| DAY + r as i32).collect::<Date32Array>()),
        SqlType::Time { .. } => Arc::new(
            values
                .each(|r| (TIME_OF_DAY - 25 + 60 * r as i64) * 1_000_000_000)
                .collect::<Time64NanosecondArray>(),
        ),
        SqlType::DateTimeOffset { scale } => {
            let fraction = if scale > 0 {
                format!(".{}", "0".repeat(scale as usize))
            } else {
                String::new()
            };
            values.texts(|r| format!("2019-11-{:02}T12:03:00{fraction}+01:00", 26 + r % 3))
        }
        other => return Err(format!("no sample value for `{}`", other.ddl())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_fit_their_columns_and_carry_what_must_survive() {
        assert_eq!(short_text(3, 0), "O'B");
        let s = short_text(200, 2);
        assert!(s.contains('\'') && s.contains('😀'), "{s}");
        // The astral character is two UTF-16 units: it is left out rather than cut.
        assert!(short_text(16, 0).encode_utf16().count() <= 16);
        let l = long_text(0);
        assert!(l.encode_utf16().count() > 4_000 && l.contains("''") && l.contains('\0'));
        assert!(l.contains("\\\r\n") && l.contains('𝄞'));
    }

    #[test]
    fn a_batch_has_the_ids_and_a_null_where_allowed() {
        let plan = |name: &str, sql_type, nullable| ColumnPlan {
            name: name.to_owned(),
            sql_type,
            nullable,
        };
        let plans = [
            plan("ID", SqlType::Int, false),
            plan("NAME", SqlType::NVarChar { len: Some(50) }, true),
            plan("CREATED", SqlType::DateTime, false),
        ];
        let b = batch(&plans, Some("id"), &[i32::MIN, -1, i32::MAX]).unwrap();
        let ids = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(ids.values().to_vec(), vec![i32::MIN, -1, i32::MAX]);
        assert_eq!(b.column(1).null_count(), 1);
        assert_eq!(b.column(2).null_count(), 0);
    }
}
