//! Connections to the source and target platform databases, with errors a person can act on.

use std::fmt;

use bptmig_model::pipeline::{mask_secrets, Endpoint};
use futures_util::TryStreamExt as _;
/// A query parameter, for callers of [`query_rows`] that do not depend on tiberius.
pub use tiberius::ToSql;
use tiberius::{Client, Config, QueryItem, Row};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::types::CatalogColumn;
use crate::{Error, Result};

/// A tiberius client over TCP.
pub type SqlClient = Client<Compat<TcpStream>>;

/// Which environment a connection or an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Target => "target",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SQL Server's error number for a failed login.
const LOGIN_FAILED: u32 = 18456;

/// Opens a connection to `endpoint` and prepares the session.
pub async fn connect(side: Side, endpoint: &Endpoint) -> Result<SqlClient> {
    let config = Config::from_ado_string(endpoint.connection.expose()).map_err(|e| {
        Error::BadConnection {
            side,
            reason: mask_secrets(&e.to_string()),
        }
    })?;
    let addr = config.get_addr();
    let timeout = endpoint.connect_timeout;
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(&addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            return Err(Error::Unreachable {
                side,
                addr,
                timeout_secs: timeout.as_secs(),
                reason: e.to_string(),
            })
        }
        Err(_) => {
            return Err(Error::Unreachable {
                side,
                addr,
                timeout_secs: timeout.as_secs(),
                reason: "no answer before the timeout".into(),
            })
        }
    };
    tcp.set_nodelay(true).ok();
    let login = tokio::time::timeout(timeout, Client::connect(config, tcp.compat_write())).await;
    let mut client = match login {
        Ok(Ok(c)) => c,
        // SQL Server says 18456; other compatible servers only say it in words.
        Ok(Err(tiberius::error::Error::Server(t)))
            if t.code() == LOGIN_FAILED || t.message().contains("Login failed") =>
        {
            return Err(Error::LoginFailed {
                side,
                addr,
                reason: mask_secrets(t.message()),
            })
        }
        Ok(Err(e)) => {
            return Err(Error::Handshake {
                side,
                addr,
                reason: mask_secrets(&e.to_string()),
            })
        }
        Err(_) => {
            return Err(Error::Handshake {
                side,
                addr,
                reason: format!("no login answer within {} s", timeout.as_secs()),
            })
        }
    };
    // Text longer than the session's TEXTSIZE is silently cut by some servers (the sandbox
    // defaults to 2,048 characters); ask for the maximum so values arrive whole.
    execute(&mut client, side, "SET TEXTSIZE 2147483647").await?;
    Ok(client)
}

/// Runs a batch whose results are not needed.
pub async fn execute(client: &mut SqlClient, side: Side, sql: &str) -> Result<()> {
    client
        .simple_query(sql)
        .await
        .map_err(|e| Error::query(side, sql, e))?
        .into_results()
        .await
        .map_err(|e| Error::query(side, sql, e))?;
    Ok(())
}

/// Runs a parameterised query and collects its first result set (small results only).
pub async fn query_rows(
    client: &mut SqlClient,
    side: Side,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<Vec<Row>> {
    let mut stream = client
        .query(sql, params)
        .await
        .map_err(|e| Error::query(side, sql, e))?;
    let mut rows = Vec::new();
    while let Some(item) = stream
        .try_next()
        .await
        .map_err(|e| Error::query(side, sql, e))?
    {
        if let QueryItem::Row(r) = item {
            rows.push(r);
        }
    }
    Ok(rows)
}

/// Reads an integer cell whatever width the server chose for it.
pub fn int_cell(row: &Row, i: usize) -> Option<i64> {
    row.try_get::<i32, _>(i)
        .ok()
        .flatten()
        .map(i64::from)
        .or_else(|| row.try_get::<i64, _>(i).ok().flatten())
        .or_else(|| row.try_get::<i16, _>(i).ok().flatten().map(i64::from))
        .or_else(|| row.try_get::<u8, _>(i).ok().flatten().map(i64::from))
}

/// Reads a text cell.
pub fn text_cell(row: &Row, i: usize) -> Option<String> {
    row.try_get::<&str, _>(i).ok().flatten().map(str::to_owned)
}

/// The columns of `table` from `INFORMATION_SCHEMA.COLUMNS`, in ordinal order; empty when
/// the table does not exist.
pub async fn table_columns(
    client: &mut SqlClient,
    side: Side,
    table: &str,
) -> Result<Vec<CatalogColumn>> {
    let sql = "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, \
               NUMERIC_SCALE, DATETIME_PRECISION, IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS \
               WHERE TABLE_NAME = @P1 ORDER BY ORDINAL_POSITION";
    let rows = query_rows(client, side, sql, &[&table]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let data_type = text_cell(r, 1).unwrap_or_default();
            CatalogColumn {
                name: text_cell(r, 0).unwrap_or_default(),
                char_max_len: int_cell(r, 2).map(|v| normalize_max_len(&data_type, v)),
                data_type,
                numeric_precision: int_cell(r, 3).map(|v| v as u8),
                numeric_scale: int_cell(r, 4).map(|v| v as i32),
                datetime_precision: int_cell(r, 5).map(|v| v as i16),
                nullable: text_cell(r, 6).is_some_and(|v| v.eq_ignore_ascii_case("YES")),
            }
        })
        .collect())
}

/// SQL Server reports `(MAX)` as -1; a length no declared column can have (over 4,000 for
/// `nvarchar`, over 8,000 for `varchar`/`varbinary`) can only mean MAX too, which is how
/// some compatible servers (the sandbox's) report it.
fn normalize_max_len(data_type: &str, len: i64) -> i32 {
    let limit = match data_type.to_ascii_lowercase().as_str() {
        "nvarchar" | "nchar" => 4000,
        "varchar" | "char" | "varbinary" | "binary" => 8000,
        _ => i64::from(i32::MAX),
    };
    if len > limit {
        -1
    } else {
        len as i32
    }
}

/// `SELECT COUNT(*)`-style scalar.
pub async fn scalar(client: &mut SqlClient, side: Side, sql: &str) -> Result<i64> {
    let rows = query_rows(client, side, sql, &[]).await?;
    Ok(rows.first().and_then(|r| int_cell(r, 0)).unwrap_or(0))
}

/// `[name]` with `]` doubled: a safe identifier for names read from the catalog.
pub fn quote_ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `N'text'` with quotes doubled.
pub fn quote_text(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}
