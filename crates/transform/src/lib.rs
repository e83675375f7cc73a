//! Transform: rewrite every foreign key of the extracted BPT rows for the target environment.
//!
//! Pure: Parquet and maps in, Parquet out; no database, no async runtime.
//!
//! * [`transform()`] runs the stage. Phase 1 reads key columns only, skips whole trees whose
//!   definitions the target lacks (policy `skip-tree`) and assigns every moved row its target
//!   ID (`renumber`: a dense block above the target's maximum, in source-ID order; `keep`).
//!   Phase 2 rewrites every part of every table in parallel (rayon), each into its own file.
//! * [`maps`]: definitions by (eSpace SS_KEY, SS_KEY), eSpaces, static tables, snapshots.
//! * [`principals`]: users, groups and tenants through the mapping file, names, then policy.
//! * [`report`]: the `report.json` a person reviews.
//!
//! ```no_run
//! # fn demo(config: bptmig_model::PipelineConfig) -> bptmig_transform::Result<()> {
//! let summary = bptmig_transform::transform(&config, &bptmig_model::NoProgress)?;
//! println!("{} problems to review", summary.report.problems);
//! # Ok(()) }
//! ```

use std::path::PathBuf;

pub mod coverage;
pub mod entity;
pub mod maps;
pub mod principals;
pub mod report;
mod stage;

pub use report::Report;
pub use stage::{
    output_dir, transform, transform_with, IdMap, TransformOptions, TransformSummary, STAGE,
};

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
        items: Vec<maps::UnmappedDefinition>,
    },
    #[error(
        "`{table}`: {rows} rows above the target's maximum ID {base} would pass the 32-bit limit \
         2147483647; move fewer trees (narrow `[selection]`) or free IDs in the target"
    )]
    IdOverflow { table: String, base: i64, rows: u64 },
    #[error(
        "`{table}`: `ids.strategy = \"keep\"` would reuse ID {first}, but the target already has IDs \
         up to {target_max}; use `renumber`"
    )]
    IdCollision {
        table: String,
        first: i64,
        target_max: i64,
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
    #[error(transparent)]
    Mapping(#[from] principals::MappingError),
    #[error(transparent)]
    Workdir(#[from] bptmig_workdir::Error),
    #[error("cannot {action} `{}`", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("Parquet file `{}`", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("Arrow data of `{what}`")]
    Arrow {
        what: String,
        #[source]
        source: arrow::error::ArrowError,
    },
}

pub type Result<T> = std::result::Result<T, Error>;
