//! Users, groups and tenants: map every source principal ID to a target ID.
//!
//! Users, groups and tenants are created separately in each environment, so the same person,
//! group or tenant has different numeric IDs in the source and the target. [`resolve`] gives
//! every principal of the source [`Side`] an entry in [`PrincipalMaps`], trying in order:
//!
//! 1. the [`MappingFile`] (CSV `kind,source,target`), when the pipeline names one;
//! 2. automatic matching: tenants by name; users by username and groups by name, each inside
//!    the *mapped* tenant of the source row's tenant (a NULL tenant matches a NULL tenant);
//! 3. the policy for what is still unmapped ([`UnmappedPrincipal`]): fail, NULL, or one named
//!    target user or group. Tenants have no policy: an unmapped tenant is always an error,
//!    because tenant isolation must not be guessed.
//!
//! Every problem of a kind is collected and reported at once: all problems of the mapping file
//! (parse and resolution alike, each with its line), all unmapped tenants, all unmapped users.
//!
//! Names are compared exactly (case and spaces included); only the mapping file's fields are
//! trimmed. A user or group name may be written `name@tenant` to pick one of several
//! principals with the same name; a name that itself contains `@` (an e-mail username) still
//! matches as a whole.
//!
//! ```
//! use std::path::Path;
//! use bptmig_model::pipeline::UnmappedPrincipal;
//! use bptmig_transform::principals::{resolve, MappingFile, Side, TenantRow, UserRow};
//!
//! let tenant = |id, name: &str| TenantRow { id, name: name.to_owned() };
//! let user = |id, username: &str, tenant_id| UserRow { id, username: username.to_owned(), tenant_id };
//! let source = Side {
//!     tenants: vec![tenant(1, "Users")],
//!     users: vec![user(10, "ann", Some(1)), user(11, "bob", Some(1))],
//!     groups: vec![],
//! };
//! let target = Side {
//!     tenants: vec![tenant(5, "Users")],
//!     users: vec![user(50, "ann", Some(5)), user(51, "robert", Some(5))],
//!     groups: vec![],
//! };
//! let file = MappingFile::parse("kind,source,target\nuser,bob,robert\n", Path::new("m.csv"))?;
//! let fail = UnmappedPrincipal::Fail;
//! let resolution = resolve(&source, &target, Some(&file), &fail, &fail)?;
//! assert_eq!(resolution.maps.tenants.get(1), Some(Some(5)));
//! assert_eq!(resolution.maps.users.get(10), Some(Some(50))); // automatic
//! assert_eq!(resolution.maps.users.get(11), Some(Some(51))); // mapping file
//! assert_eq!(resolution.maps.users.get(99), None); // not a source user
//! # Ok::<(), bptmig_transform::principals::MappingError>(())
//! ```

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use bptmig_model::pipeline::UnmappedPrincipal;

/// The header line a mapping file must start with.
pub const MAPPING_HEADER: [&str; 3] = ["kind", "source", "target"];

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// One `OSSYS_TENANT` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    /// `ID`.
    pub id: i64,
    /// `NAME`.
    pub name: String,
}

/// One `OSSYS_USER` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// `ID`.
    pub id: i64,
    /// `USERNAME`.
    pub username: String,
    /// `TENANT_ID`.
    pub tenant_id: Option<i64>,
}

/// One `OSSYS_GROUP` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// `ID`.
    pub id: i64,
    /// `NAME`.
    pub name: String,
    /// `TENANT_ID`.
    pub tenant_id: Option<i64>,
}

/// The principals of one environment. A row whose ID repeats an earlier row's is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    /// `OSSYS_TENANT`.
    pub tenants: Vec<TenantRow>,
    /// `OSSYS_USER`.
    pub users: Vec<UserRow>,
    /// `OSSYS_GROUP`.
    pub groups: Vec<GroupRow>,
}

/// What a principal is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `OSSYS_USER`, named by `USERNAME`.
    User,
    /// `OSSYS_GROUP`, named by `NAME`.
    Group,
    /// `OSSYS_TENANT`, named by `NAME`.
    Tenant,
}

