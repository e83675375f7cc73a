//! A deterministic generator of two OutSystems environments that share their published
//! applications: **prod**, with process history, and **qa**, with the same eSpaces and
//! definitions (same SS_KEYs) under other numeric IDs, its own users and tenants, and little
//! history.
//!
//! Everything is derived from [`EnvSpec`]: the same spec always gives the same rows. The
//! result is a [`Dataset`]: tables of [`Lit`](crate::Lit) rows in an order that satisfies every FK, which
//! [`crate::seed`] inserts and which tests can inspect.

pub use applications::{
    process_definition_names, CANDIDATE_EVENT_TABLE, CANDIDATE_TABLE, INACTIVE_DEFINITION,
    PROD_ONLY_DEFINITION,
};
pub use columns::{
    ACTIVITY_CLOSED, ACTIVITY_LISTENING, ACTIVITY_READY, ACTIVITY_RUNNING, ACTIVITY_TERMINATED,
    HISTORY_TABLES, PROCESS_ACTIVE, PROCESS_CLOSED, PROCESS_SUSPENDED, PROCESS_TERMINATED,
    UNKNOWN_DECIMAL_COLUMN,
};
pub use dataset::{Dataset, EnvKind, EnvSpec, TableRows};
pub use history::RESEEDED_TO;
pub use published::{generate, generate_published, Published};
pub use random::ss_key;
pub use sink::Sink;

mod applications;
mod columns;
mod dataset;
mod entities;
mod history;
mod ids;
mod publish;
mod published;
mod random;
pub mod shapes;
mod sink;

#[cfg(test)]
mod tests;
