//! Snapshots: an environment's mapping tables and instance statistics, one file a table.
//!
//! The extract writes one per environment from the live databases; the sandbox writes the
//! same files from generated data. Both go through [`SnapshotWriter`], so the files are alike.

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use bptmig_model::catalog::{self as c, Table};

use crate::layout::INSTANCE_STATS;
use crate::manifest::Manifest;
use crate::part::{write_file, write_instance_stats, writer_properties, PartMeta};
use crate::sql_type::{schema_for, ColumnPlan};
use crate::Result;

/// The tables a snapshot holds: principals, definitions and static tables.
pub fn snapshot_tables() -> impl Iterator<Item = &'static Table> {
    c::IDENTITY_TABLES
        .iter()
        .chain(c::DEFINITION_TABLES)
        .chain(c::STATIC_TABLES)
}

/// Row count and maximum ID of one instance table of an environment.
pub type InstanceStat<'a> = (&'a str, i64, Option<i64>);

/// Writes one snapshot directory: a file per table, then the instance statistics, then the
/// manifest, which marks the snapshot complete.
#[derive(Debug)]
pub struct SnapshotWriter {
    dir: PathBuf,
    row_group_rows: usize,
    manifest: Manifest,
}

impl SnapshotWriter {
    /// A snapshot of `side` (`source` or `target`) into `dir`.
    pub fn new(dir: &Path, side: &str, run_id: &str, row_group_rows: usize) -> Self {
        Self {
            dir: dir.to_owned(),
            row_group_rows,
            manifest: Manifest {
                table: format!("snapshot:{side}"),
                run_id: run_id.to_owned(),
                key: None,
                columns: Vec::new(),
                complete: false,
                parts: Vec::new(),
            },
        }
    }

    /// Writes `model`'s rows, read with `plans`, as `<TABLE>.parquet`.
    pub fn table(
        &mut self,
        model: &Table,
        plans: &[ColumnPlan],
        batches: &[RecordBatch],
    ) -> Result<()> {
        let meta = PartMeta::for_table(&self.manifest.run_id, model.name, model, plans);
        let entry = write_file(
            &self.dir.join(format!("{}.parquet", model.name)),
            schema_for(plans),
            batches,
            writer_properties(&meta, self.row_group_rows, plans),
        )?;
        self.manifest.parts.push(entry);
        Ok(())
    }

    /// Writes `instance_stats.parquet` and the manifest.
    pub fn finish(mut self, stats: &[InstanceStat<'_>]) -> Result<()> {
        debug_assert!(!stats.iter().any(|s| s.0 == INSTANCE_STATS));
        self.manifest.parts.push(write_instance_stats(
            &self.dir,
            &self.manifest.run_id,
            stats,
            self.row_group_rows,
        )?);
        self.manifest.complete = true;
        self.manifest.write(&self.dir)
    }
}
