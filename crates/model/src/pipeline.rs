//! The pipeline file: a TOML document that defines one migration, and the validated
//! [`PipelineConfig`] it yields.
//!
//! The file is read by hand from a [`toml::Table`] rather than through serde, because serde
//! stops at the first error and the user should see every problem at once: unknown keys,
//! missing keys, wrong types and bad values are all collected, each with its dotted key path,
//! into one [`ConfigError::Invalid`] that names the file.
//!
//! Secrets never live in the file. Connection strings may hold `${VAR}` references, expanded
//! from the environment, and a `password`/`pwd` attribute must be exactly such a reference.
//! A [`ConnectionString`] prints (through `Display` and `Debug`) with its password masked;
//! only [`ConnectionString::expose`] gives the real text, for the driver.
//!
//! ```
//! use std::path::Path;
//! use bptmig_model::PipelineConfig;
//!
//! let text = r#"
//!     workdir = "work"
//!     [source]
//!     connection = "server=tcp:prod,1433;user=bptmig;password=${PROD_PW}"
//!     [target]
//!     connection = "server=tcp:qa,1433;user=bptmig;password=${QA_PW}"
//! "#;
//! let env = |name: &str| Some(format!("secret-of-{name}"));
//! let config = PipelineConfig::parse(text, Path::new("/etc/bptmig/p.toml"), &env)?;
//! assert_eq!(config.workdir, Path::new("/etc/bptmig/work"));
//! assert!(config.source.connection.expose().ends_with("password=secret-of-PROD_PW"));
//! assert!(config.source.connection.to_string().ends_with("password=***"));
//! # Ok::<(), bptmig_model::ConfigError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

// ---------------------------------------------------------------------------------------------
// Keys and defaults
// ---------------------------------------------------------------------------------------------

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
];
/// Keys allowed in `[source]` and `[target]`.
pub const ENDPOINT_KEYS: &[&str] = &["connection", "connect_timeout_secs"];
/// Keys allowed in `[selection]`.
pub const SELECTION_KEYS: &[&str] = &[
    "statuses",
    "created_from",
    "created_to",
    "tenants",
    "process_definitions",
    "espaces",
    "include_inactive_definitions",
];
/// Keys allowed in `[mapping]`.
pub const MAPPING_KEYS: &[&str] = &[
    "file",
    "unmapped_user",
    "unmapped_group",
    "unmapped_definition",
    "entity_maps",
];
/// Keys allowed in `[ids]`.
pub const IDS_KEYS: &[&str] = &["strategy"];
/// Keys allowed in `[extract]`.
pub const EXTRACT_KEYS: &[&str] = &["part_rows", "row_group_rows"];
/// Keys allowed in `[transform]`.
pub const TRANSFORM_KEYS: &[&str] = &["clear_scheduler_locks"];
/// Keys allowed in `[load]`.
pub const LOAD_KEYS: &[&str] = &["strategy", "batch_rows", "chunk_rows", "ledger_table"];

/// Default of `source.connect_timeout_secs` / `target.connect_timeout_secs`.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 15;
/// Largest accepted `connect_timeout_secs`.
pub const MAX_CONNECT_TIMEOUT_SECS: u64 = 600;
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
const MAX_IDENTIFIER_LEN: usize = 128;
/// Earliest year a SQL Server `datetime` holds; the platform's date columns are `datetime`.
const MIN_YEAR: u32 = 1753;

// ---------------------------------------------------------------------------------------------
// Configuration types
// ---------------------------------------------------------------------------------------------

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
}

/// A database to read from or write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `connection`: the ADO.NET connection string, `${VAR}` references expanded.
    pub connection: ConnectionString,
    /// `connect_timeout_secs`: how long to wait for a connection (1 to 600 s, default 15).
    pub connect_timeout: Duration,
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

/// `ids.strategy`: how moved rows get their IDs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdStrategy {
    /// `"renumber"`: a dense block above the target's current maximum.
    #[default]
    Renumber,
    /// `"keep"`: source IDs, when they do not collide with the target.
    Keep,
}

impl IdStrategy {
    /// The spelling used in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Renumber => "renumber",
            Self::Keep => "keep",
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
    /// `ledger_table`: the target table recording applied chunks (default `BPTMIG_LEDGER`).
    pub ledger_table: String,
}

impl Default for LoadSettings {
    fn default() -> Self {
        Self {
            strategy: LoadStrategy::default(),
            batch_rows: DEFAULT_BATCH_ROWS,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            ledger_table: DEFAULT_LEDGER_TABLE.to_owned(),
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

// ---------------------------------------------------------------------------------------------
// Connection strings and masking
// ---------------------------------------------------------------------------------------------

/// An ADO.NET connection string whose `Display` and `Debug` never show the password.
///
/// Equality compares the exposed text.
#[derive(Clone)]
pub struct ConnectionString {
    exposed: String,
    masked: String,
}

impl ConnectionString {
    /// Wraps a connection string already free of `${VAR}` references.
    pub fn new(connection: impl Into<String>) -> Self {
        let exposed = connection.into();
        let masked = mask_secrets(&exposed);
        Self { exposed, masked }
    }

    /// The real connection string, for the driver only. Never log or print it.
    pub fn expose(&self) -> &str {
        &self.exposed
    }

    /// The connection string with every password replaced by `***`.
    pub fn masked(&self) -> String {
        self.masked.clone()
    }
}

impl PartialEq for ConnectionString {
    fn eq(&self, other: &Self) -> bool {
        self.exposed == other.exposed
    }
}

impl Eq for ConnectionString {}

impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked)
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConnectionString")
            .field(&self.masked)
            .finish()
    }
}

/// Replaces the value of every `password=` / `pwd=` attribute (any case, spaces allowed around
/// `=`) in `s` by `***`.
///
/// Works on connection strings and on any text that may embed one, such as driver error
/// messages. Quoted values (`'..'`, `".."`, `{..}`) are masked whole, `;` inside them
/// included; an unquoted value ends at `;` or at the end of the text. When in doubt it masks
/// too much rather than too little: an unclosed quote masks to the end of the text.
pub fn mask_secrets(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    // `copied` is how far `s` has been copied into `out`; `at` is where the search resumes.
    let mut copied = 0;
    let mut at = 0;
    while at < s.len() {
        let Some((keyword_end, value)) = next_secret_value(&lower, bytes, at) else {
            break;
        };
        if value.is_empty() {
            at = keyword_end;
            continue;
        }
        // All boundaries are at ASCII bytes, hence character boundaries.
        out.push_str(&s[copied..value.start]);
        out.push_str("***");
        copied = value.end;
        at = value.end;
    }
    out.push_str(&s[copied..]);
    out
}

/// Finds the next `password`/`pwd` keyword at or after `from` that is followed by `=`, and
/// returns where the keyword ends and the span of its value (leading spaces skipped).
fn next_secret_value(lower: &str, bytes: &[u8], from: usize) -> Option<(usize, Range<usize>)> {
    let mut search = from;
    loop {
        let rest = lower.get(search..)?;
        let (offset, keyword_len) = ["password", "pwd"]
            .into_iter()
            .filter_map(|keyword| rest.find(keyword).map(|at| (at, keyword.len())))
            .min()?;
        let keyword_end = search + offset + keyword_len;
        let mut i = keyword_end;
        while i < bytes.len() && is_inline_space(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && is_inline_space(bytes[i]) {
                i += 1;
            }
            let end = value_end(bytes, i);
            return Some((keyword_end, i..end));
        }
        search = keyword_end;
    }
}

