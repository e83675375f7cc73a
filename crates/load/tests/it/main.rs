//! Integration tests of `bptmig-load`: against sandbox servers, and the literal grammar.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod bulk_mssql;
mod damaged;
mod faults;
mod literal;
mod load;
mod render;
mod rng;
mod support;
mod target_lock;
mod twice;