impl Kind {
    /// The spelling used in the mapping file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Tenant => "tenant",
        }
    }

    /// Parses a mapping-file `kind` (ASCII case ignored).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::User, Self::Group, Self::Tenant]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
    }

    fn plural(self) -> &'static str {
        match self {
            Self::User => "users",
            Self::Group => "groups",
            Self::Tenant => "tenants",
        }
    }

    /// What a name of this kind is called in messages.
    fn name_word(self) -> &'static str {
        match self {
            Self::User => "username",
            Self::Group | Self::Tenant => "name",
        }
    }

    /// Whether `name@tenant` qualifies a name of this kind (tenants are not in a tenant).
    fn has_tenant(self) -> bool {
        self != Self::Tenant
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// The mapping file
// ---------------------------------------------------------------------------------------------

/// A parsed mapping file. Names are not checked against either environment until [`resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingFile {
    /// The file it came from, for messages.
    pub path: PathBuf,
    /// Its lines, in file order.
    pub entries: Vec<MappingEntry>,
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

    /// Reads a mapping-file field (already trimmed): `#<id>` or a name. `role` is `source` or
    /// `target`, for the message.
    fn parse(kind: Kind, field: &str, role: &str) -> Result<Self, String> {
        if field.is_empty() {
            return Err(format!(
                "empty {role}; write a {} or `#<id>`",
                kind.name_word()
            ));
        }
        match field.strip_prefix('#') {
            Some(digits) => match digits.parse::<i64>() {
                Ok(id) if digits.bytes().all(|b| b.is_ascii_digit()) => Ok(Self::Id(id)),
                _ => Err(format!(
                    "bad {role} ID `{field}`; write `#` and the numeric ID, e.g. `#7`"
                )),
            },
            None => Ok(Self::name(kind, field)),
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
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl MappingFile {
    /// Parses `text` (the contents of the file at `path`). Reports every problem found, not
    /// only the first.
    pub fn parse(text: &str, path: &Path) -> Result<Self, MappingError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut problems = Vec::new();
        let mut entries = Vec::new();
        // (kind, source as written) -> line, to find a source mapped twice.
        let mut seen: HashMap<(Kind, Ref), usize> = HashMap::new();
        let mut header_done = false;
        // The reader's own line count misses blank lines and CRLF, so lines are found from byte
        // offsets. A record's offset is where the reader started looking for it, before any
        // line terminators (blank lines) it skipped.
        let newlines: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|&(_, byte)| byte == b'\n')
            .map(|(offset, _)| offset)
            .collect();
        let line_at = |position: Option<&csv::Position>| {
            let start = position.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
            let skipped = text
                .as_bytes()
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&byte| byte == b'\r' || byte == b'\n')
                .count();
            1 + newlines.partition_point(|&nl| nl < start + skipped)
        };
        for result in reader.records() {
            let record = match result {
                Ok(record) => record,
                Err(error) => {
                    let line = line_at(error.position());
                    problems.push(Problem::new(line, format!("not readable as CSV: {error}")));
                    continue;
                }
            };
            let line = line_at(record.position());
            if record.iter().all(str::is_empty) {
                continue;
            }
            if !header_done {
                header_done = true;
                let is_header = record.len() == MAPPING_HEADER.len()
                    && record
                        .iter()
                        .zip(MAPPING_HEADER)
                        .all(|(field, expected)| field.eq_ignore_ascii_case(expected));
                if is_header {
                    continue;
                }
                let looks_like_data =
                    record.len() == MAPPING_HEADER.len() && Kind::parse(&record[0]).is_some();
                if looks_like_data {
                    problems.push(Problem::new(
                        line,
                        "missing header; the first line must be `kind,source,target`",
                    ));
                    // Still check the line as data, so that its problems show up too.
                } else {
                    let found = record.iter().collect::<Vec<_>>().join(",");
                    problems.push(Problem::new(
                        line,
                        format!("header is `{found}`; expected `kind,source,target`"),
                    ));
                    continue;
                }
            }
            if record.len() != MAPPING_HEADER.len() {
                problems.push(Problem::new(
                    line,
                    format!(
                        "{} field(s); expected 3 (`kind,source,target`); quote a name that \
                         contains a comma",
                        record.len()
                    ),
                ));
                continue;
            }
            let kind = Kind::parse(&record[0]);
            if kind.is_none() {
                problems.push(Problem::new(
                    line,
                    format!(
                        "unknown kind `{}`; expected user, group or tenant",
                        &record[0]
                    ),
                ));
            }
            // With an unknown kind, still check both fields for problems of their own.
            let parse_kind = kind.unwrap_or(Kind::User);
            let source = Ref::parse(parse_kind, &record[1], "source");
            let target = Ref::parse(parse_kind, &record[2], "target");
            for error in [&source, &target]
                .into_iter()
                .filter_map(|r| r.as_ref().err())
            {
                problems.push(Problem::new(line, error.clone()));
            }
            let (Some(kind), Ok(source), Ok(target)) = (kind, source, target) else {
                continue;
            };
            match seen.entry((kind, source.clone())) {
                Entry::Occupied(first) => {
                    problems.push(Problem::new(
                        line,
                        format!(
                            "duplicate source: `{kind},{source}` is also mapped on line {}; \
                             keep one of the two lines",
                            first.get()
                        ),
                    ));
                    continue;
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
            entries.push(MappingEntry {
                line,
                kind,
                source,
                target,
            });
        }
        if !header_done {
            problems.push(Problem::new(
                1,
                "the file is empty; the first line must be the header `kind,source,target`",
            ));
        }
        if problems.is_empty() {
            Ok(Self {
                path: path.to_owned(),
                entries,
            })
        } else {
            Err(invalid(path, problems))
        }
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self, MappingError> {
        let bytes = std::fs::read(path).map_err(|source| MappingError::Read {
            path: path.to_owned(),
            source,
        })?;
        match std::str::from_utf8(&bytes) {
            Ok(text) => Self::parse(text, path),
            Err(error) => {
                let good = &bytes[..error.valid_up_to()];
                let line = good.split(|&byte| byte == b'\n').count();
                Err(invalid(
                    path,
                    vec![Problem::new(
                        line,
                        "the file is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in Excel)",
                    )],
                ))
            }
        }
    }
}

fn invalid(path: &Path, mut problems: Vec<Problem>) -> MappingError {
    problems.sort_by_key(|problem| problem.line);
    MappingError::Invalid {
        path: path.to_owned(),
        problems,
    }
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// Where a mapping came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// A line of the mapping file.
    File,
    /// The same name (and mapped tenant) in the target.
    Automatic,
    /// The `unmapped_user` / `unmapped_group` policy (`null` or `user:`/`group:`).
    Policy,
}

/// One source ID and what it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    /// The ID in the source.
    pub source: i64,
    /// The ID in the target; `None` writes NULL (the `null` policy).
    pub target: Option<i64>,
    /// Where the mapping came from.
    pub how: How,
}

/// Source ID -> target ID for one kind of principal, kept sorted by source ID (lookups are a
/// binary search over a flat array, cheap enough for the rewrite loop; callers with dense IDs
/// may build a dense array from [`IdMap::iter`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMap {
    /// Sorted by `source`, no source twice.
    entries: Vec<Mapped>,
}

impl IdMap {
    /// The target of `source`: `None` when `source` is not a known source ID, `Some(None)`
    /// when it maps to NULL, `Some(Some(id))` otherwise.
    pub fn get(&self, source: i64) -> Option<Option<i64>> {
        self.find(source).map(|mapped| mapped.target)
    }

    /// Where the mapping of `source` came from, if it is a known source ID.
    pub fn how(&self, source: i64) -> Option<How> {
        self.find(source).map(|mapped| mapped.how)
    }

    /// Number of source IDs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no source ID is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(source, target)` pairs in ascending source ID.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (i64, Option<i64>)> + '_ {
        self.entries
            .iter()
            .map(|mapped| (mapped.source, mapped.target))
    }

    /// Every mapping with where it came from, in ascending source ID.
    pub fn entries(&self) -> &[Mapped] {
        &self.entries
    }

    fn find(&self, source: i64) -> Option<&Mapped> {
        self.entries
            .binary_search_by_key(&source, |mapped| mapped.source)
            .ok()
            .map(|index| &self.entries[index])
    }
}

/// Builds a map from mappings in any order; of two mappings of the same source, the first wins.
impl FromIterator<Mapped> for IdMap {
    fn from_iter<I: IntoIterator<Item = Mapped>>(iter: I) -> Self {
        let mut entries: Vec<Mapped> = iter.into_iter().collect();
        entries.sort_by_key(|mapped| mapped.source); // stable: the first of equals stays first
        entries.dedup_by_key(|mapped| mapped.source);
        Self { entries }
    }
}

/// The ID maps of all three kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalMaps {
    /// `OSSYS_TENANT`: never maps to NULL.
    pub tenants: IdMap,
    /// `OSSYS_USER`.
    pub users: IdMap,
    /// `OSSYS_GROUP`.
    pub groups: IdMap,
}

