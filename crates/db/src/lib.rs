//! The SQL Server side of bptmig, shared by the extract, the load and `check`.
//!
//! * [`connect()`] opens a session from a pipeline [`Endpoint`](bptmig_model::pipeline::Endpoint),
//!   turning every way a connection fails into an [`Error`] that says what to check.
//! * [`query`]: statements, parameterised queries and typed cells; [`for_each_batch`] streams
//!   a query into Arrow batches through [`column_builder`], [`read_batches`] collects them.
//! * [`catalog`]: what `INFORMATION_SCHEMA` says about a table, found in any case;
//!   [`names`]: the tables as the catalog spells them ([`Names`]), for the statements;
//!   [`counts`]: a table's rows and highest ID.
//! * [`preflight`]: the platform tables present, the BPT queues drained.
//! * [`permissions`]: what the session may do to a table ([`has_object_permission`]).
//! * [`sql`]: quoting identifiers and text for T-SQL.
//! * [`fault`]: which failures are transient ([`Fault`]: a lost connection, a command timeout, a
//!   deadlock victim…) and which are final; [`retry`]: trying a step again after one
//!   ([`Retry`]).
//!
//! ```no_run
//! # async fn demo(endpoint: bptmig_model::pipeline::Endpoint) -> bptmig_db::Result<()> {
//! let mut client = bptmig_db::connect(bptmig_db::Side::Source, &endpoint).await?;
//! let n = bptmig_db::scalar(&mut client, bptmig_db::Side::Source, "SELECT 1").await?;
//! assert_eq!(n, 1);
//! # Ok(()) }
//! ```

pub mod catalog;
pub mod column_builder;
mod connect;
pub mod counts;
pub mod fault;
pub mod names;
pub mod permissions;
pub mod preflight;
pub mod query;
pub mod retry;
pub mod sql;

pub use catalog::{find_column, table_columns};
pub use connect::{connect, Side, SqlClient};
pub use counts::{max_id, row_count, table_stats};
pub use fault::{Fault, Transient};
pub use names::Names;
pub use permissions::{has_object_permission, Permission};
pub use query::{
    execute, for_each_batch, for_each_row, int_cell, query_rows, read_batches, scalar, text_cell,
    BatchQuery,
};
pub use retry::Retry;
pub use sql::{quote_ident, quote_text};
/// A query parameter, for callers of [`query_rows`] that do not depend on tiberius.
pub use tiberius::ToSql;

use bptmig_workdir::sql_type::TypeError;
use column_builder::ConvertError;

/// Errors of a connection or a statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the {side} connection string is not valid: {reason}")]
    BadConnection { side: Side, reason: String },
    #[error(
        "cannot reach the {side} at `{addr}` within {timeout_secs} s ({reason}); check the host and \
         port in the pipeline's `{side}.connection`, the network, and `{side}.connect_timeout_secs`"
    )]
    Unreachable {
        side: Side,
        addr: String,
        timeout_secs: u64,
        reason: String,
    },
    #[error("login to the {side} at `{addr}` failed: {reason}; check the user in `{side}.connection` and the password variable it references")]
    LoginFailed {
        side: Side,
        addr: String,
        reason: String,
    },
    #[error("the {side} at `{addr}` refused the session: {reason}")]
    Handshake {
        side: Side,
        addr: String,
        reason: String,
        /// Set when the session broke off rather than being refused (a reset, a timeout).
        fault: Option<Fault>,
    },
    #[error("the {side} is not an OutSystems platform database: missing {missing}; check `{side}.connection` (server and database)")]
    NotPlatform { side: Side, missing: String },
    #[error(
        "the {side} has no table `{table}` (in any case); check `{side}.connection` (server and \
         database) and that the module owning it is published there"
    )]
    MissingTable { side: Side, table: String },
    #[error(
        "the {side} holds tables whose names differ only by case: `{spellings}`; bptmig cannot \
         tell which one is `{table}`. Rename or drop the one the platform does not use"
    )]
    AmbiguousTable {
        side: Side,
        table: String,
        spellings: String,
    },
    #[error(
        "the {side} table `{table}` lacks column `{column}` that bptmig needs; the platform \
         version may be older than the one bptmig knows"
    )]
    MissingColumn {
        side: Side,
        table: String,
        column: &'static str,
    },
    #[error(
        "the {side}'s `{table}` holds {rows} unprocessed event(s): the BPT scheduler has not \
         drained it. Let it finish (or stop the applications that raise events) and run again; \
         extracting now would lose those events"
    )]
    PendingEvents {
        side: Side,
        table: &'static str,
        rows: i64,
    },
    #[error(
        "the {side} sent no answer within its command timeout while running `{sql}`; if its \
         statements may take that long (a lock wait, a busy server), raise \
         `{side}.command_timeout_secs` in the pipeline (0 = no limit)"
    )]
    TimedOut { side: Side, sql: String },
    #[error("{side} query failed: `{sql}`")]
    Query {
        side: Side,
        sql: String,
        #[source]
        source: tiberius::error::Error,
    },
    #[error("{side} column type")]
    Type {
        side: Side,
        #[source]
        source: TypeError,
    },
    #[error("table `{table}`")]
    Convert {
        table: String,
        #[source]
        source: ConvertError,
    },
    #[error("Arrow data of `{what}`")]
    Arrow {
        what: String,
        #[source]
        source: arrow::error::ArrowError,
    },
}

/// The result of a connection or a statement.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failed query, with its SQL cut to one line of at most 200 characters; a statement
    /// that ran out of time is [`Error::TimedOut`].
    pub fn query(side: Side, sql: &str, source: tiberius::error::Error) -> Self {
        let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let sql = match one_line.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &one_line[..i]),
            None => one_line,
        };
        if Fault::of_driver(&source) == Some(Fault::TimedOut) {
            return Error::TimedOut { side, sql };
        }
        Error::Query { side, sql, source }
    }

    /// The side the error is about, when it is about one.
    pub fn side(&self) -> Option<Side> {
        match self {
            Error::BadConnection { side, .. }
            | Error::Unreachable { side, .. }
            | Error::LoginFailed { side, .. }
            | Error::Handshake { side, .. }
            | Error::NotPlatform { side, .. }
            | Error::MissingTable { side, .. }
            | Error::AmbiguousTable { side, .. }
            | Error::MissingColumn { side, .. }
            | Error::PendingEvents { side, .. }
            | Error::TimedOut { side, .. }
            | Error::Query { side, .. }
            | Error::Type { side, .. } => Some(*side),
            Error::Convert { .. } | Error::Arrow { .. } => None,
        }
    }
}

impl Transient for Error {
    /// A lost or timed-out connection, a deadlock, a lock timeout, an unavailable server, a
    /// server that could not be reached or broke off the login: a new connection may succeed.
    fn fault(&self) -> Option<Fault> {
        match self {
            Error::Query { source, .. } => Fault::of_driver(source),
            Error::TimedOut { .. } => Some(Fault::TimedOut),
            Error::Unreachable { addr, .. } => Some(Fault::Unreachable { addr: addr.clone() }),
            Error::Handshake { fault, .. } => fault.clone(),
            _ => None,
        }
    }
}
