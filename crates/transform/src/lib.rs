//! Transform: rewrite every foreign key of the extracted BPT rows for the target environment.
//!
//! Pure: Parquet and maps in, Parquet out; no database, no async runtime.
//!
//! * [`transform()`] runs the stage (`stage.rs`, orchestration only):
//!   * phase 1, the plan (`plan/`): one read of the key and principal columns of every part,
//!     the trees whose definitions the target lacks left behind (policy `skip-tree`), every
//!     moved row's target ID (`renumber`: a dense block above the target's maximum, in
//!     source-ID order; `keep`), tree levels, and the principals in use resolved;
//!   * phase 2, the rewrite (`rewrite/`): every part of every table in parallel (rayon),
//!     each read once and written into its own file, one function per column role;
//!   * beside them: the ID maps under `transform/maps` (`id_maps.rs`), the deferred fix-ups
//!     (`deferred.rs`) and the `.done.json` marker of each finished table (`done.rs`);
//!   * every part read, of the extract or of an earlier run, checked against its manifest
//!     once a run (`verified.rs`); the stage's own output checked on every run, and what is
//!     damaged or missing written again ([`Redone`], `outputs.rs`, which also keeps
//!     `transform/manifest.json`, the record of the ID maps and `deferred.parquet`).
//! * [`maps`]: definitions by (eSpace SS_KEY, SS_KEY), eSpaces, static tables, snapshots.
//! * [`principals`]: users, groups and tenants through the mapping file, names, then policy.
//! * [`entity`]: the optional entity ID maps.
//! * [`id_block`]: where a renumbered table's block goes in the target (after its identity).
//! * [`anonymize`]: `[anonymize]`, personal data masked inside the rewrite (keyed,
//!   deterministic), and the [`anonymize::Masker`] `bptmig check` previews rules with.
//! * [`coverage`]: the same mapping rules without a transform, for `bptmig check`.
//! * [`report`]: the `report.json` a person reviews.
//!
//! ```no_run
//! # fn demo(config: bptmig_model::PipelineConfig) -> bptmig_transform::Result<()> {
//! let summary = bptmig_transform::transform(&config, &bptmig_model::NoProgress)?;
//! println!("{} problems to review", summary.report.problems);
//! # Ok(()) }
//! ```

pub use error::{Error, Result};
pub use outputs::Redone;
pub use report::Report;
pub use stage::{output_dir, transform, transform_with, TransformOptions, TransformSummary, STAGE};

pub mod anonymize;
pub mod coverage;
pub mod entity;
pub mod id_block;
pub mod maps;
pub mod principals;
pub mod report;
pub mod scheduler;
pub mod unmoved;

mod deferred;
mod done;
mod error;
mod id_maps;
mod input;
mod outputs;
mod plan;
mod refs;
mod rewrite;
mod stage;
mod verified;
