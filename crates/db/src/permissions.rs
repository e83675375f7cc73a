//! What the session may do to an object: asked of the server (`HAS_PERMS_BY_NAME`,
//! `fn_my_permissions`), or found
//! out exactly by a harmless trial ([`trial`]).
//!
//! A trial runs a statement that needs the right and changes nothing — a `SELECT`, `INSERT`,
//! `UPDATE` or `DELETE` that touches no row, `SET IDENTITY_INSERT … ON` then `OFF`,
//! `DBCC CHECKIDENT (…, NORESEED)`, a `CREATE TABLE` rolled back — inside a transaction that
//! is rolled back ([`Trial`]). SQL Server checks permissions when a statement runs, whatever
//! rows it touches, so the outcome is exact: it ran ([`Answer::Granted`]), the server refused
//! it for a permission ([`Answer::Denied`], told by the error number), or the server refused
//! it for another reason and the trial tells nothing ([`Answer::Unknown`]: a compatible
//! server that does not run such a statement).

use std::fmt;

use crate::query::{int_cell, query_rows, text_cell};
use crate::sql::{quote_ident, quote_text};
use crate::Transient as _;
use crate::{Error, Fault, Result, Side, SqlClient};

/// A permission on a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Select,
    Insert,
    Update,
    Alter,
    Delete,
}

impl Permission {
    /// The permission's T-SQL name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Select => "SELECT",
            Permission::Insert => "INSERT",
            Permission::Update => "UPDATE",
            Permission::Alter => "ALTER",
            Permission::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the session holds `permission` on the object `object`; `None` when the server
/// answers NULL (it cannot tell, or does not know the object).
///
/// Some compatible servers answer 0 or NULL even for what the session just read, so a caller
/// should first ask about an object it knows it may read, and trust a `false` only when that
/// answer was `true`.
pub async fn has_object_permission(
    client: &mut SqlClient,
    side: Side,
    object: &str,
    permission: Permission,
) -> Result<Option<bool>> {
    let sql = format!(
        "SELECT HAS_PERMS_BY_NAME({}, 'OBJECT', '{permission}')",
        quote_text(object)
    );
    let rows = query_rows(client, side, &sql, &[]).await?;
    Ok(rows.first().and_then(|r| int_cell(r, 0)).map(|v| v == 1))
}

/// Whether the session may create tables in its database (`CREATE TABLE` on the database);
/// `None` when the server answers NULL. Trust it as [`has_object_permission`] says.
pub async fn has_database_permission(
    client: &mut SqlClient,
    side: Side,
    permission: &str,
) -> Result<Option<bool>> {
    let sql = format!(
        "SELECT HAS_PERMS_BY_NAME(NULL, 'DATABASE', {})",
        quote_text(permission)
    );
    let rows = query_rows(client, side, &sql, &[]).await?;
    Ok(rows.first().and_then(|r| int_cell(r, 0)).map(|v| v == 1))
}

/// What a trial showed about a right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The statement ran: the session holds the right.
    Granted,
    /// The server refused the statement for want of a permission; its words.
    Denied(String),
    /// The server refused the statement for another reason (it does not run such a
    /// statement): the trial tells nothing; its words.
    Unknown(String),
}

/// SQL Server's error numbers that mean "permission denied": 229/230 (object/column
/// permission), 262 (database permission, e.g. CREATE TABLE), 297 and 15247 (no permission
/// for the action), 1088 (`SET IDENTITY_INSERT` on an object the session may not alter),
/// 2571 (DBCC), 2760 (schema), 3704 and 4902 (`ALTER`/`DROP` of an object it may not alter),
/// 8104 (`IDENTITY_INSERT` without ownership or ALTER).
pub const DENIED_ERRORS: &[u32] = &[
    229, 230, 262, 297, 1088, 2571, 2760, 3704, 4902, 8104, 15247,
];

/// A harmless trial of a right: statements that need it and change nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trial {
    /// Run inside `BEGIN TRANSACTION` … `ROLLBACK`.
    pub sql: String,
}

impl Trial {
    /// `SELECT` on `table`: every column, no row.
    pub fn select(table: &str) -> Self {
        Self::of(format!("SELECT * FROM {} WHERE 1 = 0", quote_ident(table)))
    }

