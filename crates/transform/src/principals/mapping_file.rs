//! The mapping file: CSV `kind,source,target`, one principal per line, every problem with
//! its line.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{Kind, MappingError};

/// The header line a mapping file must start with.
pub const MAPPING_HEADER: [&str; 3] = ["kind", "source", "target"];

/// A parsed mapping file. Names are not checked against either environment until [`resolve`](super::resolve).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingFile {
    /// The file it came from, for messages.
    pub path: PathBuf,
    /// Its lines that could be read, in file order.
    pub entries: Vec<MappingEntry>,
    /// The problems of the lines that could not be read, in line order. [`resolve`](super::resolve)
    /// reports them together with those it finds in [`entries`](Self::entries), so that one
    /// message lists every problem of the file. Always empty from [`MappingFile::parse`].
    pub problems: Vec<MappingProblem>,
}

/// One line of a mapping file: map `source` (in the source) to `target` (in the target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingEntry {
    /// 1-based line number, for messages.
    pub line: usize,
    /// What both sides are.
    pub kind: Kind,
    /// The principal in the source.
    pub source: Ref,
    /// The principal in the target.
    pub target: Ref,
}

/// How a mapping-file field names a principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ref {
    /// `#<id>`: the numeric ID.
    Id(i64),
    /// A username (users) or name (groups, tenants). For users and groups, `name@tenant` is
    /// split at the last `@` into `name` and `tenant`; when no principal `name` exists in that
    /// tenant, the whole text `name@tenant` is tried as a name (usernames are often e-mails).
    Name {
        /// The name, or the part before the last `@`.
        name: String,
        /// The part after the last `@`, if any.
        tenant: Option<String>,
    },
}

impl Ref {
    /// Reads a name (never an `#<id>`), splitting `name@tenant` for users and groups.
    pub fn name(kind: Kind, text: &str) -> Self {
        if kind.has_tenant() {
            if let Some((name, tenant)) = text.rsplit_once('@') {
                if !name.is_empty() && !tenant.is_empty() {
                    return Self::Name {
                        name: name.to_owned(),
                        tenant: Some(tenant.to_owned()),
                    };
                }
            }
        }
        Self::Name {
            name: text.to_owned(),
            tenant: None,
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "#{id}"),
            Self::Name { name, tenant: None } => f.write_str(name),
            Self::Name {
                name,
                tenant: Some(tenant),
            } => write!(f, "{name}@{tenant}"),
        }
    }
}

/// One problem of a mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingProblem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl MappingProblem {
    pub(super) fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for MappingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl MappingFile {
    /// Parses `text` (the contents of the file at `path`). Reports every problem found, not
    /// only the first.
    pub fn parse(text: &str, path: &Path) -> Result<Self, MappingError> {
        Self::parse_with_problems(text, path).without_problems()
    }

    /// Parses `text` (the contents of the file at `path`), keeping the lines that can be read
    /// and noting the problems of the others in [`problems`](Self::problems).
    pub fn parse_with_problems(text: &str, path: &Path) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines = LineNumbers::new(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut parser = Parser::default();
        for result in reader.records() {
            match result {
                Ok(record) => parser.record(&record, lines.at(record.position())),
                Err(error) => {
                    let line = lines.at(error.position());
                    parser.problem(line, format!("not readable as CSV: {error}"));
                }
            }
        }
        parser.finish(path)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self, MappingError> {
        Self::load_with_problems(path)?.without_problems()
    }

    /// Reads the file at `path` and parses it like [`MappingFile::parse_with_problems`]. Fails
    /// only when the file cannot be read, or is not UTF-8 text.
    pub fn load_with_problems(path: &Path) -> Result<Self, MappingError> {
        let bytes = std::fs::read(path).map_err(|source| MappingError::Read {
            path: path.to_owned(),
            source,
        })?;
        match std::str::from_utf8(&bytes) {
            Ok(text) => Ok(Self::parse_with_problems(text, path)),
            Err(error) => {
                let good = &bytes[..error.valid_up_to()];
                let line = good.split(|&byte| byte == b'\n').count();
                Err(invalid(
                    path,
                    vec![MappingProblem::new(
                        line,
                        "the file is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in Excel)",
                    )],
                ))
            }
        }
    }

    /// The file if it has no problems; else [`MappingError::Invalid`] listing them.
    fn without_problems(self) -> Result<Self, MappingError> {
        if self.problems.is_empty() {
            Ok(self)
        } else {
            Err(invalid(&self.path, self.problems))
        }
    }
}

/// Line numbers of a text by byte offset.
///
/// The CSV reader's own line count misses blank lines and CRLF, so lines are found from byte
/// offsets. A record's offset is where the reader started looking for it, before any line
/// terminators (blank lines) it skipped.
struct LineNumbers<'t> {
    text: &'t str,
    newlines: Vec<usize>,
}

