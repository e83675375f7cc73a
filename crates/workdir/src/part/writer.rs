//! Writing Parquet part files: bounded row groups, written under a temporary name and renamed
//! only when complete, with the run id, table and column roles in the key-value metadata.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::AsArray;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use sha2::{Digest, Sha256};

use crate::atomic::{commit_file, hex, tmp_path};
use crate::layout::INSTANCE_STATS;
use crate::manifest::PartEntry;
use crate::sql_type::{ColumnPlan, SqlType};
use crate::{Error, Result};

/// Key-value metadata keys of every part file.
pub const META_RUN_ID: &str = "bptmig.run_id";
pub const META_TABLE: &str = "bptmig.table";
pub const META_COLUMN_ROLES: &str = "bptmig.column_roles";

/// What every part of a table carries in its metadata.
#[derive(Debug, Clone)]
pub struct PartMeta {
    pub run_id: String,
    pub table: String,
    /// JSON object column → role tag.
    pub column_roles: String,
}

impl PartMeta {
    /// The metadata of parts of `name` (shaped like the model's `table`) read with `plans`:
    /// columns the model does not know are plain values.
    pub fn for_table(
        run_id: &str,
        name: &str,
        table: &bptmig_model::Table,
        plans: &[ColumnPlan],
    ) -> Self {
        let roles: std::collections::BTreeMap<&str, String> = plans
            .iter()
            .map(|p| {
                let role = table
                    .column(&p.name)
                    .map_or_else(|| "value".to_owned(), |mc| mc.role.tag());
                (p.name.as_str(), role)
            })
            .collect();
        Self {
            run_id: run_id.to_owned(),
            table: name.to_owned(),
            column_roles: serde_json::to_string(&roles).unwrap_or_else(|_| "{}".to_owned()),
        }
    }
}

/// Writer properties shared by every stage, so outputs are reproducible. Dictionary
/// encoding is kept for columns whose values repeat (short text, bits) and turned off for
/// IDs, timestamps and long text, where it costs a third of the write time for nothing.
pub fn writer_properties(
    meta: &PartMeta,
    row_group_rows: usize,
    plans: &[ColumnPlan],
) -> WriterProperties {
    // Statistics only where a reader prunes by them (integer keys and IDs): min/max over
    // long text and timestamps cost a large share of the write time and serve no one.
    let mut builder = WriterProperties::builder().set_statistics_enabled(EnabledStatistics::None);
    for plan in plans {
        let path = ColumnPath::from(plan.name.as_str());
        builder = builder.set_column_dictionary_enabled(path.clone(), plan.dictionary_encoding());
        if matches!(plan.sql_type, SqlType::Int | SqlType::BigInt) {
            builder = builder.set_column_statistics_enabled(path, EnabledStatistics::Chunk);
        }
    }
    builder
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .set_created_by(format!("bptmig {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(META_RUN_ID.to_owned(), meta.run_id.clone()),
            KeyValue::new(META_TABLE.to_owned(), meta.table.clone()),
            KeyValue::new(META_COLUMN_ROLES.to_owned(), meta.column_roles.clone()),
        ]))
        .build()
}

/// [`writer_properties`] for an ID map (`OLD_ID`, `NEW_ID`): both columns mostly climb by
/// one, so delta encoding stores them in a few bits a row (plain + snappy took ten bytes a
/// row, a quarter of all the bytes the transform wrote). The transform's and the load's maps
/// are written alike.
pub fn id_map_properties(meta: &PartMeta, row_group_rows: usize) -> WriterProperties {
    writer_properties(meta, row_group_rows, &[])
        .into_builder()
        .set_dictionary_enabled(false)
        .set_encoding(parquet::basic::Encoding::DELTA_BINARY_PACKED)
        .build()
}

/// [`writer_properties`] for a part whose first batch is `first`: besides, dictionary
/// encoding for the unbounded text columns whose values repeat in it ([`repeating_text`]).
pub fn part_properties(
    meta: &PartMeta,
    row_group_rows: usize,
    plans: &[ColumnPlan],
    first: &RecordBatch,
) -> WriterProperties {
    repeating_text(plans, first)
        .into_iter()
        .fold(
            writer_properties(meta, row_group_rows, plans).into_builder(),
            |b, col| b.set_column_dictionary_enabled(ColumnPath::from(col), true),
        )
        .build()
}