    /// `INSERT` on `table`: no row, into `columns` (every column a load names, none an
    /// identity), read from the table itself (so `SELECT` on them is needed too).
    pub fn insert(table: &str, columns: &[String]) -> Self {
        let list = columns
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let t = quote_ident(table);
        Self::of(format!(
            "INSERT INTO {t} ({list}) SELECT {list} FROM {t} WHERE 1 = 0"
        ))
    }

    /// `UPDATE` on `column` of `table`: no row.
    pub fn update(table: &str, column: &str) -> Self {
        let c = quote_ident(column);
        Self::of(format!(
            "UPDATE {} SET {c} = {c} WHERE 1 = 0",
            quote_ident(table)
        ))
    }

    /// `DELETE` on `table`: no row.
    pub fn delete(table: &str) -> Self {
        Self::of(format!("DELETE FROM {} WHERE 1 = 0", quote_ident(table)))
    }

    /// `ALTER` on `table`, as `SET IDENTITY_INSERT` needs it: switched on, then off.
    pub fn identity_insert(table: &str) -> Self {
        let t = quote_ident(table);
        Self::of(format!(
            "SET IDENTITY_INSERT {t} ON; SET IDENTITY_INSERT {t} OFF"
        ))
    }

    /// The right to run `DBCC CHECKIDENT` on `table` (owner, db_owner, db_ddladmin or
    /// sysadmin): `NORESEED` only reports the identity.
    pub fn checkident(table: &str) -> Self {
        Self::of(format!(
            "DBCC CHECKIDENT ({}, NORESEED) WITH NO_INFOMSGS",
            quote_text(table)
        ))
    }

    /// `CREATE TABLE` in the session's database: a one-column table `name`, rolled back with
    /// the transaction ([`trial`] drops it too where a server keeps it).
    pub fn create_table(name: &str) -> Self {
        Self::of(format!("CREATE TABLE {} (X INT NULL)", quote_ident(name)))
    }

    fn of(sql: String) -> Self {
        Self { sql }
    }
}

/// Runs `trial` in a transaction that is rolled back and says what it showed. A transient
/// fault (a lost connection, a timeout) tells nothing and is an error, as for any statement.
pub async fn trial(client: &mut SqlClient, side: Side, trial: &Trial) -> Result<Answer> {
    // Another session's lock on the table (a load, or a second check's trial on a server
    // that does not wait for locks) says nothing of the right: wait a little and try again.
    let mut answer = trial_once(client, side, trial).await?;
    for wait_ms in [50, 150, 400, 1000] {
        match &answer {
            Answer::Unknown(words) if is_lock_conflict(words) => {
                tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
                answer = trial_once(client, side, trial).await?;
            }
            _ => break,
        }
    }
    Ok(answer)
}

/// Whether a refusal was a lock another session holds (SQL Server 1222, "Lock request time
/// out period exceeded"; compatible servers' "lock conflict").
fn is_lock_conflict(words: &str) -> bool {
    let words = words.to_ascii_lowercase();
    words.contains("lock conflict") || words.contains("lock request time out")
}

async fn trial_once(client: &mut SqlClient, side: Side, trial: &Trial) -> Result<Answer> {
    let sql = format!("BEGIN TRANSACTION; {}", trial.sql);
    let ran = run(client, &sql).await;
    // A refusal may or may not end the transaction; some compatible servers take
    // `ROLLBACK` only as a statement of its own (not inside `IF`), so ask first.
    let open = query_rows(client, side, "SELECT @@TRANCOUNT", &[]).await;
    let rolled_back = match open {
        Ok(rows) if rows.first().and_then(|r| int_cell(r, 0)).unwrap_or(0) > 0 => {
            run(client, "ROLLBACK TRANSACTION")
                .await
                .map_err(|e| Error::query(side, "ROLLBACK TRANSACTION", e))
        }
        Ok(_) => Ok(()),
        // Some compatible servers refuse the question itself (a doomed transaction, or
        // another session's rolled-back DDL): end the transaction blindly; what the trial
        // did is the answer. Only a lost connection is an error.
        Err(e) if e.fault().is_none() => {
            let _ = run(client, "ROLLBACK TRANSACTION").await;
            Ok(())
        }
        Err(e) => Err(e),
    };
    match ran {
        Ok(()) => {
            rolled_back?;
            Ok(Answer::Granted)
        }
        Err(e) if Fault::of_driver(&e).is_some() => Err(Error::query(side, &trial.sql, e)),
        Err(e) => {
            rolled_back?;
            Ok(classify(&e))
        }
    }
}

