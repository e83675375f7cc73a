//! Keys allowed in each table of the pipeline file, and the defaults of optional keys.

/// Keys allowed at the top level of a pipeline file.
pub const ROOT_KEYS: &[&str] = &[
    "workdir",
    "source",
    "target",
    "selection",
    "mapping",
    "ids",
    "extract",
    "transform",
    "load",
    "anonymize",
];
/// Keys allowed in `[source]` and `[target]`.
pub const ENDPOINT_KEYS: &[&str] = &[
    "connection",
    "connect_timeout_secs",
    "command_timeout_secs",
    "retries",
    "retry_delay_secs",
];
/// Keys allowed in `[selection]`.
pub const SELECTION_KEYS: &[&str] = &[
    "statuses",
    "created_from",
    "created_to",
    "tenants",
    "process_definitions",
    "espaces",
    "include_inactive_definitions",
    "already_moved",
    "broken_tree",
];
/// Keys allowed in `[mapping]`.
pub const MAPPING_KEYS: &[&str] = &[
    "file",
    "unmapped_user",
    "unmapped_group",
    "unmapped_definition",
    "unmoved_reference",
    "entity_maps",
];
/// Keys allowed in `[ids]`.
pub const IDS_KEYS: &[&str] = &["strategy"];
/// Keys allowed in `[extract]`.
pub const EXTRACT_KEYS: &[&str] = &["part_rows", "row_group_rows"];
/// Keys allowed in `[transform]`.
pub const TRANSFORM_KEYS: &[&str] = &["clear_scheduler_locks"];
/// Keys allowed in `[load]`.
pub const LOAD_KEYS: &[&str] = &[
    "strategy",
    "batch_rows",
    "chunk_rows",
    "ledger_table",
    "tables",
];
/// Keys allowed in `[load.tables]`.
pub const LOAD_TABLES_KEYS: &[&str] = &["ledger", "trees", "lock", "pairs"];

/// Default of `source.connect_timeout_secs` / `target.connect_timeout_secs`.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 15;
/// Largest accepted `connect_timeout_secs`.
pub const MAX_CONNECT_TIMEOUT_SECS: u64 = 600;
/// Default of `command_timeout_secs`: how long a statement may wait for the server's next
/// answer, as ADO.NET's `Command Timeout`.
pub const DEFAULT_COMMAND_TIMEOUT_SECS: u64 = 30;
/// Largest accepted `command_timeout_secs` (a day); `0` means no limit.
pub const MAX_COMMAND_TIMEOUT_SECS: u64 = 86_400;
/// The connection-string keys (ADO.NET spellings, any case) that may set the command timeout
/// when `command_timeout_secs` does not.
pub const ADO_COMMAND_TIMEOUT_KEYS: &[&str] = &["command timeout", "commandtimeout"];
/// Default of `retries`: with [`DEFAULT_RETRY_DELAY_SECS`] and [`RETRY_DELAY_CAP_SECS`] the
/// attempts spread over about a minute (2 + 4 + 8 + 16 + 30 s).
pub const DEFAULT_RETRIES: u32 = 5;
/// Largest accepted `retries`.
pub const MAX_RETRIES: u32 = 100;
/// Default of `retry_delay_secs`: the wait before the first retry, doubled before each next.
pub const DEFAULT_RETRY_DELAY_SECS: u64 = 2;
/// Largest accepted `retry_delay_secs`.
pub const MAX_RETRY_DELAY_SECS: u64 = 600;
/// The longest wait between two attempts however many were made, unless `retry_delay_secs`
/// itself is longer.
pub const RETRY_DELAY_CAP_SECS: u64 = 30;
/// Default of `extract.part_rows`.
pub const DEFAULT_PART_ROWS: usize = 100_000;
/// Default of `extract.row_group_rows` (lowered to `part_rows` when that is smaller).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 10_000;
/// Default of `load.batch_rows` (lowered to `chunk_rows` when that is smaller).
pub const DEFAULT_BATCH_ROWS: usize = 200;
/// Largest accepted `load.batch_rows`: SQL Server accepts at most 1000 rows in one `VALUES`.
pub const MAX_BATCH_ROWS: usize = 1000;
/// Default of `load.chunk_rows`.
pub const DEFAULT_CHUNK_ROWS: usize = 5000;
/// Default of `load.ledger_table`.
pub const DEFAULT_LEDGER_TABLE: &str = "BPTMIG_LEDGER";
/// Longest SQL Server identifier (`sysname`).
pub(super) const MAX_IDENTIFIER_LEN: usize = 128;
/// Earliest year a SQL Server `datetime` holds; the platform's date columns are `datetime`.
pub(super) const MIN_YEAR: u32 = 1753;
