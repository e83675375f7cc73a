//! `[anonymize]`: the secret key and the rules that mask personal data in the transform.
//!
//! ```toml
//! [anonymize]
//! key = "${BPTMIG_ANON_KEY}"
//! [[anonymize.rules]]
//! column = "OSSYS_BPM_PROCESS.LABEL"
//! method = "fake"
//! kind = "person"
//! ```

use std::fmt;

use toml::Value;

use super::parse::Problems;
use super::section::{Field, Section};

mod refused;

/// The shortest anonymisation secret accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// Keys allowed in `[anonymize]`.
pub const ANONYMIZE_KEYS: &[&str] = &["key", "rules"];
/// Keys allowed in each `[[anonymize.rules]]`.
pub const RULE_KEYS: &[&str] = &[
    "column",
    "definition",
    "name",
    "data_type",
    "method",
    "kind",
];

/// `[anonymize]`: the key and the rules, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anonymize {
    /// `key`: the secret, from the environment variable `key` names.
    pub key: AnonKey,
    /// `[[anonymize.rules]]`, in file order.
    pub rules: Vec<AnonRule>,
}

/// The anonymisation key: printed as `***` (`Debug` and `Display`), never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct AnonKey {
    /// The environment variable it came from (safe to print).
    pub var: String,
    secret: Vec<u8>,
}

impl AnonKey {
    pub fn new(var: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        Self {
            var: var.into(),
            secret: secret.into(),
        }
    }

    /// The secret bytes, for the keyed hash only.
    pub fn expose(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for AnonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnonKey(${{{}}} = ***)", self.var)
    }
}

impl fmt::Display for AnonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// One `[[anonymize.rules]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonRule {
    /// Its position in the file, from 1 (`anonymize.rules[1]`), for messages and reports.
    pub number: usize,
    /// `column`'s table, as written (matched in any case).
    pub table: String,
    /// `column`'s column, as written (matched in any case).
    pub column: String,
    /// `definition`: only values of processes/activities of this definition name.
    pub definition: Option<String>,
    /// `name`: only inputs/outputs of this parameter name.
    pub name: Option<String>,
    /// `data_type`: only inputs/outputs of this data type (`rtText`, `rtEmail`, …).
    pub data_type: Option<String>,
    /// `method` (and `kind`).
    pub method: AnonMethod,
}

impl AnonRule {
    /// `anonymize.rules[N]`, how messages and `report.json` name it.
    pub fn key(&self) -> String {
        format!("anonymize.rules[{}]", self.number)
    }

    /// Whether `data_type` (an `SS_TYPE` or `DATA_TYPE`) names an entity reference
    /// (`bt<eSpace SS_KEY>*<entity SS_KEY>`, or `rtEntityReference`): such values are never
    /// anonymised.
    pub fn is_entity_type(data_type: &str) -> bool {
        refused::is_entity_type(data_type)
    }

    /// `TABLE.COLUMN`, as written.
    pub fn column_name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }

    /// `clear`, `hash`, `fake:<kind>` or `keep-format`, as `report.json` and `check` name the
    /// rule's method.
    pub fn method_name(&self) -> String {
        match self.method {
            AnonMethod::Fake(kind) => format!("fake:{}", kind.as_str()),
            m => m.as_str().to_owned(),
        }
    }
}

/// A rule's `method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnonMethod {
    /// `"clear"`: NULL, or the empty string where the column is NOT NULL.
    Clear,
    /// `"hash"`: keyed HMAC, rendered as short hex.
    Hash,
    /// `"fake"` with `kind`: a deterministic pseudonym derived from the keyed hash.
    Fake(FakeKind),
    /// `"keep-format"`: letters to letters, digits to digits, the rest kept, same length.
    KeepFormat,
}

impl AnonMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Hash => "hash",
            Self::Fake(_) => "fake",
            Self::KeepFormat => "keep-format",
        }
    }
}

/// A `fake` rule's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeKind {
    /// `"person"`: a first and last name.
    Person,
    /// `"email"`: an address at a reserved example domain.
    Email,
    /// `"text"`: free text of the same length.
    Text,
    /// `"digits"`: digits of the same length.
    Digits,
}

impl FakeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Email => "email",
            Self::Text => "text",
            Self::Digits => "digits",
        }
    }
}