/// The permissions `fn_my_permissions` lists for the session on the object `object`
/// (`SELECT`, `INSERT`, …); `None` when the server refuses the question. Some compatible
/// servers list the same server-wide permissions for every object, so a caller should first
/// ask about an object it knows it may read, and trust the list only when that one names
/// `SELECT`.
pub async fn my_object_permissions(
    client: &mut SqlClient,
    side: Side,
    object: &str,
) -> Result<Option<Vec<String>>> {
    let sql = format!(
        "SELECT permission_name FROM fn_my_permissions({}, 'OBJECT')",
        quote_text(object)
    );
    match query_rows(client, side, &sql, &[]).await {
        Ok(rows) => Ok(Some(rows.iter().filter_map(|r| text_cell(r, 0)).collect())),
        Err(e) if crate::Transient::fault(&e).is_some() => Err(e),
        Err(_) => Ok(None),
    }
}

/// Drops table `name` if it exists: the cleanup of a [`Trial::create_table`] on a server that
/// keeps DDL of a rolled-back transaction.
pub async fn drop_if_exists(client: &mut SqlClient, side: Side, name: &str) -> Result<()> {
    let sql = format!(
        "IF OBJECT_ID({}) IS NOT NULL DROP TABLE {}",
        quote_text(name),
        quote_ident(name)
    );
    run(client, &sql)
        .await
        .map_err(|e| Error::query(side, &sql, e))
}

/// The answer a refused trial gives: denied for a permission error, else unknown.
fn classify(e: &tiberius::error::Error) -> Answer {
    match e {
        tiberius::error::Error::Server(t) if DENIED_ERRORS.contains(&t.code()) => {
            Answer::Denied(t.message().to_owned())
        }
        tiberius::error::Error::Server(t) => Answer::Unknown(t.message().to_owned()),
        other => Answer::Unknown(other.to_string()),
    }
}

async fn run(client: &mut SqlClient, sql: &str) -> Result<(), tiberius::error::Error> {
    client.simple_query(sql).await?.into_results().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_conflict_is_told_from_other_refusals() {
        assert!(is_lock_conflict(
            "execution error: lock conflict (no-wait): Write lock on 'T' is blocked"
        ));
        assert!(is_lock_conflict("Lock request time out period exceeded."));
        assert!(!is_lock_conflict("Incorrect syntax near 'DBCC'"));
    }

    #[test]
    fn trials_touch_no_row_and_quote_names() {
        assert_eq!(
            Trial::select("ossys_BPM_Process").sql,
            "SELECT * FROM [ossys_BPM_Process] WHERE 1 = 0"
        );
        assert_eq!(
            Trial::insert("T]", &["A".to_owned(), "B".to_owned()]).sql,
            "INSERT INTO [T]]] ([A], [B]) SELECT [A], [B] FROM [T]]] WHERE 1 = 0"
        );
        assert_eq!(
            Trial::update("T", "C").sql,
            "UPDATE [T] SET [C] = [C] WHERE 1 = 0"
        );
        assert_eq!(Trial::delete("T").sql, "DELETE FROM [T] WHERE 1 = 0");
        assert_eq!(
            Trial::identity_insert("T").sql,
            "SET IDENTITY_INSERT [T] ON; SET IDENTITY_INSERT [T] OFF"
        );
        assert_eq!(
            Trial::checkident("O'T").sql,
            "DBCC CHECKIDENT (N'O''T', NORESEED) WITH NO_INFOMSGS"
        );
        assert_eq!(
            Trial::create_table("X").sql,
            "CREATE TABLE [X] (X INT NULL)"
        );
    }

    #[test]
    fn permission_errors_are_told_apart_from_others() {
        assert!(DENIED_ERRORS.contains(&229) && DENIED_ERRORS.contains(&1088));
        assert!(DENIED_ERRORS.contains(&2571) && DENIED_ERRORS.contains(&262));
        // A syntax error (102) or an unknown statement says nothing about rights.
        assert!(!DENIED_ERRORS.contains(&102) && !DENIED_ERRORS.contains(&2812));
    }
}
