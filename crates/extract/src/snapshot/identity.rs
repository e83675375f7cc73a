//! The identity of each keyed instance table, for the snapshot's `instance_stats`: where the
//! server's identity stands, its seed and increment, the first row at or after its next
//! value, whether explicit IDs move identities on this server (measured on a session
//! temporary table, on both sides), and on the target whether the login may use
//! `IDENTITY_INSERT` (switched on and off again). Nothing permanent is written.

use bptmig_db::{self as db, quote_ident, quote_text, Names, Side, SqlClient, Transient as _};
use bptmig_model::catalog::{self as c, Table};
use bptmig_workdir::snapshot::Identity;

use crate::Result;

/// The stem of the session temporary table of [`follows_explicit`].
const PROBE_TABLE: &str = "#bptmig_identity_probe";

/// The identity of `table` on `side`; on the target also whether `IDENTITY_INSERT` is
/// allowed, and `follows` (the server-wide [`follows_explicit`]).
pub(crate) async fn identity(
    client: &mut SqlClient,
    side: Side,
    names: &Names,
    table: &Table,
    follows: Option<bool>,
) -> Result<Identity> {
    let spelled = quote_text(names.spelled(table.name)?);
    let quoted = names.quoted(table.name)?;
    let sql = format!(
        "SELECT CAST(IDENT_CURRENT({spelled}) AS BIGINT), CAST(IDENT_SEED({spelled}) AS BIGINT), \
         CAST(IDENT_INCR({spelled}) AS BIGINT)"
    );
    let rows = db::query_rows(client, side, &sql, &[]).await?;
    let cell = |i| rows.first().and_then(|r| db::int_cell(r, i));
    let mut id = Identity {
        current: cell(0),
        seed: cell(1),
        increment: cell(2),
        follows_explicit: follows,
        ..Identity::default()
    };
    let sql = format!(
        "SELECT CASE WHEN last_value IS NULL THEN 1 ELSE 0 END FROM sys.identity_columns \
         WHERE object_id = OBJECT_ID({spelled})"
    );
    let rows = db::query_rows(client, side, &sql, &[]).await?;
    id.never_used = rows
        .first()
        .and_then(|r| db::int_cell(r, 0))
        .map(|v| v == 1);
    if let Some(next) = id.next() {
        let sql = format!(
            "SELECT MIN({}) FROM {quoted} WHERE {} >= {next}",
            quote_ident(c::ID),
            quote_ident(c::ID)
        );
        let rows = db::query_rows(client, side, &sql, &[]).await?;
        id.first_in_way = rows.first().and_then(|r| db::int_cell(r, 0));
        id.checked = true;
    }
    if side == Side::Target {
        // Only a refusal for a permission is a "no" (`auto` then generates the IDs); any
        // other refusal (no identity column, another table's IDENTITY_INSERT on) tells
        // nothing.
        let trial = db::permissions::Trial::identity_insert(names.spelled(table.name)?);
        id.identity_insert = match db::permissions::trial(client, Side::Target, &trial).await? {
            db::permissions::Answer::Granted => Some(true),
            db::permissions::Answer::Denied(_) => Some(false),
            db::permissions::Answer::Unknown(_) => None,
        };
    }
    Ok(id)
}

/// Whether an explicit ID inserted above a temporary table's identity moves it (SQL Server:
/// yes); `None` when the server refuses any step (the sandbox server refuses
/// `SET IDENTITY_INSERT` on a temporary table).
pub(crate) async fn follows_explicit(client: &mut SqlClient) -> Result<Option<bool>> {
    // A name of its own: some compatible servers share `#` tables between sessions, and two
    // checks or extracts may run at once.
    let table = probe_table();
    let answer = follows_explicit_in(client, &table).await;
    // Dropped whatever happened (refused when it was never created).
    if answer.is_err() || matches!(answer, Ok(None)) {
        refused_is_no(client, &format!("DROP TABLE {table}")).await?;
    }
    answer
}

/// `#bptmig_identity_probe_<pid>_<n>`: unique to this process and call.
fn probe_table() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{PROBE_TABLE}_{}_{n}", std::process::id())
}

async fn follows_explicit_in(client: &mut SqlClient, table: &str) -> Result<Option<bool>> {
    // One batch each: a server may resolve names of a batch before it runs it.
    let steps = [
        format!("CREATE TABLE {table} (ID INT IDENTITY(1,1) NOT NULL PRIMARY KEY, V INT NULL)"),
        format!(
            "SET IDENTITY_INSERT {table} ON; \
             INSERT INTO {table} (ID, V) VALUES (10, 0); \
             SET IDENTITY_INSERT {table} OFF"
        ),
        format!("INSERT INTO {table} (V) VALUES (1)"),
    ];
    for step in &steps {
        if refused_is_no(client, step).await? != Some(true) {
            return Ok(None);
        }
    }
    let sql = format!("SELECT ID FROM {table} WHERE V = 1");
    let generated = db::query_rows(client, Side::Target, &sql, &[])
        .await?
        .first()
        .and_then(|r| db::int_cell(r, 0));
    db::execute(client, Side::Target, &format!("DROP TABLE {table}")).await?;
    Ok(generated.map(|id| id > 10))
}

/// Runs `sql` on the target: `Some(true)` when it succeeds, `Some(false)` when the server
/// refuses it; a lost connection or a timeout is an error (the step is tried again).
async fn refused_is_no(client: &mut SqlClient, sql: &str) -> Result<Option<bool>> {
    let result = match client.simple_query(sql).await {
        Ok(stream) => stream.into_results().await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Some(true)),
        Err(e) if e.fault().is_none() => Ok(Some(false)),
        Err(e) => Err(db::Error::query(Side::Target, sql, e).into()),
    }
}

#[cfg(test)]
mod tests {
    use bptmig_sandbox::{EnvKind, EnvSpec, Environment};

    use super::*;

    /// What the sandbox server answers: it refuses `SET IDENTITY_INSERT` on a temporary table
    /// (so whether explicit IDs move identities is unknown: they do not, there), qa's identity
    /// (its rows were seeded with explicit IDs) stays at 0 below them, and `IDENTITY_INSERT`
    /// on the table itself is allowed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sandbox_answers_with_a_stale_identity_and_identity_insert_allowed() {
        let qa = Environment::start(EnvKind::Qa, &EnvSpec::default())
            .await
            .unwrap();
        let mut client = qa.connect().await.unwrap();
        let follows = follows_explicit(&mut client).await.unwrap();
        assert_eq!(follows, None);
        let names = Names::read(&mut client, Side::Target).await.unwrap();
        let process = c::table(c::PROCESS).unwrap();
        let id = identity(&mut client, Side::Target, &names, process, follows)
            .await
            .unwrap();
        let max = db::max_id(
            &mut client,
            Side::Target,
            &names.quoted(c::PROCESS).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(max, Some(4));
        assert_eq!(
            (id.current, id.seed, id.increment),
            (Some(0), Some(1), Some(1))
        );
        assert_eq!(id.never_used, Some(false));
        assert_eq!(
            (id.next(), id.first_in_way, id.checked),
            (Some(1), Some(1), true)
        );
        assert_eq!(id.identity_insert, Some(true));
        // A second probe in the same session finds no leftover table.
        assert_eq!(follows_explicit(&mut client).await.unwrap(), None);
    }
}
