//! Connections to the source and target platform databases, with errors a person can act on.

use std::fmt;

use bptmig_model::pipeline::{mask_secrets, Endpoint};
use tiberius::{Client, Config};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::query::execute;
use crate::{Error, Fault, Result};

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
    let mut config = Config::from_ado_string(endpoint.connection.expose()).map_err(|e| {
        Error::BadConnection {
            side,
            reason: mask_secrets(&e.to_string()),
        }
    })?;
    // Each server answer must come within the command timeout (`None`: no limit); a statement
    // that runs out of time fails with `Error::TimedOut`.
    config.command_timeout(endpoint.command_timeout.limit);
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
            let fault = match &e {
                tiberius::error::Error::Io { kind, .. } => {
                    Some(Fault::ConnectionLost { kind: *kind })
                }
                _ => None,
            };
            return Err(Error::Handshake {
                side,
                addr,
                reason: handshake_reason(&e),
                fault,
            });
        }
        Err(_) => {
            return Err(Error::Handshake {
                side,
                addr,
                reason: format!("no login answer within {} s", timeout.as_secs()),
                fault: Some(Fault::ConnectionLost {
                    kind: std::io::ErrorKind::TimedOut,
                }),
            })
        }
    };
    // Text longer than the session's TEXTSIZE is silently cut by some servers (the sandbox
    // defaults to 2,048 characters); ask for the maximum so values arrive whole.
    execute(&mut client, side, "SET TEXTSIZE 2147483647").await?;
    Ok(client)
}

/// Why the login failed, in the driver's words (secrets masked). Its own handshake timeout
/// message names a driver API; say instead which setting bounds the connection.
fn handshake_reason(error: &tiberius::error::Error) -> String {
    match error {
        tiberius::error::Error::Io {
            kind: std::io::ErrorKind::TimedOut,
            ..
        } => "the server accepted the connection but did not finish the login in time".to_owned(),
        other => mask_secrets(&other.to_string()),
    }
}
