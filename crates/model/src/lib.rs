//! The OutSystems BPT domain as bptmig sees it, with no I/O.
//!
//! * [`calendar`]: leap years and month lengths, for every date check.
//! * [`catalog`]: every platform table the tool reads or writes, each column with its role
//!   (key, foreign key of a given kind, plain value, entity-reference value, scheduler state).
//!   Table and column names live here as constants and nowhere else.
//! * [`graph`]: the foreign-key graph between the moved tables, the load order, the cycle
//!   edges and which columns may be deferred.
//! * [`sstype`]: the `SS_TYPE` grammar (`rt<Name>` or `bt<eSpace key>*<entity key>`).
//! * [`pipeline`]: the pipeline file (TOML) and the validated settings it yields.
//! * [`progress`]: the [`Reporter`] trait through which stages report progress.
//! * [`used`]: the source IDs the rows to move reference ([`UsedIds`]).
//!
//! ```
//! use bptmig_model::{catalog, graph};
//! let order = graph::load_order();
//! assert_eq!(order[0], catalog::PROCESS);
//! ```

pub mod calendar;
pub mod catalog;
pub mod graph;
pub mod pipeline;
pub mod progress;
pub mod sstype;
pub mod used;

pub use catalog::{Column, ColumnRole, FkKind, Table, TableRole};
pub use pipeline::{ConfigError, ConnectionString, PipelineConfig};
pub use progress::{NoProgress, Reporter};
pub use sstype::{SsType, SsTypeError};
pub use used::UsedIds;
