//! `bptmig-sandbox`: start seeded prod and qa sandbox environments for the demo and by hand.

use std::process::ExitCode;

use anyhow::Context as _;
use bptmig_model::catalog as c;
use bptmig_sandbox::generator::CANDIDATE_EVENT_TABLE;
use bptmig_sandbox::shapes::{JOB_OFFER_EVENT_TABLE, USER_EVENT_TABLE};
use bptmig_sandbox::{sql, EnvKind, EnvSpec, Environment, ServerOptions, DEFAULT_PASSWORD};
use clap::{Parser, Subcommand};

/// Local SQL-Server-compatible OutSystems environments for trying bptmig.
#[derive(Parser)]
#[command(name = "bptmig-sandbox", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start and seed "prod" and "qa", print their connection strings and a line with
    /// `ready`, then serve until Ctrl-C.
    Up(UpArgs),
    /// Write a work directory in the extract stage's format directly as Parquet (no server),
    /// at any size: prod's history as the source, a small qa as the target.
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// The work directory to create (must not exist or be empty).
    #[arg(long)]
    out: std::path::PathBuf,
    /// Top-level processes (about 8 activities each, sub-processes included).
    #[arg(long)]
    processes: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = EnvSpec::default().seed)]
    seed: u64,
    /// Rows per part file.
    #[arg(long, default_value_t = 1_000_000)]
    part_rows: usize,
    /// Rows per row group.
    #[arg(long, default_value_t = 65_536)]
    row_group_rows: usize,
    /// Leave out the shapes of a real platform (identifier values of system entities, the
    /// job-offer and user event tables): the data of earlier versions.
    #[arg(long)]
    no_platform_shapes: bool,
}

#[derive(clap::Args)]
struct UpArgs {
    /// Port of prod (the demo pipeline's source).
    #[arg(long, default_value_t = 14331)]
    prod_port: u16,
    /// Port of qa (the demo pipeline's target).
    #[arg(long, default_value_t = 14332)]
    qa_port: u16,
    /// Top-level processes of prod's history (about 8 activities each, sub-processes included).
    #[arg(long, default_value_t = 300)]
    processes: usize,
    /// Seed of the generator: the same seed gives the same rows.
    #[arg(long, default_value_t = EnvSpec::default().seed)]
    seed: u64,
    /// Leave an unprocessed event in prod's queue (to see the pre-flight refuse).
    #[arg(long)]
    pending_event: bool,
    /// Print the summary and stop instead of serving.
    #[arg(long)]
    once: bool,
    /// Leave out the shapes of a real platform (identifier values of system entities, the
    /// job-offer and user event tables, broken trees): the data of earlier versions.
    #[arg(long)]
    no_platform_shapes: bool,
}

/// Tables the summary counts, with a short label.
const SUMMARY: &[(&str, &str)] = &[
    (c::PROCESS, "processes"),
    (c::ACTIVITY, "activities"),
    (c::PROCESS_INPUT, "process inputs"),
    (c::PROCESS_OUTPUT, "process outputs"),
    (c::ACTIVITY_OUTPUT, "activity outputs"),
    (CANDIDATE_EVENT_TABLE, "event subscriptions"),
    (JOB_OFFER_EVENT_TABLE, "job-offer subscriptions"),
    (USER_EVENT_TABLE, "user subscriptions"),
    (c::PROCESS_DEFINITION, "process definitions"),
    (c::ACTIVITY_DEFINITION, "activity definitions"),
    (c::USER, "users"),
    (c::GROUP, "groups"),
    (c::TENANT, "tenants"),
    (c::EVENT_QUEUE, "queued events"),
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up(args).await,
        Command::Generate(args) => generate(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let spec = EnvSpec {
        seed: args.seed,
        processes: args.processes,
        pending_event: args.pending_event,
        platform_shapes: !args.no_platform_shapes,
        ..EnvSpec::default()
    };
    let password =
        std::env::var("BPTMIG_DEMO_PASSWORD").unwrap_or_else(|_| DEFAULT_PASSWORD.to_owned());
    let options = |port| ServerOptions {
        port,
        password: password.clone(),
        ..ServerOptions::default()
    };
    let prod = Environment::start_with(EnvKind::Prod, &spec, &options(args.prod_port))
        .await
        .with_context(|| format!("starting prod on port {}", args.prod_port))?;
    let qa = Environment::start_with(EnvKind::Qa, &spec, &options(args.qa_port))
        .await
        .with_context(|| format!("starting qa on port {}", args.qa_port))?;

    println!(
        "prod  {}",
        prod.server.connection_template("BPTMIG_DEMO_PASSWORD")
    );
    println!(
        "qa    {}",
        qa.server.connection_template("BPTMIG_DEMO_PASSWORD")
    );
    println!("export BPTMIG_DEMO_PASSWORD='{password}'   # sandbox only, guards nothing");
    println!();
    print_summary(&prod, &qa).await?;
    println!();
    if args.once {
        println!("ready (stopping: --once)");
        return Ok(());
    }
    println!("ready: serving prod and qa until Ctrl-C");
    shutdown_signal().await;
    println!("stopping");
    Ok(())
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let opts = bptmig_sandbox::workdir::GenerateOptions {
        out: args.out.clone(),
        spec: EnvSpec {
            seed: args.seed,
            processes: args.processes,
            platform_shapes: !args.no_platform_shapes,
            ..EnvSpec::default()
        },
        part_rows: args.part_rows,
        row_group_rows: args.row_group_rows,
    };
    let tables = bptmig_sandbox::workdir::generate_workdir(&opts)?;
    let rows: u64 = tables.iter().map(|t| t.rows).sum();
    println!("{:<34} {:>12} {:>6}", "table", "rows", "parts");
    for t in &tables {
        println!("{:<34} {:>12} {:>6}", t.table, t.rows, t.parts);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote `{}`: {rows} rows in {secs:.1} s ({:.0} rows/s)",
        args.out.display(),
        rows as f64 / secs.max(1e-9)
    );
    Ok(())
}

async fn print_summary(prod: &Environment, qa: &Environment) -> anyhow::Result<()> {
    let mut p = prod.connect().await?;
    let mut q = qa.connect().await?;
    println!("{:<22} {:>8} {:>8}", "", "prod", "qa");
    for (table, label) in SUMMARY {
        let count = format!("SELECT COUNT(*) FROM {table}");
        let pn = sql::scalar_i64(&mut p, &count).await?;
        let qn = sql::scalar_i64(&mut q, &count).await?;
        println!("{label:<22} {pn:>8} {qn:>8}");
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
