//! `bptmig`: migrate OutSystems 11 BPT process history between platform databases.
//!
//! This binary only parses arguments, turns them into validated settings, calls the stage
//! libraries and maps the outcome to an exit code (README, "Exit codes"):
//! 0 success, 1 finished with data problems to review, 2 error, 130 interrupted.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bptmig_model::PipelineConfig;
use clap::{Args, Parser, Subcommand, ValueEnum};

mod check;
mod progress;
mod status;

/// Exit codes (README, "Exit codes").
mod exit {
    pub const OK: u8 = 0;
    pub const REVIEW: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const INTERRUPTED: u8 = 130;
}

/// Test hook: pause after each part an extract or transform writes, so a test can interrupt it.
const PART_DELAY_ENV: &str = "BPTMIG_TEST_PART_DELAY_MS";
/// Test hook: pause inside each load chunk's transaction, before it commits.
const CHUNK_DELAY_ENV: &str = "BPTMIG_TEST_CHUNK_DELAY_MS";

/// Migrate OutSystems 11 BPT process history (processes, activities, their inputs,
/// outputs and event subscriptions) from one platform database to another, through Parquet.
#[derive(Parser, Debug)]
#[command(name = "bptmig", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// Runtime knobs; everything that defines the data movement is in the pipeline file.
#[derive(Args, Debug)]
struct RuntimeArgs {
    /// Worker threads for the parallel stages (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Print only errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More detail (repeat for more).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log format: `text` for people, `json` (one object per line) for schedulers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    no_progress: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct PipelineArg {
    /// The pipeline file (TOML) that defines the migration.
    #[arg(long, short, value_name = "FILE")]
    pipeline: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Pre-flight: connectivity, queues empty, definitions and users mapped, ID room.
    Check(PipelineArg),
    /// Stream the selected process history from the source to Parquet.
    Extract(PipelineArg),
    /// Rewrite every foreign key for the target (no database involved).
    Transform(PipelineArg),
    /// Insert the transformed rows into the target, exactly once, in dependency order.
    Load(PipelineArg),
    /// All stages, resuming whatever is already done.
    Run(PipelineArg),
    /// Show each stage's progress in the work directory.
    Status {
        #[command(flatten)]
        pipeline: PipelineArg,
        /// Machine-readable output for schedulers.
        #[arg(long)]
        json: bool,
    },
    /// Compare what the target holds with the transformed files; check invariants.
    Verify(PipelineArg),
    /// Remove this run's rows from the target.
    Rollback(PipelineArg),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Check(_) => "check",
            Command::Extract(_) => "extract",
            Command::Transform(_) => "transform",
            Command::Load(_) => "load",
            Command::Run(_) => "run",
            Command::Status { .. } => "status",
            Command::Verify(_) => "verify",
            Command::Rollback(_) => "rollback",
        }
    }

    fn pipeline(&self) -> &PipelineArg {
        match self {
            Command::Check(p)
            | Command::Extract(p)
            | Command::Transform(p)
            | Command::Load(p)
            | Command::Run(p)
            | Command::Verify(p)
            | Command::Rollback(p)
            | Command::Status { pipeline: p, .. } => p,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.runtime);
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // `{:#}` prints the whole cause chain on one line; secrets never reach errors
            // (connection strings are masked where they are formatted).
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn init_logging(runtime: &RuntimeArgs) {
    let level = if runtime.quiet {
        "error"
    } else {
        match runtime.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BPTMIG_LOG")
        // tiberius logs every server error it returns; bptmig reports those it does not
        // expect itself (the load probes what a server accepts), so its own log stays off
        // unless asked for with -vv.
        .unwrap_or_else(|_| {
            let tiberius = if runtime.verbose >= 2 { "debug" } else { "off" };
            tracing_subscriber::EnvFilter::new(format!("{level},tiberius={tiberius}"))
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests calling main twice) is harmless; ignore it.
    let _ = match runtime.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn run(cli: &Cli) -> anyhow::Result<u8> {
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
    let reporter = progress::Progress::new(draw);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.runtime.threads.unwrap_or(2).max(1))
        .enable_all()
        .build()?;
    // SIGINT/SIGTERM stop the stages at their next part or chunk boundary.
    let cancel = match cli.command {
        Command::Extract(_) | Command::Transform(_) | Command::Load(_) | Command::Run(_) => {
            Some(interrupt_flag(&runtime))
        }
        _ => None,
    };
    let stages = Stages {
        config: &config,
        reporter: &reporter,
        quiet: cli.runtime.quiet,
        threads: cli.runtime.threads,
        cancel,
    };
    match &cli.command {
        Command::Extract(_) => runtime.block_on(stages.extract()),
        Command::Transform(_) => stages.transform(),
        Command::Load(_) => runtime.block_on(stages.load()),
        Command::Verify(_) => runtime.block_on(verify(&config, &reporter, cli.runtime.quiet)),
        Command::Rollback(_) => runtime.block_on(rollback(&config, &reporter, cli.runtime.quiet)),
        Command::Status { json, .. } => {
            let s = runtime.block_on(status::status(&config));
            if *json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                status::print(&s);
            }
            Ok(exit::OK)
        }
        Command::Run(_) => {
            let code = runtime.block_on(stages.extract())?;
            if code != exit::OK {
                return Ok(code);
            }
            // Findings to review do not stop the run; they set its exit code.
            let review = stages.transform()?;
            if review == exit::INTERRUPTED {
                return Ok(review);
            }
            let code = runtime.block_on(stages.load())?;
            if code != exit::OK {
                return Ok(code);
            }
            let code = runtime.block_on(verify(&config, &reporter, cli.runtime.quiet))?;
            Ok(review.max(code))
        }
        Command::Check(_) => {
            let lines = runtime.block_on(check::check(&config));
            Ok(if check::print(&lines) {
                exit::REVIEW
            } else {
                exit::OK
            })
        }
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
        std::process::exit(i32::from(exit::INTERRUPTED));
    });
    flag
}

async fn verify(
    config: &PipelineConfig,
    reporter: &progress::Progress,
    quiet: bool,
) -> anyhow::Result<u8> {
    let summary = bptmig_load::verify(config, reporter).await?;
    if !quiet {
        println!(
            "verify {}: run {}",
            if summary.ok() { "passed" } else { "FAILED" },
            summary.run_id
        );
        println!(
            "{:<34} {:>10} {:>10} {:>6}",
            "table", "expected", "found", "same"
        );
        for t in &summary.tables {
            println!(
                "{:<34} {:>10} {:>10} {:>6}",
                t.table,
                t.expected_rows,
                t.found_rows,
                if t.ok { "yes" } else { "NO" }
            );
        }
        for p in &summary.problems {
            println!("problem: {p}");
        }
    }
    Ok(if summary.ok() { exit::OK } else { exit::REVIEW })
}

async fn rollback(
    config: &PipelineConfig,
    reporter: &progress::Progress,
    quiet: bool,
) -> anyhow::Result<u8> {
    let summary = bptmig_load::rollback(config, reporter).await?;
    if !quiet {
        println!(
            "rollback done: run {}, {} chunk(s) removed",
            summary.run_id, summary.chunks
        );
        for (table, rows) in &summary.tables {
            println!("{table:<34} {rows:>10} rows removed");
        }
        if summary.unknown_chunks > 0 {
            println!(
                "warning: {} ledger row(s) of this run name chunks the transformed files do not have; they were left in place",
                summary.unknown_chunks
            );
        }
    }
    Ok(exit::OK)
}

/// The three data stages, with what every one of them needs.
struct Stages<'a> {
    config: &'a PipelineConfig,
    reporter: &'a progress::Progress,
    quiet: bool,
    threads: Option<usize>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Stages<'_> {
    async fn extract(&self) -> anyhow::Result<u8> {
        let (config, reporter, quiet) = (self.config, self.reporter, self.quiet);
        let options = bptmig_extract::ExtractOptions {
            part_delay: env_millis(PART_DELAY_ENV),
            cancel: self.cancel.clone(),
        };
        let summary = match bptmig_extract::extract(config, reporter, &options).await {
            Ok(s) => s,
            Err(e @ bptmig_extract::Error::Interrupted { .. }) => {
                eprintln!("{e}");
                return Ok(exit::INTERRUPTED);
            }
            Err(e) => return Err(e.into()),
        };
        if !quiet {
            if summary.already_done {
                println!(
                    "extract already complete in `{}` (run {}); nothing to do",
                    config.workdir.display(),
                    summary.run_id
                );
            } else {
                println!(
                    "extract done: run {}, {} top-level processes selected",
                    summary.run_id, summary.roots
                );
            }
            println!("{:<34} {:>10} {:>6}", "table", "rows", "parts");
            for t in &summary.tables {
                println!("{:<34} {:>10} {:>6}", t.table, t.rows, t.parts);
            }
        }
        Ok(exit::OK)
    }

    fn transform(&self) -> anyhow::Result<u8> {
        let (config, reporter, quiet) = (self.config, self.reporter, self.quiet);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.unwrap_or(0))
            .build()?;
        let options = bptmig_transform::TransformOptions {
            cancel: self.cancel.clone(),
            part_delay: env_millis(PART_DELAY_ENV),
        };
        let summary =
            match pool.install(|| bptmig_transform::transform_with(config, reporter, &options)) {
                Ok(s) => s,
                Err(e @ bptmig_transform::Error::Interrupted { .. }) => {
                    eprintln!("{e}");
                    return Ok(exit::INTERRUPTED);
                }
                Err(e) => return Err(e.into()),
            };
        let report = &summary.report;
        if !quiet {
            if summary.already_done {
                println!(
                    "transform already complete in `{}`; nothing to do",
                    config.workdir.display()
                );
            } else {
                println!("transform done: run {}", report.run_id);
            }
            println!("{:<34} {:>10} {:>10}", "table", "rows in", "rows out");
            // In load order, like the other stages' summaries.
            let mut tables: Vec<_> = report.tables.iter().collect();
            tables.sort_by_key(|(name, _)| {
                let rank = bptmig_model::catalog::INSTANCE_TABLES
                    .iter()
                    .position(|t| t.name == name.as_str())
                    .unwrap_or(usize::MAX);
                (rank, name.as_str())
            });
            for (table, t) in tables {
                println!("{table:<34} {:>10} {:>10}", t.rows_in, t.rows_out);
            }
            println!(
                "{} tree(s) skipped, {} user/group reference(s) set to NULL, {} deferred fix-up(s)",
                report.skipped_trees.len(),
                report
                    .tables
                    .values()
                    .map(|t| t.principals_nulled)
                    .sum::<u64>(),
                report.deferred
            );
            if report.problems > 0 {
                println!(
                    "{} finding(s) to review in `{}`",
                    report.problems,
                    config.workdir.join("report.json").display()
                );
            }
        }
        Ok(if report.problems > 0 {
            exit::REVIEW
        } else {
            exit::OK
        })
    }

    async fn load(&self) -> anyhow::Result<u8> {
        let (config, reporter, quiet) = (self.config, self.reporter, self.quiet);
        let options = bptmig_load::LoadOptions {
            chunk_delay: env_millis(CHUNK_DELAY_ENV),
            chunk_pause: None,
            cancel: self.cancel.clone(),
        };
        let summary = match bptmig_load::load(config, reporter, &options).await {
            Ok(s) => s,
            Err(e @ bptmig_load::Error::Interrupted { .. }) => {
                eprintln!("{e}");
                return Ok(exit::INTERRUPTED);
            }
            Err(e) => return Err(e.into()),
        };
        if !quiet {
            println!(
            "load done: run {}, strategy {}, {} chunk(s) loaded, {} already in the ledger, {} deferred reference(s) applied",
            summary.run_id, summary.strategy, summary.chunks_loaded, summary.chunks_skipped, summary.fixups
        );
            println!(
                "{:<34} {:>10} {:>10} {:>10} {:>10}",
                "table", "rows", "loaded", "skipped", "rows/s"
            );
            for t in &summary.tables {
                println!(
                    "{:<34} {:>10} {:>10} {:>10} {:>10.0}",
                    t.table,
                    t.rows,
                    t.loaded,
                    t.skipped,
                    t.rows_per_sec()
                );
            }
            for w in &summary.warnings {
                println!("warning: {w}");
            }
        }
        Ok(exit::OK)
    }
}
