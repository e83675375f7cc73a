//! A fault-injecting TCP proxy between bptmig and a sandbox server, on loopback only.
//!
//! [`FaultProxy::start`] listens on `127.0.0.1:0` and forwards every connection to a port of
//! `127.0.0.1`, applying its [`ProxyPlan`]: cut a connection after some bytes from the server,
//! stall the server's bytes for a while, or refuse connections; once, a few times, or every
//! time. It runs on a thread of its own (a test's runtime never has to drive it), serves at
//! most [`MAX_CONNECTIONS`] connections for at most [`MAX_LIFETIME`], and stops, closing every
//! connection, when dropped.
//!
//! ```no_run
//! # fn demo(server: &bptmig_sandbox::SandboxServer) -> bptmig_sandbox::Result<()> {
//! use bptmig_sandbox::testing::{FaultProxy, ProxyFault, ProxyPlan};
//! let proxy = FaultProxy::start(
//!     server.port(),
//!     ProxyPlan::once(ProxyFault::Cut { after_bytes: 50_000 }),
//! )?;
//! let source = proxy.connection_template("BPTMIG_IT_PW");
//! // … extract from `source`; the first connection to pass 50,000 bytes is cut …
//! assert!(proxy.faults() <= 1);
//! # let _ = source; Ok(()) }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::tds_log::SqlLog;
use crate::background::Background;
use crate::{connection_string, Error, Result, DEFAULT_USER};

/// The most connections one proxy accepts; later ones are refused.
pub const MAX_CONNECTIONS: usize = 1000;
/// How long a proxy serves at most; then it closes every connection and stops.
pub const MAX_LIFETIME: Duration = Duration::from_mins(10);
/// The longest stall a plan may ask for.
pub const MAX_STALL: Duration = Duration::from_mins(5);

/// What the proxy does to a connection its plan hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFault {
    /// Close the connection (both ways) once `after_bytes` bytes came from the server.
    Cut { after_bytes: u64 },
    /// Once `after_bytes` bytes came from the server, hold back the rest for `duration` (at
    /// most [`MAX_STALL`]).
    Stall {
        after_bytes: u64,
        duration: Duration,
    },
    /// Close the connection as soon as it is accepted, before a byte passes.
    Refuse,
}

/// Which connections get which fault: the first `times` connections that reach the fault's
/// point each get it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyPlan {
    pub fault: Option<ProxyFault>,
    pub times: usize,
}

impl ProxyPlan {
    /// Pass everything through.
    pub fn pass() -> Self {
        Self {
            fault: None,
            times: 0,
        }
    }

    /// `fault` on the first connection that reaches it.
    pub fn once(fault: ProxyFault) -> Self {
        Self::times(fault, 1)
    }

    /// `fault` on the first `times` connections that reach it.
    pub fn times(fault: ProxyFault, times: usize) -> Self {
        Self {
            fault: Some(fault),
            times,
        }
    }

    /// `fault` on every connection that reaches it (up to [`MAX_CONNECTIONS`]).
    pub fn every(fault: ProxyFault) -> Self {
        Self::times(fault, MAX_CONNECTIONS)
    }
}

/// What the proxy and its connections share.
#[derive(Debug)]
struct Shared {
    upstream_port: u16,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    plan: ProxyPlan,
    /// Faults applied so far under the current plan.
    fired: usize,
    /// Bytes each connection has passed from the server so far, in accept order.
    from_server: Vec<Arc<AtomicU64>>,
    /// With [`FaultProxy::recording`], the SQL the clients sent, in the order it arrived.
    statements: Option<Vec<String>>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one fault of the plan if it is `kind`'s and any is left.
    fn claim(&self, is_kind: impl Fn(&ProxyFault) -> bool) -> Option<ProxyFault> {
        let mut state = self.state();
        let fault = state.plan.fault.filter(|f| is_kind(f))?;
        if state.fired >= state.plan.times {
            return None;
        }
        state.fired += 1;
        Some(fault)
    }

