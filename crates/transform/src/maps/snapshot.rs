//! The snapshots the extract wrote of each environment's mapping tables, read whole.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use bptmig_model::catalog as c;
use bptmig_workdir::part::writer::IDENTITY_STATS_COLUMNS;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::snapshot::Identity;
use bptmig_workdir::{Manifest, PartEntry};

use crate::principals::{GroupRow, Principals, TenantRow, UserRow};
use crate::{Error, Result};

/// One instance table of an environment: rows, maximum ID and, where the snapshot recorded
/// it, its identity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceStat {
    pub rows: i64,
    pub max_id: Option<i64>,
    pub identity: Option<Identity>,
}

/// One environment's snapshot directory. Each table is read once, however many maps use it,
/// and checked first against the snapshot's manifest when that lists it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    read: Arc<Mutex<Read>>,
}

/// What a [`Snapshot`] has read so far.
#[derive(Debug, Default)]
struct Read {
    /// The files the snapshot's manifest lists, once read (none when it has no manifest).
    listed: Option<Vec<PartEntry>>,
    tables: HashMap<String, Rows>,
}

/// A snapshot table read whole: column name → values.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    batches: Vec<RecordBatch>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An integer column (INT or BIGINT); missing columns read as NULL.
    pub fn ints(&self, col: &str) -> Vec<Option<i64>> {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.batches {
            match b.column_by_name(col) {
                Some(a) => match a.data_type() {
                    DataType::Int32 => {
                        let a = a.as_primitive::<Int32Type>();
                        out.extend(
                            (0..a.len()).map(|i| a.is_valid(i).then(|| i64::from(a.value(i)))),
                        );
                    }
                    DataType::Int64 => {
                        let a = a.as_primitive::<Int64Type>();
                        out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))));
                    }
                    _ => out.extend(std::iter::repeat_n(None, b.num_rows())),
                },
                None => out.extend(std::iter::repeat_n(None, b.num_rows())),
            }
        }
        out
    }

    /// A text column; missing columns read as NULL.
    pub fn texts(&self, col: &str) -> Vec<Option<String>> {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.batches {
            match b
                .column_by_name(col)
                .filter(|a| a.data_type() == &DataType::Utf8)
            {
                Some(a) => {
                    let a = a.as_string::<i32>();
                    out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i).to_owned())));
                }
                None => out.extend(std::iter::repeat_n(None, b.num_rows())),
            }
        }
        out
    }

    /// Whether the table has a column `col`.
    pub fn has_column(&self, col: &str) -> bool {
        self.batches.iter().any(|b| b.column_by_name(col).is_some())
    }

    /// A bit column, NULL (or missing) as `None`.
    pub fn opt_bools(&self, col: &str) -> Vec<Option<bool>> {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.batches {
            match b
                .column_by_name(col)
                .filter(|a| a.data_type() == &DataType::Boolean)
            {
                Some(a) => {
                    let a = a.as_boolean();
                    out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))));
                }
                None => out.extend(std::iter::repeat_n(None, b.num_rows())),
            }
        }
        out
    }

    /// A bit column; missing columns read as `default`.
    pub fn bools(&self, col: &str, default: bool) -> Vec<bool> {
        let mut out = Vec::with_capacity(self.len());
        for b in &self.batches {
            match b
                .column_by_name(col)
                .filter(|a| a.data_type() == &DataType::Boolean)
            {
                Some(a) => {
                    let a = a.as_boolean();
                    out.extend(
                        (0..a.len()).map(|i| if a.is_valid(i) { a.value(i) } else { default }),
                    );
                }
                None => out.extend(std::iter::repeat_n(default, b.num_rows())),
            }
        }
        out
    }
}

/// Reads every batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    Ok(PartReader::open(path)?.read_all()?)
}