/// A source principal as messages and the report name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unmapped {
    /// What it is.
    pub kind: Kind,
    /// Its ID in the source.
    pub source_id: i64,
    /// Its username (users) or name (groups, tenants).
    pub name: String,
    /// The name of its source tenant (`#<id>` if that tenant is not in the source); `None`
    /// for a NULL tenant and for tenants themselves.
    pub tenant: Option<String>,
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.tenant, self.kind) {
            (_, Kind::Tenant) => write!(f, "`{}` (#{})", self.name, self.source_id),
            (Some(tenant), _) => write!(f, "`{}@{tenant}` (#{})", self.name, self.source_id),
            (None, _) => write!(f, "`{}` (#{}, no tenant)", self.name, self.source_id),
        }
    }
}

/// How many principals of one kind were mapped each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HowCounts {
    /// By a line of the mapping file.
    pub file: usize,
    /// By automatic matching.
    pub automatic: usize,
    /// By the `null` or `user:`/`group:` policy.
    pub policy: usize,
}

impl HowCounts {
    /// All mapped principals of the kind.
    pub fn total(&self) -> usize {
        self.file + self.automatic + self.policy
    }

    fn count(&mut self, how: How) {
        match how {
            How::File => self.file += 1,
            How::Automatic => self.automatic += 1,
            How::Policy => self.policy += 1,
        }
    }
}

/// [`HowCounts`] per kind, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolutionStats {
    /// Tenants (never by policy).
    pub tenants: HowCounts,
    /// Users.
    pub users: HowCounts,
    /// Groups.
    pub groups: HowCounts,
}

/// What [`resolve`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// The ID maps: every source principal has an entry.
    pub maps: PrincipalMaps,
    /// How many were mapped each way.
    pub how: ResolutionStats,
    /// The users and groups mapped by the `null` or `user:`/`group:` policy, by kind then source
    /// ID; the report lists them for review.
    pub unmapped: Vec<Unmapped>,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why the principals could not be mapped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The mapping file could not be read; the I/O error is the source.
    #[error("cannot read mapping file `{}`; check `mapping.file`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The mapping file has problems, found when parsing it or when resolving its names
    /// against the two environments; all of them are listed, by line.
    #[error("{}", render_problems(.path, .problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, by line.
        problems: Vec<Problem>,
    },
    /// Source principals with no match, whose kind has no policy (tenants) or the `fail`
    /// policy; all of them are listed.
    #[error("{}", render_unmapped(*.kind, .items, .file.as_deref()))]
    Unmapped {
        /// Tenant, user or group.
        kind: Kind,
        /// Every unmapped principal of the kind, by source ID.
        items: Vec<Unmapped>,
        /// The mapping file, if the pipeline names one (to say where to add them).
        file: Option<PathBuf>,
    },
    /// `mapping.unmapped_user = "user:<name>"` (or the group policy) names a principal the
    /// target does not have.
    #[error(
        "`{}` names `{name}`, which the target does not have; create that {kind} in the \
         target or name another one",
        policy_key(*.kind)
    )]
    PolicyTargetMissing {
        /// User or group.
        kind: Kind,
        /// The name as configured.
        name: String,
    },
    /// The policy's name matches several target principals.
    #[error(
        "`{}` names `{name}`, which matches {} target {}: {}; write `<{}>@<tenant>` to pick one",
        policy_key(*.kind),
        .candidates.len(),
        .kind.plural(),
        .candidates.join(", "),
        .kind.name_word()
    )]
    PolicyTargetAmbiguous {
        /// User or group.
        kind: Kind,
        /// The name as configured.
        name: String,
        /// The matching target principals, as `` `name@tenant` (#id) ``.
        candidates: Vec<String>,
    },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let count = problems.len();
    let noun = if count == 1 { "problem" } else { "problems" };
    let mut out = format!("mapping file `{}` has {count} {noun}:", path.display());
    for problem in problems {
        out.push_str("\n  - ");
        out.push_str(&problem.to_string());
    }
    out
}

fn render_unmapped(kind: Kind, items: &[Unmapped], file: Option<&Path>) -> String {
    let count = items.len();
    let (noun, have, them) = if count == 1 {
        (kind.as_str(), "has", "it")
    } else {
        (kind.plural(), "have", "them")
    };
    let file = file.map_or_else(
        || "a mapping file (set `mapping.file`)".to_owned(),
        |path| format!("the mapping file `{}`", path.display()),
    );
    let mut out = match kind {
        Kind::Tenant => format!(
            "{count} source {noun} {have} no unique match by name in the target; create {them} in \
             the target or add {them} to {file} (`tenant,<name>,<target name>`):"
        ),
        Kind::User | Kind::Group => {
            let word = kind.name_word();
            format!(
                "{count} source {noun} {have} no match in the target; add {them} to {file} \
                 (`{kind},<{word}>,<target {word}>`) or set `{} = \"null\"` or \
                 `\"{kind}:<{word}>\"`:",
                policy_key(kind)
            )
        }
    };
    for item in items {
        out.push_str("\n  - ");
        out.push_str(&item.to_string());
    }
    out
}

