//! Transform: rewrite every foreign key of the extracted BPT rows for the target environment.
pub mod principals;
