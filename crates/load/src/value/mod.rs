//! Arrow values bound to the SQL types of their columns, checked once, sent either way.
//!
//! A chunk's batch is bound once ([`BoundBatch::new`]): each column's SQL type is read from
//! the field metadata ([`SQL_TYPE_METADATA_KEY`](bptmig_workdir::sql_type::SQL_TYPE_METADATA_KEY))
//! and its array downcast to the Arrow type that stores that SQL type
//! ([`SqlType::arrow_type`](bptmig_workdir::sql_type::SqlType::arrow_type)). The same bound
//! columns then give
//!
//! * [`literal`]: exact SQL literals, for the `insert` strategy's `INSERT … VALUES`
//!   ([`BoundBatch::render_row`]);
//! * [`tds`]: exact TDS bulk-copy values, for the `bulk` strategy ([`BoundBatch::bulk_row`]);
//! * the ledger's chunk digest, which is the same whatever the strategy.
//!
//! Every value is checked the same way against what its column can hold exactly (a private
//! `check` module), and a refused value is the same [`ValueError`], naming the column, the row
//! and the value, whichever strategy loads the row.

mod bound;
mod check;
mod error;
pub mod literal;
pub mod tds;

pub use bound::BoundBatch;
pub(crate) use bound::TypedArray;
pub use error::{Result, ValueError};
