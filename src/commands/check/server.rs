//! The checks that ask a server: connections, queues, ID room; and
//! each side's session ([`Server`]), which turns a failure into a line.

use bptmig_db::{self as db, Fault, Names, Side, SqlClient, Transient as _};
use bptmig_model::pipeline::{mask_secrets, Endpoint};
use bptmig_model::PipelineConfig;

use super::line::{line, Line, Verdict};

/// One side's session for the checks.
///
/// A statement that fails on a transient fault ([`Fault`]: a timeout, a lost connection…)
/// tells nothing about what it checks, so its line says "could not tell", never BLOCK. It also
/// leaves the session in an unknown state: the session is dropped, and the side's later checks
/// say they were skipped instead of waiting on it again.
pub struct Server<'a> {
    side: Side,
    endpoint: &'a Endpoint,
    session: Session,
}

enum Session {
    /// Boxed: a session is large, and the other states hold nothing.
    Open(Box<SqlClient>),
    /// The connection failed; its line blocks, and the side's checks are left out.
    NotConnected,
    /// A statement failed on a transient fault; its line said so.
    Lost,
}

impl<'a> Server<'a> {
    /// Connects to `side` and adds the connection's line to `out`.
    pub async fn connect(side: Side, config: &'a PipelineConfig, out: &mut Vec<Line>) -> Self {
        let endpoint = match side {
            Side::Source => &config.source,
            Side::Target => &config.target,
        };
        let name = format!("{side} connection");
        let session = match db::connect(side, endpoint).await {
            Ok(client) => {
                out.push(line(name, Verdict::Ok, endpoint.connection.to_string()));
                Session::Open(Box::new(client))
            }
            Err(e) => {
                // Reaching the server is what this line checks: a failure blocks.
                out.push(line(name, Verdict::Block, mask_secrets(&e.to_string())));
                Session::NotConnected
            }
        };
        Self {
            side,
            endpoint,
            session,
        }
    }

    /// The session for `check`; `None` when the side is not connected (its connection line
    /// blocks already) or was lost, then with a line saying `check` was skipped.
    pub fn client(&mut self, check: &str, out: &mut Vec<Line>) -> Option<&mut SqlClient> {
        if matches!(self.session, Session::Lost) {
            out.push(self.skipped(check));
        }
        match &mut self.session {
            Session::Open(client) => Some(client.as_mut()),
            Session::NotConnected | Session::Lost => None,
        }
    }

    /// The line of `check`, which failed with `error`: "could not tell" for a transient
    /// fault (and the session is dropped), BLOCK for anything else.
    pub fn failed(&mut self, check: impl Into<String>, error: &db::Error) -> Line {
        match error.fault() {
            Some(fault) => {
                self.session = Session::Lost;
                line(check, Verdict::Unknown, self.could_not_tell(&fault))
            }
            None => line(check, Verdict::Block, mask_secrets(&error.to_string())),
        }
    }

    /// What a person reads for a check the `fault` kept from an answer: what happened, and
    /// for a timeout the setting that bounds it.
    fn could_not_tell(&self, fault: &Fault) -> String {
        format!(
            "could not tell: {}; run `bptmig check` again",
            fault.describe(self.side, &self.endpoint.command_timeout)
        )
    }

    fn skipped(&self, check: &str) -> Line {
        line(
            check,
            Verdict::Unknown,
            format!(
                "could not tell: skipped, the {} did not answer an earlier check (above)",
                self.side
            ),
        )
    }
}

/// The line of `check`, which failed with `error` while asking `source` or `target`: the side
/// the error names answers for it ([`Server::failed`]).
pub fn failed_on(
    source: &mut Server<'_>,
    target: &mut Server<'_>,
    check: impl Into<String>,
    error: &db::Error,
) -> Line {
    match error.side() {
        Some(Side::Target) => target.failed(check, error),
        _ => source.failed(check, error),
    }
}

/// Both sessions for `check`, which needs both sides; `None` when either is missing: silently
/// when one is not connected (its connection line blocks), else with one line saying `check`
/// was skipped.
pub fn both<'s>(
    source: &'s mut Server<'_>,
    target: &'s mut Server<'_>,
    check: &str,
    out: &mut Vec<Line>,
) -> Option<(&'s mut SqlClient, &'s mut SqlClient)> {
    let connected = |s: &Server<'_>| !matches!(s.session, Session::NotConnected);
    if connected(source) && connected(target) {
        if matches!(source.session, Session::Lost) {
            out.push(source.skipped(check));
        } else if matches!(target.session, Session::Lost) {
            out.push(target.skipped(check));
        }
    }
    match (&mut source.session, &mut target.session) {
        (Session::Open(s), Session::Open(t)) => Some((s.as_mut(), t.as_mut())),
        _ => None,
    }
}

/// `table` as `side`'s catalog spells it, quoted for a statement.
pub async fn quoted(client: &mut SqlClient, side: Side, table: &str) -> db::Result<String> {
    Names::read(client, side).await?.quoted(table)
}

/// Whether the side's BPT queues are drained.
pub async fn queues(server: &mut Server<'_>, out: &mut Vec<Line>) {
    let side = server.side;
    for queue in db::preflight::QUEUES {
        let name = format!("{side} queue {queue} empty");
        let Some(client) = server.client(&name, out) else {
            continue;
        };
        let counted = match quoted(client, side, queue).await {
            Ok(table) => db::row_count(client, side, &table).await,
            Err(e) => Err(e),
        };
        match counted {
            Ok(0) => out.push(line(name, Verdict::Ok, "0 rows")),
            Ok(n) => out.push(line(
                name,
                Verdict::Block,
                format!("{n} row(s): let the {side}'s scheduler drain it first"),
            )),
            Err(e) => out.push(server.failed(name, &e)),
        }
    }
}
