//! Helpers shared by the unit tests of the value and ledger modules.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use bptmig_workdir::iso::{parse_iso_date_days, parse_iso_time_ns};
use bptmig_workdir::sql_type::{SqlType, SQL_TYPE_METADATA_KEY};

/// A field of SQL type `ty`, as the extract and the transform write it.
pub(crate) fn field(name: &str, ty: SqlType, nullable: bool) -> Field {
    Field::new(name, ty.arrow_type(), nullable).with_metadata(HashMap::from([(
        SQL_TYPE_METADATA_KEY.to_owned(),
        ty.ddl(),
    )]))
}

/// A batch of nullable columns: (name, SQL type, values).
pub(crate) fn batch(columns: Vec<(&str, SqlType, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, ty, _)| field(n, *ty, true))
        .collect();
    let arrays = columns.into_iter().map(|(_, _, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// Milliseconds since 1970 (parsed by parts: nanoseconds end in 2262).
pub(crate) fn ms(iso: &str) -> i64 {
    let (date, time) = iso.split_once('T').unwrap();
    i64::from(parse_iso_date_days(date).unwrap()) * 86_400_000
        + parse_iso_time_ns(time).unwrap() / 1_000_000
}