fn policy_key(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "mapping.unmapped_user",
        Kind::Group => "mapping.unmapped_group",
        Kind::Tenant => "mapping.file",
    }
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/// Maps every principal of `source` to `target`: the mapping file first, then automatic
/// matching, then the policies (see the module documentation).
///
/// Fails with [`MappingError::Invalid`] listing every problem of the mapping file (each with
/// its line), then with [`MappingError::PolicyTargetMissing`] / `PolicyTargetAmbiguous` for a
/// `user:`/`group:` policy naming no single target principal, then with
/// [`MappingError::Unmapped`] for all unmapped tenants, then all users under `fail`, then all
/// groups under `fail`: each step runs only when the ones before it succeeded.
pub fn resolve(
    source: &Side,
    target: &Side,
    file: Option<&MappingFile>,
    unmapped_user: &UnmappedPrincipal,
    unmapped_group: &UnmappedPrincipal,
) -> Result<Resolution, MappingError> {
    let src = SideIndex::new(source);
    let tgt = SideIndex::new(target);

    let from_file = match file {
        Some(file) => resolve_file(file, &src, &tgt)?,
        None => FileMaps::default(),
    };
    let user_policy = resolve_policy(Kind::User, unmapped_user, &tgt)?;
    let group_policy = resolve_policy(Kind::Group, unmapped_group, &tgt)?;
    let file_path = file.map(|file| file.path.clone());

    let mut how = ResolutionStats::default();
    let mut unmapped = Vec::new();

    // Tenants: the file, then the same name; nothing else.
    let mut tenants = Vec::with_capacity(src.tenants.rows.len());
    let mut missing = Vec::new();
    for row in &src.tenants.rows {
        let found = match from_file.get(Kind::Tenant, row.id) {
            Some(id) => Some((id, How::File)),
            None => tgt
                .tenants
                .single(tgt.tenants.named(row.name), |_| true)
                .map(|id| (id, How::Automatic)),
        };
        match found {
            Some((id, way)) => {
                how.tenants.count(way);
                tenants.push(Mapped {
                    source: row.id,
                    target: Some(id),
                    how: way,
                });
            }
            None => missing.push(src.describe(Kind::Tenant, row)),
        }
    }
    if !missing.is_empty() {
        return Err(unmapped_error(Kind::Tenant, missing, file_path));
    }
    let tenants: IdMap = tenants.into_iter().collect();

    let mut members = |kind: Kind, policy: Policy| {
        let (src_index, tgt_index) = (src.index(kind), tgt.index(kind));
        let counts = match kind {
            Kind::User => &mut how.users,
            Kind::Group | Kind::Tenant => &mut how.groups,
        };
        let mut mapped = Vec::with_capacity(src_index.rows.len());
        let mut missing = Vec::new();
        for row in &src_index.rows {
            let found = from_file
                .get(kind, row.id)
                .map(|id| (Some(id), How::File))
                .or_else(|| {
                    // A NULL tenant matches a NULL tenant; a tenant matches its mapped tenant;
                    // a tenant missing from the source snapshot matches nothing.
                    let target_tenant = match row.tenant_id {
                        None => Some(None),
                        Some(tenant) => tenants.get(tenant),
                    }?;
                    tgt_index
                        .single(tgt_index.named(row.name), |candidate| {
                            candidate.tenant_id == target_tenant
                        })
                        .map(|id| (Some(id), How::Automatic))
                });
            let found = found.or(match policy {
                Policy::Fail => None,
                Policy::Map(id) => Some((id, How::Policy)),
            });
            match found {
                Some((id, way)) => {
                    counts.count(way);
                    if way == How::Policy {
                        unmapped.push(src.describe(kind, row));
                    }
                    mapped.push(Mapped {
                        source: row.id,
                        target: id,
                        how: way,
                    });
                }
                None => missing.push(src.describe(kind, row)),
            }
        }
        if missing.is_empty() {
            Ok(mapped.into_iter().collect::<IdMap>())
        } else {
            Err(unmapped_error(kind, missing, file_path.clone()))
        }
    };
    let users = members(Kind::User, user_policy)?;
    let groups = members(Kind::Group, group_policy)?;

    unmapped.sort_by_key(|item| (item.kind, item.source_id));
    Ok(Resolution {
        maps: PrincipalMaps {
            tenants,
            users,
            groups,
        },
        how,
        unmapped,
    })
}

fn unmapped_error(kind: Kind, mut items: Vec<Unmapped>, file: Option<PathBuf>) -> MappingError {
    items.sort_by_key(|item| item.source_id);
    MappingError::Unmapped { kind, items, file }
}

/// A policy with its target resolved.
#[derive(Debug, Clone, Copy)]
enum Policy {
    Fail,
    /// Map to this target ID, or to NULL.
    Map(Option<i64>),
}

fn resolve_policy(
    kind: Kind,
    policy: &UnmappedPrincipal,
    tgt: &SideIndex<'_>,
) -> Result<Policy, MappingError> {
    match policy {
        UnmappedPrincipal::Fail => Ok(Policy::Fail),
        UnmappedPrincipal::Null => Ok(Policy::Map(None)),
        UnmappedPrincipal::To(name) => match tgt.find(kind, &Ref::name(kind, name)) {
            Lookup::Found(position) => Ok(Policy::Map(Some(tgt.index(kind).rows[position].id))),
            Lookup::Unknown => Err(MappingError::PolicyTargetMissing {
                kind,
                name: name.clone(),
            }),
            Lookup::Ambiguous(rows) => Err(MappingError::PolicyTargetAmbiguous {
                kind,
                name: name.clone(),
                candidates: rows.into_iter().map(|row| row.to_string()).collect(),
            }),
        },
    }
}

/// The mapping file's lines, resolved to IDs.
#[derive(Debug, Default)]
struct FileMaps {
    /// (kind, source ID) -> (target ID, line).
    map: HashMap<(Kind, i64), (i64, usize)>,
}

impl FileMaps {
    fn get(&self, kind: Kind, source: i64) -> Option<i64> {
        self.map.get(&(kind, source)).map(|&(target, _)| target)
    }
}

fn resolve_file(
    file: &MappingFile,
    src: &SideIndex<'_>,
    tgt: &SideIndex<'_>,
) -> Result<FileMaps, MappingError> {
    let mut maps = FileMaps::default();
    let mut problems = Vec::new();
    for entry in &file.entries {
        let kind = entry.kind;
        let source = match src.find(kind, &entry.source) {
            Lookup::Found(position) => Some(&src.index(kind).rows[position]),
            lookup => {
                problems.push(Problem::new(
                    entry.line,
                    lookup.message(kind, &entry.source, "source"),
                ));
                None
            }
        };
        let target = match tgt.find(kind, &entry.target) {
            Lookup::Found(position) => Some(tgt.index(kind).rows[position].id),
            lookup => {
                problems.push(Problem::new(
                    entry.line,
                    lookup.message(kind, &entry.target, "target"),
                ));
                None
            }
        };
        let (Some(source), Some(target)) = (source, target) else {
            continue;
        };
        // Two spellings (a name and `#<id>`) of one source principal.
        if let Some(&(_, first)) = maps.map.get(&(kind, source.id)) {
            problems.push(Problem::new(
                entry.line,
                format!(
                    "duplicate source: `{}` is {kind} {}, also mapped on line {first}; keep one \
                     of the two lines",
                    entry.source,
                    src.describe(kind, source)
                ),
            ));
            continue;
        }
        maps.map.insert((kind, source.id), (target, entry.line));
    }
    if problems.is_empty() {
        Ok(maps)
    } else {
        Err(invalid(&file.path, problems))
    }
}

/// A principal of any kind, borrowed from a [`Side`].
#[derive(Debug, Clone, Copy)]
struct Row<'a> {
    id: i64,
    name: &'a str,
    /// Always `None` for tenants.
    tenant_id: Option<i64>,
}

