//! `bptmig check`: pre-flight on both sides, printed as a table; exit 1 when anything blocks.
//!
//! Every check is a [`Line`] with a [`Verdict`]. A server that does not answer a check in time
//! or drops the connection leaves it "could not tell" ([`Verdict::Unknown`], printed `warn`),
//! never BLOCK: the check learned nothing about what it checks ([`server::Server`]).
//!
//! * [`server`]: connections, queues, the load's permissions, ID room;
//! * [`id_block`]: rows the target gained inside the run's ID block, which the load refuses;
//! * [`mapping`]: definitions, users, groups and tenants of the selected trees;
//! * [`broken`]: broken trees among the selected, which `broken_tree` refuses or leaves out;
//! * [`workdir`]: the work directory's run.

use bptmig_db::Side;
use bptmig_model::PipelineConfig;

use super::Outcome;
use crate::settings::Settings;

mod broken;
mod id_block;
mod line;
mod mapping;
mod moved;
mod server;
mod workdir;

pub use line::{Line, Verdict};
use server::Server;

/// `bptmig check`: runs every check and prints the table; [`Outcome::Review`] when anything
/// blocks.
pub fn run(settings: &Settings) -> Outcome {
    let lines = settings.runtime.block_on(check(&settings.config));
    if print(&lines) {
        Outcome::Review
    } else {
        Outcome::Done
    }
}

/// Runs every check; never fails (a failure is a line).
pub async fn check(config: &PipelineConfig) -> Vec<Line> {
    let mut out = Vec::new();
    let mut source = Server::connect(Side::Source, config, &mut out).await;
    let mut target = Server::connect(Side::Target, config, &mut out).await;
    server::queues(&mut source, &mut out).await;
    server::queues(&mut target, &mut out).await;
    server::permissions(config, &mut target, &mut out).await;
    // ID room and mapping need both sides.
    server::id_room(&mut source, &mut target, &mut out).await;
    id_block::id_block(config, &mut target, &mut out).await;
    mapping::mapping(config, &mut source, &mut target, &mut out).await;
    moved::already_in_target(config, &mut source, &mut out).await;
    broken::broken_trees(config, &mut source, &mut out).await;
    workdir::workdir(config, &mut out);
    out
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
            "nothing found that blocks a run, but {unknown} check(s) could not tell (`warn`); \
             run `bptmig check` again"
        );
    } else {
        println!("nothing blocks a run");
    }
    blocking > 0
}
