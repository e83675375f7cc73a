//! What every command runs with, built once from the command line and the pipeline file.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bptmig_model::PipelineConfig;

use crate::cli::{Cli, LogFormat};
use crate::commands::Outcome;
use crate::progress::Progress;

/// Test hook: pause after each part an extract or transform writes, so a test can interrupt it.
const PART_DELAY_ENV: &str = "BPTMIG_TEST_PART_DELAY_MS";
/// Test hook: pause inside each load chunk's transaction, before it commits.
const CHUNK_DELAY_ENV: &str = "BPTMIG_TEST_CHUNK_DELAY_MS";

pub struct Settings {
    /// The pipeline file, validated.
    pub config: PipelineConfig,
    /// Progress bars on stderr, or log lines.
    pub reporter: Progress,
    /// `--quiet`: no summaries on stdout.
    pub quiet: bool,
    /// `--threads`: the transform's pool (`None`: one thread per core).
    pub threads: Option<usize>,
    /// Drives the commands that talk to a database.
    pub runtime: tokio::runtime::Runtime,
    /// Set by the first SIGINT/SIGTERM, for the commands that stop at a part or chunk
    /// boundary ([`crate::cli::Command::stops_at_boundaries`]).
    pub cancel: Option<Arc<AtomicBool>>,
    /// From [`PART_DELAY_ENV`].
    pub part_delay: Option<Duration>,
    /// From [`CHUNK_DELAY_ENV`].
    pub chunk_delay: Option<Duration>,
}

impl Settings {
    pub fn new(cli: &Cli) -> anyhow::Result<Self> {
        let path = &cli.command.pipeline().pipeline;
        // Every pipeline error names the file and the key itself.
        let config = PipelineConfig::load(path)?;
        tracing::info!(
            command = cli.command.name(),
            pipeline = %path.display(),
            source = %config.source.connection,
            target = %config.target.connection,
            workdir = %config.workdir.display(),
            "pipeline loaded"
        );
        let draw = !cli.runtime.quiet
            && !cli.runtime.no_progress
            && cli.runtime.log_format == LogFormat::Text
            && std::io::stderr().is_terminal();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.runtime.threads.unwrap_or(2).max(1))
            .enable_all()
            .build()?;
        let cancel = cli
            .command
            .stops_at_boundaries()
            .then(|| interrupt_flag(&runtime));
        Ok(Self {
            config,
            reporter: Progress::new(draw),
            quiet: cli.runtime.quiet,
            threads: cli.runtime.threads,
            runtime,
            cancel,
            part_delay: env_millis(PART_DELAY_ENV),
            chunk_delay: env_millis(CHUNK_DELAY_ENV),
        })
    }
}

fn env_millis(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

/// A flag set by the first SIGINT or SIGTERM; a second one ends the process at once.
fn interrupt_flag(runtime: &tokio::runtime::Runtime) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    runtime.spawn(async move {
        let term = async {
            #[cfg(unix)]
            {
                if let Ok(mut s) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    s.recv().await;
                    return;
                }
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = term => {},
        }
        set.store(true, Ordering::SeqCst);
        eprintln!(
            "interrupted: stopping at the next part or chunk boundary (interrupt again to abandon it)"
        );
        let _ = tokio::signal::ctrl_c().await;
        std::process::exit(i32::from(Outcome::Interrupted.exit_code()));
    });
    flag
}
