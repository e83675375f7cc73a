//! Columns bound once: the SQL type read from the field metadata, the array downcast to the
//! Arrow type that stores it.

use std::ops::RangeInclusive;

use arrow::array::{
    Array, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, StringArray, Time64NanosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, UInt8Array,
};
use arrow::record_batch::RecordBatch;
use bptmig_workdir::sql_type::{SqlType, SQL_TYPE_METADATA_KEY};

use super::check::{self, decimal_range};
use super::error::{mismatch, Result, ValueError, ValueProblem};

/// Columns of one `RecordBatch`, in the order they were named, each bound to its SQL type.
/// The insert writer renders rows of it ([`BoundBatch::render_row`]), the bulk writer turns
/// them into bulk-copy rows ([`BoundBatch::bulk_row`]), the ledger hashes its values.
#[derive(Debug, Clone)]
pub struct BoundBatch {
    columns: Vec<BoundColumn>,
    rows: usize,
}

impl BoundBatch {
    /// Binds `columns` (in this order) of `batch`, reading each SQL type from the field
    /// metadata and checking the Arrow type against it.
    pub fn new(batch: &RecordBatch, columns: &[&str]) -> Result<Self> {
        let columns = columns
            .iter()
            .map(|&name| BoundColumn::from_batch(batch, name))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            columns,
            rows: batch.num_rows(),
        })
    }

    /// Number of rows of the bound batch.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// The bound columns, in the order they were named.
    pub(crate) fn columns(&self) -> &[BoundColumn] {
        &self.columns
    }
}

/// One column of a [`BoundBatch`].
#[derive(Debug, Clone)]
pub(crate) struct BoundColumn {
    pub(crate) name: String,
    pub(crate) ty: SqlType,
    pub(crate) values: TypedArray,
}

impl BoundColumn {
    /// Column `name` of `batch` with the SQL type its field metadata records.
    fn from_batch(batch: &RecordBatch, name: &str) -> Result<Self> {
        let schema = batch.schema();
        let (index, field) =
            schema
                .column_with_name(name)
                .ok_or_else(|| ValueError::MissingColumn {
                    column: name.to_owned(),
                })?;
        let ddl = field.metadata().get(SQL_TYPE_METADATA_KEY).ok_or_else(|| {
            ValueError::MissingSqlType {
                column: name.to_owned(),
            }
        })?;
        let ty = SqlType::from_ddl(ddl).ok_or_else(|| ValueError::UnknownSqlType {
            column: name.to_owned(),
            ddl: ddl.clone(),
        })?;
        Self::bind(name, ty, batch.column(index).as_ref())
    }

    /// `array` as a column of SQL type `ty`, if it has the Arrow type that stores `ty`.
    pub(crate) fn bind(name: &str, ty: SqlType, array: &dyn Array) -> Result<Self> {
        let values = (*array.data_type() == ty.arrow_type())
            .then(|| TypedArray::bind(ty, array))
            .flatten()
            .ok_or_else(|| mismatch(name, ty, array.data_type()))?;
        Ok(Self {
            name: name.to_owned(),
            ty,
            values,
        })
    }

    /// The error for `problem` with the value at `row`.
    pub(crate) fn error(&self, problem: ValueProblem, row: usize) -> ValueError {
        problem.into_error(&self.name, self.ty, self.values.array(), row)
    }
}

/// A column's Arrow array, downcast once, with what its SQL type needs to check and convert
/// a value.
#[derive(Debug, Clone)]
pub(crate) enum TypedArray {
    TinyInt(UInt8Array),
    SmallInt(Int16Array),
    Int(Int32Array),
    BigInt(Int64Array),
    Bit(BooleanArray),
    /// `decimal`, `numeric`, `money`, `smallmoney`: the Arrow scale is `scale` (checked when
    /// binding, as part of the Arrow type); values must lie in `range`.
    Decimal {
        array: Decimal128Array,
        scale: u8,
        range: RangeInclusive<i128>,
        /// The range for the error message.
        limit: &'static str,
    },
    Float(Float64Array),
    Real(Float32Array),
    Text(StringArray),
    DateTime(TimestampMillisecondArray),
    SmallDateTime(TimestampMillisecondArray),
    DateTime2 {
        array: TimestampNanosecondArray,
        scale: u8,
    },
    Date(Date32Array),
    Time {
        array: Time64NanosecondArray,
        scale: u8,
    },
    DateTimeOffset {
        array: StringArray,
        scale: u8,
    },
    Guid(StringArray),
    Binary(BinaryArray),
}

