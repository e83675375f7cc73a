//! Talking to a sandbox server: connecting, running batches, rendering seed values as SQL.

use std::fmt::Write as _;

use bptmig_workdir::iso;

use crate::{Error, Result};

/// A tiberius client over plain TCP (the tool's own client type).
pub type SqlClient = bptmig_db::SqlClient;

/// Connects with an ADO connection string (as [`crate::SandboxServer::connection_string`])
/// through the tool's own connection code, so tests exercise it and share its session setup
/// (`SET TEXTSIZE`: the sandbox server cuts text at 2,048 characters otherwise).
pub async fn connect(connection: &str) -> Result<SqlClient> {
    let endpoint =
        bptmig_model::pipeline::Endpoint::new(bptmig_model::ConnectionString::new(connection));
    Ok(bptmig_db::connect(bptmig_db::Side::Target, &endpoint).await?)
}

/// Runs a batch that returns no rows the caller needs.
pub async fn execute(client: &mut SqlClient, sql: &str) -> Result<()> {
    client
        .simple_query(sql)
        .await
        .map_err(|e| sql_error(sql, e))?
        .into_results()
        .await
        .map_err(|e| sql_error(sql, e))?;
    Ok(())
}

/// Every row of `table` as the server sends it, one line each, sorted: an order-independent
/// picture of a table's content for tests that compare a table before and after.
pub async fn table_content(client: &mut SqlClient, table: &str) -> Result<Vec<String>> {
    let sql = format!("SELECT * FROM {table}");
    let rows = client
        .simple_query(&sql)
        .await
        .map_err(|e| sql_error(&sql, e))?
        .into_first_result()
        .await
        .map_err(|e| sql_error(&sql, e))?;
    let mut lines: Vec<String> = rows
        .into_iter()
        .map(|r| format!("{:?}", r.into_iter().collect::<Vec<_>>()))
        .collect();
    lines.sort();
    Ok(lines)
}

/// Runs a query returning one integer (e.g. `SELECT COUNT(*) ...`).
pub async fn scalar_i64(client: &mut SqlClient, sql: &str) -> Result<i64> {
    let row = client
        .simple_query(sql)
        .await
        .map_err(|e| sql_error(sql, e))?
        .into_row()
        .await
        .map_err(|e| sql_error(sql, e))?;
    let value = row.and_then(|r| {
        r.try_get::<i32, _>(0)
            .ok()
            .flatten()
            .map(i64::from)
            .or_else(|| r.try_get::<i64, _>(0).ok().flatten())
    });
    value.ok_or_else(|| Error::Unexpected {
        context: format!("`{}` returned no integer", truncate(sql)),
    })
}

fn sql_error(sql: &str, source: tiberius::error::Error) -> Error {
    Error::Sql {
        context: format!("run `{}`", truncate(sql)),
        source,
    }
}

fn truncate(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// A value to seed, rendered as a SQL literal. Ordered NULL first, like SQL Server sorts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lit {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    /// A `DATETIME` at whole seconds, as seconds since 1900-01-01 00:00:00.
    DateTime(i64),
    /// A `DECIMAL`: `value` × 10^-`scale`.
    Decimal {
        value: i128,
        scale: u8,
    },
}

impl Lit {
    pub fn text(s: impl Into<String>) -> Self {
        Lit::Text(s.into())
    }

    pub fn opt_int(v: Option<i64>) -> Self {
        v.map_or(Lit::Null, Lit::Int)
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Lit::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// Appends the literal to `out`.
    pub fn render(&self, out: &mut String) {
        match self {
            Lit::Null => out.push_str("NULL"),
            Lit::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Lit::Bool(b) => out.push(if *b { '1' } else { '0' }),
            Lit::Text(s) => {
                out.push_str("N'");
                for ch in s.chars() {
                    if ch == '\'' {
                        out.push('\'');
                    }
                    out.push(ch);
                }
                out.push('\'');
            }
            Lit::DateTime(secs) => {
                out.push('\'');
                out.push_str(&format_datetime(*secs));
                out.push('\'');
            }
            Lit::Decimal { value, scale } => out.push_str(&format_decimal(*value, *scale)),
        }
    }
}

/// `value` × 10^-`scale` as plain decimal text (`-12.50000000`).
pub fn format_decimal(value: i128, scale: u8) -> String {
    let digits = value.unsigned_abs().to_string();
    let scale = usize::from(scale);
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Seconds since 1900-01-01 00:00:00 for a civil date and time.
pub fn datetime(year: u32, month: u32, day: u32, h: u32, m: u32, s: u32) -> i64 {
    (iso::days_from_civil(year, month, day) - days_1900()) * 86_400
        + i64::from(h * 3600 + m * 60 + s)
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since 1900-01-01 (whole seconds only: the sandbox
/// server rejects fractional literals).
pub fn format_datetime(secs: i64) -> String {
    let since_1970 = secs + days_1900() * 86_400;
    iso::format_iso_datetime_ns(since_1970 * iso::NANOS_PER_SECOND, 0)
}

/// 1900-01-01, the `DATETIME` epoch, in days since 1970-01-01.
fn days_1900() -> i64 {
    iso::days_from_civil(1900, 1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(l: &Lit) -> String {
        let mut s = String::new();
        l.render(&mut s);
        s
    }

    #[test]
    fn literals() {
        assert_eq!(render(&Lit::Null), "NULL");
        assert_eq!(render(&Lit::Int(-42)), "-42");
        assert_eq!(render(&Lit::Bool(true)), "1");
        assert_eq!(render(&Lit::text("O'Brien")), "N'O''Brien'");
        assert_eq!(render(&Lit::text("日本🚀")), "N'日本🚀'");
        assert_eq!(render(&Lit::DateTime(0)), "'1900-01-01T00:00:00'");
        assert_eq!(
            render(&Lit::Decimal {
                value: -1_250,
                scale: 2
            }),
            "-12.50"
        );
        assert_eq!(render(&Lit::Decimal { value: 5, scale: 8 }), "0.00000005");
        assert_eq!(render(&Lit::Decimal { value: 7, scale: 0 }), "7");
    }

    #[test]
    fn datetimes_round_trip() {
        let t = datetime(2019, 11, 26, 12, 3, 25);
        assert_eq!(format_datetime(t), "2019-11-26T12:03:25");
        assert_eq!(
            format_datetime(datetime(2024, 2, 29, 23, 59, 59)),
            "2024-02-29T23:59:59"
        );
        assert_eq!(
            format_datetime(datetime(2000, 3, 1, 0, 0, 0) - 1),
            "2000-02-29T23:59:59"
        );
    }
}
