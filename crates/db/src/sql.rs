//! T-SQL text: identifiers and literals.

pub use bptmig_workdir::sql_type::quote_ident;

/// `N'text'` with quotes doubled.
pub fn quote_text(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}
