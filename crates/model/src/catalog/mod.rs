//! Every platform table bptmig reads or writes, and the role of each column it knows.
//!
//! Column *types* are deliberately absent: the live catalog of each environment is the
//! authority on types (`INFORMATION_SCHEMA.COLUMNS`). What the model knows is what a column
//! *means*: which columns are keys, which are foreign keys of which kind, which values may hold
//! an entity identifier, which hold scheduler state. Columns the model does not list are
//! carried through as plain values.

pub use column_names::*;
pub use definition::*;
pub use instance::*;
pub use lookup::{all_tables, definition_fk, table};
pub use platform::*;
pub use schema::{Column, ColumnRole, FkKind, Table, TableRole};
pub use table_names::*;

mod column_names;
mod definition;
mod instance;
mod lookup;
mod platform;
mod schema;
mod shorthands;
mod table_names;

#[cfg(test)]
mod tests;
