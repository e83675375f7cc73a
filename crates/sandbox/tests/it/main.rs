//! Integration tests of the sandbox environments, over TDS.
#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on the first unexpected error"
)]

mod binary;
mod environments;
mod generate;
