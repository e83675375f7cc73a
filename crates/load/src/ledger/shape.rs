//! bptmig's own tables when the user created them (`[load.tables]`, for instance published as
//! OutSystems entities): bptmig never creates a table then; before it takes the target's lock
//! or moves a row, it checks that each of the four has the columns it writes ([`check`]).
//!
//! A column is found in any case. A text column must be `nvarchar` or `varchar` long enough
//! for what this run writes into it (or `MAX`); an integer column `int` or `bigint`; a date
//! column `datetime` or `datetime2`; a column bptmig may leave NULL must allow NULL. Other
//! columns are allowed when the table fills them itself: nullable, with a default, or an
//! identity (an OutSystems entity's `ID`). Every problem of every table is reported at once
//! ([`Error::OwnTables`]).

use std::collections::HashSet;

use bptmig_db::{self as db, Side, SqlClient};

use super::LedgerTables;
use crate::{Error, Result};

/// What a column must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text of up to this many characters.
    Text(usize),
    Int,
    DateTime,
}

/// A column bptmig writes: its name, what it holds, whether bptmig may write NULL into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Needed {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) null: bool,
}

const fn text(name: &'static str, len: usize) -> Needed {
    Needed {
        name,
        kind: Kind::Text(len),
        null: false,
    }
}

const fn int(name: &'static str, null: bool) -> Needed {
    Needed {
        name,
        kind: Kind::Int,
        null,
    }
}

const fn date(name: &'static str, null: bool) -> Needed {
    Needed {
        name,
        kind: Kind::DateTime,
        null,
    }
}

/// The lengths of what this run writes into the text columns.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lengths {
    pub(crate) run_id: usize,
    /// The longest table name of the plan.
    pub(crate) table: usize,
    /// The longest chunk name of the plan.
    pub(crate) chunk: usize,
    pub(crate) fingerprint: usize,
    pub(crate) host: usize,
    pub(crate) workdir: usize,
}

/// The length of a chunk's digest (`v2:` and 60 hex digits).
const DIGEST: usize = 63;

/// The columns of each table, as `[load.tables]` names the table.
pub(crate) fn needed(n: &Lengths) -> [(&'static str, Vec<Needed>); 4] {
    [
        (
            "ledger",
            vec![
                text("RUN_ID", n.run_id),
                text("TABLE_NAME", n.table),
                text("CHUNK", n.chunk),
                int("ROWS_LOADED", false),
                text("DIGEST", DIGEST),
                int("MIN_ID", true),
                int("MAX_ID", true),
                date("LOADED_AT", false),
            ],
        ),
        (
            "trees",
            vec![
                text("SOURCE_FINGERPRINT", n.fingerprint),
                int("SOURCE_ROOT_ID", false),
                date("SOURCE_LAST_MODIFIED", true),
                text("RUN_ID", n.run_id),
                int("TARGET_ROOT_ID", false),
                date("LOADED_AT", false),
            ],
        ),
        (
            "lock",
            vec![
                text("LOCK_NAME", 4),
                text("TOKEN", n.run_id),
                text("RUN_ID", n.run_id),
                text("ACTION", "rollback".len()),
                text("HOST", n.host),
                int("PID", false),
                text("WORKDIR", n.workdir),
                date("TAKEN_AT", false),
                date("HEARTBEAT", false),
            ],
        ),
        (
            "pairs",
            vec![
                text("RUN_ID", n.run_id),
                text("TABLE_NAME", n.table),
                text("CHUNK", n.chunk),
                int("OLD_ID", false),
                int("NEW_ID", false),
            ],
        ),
    ]
}

/// One column as the target's catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Live {
    pub(crate) name: String,
    pub(crate) data_type: String,
    /// `None` for MAX (or a type without a length).
    pub(crate) len: Option<i64>,
    pub(crate) nullable: bool,
    pub(crate) defaulted: bool,
    pub(crate) identity: bool,
}

/// Checks the four tables `tables` names against what a run with `lengths` writes; refuses
/// with every problem found.
pub(crate) async fn check(
    client: &mut SqlClient,
    tables: &LedgerTables,
    lengths: &Lengths,
) -> Result<()> {
    let names = [&tables.chunks, &tables.trees, &tables.lock, &tables.pairs];
    let mut problems = Vec::new();
    for (name, (key, needed)) in names.into_iter().zip(needed(lengths)) {
        let live = live_columns(client, name).await?;
        problems.extend(compare(name, key, &needed, &live));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::OwnTables { problems })
    }
}

