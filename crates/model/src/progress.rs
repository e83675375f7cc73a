//! Progress reporting from the stage libraries to whoever drives them.
//!
//! Libraries call a [`Reporter`] once per batch (never per row); the binary implements it
//! with progress bars or structured logs, tests with [`NoProgress`] or a recorder.

/// Receives progress from a stage. Implementations must be cheap: calls arrive once per batch.
pub trait Reporter: Send + Sync {
    /// A table starts; `expected_rows` when known.
    fn table_started(&self, stage: &str, table: &str, expected_rows: Option<u64>);
    /// `rows` more rows of `table` are done.
    fn rows(&self, table: &str, rows: u64);
    /// `table` is finished with `total_rows` rows (resumed rows included).
    fn table_finished(&self, table: &str, total_rows: u64);
    /// Something a person should read (already free of secrets).
    fn note(&self, message: &str);
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Reporter for NoProgress {
    fn table_started(&self, _stage: &str, _table: &str, _expected_rows: Option<u64>) {}
    fn rows(&self, _table: &str, _rows: u64) {}
    fn table_finished(&self, _table: &str, _total_rows: u64) {}
    fn note(&self, _message: &str) {}
}
