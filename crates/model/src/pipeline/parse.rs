//! Reading the TOML document table by table into a [`PipelineConfig`](super::PipelineConfig).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

use super::connection::{attribute_value, connection_string, mask_secrets};
use super::keys::{
    ADO_COMMAND_TIMEOUT_KEYS, DEFAULT_BATCH_ROWS, DEFAULT_CHUNK_ROWS, DEFAULT_CONNECT_TIMEOUT_SECS,
    DEFAULT_LEDGER_TABLE, DEFAULT_PART_ROWS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_SECS,
    DEFAULT_ROW_GROUP_ROWS, ENDPOINT_KEYS, EXTRACT_KEYS, IDS_KEYS, LOAD_KEYS, LOAD_TABLES_KEYS,
    MAPPING_KEYS, MAX_BATCH_ROWS, MAX_COMMAND_TIMEOUT_SECS, MAX_CONNECT_TIMEOUT_SECS,
    MAX_IDENTIFIER_LEN, MAX_RETRIES, MAX_RETRY_DELAY_SECS, ROOT_KEYS, SELECTION_KEYS,
    TRANSFORM_KEYS,
};
use super::section::{resolve, Field, Section};
use super::{
    AlreadyMoved, BrokenTree, CommandTimeout, ConfigError, ConnectionString, Endpoint,
    ExtractSettings, IdStrategy, LoadSettings, LoadStrategy, Mapping, OwnTables, PipelineConfig,
    Problem, Selection, SettingOrigin, TransformSettings, UnmappedDefinition, UnmappedPrincipal,
    UnmovedReference,
};

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
pub(super) struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub(super) fn add(&mut self, key: &str, message: impl Into<String>) {
        self.list.push(Problem {
            key: key.to_owned(),
            message: message.into(),
        });
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn is_empty(&self) -> bool {
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
                    ("generated", IdStrategy::Generated),
                    ("auto", IdStrategy::Auto),
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
    let anonymize = match super::anonymize::read_anonymize(&root, env, problems) {
        Field::Set(a) => Some(Some(a)),
        Field::Absent => Some(None),
        Field::Invalid => None,
    };

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
        anonymize: anonymize?,
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
    let command_timeout = read_command_timeout(&section, connection.as_ref(), problems);
    let retries = section
        .integer(problems, "retries", 0, Some(u64::from(MAX_RETRIES)))
        .or(u64::from(DEFAULT_RETRIES));
    let retry_delay = section
        .integer(problems, "retry_delay_secs", 0, Some(MAX_RETRY_DELAY_SECS))
        .or(DEFAULT_RETRY_DELAY_SECS);
    Some(Endpoint {
        connection: connection?,
        connect_timeout: Duration::from_secs(timeout?),
        command_timeout: command_timeout?,
        // At most `MAX_RETRIES`, checked above.
        retries: u32::try_from(retries?).unwrap_or(MAX_RETRIES),
        retry_delay: Duration::from_secs(retry_delay?),
    })
}

/// `command_timeout_secs`; when absent, the connection string's `Command Timeout`; when that
/// is absent too, the default. The pipeline key wins over the connection string.
fn read_command_timeout(
    section: &Section<'_>,
    connection: Option<&ConnectionString>,
    problems: &mut Problems,
) -> Option<CommandTimeout> {
    let key = section.integer(
        problems,
        "command_timeout_secs",
        0,
        Some(MAX_COMMAND_TIMEOUT_SECS),
    );
    let value = match key {
        Field::Set(secs) => return Some(CommandTimeout::from_secs(secs, SettingOrigin::Pipeline)),
        Field::Invalid => return None,
        Field::Absent => {
            attribute_value(connection?.expose(), ADO_COMMAND_TIMEOUT_KEYS).map(str::trim)
        }
    };
    let Some(value) = value else {
        return Some(CommandTimeout::default());
    };
    match value.parse::<u64>() {
        Ok(secs) if secs <= MAX_COMMAND_TIMEOUT_SECS => Some(CommandTimeout::from_secs(
            secs,
            SettingOrigin::ConnectionString,
        )),
        _ => {
            problems.add(
                &section.key("connection"),
                format!(
                    "its `Command Timeout` is {:?}; write whole seconds from 0 (no limit) to \
                     {MAX_COMMAND_TIMEOUT_SECS}, or set `{}` instead",
                    mask_secrets(value),
                    section.key("command_timeout_secs")
                ),
            );
            None
        }
    }
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
    let already_moved = section.choice(
        problems,
        "already_moved",
        &[("skip", AlreadyMoved::Skip), ("fail", AlreadyMoved::Fail)],
    );
    let broken_tree = section.choice(
        problems,
        "broken_tree",
        &[("fail", BrokenTree::Fail), ("skip", BrokenTree::Skip)],
    );
    Some(Selection {
        statuses: statuses.or(Vec::new())?,
        created_from: created_from.map(|(text, _)| Some(text)).or(None)?,
        created_to: created_to.map(|(text, _)| Some(text)).or(None)?,
        tenants: tenants.or(Vec::new())?,
        process_definitions: process_definitions.or(Vec::new())?,
        espaces: espaces.or(Vec::new())?,
        include_inactive_definitions: include_inactive.or(true)?,
        already_moved: already_moved.or(AlreadyMoved::Skip)?,
        broken_tree: broken_tree.or(BrokenTree::Fail)?,
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
    let unmoved_reference = section.choice(
        problems,
        "unmoved_reference",
        &[
            ("fail", UnmovedReference::Fail),
            ("null", UnmovedReference::Null),
            ("keep", UnmovedReference::Keep),
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
        unmoved_reference: unmoved_reference.or(UnmovedReference::Fail)?,
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
    let ledger_table = match table_name(&section, problems, "ledger_table", "BPTMIG_LEDGER") {
        Field::Absent => Some(DEFAULT_LEDGER_TABLE.to_owned()),
        Field::Set(name) => Some(name),
        Field::Invalid => None,
    };
    let tables = match section.table(problems, "tables") {
        Field::Absent => Some(None),
        Field::Invalid => None,
        Field::Set(tables) => {
            tables.reject_unknown(problems, LOAD_TABLES_KEYS);
            let mut name =
                |key: &str, example: &str| match table_name(&tables, problems, key, example) {
                    Field::Set(name) => Some(name),
                    Field::Absent => {
                        problems.add(
                            &tables.key(key),
                            format!(
                                "missing required key; `[load.tables]` names all four of bptmig's \
                             tables, e.g. `{key} = \"{example}\"` (README, \"Targets without \
                             CREATE TABLE\")"
                            ),
                        );
                        None
                    }
                    Field::Invalid => None,
                };
            let ledger = name("ledger", "OSUSR_ABC_BPTMIGLEDGER");
            let trees = name("trees", "OSUSR_ABC_BPTMIGTREE");
            let lock = name("lock", "OSUSR_ABC_BPTMIGLOCK");
            let pairs = name("pairs", "OSUSR_ABC_BPTMIGPAIR");
            Some(Some(OwnTables {
                ledger: ledger?,
                trees: trees?,
                lock: lock?,
                pairs: pairs?,
            }))
        }
    };
    Some(LoadSettings {
        strategy: strategy?,
        batch_rows: batch_rows?,
        chunk_rows: chunk_rows?,
        ledger_table: ledger_table?,
        tables: tables?,
    })
}

/// A plain table name at `key` (letters, digits and `_`, at most 128 characters).
fn table_name(
    section: &Section<'_>,
    problems: &mut Problems,
    key: &str,
    example: &str,
) -> Field<String> {
    match section.string(
        problems,
        key,
        &format!("a string (a table name such as \"{example}\")"),
    ) {
        Field::Absent => Field::Absent,
        Field::Set(name) if is_identifier(name) && name.len() <= MAX_IDENTIFIER_LEN => {
            Field::Set(name.to_owned())
        }
        Field::Set(name) => {
            problems.add(
                &section.key(key),
                format!(
                    "{name:?} is not a plain table name; use letters, digits and `_` (not \
                     starting with a digit, at most {MAX_IDENTIFIER_LEN} characters), without \
                     schema or brackets"
                ),
            );
            Field::Invalid
        }
        Field::Invalid => Field::Invalid,
    }
}
