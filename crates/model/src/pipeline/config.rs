//! The validated settings a pipeline file yields.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    ConnectionString, DEFAULT_BATCH_ROWS, DEFAULT_CHUNK_ROWS, DEFAULT_COMMAND_TIMEOUT_SECS,
    DEFAULT_CONNECT_TIMEOUT_SECS, DEFAULT_LEDGER_TABLE, DEFAULT_PART_ROWS, DEFAULT_RETRIES,
    DEFAULT_RETRY_DELAY_SECS, DEFAULT_ROW_GROUP_ROWS,
};

/// A validated pipeline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineConfig {
    /// The file it came from, for messages.
    pub path: PathBuf,
    /// `workdir`: the directory holding this run's files; a relative path is resolved against
    /// the pipeline file's directory.
    pub workdir: PathBuf,
    /// `[source]`: the environment the processes come from.
    pub source: Endpoint,
    /// `[target]`: the environment they go to.
    pub target: Endpoint,
    /// `[selection]`: which top-level processes move (with their whole trees).
    pub selection: Selection,
    /// `[mapping]`: how users, groups, tenants, definitions and entity IDs are matched.
    pub mapping: Mapping,
    /// `ids.strategy`: how moved rows get their IDs in the target.
    pub ids: IdStrategy,
    /// `[extract]`: Parquet part and row-group sizes.
    pub extract: ExtractSettings,
    /// `[transform]`: transform options.
    pub transform: TransformSettings,
    /// `[load]`: how rows are written into the target.
    pub load: LoadSettings,
    /// `[anonymize]`: how personal data is masked on its way out of the source (none when
    /// the table is absent: the transform then changes no value of these columns).
    pub anonymize: Option<super::Anonymize>,
}

/// A database to read from or write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `connection`: the ADO.NET connection string, `${VAR}` references expanded.
    pub connection: ConnectionString,
    /// `connect_timeout_secs`: how long to wait for a connection (1 to 600 s, default 15).
    pub connect_timeout: Duration,
    /// `command_timeout_secs`, else the connection string's `Command Timeout`: how long a
    /// statement waits for the server's next answer (0 to 86400 s, 0 = no limit, default 30).
    pub command_timeout: CommandTimeout,
    /// `retries`: how many more times a step that failed on a transient fault (a dropped
    /// connection, a timeout, a deadlock) is tried, each on a new connection (0 to 100,
    /// default 5).
    pub retries: u32,
    /// `retry_delay_secs`: the wait before the first retry, doubled before each next one up to
    /// 30 s (0 to 600 s, default 2).
    pub retry_delay: Duration,
}

impl Endpoint {
    /// An endpoint for `connection` with every other setting at its default.
    pub fn new(connection: ConnectionString) -> Self {
        Self {
            connection,
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            command_timeout: CommandTimeout::default(),
            retries: DEFAULT_RETRIES,
            retry_delay: Duration::from_secs(DEFAULT_RETRY_DELAY_SECS),
        }
    }
}

/// How long a statement may wait for the server's next answer, and where that was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandTimeout {
    /// `None`: no limit (the setting is `0`).
    pub limit: Option<Duration>,
    pub origin: SettingOrigin,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingOrigin {
    /// Nothing set it: the default.
    Default,
    /// The pipeline key (`command_timeout_secs`).
    Pipeline,
    /// The connection string (`Command Timeout=`).
    ConnectionString,
}

impl Default for CommandTimeout {
    fn default() -> Self {
        Self::from_secs(DEFAULT_COMMAND_TIMEOUT_SECS, SettingOrigin::Default)
    }
}

impl CommandTimeout {
    /// `secs` seconds, `0` meaning no limit.
    pub fn from_secs(secs: u64, origin: SettingOrigin) -> Self {
        Self {
            limit: (secs > 0).then(|| Duration::from_secs(secs)),
            origin,
        }
    }

    /// The setting in seconds, `0` for no limit.
    pub fn secs(&self) -> u64 {
        self.limit.map_or(0, |d| d.as_secs())
    }

