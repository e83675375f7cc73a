//! What the workspace's tests share: a prod and qa pair of sandbox servers, a pipeline file
//! between them, a stage's tables read back as Arrow batches, the rows of a server table, and
//! a fault-injecting TCP proxy to put between a stage and a server ([`FaultProxy`]).
//!
//! Compiled with the library (not only under `cfg(test)`) so that the integration tests of
//! every crate can use it; nothing else does.
//!
//! ```no_run
//! # async fn demo(dir: &std::path::Path) -> bptmig_sandbox::Result<()> {
//! use bptmig_sandbox::testing::{self, Pair};
//! use bptmig_sandbox::EnvSpec;
//!
//! let pair = Pair::start(&EnvSpec::default()).await?;
//! let config = pair.pipeline().extra("[load]\nchunk_rows = 60\n").config(&dir.join("p.toml"))?;
//! // … run a stage with `config` …
//! let processes = testing::read_stage(&config.workdir, "extract", "OSSYS_BPM_PROCESS")?;
//! let mut qa = pair.qa.connect().await?;
//! let loaded = testing::count_rows(&mut qa, "OSSYS_BPM_PROCESS").await?;
//! # let _ = (processes, loaded); Ok(()) }
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_model::PipelineConfig;
use bptmig_workdir::layout::TRANSFORM;
use bptmig_workdir::part::PartReader;
use bptmig_workdir::Manifest;

use crate::{sql, EnvKind, EnvSpec, Environment, Error, Result, SqlClient, DEFAULT_PASSWORD};

mod proxy;
mod tds_log;

pub use proxy::{FaultProxy, ProxyFault, ProxyPlan, MAX_CONNECTIONS, MAX_LIFETIME, MAX_STALL};

/// The environment variable the pipelines of [`Pipeline::between`] read the sandbox password
/// from; set it to [`DEFAULT_PASSWORD`] for a `bptmig` process ([`password_env`] does for
/// [`Pipeline::config`]).
pub const PASSWORD_VAR: &str = "BPTMIG_IT_PW";

/// The value of the environment variable `name` as the tests' pipelines see it: the sandbox
/// password for [`PASSWORD_VAR`], nothing else.
pub fn password_env(name: &str) -> Option<String> {
    (name == PASSWORD_VAR).then(|| DEFAULT_PASSWORD.to_owned())
}

/// A seeded prod (the source) and qa (the target), each on a server of its own.
#[derive(Debug)]
pub struct Pair {
    pub prod: Environment,
    pub qa: Environment,
}

impl Pair {
    /// Starts and seeds prod, then qa, from the same `spec`.
    pub async fn start(spec: &EnvSpec) -> Result<Self> {
        let prod = Environment::start(EnvKind::Prod, spec).await?;
        let qa = Environment::start(EnvKind::Qa, spec).await?;
        Ok(Self { prod, qa })
    }

    /// A pipeline from prod to qa ([`Pipeline::between`]).
    pub fn pipeline(&self) -> Pipeline {
        Pipeline::between(&self.prod, &self.qa)
    }
}

/// A pipeline file to write: `workdir`, `[source]` and `[target]` with their connection
/// strings (and a connect timeout if set), then any further TOML.
#[derive(Debug, Clone)]
pub struct Pipeline {
    workdir: PathBuf,
    source: String,
    target: String,
    connect_timeout_secs: Option<u64>,
    extra: String,
}

impl Pipeline {
    /// From connection string `source` to `target`, with the work directory `work` beside
    /// the file.
    pub fn new(source: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            workdir: PathBuf::from("work"),
            source: source.into(),
            target: target.into(),
            connect_timeout_secs: None,
            extra: String::new(),
        }
    }

    /// From `prod` to `qa`, the password read from [`PASSWORD_VAR`].
    pub fn between(prod: &Environment, qa: &Environment) -> Self {
        Self::new(
            prod.server.connection_template(PASSWORD_VAR),
            qa.server.connection_template(PASSWORD_VAR),
        )
    }

    /// The work directory, as written in the file: a relative one lies beside the file.
    #[must_use]
    pub fn workdir(mut self, workdir: impl Into<PathBuf>) -> Self {
        self.workdir = workdir.into();
        self
    }

    /// `connect_timeout_secs` of both sides.
    #[must_use]
    pub fn connect_timeout_secs(mut self, secs: u64) -> Self {
        self.connect_timeout_secs = Some(secs);
        self
    }

    /// TOML appended after `[target]`: further tables such as `[mapping]` or `[load]`.
    #[must_use]
    pub fn extra(mut self, toml: &str) -> Self {
        self.extra.push_str(toml);
        if !self.extra.ends_with('\n') {
            self.extra.push('\n');
        }
        self
    }

    /// The text of the file.
    pub fn text(&self) -> String {
        let timeout = self
            .connect_timeout_secs
            .map(|secs| format!("connect_timeout_secs = {secs}\n"))
            .unwrap_or_default();
        format!(
            "workdir = {}\n[source]\nconnection = {}\n{timeout}[target]\nconnection = {}\n{timeout}{}",
            toml_string(&self.workdir.to_string_lossy()),
            toml_string(&self.source),
            toml_string(&self.target),
            self.extra,
        )
    }

    /// Writes the file at `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.text()).map_err(|source| Error::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the file at `path` and parses it as `bptmig` would, with [`password_env`] as
    /// the environment.
    pub fn config(&self, path: &Path) -> Result<PipelineConfig> {
        self.write(path)?;
        PipelineConfig::parse(&self.text(), path, &password_env).map_err(|source| Error::Pipeline {
            path: path.to_owned(),
            source,
        })
    }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every batch of the table `table` that `stage` wrote in `workdir`
