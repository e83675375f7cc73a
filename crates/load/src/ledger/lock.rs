//! The target-side lock: one load (or rollback) at a time in a target, whatever work
//! directory it runs from.
//!
//! The lock is a row of bptmig's lock table (`BPTMIG_LOCK`, one row, key `LOCK_NAME`) naming
//! its holder: run, host, process, work directory, since when, and when it was last heard
//! from (`HEARTBEAT`). Taking it is one `INSERT` of that key, which two sessions cannot both
//! do. A row is taken over only
//!
//! * when it is this run's own (this work directory's earlier process, which its OS-level lock
//!   says has ended), or
//! * when its holder has been silent for [`STALE_AFTER`], or
//! * where the server has `sp_getapplock`, when this session gets the application lock
//!   `bptmig-load:<lock table>` (owned by a session of its own, released by the server when
//!   that session ends, however it ends): a holder that lives holds it.
//!
//! A takeover deletes the row by its `TOKEN` and inserts the new one in one transaction: of
//! two sessions taking over the same row, the second finds the key taken and loses.
//!
//! The holder writes `HEARTBEAT` as the first statement of every chunk's transaction and checks
//! that the row is still its own ([`TargetLock::hold_statements`]): a holder whose lock was
//! taken over stops before its chunk writes anything ([`Error::LockLost`]).

use std::path::Path;
use std::time::Duration;

use bptmig_db::{self as db, quote_text, Side, SqlClient};
use bptmig_model::pipeline::Endpoint;
use bptmig_model::PipelineConfig;

use super::LedgerTables;
use crate::target::run_batch;
use crate::{Error, Result};

/// How long a holder may be silent before its lock is taken for abandoned.
pub const STALE_AFTER: Duration = Duration::from_mins(10);
/// The key of the lock row.
const LOCK_NAME: &str = "load";
/// Tries at taking the lock while other sessions take it or let it go.
const ATTEMPTS: usize = 3;
/// The pause between two tries.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// SQL Server's error number for a stored procedure it does not have.
const NO_SUCH_PROCEDURE: u32 = 2812;
/// The sandbox's (and SQL Server's) error number for an object it does not have.
const NO_SUCH_OBJECT: u32 = 208;

/// What the holder of the lock does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockAction {
    Load,
    Rollback,
}

impl LockAction {
    fn as_str(self) -> &'static str {
        match self {
            LockAction::Load => "load",
            LockAction::Rollback => "rollback",
        }
    }

    fn doing(action: &str) -> &'static str {
        if action == LockAction::Rollback.as_str() {
            "rolling back its rows in"
        } else {
            "loading into"
        }
    }
}

/// Who holds the target's lock, as its row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    pub run_id: String,
    pub host: String,
    pub pid: i64,
    pub workdir: String,
    /// `load` or `rollback`.
    pub action: String,
    /// When it took the lock (ISO text, the target's clock).
    pub since: String,
    /// Seconds since it was last heard from.
    pub silent_secs: i64,
    token: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} from host {} is {} this target (process {}, work directory `{}`, since {}, \
             last heard from {} s ago)",
            self.run_id,
            self.host,
            LockAction::doing(&self.action),
            self.pid,
            self.workdir,
            self.since,
            self.silent_secs
        )
    }
}

/// The lock, held.
#[derive(Debug)]
pub(crate) struct TargetLock {
    table: String,
    token: String,
    /// The session owning the application lock, where the server has one.
    _applock: Option<Box<SqlClient>>,
}

