//! Connection strings: `${VAR}` expansion, and masking of passwords wherever one may be printed.

use std::fmt;
use std::ops::Range;

use super::parse::Problems;

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

/// The value of the last attribute of `connection` whose key is one of `keys` (any case), its
/// quotes removed; `None` when there is none. Later attributes win, as in ADO.NET.
pub(super) fn attribute_value<'s>(connection: &'s str, keys: &[&str]) -> Option<&'s str> {
    attributes(connection)
        .into_iter()
        .rev()
        .find(|a| {
            let key = &connection[a.key.clone()];
            keys.iter().any(|k| key.eq_ignore_ascii_case(k))
        })
        .map(|a| {
            let value = &connection[a.value];
            strip_quotes(value).map_or(value, |(_, inner, _)| inner)
        })
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
    /// A password reference whose variable is set to nothing.
    EmptySecret(String),
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
pub(super) fn connection_string(
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
        // `is_whole_reference` held: the reference is `${NAME}`.
        let name = &reference[2..reference.len() - 1];
        if secret.is_empty() && is_env_name(name) && env(name).is_some() {
            push_issue(&mut issues, ReferenceIssue::EmptySecret(name.to_owned()));
        }
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
            ReferenceIssue::EmptySecret(name) => format!(
                "environment variable `{name}` is set but empty, so the password would be empty \
                 and the login would fail; set `{name}` to the password in the environment that \
                 runs bptmig"
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