fn is_inline_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Where an attribute value starting at `start` ends: at the first `;` outside quotes, or at
/// the end. `'..'` and `".."` close on a single quote (a doubled one is an escaped quote);
/// `{..}` closes on `}` (a doubled `}}` is an escaped brace). Quoted parts may appear anywhere
/// in a value, as drivers concatenate them.
fn value_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b';' => return i,
            quote @ (b'\'' | b'"' | b'{') => {
                let close = if quote == b'{' { b'}' } else { quote };
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return bytes.len(),
                        Some(&b) if b == close => {
                            if bytes.get(i + 1) == Some(&close) {
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// One `key=value` attribute of a connection string, as spans of the text.
struct Attribute {
    /// The key, trimmed.
    key: Range<usize>,
    /// The value, trimmed, quotes included.
    value: Range<usize>,
}

/// Splits a connection string into its attributes. Segments without `=` are skipped.
fn attributes(s: &str) -> Vec<Attribute> {
    let bytes = s.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b';' {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b';' {
            i += 1;
            continue;
        }
        let key = trim_span(bytes, key_start..i);
        let value_start = i + 1;
        i = value_end(bytes, value_start);
        found.push(Attribute {
            key,
            value: trim_span(bytes, value_start..i),
        });
        i += 1;
    }
    found
}

fn trim_span(bytes: &[u8], mut span: Range<usize>) -> Range<usize> {
    while span.start < span.end && bytes[span.start].is_ascii_whitespace() {
        span.start += 1;
    }
    while span.end > span.start && bytes[span.end - 1].is_ascii_whitespace() {
        span.end -= 1;
    }
    span
}

fn is_secret_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("pwd")
}

/// The quotes around a value, if it is wholly quoted: `'..'`, `".."` or `{..}`.
fn strip_quotes(value: &str) -> Option<(&str, &str, &str)> {
    for (open, close) in [("'", "'"), ("\"", "\""), ("{", "}")] {
        if value.len() >= 2 && value.starts_with(open) && value.ends_with(close) {
            return Some((open, &value[1..value.len() - 1], close));
        }
    }
    None
}

/// Whether `value` is exactly one `${...}` reference (its name is checked on expansion).
fn is_whole_reference(value: &str) -> bool {
    value
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .is_some_and(|name| !name.contains('}') && !name.contains("${"))
}

/// Quotes an expanded password for the connection string when it holds characters that would
/// otherwise end or split the value.
fn quote_value(value: &str) -> String {
    let needs_quotes = value
        .chars()
        .any(|c| matches!(c, ';' | '=' | '\'' | '"' | '{' | '}') || c.is_whitespace());
    if !needs_quotes {
        return value.to_owned();
    }
    if !value.contains('"') {
        format!("\"{value}\"")
    } else if !value.contains('\'') {
        format!("'{value}'")
    } else if !value.contains('}') {
        format!("{{{value}}}")
    } else {
        format!("\"{}\"", value.replace('"', "\"\""))
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What went wrong expanding `${VAR}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReferenceIssue {
    Missing(String),
    BadName,
    Unterminated,
}

/// Expands `${VAR}` references in `text` through `env`, recording issues (once each).
fn expand(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    issues: &mut Vec<ReferenceIssue>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(close) = after.find('}') else {
            push_issue(issues, ReferenceIssue::Unterminated);
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..close];
        if !is_env_name(name) {
            push_issue(issues, ReferenceIssue::BadName);
        } else if let Some(value) = env(name) {
            out.push_str(&value);
        } else {
            push_issue(issues, ReferenceIssue::Missing(name.to_owned()));
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn push_issue(issues: &mut Vec<ReferenceIssue>, issue: ReferenceIssue) {
    if !issues.contains(&issue) {
        issues.push(issue);
    }
}

/// Builds a connection string from its raw text in the file, recording problems under `key`.
fn connection_string(
    raw: &str,
    key: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<ConnectionString> {
    if raw.trim().is_empty() {
        problems.add(
            key,
            "empty connection string; write e.g. \
             `server=tcp:HOST,1433;user=USER;password=${PASSWORD_VAR}`",
        );
        return None;
    }
    let before = problems.len();
    let mut issues = Vec::new();
    let mut exposed = String::with_capacity(raw.len());
    let mut masked = String::with_capacity(raw.len());
    let mut copied = 0;
    for attribute in attributes(raw) {
        if !is_secret_key(&raw[attribute.key.clone()]) {
            continue;
        }
        let keyword = &raw[attribute.key.clone()];
        let value = &raw[attribute.value.clone()];
        let quoted = strip_quotes(value);
        let reference = quoted.map_or(value, |(_, inner, _)| inner);
        if !is_whole_reference(reference) {
            problems.add(
                key,
                format!(
                    "secrets only through environment variables: write \
                     `{keyword}=${{SOME_VAR}}` and set SOME_VAR in the environment"
                ),
            );
            continue;
        }
        let between = &raw[copied..attribute.value.start];
        exposed.push_str(&expand(between, env, &mut issues));
        masked.push_str(&expand(between, env, &mut Vec::new()));
        let secret = expand(reference, env, &mut issues);
        match quoted {
            // The user quoted the reference: keep their quotes.
            Some((open, _, close)) => {
                exposed.push_str(open);
                exposed.push_str(&secret);
                exposed.push_str(close);
            }
            None => exposed.push_str(&quote_value(&secret)),
        }
        masked.push_str("***");
        copied = attribute.value.end;
    }
    let tail = &raw[copied..];
    exposed.push_str(&expand(tail, env, &mut issues));
    masked.push_str(&expand(tail, env, &mut Vec::new()));
    for issue in issues {
        let message = match issue {
            ReferenceIssue::Missing(name) => format!(
                "environment variable `{name}` is not set; set it in the environment that runs \
                 bptmig, or change the `${{{name}}}` reference"
            ),
            ReferenceIssue::BadName => "a `${...}` reference has an invalid variable name; \
                 names are letters, digits and `_`, not starting with a digit"
                .to_owned(),
            ReferenceIssue::Unterminated => {
                "a `${` reference is not closed; write `${NAME}`".to_owned()
            }
        };
        problems.add(key, message);
    }
    if problems.len() > before {
        return None;
    }
    // A `${VAR}` elsewhere may have brought in a password (e.g. the whole string from one
    // variable): mask once more over the expanded text.
    let masked = mask_secrets(&masked);
    Some(ConnectionString { exposed, masked })
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// One problem found in a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, e.g. `load.batch_rows`; empty for the file as a whole.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.key, self.message)
        }
    }
}

/// Why a pipeline file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read; the I/O error is the source.
    #[error("cannot read pipeline file `{}`; check the path", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but has problems; all of them are listed.
    #[error("{}", render_problems(.path, .problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, in file order of the sections.
        problems: Vec<Problem>,
    },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let count = problems.len();
    let noun = if count == 1 { "problem" } else { "problems" };
    let mut out = format!("pipeline file `{}` has {count} {noun}:", path.display());
    for problem in problems {
        out.push_str("\n  - ");
        out.push_str(&problem.to_string());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

impl PipelineConfig {
    /// Parses `text` (the contents of the file at `path`), looking up `${VAR}` references
    /// through `env`. Reports every problem found, not only the first.
    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut problems = Problems::default();
        let config = parse_toml(text, &mut problems)
            .and_then(|table| read_config(&table, path, env, &mut problems));
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => {
                debug_assert!(
                    !problems.is_empty(),
                    "a rejected file has no problem listed"
                );
                Err(ConfigError::Invalid {
                    path: path.to_owned(),
                    problems: problems.list,
                })
            }
        }
    }

    /// Reads and parses the file, with the process environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path, &|name| std::env::var(name).ok())
    }
}

/// The problems found so far.
#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    fn add(&mut self, key: &str, message: impl Into<String>) {
        self.list.push(Problem {
            key: key.to_owned(),
            message: message.into(),
        });
    }

    fn len(&self) -> usize {
        self.list.len()
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Parses the TOML, recording every syntax error the parser recovers from.
fn parse_toml(text: &str, problems: &mut Problems) -> Option<Table> {
    let (_, errors) = toml::de::DeTable::parse_recoverable(text);
    for error in &errors {
        problems.add("", syntax_message(text, error));
    }
    if !errors.is_empty() {
        return None;
    }
    match text.parse::<Table>() {
        Ok(table) => Some(table),
        Err(error) => {
            problems.add("", syntax_message(text, &error));
            None
        }
    }
}

fn syntax_message(text: &str, error: &toml::de::Error) -> String {
    // toml's own Display quotes the offending line, which may hold a secret: build our own.
    let detail = mask_secrets(error.message().trim());
    match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("TOML syntax error at line {line}, column {column}: {detail}; fix the syntax")
        }
        None => format!("TOML syntax error: {detail}; fix the syntax"),
    }
}

/// 1-based line and column (in characters) of byte `offset`, as toml counts them.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// Joins a key to its parent path, quoting it the TOML way when it is not a bare key.
fn join_key(parent: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// Describes a value found where something else was expected; strings are shortened and
/// masked.
fn describe(value: &Value) -> String {
    const MAX_CHARS: usize = 60;
    match value {
        Value::String(s) => {
            let masked = mask_secrets(s);
            if masked.chars().count() > MAX_CHARS {
                let short: String = masked.chars().take(MAX_CHARS).collect();
                format!("string {:?}", format!("{short}…"))
            } else {
                format!("string {masked:?}")
            }
        }
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(x) => format!("float {x}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Table(_) => "a table".to_owned(),
    }
}

/// The outcome of reading one key.
enum Field<T> {
    Absent,
    /// Present but unusable; a problem has been recorded.
    Invalid,
    Set(T),
}

impl<T> Field<T> {
    /// The value, or `default` when absent. `None` when invalid.
    fn or(self, default: T) -> Option<T> {
        match self {
            Field::Absent => Some(default),
            Field::Invalid => None,
            Field::Set(value) => Some(value),
        }
    }

    fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Invalid => Field::Invalid,
            Field::Set(value) => Field::Set(f(value)),
        }
    }
}

/// A table of the file and its dotted path.
struct Section<'t> {
    path: String,
    table: &'t Table,
}

impl<'t> Section<'t> {
    fn key(&self, key: &str) -> String {
        join_key(&self.path, key)
    }

    fn reject_unknown(&self, problems: &mut Problems, known: &[&str]) {
        for key in self.table.keys() {
            if !known.contains(&key.as_str()) {
                problems.add(
                    &self.key(key),
                    format!(
                        "unknown key `{}`; expected one of: {}",
                        self.key(key),
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn wrong(&self, problems: &mut Problems, key: &str, expected: &str, value: &Value) {
        problems.add(
            &self.key(key),
            format!("expected {expected}, found {}", describe(value)),
        );
    }

    /// A nested table, e.g. `[source]`.
    fn table(&self, problems: &mut Problems, key: &str) -> Field<Section<'t>> {
        match self.table.get(key) {
            None => Field::Absent,
            Some(Value::Table(table)) => Field::Set(Section {
                path: self.key(key),
                table,
            }),
            Some(other) => {
                self.wrong(
                    problems,
                    key,
                    &format!("a table `[{}]`", self.key(key)),
                    other,
                );
                Field::Invalid
            }
        }
    }

    fn string(&self, problems: &mut Problems, key: &str, expected: &str) -> Field<&'t str> {
        match self.table.get(key) {
            None => Field::Absent,
            Some(Value::String(s)) if !s.trim().is_empty() => Field::Set(s.as_str()),
            Some(other) => {
                self.wrong(problems, key, expected, other);
                Field::Invalid
            }
        }
    }

    fn boolean(&self, problems: &mut Problems, key: &str) -> Field<bool> {
        match self.table.get(key) {
            None => Field::Absent,
            Some(Value::Boolean(b)) => Field::Set(*b),
            Some(other) => {
                self.wrong(problems, key, "`true` or `false`", other);
                Field::Invalid
            }
        }
    }

    /// An integer in `min..=max` (no upper bound when `max` is `None`).
    fn integer(
        &self,
        problems: &mut Problems,
        key: &str,
        min: u64,
        max: Option<u64>,
    ) -> Field<u64> {
        let expected = match max {
            Some(max) => format!("an integer from {min} to {max}"),
            None => format!("an integer of at least {min}"),
        };
        match self.table.get(key) {
            None => Field::Absent,
            Some(value @ Value::Integer(i)) => match u64::try_from(*i) {
                Ok(n) if n >= min && max.is_none_or(|max| n <= max) => Field::Set(n),
                _ => {
                    self.wrong(problems, key, &expected, value);
                    Field::Invalid
                }
            },
            Some(other) => {
                self.wrong(problems, key, &expected, other);
                Field::Invalid
            }
        }
    }

    /// A row count (at least 1, at most `max`).
    fn count(&self, problems: &mut Problems, key: &str, max: Option<usize>) -> Field<usize> {
        let max = max.map(|m| m as u64);
        match self.integer(problems, key, 1, max) {
            Field::Set(n) => {
                if let Ok(n) = usize::try_from(n) {
                    Field::Set(n)
                } else {
                    problems.add(
                        &self.key(key),
                        format!("{n} is too large for this machine; use a smaller count"),
                    );
                    Field::Invalid
                }
            }
            Field::Absent => Field::Absent,
            Field::Invalid => Field::Invalid,
        }
    }

    /// One of a fixed set of strings.
    fn choice<T: Copy>(
        &self,
        problems: &mut Problems,
        key: &str,
        choices: &[(&str, T)],
    ) -> Field<T> {
        let expected = || {
            let names: Vec<String> = choices
                .iter()
                .map(|(name, _)| format!("{name:?}"))
                .collect();
            format!("one of {}", names.join(", "))
        };
        match self.table.get(key) {
            None => Field::Absent,
            Some(value @ Value::String(s)) => {
                if let Some((_, choice)) = choices.iter().find(|(name, _)| name == s) {
                    Field::Set(*choice)
                } else {
                    self.wrong(problems, key, &expected(), value);
                    Field::Invalid
                }
            }
            Some(other) => {
                self.wrong(problems, key, &expected(), other);
                Field::Invalid
            }
        }
    }

    /// A list of names: an array of non-blank strings without surrounding spaces.
    fn names(&self, problems: &mut Problems, key: &str, what: &str) -> Field<Vec<String>> {
        let expected = format!("an array of {what}, e.g. [\"A\", \"B\"]");
        let items = match self.table.get(key) {
            None => return Field::Absent,
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.wrong(problems, key, &expected, other);
                return Field::Invalid;
            }
        };
        let before = problems.len();
        let mut names = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item_key = format!("{}[{index}]", self.key(key));
            match item {
                Value::String(s) if s.trim().is_empty() => {
                    problems.add(&item_key, "empty name; remove it or write the name");
                }
                Value::String(s) if s.trim() != s => problems.add(
                    &item_key,
                    format!("name {s:?} has leading or trailing spaces; remove them"),
                ),
                Value::String(s) => names.push(s.clone()),
                other => problems.add(
                    &item_key,
                    format!("expected a string, found {}", describe(other)),
                ),
            }
        }
        if problems.len() > before {
            Field::Invalid
        } else {
            Field::Set(names)
        }
    }

    /// A point in time for the selection: a `YYYY-MM-DD[THH:MM:SS]` string or a TOML local date
    /// or local date-time.
    fn timestamp(&self, problems: &mut Problems, key: &str) -> Field<(String, Timestamp)> {
        const EXPECTED: &str = "a date \"YYYY-MM-DD\" or a date and time \"YYYY-MM-DDTHH:MM:SS\"";
        let (value, text) = match self.table.get(key) {
            None => return Field::Absent,
            Some(value @ Value::String(s)) => (value, s.clone()),
            Some(value @ Value::Datetime(d)) => (value, d.to_string()),
            Some(other) => {
                self.wrong(problems, key, EXPECTED, other);
                return Field::Invalid;
            }
        };
        match Timestamp::parse(&text) {
            Ok(timestamp) => Field::Set((text, timestamp)),
            Err(TimestampError::Form) => {
                self.wrong(problems, key, EXPECTED, value);
                Field::Invalid
            }
            Err(TimestampError::NotReal(reason)) => {
                problems.add(
                    &self.key(key),
                    format!("{text:?} is not a valid date: {reason}; write a real date and time"),
                );
                Field::Invalid
            }
        }
    }

    /// A path, resolved against `dir` when relative.
    fn path(&self, problems: &mut Problems, key: &str, dir: &Path) -> Field<PathBuf> {
        self.string(problems, key, "a non-empty string (a file path)")
            .map(|p| resolve(dir, p))
    }
}

/// `path` relative to `dir`, with `.` and `..` folded lexically (no file system access) so
/// messages show `work/demo`, not `pipelines/../work/demo`.
fn resolve(dir: &Path, path: &str) -> PathBuf {
    use std::path::Component;
    let path = Path::new(path);
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        dir.join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(last, Some(Component::RootDir | Component::Prefix(_))) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// A validated selection bound, comparable; a date alone means midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

enum TimestampError {
    Form,
    NotReal(&'static str),
}

impl Timestamp {
    fn parse(s: &str) -> Result<Self, TimestampError> {
        let b = s.as_bytes();
        let shape_ok = match b.len() {
            10 => true,
            19 => b[10] == b'T' && b[13] == b':' && b[16] == b':',
            _ => false,
        } && b[4] == b'-'
            && b[7] == b'-';
        if !shape_ok {
            return Err(TimestampError::Form);
        }
        let number = |range: Range<usize>| -> Result<u32, TimestampError> {
            let digits = &b[range];
            if digits.iter().all(u8::is_ascii_digit) {
                Ok(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
            } else {
                Err(TimestampError::Form)
            }
        };
        let year = number(0..4)?;
        let month = number(5..7)?;
        let day = number(8..10)?;
        let (hour, minute, second) = if b.len() == 19 {
            (number(11..13)?, number(14..16)?, number(17..19)?)
        } else {
            (0, 0, 0)
        };
        if year < MIN_YEAR {
            return Err(TimestampError::NotReal(
                "SQL Server `datetime` starts in the year 1753",
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(TimestampError::NotReal("the month must be 01 to 12"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(TimestampError::NotReal("that month has no such day"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(TimestampError::NotReal(
                "the time must be 00:00:00 to 23:59:59",
            ));
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Walks the whole document, recording every problem; `None` only when a required part is
/// missing (and so recorded).
fn read_config(
    table: &Table,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<PipelineConfig> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let root = Section {
        path: String::new(),
        table,
    };
    root.reject_unknown(problems, ROOT_KEYS);

    let workdir = match root.path(problems, "workdir", dir) {
        Field::Set(workdir) => Some(workdir),
        Field::Absent => {
            problems.add(
                "workdir",
                "missing required key; add e.g. `workdir = \"../work/prod-to-qa\"`, \
                 the directory for this run's files",
            );
            None
        }
        Field::Invalid => None,
    };
    let source = read_endpoint(&root, "source", env, problems);
    let target = read_endpoint(&root, "target", env, problems);
    let selection = read_selection(&root, problems);
    let mapping = read_mapping(&root, dir, problems);
    let ids = match root.table(problems, "ids") {
        Field::Set(ids) => {
            ids.reject_unknown(problems, IDS_KEYS);
            ids.choice(
                problems,
                "strategy",
                &[
                    ("renumber", IdStrategy::Renumber),
                    ("keep", IdStrategy::Keep),
                ],
            )
            .or(IdStrategy::default())
        }
        Field::Absent => Some(IdStrategy::default()),
        Field::Invalid => None,
    };
    let extract = read_extract(&root, problems);
    let transform = read_transform(&root, problems);
    let load = read_load(&root, problems);

    Some(PipelineConfig {
        path: path.to_owned(),
        workdir: workdir?,
        source: source?,
        target: target?,
        selection: selection?,
        mapping: mapping?,
        ids: ids?,
        extract: extract?,
        transform: transform?,
        load: load?,
    })
}

fn read_endpoint(
    root: &Section<'_>,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<Endpoint> {
    let section = match root.table(problems, name) {
        Field::Set(section) => section,
        Field::Absent => {
            problems.add(
                name,
                format!(
                    "missing required table `[{name}]`; add it with e.g. \
                     `connection = \"server=tcp:HOST,1433;user=USER;password=${{PASSWORD_VAR}}\"`"
                ),
            );
            return None;
        }
        Field::Invalid => return None,
    };
    section.reject_unknown(problems, ENDPOINT_KEYS);
    let connection_key = section.key("connection");
    let connection = match section.table.get("connection") {
        None => {
            problems.add(
                &connection_key,
                "missing required key; add e.g. \
                 `connection = \"server=tcp:HOST,1433;user=USER;password=${PASSWORD_VAR}\"`",
            );
            None
        }
        Some(Value::String(raw)) => connection_string(raw, &connection_key, env, problems),
        Some(other) => {
            section.wrong(
                problems,
                "connection",
                "a string (an ADO.NET connection string)",
                other,
            );
            None
        }
    };
    let timeout = section
        .integer(
            problems,
            "connect_timeout_secs",
            1,
            Some(MAX_CONNECT_TIMEOUT_SECS),
        )
        .or(DEFAULT_CONNECT_TIMEOUT_SECS);
    Some(Endpoint {
        connection: connection?,
        connect_timeout: Duration::from_secs(timeout?),
    })
}

fn read_selection(root: &Section<'_>, problems: &mut Problems) -> Option<Selection> {
    let section = match root.table(problems, "selection") {
        Field::Set(section) => section,
        Field::Absent => return Some(Selection::default()),
        Field::Invalid => return None,
    };
    section.reject_unknown(problems, SELECTION_KEYS);
    let statuses = section.names(problems, "statuses", "process status names");
    let created_from = section.timestamp(problems, "created_from");
    let created_to = section.timestamp(problems, "created_to");
    if let (Field::Set((from_text, from)), Field::Set((to_text, to))) = (&created_from, &created_to)
    {
        if to <= from {
            problems.add(
                &section.key("created_to"),
                format!(
                    "{to_text:?} must be later than `{}` ({from_text:?}): the range includes \
                     `created_from` and excludes `created_to`",
                    section.key("created_from")
                ),
            );
        }
    }
    let tenants = section.names(problems, "tenants", "tenant names");
    let process_definitions =
        section.names(problems, "process_definitions", "process definition names");
    let espaces = section.names(problems, "espaces", "eSpace names");
    let include_inactive = section.boolean(problems, "include_inactive_definitions");
    Some(Selection {
        statuses: statuses.or(Vec::new())?,
        created_from: created_from.map(|(text, _)| Some(text)).or(None)?,
        created_to: created_to.map(|(text, _)| Some(text)).or(None)?,
        tenants: tenants.or(Vec::new())?,
        process_definitions: process_definitions.or(Vec::new())?,
        espaces: espaces.or(Vec::new())?,
        include_inactive_definitions: include_inactive.or(true)?,
    })
}

fn read_mapping(root: &Section<'_>, dir: &Path, problems: &mut Problems) -> Option<Mapping> {
    let section = match root.table(problems, "mapping") {
        Field::Set(section) => section,
        Field::Absent => return Some(Mapping::default()),
        Field::Invalid => return None,
    };
    section.reject_unknown(problems, MAPPING_KEYS);
    let file = section.path(problems, "file", dir);
    let unmapped_user = read_principal(&section, problems, "unmapped_user", "user", "username");
    let unmapped_group = read_principal(&section, problems, "unmapped_group", "group", "name");
    let unmapped_definition = section.choice(
        problems,
        "unmapped_definition",
        &[
            ("fail", UnmappedDefinition::Fail),
            ("skip-tree", UnmappedDefinition::SkipTree),
        ],
    );
    let entity_maps = match section.table(problems, "entity_maps") {
        Field::Set(maps) => read_entity_maps(&maps, dir, problems),
        Field::Absent => Some(BTreeMap::new()),
        Field::Invalid => None,
    };
    Some(Mapping {
        file: file.map(Some).or(None)?,
        unmapped_user: unmapped_user.or(UnmappedPrincipal::Fail)?,
        unmapped_group: unmapped_group.or(UnmappedPrincipal::Fail)?,
        unmapped_definition: unmapped_definition.or(UnmappedDefinition::Fail)?,
        entity_maps: entity_maps?,
    })
}

/// `"fail"`, `"null"` or `"<prefix>:<name>"`.
fn read_principal(
    section: &Section<'_>,
    problems: &mut Problems,
    key: &str,
    prefix: &str,
    name: &str,
) -> Field<UnmappedPrincipal> {
    let expected = format!("\"fail\", \"null\" or \"{prefix}:<{name}>\"");
    match section.table.get(key) {
        None => Field::Absent,
        Some(Value::String(s)) if s == "fail" => Field::Set(UnmappedPrincipal::Fail),
        Some(Value::String(s)) if s == "null" => Field::Set(UnmappedPrincipal::Null),
        Some(value @ Value::String(s)) => {
            let target = s
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix(':'))
                .filter(|target| !target.is_empty() && target.trim() == *target);
            if let Some(target) = target {
                Field::Set(UnmappedPrincipal::To(target.to_owned()))
            } else {
                section.wrong(problems, key, &expected, value);
                Field::Invalid
            }
        }
        Some(other) => {
            section.wrong(problems, key, &expected, other);
            Field::Invalid
        }
    }
}