    /// Where the `side` (`source` or `target`) timeout is set and to what, for messages:
    /// ``"`source.command_timeout_secs = 30`"``, with ``", the default"`` when nothing set
    /// it, or ``"`Command Timeout=60` in `source.connection`"``.
    pub fn setting(&self, side: &str) -> String {
        let secs = self.secs();
        match self.origin {
            SettingOrigin::Pipeline => format!("`{side}.command_timeout_secs = {secs}`"),
            SettingOrigin::Default => {
                format!("`{side}.command_timeout_secs = {secs}`, the default")
            }
            SettingOrigin::ConnectionString => {
                format!("`Command Timeout={secs}` in `{side}.connection`")
            }
        }
    }
}

/// `[selection]`: the top-level processes to move. Every list left empty means "all".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// `statuses`: process status names, e.g. `["Closed", "Terminated"]`.
    pub statuses: Vec<String>,
    /// `created_from`: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`, inclusive, as written.
    pub created_from: Option<String>,
    /// `created_to`: same forms, exclusive; later than `created_from` when both are given.
    pub created_to: Option<String>,
    /// `tenants`: tenant names.
    pub tenants: Vec<String>,
    /// `process_definitions`: process definition names.
    pub process_definitions: Vec<String>,
    /// `espaces`: eSpace (module) names.
    pub espaces: Vec<String>,
    /// `include_inactive_definitions`: also move processes of inactive definitions (default true).
    pub include_inactive_definitions: bool,
    /// `already_moved`: what to do with a tree that the target's ledger says an earlier run
    /// from this source already moved there.
    pub already_moved: AlreadyMoved,
    /// `broken_tree`: what to do with a tree whose parent or top process is missing, whose
    /// `TOP_PROCESS_ID` disagrees with its parent's, or that lies on a cycle.
    pub broken_tree: BrokenTree,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            statuses: Vec::new(),
            created_from: None,
            created_to: None,
            tenants: Vec::new(),
            process_definitions: Vec::new(),
            espaces: Vec::new(),
            include_inactive_definitions: true,
            already_moved: AlreadyMoved::default(),
            broken_tree: BrokenTree::default(),
        }
    }
}

/// `[mapping]`: how source references are matched to the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// `file`: CSV with header `kind,source,target`, resolved against the pipeline file's directory.
    pub file: Option<PathBuf>,
    /// `unmapped_user`: what to do with a user that has no match in the target.
    pub unmapped_user: UnmappedPrincipal,
    /// `unmapped_group`: what to do with a group that has no match in the target.
    pub unmapped_group: UnmappedPrincipal,
    /// `unmapped_definition`: what to do with a process tree whose definition has no match.
    pub unmapped_definition: UnmappedDefinition,
    /// `unmoved_reference`: what to do with an identifier inside a value (an input, output
    /// or subscription column typed as a process, activity, user, group or tenant
    /// identifier) that points at an instance this run does not move or a principal with no
    /// match.
    pub unmoved_reference: UnmovedReference,
    /// `[mapping.entity_maps]`: physical table name -> CSV or Parquet file of `old_id,new_id`,
    /// resolved against the pipeline file's directory.
    pub entity_maps: BTreeMap<String, PathBuf>,
}

/// Policy for a user or group reference that has no match in the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum UnmappedPrincipal {
    /// `"fail"`: stop and report every unmapped reference.
    #[default]
    Fail,
    /// `"null"`: write NULL.
    Null,
    /// `"user:<username>"` / `"group:<name>"`: write this target user or group instead.
    To(String),
}

/// Policy for a process tree whose definition has no match in the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnmappedDefinition {
    /// `"fail"`: stop and report every unmapped definition.
    #[default]
    Fail,
    /// `"skip-tree"`: leave the whole tree out and list it in the report.
    SkipTree,
}

impl UnmappedDefinition {
    /// The spelling used in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::SkipTree => "skip-tree",
        }
    }
}

/// `mapping.unmoved_reference`: an identifier inside a value that this run cannot map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnmovedReference {
    /// `"fail"`: stop and list every such value.
    #[default]
    Fail,
    /// `"null"`: write NULL (the column's NULL, not the platform's null identifier `0`).
    Null,
    /// `"keep"`: carry the source value over unchanged, counted and listed in the report.
    Keep,
}

impl UnmovedReference {
    /// The spelling used in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::Null => "null",
            Self::Keep => "keep",
        }
    }
}