/// The problems of table `table` (`[load.tables].<key>`) whose columns are `live`.
pub(crate) fn compare(table: &str, key: &str, needed: &[Needed], live: &[Live]) -> Vec<String> {
    let at = format!("`{table}` (`[load.tables].{key}`)");
    if live.is_empty() {
        return vec![format!(
            "{at} does not exist in the target; create it first"
        )];
    }
    let mut problems = Vec::new();
    for n in needed {
        let Some(l) = live.iter().find(|l| l.name.eq_ignore_ascii_case(n.name)) else {
            problems.push(format!("{at} lacks column `{}` ({})", n.name, describe(n)));
            continue;
        };
        if let Some(why) = mismatch(n, l) {
            problems.push(format!("{at} column `{}` {why}", l.name));
        }
    }
    let known: HashSet<String> = needed.iter().map(|n| n.name.to_uppercase()).collect();
    for l in live {
        let filled = l.nullable || l.defaulted || l.identity;
        if !filled && !known.contains(&l.name.to_uppercase()) {
            problems.push(format!(
                "{at} column `{}` is not bptmig's and is NOT NULL without a default: bptmig \
                 cannot fill it; make it nullable, give it a default, or drop it",
                l.name
            ));
        }
    }
    problems
}

/// What `n` needs, in words.
fn describe(n: &Needed) -> String {
    let ty = match n.kind {
        Kind::Text(len) => format!("text of at least {len} characters"),
        Kind::Int => "an integer".to_owned(),
        Kind::DateTime => "a date and time".to_owned(),
    };
    if n.null {
        format!("{ty}, nullable")
    } else {
        ty
    }
}

/// Why live column `l` cannot hold what `n` needs, if it cannot.
fn mismatch(n: &Needed, l: &Live) -> Option<String> {
    let ty = l.data_type.to_ascii_lowercase();
    let shown = match l.len {
        Some(len) => format!("{ty}({len})"),
        None if ty.ends_with("varchar") => format!("{ty}(max)"),
        None => ty.clone(),
    };
    let fits = match n.kind {
        Kind::Text(need) => {
            matches!(ty.as_str(), "nvarchar" | "varchar")
                && l.len.is_none_or(|len| len >= need as i64)
        }
        Kind::Int => matches!(ty.as_str(), "int" | "bigint"),
        Kind::DateTime => matches!(ty.as_str(), "datetime" | "datetime2"),
    };
    if !fits {
        return Some(format!("is {shown}; it must be {}", describe(n)));
    }
    if n.null && !l.nullable {
        return Some("must allow NULL (bptmig leaves it empty where it has no value)".to_owned());
    }
    if l.identity {
        return Some("is an identity; bptmig writes its values".to_owned());
    }
    None
}

/// The columns of `table` (any case), empty when it does not exist.
async fn live_columns(client: &mut SqlClient, table: &str) -> Result<Vec<Live>> {
    let upper = table.to_uppercase();
    let sql = "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE, \
               COLUMN_DEFAULT FROM INFORMATION_SCHEMA.COLUMNS WHERE UPPER(TABLE_NAME) = @P1";
    let rows = db::query_rows(client, Side::Target, sql, &[&upper]).await?;
    // A server without `sys.identity_columns` tells nothing: such columns then need to be
    // nullable or defaulted.
    let identity: HashSet<String> = db::query_rows(
        client,
        Side::Target,
        "SELECT name FROM sys.identity_columns WHERE UPPER(OBJECT_NAME(object_id)) = @P1",
        &[&upper],
    )
    .await
    .map(|rows| {
        rows.iter()
            .filter_map(|r| db::text_cell(r, 0))
            .map(|n| n.to_uppercase())
            .collect()
    })
    .unwrap_or_default();
    Ok(rows
        .iter()
        .map(|r| {
            let name = db::text_cell(r, 0).unwrap_or_default();
            let data_type = db::text_cell(r, 1).unwrap_or_default();
            let limit = if data_type.eq_ignore_ascii_case("varchar") {
                8000
            } else {
                4000
            };
            Live {
                identity: identity.contains(&name.to_uppercase()),
                len: db::int_cell(r, 2).filter(|&l| l > 0 && l <= limit),
                nullable: db::text_cell(r, 3).is_some_and(|v| v.eq_ignore_ascii_case("YES")),
                defaulted: db::text_cell(r, 4).is_some_and(|d| !d.is_empty()),
                name,
                data_type,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests;