/// (`<workdir>/<stage>/<TABLE>/`), part by part, each part checked against its manifest.
/// A table without a complete manifest is an error.
pub fn read_stage(workdir: &Path, stage: &str, table: &str) -> Result<Vec<RecordBatch>> {
    let dir = workdir.join(stage).join(table);
    let manifest = Manifest::read(&dir).map_err(workdir_error)?;
    let Some(manifest) = manifest.filter(|m| m.complete) else {
        return Err(Error::NoTable { dir });
    };
    let mut batches = Vec::new();
    for part in &manifest.parts {
        let reader = PartReader::open_listed(&dir, part).map_err(workdir_error)?;
        batches.extend(reader.read_all().map_err(workdir_error)?);
    }
    Ok(batches)
}

/// The transform's ID map of `table` (`<workdir>/transform/maps/<TABLE>.parquet`):
/// old ID → new ID.
pub fn read_id_map(workdir: &Path, table: &str) -> Result<HashMap<i32, i32>> {
    read_map(workdir, TRANSFORM, table)
}

/// The ID map of `table` that `stage` wrote (`<workdir>/<stage>/maps/<TABLE>.parquet`; the
/// load's maps the ID each row got in the target): old ID → new ID.
pub fn read_map(workdir: &Path, stage: &str, table: &str) -> Result<HashMap<i32, i32>> {
    let path = workdir
        .join(stage)
        .join("maps")
        .join(format!("{table}.parquet"));
    let reader = PartReader::open(&path)
        .and_then(|r| r.columns(&["OLD_ID", "NEW_ID"]))
        .map_err(workdir_error)?;
    let mut map = HashMap::new();
    for batch in reader.read_all().map_err(workdir_error)? {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<Int32Type>())
                .filter(|c| c.null_count() == 0)
        };
        let (Some(old), Some(new)) = (column("OLD_ID"), column("NEW_ID")) else {
            return Err(Error::Unexpected {
                context: format!(
                    "`{}` lacks an Int32 `OLD_ID` or `NEW_ID`, or holds NULL",
                    path.display()
                ),
            });
        };
        map.extend(
            old.values()
                .iter()
                .copied()
                .zip(new.values().iter().copied()),
        );
    }
    Ok(map)
}

/// One cell of a row [`table_rows`] read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    /// Any other value, as the driver prints it.
    Other(String),
}

/// Every row of the server table `table`: its column names (as the server spells them) and
/// each row's cells, in the server's order.
pub async fn table_rows(
    client: &mut SqlClient,
    table: &str,
) -> Result<(Vec<String>, Vec<Vec<Cell>>)> {
    query_cells(client, &format!("SELECT * FROM {table}")).await
}

/// The first result of the query `sql`: its column names and each row's cells.
pub async fn query_cells(
    client: &mut SqlClient,
    sql: &str,
) -> Result<(Vec<String>, Vec<Vec<Cell>>)> {
    let failed = |source| Error::Sql {
        context: format!("run `{sql}`"),
        source,
    };
    let rows = match client.simple_query(sql).await {
        Ok(stream) => stream.into_first_result().await,
        Err(e) => Err(e),
    }
    .map_err(failed)?;
    let names = rows.first().map_or_else(Vec::new, |r| {
        r.columns().iter().map(|c| c.name().to_owned()).collect()
    });
    let cells = rows
        .into_iter()
        .map(|r| r.into_iter().map(|d| cell(&d)).collect())
        .collect();
    Ok((names, cells))
}

fn cell(d: &tiberius::ColumnData<'_>) -> Cell {
    use tiberius::ColumnData as D;
    match d {
        D::I32(Some(v)) => Cell::Int(i64::from(*v)),
        D::I64(Some(v)) => Cell::Int(*v),
        D::I16(Some(v)) => Cell::Int(i64::from(*v)),
        D::U8(Some(v)) => Cell::Int(i64::from(*v)),
        D::String(Some(s)) => Cell::Text(s.to_string()),
        D::I32(None) | D::I64(None) | D::I16(None) | D::U8(None) | D::String(None) => Cell::Null,
        other => Cell::Other(format!("{other:?}")),
    }
}

/// Rows in the server table `table`.
pub async fn count_rows(client: &mut SqlClient, table: &str) -> Result<i64> {
    sql::scalar_i64(client, &format!("SELECT COUNT(*) FROM {table}")).await
}

fn workdir_error(source: bptmig_workdir::Error) -> Error {
    Error::Workdir { source }
}
