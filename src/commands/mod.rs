//! One module per command; each turns a library result into the lines a person reads and an
//! [`Outcome`].

use crate::cli::Command;
use crate::settings::Settings;

mod check;
mod extract;
mod load;
mod maps;
mod rollback;
mod run;
mod status;
mod transform;
mod verify;

/// How a command ended, short of an error (README, "Exit codes"); ordered from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Exit code 0.
    Done,
    /// Exit code 1: finished, with data problems to review.
    Review,
    /// Exit code 130: stopped at a part or chunk boundary; the same command resumes.
    Interrupted,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Review => 1,
            Outcome::Interrupted => 130,
        }
    }
}

pub fn run(command: &Command, settings: &Settings) -> anyhow::Result<Outcome> {
    match command {
        Command::Check(args) => Ok(check::run(settings, args.probe)),
        Command::Extract(_) => extract::run(settings),
        Command::Transform(_) => transform::run(settings),
        Command::Load(_) => load::run(settings),
        Command::Run(_) => run::run(settings),
        Command::Status { json, .. } => status::run(settings, *json),
        Command::Verify(_) => verify::run(settings),
        Command::Rollback(_) => rollback::run(settings),
        Command::Maps(args) => maps::run(settings, args),
    }
}

/// A stage's error that may be an interruption rather than a failure.
trait StageError: std::error::Error + Send + Sync + 'static {
    fn is_interrupted(&self) -> bool;
}

impl StageError for bptmig_extract::Error {
    fn is_interrupted(&self) -> bool {
        matches!(self, Self::Interrupted { .. })
    }
}

impl StageError for bptmig_transform::Error {
    fn is_interrupted(&self) -> bool {
        matches!(self, Self::Interrupted { .. })
    }
}

impl StageError for bptmig_load::Error {
    fn is_interrupted(&self) -> bool {
        matches!(self, Self::Interrupted { .. })
    }
}

/// The stage's summary, or `None` when an interrupt stopped it: its message, which tells how
/// to resume, is then printed to stderr and the command ends with [`Outcome::Interrupted`].
fn unless_interrupted<T, E: StageError>(result: Result<T, E>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(summary) => Ok(Some(summary)),
        Err(e) if e.is_interrupted() => {
            eprintln!("{e}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