fn read_entity_maps(
    maps: &Section<'_>,
    dir: &Path,
    problems: &mut Problems,
) -> Option<BTreeMap<String, PathBuf>> {
    const EXPECTED: &str = "a path to a `.csv` or `.parquet` file of `old_id,new_id`";
    let before = problems.len();
    let mut resolved = BTreeMap::new();
    for (table, value) in maps.table {
        let key = maps.key(table);
        if table.trim().is_empty() {
            problems.add(
                &key,
                "empty table name; use the entity's physical table name",
            );
            continue;
        }
        match value {
            Value::String(file) => {
                let extension = Path::new(file)
                    .extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase);
                if matches!(extension.as_deref(), Some("csv" | "parquet")) {
                    resolved.insert(table.clone(), resolve(dir, file));
                } else {
                    maps.wrong(problems, table, EXPECTED, value);
                }
            }
            other => maps.wrong(problems, table, EXPECTED, other),
        }
    }
    (problems.len() == before).then_some(resolved)
}

fn read_extract(root: &Section<'_>, problems: &mut Problems) -> Option<ExtractSettings> {
    let section = match root.table(problems, "extract") {
        Field::Set(section) => section,
        Field::Absent => return Some(ExtractSettings::default()),
        Field::Invalid => return None,
    };
    section.reject_unknown(problems, EXTRACT_KEYS);
    let part_rows = section
        .count(problems, "part_rows", None)
        .or(DEFAULT_PART_ROWS);
    let row_group_rows = match (section.count(problems, "row_group_rows", None), part_rows) {
        (Field::Absent, Some(part_rows)) => Some(DEFAULT_ROW_GROUP_ROWS.min(part_rows)),
        (Field::Set(rows), Some(part_rows)) if rows > part_rows => {
            problems.add(
                &section.key("row_group_rows"),
                format!(
                    "{rows} is more than `extract.part_rows` ({part_rows}): a row group lies \
                     within one part file; lower it or raise `extract.part_rows`"
                ),
            );
            None
        }
        (Field::Set(rows), _) => Some(rows),
        _ => None,
    };
    Some(ExtractSettings {
        part_rows: part_rows?,
        row_group_rows: row_group_rows?,
    })
}