impl TargetLock {
    /// Takes the lock of the target of `config` for run `run_id` (of work directory
    /// `workdir`), or refuses with [`Error::TargetBusy`] naming its holder.
    pub(crate) async fn acquire(
        client: &mut SqlClient,
        config: &PipelineConfig,
        run_id: &str,
        workdir: &Path,
        action: LockAction,
    ) -> Result<Self> {
        let tables = LedgerTables::of(&config.load);
        let table = tables.lock;
        // A lock table the user created was checked before (`[load.tables]`).
        if !tables.user_created {
            super::ensure_table(client, &table, &create_sql(&table)).await?;
        }
        let applock = applock(config, &table).await?;
        let me = Claim {
            table: &table,
            // A new run ID is unique to this process and moment: a token no other claim has.
            token: bptmig_workdir::new_run_id(&bptmig_workdir::WorkDir::new(workdir)),
            run_id,
            action,
            workdir: &workdir.display().to_string(),
        };
        let mut last = None;
        let mut unreadable = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                // A holder's chunk transaction may keep the row busy a moment.
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            if !applock.held_elsewhere() && run_batch(client, &me.insert_sql()).await.is_ok() {
                return Ok(me.held(applock.client()));
            }
            let holder = match read_holder(client, &table).await {
                Ok(Some(holder)) => holder,
                Ok(None) => continue,
                Err(e) => {
                    unreadable = Some(e);
                    continue;
                }
            };
            if applock.may_take_over(&holder, run_id)
                && run_batch(client, &me.take_over_sql(&holder.token))
                    .await
                    .is_ok()
            {
                if holder.run_id != run_id {
                    tracing::warn!(%holder, "took over the target's lock from a holder that is gone");
                }
                return Ok(me.held(applock.client()));
            }
            last = Some(holder);
        }
        match (last, unreadable) {
            (Some(holder), _) => Err(Error::TargetBusy {
                holder: Box::new(holder),
            }),
            (None, Some(e)) => Err(e),
            (None, None) => Err(Error::TargetBusy {
                holder: Box::new(unknown_holder()),
            }),
        }
    }

    /// Writes the heartbeat outside a chunk (after long steps such as the pre-load checks)
    /// and refuses when the lock is no longer this holder's.
    pub(crate) async fn confirm(&self, client: &mut SqlClient) -> Result<()> {
        let (beat, held) = self.hold_statements();
        db::execute(client, Side::Target, &beat).await?;
        if db::scalar(client, Side::Target, &held).await? == 1 {
            Ok(())
        } else {
            Err(self.lost(client).await)
        }
    }

    /// The statements a chunk's transaction starts with: the heartbeat, then the count of
    /// rows of the lock still this holder's (1 while it holds the lock, 0 once taken over).
    pub(crate) fn hold_statements(&self) -> (String, String) {
        let (table, token) = (db::quote_ident(&self.table), quote_text(&self.token));
        (
            format!(
                "UPDATE {table} SET HEARTBEAT = GETDATE() WHERE LOCK_NAME = {} AND TOKEN = {token};",
                quote_text(LOCK_NAME)
            ),
            format!(
                "SELECT COUNT(*) FROM {table} WHERE LOCK_NAME = {} AND TOKEN = {token}",
                quote_text(LOCK_NAME)
            ),
        )
    }

    /// The error for a lock found taken over, naming the new holder.
    pub(crate) async fn lost(&self, client: &mut SqlClient) -> Error {
        let holder = read_holder(client, &self.table)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(unknown_holder);
        Error::LockLost {
            holder: Box::new(holder),
        }
    }

    /// Lets the lock go: its row deleted on a session of its own (the stage's may have been
    /// lost), the application lock with its session.
    pub(crate) async fn release(self, target: &Endpoint) {
        let sql = format!(
            "DELETE FROM {} WHERE LOCK_NAME = {} AND TOKEN = {};",
            db::quote_ident(&self.table),
            quote_text(LOCK_NAME),
            quote_text(&self.token)
        );
        let deleted = match db::connect(Side::Target, target).await {
            Ok(mut client) => db::execute(&mut client, Side::Target, &sql).await,
            Err(e) => Err(e),
        };
        if let Err(error) = deleted {
            tracing::warn!(
                %error,
                "could not delete the target's lock row; this run takes it over when it runs \
                 again, any other once the row is stale"
            );
        }
    }
}

/// The statement creating the lock table `table`.
pub(crate) fn create_sql(table: &str) -> String {
    format!(
        "CREATE TABLE {t} (\
         LOCK_NAME NVARCHAR(64) NOT NULL, TOKEN NVARCHAR(64) NOT NULL, RUN_ID NVARCHAR(64) NOT NULL, \
         ACTION NVARCHAR(32) NOT NULL, HOST NVARCHAR(256) NOT NULL, PID INT NOT NULL, \
         WORKDIR NVARCHAR(1024) NOT NULL, TAKEN_AT DATETIME NOT NULL DEFAULT GETDATE(), \
         HEARTBEAT DATETIME NOT NULL DEFAULT GETDATE(), \
         CONSTRAINT {pk} PRIMARY KEY (LOCK_NAME))",
        t = db::quote_ident(table),
        pk = db::quote_ident(&format!("PK_{table}"))
    )
}

/// A claim on the lock: the row this process would write.
struct Claim<'a> {
    table: &'a str,
    token: String,
    run_id: &'a str,
    action: LockAction,
    workdir: &'a str,
}

impl Claim<'_> {
    fn insert_sql(&self) -> String {
        format!(
            "INSERT INTO {} (LOCK_NAME, TOKEN, RUN_ID, ACTION, HOST, PID, WORKDIR, TAKEN_AT, \
             HEARTBEAT) VALUES ({}, {}, {}, {}, {}, {}, {}, GETDATE(), GETDATE());",
            db::quote_ident(self.table),
            quote_text(LOCK_NAME),
            quote_text(&self.token),
            quote_text(self.run_id),
            quote_text(self.action.as_str()),
            quote_text(&host_name()),
            std::process::id(),
            quote_text(self.workdir)
        )
    }

    /// Deletes the row of holder `token` and inserts this one, in one transaction.
    fn take_over_sql(&self, token: &str) -> String {
        format!(
            "SET XACT_ABORT ON; BEGIN TRANSACTION; DELETE FROM {} WHERE LOCK_NAME = {} AND \
             TOKEN = {}; {} COMMIT TRANSACTION;",
            db::quote_ident(self.table),
            quote_text(LOCK_NAME),
            quote_text(token),
            self.insert_sql()
        )
    }

    fn held(self, applock: Option<Box<SqlClient>>) -> TargetLock {
        TargetLock {
            table: self.table.to_owned(),
            token: self.token,
            _applock: applock,
        }
    }
}

