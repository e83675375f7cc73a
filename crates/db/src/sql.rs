//! T-SQL text: identifiers and literals.

/// `[name]` with `]` doubled: a safe identifier for names read from the catalog.
pub fn quote_ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `N'text'` with quotes doubled.
pub fn quote_text(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}