    /// The point (bytes from the server) at which the plan's cut or stall applies, if any is
    /// left.
    fn trigger(&self) -> Option<u64> {
        let state = self.state();
        if state.fired >= state.plan.times {
            return None;
        }
        match state.plan.fault? {
            ProxyFault::Cut { after_bytes } | ProxyFault::Stall { after_bytes, .. } => {
                Some(after_bytes)
            }
            ProxyFault::Refuse => None,
        }
    }
}

/// A running proxy. Dropping it closes every connection and stops it.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _serving: Background,
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 that forwards to `127.0.0.1:upstream_port`
    /// under `plan`, and returns once it accepts connections.
    pub fn start(upstream_port: u16, plan: ProxyPlan) -> Result<Self> {
        Self::start_with(upstream_port, plan, false)
    }

    /// Starts a proxy that passes everything through and records the SQL text of every batch
    /// and RPC statement the clients send ([`FaultProxy::statements`]).
    pub fn recording(upstream_port: u16) -> Result<Self> {
        Self::start_with(upstream_port, ProxyPlan::pass(), true)
    }

    fn start_with(upstream_port: u16, plan: ProxyPlan, record: bool) -> Result<Self> {
        let shared = Arc::new(Shared {
            upstream_port,
            state: Mutex::new(State {
                plan,
                fired: 0,
                from_server: Vec::new(),
                statements: record.then(Vec::new),
            }),
        });
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| start_error(&e))?;
        let addr = listener.local_addr().map_err(|e| start_error(&e))?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| start_error(&e))?;
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        () = accept_loop(listener, serving) => {}
                        _ = stop_rx => {}
                        () = tokio::time::sleep(MAX_LIFETIME) => {}
                    }
                });
                // Dropping the runtime here ends every connection task, closing its sockets.
            })
            .map_err(|e| start_error(&e))?;
        Ok(Self {
            addr,
            shared,
            _serving: Background::new(stop_tx, thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The connection string of the sandbox server behind the proxy, reached through it, with
    /// the password as `${var}` (as [`crate::SandboxServer::connection_template`]).
    pub fn connection_template(&self, var: &str) -> String {
        connection_string(self.port(), DEFAULT_USER, &format!("${{{var}}}"))
    }

    /// Replaces the plan; the count of faults applied starts again from 0.
    pub fn set_plan(&self, plan: ProxyPlan) {
        let mut state = self.shared.state();
        state.plan = plan;
        state.fired = 0;
    }

    /// Faults applied under the current plan.
    pub fn faults(&self) -> usize {
        self.shared.state().fired
    }

    /// The SQL the clients sent so far, batch by batch (an RPC's statement prefixed with
    /// `RPC: `); empty unless started with [`FaultProxy::recording`].
    pub fn statements(&self) -> Vec<String> {
        self.shared.state().statements.clone().unwrap_or_default()
    }

    /// Bytes each connection so far has passed from the server, in the order they were
    /// accepted (a refused one counts 0).
    pub fn bytes_from_server(&self) -> Vec<u64> {
        self.shared
            .state()
            .from_server
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }
}

fn start_error(e: &std::io::Error) -> Error {
    Error::Start {
        port: 0,
        reason: format!("fault proxy: {e}"),
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let counter = Arc::new(AtomicU64::new(0));
        let accepted = {
            let mut state = shared.state();
            state.from_server.push(Arc::clone(&counter));
            state.from_server.len()
        };
        if accepted > MAX_CONNECTIONS || shared.claim(|f| matches!(f, ProxyFault::Refuse)).is_some()
        {
            drop(client);
            continue;
        }
        tokio::spawn(serve(client, Arc::clone(&shared), counter));
    }
}

/// Forwards one connection both ways until either side closes it or a cut ends it.
async fn serve(client: TcpStream, shared: Arc<Shared>, from_server: Arc<AtomicU64>) {
    let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, shared.upstream_port)).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, client_write) = client.into_split();
    let (server_read, mut server_write) = server.into_split();
    let upstream = forward_from_client(&mut client_read, &mut server_write, &shared);
    let downstream = forward_from_server(server_read, client_write, &shared, &from_server);
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
    // Both halves of both sockets drop here: the client and the server each see the close.
}

