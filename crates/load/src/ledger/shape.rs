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

/// The unique keys bptmig gives its own tables when it creates them, by `[load.tables]` key:
/// what keeps two loads from both taking the lock (where the server has no
/// `sp_getapplock`), a tree or a chunk from being recorded twice, an ID from being paired
/// twice.
pub(crate) const UNIQUE_KEYS: [(&str, &[&str]); 4] = [
    ("ledger", &["RUN_ID", "TABLE_NAME", "CHUNK"]),
    ("trees", &["SOURCE_FINGERPRINT", "SOURCE_ROOT_ID"]),
    ("lock", &["LOCK_NAME"]),
    ("pairs", &["RUN_ID", "TABLE_NAME", "OLD_ID"]),
];

/// The tables `[load.tables]` names (ledger, trees, lock, pairs) that lack a unique index
/// on their key: one line each, with what to create. A unique index on fewer of the key's
/// columns keeps them unique too. Where the server's catalog does not answer, one line says
/// so. Advice, not a refusal: the load writes each key once whether or not an index holds
/// it.
pub async fn missing_unique_keys(client: &mut SqlClient, tables: &LedgerTables) -> Vec<String> {
    let names = [&tables.chunks, &tables.trees, &tables.lock, &tables.pairs];
    let mut out = Vec::new();
    for (table, (key, columns)) in names.into_iter().zip(UNIQUE_KEYS) {
        match unique_indexes(client, table).await {
            Ok(found) => out.extend(missing_unique(table, key, columns, &found)),
            Err(e) => {
                out.push(format!(
                    "could not read the unique indexes of `{table}` from the target's catalog \
                     ({e}); check yourself that each of bptmig's tables has its unique key"
                ));
                break;
            }
        }
    }
    out
}

/// Why `table` (`[load.tables].<key>`) lacks a unique key on `columns`, given the column sets
/// of its unique indexes (`found`, upper case).
pub(crate) fn missing_unique(
    table: &str,
    key: &str,
    columns: &[&str],
    found: &[HashSet<String>],
) -> Option<String> {
    let wanted: HashSet<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    if found.iter().any(|f| !f.is_empty() && f.is_subset(&wanted)) {
        return None;
    }
    Some(format!(
        "`{table}` (`[load.tables].{key}`) has no unique index on {}: create one \
         (`CREATE UNIQUE INDEX … ON {table} ({})`, or mark the attributes as a unique index \
         of the entity)",
        columns
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(" + "),
        columns.join(", ")
    ))
}

/// The key columns (upper case) of each unique index of `table`, any case.
async fn unique_indexes(client: &mut SqlClient, table: &str) -> Result<Vec<HashSet<String>>> {
    let sql = "SELECT i.index_id, c.name FROM sys.indexes i \
               JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id \
               JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id \
               WHERE i.is_unique = 1 AND ic.is_included_column = 0 \
               AND UPPER(OBJECT_NAME(i.object_id)) = @P1";
    let upper = table.to_uppercase();
    let rows = db::query_rows(client, Side::Target, sql, &[&upper]).await?;
    let mut by_index: std::collections::BTreeMap<i64, HashSet<String>> =
        std::collections::BTreeMap::new();
    for r in &rows {
        if let (Some(index), Some(column)) = (db::int_cell(r, 0), db::text_cell(r, 1)) {
            by_index
                .entry(index)
                .or_default()
                .insert(column.to_uppercase());
        }
    }
    Ok(by_index.into_values().collect())
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
