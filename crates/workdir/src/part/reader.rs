//! Reading Parquet part files: one builder for every stage, errors that name the file.

use std::fs::File;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder, RowSelection,
};
use parquet::arrow::ProjectionMask;

use crate::manifest::PartEntry;
use crate::{Error, Result};

/// Rows per batch unless [`PartReader::batch_size`] says otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 64 * 1024;

/// A part file opened for reading: choose columns and batch size, then iterate.
///
/// ```no_run
/// # fn demo(path: &std::path::Path) -> bptmig_workdir::Result<()> {
/// use bptmig_workdir::part::PartReader;
/// for batch in PartReader::open(path)?.columns(&["ID"])?.batches()? {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok(()) }
/// ```
pub struct PartReader {
    path: PathBuf,
    builder: ParquetRecordBatchReaderBuilder<File>,
}

impl std::fmt::Debug for PartReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PartReader {
    /// Opens `path` and reads its footer.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| Error::parquet(path, e))?
            .with_batch_size(DEFAULT_BATCH_ROWS);
        Ok(Self {
            path: path.to_owned(),
            builder,
        })
    }

    /// Opens `path` with its text column `column` read as a dictionary (`Int32` keys): a
    /// column of a few distinct values over many rows is then looked at once per value and
    /// batch. A file without that text column opens as [`PartReader::open`] does.
    pub fn open_dictionary(path: &Path, column: &str) -> Result<Self> {
        let plain = Self::open(path)?;
        let schema = plain.schema();
        let Ok(i) = schema.index_of(column) else {
            return Ok(plain);
        };
        if schema.field(i).data_type() != &DataType::Utf8 {
            return Ok(plain);
        }
        let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(j, f)| {
                let f = f.as_ref().clone();
                if j == i {
                    f.with_data_type(dictionary.clone())
                } else {
                    f
                }
            })
            .collect();
        let options = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
            .map_err(|e| Error::parquet(path, e))?
            .with_batch_size(DEFAULT_BATCH_ROWS);
        Ok(Self {
            path: path.to_owned(),
            builder,
        })
    }

    /// Opens the part `entry` of `dir` after checking it against its manifest entry
    /// ([`PartEntry::verify`]): a damaged part is refused before any of it is read.
    pub fn open_listed(dir: &Path, entry: &PartEntry) -> Result<Self> {
        entry.verify(dir)?;
        Self::open(&dir.join(&entry.file))
    }

    /// The file's Arrow schema (every column, whatever is selected).
    pub fn schema(&self) -> &SchemaRef {
        self.builder.schema()
    }

    /// Rows in the file, from its footer.
    pub fn rows(&self) -> u64 {
        self.builder
            .metadata()
            .file_metadata()
            .num_rows()
            .unsigned_abs()
    }

    /// Reads only `names`, in the file's column order; a name the file lacks is
    /// [`Error::Corrupt`].
    pub fn columns(self, names: &[&str]) -> Result<Self> {
        let mut indices = Vec::with_capacity(names.len());
        for name in names {
            let i = self.schema().index_of(name).map_err(|_| Error::Corrupt {
                path: self.path.clone(),
                reason: format!("it has no column `{name}`"),
            })?;
            indices.push(i);
        }
        Ok(self.project(indices))
    }

    /// Reads those of `names` that the file has; the others are `None` in the answer.
    pub fn columns_present(self, names: &[&str]) -> (Self, Vec<Option<usize>>) {
        let found: Vec<Option<usize>> = names
            .iter()
            .map(|n| self.schema().index_of(n).ok())
            .collect();
        let reader = self.project(found.iter().flatten().copied().collect());
        (reader, found)
    }

    fn project(mut self, indices: Vec<usize>) -> Self {
        let mask = ProjectionMask::roots(self.builder.parquet_schema(), indices);
        self.builder = self.builder.with_projection(mask);
        self
    }

    /// Reads only the rows where `filters` (one mask per batch of an earlier read of this
    /// file, in order, covering every row) are true.
    #[must_use]
    pub fn rows_where(mut self, filters: &[BooleanArray]) -> Self {
        self.builder = self
            .builder
            .with_row_selection(RowSelection::from_filters(filters));
        self
    }

    /// Rows per batch.
    #[must_use]
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.builder = self.builder.with_batch_size(rows.max(1));
        self
    }

    /// The batches, each error naming the file.
    pub fn batches(self) -> Result<Batches> {
        let reader = self
            .builder
            .build()
            .map_err(|e| Error::parquet(&self.path, e))?;
        Ok(Batches {
            path: self.path,
            reader,
        })
    }

    /// Every batch, collected.
    pub fn read_all(self) -> Result<Vec<RecordBatch>> {
        self.batches()?.collect()
    }
}

/// The batches of a [`PartReader`].
pub struct Batches {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader
            .next()
            .map(|b| b.map_err(|e| Error::arrow(&self.path.display().to_string(), e)))
    }
}
