//! Why the principals could not be mapped: one error, every problem of a kind listed.

use std::path::{Path, PathBuf};

use bptmig_model::pipeline::render_file_problems;

use super::{Kind, MappingProblem, Unmapped};

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
    #[error("{}", render_file_problems("mapping file", .path, .problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, by line.
        problems: Vec<MappingProblem>,
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
