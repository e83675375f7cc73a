//! The table's lines, and the words for what went wrong.

use bptmig_model::pipeline::mask_secrets;

/// One line of the table.
#[derive(Debug)]
pub struct Line {
    pub check: String,
    pub verdict: Verdict,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Worth reading; does not stop a run.
    Note,
    /// Could not tell: the server did not answer (a timeout, a lost connection), so the check
    /// learned nothing about what it checks. Does not stop a run; run `check` again.
    Unknown,
    /// A run would fail or refuse.
    Block,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Note => "note",
            Verdict::Unknown => "warn",
            Verdict::Block => "BLOCK",
        }
    }
}

pub fn line(check: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Line {
    Line {
        check: check.into(),
        verdict,
        detail: detail.into(),
    }
}

/// An error and its causes on one line, secrets masked.
pub fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    mask_secrets(&text)
}

/// A message that lists items on indented `- ` lines, as one line.
pub fn one_line(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().to_owned();
    let items: Vec<&str> = lines
        .map(|l| l.trim().trim_start_matches("- "))
        .filter(|l| !l.is_empty())
        .collect();
    if items.is_empty() {
        first
    } else {
        format!("{first} {}", items.join(", "))
    }
}

/// The first few items, then how many more.
pub fn list(items: impl ExactSizeIterator<Item = String>) -> String {
    const SHOWN: usize = 5;
    let n = items.len();
    let mut text: Vec<String> = items.take(SHOWN).collect();
    if n > SHOWN {
        text.push(format!("and {} more", n - SHOWN));
    }
    text.join(", ")
}