/// The principals of one kind on one side, deduplicated by ID, in input order.
#[derive(Debug, Default)]
struct Index<'a> {
    rows: Vec<Row<'a>>,
    by_id: HashMap<i64, usize>,
    by_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(rows: impl Iterator<Item = Row<'a>>) -> Self {
        let mut index = Self::default();
        for row in rows {
            if index.by_id.contains_key(&row.id) {
                continue;
            }
            index.by_id.insert(row.id, index.rows.len());
            index
                .by_name
                .entry(row.name)
                .or_default()
                .push(index.rows.len());
            index.rows.push(row);
        }
        index
    }

    /// Positions of the rows with exactly this name.
    fn named(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The ID of the only row among `positions` that passes `keep`, if exactly one does.
    fn single(&self, positions: &[usize], keep: impl Fn(&Row<'a>) -> bool) -> Option<i64> {
        let mut found = positions
            .iter()
            .map(|&position| &self.rows[position])
            .filter(|row| keep(row));
        match (found.next(), found.next()) {
            (Some(row), None) => Some(row.id),
            _ => None,
        }
    }
}

/// The principals of one environment, indexed for lookups.
#[derive(Debug)]
struct SideIndex<'a> {
    tenant_names: HashMap<i64, &'a str>,
    tenants: Index<'a>,
    users: Index<'a>,
    groups: Index<'a>,
}

/// The result of looking a [`Ref`] up on one side.
#[derive(Debug)]
enum Lookup {
    /// The position of the only match in its [`Index`].
    Found(usize),
    Unknown,
    /// Every matching principal, described.
    Ambiguous(Vec<Unmapped>),
}

impl Lookup {
    /// The message for a failed lookup of `what` (`role` is `source` or `target`).
    fn message(&self, kind: Kind, what: &Ref, role: &str) -> String {
        let advice = if role == "target" {
            format!("check the spelling or create the {kind} in the target")
        } else {
            "check the spelling".to_owned()
        };
        match (self, what) {
            (Self::Found(_), _) => String::new(),
            (Self::Unknown, Ref::Id(_)) => format!(
                "unknown {role} ID `{what}`: the {role} has no {kind} with that ID; {advice}"
            ),
            (Self::Unknown, Ref::Name { tenant: None, .. }) => format!(
                "unknown {role} name `{what}`: the {role} has no {kind} with that {}; {advice}",
                kind.name_word()
            ),
            (
                Self::Unknown,
                Ref::Name {
                    name,
                    tenant: Some(tenant),
                },
            ) => format!(
                "unknown {role} name `{what}`: the {role} has no {kind} `{name}` in tenant \
                 `{tenant}`, nor one named `{what}`; {advice}"
            ),
            (Self::Ambiguous(rows), _) => {
                let how = if kind.has_tenant() {
                    "write `name@tenant` or `#<id>` to pick one"
                } else {
                    "write `#<id>` to pick one"
                };
                let list: Vec<String> = rows.iter().map(ToString::to_string).collect();
                format!(
                    "{role} name `{what}` is ambiguous: the {role} has {} {} with that {}: {}; \
                     {how}",
                    rows.len(),
                    kind.plural(),
                    kind.name_word(),
                    list.join(", ")
                )
            }
        }
    }
}

impl<'a> SideIndex<'a> {
    fn new(side: &'a Side) -> Self {
        let tenants = Index::new(side.tenants.iter().map(|t| Row {
            id: t.id,
            name: &t.name,
            tenant_id: None,
        }));
        let tenant_names = tenants.rows.iter().map(|row| (row.id, row.name)).collect();
        Self {
            tenant_names,
            tenants,
            users: Index::new(side.users.iter().map(|u| Row {
                id: u.id,
                name: &u.username,
                tenant_id: u.tenant_id,
            })),
            groups: Index::new(side.groups.iter().map(|g| Row {
                id: g.id,
                name: &g.name,
                tenant_id: g.tenant_id,
            })),
        }
    }

