//! Synthetic OutSystems platform databases on local SQL-Server-compatible servers, for
//! bptmig's tests, benches and demo.
//!
//! * [`SandboxServer`]: an in-process `iridium_server` on a local port (no TLS, memory only).
//! * [`generate`]: a deterministic [`Dataset`] for a **prod** environment with process history
//!   or a **qa** environment with the same applications under other IDs.
//! * [`create_schema`] and [`seed`]: the platform DDL and the rows, over TDS.
//! * [`Environment::start`]: all of the above in one call.
//! * [`workdir`]: a work directory in the extract's format, generated without a server.
//! * [`testing`]: what the workspace's tests share (a prod and qa pair, a pipeline file
//!   between them, a stage's tables read back).
//!
//! ```no_run
//! # async fn demo() -> bptmig_sandbox::Result<()> {
//! use bptmig_sandbox::{EnvKind, EnvSpec, Environment};
//! let prod = Environment::start(EnvKind::Prod, &EnvSpec::default()).await?;
//! println!("prod at {}", prod.server.connection_string());
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

mod background;
pub mod generator;
mod server;
pub mod sql;
pub mod testing;
pub mod workdir;

pub use generator::{generate, shapes, Dataset, EnvKind, EnvSpec, TableRows};
pub use server::{connection_string, SandboxServer, ServerOptions, DEFAULT_PASSWORD, DEFAULT_USER};
pub use sql::{connect, Lit, SqlClient};

/// The platform schema: tables, FKs, trigger and static rows.
pub const SCHEMA_SQL: &str = include_str!("../sql/schema.sql");

/// Rows per multi-row `INSERT` while seeding (SQL Server allows up to 1,000).
const SEED_BATCH_ROWS: usize = 100;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot start a sandbox server on port {port}: {reason}")]
    Start { port: u16, reason: String },
    #[error("cannot connect to the sandbox")]
    Connect(#[from] bptmig_db::Error),
    #[error("sandbox SQL failed: {context}")]
    Sql {
        context: String,
        #[source]
        source: tiberius::error::Error,
    },
    #[error("sandbox: {context}")]
    Unexpected { context: String },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the pipeline file `{}` is not valid", path.display())]
    Pipeline {
        path: PathBuf,
        #[source]
        source: bptmig_model::ConfigError,
    },
    #[error("`{}` holds no complete table; run the stage that writes it first", dir.display())]
    NoTable { dir: PathBuf },
    #[error("reading the work directory")]
    Workdir {
        #[source]
        source: bptmig_workdir::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Creates the platform schema on an empty server.
pub async fn create_schema(client: &mut SqlClient) -> Result<()> {
    for batch in SCHEMA_SQL.split("\nGO\n") {
        let batch = batch.trim();
        if !batch.is_empty() {
            sql::execute(client, batch).await?;
        }
    }
    Ok(())
}

/// Inserts a dataset, table group by table group, each group in one transaction.
pub async fn seed(client: &mut SqlClient, data: &Dataset) -> Result<()> {
    for group in &data.tables {
        seed_rows(client, group).await?;
    }
    Ok(())
}

/// Inserts one group of rows with multi-row `INSERT`s inside a transaction.
pub async fn seed_rows(client: &mut SqlClient, rows: &TableRows) -> Result<()> {
    if rows.rows.is_empty() {
        return Ok(());
    }
    let columns = rows.columns.join(", ");
    let mut sql = String::with_capacity(64 * 1024);
    sql.push_str("SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n");
    if rows.explicit_ids {
        let _ = writeln!(sql, "SET IDENTITY_INSERT {} ON;", rows.table);
    }
    for chunk in rows.rows.chunks(SEED_BATCH_ROWS) {
        let _ = writeln!(sql, "INSERT INTO {} ({columns}) VALUES", rows.table);
        for (i, row) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ",\n(" });
            for (j, v) in row.iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                v.render(&mut sql);
            }
            sql.push(')');
        }
        sql.push_str(";\n");
    }
    if rows.explicit_ids {
        let _ = writeln!(sql, "SET IDENTITY_INSERT {} OFF;", rows.table);
    }
    sql.push_str("COMMIT TRANSACTION;\n");
    sql::execute(client, &sql).await
}

/// A running, seeded environment.
#[derive(Debug)]
pub struct Environment {
    pub kind: EnvKind,
    pub server: SandboxServer,
    pub data: Dataset,
}

impl Environment {
    /// Starts a server on a free port, creates the schema and seeds `kind` from `spec`.
    pub async fn start(kind: EnvKind, spec: &EnvSpec) -> Result<Self> {
        Self::start_with(kind, spec, &ServerOptions::default()).await
    }

    /// As [`Environment::start`], with explicit server options (port, login).
    pub async fn start_with(
        kind: EnvKind,
        spec: &EnvSpec,
        options: &ServerOptions,
    ) -> Result<Self> {
        let server = SandboxServer::start_with(options)?;
        let data = generate(kind, spec);
        let mut client = connect(&server.connection_string()).await?;
        create_schema(&mut client).await?;
        seed(&mut client, &data).await?;
        Ok(Self { kind, server, data })
    }

    /// A new connection to this environment.
    pub async fn connect(&self) -> Result<SqlClient> {
        connect(&self.server.connection_string()).await
    }
}