impl<'t> LineNumbers<'t> {
    fn new(text: &'t str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|&(_, byte)| byte == b'\n')
            .map(|(offset, _)| offset)
            .collect();
        Self { text, newlines }
    }

    /// The 1-based line of the record the reader started looking for at `position`.
    fn at(&self, position: Option<&csv::Position>) -> usize {
        let start = position.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let skipped = self
            .text
            .as_bytes()
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&byte| byte == b'\r' || byte == b'\n')
            .count();
        1 + self.newlines.partition_point(|&nl| nl < start + skipped)
    }
}

/// What parsing has found so far: the entries, and every problem.
#[derive(Default)]
struct Parser {
    problems: Vec<MappingProblem>,
    entries: Vec<MappingEntry>,
    /// (kind, source as written) -> line, to find a source mapped twice.
    seen: HashMap<(Kind, Ref), usize>,
    header_done: bool,
}

impl Parser {
    fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(MappingProblem::new(line, message));
    }

    /// One CSV record at `line`: the header, then entries. Blank records are skipped.
    fn record(&mut self, record: &csv::StringRecord, line: usize) {
        if record.iter().all(str::is_empty) {
            return;
        }
        if !self.header_done {
            self.header_done = true;
            if !self.header(record, line) {
                return;
            }
        }
        self.entry(record, line);
    }

    /// Checks the first record; returns whether it is to be read as data too.
    fn header(&mut self, record: &csv::StringRecord, line: usize) -> bool {
        let is_header = record.len() == MAPPING_HEADER.len()
            && record
                .iter()
                .zip(MAPPING_HEADER)
                .all(|(field, expected)| field.eq_ignore_ascii_case(expected));
        if is_header {
            return false;
        }
        let looks_like_data =
            record.len() == MAPPING_HEADER.len() && Kind::parse(&record[0]).is_some();
        if looks_like_data {
            self.problem(
                line,
                "missing header; the first line must be `kind,source,target`",
            );
            // Still check the line as data, so that its problems show up too.
            true
        } else {
            let found = record.iter().collect::<Vec<_>>().join(",");
            self.problem(
                line,
                format!("header is `{found}`; expected `kind,source,target`"),
            );
            false
        }
    }

    /// A data record: `kind,source,target`.
    fn entry(&mut self, record: &csv::StringRecord, line: usize) {
        if record.len() != MAPPING_HEADER.len() {
            self.problem(
                line,
                format!(
                    "{} field(s); expected 3 (`kind,source,target`); quote a name that \
                     contains a comma",
                    record.len()
                ),
            );
            return;
        }
        let kind = Kind::parse(&record[0]);
        if kind.is_none() {
            self.problem(
                line,
                format!(
                    "unknown kind `{}`; expected user, group or tenant",
                    &record[0]
                ),
            );
        }
        // With an unknown kind, still check both fields for problems of their own.
        let parse_kind = kind.unwrap_or(Kind::User);
        let source = self.field(parse_kind, &record[1], "source", line);
        let target = self.field(parse_kind, &record[2], "target", line);
        let (Some(kind), Some(source), Some(target)) = (kind, source, target) else {
            return;
        };
        match self.seen.entry((kind, source.clone())) {
            Entry::Occupied(first) => {
                let message = format!(
                    "duplicate source: `{kind},{source}` is also mapped on line {}; keep one \
                     of the two lines",
                    first.get()
                );
                self.problem(line, message);
                return;
            }
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
        self.entries.push(MappingEntry {
            line,
            kind,
            source,
            target,
        });
    }

    /// Reads a field (already trimmed): `#<id>` or a name; `role` is `source` or `target`,
    /// for the problem noted when it is neither.
    fn field(&mut self, kind: Kind, field: &str, role: &str, line: usize) -> Option<Ref> {
        if field.is_empty() {
            let word = kind.name_word();
            self.problem(line, format!("empty {role}; write a {word} or `#<id>`"));
            return None;
        }
        let Some(digits) = field.strip_prefix('#') else {
            return Some(Ref::name(kind, field));
        };
        match digits.parse::<i64>() {
            Ok(id) if digits.bytes().all(|b| b.is_ascii_digit()) => Some(Ref::Id(id)),
            _ => {
                self.problem(
                    line,
                    format!("bad {role} ID `{field}`; write `#` and the numeric ID, e.g. `#7`"),
                );
                None
            }
        }
    }

    fn finish(mut self, path: &Path) -> MappingFile {
        if !self.header_done {
            self.problem(
                1,
                "the file is empty; the first line must be the header `kind,source,target`",
            );
        }
        self.problems.sort_by_key(|problem| problem.line);
        MappingFile {
            path: path.to_owned(),
            entries: self.entries,
            problems: self.problems,
        }
    }
}

/// [`MappingError::Invalid`] with `problems` in line order.
pub(super) fn invalid(path: &Path, mut problems: Vec<MappingProblem>) -> MappingError {
    problems.sort_by_key(|problem| problem.line);
    MappingError::Invalid {
        path: path.to_owned(),
        problems,
    }
}