fn read_transform(root: &Section<'_>, problems: &mut Problems) -> Option<TransformSettings> {
    let section = match root.table(problems, "transform") {
        Field::Set(section) => section,
        Field::Absent => return Some(TransformSettings::default()),
        Field::Invalid => return None,
    };
    section.reject_unknown(problems, TRANSFORM_KEYS);
    Some(TransformSettings {
        clear_scheduler_locks: section
            .boolean(problems, "clear_scheduler_locks")
            .or(true)?,
    })
}

fn read_load(root: &Section<'_>, problems: &mut Problems) -> Option<LoadSettings> {
    let section = match root.table(problems, "load") {
        Field::Set(section) => section,
        Field::Absent => return Some(LoadSettings::default()),
        Field::Invalid => return None,
    };
    section.reject_unknown(problems, LOAD_KEYS);
    let strategy = section
        .choice(
            problems,
            "strategy",
            &[
                ("auto", LoadStrategy::Auto),
                ("insert", LoadStrategy::Insert),
                ("bulk", LoadStrategy::Bulk),
            ],
        )
        .or(LoadStrategy::Auto);
    let chunk_rows = section
        .count(problems, "chunk_rows", None)
        .or(DEFAULT_CHUNK_ROWS);
    let batch_rows = match (
        section.count(problems, "batch_rows", Some(MAX_BATCH_ROWS)),
        chunk_rows,
    ) {
        (Field::Absent, Some(chunk_rows)) => Some(DEFAULT_BATCH_ROWS.min(chunk_rows)),
        (Field::Set(rows), Some(chunk_rows)) if rows > chunk_rows => {
            problems.add(
                &section.key("batch_rows"),
                format!(
                    "{rows} is more than `load.chunk_rows` ({chunk_rows}): a batch lies within \
                     one chunk; lower it or raise `load.chunk_rows`"
                ),
            );
            None
        }
        (Field::Set(rows), _) => Some(rows),
        _ => None,
    };
    let ledger_table = match section.string(
        problems,
        "ledger_table",
        "a string (a table name such as \"BPTMIG_LEDGER\")",
    ) {
        Field::Absent => Some(DEFAULT_LEDGER_TABLE.to_owned()),
        Field::Set(name) if is_identifier(name) && name.len() <= MAX_IDENTIFIER_LEN => {
            Some(name.to_owned())
        }
        Field::Set(name) => {
            problems.add(
                &section.key("ledger_table"),
                format!(
                    "{name:?} is not a plain table name; use letters, digits and `_` (not \
                     starting with a digit, at most {MAX_IDENTIFIER_LEN} characters), without \
                     schema or brackets"
                ),
            );
            None
        }
        Field::Invalid => None,
    };
    Some(LoadSettings {
        strategy: strategy?,
        batch_rows: batch_rows?,
        chunk_rows: chunk_rows?,
        ledger_table: ledger_table?,
    })
}