/// Unbounded text columns (`nvarchar(max)` and the like) whose values repeat in `batch`:
/// fewer distinct values than half the non-NULL ones among its first 4096.
///
/// Dictionary encoding is off for such columns by default, because their values are
/// usually unique (on the `to_parquet` bench it made the extract 8 % slower for nothing).
/// Where they repeat, as inbox details and input values made from a few templates do, a
/// dictionary makes the part a fraction of the size and every later read and write of it
/// cheaper (no per-value decompression or UTF-8 check).
pub fn repeating_text(plans: &[ColumnPlan], batch: &RecordBatch) -> Vec<String> {
    /// Values looked at per column: enough to tell, cheap next to writing the part.
    const SAMPLE: usize = 4096;
    plans
        .iter()
        .filter(|p| !p.dictionary_encoding())
        .filter_map(|p| {
            let values = batch.column_by_name(&p.name)?.as_string_opt::<i32>()?;
            let mut seen = std::collections::HashSet::with_capacity(SAMPLE);
            let mut non_null = 0;
            for v in values.iter().take(SAMPLE).flatten() {
                non_null += 1;
                seen.insert(v);
            }
            (non_null > 0 && seen.len() * 2 <= non_null).then(|| p.name.clone())
        })
        .collect()
}

/// A file that hashes what is written to it, so that a part's SHA-256 needs no second read.
struct HashingFile {
    file: File,
    sha: Sha256,
    bytes: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A part being written.
pub struct PartWriter {
    path: PathBuf,
    tmp: PathBuf,
    file_name: String,
    writer: ArrowWriter<HashingFile>,
    rows: u64,
    min_key: Option<i64>,
    max_key: Option<i64>,
}

impl std::fmt::Debug for PartWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl PartWriter {
    /// Starts `dir/file_name` (written as `file_name.tmp` until [`PartWriter::finish`]).
    pub fn create(
        dir: &Path,
        file_name: &str,
        schema: SchemaRef,
        props: WriterProperties,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create", e))?;
        let path = dir.join(file_name);
        let tmp = tmp_path(&path);
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, "create", e))?;
        let file = HashingFile {
            file,
            sha: Sha256::new(),
            bytes: 0,
        };
        let writer =
            ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| Error::parquet(&tmp, e))?;
        Ok(Self {
            path,
            tmp,
            file_name: file_name.to_owned(),
            writer,
            rows: 0,
            min_key: None,
            max_key: None,
        })
    }

    /// Appends a batch whose keys span `keys` (inclusive), when the table has a key.
    pub fn write(&mut self, batch: &RecordBatch, keys: Option<(i64, i64)>) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(|e| Error::parquet(&self.tmp, e))?;
        self.rows += batch.num_rows() as u64;
        if let Some((lo, hi)) = keys {
            self.min_key = Some(self.min_key.map_or(lo, |m| m.min(lo)));
            self.max_key = Some(self.max_key.map_or(hi, |m| m.max(hi)));
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Closes, syncs and renames the file into place; returns its manifest entry.
    pub fn finish(self) -> Result<PartEntry> {
        let mut hashed = self
            .writer
            .into_inner()
            .map_err(|e| Error::parquet(&self.tmp, e))?;
        hashed
            .flush()
            .and_then(|()| hashed.file.sync_all())
            .map_err(|e| Error::io(&self.tmp, "sync", e))?;
        let HashingFile { file, sha, bytes } = hashed;
        drop(file);
        let sha256 = hex(&sha.finalize());
        commit_file(&self.tmp, &self.path)?;
        Ok(PartEntry {
            file: self.file_name,
            rows: self.rows,
            min_key: self.min_key,
            max_key: self.max_key,
            bytes,
            sha256,
        })
    }
}

