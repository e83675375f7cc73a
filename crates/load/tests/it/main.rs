//! Integration tests of `bptmig-load`: against sandbox servers, and the literal grammar.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod bulk_mssql;
mod literal;
mod load;
mod render;
mod rng;