#[cfg(test)]
mod resolve_tests {
    use super::resolve;
    use std::path::{Path, PathBuf};

    #[test]
    fn relative_paths_fold_dot_and_dot_dot() {
        assert_eq!(
            resolve(Path::new("pipelines"), "../work/demo"),
            PathBuf::from("work/demo")
        );
        assert_eq!(resolve(Path::new("a/b"), "./c"), PathBuf::from("a/b/c"));
        assert_eq!(resolve(Path::new(""), "../x"), PathBuf::from("../x"));
        assert_eq!(resolve(Path::new("/p"), "../../x"), PathBuf::from("/x"));
        assert_eq!(
            resolve(Path::new("pipelines"), "/abs/w"),
            PathBuf::from("/abs/w")
        );
        assert_eq!(resolve(Path::new("pipelines"), ".."), PathBuf::from("."));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests may unwrap")]
mod tests {
    use super::*;

    const FILE: &str = "/srv/pipelines/prod-to-qa.toml";

    fn env(name: &str) -> Option<String> {
        match name {
            "PROD_PW" => Some("prod-secret".to_owned()),
            "QA_PW" => Some("qa;secret".to_owned()),
            "PROD_DB_PASSWORD" => Some("example-prod-secret".to_owned()),
            "QA_DB_PASSWORD" => Some("example-qa-secret".to_owned()),
            "BPTMIG_DEMO_PASSWORD" => Some("demo-secret".to_owned()),
            "PROD_HOST" => Some("sql-prod".to_owned()),
            "WHOLE" => Some("server=tcp:x,1;user=u;Password=whole-secret".to_owned()),
            _ => None,
        }
    }

    fn parse(text: &str) -> Result<PipelineConfig, ConfigError> {
        PipelineConfig::parse(text, Path::new(FILE), &env)
    }

    /// The problems of a file that must be rejected.
    fn problems(text: &str) -> Vec<Problem> {
        match parse(text) {
            Err(ConfigError::Invalid { path, problems }) => {
                assert_eq!(path, Path::new(FILE));
                assert!(!problems.is_empty());
                problems
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// The one problem of a file that must be rejected for exactly one reason.
    fn single_problem(text: &str) -> Problem {
        let mut problems = problems(text);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        problems.remove(0)
    }

    const MINIMAL: &str = r#"
workdir = "work"
[source]
connection = "server=tcp:prod,1433;user=sa;password=${PROD_PW}"
[target]
connection = "server=tcp:qa,1433;user=sa;password=${PROD_PW}"
"#;

    /// `MINIMAL` plus tables (or keys of `[target]`) at the end.
    fn with(extra: &str) -> String {
        format!("{MINIMAL}\n{extra}\n")
    }

    /// `MINIMAL` plus top-level keys.
    fn with_top(extra: &str) -> String {
        format!("{extra}\n{MINIMAL}")
    }

    const FULL: &str = r#"
workdir = "/var/lib/bptmig/run-1"

[source]
connection = "server=tcp:${PROD_HOST},1433;user=reader;password=${PROD_PW};Encrypt=true"
connect_timeout_secs = 30

[target]
connection = "server=tcp:qa,1433;user=writer;PWD='${PROD_PW}'"
connect_timeout_secs = 600

[selection]
statuses = ["Closed", "Terminated"]
created_from = "2023-01-01"
created_to = "2024-01-01T06:30:00"
tenants = ["Users", "Partners"]
process_definitions = ["Candidate Selection"]
espaces = ["HRPortal"]
include_inactive_definitions = false

[mapping]
file = "maps/users.csv"
unmapped_user = "user:placeholder"
unmapped_group = "group:Everyone"
unmapped_definition = "skip-tree"

[mapping.entity_maps]
OSUSR_3AR_CANDIDATE = "maps/candidate.csv"
OSUSR_3AR_EMPLOYEE = "/data/employee.PARQUET"

[ids]
strategy = "keep"

[extract]
part_rows = 50000
row_group_rows = 5000

[transform]
clear_scheduler_locks = false

[load]
strategy = "insert"
batch_rows = 1000
chunk_rows = 20000
ledger_table = "MY_LEDGER_2"
"#;

    #[test]
    fn full_file_parses_to_the_expected_config() {
        let config = parse(FULL).unwrap();
        let expected = PipelineConfig {
            path: PathBuf::from(FILE),
            workdir: PathBuf::from("/var/lib/bptmig/run-1"),
            source: Endpoint {
                connection: ConnectionString::new(
                    "server=tcp:sql-prod,1433;user=reader;password=prod-secret;Encrypt=true",
                ),
                connect_timeout: Duration::from_secs(30),
            },
            target: Endpoint {
                connection: ConnectionString::new(
                    "server=tcp:qa,1433;user=writer;PWD='prod-secret'",
                ),
                connect_timeout: Duration::from_mins(10),
            },
            selection: Selection {
                statuses: vec!["Closed".into(), "Terminated".into()],
                created_from: Some("2023-01-01".into()),
                created_to: Some("2024-01-01T06:30:00".into()),
                tenants: vec!["Users".into(), "Partners".into()],
                process_definitions: vec!["Candidate Selection".into()],
                espaces: vec!["HRPortal".into()],
                include_inactive_definitions: false,
            },
            mapping: Mapping {
                file: Some(PathBuf::from("/srv/pipelines/maps/users.csv")),
                unmapped_user: UnmappedPrincipal::To("placeholder".into()),
                unmapped_group: UnmappedPrincipal::To("Everyone".into()),
                unmapped_definition: UnmappedDefinition::SkipTree,
                entity_maps: BTreeMap::from([
                    (
                        "OSUSR_3AR_CANDIDATE".to_owned(),
                        PathBuf::from("/srv/pipelines/maps/candidate.csv"),
                    ),
                    (
                        "OSUSR_3AR_EMPLOYEE".to_owned(),
                        PathBuf::from("/data/employee.PARQUET"),
                    ),
                ]),
            },
            ids: IdStrategy::Keep,
            extract: ExtractSettings {
                part_rows: 50_000,
                row_group_rows: 5000,
            },
            transform: TransformSettings {
                clear_scheduler_locks: false,
            },
            load: LoadSettings {
                strategy: LoadStrategy::Insert,
                batch_rows: 1000,
                chunk_rows: 20_000,
                ledger_table: "MY_LEDGER_2".into(),
            },
        };
        assert_eq!(config, expected);
        assert_eq!(
            config.target.connection.masked(),
            "server=tcp:qa,1433;user=writer;PWD=***"
        );
    }

    #[test]
    fn absent_optional_keys_take_their_defaults() {
        let config = parse(MINIMAL).unwrap();
        assert_eq!(config.workdir, Path::new("/srv/pipelines/work"));
        for endpoint in [&config.source, &config.target] {
            assert_eq!(endpoint.connect_timeout, Duration::from_secs(15));
        }
        assert_eq!(config.selection, Selection::default());
        assert!(config.selection.include_inactive_definitions);
        assert!(config.selection.statuses.is_empty());
        assert_eq!(config.mapping, Mapping::default());
        assert_eq!(config.mapping.unmapped_user, UnmappedPrincipal::Fail);
        assert_eq!(config.mapping.unmapped_definition, UnmappedDefinition::Fail);
        assert_eq!(config.ids, IdStrategy::Renumber);
        assert_eq!(
            config.extract,
            ExtractSettings {
                part_rows: 100_000,
                row_group_rows: 10_000
            }
        );
        assert!(config.transform.clear_scheduler_locks);
        assert_eq!(
            config.load,
            LoadSettings {
                strategy: LoadStrategy::Auto,
                batch_rows: 200,
                chunk_rows: 5000,
                ledger_table: "BPTMIG_LEDGER".into()
            }
        );
        // Empty tables behave like absent ones.
        let config = parse(&with(
            "[selection]\n[mapping]\n[ids]\n[extract]\n[transform]\n[load]\n",
        ))
        .unwrap();
        assert_eq!(config, parse(MINIMAL).unwrap());
    }

    #[test]
    fn dependent_defaults_shrink_to_fit() {
        let config = parse(&with("[extract]\npart_rows = 500\n[load]\nchunk_rows = 50")).unwrap();
        assert_eq!(config.extract.row_group_rows, 500);
        assert_eq!(config.load.batch_rows, 50);
    }

    #[test]
    fn unknown_top_level_key_is_named_with_the_file() {
        let problem = single_problem(&with_top("workdirr = \"x\""));
        assert_eq!(problem.key, "workdirr");
        assert!(
            problem.message.contains("unknown key `workdirr`"),
            "{problem}"
        );
        assert!(
            problem.message.contains("workdir, source, target"),
            "{problem}"
        );
        let message = parse(&with_top("workdirr = \"x\""))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!("pipeline file `{FILE}` has 1 problem:")),
            "{message}"
        );
        assert!(
            message.contains("\n  - `workdirr`: unknown key"),
            "{message}"
        );
    }

    #[test]
    fn unknown_nested_key_is_named_with_its_path() {
        let problem = single_problem(&with("[selection]\nstatuse = [\"Closed\"]"));
        assert_eq!(problem.key, "selection.statuse");
        assert!(
            problem.message.starts_with(
                "unknown key `selection.statuse`; expected one of: statuses, created_from"
            ),
            "{problem}"
        );
        let problem = single_problem(&with("[mapping.entity_maps]\n[load]\nbatch = 5"));
        assert_eq!(problem.key, "load.batch");
        let problem = single_problem(&with("[source.extra]\n"));
        assert_eq!(problem.key, "source.extra");
    }

    #[test]
    fn missing_required_keys_are_reported() {
        let problems = problems("");
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["workdir", "source", "target"]);
        assert!(problems[1]
            .message
            .contains("missing required table `[source]`"));

        let problem = single_problem(&MINIMAL.replace(
            "connection = \"server=tcp:qa,1433;user=sa;password=${PROD_PW}\"",
            "connect_timeout_secs = 5",
        ));
        assert_eq!(problem.key, "target.connection");
        assert!(
            problem.message.starts_with("missing required key"),
            "{problem}"
        );
        assert!(problem
            .to_string()
            .starts_with("`target.connection`: missing required key"));
    }

    #[test]
    fn wrong_types_say_what_was_expected_and_found() {
        let problem = single_problem(&with("[load]\nbatch_rows = \"many\""));
        assert_eq!(problem.key, "load.batch_rows");
        assert_eq!(
            problem.message,
            "expected an integer from 1 to 1000, found string \"many\""
        );
        let problem = single_problem(&with("[load]\nbatch_rows = 1001"));
        assert_eq!(
            problem.message,
            "expected an integer from 1 to 1000, found integer 1001"
        );
        let problem = single_problem(&with("[extract]\npart_rows = 0"));
        assert_eq!(
            problem.message,
            "expected an integer of at least 1, found integer 0"
        );
        let problem = single_problem(&with("[transform]\nclear_scheduler_locks = \"yes\""));
        assert_eq!(problem.key, "transform.clear_scheduler_locks");
        assert!(problem.message.contains("`true` or `false`"), "{problem}");
        let problem = single_problem(&with_top("selection = 3"));
        assert_eq!(problem.key, "selection");
        assert!(
            problem.message.contains("a table `[selection]`"),
            "{problem}"
        );
        let problem = single_problem(&with("[ids]\nstrategy = \"Keep\""));
        assert_eq!(
            problem.message,
            "expected one of \"renumber\", \"keep\", found string \"Keep\""
        );
        let problem = single_problem(&with("[selection]\ntenants = [\"Users\", 3]"));
        assert_eq!(problem.key, "selection.tenants[1]");
        let problem = single_problem(&MINIMAL.replace("workdir = \"work\"", "workdir = 7"));
        assert_eq!(problem.key, "workdir");
        assert!(problem.message.ends_with("found integer 7"), "{problem}");
        let problem = single_problem(&with("[source.connect_timeout_secs]"));
        assert_eq!(problem.key, "source.connect_timeout_secs");
        assert!(problem.message.ends_with("found a table"), "{problem}");
    }

    #[test]
    fn bad_values_are_reported() {
        let cases = [
            (
                "[mapping]\nunmapped_user = \"group:x\"",
                "mapping.unmapped_user",
            ),
            (
                "[mapping]\nunmapped_user = \"user:\"",
                "mapping.unmapped_user",
            ),
            (
                "[mapping]\nunmapped_group = \"delete\"",
                "mapping.unmapped_group",
            ),
            (
                "[mapping]\nunmapped_definition = \"skip\"",
                "mapping.unmapped_definition",
            ),
            (
                "[mapping.entity_maps]\nOSUSR_X = \"ids.txt\"",
                "mapping.entity_maps.OSUSR_X",
            ),
            (
                "[mapping.entity_maps]\n\"dbo.T\" = 1",
                "mapping.entity_maps.\"dbo.T\"",
            ),
            ("[load]\nledger_table = \"dbo.LEDGER\"", "load.ledger_table"),
            ("[load]\nledger_table = \"1LEDGER\"", "load.ledger_table"),
            ("[load]\nstrategy = \"fast\"", "load.strategy"),
            ("[selection]\nstatuses = [\"\"]", "selection.statuses[0]"),
            ("[selection]\nespaces = [\" HR\"]", "selection.espaces[0]"),
            (
                "[extract]\npart_rows = 10\nrow_group_rows = 11",
                "extract.row_group_rows",
            ),
            (
                "[load]\nchunk_rows = 10\nbatch_rows = 11",
                "load.batch_rows",
            ),
            (
                "[source]\nconnect_timeout_secs = 601",
                "source.connect_timeout_secs",
            ),
        ];
        for (extra, key) in cases {
            let text = if extra.starts_with("[source]") {
                MINIMAL.replace("[source]", extra)
            } else {
                with(extra)
            };
            let problem = single_problem(&text);
            assert_eq!(problem.key, key, "{extra}: {problem}");
        }
        let problem = single_problem(&with("[mapping]\nunmapped_user = \"group:x\""));
        assert_eq!(
            problem.message,
            "expected \"fail\", \"null\" or \"user:<username>\", found string \"group:x\""
        );
    }

    #[test]
    fn selection_dates_are_checked() {
        let ok = parse(&with(
            "[selection]\ncreated_from = 2024-02-29\ncreated_to = 2024-03-01T12:00:00",
        ))
        .unwrap();
        assert_eq!(ok.selection.created_from.as_deref(), Some("2024-02-29"));
        assert_eq!(
            ok.selection.created_to.as_deref(),
            Some("2024-03-01T12:00:00")
        );

        let problem = single_problem(&with("[selection]\ncreated_from = \"2024/01/01\""));
        assert_eq!(problem.key, "selection.created_from");
        assert!(problem.message.contains("\"YYYY-MM-DD\""), "{problem}");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-01-01T24:00:00",
            "1700-01-01",
        ] {
            let problem = single_problem(&with(&format!("[selection]\ncreated_to = \"{bad}\"")));
            assert_eq!(problem.key, "selection.created_to");
            assert!(
                problem.message.contains("is not a valid date"),
                "{bad}: {problem}"
            );
        }
        let problem = single_problem(&with("[selection]\ncreated_from = 2024-01-01T00:00:00Z"));
        assert!(problem.message.contains("found datetime"), "{problem}");

        let problem = single_problem(&with(
            "[selection]\ncreated_from = \"2024-01-01\"\ncreated_to = \"2024-01-01T00:00:00\"",
        ));
        assert_eq!(problem.key, "selection.created_to");
        assert!(problem.message.contains("must be later than"), "{problem}");
        parse(&with(
            "[selection]\ncreated_from = \"2024-01-01\"\ncreated_to = \"2024-01-01T00:00:01\"",
        ))
        .unwrap();
    }

    #[test]
    fn missing_environment_variable_names_key_variable_and_file() {
        let text = MINIMAL.replace("${PROD_PW}\"\n[target]", "${NOPE_PW}\"\n[target]");
        let problem = single_problem(&text);
        assert_eq!(problem.key, "source.connection");
        assert!(problem
            .message
            .contains("environment variable `NOPE_PW` is not set"));
        assert!(problem.message.contains("set it in the environment"));
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.contains(FILE), "{message}");
        assert!(message.contains("`source.connection`"), "{message}");
    }

