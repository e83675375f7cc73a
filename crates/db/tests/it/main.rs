//! Integration tests of `bptmig-db` against a sandbox server.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod names;
