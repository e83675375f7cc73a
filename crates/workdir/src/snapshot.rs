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

/// What a snapshot knows of one instance table's identity column: every field `None` where
/// the server did not answer (and in snapshots written before bptmig recorded them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity {
    /// `IDENT_CURRENT`: the last identity value the server handed out (or was reseeded to).
    pub current: Option<i64>,
    /// `IDENT_SEED` and `IDENT_INCR`.
    pub seed: Option<i64>,
    pub increment: Option<i64>,
    /// `sys.identity_columns.last_value IS NULL`: never used since its creation (or a
    /// `TRUNCATE`), so the next value is `current` itself rather than `current + increment`.
    pub never_used: Option<bool>,
    /// The smallest existing ID at or after the next identity value: the first row in the way
    /// of a block placed there (`None` with `checked` when there is none).
    pub first_in_way: Option<i64>,
    /// Whether [`Identity::first_in_way`] was read.
    pub checked: bool,
    /// Whether `SET IDENTITY_INSERT <table> ON` (then `OFF`) succeeded for the login.
    pub identity_insert: Option<bool>,
    /// Whether the server moves an identity up to explicit IDs inserted above it (SQL Server
    /// does; the sandbox server does not), measured on a session temporary table.
    pub follows_explicit: Option<bool>,
}

impl Identity {
    /// The value the server would generate next, when known.
    pub fn next(&self) -> Option<i64> {
        let current = self.current?;
        if self.never_used? {
            Some(current)
        } else {
            Some(current + self.increment?)
        }
    }
}

/// One instance table's statistics: rows, maximum ID, identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableStats<'a> {
    pub table: &'a str,
    pub rows: i64,
    pub max_id: Option<i64>,
    /// `None` for a snapshot that does not record identities (the sandbox's generated ones).
    pub identity: Option<Identity>,
}

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

    /// Writes `instance_stats.parquet` (rows and maximum IDs only) and the manifest.
    pub fn finish(self, stats: &[InstanceStat<'_>]) -> Result<()> {
        let stats: Vec<TableStats<'_>> = stats
            .iter()
            .map(|&(table, rows, max_id)| TableStats {
                table,
                rows,
                max_id,
                identity: None,
            })
            .collect();
        self.finish_with(&stats)
    }

    /// Writes `instance_stats.parquet` (with the identity columns when any table has them)
    /// and the manifest.
    pub fn finish_with(mut self, stats: &[TableStats<'_>]) -> Result<()> {
        debug_assert!(!stats.iter().any(|s| s.table == INSTANCE_STATS));
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
