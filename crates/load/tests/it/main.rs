//! Integration tests of `bptmig-load` against sandbox servers.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod bulk_mssql;
mod load;
mod render;