    fn index(&self, kind: Kind) -> &Index<'a> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
            Kind::Tenant => &self.tenants,
        }
    }

    fn describe(&self, kind: Kind, row: &Row<'_>) -> Unmapped {
        Unmapped {
            kind,
            source_id: row.id,
            name: row.name.to_owned(),
            tenant: row.tenant_id.map(|tenant| {
                self.tenant_names
                    .get(&tenant)
                    .map_or_else(|| format!("#{tenant}"), |name| (*name).to_owned())
            }),
        }
    }

    fn find(&self, kind: Kind, what: &Ref) -> Lookup {
        let index = self.index(kind);
        let positions: Vec<usize> = match what {
            Ref::Id(id) => index.by_id.get(id).copied().into_iter().collect(),
            Ref::Name { name, tenant: None } => index.named(name).to_vec(),
            Ref::Name {
                name,
                tenant: Some(tenant),
            } => {
                let in_tenant = index.named(name).iter().copied().filter(|&position| {
                    index.rows[position]
                        .tenant_id
                        .and_then(|id| self.tenant_names.get(&id))
                        == Some(&tenant.as_str())
                });
                // The whole text as a name: `ann@example.com` is a username, not `ann` in a
                // tenant `example.com`.
                let whole = index.named(&format!("{name}@{tenant}")).to_vec();
                in_tenant.chain(whole).collect()
            }
        };
        match positions.as_slice() {
            [] => Lookup::Unknown,
            [position] => Lookup::Found(*position),
            _ => Lookup::Ambiguous(
                positions
                    .iter()
                    .map(|&position| self.describe(kind, &index.rows[position]))
                    .collect(),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/srv/maps/m.csv";

    fn tenant(id: i64, name: &str) -> TenantRow {
        TenantRow {
            id,
            name: name.to_owned(),
        }
    }

    fn user(id: i64, username: &str, tenant_id: Option<i64>) -> UserRow {
        UserRow {
            id,
            username: username.to_owned(),
            tenant_id,
        }
    }

    fn group(id: i64, name: &str, tenant_id: Option<i64>) -> GroupRow {
        GroupRow {
            id,
            name: name.to_owned(),
            tenant_id,
        }
    }

    fn parse(text: &str) -> Result<MappingFile, MappingError> {
        MappingFile::parse(text, Path::new(PATH))
    }

    fn problems(error: MappingError) -> Vec<(usize, String)> {
        match error {
            MappingError::Invalid { path, problems } => {
                assert_eq!(path, Path::new(PATH));
                problems.into_iter().map(|p| (p.line, p.message)).collect()
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn name(name: &str, tenant: Option<&str>) -> Ref {
        Ref::Name {
            name: name.to_owned(),
            tenant: tenant.map(str::to_owned),
        }
    }

    /// Source: tenants Users (1) and AcmeCorp (2); target: Users (101) and AcmeCorp (102).
    fn sides() -> (Side, Side) {
        let source = Side {
            tenants: vec![tenant(1, "Users"), tenant(2, "AcmeCorp")],
            users: vec![
                user(10, "ann", Some(1)),
                user(11, "bob", Some(1)),
                user(12, "bob", Some(2)),
                user(13, "carol", Some(2)),
            ],
            groups: vec![
                group(20, "Recruiters", Some(1)),
                group(21, "Recruiters", Some(2)),
            ],
        };
        let target = Side {
            tenants: vec![tenant(101, "Users"), tenant(102, "AcmeCorp")],
            users: vec![
                user(110, "ann", Some(101)),
                user(111, "bob", Some(101)),
                user(113, "carol", Some(101)), // other tenant than the source carol
                user(114, "qa.lead", Some(101)),
            ],
            groups: vec![
                group(120, "Recruiters", Some(101)),
                group(121, "Recruiters", Some(102)),
            ],
        };
        (source, target)
    }

    fn null() -> UnmappedPrincipal {
        UnmappedPrincipal::Null
    }

    #[test]
    fn parses_ids_names_and_name_at_tenant() {
        let file = parse(
            "\u{feff} kind , source , target \n\
             \n\
             user, #7 ,qa.lead\n\
             \x20  \n\
             group,Recruiters@AcmeCorp,Recruiters@QaCorp\n\
             tenant,Acme@Corp,\"Qa, Corp\"\n\
             User,ann@example.com,#0012\n",
        )
        .unwrap();
        assert_eq!(file.path, Path::new(PATH));
        let got: Vec<_> = file
            .entries
            .iter()
            .map(|e| (e.line, e.kind, e.source.clone(), e.target.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, Kind::User, Ref::Id(7), name("qa.lead", None)),
                (
                    5,
                    Kind::Group,
                    name("Recruiters", Some("AcmeCorp")),
                    name("Recruiters", Some("QaCorp"))
                ),
                // Tenants are not in a tenant: `@` is part of the name.
                (
                    6,
                    Kind::Tenant,
                    name("Acme@Corp", None),
                    name("Qa, Corp", None)
                ),
                (7, Kind::User, name("ann", Some("example.com")), Ref::Id(12)),
            ]
        );
        assert_eq!(file.entries[1].source.to_string(), "Recruiters@AcmeCorp");
        assert_eq!(file.entries[0].source.to_string(), "#7");
    }

    #[test]
    fn reports_every_parse_problem_at_once_with_its_line() {
        let error = parse(
            "kind;source;target\n\
             usr,ann,ann\n\
             user,ann\n\
             user,#x7,ann\n\
             group,,#\n\
             tenant,Users,Users,extra\n\
             user,#-3,bob\n",
        )
        .unwrap_err();
        let message = error.to_string();
        let got = problems(error);
        assert_eq!(
            got,
            vec![
                (
                    1,
                    "header is `kind;source;target`; expected `kind,source,target`".to_owned()
                ),
                (
                    2,
                    "unknown kind `usr`; expected user, group or tenant".to_owned()
                ),
                (
                    3,
                    "2 field(s); expected 3 (`kind,source,target`); quote a name that contains \
                     a comma"
                        .to_owned()
                ),
                (
                    4,
                    "bad source ID `#x7`; write `#` and the numeric ID, e.g. `#7`".to_owned()
                ),
                (5, "empty source; write a name or `#<id>`".to_owned()),
                (
                    5,
                    "bad target ID `#`; write `#` and the numeric ID, e.g. `#7`".to_owned()
                ),
                (
                    6,
                    "4 field(s); expected 3 (`kind,source,target`); quote a name that contains \
                     a comma"
                        .to_owned()
                ),
                (
                    7,
                    "bad source ID `#-3`; write `#` and the numeric ID, e.g. `#7`".to_owned()
                ),
            ]
        );
        assert!(
            message.starts_with(
                "mapping file `/srv/maps/m.csv` has 8 problems:\n  - line 1: header is \
                 `kind;source;target`"
            ),
            "{message}"
        );
        assert!(
            message.contains(
                "\n  - line 2: unknown kind `usr`; expected user, group or tenant\n  - line 3: "
            ),
            "{message}"
        );
    }

    #[test]
    fn missing_header_and_empty_file_are_problems() {
        let got = problems(parse("user,ann,ann\nuser,bob,#x\n").unwrap_err());
        assert_eq!(
            got,
            vec![
                (
                    1,
                    "missing header; the first line must be `kind,source,target`".to_owned()
                ),
                (
                    2,
                    "bad target ID `#x`; write `#` and the numeric ID, e.g. `#7`".to_owned()
                ),
            ]
        );
        let got = problems(parse("\u{feff}\n  \n").unwrap_err());
        assert_eq!(
            got,
            vec![(
                1,
                "the file is empty; the first line must be the header `kind,source,target`"
                    .to_owned()
            )]
        );
        // A header alone is a valid, empty mapping.
        assert!(parse("kind,source,target\n").unwrap().entries.is_empty());
    }

    #[test]
    fn duplicate_source_names_both_lines() {
        let error = parse(
            "kind,source,target\n\
             user,ann,x\n\
             group,ann,y\n\
             user,ann,z\n",
        )
        .unwrap_err();
        assert_eq!(
            problems(error),
            vec![(
                4,
                "duplicate source: `user,ann` is also mapped on line 2; keep one of the two lines"
                    .to_owned()
            )]
        );
    }

    #[test]
    fn name_at_tenant_picks_one_of_several_with_the_same_name() {
        let (source, target) = sides();
        let file = parse(
            "kind,source,target\n\
             user,bob@AcmeCorp,qa.lead\n\
             group,Recruiters@AcmeCorp,Recruiters@Users\n",
        )
        .unwrap();
        let resolution = resolve(&source, &target, Some(&file), &null(), &null()).unwrap();
        let users = &resolution.maps.users;
        assert_eq!(users.get(12), Some(Some(114)));
        assert_eq!(users.how(12), Some(How::File));
        // The other `bob` (tenant Users) is matched automatically.
        assert_eq!(users.get(11), Some(Some(111)));
        assert_eq!(users.how(11), Some(How::Automatic));
        assert_eq!(resolution.maps.groups.get(21), Some(Some(120)));
        assert_eq!(resolution.maps.groups.get(20), Some(Some(120)));
    }

    #[test]
    fn a_username_with_an_at_sign_matches_as_a_whole() {
        let source = Side {
            users: vec![user(1, "ann@example.com", None)],
            ..Side::default()
        };
        let target = Side {
            users: vec![user(9, "ann.qa@example.com", None)],
            ..Side::default()
        };
        let file = parse("kind,source,target\nuser,ann@example.com,ann.qa@example.com\n").unwrap();
        let resolution = resolve(
            &source,
            &target,
            Some(&file),
            &UnmappedPrincipal::Fail,
            &UnmappedPrincipal::Fail,
        )
        .unwrap();
        assert_eq!(resolution.maps.users.get(1), Some(Some(9)));
    }

    #[test]
    fn a_bare_ambiguous_name_is_an_error_naming_the_candidates() {
        let (source, target) = sides();
        let file = parse(
            "kind,source,target\n\
             user,ann,qa.lead\n\
             user,bob,qa.lead\n\
             group,Recruiters@Users,Recruiters\n",
        )
        .unwrap();
        let error = resolve(&source, &target, Some(&file), &null(), &null()).unwrap_err();
        assert_eq!(
            problems(error),
            vec![
                (
                    3,
                    "source name `bob` is ambiguous: the source has 2 users with that username: \
                     `bob@Users` (#11), `bob@AcmeCorp` (#12); write `name@tenant` or `#<id>` to \
                     pick one"
                        .to_owned()
                ),
                (
                    4,
                    "target name `Recruiters` is ambiguous: the target has 2 groups with that \
                     name: `Recruiters@Users` (#120), `Recruiters@AcmeCorp` (#121); write \
                     `name@tenant` or `#<id>` to pick one"
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn the_mapping_file_beats_automatic_matching() {
        let (source, target) = sides();
        let file = parse(
            "kind,source,target\n\
             user,ann,qa.lead\n\
             tenant,AcmeCorp,Users\n",
        )
        .unwrap();
        let resolution = resolve(&source, &target, Some(&file), &null(), &null()).unwrap();
        let maps = &resolution.maps;
        assert_eq!(maps.users.get(10), Some(Some(114))); // not 110, the automatic match
        assert_eq!(maps.tenants.get(2), Some(Some(101))); // not 102
        assert_eq!(maps.tenants.how(2), Some(How::File));
        assert_eq!(maps.tenants.how(1), Some(How::Automatic));
        // Users of AcmeCorp now match inside the mapped tenant Users.
        assert_eq!(maps.users.get(13), Some(Some(113)));
        assert_eq!(maps.users.get(12), Some(Some(111)));
        assert_eq!(
            resolution.how.users,
            HowCounts {
                file: 1,
                automatic: 3,
                policy: 0
            }
        );
        assert_eq!(
            resolution.how.tenants,
            HowCounts {
                file: 1,
                automatic: 1,
                policy: 0
            }
        );
    }

    #[test]
    fn automatic_matching_needs_the_same_username_in_the_mapped_tenant() {
        let (source, target) = sides();
        let resolution = resolve(&source, &target, None, &null(), &null()).unwrap();
        let users = &resolution.maps.users;
        assert_eq!(users.get(10), Some(Some(110)));
        assert_eq!(users.get(11), Some(Some(111)));
        // `bob` of AcmeCorp: the target's only `bob` is in Users, so no match.
        assert_eq!(users.get(12), Some(None));
        assert_eq!(users.how(12), Some(How::Policy));
        // `carol` exists in the target, but in another tenant.
        assert_eq!(users.get(13), Some(None));
        let groups = &resolution.maps.groups;
        assert_eq!(groups.get(20), Some(Some(120)));
        assert_eq!(groups.get(21), Some(Some(121)));
        assert_eq!(users.len(), 4);
        assert_eq!(
            users.iter().collect::<Vec<_>>(),
            vec![(10, Some(110)), (11, Some(111)), (12, None), (13, None)]
        );
        assert_eq!(
            resolution.unmapped,
            vec![
                Unmapped {
                    kind: Kind::User,
                    source_id: 12,
                    name: "bob".to_owned(),
                    tenant: Some("AcmeCorp".to_owned()),
                },
                Unmapped {
                    kind: Kind::User,
                    source_id: 13,
                    name: "carol".to_owned(),
                    tenant: Some("AcmeCorp".to_owned()),
                },
            ]
        );
    }

    #[test]
    fn null_tenant_users_match_null_tenant_users_only() {
        let source = Side {
            tenants: vec![tenant(1, "Users")],
            users: vec![user(1, "svc", None), user(2, "ops", None)],
            groups: vec![group(3, "Admins", None)],
        };
        let target = Side {
            tenants: vec![tenant(11, "Users")],
            users: vec![user(21, "svc", None), user(22, "ops", Some(11))],
            groups: vec![group(23, "Admins", None)],
        };
        let resolution = resolve(&source, &target, None, &null(), &null()).unwrap();
        assert_eq!(resolution.maps.users.get(1), Some(Some(21)));
        assert_eq!(resolution.maps.users.get(2), Some(None));
        assert_eq!(resolution.maps.groups.get(3), Some(Some(23)));
        assert_eq!(
            resolution.unmapped[0].to_string(),
            "`ops` (#2, no tenant)".to_owned()
        );
    }

    #[test]
    fn unknown_names_and_ids_are_reported_together_with_their_lines() {
        let (source, target) = sides();
        let file = parse(
            "kind,source,target\n\
             user,ann,nobody\n\
             user,#99,qa.lead\n\
             tenant,Users,#555\n\
             group,Recruiters@Nowhere,Recruiters@Users\n\
             user,carol,bob@AcmeCorp\n",
        )
        .unwrap();
        let error = resolve(&source, &target, Some(&file), &null(), &null()).unwrap_err();
        assert_eq!(
            problems(error),
            vec![
                (
                    2,
                    "unknown target name `nobody`: the target has no user with that username; \
                     check the spelling or create the user in the target"
                        .to_owned()
                ),
                (
                    3,
                    "unknown source ID `#99`: the source has no user with that ID; check the \
                     spelling"
                        .to_owned()
                ),
                (
                    4,
                    "unknown target ID `#555`: the target has no tenant with that ID; check the \
                     spelling or create the tenant in the target"
                        .to_owned()
                ),
                (
                    5,
                    "unknown source name `Recruiters@Nowhere`: the source has no group \
                     `Recruiters` in tenant `Nowhere`, nor one named `Recruiters@Nowhere`; check \
                     the spelling"
                        .to_owned()
                ),
                (
                    6,
                    "unknown target name `bob@AcmeCorp`: the target has no user `bob` in tenant \
                     `AcmeCorp`, nor one named `bob@AcmeCorp`; check the spelling or create the \
                     user in the target"
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn two_spellings_of_one_source_are_a_duplicate() {
        let (source, target) = sides();
        let file = parse(
            "kind,source,target\n\
             user,ann,qa.lead\n\
             user,#10,ann\n",
        )
        .unwrap();
        let error = resolve(&source, &target, Some(&file), &null(), &null()).unwrap_err();
        assert_eq!(
            problems(error),
            vec![(
                3,
                "duplicate source: `#10` is user `ann@Users` (#10), also mapped on line 2; keep \
                 one of the two lines"
                    .to_owned()
            )]
        );
    }

    #[test]
    fn fail_policy_lists_every_unmapped_user() {
        let (source, target) = sides();
        let file = parse("kind,source,target\n").unwrap();
        let error = resolve(
            &source,
            &target,
            Some(&file),
            &UnmappedPrincipal::Fail,
            &UnmappedPrincipal::Fail,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "2 source users have no match in the target; add them to the mapping file \
             `/srv/maps/m.csv` (`user,<username>,<target username>`) or set \
             `mapping.unmapped_user = \"null\"` or `\"user:<username>\"`:\n  \
             - `bob@AcmeCorp` (#12)\n  \
             - `carol@AcmeCorp` (#13)"
        );
        let MappingError::Unmapped { kind, items, file } = error else {
            panic!("expected Unmapped");
        };
        assert_eq!(kind, Kind::User);
        assert_eq!(
            items.iter().map(|i| i.source_id).collect::<Vec<_>>(),
            [12, 13]
        );
        assert_eq!(file.as_deref(), Some(Path::new(PATH)));
    }

    #[test]
    fn fail_policy_for_groups_names_the_group_settings() {
        let (source, mut target) = sides();
        target.groups.clear();
        let error = resolve(&source, &target, None, &null(), &UnmappedPrincipal::Fail).unwrap_err();
        assert_eq!(
            error.to_string(),
            "2 source groups have no match in the target; add them to a mapping file (set \
             `mapping.file`) (`group,<name>,<target name>`) or set `mapping.unmapped_group = \
             \"null\"` or `\"group:<name>\"`:\n  \
             - `Recruiters@Users` (#20)\n  \
             - `Recruiters@AcmeCorp` (#21)"
        );
    }

    #[test]
    fn to_policy_maps_to_the_named_target_principal() {
        let (source, target) = sides();
        let resolution = resolve(
            &source,
            &target,
            None,
            &UnmappedPrincipal::To("qa.lead".to_owned()),
            &UnmappedPrincipal::To("Recruiters@AcmeCorp".to_owned()),
        )
        .unwrap();
        assert_eq!(resolution.maps.users.get(12), Some(Some(114)));
        assert_eq!(resolution.maps.users.get(13), Some(Some(114)));
        assert_eq!(resolution.maps.users.get(10), Some(Some(110)));
        assert_eq!(resolution.how.users.policy, 2);
        assert_eq!(resolution.how.groups.total(), 2);
        assert_eq!(resolution.unmapped.len(), 2);
    }

    #[test]
    fn to_policy_naming_a_missing_or_ambiguous_target_is_an_error() {
        let (source, target) = sides();
        let error = resolve(
            &source,
            &target,
            None,
            &UnmappedPrincipal::To("ghost".to_owned()),
            &null(),
        )
        .unwrap_err();
        assert!(matches!(
            &error,
            MappingError::PolicyTargetMissing { kind: Kind::User, name } if name == "ghost"
        ));
        assert_eq!(
            error.to_string(),
            "`mapping.unmapped_user` names `ghost`, which the target does not have; create that \
             user in the target or name another one"
        );
        // Checked even when no group needs the policy.
        let error = resolve(
            &source,
            &target,
            None,
            &null(),
            &UnmappedPrincipal::To("Recruiters".to_owned()),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`mapping.unmapped_group` names `Recruiters`, which matches 2 target groups: \
             `Recruiters@Users` (#120), `Recruiters@AcmeCorp` (#121); write `<name>@<tenant>` \
             to pick one"
        );
    }

    #[test]
    fn unmapped_tenants_are_an_error_listing_all_of_them() {
        let (mut source, target) = sides();
        source.tenants.push(tenant(3, "Legacy"));
        source.tenants.push(tenant(4, "Archive"));
        let file = parse("kind,source,target\n").unwrap();
        let error = resolve(&source, &target, Some(&file), &null(), &null()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "2 source tenants have no unique match by name in the target; create them in the \
             target or add them to the mapping file `/srv/maps/m.csv` (`tenant,<name>,<target name>`):\
             \n  - `Legacy` (#3)\n  - `Archive` (#4)"
        );
        // Mapped through the file instead, both pass.
        let file = parse("kind,source,target\ntenant,Legacy,Users\ntenant,#4,AcmeCorp\n").unwrap();
        let resolution = resolve(&source, &target, Some(&file), &null(), &null()).unwrap();
        assert_eq!(resolution.maps.tenants.get(3), Some(Some(101)));
        assert_eq!(resolution.maps.tenants.get(4), Some(Some(102)));
    }

    #[test]
    fn id_map_lookups() {
        let map: IdMap = [
            Mapped {
                source: 5,
                target: Some(50),
                how: How::File,
            },
            Mapped {
                source: 1,
                target: None,
                how: How::Policy,
            },
            Mapped {
                source: 5,
                target: Some(99),
                how: How::Automatic,
            },
        ]
        .into_iter()
        .collect();
        assert_eq!(map.len(), 2);
        assert_eq!(map.get(5), Some(Some(50)));
        assert_eq!(map.how(5), Some(How::File));
        assert_eq!(map.get(1), Some(None));
        assert_eq!(map.get(2), None);
        assert!(IdMap::default().is_empty());
    }

    #[test]
    fn load_reads_the_file_and_reports_unreadable_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(&path, "kind,source,target\r\nuser,ann,bob\r\n").unwrap();
        let file = MappingFile::load(&path).unwrap();
        assert_eq!(file.entries.len(), 1);
        assert_eq!(file.entries[0].line, 2);

        // Line numbers count blank lines and CRLF terminators.
        std::fs::write(
            &path,
            "kind,source,target\r\n\r\n \r\nuser,#x,a\r\n\nusr,a,b",
        )
        .unwrap();
        let error = MappingFile::load(&path).unwrap_err();
        let MappingError::Invalid { problems, .. } = error else {
            panic!("expected Invalid");
        };
        assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [4, 6]);

        std::fs::write(&path, b"kind,source,target\nuser,J\xf6rg,bob\n").unwrap();
        let error = MappingFile::load(&path).unwrap_err();
        let MappingError::Invalid { problems, .. } = error else {
            panic!("expected Invalid");
        };
        assert_eq!(problems[0].line, 2);

        let missing = dir.path().join("absent.csv");
        let error = MappingFile::load(&missing).unwrap_err();
        assert!(matches!(error, MappingError::Read { .. }));
        assert!(error.to_string().starts_with("cannot read mapping file `"));
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn the_demo_mapping_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines/demo-mapping.csv");
        let file = MappingFile::load(&path).unwrap();
        assert!(!file.entries.is_empty());
    }
}
