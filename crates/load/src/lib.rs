//! Load: write transformed rows into the target database with multi-row `INSERT … VALUES`
//! statements. This version provides exact literal rendering ([`render`]): every Arrow value
//! of the transformed Parquet becomes the SQL literal that stores exactly that value.

pub mod render;