/// Copies the client's bytes to the server, recording their SQL when the proxy records.
async fn forward_from_client(from: &mut OwnedReadHalf, to: &mut OwnedWriteHalf, shared: &Shared) {
    let record = shared.state().statements.is_some();
    let mut log = SqlLog::default();
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if record {
            let sql = log.feed(&buf[..n]);
            if !sql.is_empty() {
                if let Some(v) = shared.state().statements.as_mut() {
                    v.extend(sql);
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Copies the server's bytes to the client, counting them, and applies the plan's cut or
/// stall at its point, to this connection at most once.
async fn forward_from_server(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    shared: &Shared,
    counter: &AtomicU64,
) {
    let mut buf = vec![0_u8; 16 * 1024];
    let mut passed: u64 = 0;
    let mut faulted = false;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        let point = if faulted { None } else { shared.trigger() };
        if let Some(point) = point.filter(|p| passed + chunk.len() as u64 > *p) {
            let before = usize::try_from(point.saturating_sub(passed)).unwrap_or(chunk.len());
            if to.write_all(&chunk[..before]).await.is_err() {
                return;
            }
            passed += before as u64;
            counter.store(passed, Ordering::Relaxed);
            chunk = &chunk[before..];
            match shared.claim(|f| !matches!(f, ProxyFault::Refuse)) {
                Some(ProxyFault::Cut { .. }) => return,
                Some(ProxyFault::Stall { duration, .. }) => {
                    faulted = true;
                    tokio::time::sleep(duration.min(MAX_STALL)).await;
                }
                // Another connection took the last fault meanwhile.
                Some(ProxyFault::Refuse) | None => {}
            }
        }
        if to.write_all(chunk).await.is_err() {
            return;
        }
        passed += chunk.len() as u64;
        counter.store(passed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};

    use super::*;

    /// An upstream that answers every connection with `len` bytes, then closes it.
    fn upstream(len: usize) -> (u16, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().take(3) {
                let mut stream = stream.unwrap();
                let _ = stream.write_all(&vec![7_u8; len]);
            }
        });
        (port, thread)
    }

    fn received(port: u16) -> std::io::Result<usize> {
        let mut stream = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut out = Vec::new();
        stream.read_to_end(&mut out)?;
        Ok(out.len())
    }

    #[test]
    fn a_cut_once_ends_the_first_connection_at_its_byte_and_passes_the_next() {
        let (port, _upstream) = upstream(100_000);
        let proxy = FaultProxy::start(
            port,
            ProxyPlan::once(ProxyFault::Cut {
                after_bytes: 30_000,
            }),
        )
        .unwrap();
        assert_eq!(received(proxy.port()).unwrap(), 30_000);
        assert_eq!(received(proxy.port()).unwrap(), 100_000);
        assert_eq!(proxy.faults(), 1);
        assert_eq!(proxy.bytes_from_server(), [30_000, 100_000]);
    }

    #[test]
    fn a_stall_delays_the_bytes_and_refuse_closes_at_once() {
        let (port, _upstream) = upstream(5_000);
        let stall = ProxyFault::Stall {
            after_bytes: 1_000,
            duration: Duration::from_millis(300),
        };
        let proxy = FaultProxy::start(port, ProxyPlan::once(stall)).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(received(proxy.port()).unwrap(), 5_000);
        assert!(started.elapsed() >= Duration::from_millis(300));
        proxy.set_plan(ProxyPlan::every(ProxyFault::Refuse));
        assert_eq!(received(proxy.port()).unwrap_or(0), 0);
        assert_eq!(proxy.faults(), 1);
        drop(proxy);
    }

    #[test]
    fn a_dropped_proxy_stops_listening() {
        let (port, _upstream) = upstream(10);
        let proxy = FaultProxy::start(port, ProxyPlan::pass()).unwrap();
        let own = proxy.port();
        drop(proxy);
        assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, own)).is_err());
    }
}