impl TypedArray {
    /// The typed array for `ty`, if `array` (of type `ty.arrow_type()`) downcasts to it.
    fn bind(ty: SqlType, array: &dyn Array) -> Option<Self> {
        fn typed<T: Array + Clone + 'static>(array: &dyn Array) -> Option<T> {
            array.as_any().downcast_ref::<T>().cloned()
        }
        if let Some((range, limit)) = decimal_range(ty) {
            let scale = match ty {
                SqlType::Decimal { scale, .. } => scale.unsigned_abs(),
                _ => 4,
            };
            return Some(Self::Decimal {
                array: typed(array)?,
                scale,
                range,
                limit,
            });
        }
        Some(match ty {
            SqlType::TinyInt => Self::TinyInt(typed(array)?),
            SqlType::SmallInt => Self::SmallInt(typed(array)?),
            SqlType::Int => Self::Int(typed(array)?),
            SqlType::BigInt => Self::BigInt(typed(array)?),
            SqlType::Bit => Self::Bit(typed(array)?),
            // Bound above, with their range.
            SqlType::Decimal { .. } | SqlType::Money | SqlType::SmallMoney => return None,
            SqlType::Float => Self::Float(typed(array)?),
            SqlType::Real => Self::Real(typed(array)?),
            SqlType::Char { .. }
            | SqlType::VarChar { .. }
            | SqlType::NChar { .. }
            | SqlType::NVarChar { .. }
            | SqlType::Text
            | SqlType::NText => Self::Text(typed(array)?),
            SqlType::DateTime => Self::DateTime(typed(array)?),
            SqlType::SmallDateTime => Self::SmallDateTime(typed(array)?),
            SqlType::DateTime2 { scale } => Self::DateTime2 {
                array: typed(array)?,
                scale,
            },
            SqlType::Date => Self::Date(typed(array)?),
            SqlType::Time { scale } => Self::Time {
                array: typed(array)?,
                scale,
            },
            SqlType::DateTimeOffset { scale } => Self::DateTimeOffset {
                array: typed(array)?,
                scale,
            },
            SqlType::UniqueIdentifier => Self::Guid(typed(array)?),
            SqlType::Binary { .. } | SqlType::VarBinary { .. } | SqlType::Image => {
                Self::Binary(typed(array)?)
            }
        })
    }

    pub(crate) fn array(&self) -> &dyn Array {
        match self {
            Self::TinyInt(a) => a,
            Self::SmallInt(a) => a,
            Self::Int(a) => a,
            Self::BigInt(a) => a,
            Self::Bit(a) => a,
            Self::Decimal { array, .. } => array,
            Self::Float(a) => a,
            Self::Real(a) => a,
            Self::Text(a) | Self::Guid(a) | Self::DateTimeOffset { array: a, .. } => a,
            Self::DateTime(a) | Self::SmallDateTime(a) => a,
            Self::DateTime2 { array, .. } => array,
            Self::Date(a) => a,
            Self::Time { array, .. } => array,
            Self::Binary(a) => a,
        }
    }

    /// Checks the value at `row` (not NULL) as both writers do, without converting it.
    pub(crate) fn check(&self, row: usize) -> Result<(), ValueProblem> {
        match self {
            Self::Decimal {
                array,
                range,
                limit,
                ..
            } => check::decimal(array.value(row), range, limit),
            Self::Float(a) => check::finite(a.value(row)),
            Self::Real(a) => check::finite(f64::from(a.value(row))),
            Self::DateTime(a) => check::datetime(a.value(row)).map(drop),
            Self::SmallDateTime(a) => check::smalldatetime(a.value(row)).map(drop),
            Self::DateTime2 { array, scale } => {
                check::datetime2(array.value(row), *scale).map(drop)
            }
            Self::Date(a) => check::date(i64::from(a.value(row))).map(drop),
            Self::Time { array, scale } => check::time_of_day(array.value(row), *scale).map(drop),
            Self::DateTimeOffset { array, scale } => {
                check::datetimeoffset(array.value(row), *scale).map(drop)
            }
            Self::Guid(a) => check::guid(a.value(row)).map(drop),
            Self::TinyInt(_)
            | Self::SmallInt(_)
            | Self::Int(_)
            | Self::BigInt(_)
            | Self::Bit(_)
            | Self::Text(_)
            | Self::Binary(_) => Ok(()),
        }
    }
}