/// The lock row, if there is one.
async fn read_holder(client: &mut SqlClient, table: &str) -> Result<Option<LockHolder>> {
    let sql = format!(
        "SELECT TOKEN, RUN_ID, HOST, PID, WORKDIR, ACTION, CONVERT(VARCHAR(33), TAKEN_AT, 126), \
         DATEDIFF(SECOND, HEARTBEAT, GETDATE()) FROM {} WHERE LOCK_NAME = {}",
        db::quote_ident(table),
        quote_text(LOCK_NAME)
    );
    let rows = db::query_rows(client, Side::Target, &sql, &[]).await?;
    Ok(rows.first().map(|r| {
        let text = |i| db::text_cell(r, i).unwrap_or_default();
        LockHolder {
            token: text(0),
            run_id: text(1),
            host: text(2),
            pid: db::int_cell(r, 3).unwrap_or(0),
            workdir: text(4),
            action: text(5),
            since: text(6),
            silent_secs: db::int_cell(r, 7).unwrap_or(0),
        }
    }))
}

/// The holder when its row cannot be read.
fn unknown_holder() -> LockHolder {
    LockHolder {
        run_id: "?".into(),
        host: "?".into(),
        pid: 0,
        workdir: "?".into(),
        action: LockAction::Load.as_str().into(),
        since: "?".into(),
        silent_secs: 0,
        token: String::new(),
    }
}

/// What `sp_getapplock` said.
enum AppLock {
    /// The server has none.
    Absent,
    /// Granted to this session, held while it is open.
    Granted(Box<SqlClient>),
    /// Another session holds it.
    Held,
}

impl AppLock {
    fn held_elsewhere(&self) -> bool {
        matches!(self, AppLock::Held)
    }

    /// Whether the row of `holder` may be taken over by run `run_id`: with the application
    /// lock granted, always (a live holder would hold it); without one on the server, when
    /// the row is the run's own or its holder has been silent for [`STALE_AFTER`].
    fn may_take_over(&self, holder: &LockHolder, run_id: &str) -> bool {
        match self {
            AppLock::Granted(_) => true,
            AppLock::Held => false,
            AppLock::Absent => {
                holder.run_id == run_id
                    || holder.silent_secs
                        >= i64::try_from(STALE_AFTER.as_secs()).unwrap_or(i64::MAX)
            }
        }
    }

    fn client(self) -> Option<Box<SqlClient>> {
        match self {
            AppLock::Granted(c) => Some(c),
            AppLock::Absent | AppLock::Held => None,
        }
    }
}

/// Asks for the application lock of `table` on a session of its own, without waiting.
async fn applock(config: &PipelineConfig, table: &str) -> Result<AppLock> {
    let mut client = db::connect(Side::Target, &config.target).await?;
    let sql = format!(
        "DECLARE @r INT; EXEC @r = sp_getapplock @Resource = {}, @LockMode = 'Exclusive', \
         @LockOwner = 'Session', @LockTimeout = 0; SELECT CAST(@r AS BIGINT)",
        quote_text(&format!("bptmig-load:{table}"))
    );
    match db::scalar(&mut client, Side::Target, &sql).await {
        Ok(r) if r >= 0 => Ok(AppLock::Granted(Box::new(client))),
        Ok(_) => Ok(AppLock::Held),
        Err(e) if is_missing_procedure(&e) => Ok(AppLock::Absent),
        Err(e) => Err(e.into()),
    }
}

/// Whether `e` says the server has no `sp_getapplock`.
fn is_missing_procedure(e: &bptmig_db::Error) -> bool {
    let bptmig_db::Error::Query {
        source: tiberius::error::Error::Server(token),
        ..
    } = e
    else {
        return false;
    };
    missing_procedure(token.code(), token.message())
}

/// Whether the server error `code` with `message` says there is no `sp_getapplock`.
fn missing_procedure(code: u32, message: &str) -> bool {
    code == NO_SUCH_PROCEDURE || (code == NO_SUCH_OBJECT && message.contains("sp_getapplock"))
}

/// This machine's name, for the lock row.
pub(super) fn host_name() -> String {
    let from_file = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok());
    from_file
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown host".to_owned())
}

#[cfg(test)]
mod tests;
