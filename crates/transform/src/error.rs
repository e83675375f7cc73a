//! The transform's errors.

use std::path::{Path, PathBuf};

/// Why a transform failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("`{}` is missing; {hint}", path.display())]
    MissingInput { path: PathBuf, hint: &'static str },
    #[error(
        "{} source definition(s) have no match in the target: {}; publish the modules there or set \
         `mapping.unmapped_definition = \"skip-tree\"`",
        items.len(),
        items.iter().map(|u| format!("`{}` #{} `{}`", u.table, u.source_id, u.name)).collect::<Vec<_>>().join(", ")
    )]
    UnmappedDefinitions {
        items: Vec<crate::maps::MissingDefinition>,
    },
    #[error(
        "`{table}`: {rows} rows above the target's maximum ID {base} would pass the 32-bit limit \
         2147483647; move fewer trees (narrow `[selection]`) or free IDs in the target"
    )]
    IdOverflow { table: String, base: i64, rows: u64 },
    #[error(
        "`{table}`: the target's identity stands at {identity}, so the renumbered block is \
         {first}..{last}, but the target already holds row {row} there (it was reseeded below \
         rows it still has, and its own next rows would collide there too); reseed `{table}` \
         to a free range (`DBCC CHECKIDENT ('{table}', RESEED, <value>)`), or move fewer \
         trees (narrow `[selection]`) so that the block ends before row {row}"
    )]
    IdentityBlocked {
        table: String,
        identity: i64,
        first: i64,
        last: i64,
        row: i64,
    },
    #[error(
        "`{table}`: {rows} rows after the target's identity {identity} would pass the 32-bit \
         limit 2147483647; reseed `{table}` to the negative range as OutSystems recommends \
         (`DBCC CHECKIDENT ('{table}', RESEED, -2147483648)`), or move fewer trees (narrow \
         `[selection]`)"
    )]
    IdentityOverflow {
        table: String,
        identity: i64,
        rows: u64,
    },
    #[error(
        "`{table}`: {older} moving rows lie above the source's identity {identity} and {newer} at \
         or below it, as after a reseed, but this work directory's source snapshot was taken \
         before the rows (by an older bptmig), so rows created during that extract lie above \
         the identity too and a reseed cannot be told from them; run `bptmig extract` again \
         (it keeps every extracted row and takes only the source snapshot anew), then \
         `bptmig transform`"
    )]
    SourceSnapshotFirst {
        table: String,
        identity: i64,
        older: u64,
        newer: u64,
    },
    #[error(
        "`{table}`: `ids.strategy = \"keep\"` would reuse ID {first}, but the target already has IDs \
         up to {target_max}; use `renumber`"
    )]
    IdCollision {
        table: String,
        first: i64,
        target_max: i64,
    },
    #[error(
        "{total} identifier(s) inside values point at rows this run does not move, at \
         principals, definitions or eSpaces with no match, or are not integers: {}{}; widen \
         `[selection]` or map them, or set `mapping.unmoved_reference = \"null\"` or \
         `\"keep\"` (each is then counted and listed in report.json)",
        items.iter().map(|(t, u)| format!(
            "`{t}` row {} `{}` `{}` = `{}` ({})",
            u.row, u.column, u.entity, u.value, u.reason.as_str()
        )).collect::<Vec<_>>().join(", "),
        if *total > items.len() as u64 { format!(" and {} more", *total - items.len() as u64) } else { String::new() }
    )]
    UnmovedReferences {
        total: u64,
        /// The first of them per table (at most [`crate::report::UNMOVED_SAMPLES`] each).
        items: Vec<(String, crate::report::UnmovedRef)>,
    },
    #[error("`{table}.{column}` is {found}; bptmig expects INT keys and foreign keys")]
    ColumnType {
        table: String,
        column: String,
        found: String,
    },
    #[error("entity map `{}` line {line}: {message}", path.display())]
    EntityMap {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "the transform of run {run_id} was interrupted; tables already rewritten are kept: run \
         the same command again to resume"
    )]
    Interrupted { run_id: String },
    /// An `[anonymize]` rule that the extract cannot satisfy (its column is missing or not
    /// text). The message never holds a value.
    #[error("`{rule}` (`{column}`): {message}")]
    Anonymize {
        rule: String,
        column: String,
        message: String,
    },
    #[error(transparent)]
    Mapping(#[from] crate::principals::MappingError),
    #[error("internal error at `{}`: {what}; please report it", path.display())]
    Internal { path: PathBuf, what: &'static str },
    #[error(transparent)]
    Workdir(#[from] bptmig_workdir::Error),
}

/// The result of a transform operation.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O failure while doing `action` to `path` (the work directory's wording).
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Self::Workdir(bptmig_workdir::Error::io(path, action, source))
    }

    /// An Arrow failure building `what`.
    pub(crate) fn arrow(what: &str, source: arrow::error::ArrowError) -> Self {
        Self::Workdir(bptmig_workdir::Error::arrow(what, source))
    }
}
