//! A connection of the extract that a transient fault replaces.
//!
//! Every statement of the extract runs inside a [`Step`] through [`Session::run`]: when the
//! step fails with a transient fault (a lost connection, a command timeout, a deadlock…) and
//! the side's `retries` allow, the session opens a new connection and the step starts over.
//! Steps are atomic: a part is listed only once it is whole, a snapshot once all its files
//! are, so a redone step doubles nothing. Temporary tables live on the connection that
//! created them: a new connection fills the levels of the selected trees again, from the same
//! listed files, so a redone step sees the same rows. When the retries are spent, the step's
//! error is [`Error::RetriesSpent`].

use std::fmt;

use bptmig_db::{self as db, Names, Retry, Side, SqlClient, Transient as _};
use bptmig_model::pipeline::Endpoint;

use crate::listed::ListedPart;
use crate::selection::{Level, TreeScope};
use crate::{Error, Result};

/// What the extract was doing when a step failed, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// The pre-flight checks: platform tables present, BPT queues drained.
    Preflight,
    /// The snapshot of the side's mapping tables.
    Snapshot,
    /// Choosing the top-level processes.
    Selection,
    /// Loading the IDs of a level of the trees into a temporary table.
    Scope { ids: &'static str },
    /// Reading a table's columns from the catalog.
    Columns { table: String },
    /// One part of a table read page by page.
    Part { table: String, part: usize },
    /// A key-less table, read in one query.
    Table { table: String },
    /// Listing the `OSEVT_*` tables.
    EventTables,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Preflight => f.write_str("the pre-flight checks"),
            Step::Snapshot => f.write_str("the snapshot of the mapping tables"),
            Step::Selection => f.write_str("the selection of the top-level processes"),
            Step::Scope { ids } => write!(f, "loading the IDs of the {ids} into a temporary table"),
            Step::Columns { table } => write!(f, "reading the columns of `{table}`"),
            Step::Part { table, part } => write!(
                f,
                "part {part} of `{table}` (`{}`)",
                bptmig_workdir::Manifest::part_name(*part)
            ),
            Step::Table { table } => write!(f, "`{table}` (read in one query)"),
            Step::EventTables => f.write_str("listing the `OSEVT_` tables"),
        }
    }
}

/// One side's connection, and what must be rebuilt on a new one.
pub(crate) struct Session<'a> {
    side: Side,
    endpoint: &'a Endpoint,
    retry: Retry,
    client: SqlClient,
    /// The side's tables as its catalog spells them, read by the pre-flight; the same
    /// database on every connection.
    names: Names,
    /// The selected trees' temporary tables on this connection (the source's).
    scope: TreeScope,
    /// The levels filled so far and the parts each was filled from, in order.
    filled: Vec<(Level, Vec<ListedPart>)>,
}

impl<'a> Session<'a> {
    /// Opens the first connection. Its failure is final: a wrong host, port or password does
    /// not get better by waiting.
    pub(crate) async fn open(side: Side, endpoint: &'a Endpoint) -> Result<Self> {
        Ok(Self {
            side,
            endpoint,
            retry: Retry::for_endpoint(endpoint),
            client: db::connect(side, endpoint).await?,
            names: Names::from_spellings(side, []),
            scope: TreeScope::extract(),
            filled: Vec::new(),
        })
    }

    pub(crate) fn side(&self) -> Side {
        self.side
    }

    /// The side's tables as its catalog spells them (none before the pre-flight).
    pub(crate) fn names(&self) -> &Names {
        &self.names
    }

    /// Reads the side's table names for every statement after it, and refuses a database
    /// that lacks a platform table; a step of its own.
    pub(crate) async fn read_names(&mut self) -> Result<()> {
        let side = self.side;
        self.names = self
            .run(&Step::Preflight, async |client, _| {
                let names = Names::read(client, side).await?;
                db::preflight::require_platform(&names)?;
                Ok(names)
            })
            .await?;
        Ok(())
    }

    /// Runs `op` on the connection with the current temporary tables, and after each
    /// transient fault (while the side's retries last) again on a new connection.
    pub(crate) async fn run<T>(
        &mut self,
        step: &Step,
        mut op: impl AsyncFnMut(&mut SqlClient, &TreeScope) -> Result<T>,
    ) -> Result<T> {
        let retry = self.retry;
        let what = format!("{step} on the {}", self.side);
        let result = retry
            .run(&what, async |attempt| {
                if attempt > 0 {
                    self.reconnect().await?;
                }
                op(&mut self.client, &self.scope).await
            })
            .await;
        result.map_err(|error| self.spent(step, error))
    }

    /// Creates `level`'s temporary table from `parts` (each checked against its manifest
    /// entry first), and remembers them to fill it again on a new connection.
    pub(crate) async fn fill(&mut self, level: Level, parts: Vec<ListedPart>) -> Result<()> {
        let step = Step::Scope {
            ids: level.describe(),
        };
        self.run(&step, async |client, scope| {
            scope.fill_from_parts(client, level, &parts).await
        })
        .await?;
        self.filled.push((level, parts));
        Ok(())
    }

    /// A new connection with the filled levels filled again. The tables get names of their
    /// own: a compatible server may keep the old connection's a while.
    async fn reconnect(&mut self) -> Result<()> {
        self.client = db::connect(self.side, self.endpoint).await?;
        self.scope = TreeScope::unique();
        for (level, parts) in &self.filled {
            self.scope
                .fill_from_parts(&mut self.client, *level, parts)
                .await?;
        }
        Ok(())
    }

    /// The error of a step that failed for good: a transient fault left after the last try
    /// becomes [`Error::RetriesSpent`]; anything else stays as it is.
    fn spent(&self, step: &Step, error: Error) -> Error {
        let Error::Db(db_error) = &error else {
            return error;
        };
        let Some(fault) = db_error.fault() else {
            return error;
        };
        Error::RetriesSpent {
            step: step.clone(),
            side: self.side,
            retries: self.retry.retries,
            fault,
            timeout: self.endpoint.command_timeout,
        }
    }
}