    #[test]
    fn malformed_references_are_reported() {
        for connection in [
            "server=${HOST;password=${PROD_PW}",
            "server=${1X};password=${PROD_PW}",
        ] {
            let text = MINIMAL.replace(
                "server=tcp:prod,1433;user=sa;password=${PROD_PW}",
                connection,
            );
            let problem = single_problem(&text);
            assert_eq!(problem.key, "source.connection");
            assert!(problem.message.contains("`${"), "{problem}");
        }
    }

    #[test]
    fn literal_password_is_rejected_without_echoing_it() {
        for literal in [
            "password=hunter2",
            "Pwd = 'hunter2'",
            "PASSWORD={hunter2}",
            "password=x${PROD_PW}",
        ] {
            let text = MINIMAL.replace(
                "password=${PROD_PW}\"\n[target]",
                &format!("{literal}\"\n[target]"),
            );
            let problem = single_problem(&text);
            assert_eq!(problem.key, "source.connection", "{literal}");
            assert!(
                problem
                    .message
                    .starts_with("secrets only through environment variables: write `"),
                "{problem}"
            );
            assert!(problem.message.contains("=${SOME_VAR}`"), "{problem}");
            let message = parse(&text).unwrap_err().to_string();
            assert!(!message.contains("hunter2"), "{message}");
        }
        // A quoted reference and a password-free string are fine.
        for ok in [
            "password=\\\"${PROD_PW}\\\"",
            "PWD={${PROD_PW}}",
            "Integrated Security=true",
        ] {
            let text = MINIMAL.replace(
                "password=${PROD_PW}\"\n[target]",
                &format!("{ok}\"\n[target]"),
            );
            parse(&text).unwrap();
        }
    }

