//! `bptmig check`: pre-flight on both sides, printed as a table; exit 1 when anything blocks.
//!
//! Every check is a [`Line`] with a [`Verdict`]. A server that does not answer a check in time
//! or drops the connection leaves it "could not tell" ([`Verdict::Unknown`], printed `warn`),
//! never BLOCK: the check learned nothing about what it checks ([`server::Server`]).
//!
//! * [`server`]: connections, queues;
//! * [`id_block`]: rows the target gained inside the run's ID block, which the load refuses;
//! * [`mapping`]: definitions, users, groups and tenants of the selected trees;
//! * [`broken`]: broken trees among the selected, which `broken_tree` refuses or leaves out;
//! * [`references`]: identifiers inside values that `unmoved_reference` refuses, nulls or keeps;
//! * [`identity`]: each instance table's identity now, the block, the identity after the load;
//!   a reseeded source's tables, numbered in creation order;
//! * [`rights`]: every right the chosen strategy needs, and whether the login has it;
//! * [`strategy`]: the ID strategy the run uses (`auto` decided);
//! * [`scheduler`]: moved processes the target's scheduler will never run, or run at once;
//! * [`anonymize`]: each `[anonymize]` rule previewed on a few sample rows (replacements only);
//! * [`probe`] (`--probe`): the load's own paths round-tripped on session temporary tables;
//! * [`workdir`]: the work directory's run.
//!
//! The lines about the selected trees share one reading of them ([`Selected`]): the
//! processes' key columns are read once per check, however many lines need them.

use bptmig_db::{Names, Side, SqlClient};
use bptmig_extract::selection::{select_trees, SelectedTrees};
use bptmig_model::pipeline::Selection;
use bptmig_model::PipelineConfig;

use super::Outcome;
use crate::settings::Settings;

mod anonymize;
mod broken;
mod id_block;
mod identity;
mod line;
mod mapping;
mod moved;
mod probe;
mod references;
mod rights;
mod scheduler;
mod server;
mod snapshots;
mod strategy;
mod workdir;

pub use line::{Line, Verdict};
use server::Server;

/// `bptmig check`: runs every check and prints the table; [`Outcome::Review`] when anything
/// blocks.
pub fn run(settings: &Settings, probe: bool) -> Outcome {
    let lines = settings.runtime.block_on(check(&settings.config, probe));
    if print(&lines) {
        Outcome::Review
    } else {
        Outcome::Done
    }
}

/// Runs every check (with `probe`, the probe too); never fails (a failure is a line).
pub async fn check(config: &PipelineConfig, probe: bool) -> Vec<Line> {
    let mut out = Vec::new();
    let mut source = Server::connect(Side::Source, config, &mut out).await;
    let mut target = Server::connect(Side::Target, config, &mut out).await;
    server::queues(&mut source, &mut out).await;
    server::queues(&mut target, &mut out).await;
    rights::rights(config, &mut source, &mut target, &mut out).await;
    strategy::strategy(config, &mut target, &mut out).await;
    // Identity and mapping need both sides.
    identity::identity(config, &mut target, &mut out).await;
    identity::source_order(config, &mut source, &mut out).await;
    id_block::id_block(config, &mut target, &mut out).await;
    let mut selected = Selected::default();
    mapping::mapping(config, &mut source, &mut target, &mut selected, &mut out).await;
    moved::already_in_target(config, &mut source, &mut selected, &mut out).await;
    broken::broken_trees(config, &mut source, &mut selected, &mut out).await;
    let sides = (&mut source, &mut target);
    references::unmoved_values(config, sides, &mut selected, &mut out).await;
    scheduler::scheduler(config, (&mut source, &mut target), &mut selected, &mut out).await;
    anonymize::preview(config, &mut source, &mut selected, &mut out).await;
    if probe {
        probe::probe(config, &mut target, &mut out).await;
    }
    workdir::workdir(config, &mut out);
    out
}

/// The source's table names and the trees the selection selects there.
pub struct Trees {
    pub names: Names,
    pub trees: SelectedTrees,
}

/// The selected trees, read by the first line that needs them ([`Selected::get`]) and
/// shared by the others, failure included: the line that meets a failure reports it (a
/// transient one drops the session, so the later lines say they were skipped).
#[derive(Default)]
pub struct Selected {
    read: Option<Result<Trees, bptmig_extract::Error>>,
}

impl Selected {
    /// The selected trees, read on `client` the first time.
    pub async fn get(
        &mut self,
        client: &mut SqlClient,
        sel: &Selection,
    ) -> &Result<Trees, bptmig_extract::Error> {
        let read = match self.read.take() {
            Some(read) => read,
            None => read_trees(client, sel).await,
        };
        self.read.insert(read)
    }
}

async fn read_trees(
    client: &mut SqlClient,
    sel: &Selection,
) -> Result<Trees, bptmig_extract::Error> {
    let names = Names::read(client, Side::Source).await?;
    let trees = select_trees(client, &names, sel).await?;
    Ok(Trees { names, trees })
}

/// Prints the table; returns whether anything blocks.
pub fn print(lines: &[Line]) -> bool {
    let width = lines.iter().map(|l| l.check.len()).max().unwrap_or(10);
    for l in lines {
        println!(
            "{:<width$}  {:<5}  {}",
            l.check,
            l.verdict.as_str(),
            l.detail
        );
    }
    let count = |v: Verdict| lines.iter().filter(|l| l.verdict == v).count();
    let (blocking, unknown) = (count(Verdict::Block), count(Verdict::Unknown));
    if blocking > 0 {
        println!("{blocking} check(s) block a run");
    } else if unknown > 0 {
        println!(
            "nothing found that blocks a run, but {unknown} check(s) could not tell (`warn`): \
             see their lines"
        );
    } else {
        println!("nothing blocks a run");
    }
    blocking > 0
}
