//! Extract throughput without a server: `tiberius` values → [`ColumnBuilder`]s → Arrow
//! batches of 10,000 rows → Parquet (snappy) in memory.
//!
//! The rows are shaped like `OSSYS_BPM_ACTIVITY` (23 columns: ints, nullable ints,
//! `NVARCHAR(50)` names, `DATETIME`s as the ISO text `ColumnPlan::select_expr` asks for, an
//! `NVARCHAR(MAX)` inbox detail of ~100 characters, bits) and built before timing. Three
//! benchmarks run side by side so their ratios show what Parquet costs on top of the appends
//! and what per-column dictionary settings save:
//!
//! * `append`: appends and `RecordBatch` assembly only;
//! * `append_parquet`: the same, then `ArrowWriter` (snappy, otherwise default properties)
//!   into a `Vec<u8>`;
//! * `append_parquet_dict_by_plan`: the same, with dictionary encoding only where
//!   `ColumnPlan::dictionary_encoding` says it pays.
//!
//! The file size of each writer setting is printed once before timing.
//!
//! `cargo bench -p bptmig-extract --bench to_parquet -- --warm-up-time 1 --measurement-time 5`

use std::borrow::Cow;
use std::hint::black_box;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bptmig_db::column_builder::ColumnBuilder;
use bptmig_model::catalog;
use bptmig_workdir::sql_type::{schema_for, ColumnPlan, SqlType};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tiberius::ColumnData;

const ROWS: usize = 200_000;
const BATCH_ROWS: usize = 10_000;

fn activity_plans() -> Vec<ColumnPlan> {
    let name = SqlType::NVarChar { len: Some(50) };
    [
        (catalog::ID, SqlType::Int, false),
        (catalog::TENANT_ID, SqlType::Int, true),
        (catalog::ACTIVITY_DEF_ID, SqlType::Int, false),
        (catalog::PROCESS_ID, SqlType::Int, false),
        (catalog::NAME, name, true),
        (catalog::USER_ID, SqlType::Int, true),
        (catalog::CREATED, SqlType::DateTime, false),
        (catalog::OPENED, SqlType::DateTime, false),
        (catalog::CLOSED, SqlType::DateTime, false),
        (catalog::STATUS_ID, SqlType::Int, false),
        (catalog::IS_RUNNING_SINCE, SqlType::DateTime, true),
        (catalog::IS_RUNNING_AT, name, true),
        (catalog::NEXT_RUN, SqlType::DateTime, true),
        (catalog::PRECEDENT_ACTIVITY_ID, SqlType::Int, true),
        (catalog::PRECEDENT_OUTCOME, name, true),
        (catalog::DUE_DATE, SqlType::DateTime, true),
        (catalog::INBOX_DETAIL, SqlType::NVarChar { len: None }, true),
        (catalog::EXPIRED, SqlType::Bit, true),
        (catalog::SKIPPED, SqlType::Bit, true),
        (catalog::ERROR_COUNT, SqlType::Int, true),
        (catalog::LAST_ERROR_ID, name, true),
        (catalog::LAST_MODIFIED, SqlType::DateTime, true),
        (catalog::GROUP_ID, SqlType::Int, true),
    ]
    .into_iter()
    .map(|(name, sql_type, nullable)| ColumnPlan {
        name: name.to_owned(),
        sql_type,
        nullable,
    })
    .collect()
}

/// Deterministic pseudo-random numbers (an LCG), so every run times the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// ISO text as `CONVERT(VARCHAR(33), c, 126)` prints a `datetime`: no fraction at whole
/// seconds, else three digits.
fn iso_datetime(rng: &mut Lcg) -> String {
    let (y, mo, d) = (2015 + rng.next(10), 1 + rng.next(12), 1 + rng.next(28));
    let (h, mi, s) = (rng.next(24), rng.next(60), rng.next(60));
    match rng.next(4) {
        0 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
        _ => format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}",
            [0, 3, 7][rng.next(3) as usize] + 10 * rng.next(100)
        ),
    }
}

fn text(s: String) -> ColumnData<'static> {
    ColumnData::String(Some(Cow::Owned(s)))
}

