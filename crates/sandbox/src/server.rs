//! In-process SQL-Server-compatible servers (`iridium_server`), one per environment.
//!
//! Each server runs on its own thread with its own tokio runtime, so a test's runtime (often
//! single-threaded) never has to drive the server, and dropping the handle stops it.

use std::net::SocketAddr;

use iridium_server::{ServerConfig, TdsServer};
use tokio::sync::oneshot;

use crate::background::Background;
use crate::{Error, Result};

/// The login every sandbox server accepts unless told otherwise.
pub const DEFAULT_USER: &str = "sa";
/// The sandbox password. It guards nothing but a throw-away in-memory database; pipelines
/// still take it from an environment variable, like any password.
pub const DEFAULT_PASSWORD: &str = "Sandbox-Only-1";

/// How to start a sandbox server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub user: String,
    pub password: String,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            port: 0,
            user: DEFAULT_USER.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
        }
    }
}

/// A running sandbox server. Dropping it stops the server.
#[derive(Debug)]
pub struct SandboxServer {
    addr: SocketAddr,
    user: String,
    password: String,
    _serving: Background,
}

impl SandboxServer {
    /// Starts a server with default options on a free port.
    pub fn start() -> Result<Self> {
        Self::start_with(&ServerOptions::default())
    }

    /// Starts a server as `options` say and returns once it accepts connections.
    pub fn start_with(options: &ServerOptions) -> Result<Self> {
        let mut config = ServerConfig::with_auth(options.user.clone(), options.password.clone())
            .host("127.0.0.1")
            .port(options.port)
            .disable_tls();
        // The default pool keeps one session warm per client; tests open a handful.
        config.pool_max_size = 64;
        let (ready_tx, ready_rx) =
            std::sync::mpsc::channel::<std::result::Result<SocketAddr, String>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let port = options.port;
        let thread = std::thread::Builder::new()
            .name(format!("sandbox-server-{port}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut server =
                        TdsServer::new_with_database(iridium_core::Database::new(), config);
                    match server.bind().await {
                        Ok(addr) => {
                            let _ = ready_tx.send(Ok(addr));
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    }
                    tokio::select! {
                        _ = server.run() => {}
                        _ = stop_rx => {}
                    }
                });
            })
            .map_err(|e| Error::Start {
                port,
                reason: e.to_string(),
            })?;
        let addr = ready_rx
            .recv()
            .map_err(|e| Error::Start {
                port,
                reason: e.to_string(),
            })?
            .map_err(|reason| Error::Start { port, reason })?;
        Ok(Self {
            addr,
            user: options.user.clone(),
            password: options.password.clone(),
            _serving: Background::new(stop_tx, thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// ADO connection string for tiberius, password included: for tests and the sandbox only.
    pub fn connection_string(&self) -> String {
        connection_string(self.addr.port(), &self.user, &self.password)
    }

    /// The connection string with the password replaced by `${var}`, as a pipeline file
    /// would hold it.
    pub fn connection_template(&self, var: &str) -> String {
        connection_string(self.addr.port(), &self.user, &format!("${{{var}}}"))
    }
}

/// The connection string of a sandbox server on `port`.
pub fn connection_string(port: u16, user: &str, password: &str) -> String {
    // The sandbox server speaks TDS without TLS; tiberius must be told so explicitly.
    format!(
        "server=tcp:127.0.0.1,{port};user={user};password={password};\
         encrypt=DANGER_PLAINTEXT;TrustServerCertificate=true"
    )
}