/// `[anonymize]`: `Invalid` when a problem was recorded.
pub(super) fn read_anonymize(
    root: &Section<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Field<Anonymize> {
    let section = match root.table(problems, "anonymize") {
        Field::Absent => return Field::Absent,
        Field::Invalid => return Field::Invalid,
        Field::Set(section) => section,
    };
    section.reject_unknown(problems, ANONYMIZE_KEYS);
    let key = read_key(&section, env, problems);
    let rules = read_rules(&section, problems);
    match (key, rules) {
        (Some(key), Some(rules)) => Field::Set(Anonymize { key, rules }),
        _ => Field::Invalid,
    }
}

/// `key = "${VAR}"`: the variable must be set and not empty; a literal key is refused.
fn read_key(
    section: &Section<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<AnonKey> {
    let key = section.key("key");
    let raw = match section.string(
        problems,
        "key",
        "a string `\"${VAR}\"` naming an environment variable",
    ) {
        Field::Set(raw) => raw,
        Field::Invalid => return None,
        Field::Absent => {
            problems.add(
                &key,
                "missing required key; add `key = \"${BPTMIG_ANON_KEY}\"` and set that \
                 environment variable to a secret of at least 16 characters",
            );
            return None;
        }
    };
    let var = raw
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let Some(var) = var else {
        problems.add(
            &key,
            "must be exactly a `${VAR}` reference to an environment variable: the key is a \
             secret and never lives in the file",
        );
        return None;
    };
    match env(var) {
        Some(secret) if secret.len() >= MIN_KEY_BYTES => {
            Some(AnonKey::new(var, secret.into_bytes()))
        }
        Some(secret) if !secret.is_empty() => {
            problems.add(
                &key,
                format!(
                    "the environment variable `{var}` holds a secret of {} byte(s); use at \
                     least {MIN_KEY_BYTES} (a short key lets anyone who sees the replacements \
                     guess it and undo them)",
                    secret.len()
                ),
            );
            None
        }
        _ => {
            problems.add(
                &key,
                format!(
                    "the environment variable `{var}` is not set or empty; set it to the \
                     anonymisation secret (the same secret gives the same replacements)"
                ),
            );
            None
        }
    }
}

/// `[[anonymize.rules]]`, each checked on its own.
fn read_rules(section: &Section<'_>, problems: &mut Problems) -> Option<Vec<AnonRule>> {
    let key = section.key("rules");
    let list = match section.table.get("rules") {
        None => return Some(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            section.wrong(
                problems,
                "rules",
                "an array of tables `[[anonymize.rules]]`",
                other,
            );
            return None;
        }
    };
    let before = problems.len();
    let mut rules = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let number = i + 1;
        let Value::Table(table) = item else {
            problems.add(
                &format!("{key}[{number}]"),
                "must be a table `[[anonymize.rules]]`",
            );
            continue;
        };
        let rule = Section {
            path: format!("{key}[{number}]"),
            table,
        };
        if let Some(rule) = read_rule(&rule, number, problems) {
            rules.push(rule);
        }
    }
    (problems.len() == before).then_some(rules)
}

fn read_rule(rule: &Section<'_>, number: usize, problems: &mut Problems) -> Option<AnonRule> {
    rule.reject_unknown(problems, RULE_KEYS);
    let column = read_column(rule, problems);
    let text = |key: &str, problems: &mut Problems| match rule.string(problems, key, "a string") {
        Field::Set(s) => Some(Some(s.to_owned())),
        Field::Absent => Some(None),
        Field::Invalid => None,
    };
    let definition = text("definition", problems);
    let name = text("name", problems);
    let data_type = text("data_type", problems);
    let kind = rule.choice(
        problems,
        "kind",
        &[
            ("person", FakeKind::Person),
            ("email", FakeKind::Email),
            ("text", FakeKind::Text),
            ("digits", FakeKind::Digits),
        ],
    );
    let method = match rule.string(problems, "method", "a string") {
        Field::Set("clear") => Some(AnonMethod::Clear),
        Field::Set("hash") => Some(AnonMethod::Hash),
        Field::Set("keep-format") => Some(AnonMethod::KeepFormat),
        Field::Set("fake") => match kind {
            Field::Set(kind) => Some(AnonMethod::Fake(kind)),
            Field::Absent => {
                problems.add(
                    &rule.key("kind"),
                    "`method = \"fake\"` needs a `kind`: \"person\", \"email\", \"text\" or \
                     \"digits\"",
                );
                None
            }
            Field::Invalid => None,
        },
        Field::Set(other) => {
            problems.add(
                &rule.key("method"),
                format!(
                    "{other:?} is not a method; use \"clear\", \"hash\", \"fake\" (with a \
                     `kind`) or \"keep-format\""
                ),
            );
            None
        }
        Field::Absent => {
            problems.add(
                &rule.key("method"),
                "missing required key; add `method = \"clear\"`, \"hash\", \"fake\" or \
                 \"keep-format\"",
            );
            None
        }
        Field::Invalid => None,
    };
    if let (Some(m), Field::Set(_)) = (method, kind) {
        if !matches!(m, AnonMethod::Fake(_)) {
            problems.add(
                &rule.key("kind"),
                format!("only `method = \"fake\"` takes a `kind`; remove it or use \"fake\" (the rule's method is {:?})", m.as_str()),
            );
            return None;
        }
    }
    let (table, column) = column?;
    let rule = AnonRule {
        number,
        table,
        column,
        definition: definition?,
        name: name?,
        data_type: data_type?,
        method: method?,
    };
    if let Some((key, message)) = refused::refusal(&rule) {
        problems.add(&rule_key(rule.number, key), message);
        return None;
    }
    Some(rule)
}

/// `column = "TABLE.COLUMN"`, split and trimmed.
fn read_column(rule: &Section<'_>, problems: &mut Problems) -> Option<(String, String)> {
    match rule.string(problems, "column", "a string `\"TABLE.COLUMN\"`") {
        Field::Set(c) => match c.split_once('.') {
            Some((t, col)) if !t.trim().is_empty() && !col.trim().is_empty() => {
                Some((t.trim().to_owned(), col.trim().to_owned()))
            }
            _ => {
                problems.add(
                    &rule.key("column"),
                    format!("{c:?} is not `TABLE.COLUMN`; write e.g. \"OSSYS_BPM_PROCESS.LABEL\""),
                );
                None
            }
        },
        Field::Absent => {
            problems.add(
                &rule.key("column"),
                "missing required key; add e.g. `column = \"OSSYS_BPM_PROCESS.LABEL\"`",
            );
            None
        }
        Field::Invalid => None,
    }
}

/// `anonymize.rules[N].key`, how a problem names a rule's key.
fn rule_key(number: usize, key: &str) -> String {
    format!("anonymize.rules[{number}].{key}")
}