fn activity_rows(n: usize) -> Vec<Vec<ColumnData<'static>>> {
    const EMPTY_DATE: &str = "1900-01-01T00:00:00";
    let mut rng = Lcg(0x5eed);
    (0..n)
        .map(|i| {
            let id = i32::try_from(i).expect("row count fits i32") + 1;
            let closed = rng.next(3) > 0;
            let int = |v: i32| ColumnData::I32(Some(v));
            let maybe_int = |v: Option<i32>| ColumnData::I32(v);
            vec![
                int(id),
                int(1),
                int(100 + (id % 40)),
                int(1 + id / 7),
                text(format!("Approve Request Step {}", id % 13)),
                maybe_int((id % 5 != 0).then_some(200 + id % 300)),
                text(iso_datetime(&mut rng)),
                text(iso_datetime(&mut rng)),
                text(if closed {
                    iso_datetime(&mut rng)
                } else {
                    EMPTY_DATE.to_owned()
                }),
                int(if closed { 3 } else { 1 }),
                ColumnData::String(None),
                ColumnData::String(None),
                if rng.next(4) == 0 {
                    text(iso_datetime(&mut rng))
                } else {
                    ColumnData::String(None)
                },
                maybe_int((id > 1).then_some(id - 1)),
                text(["Approved", "Rejected", "Timeout"][rng.next(3) as usize].to_owned()),
                text(iso_datetime(&mut rng)),
                text(format!(
                    "Request #{id} from the Finance department: please review the attached \
                     invoice and approve ({})",
                    rng.next(1_000_000)
                )),
                ColumnData::Bit(Some(rng.next(10) == 0)),
                ColumnData::Bit(Some(false)),
                int(i32::try_from(rng.next(3)).expect("small")),
                ColumnData::String(None),
                text(iso_datetime(&mut rng)),
                maybe_int(None),
            ]
        })
        .collect()
}

/// A borrowing view of a stored value, as cheap as the owned value `tiberius` hands over.
fn view<'a>(value: &'a ColumnData<'static>) -> ColumnData<'a> {
    match value {
        ColumnData::String(Some(s)) => ColumnData::String(Some(Cow::Borrowed(s.as_ref()))),
        ColumnData::Binary(Some(b)) => ColumnData::Binary(Some(Cow::Borrowed(b.as_ref()))),
        other => other.clone(),
    }
}

/// Appends every row in batches of [`BATCH_ROWS`] and hands each batch to `sink`.
fn build_batches(
    plans: &[ColumnPlan],
    schema: &SchemaRef,
    rows: &[Vec<ColumnData<'static>>],
    mut sink: impl FnMut(RecordBatch),
) {
    let mut builders: Vec<ColumnBuilder> = plans
        .iter()
        .map(|plan| ColumnBuilder::new(plan, BATCH_ROWS))
        .collect();
    for chunk in rows.chunks(BATCH_ROWS) {
        for row in chunk {
            for (builder, value) in builders.iter_mut().zip(row) {
                builder.append(view(value)).expect("bench data converts");
            }
        }
        let columns = builders.iter_mut().map(ColumnBuilder::finish).collect();
        sink(RecordBatch::try_new(schema.clone(), columns).expect("batch matches schema"));
    }
}

/// Every row through the builders into one Parquet file in memory; returns its bytes.
fn write_parquet(
    plans: &[ColumnPlan],
    schema: &SchemaRef,
    rows: &[Vec<ColumnData<'static>>],
    props: &WriterProperties,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut out, schema.clone(), Some(props.clone())).expect("writer");
    build_batches(plans, schema, rows, |batch| {
        writer.write(&batch).expect("write batch");
    });
    writer.close().expect("close writer");
    out
}

fn to_parquet(c: &mut Criterion) {
    let plans = activity_plans();
    let schema = schema_for(&plans);
    let rows = activity_rows(ROWS);
    let snappy = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    // Exactly what the extract writes parts with.
    let meta = bptmig_workdir::part::PartMeta {
        run_id: "bench".into(),
        table: "OSSYS_BPM_ACTIVITY".into(),
        column_roles: "{}".into(),
    };
    let mut first = None;
    build_batches(&plans, &schema, &rows[..BATCH_ROWS.min(rows.len())], |b| {
        first.get_or_insert(b);
    });
    let first = first.expect("rows to write");
    let dict_by_plan = bptmig_workdir::part::part_properties(&meta, BATCH_ROWS, &plans, &first);
    for (label, props) in [("snappy", &snappy), ("bptmig parts", &dict_by_plan)] {
        let bytes = write_parquet(&plans, &schema, &rows, props).len();
        eprintln!("parquet file, {label}: {bytes} bytes for {ROWS} rows");
    }

    let mut group = c.benchmark_group("activity_200k");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    group.bench_function("append", |b| {
        b.iter(|| {
            let mut total = 0;
            build_batches(&plans, &schema, black_box(&rows), |batch| {
                total += black_box(batch).num_rows();
            });
            total
        });
    });
    group.bench_function("append_parquet", |b| {
        b.iter(|| write_parquet(&plans, &schema, black_box(&rows), &snappy).len());
    });
    group.bench_function("append_parquet_bptmig_parts", |b| {
        b.iter(|| write_parquet(&plans, &schema, black_box(&rows), &dict_by_plan).len());
    });
    group.finish();
}

criterion_group!(benches, to_parquet);
criterion_main!(benches);
