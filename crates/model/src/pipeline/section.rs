//! Typed reads of one table of the file, each recording what is wrong with its key.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::mask_secrets;
use super::parse::Problems;
use super::timestamp::{Timestamp, TimestampError};

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
pub(super) enum Field<T> {
    Absent,
    /// Present but unusable; a problem has been recorded.
    Invalid,
    Set(T),
}

impl<T> Field<T> {
    /// The value, or `default` when absent. `None` when invalid.
    pub(super) fn or(self, default: T) -> Option<T> {
        match self {
            Field::Absent => Some(default),
            Field::Invalid => None,
            Field::Set(value) => Some(value),
        }
    }

    pub(super) fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Invalid => Field::Invalid,
            Field::Set(value) => Field::Set(f(value)),
        }
    }
}

/// A table of the file and its dotted path.
pub(super) struct Section<'t> {
    pub(super) path: String,
    pub(super) table: &'t Table,
}

impl<'t> Section<'t> {
    pub(super) fn key(&self, key: &str) -> String {
        join_key(&self.path, key)
    }

    pub(super) fn reject_unknown(&self, problems: &mut Problems, known: &[&str]) {
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

    pub(super) fn wrong(&self, problems: &mut Problems, key: &str, expected: &str, value: &Value) {
        problems.add(
            &self.key(key),
            format!("expected {expected}, found {}", describe(value)),
        );
    }

    /// A nested table, e.g. `[source]`.
    pub(super) fn table(&self, problems: &mut Problems, key: &str) -> Field<Section<'t>> {
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

    pub(super) fn string(
        &self,
        problems: &mut Problems,
        key: &str,
        expected: &str,
    ) -> Field<&'t str> {
        match self.table.get(key) {
            None => Field::Absent,
            Some(Value::String(s)) if !s.trim().is_empty() => Field::Set(s.as_str()),
            Some(other) => {
                self.wrong(problems, key, expected, other);
                Field::Invalid
            }
        }
    }

    pub(super) fn boolean(&self, problems: &mut Problems, key: &str) -> Field<bool> {
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
    pub(super) fn integer(
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
    pub(super) fn count(
        &self,
        problems: &mut Problems,
        key: &str,
        max: Option<usize>,
    ) -> Field<usize> {
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
    pub(super) fn choice<T: Copy>(
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
    pub(super) fn names(
        &self,
        problems: &mut Problems,
        key: &str,
        what: &str,
    ) -> Field<Vec<String>> {
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
    pub(super) fn timestamp(
        &self,
        problems: &mut Problems,
        key: &str,
    ) -> Field<(String, Timestamp)> {
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
    pub(super) fn path(&self, problems: &mut Problems, key: &str, dir: &Path) -> Field<PathBuf> {
        self.string(problems, key, "a non-empty string (a file path)")
            .map(|p| resolve(dir, p))
    }
}

/// `path` relative to `dir`, with `.` and `..` folded lexically (no file system access) so
/// messages show `work/demo`, not `pipelines/../work/demo`.
pub(super) fn resolve(dir: &Path, path: &str) -> PathBuf {
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

#[cfg(test)]
mod tests {
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
