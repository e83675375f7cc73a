//! Why a pipeline file could not be used.

use std::fmt;
use std::path::{Path, PathBuf};

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
    #[error("{}", render_file_problems("pipeline file", .path, .problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, in file order of the sections.
        problems: Vec<Problem>,
    },
}

/// A file's problems as one message: "`<what>` `<path>` has N problem(s):", then a line
/// `  - <problem>` each. The pipeline file's problems read so ([`ConfigError::Invalid`]), and
/// so may those of any other file the tool reads, such as the mapping file.
pub fn render_file_problems<P: fmt::Display>(what: &str, path: &Path, problems: &[P]) -> String {
    let count = problems.len();
    let noun = if count == 1 { "problem" } else { "problems" };
    let mut out = format!("{what} `{}` has {count} {noun}:", path.display());
    for problem in problems {
        out.push_str("\n  - ");
        out.push_str(&problem.to_string());
    }
    out
}