    #[test]
    fn several_problems_are_reported_together() {
        let text = r#"
workdir = ""
colour = "blue"
[source]
connection = "server=a;password=literal"
[target]
connection = "server=b;password=${MISSING_ONE}"
[selection]
statuse = []
created_from = "yesterday"
[load]
batch_rows = "many"
strategy = "turbo"
"#;
        let problems = problems(text);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "colour",
                "workdir",
                "source.connection",
                "target.connection",
                "selection.statuse",
                "selection.created_from",
                "load.strategy",
                "load.batch_rows",
            ]
        );
        let message = parse(text).unwrap_err().to_string();
        assert!(message.contains("has 8 problems:"), "{message}");
        assert_eq!(message.matches("\n  - `").count(), 8, "{message}");
        assert!(!message.contains("literal"), "{message}");
    }

    #[test]
    fn toml_syntax_errors_give_line_and_column_without_secrets() {
        let text = "workdir = \"w\"\n[source]\nconnection = \"server=x;password=hunter2\n";
        let problems = problems(text);
        assert!(problems.iter().all(|p| p.key.is_empty()));
        assert!(
            problems[0]
                .message
                .starts_with("TOML syntax error at line 3, column"),
            "{problems:?}"
        );
        let message = parse(text).unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");

        let problems = self::problems("a = = 1\nb = [\nc = 2\n");
        assert!(!problems.is_empty());
        assert!(
            problems[0].message.contains("line 1, column 5"),
            "{problems:?}"
        );

        let problem = single_problem("workdir = \"a\"\nworkdir = \"b\"\n");
        assert!(problem.message.contains("line 2"), "{problem}");
    }

    #[test]
    fn connection_strings_are_masked_in_display_and_debug() {
        let config = parse(MINIMAL).unwrap();
        let connection = &config.source.connection;
        assert_eq!(
            connection.expose(),
            "server=tcp:prod,1433;user=sa;password=prod-secret"
        );
        assert_eq!(
            connection.to_string(),
            "server=tcp:prod,1433;user=sa;password=***"
        );
        assert_eq!(connection.masked(), connection.to_string());
        assert_eq!(
            format!("{connection:?}"),
            "ConnectionString(\"server=tcp:prod,1433;user=sa;password=***\")"
        );
        let debug = format!("{config:?} {config:#?}");
        assert!(!debug.contains("prod-secret"), "{debug}");
        assert!(debug.contains("password=***"), "{debug}");
    }

    #[test]
    fn expanded_password_with_separators_is_quoted_and_fully_masked() {
        let text = MINIMAL.replace(
            "qa,1433;user=sa;password=${PROD_PW}",
            "qa;password=${QA_PW};user=sa",
        );
        let config = parse(&text).unwrap();
        assert_eq!(
            config.target.connection.expose(),
            "server=tcp:qa;password=\"qa;secret\";user=sa"
        );
        assert_eq!(
            config.target.connection.to_string(),
            "server=tcp:qa;password=***;user=sa"
        );
    }

    #[test]
    fn password_inside_an_expanded_variable_is_masked() {
        let text = MINIMAL.replace(
            "server=tcp:prod,1433;user=sa;password=${PROD_PW}",
            "${WHOLE}",
        );
        let config = parse(&text).unwrap();
        assert_eq!(
            config.source.connection.expose(),
            "server=tcp:x,1;user=u;Password=whole-secret"
        );
        assert_eq!(
            config.source.connection.to_string(),
            "server=tcp:x,1;user=u;Password=***"
        );
    }

    #[test]
    fn mask_secrets_handles_case_quotes_and_free_text() {
        let cases = [
            (
                "server=a;password=abc;user=b",
                "server=a;password=***;user=b",
            ),
            (
                "Server=a;PassWord = abc ;User=b",
                "Server=a;PassWord = ***;User=b",
            ),
            ("PWD=abc", "PWD=***"),
            ("pwd='a;b''c';x=1", "pwd=***;x=1"),
            ("Password=\"a;b\"\"c\";x=1", "Password=***;x=1"),
            ("password={a;b}}c};x=1", "password=***;x=1"),
            ("password='unclosed;x=1", "password=***"),
            ("password=;x=1", "password=;x=1"),
            (
                "login failed: Password=s3cr3t; pwd=other",
                "login failed: Password=***; pwd=***",
            ),
            ("the password is wrong", "the password is wrong"),
            ("user=pwdman;é password=ü", "user=pwdman;é password=***"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(mask_secrets(input), expected, "{input}");
        }
        assert_eq!(
            ConnectionString::new("a=1;Pwd='x;y'").to_string(),
            "a=1;Pwd=***"
        );
    }

    #[test]
    fn relative_paths_are_resolved_against_the_file_directory() {
        let text = format!(
            "{}\n[mapping]\nfile = \"../maps/m.csv\"\n[mapping.entity_maps]\nT = \"ids.parquet\"\n",
            MINIMAL.replace("workdir = \"work\"", "workdir = \"../work/run\"")
        );
        let config = PipelineConfig::parse(&text, Path::new("conf/p.toml"), &env).unwrap();
        assert_eq!(config.workdir, Path::new("work/run"));
        assert_eq!(
            config.mapping.file.as_deref(),
            Some(Path::new("maps/m.csv"))
        );
        assert_eq!(
            config.mapping.entity_maps["T"],
            Path::new("conf/ids.parquet")
        );
        // A file named without a directory: paths stay relative to the current directory.
        let config = PipelineConfig::parse(&text, Path::new("p.toml"), &env).unwrap();
        assert_eq!(config.workdir, Path::new("../work/run"));
        // Absolute paths are kept.
        let config = parse(&MINIMAL.replace("\"work\"", "\"/abs/work\"")).unwrap();
        assert_eq!(config.workdir, Path::new("/abs/work"));
    }

    #[test]
    fn load_reports_an_unreadable_file() {
        let path = Path::new("/nonexistent/bptmig/pipeline.toml");
        let error = PipelineConfig::load(path).unwrap_err();
        assert!(matches!(&error, ConfigError::Read { path: p, .. } if p == path));
        let message = error.to_string();
        assert!(
            message.contains("`/nonexistent/bptmig/pipeline.toml`"),
            "{message}"
        );
        assert!(std::error::Error::source(&error).is_some());
    }

    fn shipped(name: &str) -> (PathBuf, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../pipelines")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        (path, text)
    }

    #[test]
    fn demo_pipeline_parses() {
        let (path, text) = shipped("demo.toml");
        let config = PipelineConfig::parse(&text, &path, &env).unwrap();
        let dir = path.parent().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .parent()
            .unwrap();
        assert_eq!(config.workdir, root.join("work/demo"));
        assert_eq!(
            config.source.connection.expose(),
            "server=tcp:127.0.0.1,14331;user=sa;password=demo-secret;encrypt=DANGER_PLAINTEXT;TrustServerCertificate=true"
        );
        assert_eq!(
            config.target.connection.to_string(),
            "server=tcp:127.0.0.1,14332;user=sa;password=***;encrypt=DANGER_PLAINTEXT;TrustServerCertificate=true"
        );
        assert_eq!(
            config.mapping.file,
            Some(root.join("pipelines/demo-mapping.csv"))
        );
        assert!(dir.join("demo-mapping.csv").is_file());
        assert_eq!(config.mapping.unmapped_user, UnmappedPrincipal::Null);
        assert_eq!(config.mapping.unmapped_group, UnmappedPrincipal::Null);
        assert_eq!(
            config.mapping.unmapped_definition,
            UnmappedDefinition::SkipTree
        );
        assert_eq!(config.selection, Selection::default());
        assert_eq!(config.load, LoadSettings::default());
        // Without the variable, the demo says what to set.
        let error = PipelineConfig::parse(&text, &path, &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`BPTMIG_DEMO_PASSWORD` is not set"),
            "{error}"
        );
    }

    #[test]
    fn example_pipeline_parses_and_sets_every_key() {
        let (path, text) = shipped("example.toml");
        let config = PipelineConfig::parse(&text, &path, &env).unwrap();
        assert!(config
            .source
            .connection
            .expose()
            .contains("password=example-prod-secret;"));
        assert!(config
            .target
            .connection
            .expose()
            .contains("password=example-qa-secret;"));
        assert!(!format!("{config:?}").contains("example-"));
        // The example documents every key: each one appears set in it.
        let table: Table = text.parse().unwrap();
        let sections: [(&str, &[&str]); 8] = [
            ("source", ENDPOINT_KEYS),
            ("target", ENDPOINT_KEYS),
            ("selection", SELECTION_KEYS),
            ("mapping", MAPPING_KEYS),
            ("ids", IDS_KEYS),
            ("extract", EXTRACT_KEYS),
            ("transform", TRANSFORM_KEYS),
            ("load", LOAD_KEYS),
        ];
        for key in ROOT_KEYS {
            assert!(table.contains_key(*key), "example.toml lacks `{key}`");
        }
        for (section, keys) in sections {
            let section_table = table[section].as_table().unwrap();
            for key in keys {
                assert!(
                    section_table.contains_key(*key),
                    "example.toml lacks `{section}.{key}`"
                );
                let documented = text.contains(&format!("# {key} ("))
                    || text.contains(&format!("# [{section}.{key}] ("));
                assert!(
                    documented,
                    "example.toml does not document `{section}.{key}`"
                );
            }
        }
    }
}