/// A part that opens itself on its first batch, like arrow-rs's `ArrowWriter` opens its row
/// group on the first `write`: an empty part leaves no file. The file takes the first batch's
/// schema and [`part_properties`] of that batch.
#[derive(Debug)]
pub struct LazyPartWriter {
    dir: PathBuf,
    file_name: String,
    meta: PartMeta,
    row_group_rows: usize,
    plans: Vec<ColumnPlan>,
    open: Option<PartWriter>,
}

impl LazyPartWriter {
    /// A part `dir/file_name` of a table read with `plans`, not yet created.
    pub fn new(
        dir: &Path,
        file_name: &str,
        meta: PartMeta,
        row_group_rows: usize,
        plans: Vec<ColumnPlan>,
    ) -> Self {
        Self {
            dir: dir.to_owned(),
            file_name: file_name.to_owned(),
            meta,
            row_group_rows,
            plans,
            open: None,
        }
    }

    /// Appends a batch whose keys span `keys` (inclusive); an empty batch is skipped.
    pub fn write(&mut self, batch: &RecordBatch, keys: Option<(i64, i64)>) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let writer = match self.open.as_mut() {
            Some(w) => w,
            None => {
                let props = part_properties(&self.meta, self.row_group_rows, &self.plans, batch);
                self.open.insert(PartWriter::create(
                    &self.dir,
                    &self.file_name,
                    batch.schema(),
                    props,
                )?)
            }
        };
        writer.write(batch, keys)
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.open.as_ref().map_or(0, PartWriter::rows)
    }

    /// The finished part's manifest entry, or `None` when no row was written (no file).
    pub fn finish(self) -> Result<Option<PartEntry>> {
        self.open.map(PartWriter::finish).transpose()
    }
}

/// Writes `batches` as one Parquet file at `path`, atomically (snapshots).
pub fn write_file(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    props: WriterProperties,
) -> Result<PartEntry> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut w = PartWriter::create(dir, &name, schema, props)?;
    for b in batches {
        w.write(b, None)?;
    }
    w.finish()
}

/// The identity columns of `instance_stats.parquet` (after TABLE, ROWS, MAX_ID), written
/// only when some table has an identity: `IDENT_CURRENT`, `IDENT_SEED`, `IDENT_INCR`,
/// `IDENT_NEVER_USED`, `FIRST_ID_IN_WAY`, `IDENT_CHECKED`, `IDENTITY_INSERT`,
/// `IDENT_FOLLOWS_EXPLICIT`. Readers treat an absent column as unknown.
pub const IDENTITY_STATS_COLUMNS: [&str; 8] = [
    "IDENT_CURRENT",
    "IDENT_SEED",
    "IDENT_INCR",
    "IDENT_NEVER_USED",
    "FIRST_ID_IN_WAY",
    "IDENT_CHECKED",
    "IDENTITY_INSERT",
    "IDENT_FOLLOWS_EXPLICIT",
];

