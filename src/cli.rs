//! The command line: global runtime knobs and one subcommand per stage (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Migrate OutSystems 11 BPT process history (processes, activities, their inputs,
/// outputs and event subscriptions) from one platform database to another, through Parquet.
#[derive(Parser, Debug)]
#[command(name = "bptmig", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// Runtime knobs; everything that defines the data movement is in the pipeline file.
#[derive(Args, Debug)]
pub struct RuntimeArgs {
    /// Worker threads for the parallel stages (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Print only errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (repeat for more).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log format: `text` for people, `json` (one object per line) for schedulers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct PipelineArg {
    /// The pipeline file (TOML) that defines the migration.
    #[arg(long, short, value_name = "FILE")]
    pub pipeline: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Pre-flight: connectivity, rights, queues empty, definitions and users mapped, identities.
    Check(CheckArgs),
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
    /// Write one moved table's old -> new IDs, for migrating application data that points at them.
    #[command(long_about = MAPS_ABOUT)]
    Maps(MapsArgs),
}

/// `bptmig maps --help`: what the file holds and guarantees (README, "ID maps").
const MAPS_ABOUT: &str = "Write one moved table's old -> new IDs, for migrating application data \
that points at them.

The file has one row per row this run moves (`old_id,new_id`, sorted by old_id; old and new \
IDs each unique): trees left behind (unmapped definitions, broken trees) are absent, and once \
the load has left out trees the target already held, the map is refused. The new IDs are the \
ones the load writes: valid once `bptmig load` has finished and `bptmig verify` passed, and \
the same on a rerun of the same plan. A map published here can be given back to a pipeline as \
a `[mapping.entity_maps]` file.";

/// `bptmig check`: the pipeline, and whether to probe the target.
#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    /// Also round-trip what the load relies on (explicit IDs, bulk copy, date/times at full
    /// precision, long texts) through session temporary tables shaped like the target's
    /// instance tables, and say per strategy whether it works. Writes nothing permanent.
    #[arg(long)]
    pub probe: bool,
}

/// `bptmig maps`: which table, in which format, where.
#[derive(Args, Debug)]
pub struct MapsArgs {
    #[command(flatten)]
    pub pipeline: PipelineArg,
    /// The instance table, as the model or the platform spells it, in any case
    /// (`OSSYS_BPM_PROCESS`, `ossys_BPM_Activity`, ...).
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    /// Output format (default: from the `--out` extension, else csv; parquet needs `--out`).
    #[arg(long, value_enum)]
    pub format: Option<MapFormat>,
    /// Write here, atomically (default: CSV to stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The formats `[mapping.entity_maps]` reads back.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapFormat {
    /// `old_id,new_id` with a header line.
    Csv,
    /// Columns `old_id`, `new_id` (Int64, non-null).
    Parquet,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Check(_) => "check",
            Command::Extract(_) => "extract",
            Command::Transform(_) => "transform",
            Command::Load(_) => "load",
            Command::Run(_) => "run",
            Command::Status { .. } => "status",
            Command::Verify(_) => "verify",
            Command::Rollback(_) => "rollback",
            Command::Maps(_) => "maps",
        }
    }

    pub fn pipeline(&self) -> &PipelineArg {
        match self {
            Command::Check(CheckArgs { pipeline: p, .. })
            | Command::Extract(p)
            | Command::Transform(p)
            | Command::Load(p)
            | Command::Run(p)
            | Command::Verify(p)
            | Command::Rollback(p)
            | Command::Status { pipeline: p, .. }
            | Command::Maps(MapsArgs { pipeline: p, .. }) => p,
        }
    }

    /// Whether the command runs a data stage, which SIGINT/SIGTERM stop at its next part or
    /// chunk boundary.
    pub fn stops_at_boundaries(&self) -> bool {
        matches!(
            self,
            Command::Extract(_) | Command::Transform(_) | Command::Load(_) | Command::Run(_)
        )
    }
}