impl Snapshot {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            read: Arc::default(),
        }
    }

    /// The whole snapshot of `table`. When the snapshot's manifest lists its file, the file
    /// is checked against it first: a damaged one is
    /// [`bptmig_workdir::Error::PartDamaged`], naming the file and both digests.
    pub fn rows(&self, table: &str) -> Result<Rows> {
        let mut read = self
            .read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(rows) = read.tables.get(table) {
            return Ok(rows.clone());
        }
        let file = format!("{table}.parquet");
        let path = self.dir.join(&file);
        if !path.is_file() {
            return Err(Error::MissingInput {
                path,
                hint: "run `bptmig extract` first (its snapshots are missing)",
            });
        }
        if read.listed.is_none() {
            let manifest = Manifest::read(&self.dir)?;
            read.listed = Some(manifest.map(|m| m.parts).unwrap_or_default());
        }
        let listed = read.listed.iter().flatten().find(|p| p.file == file);
        let reader = match listed {
            Some(entry) => PartReader::open_listed(&self.dir, entry)?,
            None => PartReader::open(&path)?,
        };
        let rows = Rows {
            batches: reader.read_all()?,
        };
        read.tables.insert(table.to_owned(), rows.clone());
        Ok(rows)
    }

    /// Row count, maximum ID and identity of each instance table of this environment; a
    /// snapshot written before bptmig recorded identities has none (`identity: None`).
    pub fn instance_stats(&self) -> Result<BTreeMap<String, InstanceStat>> {
        let rows = self.rows(bptmig_workdir::layout::INSTANCE_STATS)?;
        let has_identity = rows.has_column(IDENTITY_STATS_COLUMNS[0]);
        let [current, seed, increment, first] = [
            "IDENT_CURRENT",
            "IDENT_SEED",
            "IDENT_INCR",
            "FIRST_ID_IN_WAY",
        ]
        .map(|c| rows.ints(c));
        let [never_used, checked, insert, follows] = [
            "IDENT_NEVER_USED",
            "IDENT_CHECKED",
            "IDENTITY_INSERT",
            "IDENT_FOLLOWS_EXPLICIT",
        ]
        .map(|c| rows.opt_bools(c));
        let mut out = BTreeMap::new();
        for (i, ((name, count), max_id)) in rows
            .texts("TABLE")
            .into_iter()
            .zip(rows.ints("ROWS"))
            .zip(rows.ints("MAX_ID"))
            .enumerate()
        {
            let Some(name) = name else { continue };
            let identity = Identity {
                current: current[i],
                seed: seed[i],
                increment: increment[i],
                never_used: never_used[i],
                first_in_way: first[i],
                checked: checked[i] == Some(true),
                identity_insert: insert[i],
                follows_explicit: follows[i],
            };
            let identity = (has_identity && identity.current.is_some()).then_some(identity);
            out.insert(
                name,
                InstanceStat {
                    rows: count.unwrap_or(0),
                    max_id,
                    identity,
                },
            );
        }
        Ok(out)
    }

    /// `(ID, SS_KEY)` of every eSpace that has both, in row order.
    pub fn espace_keys(&self) -> Result<Vec<(i64, String)>> {
        let r = self.rows(c::ESPACE)?;
        Ok(r.ints(c::ID)
            .into_iter()
            .zip(r.texts(c::SS_KEY))
            .filter_map(|(i, k)| Some((i?, k?)))
            .collect())
    }

    /// Tenants, users and groups, for principal resolution.
    pub fn principals(&self) -> Result<Principals> {
        Ok(Principals {
            tenants: named_rows(&self.rows(c::TENANT)?, c::NAME)
                .map(|(id, name, _)| TenantRow { id, name })
                .collect(),
            users: named_rows(&self.rows(c::USER)?, c::USERNAME)
                .map(|(id, username, tenant_id)| UserRow {
                    id,
                    username,
                    tenant_id,
                })
                .collect(),
            groups: named_rows(&self.rows(c::GROUP)?, c::NAME)
                .map(|(id, name, tenant_id)| GroupRow {
                    id,
                    name,
                    tenant_id,
                })
                .collect(),
        })
    }
}

/// `(ID, name, TENANT_ID)` of every row of `rows` that has an ID; a NULL name reads as empty.
fn named_rows(rows: &Rows, name: &str) -> impl Iterator<Item = (i64, String, Option<i64>)> {
    rows.ints(c::ID)
        .into_iter()
        .zip(rows.texts(name))
        .zip(rows.ints(c::TENANT_ID))
        .filter_map(|((id, name), tenant)| Some((id?, name.unwrap_or_default(), tenant)))
}