/// Writes `instance_stats.parquet` (TABLE, ROWS, MAX_ID, and the identity columns of
/// [`IDENTITY_STATS_COLUMNS`] when any table has an identity) into a snapshot directory.
pub fn write_instance_stats(
    dir: &Path,
    run_id: &str,
    stats: &[crate::snapshot::TableStats<'_>],
    row_group_rows: usize,
) -> Result<PartEntry> {
    use arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let mut fields = vec![
        Field::new("TABLE", DataType::Utf8, false),
        Field::new("ROWS", DataType::Int64, false),
        Field::new("MAX_ID", DataType::Int64, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            stats.iter().map(|s| s.table).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            stats.iter().map(|s| s.rows).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            stats.iter().map(|s| s.max_id).collect::<Vec<_>>(),
        )),
    ];
    if stats.iter().any(|s| s.identity.is_some()) {
        let ids: Vec<crate::snapshot::Identity> = stats
            .iter()
            .map(|s| s.identity.unwrap_or_default())
            .collect();
        let int = |f: fn(&crate::snapshot::Identity) -> Option<i64>| -> ArrayRef {
            Arc::new(Int64Array::from(ids.iter().map(f).collect::<Vec<_>>()))
        };
        let flag = |f: fn(&crate::snapshot::Identity) -> Option<bool>| -> ArrayRef {
            Arc::new(BooleanArray::from(ids.iter().map(f).collect::<Vec<_>>()))
        };
        let values: [ArrayRef; 8] = [
            int(|i| i.current),
            int(|i| i.seed),
            int(|i| i.increment),
            flag(|i| i.never_used),
            int(|i| i.first_in_way),
            flag(|i| Some(i.checked)),
            flag(|i| i.identity_insert),
            flag(|i| i.follows_explicit),
        ];
        for (name, array) in IDENTITY_STATS_COLUMNS.iter().zip(values) {
            fields.push(Field::new(*name, array.data_type().clone(), true));
            columns.push(array);
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::arrow(INSTANCE_STATS, e))?;
    let meta = PartMeta {
        run_id: run_id.to_owned(),
        table: INSTANCE_STATS.to_owned(),
        column_roles: "{}".to_owned(),
    };
    write_file(
        &dir.join(format!("{INSTANCE_STATS}.parquet")),
        schema,
        &[batch],
        writer_properties(&meta, row_group_rows, &[]),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::atomic::file_sha256;

    #[test]
    fn a_part_records_the_size_and_sha256_of_the_file_it_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("ID", DataType::Int32, false),
            Field::new("NAME", DataType::Utf8, true),
        ]));
        let batch = |lo: i32| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int32Array::from_iter_values(lo..lo + 3000)),
                    Arc::new(
                        (lo..lo + 3000)
                            .map(|i| (i % 7 != 0).then(|| format!("row {i}")))
                            .collect::<StringArray>(),
                    ),
                ],
            )
            .unwrap()
        };
        let meta = PartMeta {
            run_id: "r".into(),
            table: "T".into(),
            column_roles: "{}".into(),
        };
        let mut w = PartWriter::create(
            dir.path(),
            "part-00000.parquet",
            schema.clone(),
            writer_properties(&meta, 1000, &[]),
        )
        .unwrap();
        w.write(&batch(1), Some((1, 3000))).unwrap();
        w.write(&batch(3001), Some((3001, 6000))).unwrap();
        let entry = w.finish().unwrap();
        let path = dir.path().join("part-00000.parquet");
        assert_eq!(entry.sha256, file_sha256(&path).unwrap());
        assert_eq!(entry.bytes, std::fs::metadata(&path).unwrap().len());
        assert_eq!(
            (entry.rows, entry.min_key, entry.max_key),
            (6000, Some(1), Some(6000))
        );
        assert!(!tmp_path(&path).exists());
    }

    #[test]
    fn unbounded_text_gets_a_dictionary_only_where_its_values_repeat() {
        let plan = |name: &str, sql_type| ColumnPlan {
            name: name.into(),
            sql_type,
            nullable: true,
        };
        let plans = [
            plan("TEMPLATED", SqlType::NVarChar { len: None }),
            plan("UNIQUE", SqlType::NVarChar { len: None }),
            plan("NAME", SqlType::NVarChar { len: Some(50) }),
            plan("NULLS", SqlType::NVarChar { len: None }),
        ];
        let rows = 1000;
        let text = |f: &dyn Fn(usize) -> Option<String>| -> ArrayRef {
            Arc::new((0..rows).map(f).collect::<StringArray>())
        };
        let batch = RecordBatch::try_from_iter([
            (
                "TEMPLATED",
                text(&|i| Some(format!("Approve step {}", i % 16))),
            ),
            ("UNIQUE", text(&|i| Some(format!("Request #{i}")))),
            ("NAME", text(&|i| Some(format!("Step {}", i % 3)))),
            ("NULLS", text(&|_| None)),
        ])
        .unwrap();
        // NAME is bounded text: dictionary-encoded already, not a candidate.
        assert_eq!(repeating_text(&plans, &batch), vec!["TEMPLATED".to_owned()]);
        let meta = PartMeta {
            run_id: "r".into(),
            table: "T".into(),
            column_roles: "{}".into(),
        };
        let props = part_properties(&meta, 100, &plans, &batch);
        let dict = |c: &str| props.dictionary_enabled(&ColumnPath::from(c));
        assert!(dict("TEMPLATED") && dict("NAME"));
        assert!(!dict("UNIQUE") && !dict("NULLS"));
    }
}