/// `selection.broken_tree`: a process tree that is not whole in the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BrokenTree {
    /// `"fail"`: refuse the extract, listing every broken tree.
    #[default]
    Fail,
    /// `"skip"`: leave every process of the tree out and list it in the report.
    Skip,
}

impl BrokenTree {
    /// The spelling used in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

/// `selection.already_moved`: a tree the target already received from this source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AlreadyMoved {
    /// `"skip"`: leave it out and list it in the report (with whether it changed since).
    #[default]
    Skip,
    /// `"fail"`: refuse the run, listing every such tree.
    Fail,
}

impl AlreadyMoved {
    /// The spelling used in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Fail => "fail",
        }
    }
}

/// `ids.strategy`: how moved rows get their IDs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdStrategy {
    /// `"renumber"`: a dense block above the target's current maximum.
    #[default]
    Renumber,
    /// `"keep"`: source IDs, when they do not collide with the target.
    Keep,
    /// `"generated"`: the target generates every moved row's ID at load time (no
    /// `IDENTITY_INSERT`, for logins without ALTER such as OutSystems Cloud); the load
    /// captures each new ID and resolves later rows' instance references through them.
    Generated,
    /// `"auto"`: `renumber` where the target login may use `IDENTITY_INSERT` on every
    /// instance table, otherwise `generated` (decided from the target snapshot).
    Auto,
}

impl IdStrategy {
    /// The spelling used in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Renumber => "renumber",
            Self::Keep => "keep",
            Self::Generated => "generated",
            Self::Auto => "auto",
        }
    }
}

/// `[extract]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractSettings {
    /// `part_rows`: rows per Parquet part file (at least 1, default 100 000).
    pub part_rows: usize,
    /// `row_group_rows`: rows per Parquet row group (1 to `part_rows`, default 10 000).
    pub row_group_rows: usize,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        Self {
            part_rows: DEFAULT_PART_ROWS,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
        }
    }
}

/// `[transform]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformSettings {
    /// `clear_scheduler_locks`: clear the scheduler's lock/claim columns of moved rows (default true).
    pub clear_scheduler_locks: bool,
}

impl Default for TransformSettings {
    fn default() -> Self {
        Self {
            clear_scheduler_locks: true,
        }
    }
}

/// `[load]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSettings {
    /// `strategy`: how rows are written.
    pub strategy: LoadStrategy,
    /// `batch_rows`: rows per `INSERT ... VALUES` statement (1 to 1000, default 200).
    pub batch_rows: usize,
    /// `chunk_rows`: rows per transaction and ledger entry (at least `batch_rows`, default 5000).
    pub chunk_rows: usize,
    /// `ledger_table`: the target table recording applied chunks (default `BPTMIG_LEDGER`);
    /// bptmig's other tables are named after it unless `[load.tables]` names them.
    pub ledger_table: String,
    /// `[load.tables]`: existing tables, created by the user (for instance published as
    /// OutSystems entities, `OSUSR_…`), that bptmig uses instead of creating its own. When
    /// set, bptmig never sends `CREATE TABLE`: it checks their shape before any row moves.
    pub tables: Option<OwnTables>,
}

/// `[load.tables]`: the physical names of bptmig's tables in the target, all four required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnTables {
    /// `ledger`: one row per loaded chunk.
    pub ledger: String,
    /// `trees`: one row per moved tree.
    pub trees: String,
    /// `lock`: who is loading into this target.
    pub lock: String,
    /// `pairs`: the old → new ID pairs a `generated` load captured.
    pub pairs: String,
}

impl Default for LoadSettings {
    fn default() -> Self {
        Self {
            strategy: LoadStrategy::default(),
            batch_rows: DEFAULT_BATCH_ROWS,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            ledger_table: DEFAULT_LEDGER_TABLE.to_owned(),
            tables: None,
        }
    }
}

/// `load.strategy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoadStrategy {
    /// `"auto"`: bulk copy where the server supports it, otherwise batched inserts.
    #[default]
    Auto,
    /// `"insert"`: multi-row `INSERT ... VALUES` batches.
    Insert,
    /// `"bulk"`: TDS bulk copy.
    Bulk,
}

impl LoadStrategy {
    /// The spelling used in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Insert => "insert",
            Self::Bulk => "bulk",
        }
    }
}
