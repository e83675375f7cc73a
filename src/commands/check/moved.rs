//! Trees the target already received from this source, which the load's `already_moved`
//! policy will skip or refuse.

use bptmig_load::{already_moved, SourceRoot};
use bptmig_model::pipeline::AlreadyMoved;
use bptmig_model::PipelineConfig;

use super::line::{describe, line, Line, Verdict};
use super::server::Server;

const CHECK: &str = "trees already in the target";

/// One line: how many selected trees the target's tree ledger already holds from this source
/// (moved by other runs), and what `[selection] already_moved` will do with them.
pub async fn already_in_target(
    config: &PipelineConfig,
    source: &mut Server<'_>,
    out: &mut Vec<Line>,
) {
    let Some(client) = source.client(CHECK, out) else {
        return;
    };
    let roots = match bptmig_extract::selection::selected_roots(client, &config.selection).await {
        Ok(roots) => roots,
        Err(bptmig_extract::Error::Db(e)) => {
            out.push(source.failed(CHECK, &e));
            return;
        }
        Err(e) => {
            out.push(line(CHECK, Verdict::Block, describe(&e)));
            return;
        }
    };
    let roots: Vec<SourceRoot> = roots
        .into_iter()
        .map(|(id, last_modified)| SourceRoot { id, last_modified })
        .collect();
    let count = match already_moved(config, &roots).await {
        Ok(count) => count,
        Err(e) => {
            out.push(line(
                CHECK,
                Verdict::Note,
                format!("could not read the target's tree ledger: {}", describe(&e)),
            ));
            return;
        }
    };
    out.push(verdict_line(
        config.selection.already_moved,
        roots.len(),
        &count,
    ));
}

fn verdict_line(
    policy: AlreadyMoved,
    selected: usize,
    count: &bptmig_load::AlreadyMovedCount,
) -> Line {
    if count.trees == 0 {
        return line(
            CHECK,
            Verdict::Ok,
            format!("none of the {selected} selected tree(s)"),
        );
    }
    let what = format!(
        "{} of the {selected} selected tree(s) were moved there by run(s) {} ({} changed in the \
         source since)",
        count.trees,
        count.runs.join(", "),
        count.changed_since
    );
    match policy {
        AlreadyMoved::Skip => line(
            CHECK,
            Verdict::Note,
            format!("{what}; `already_moved = \"skip\"` will leave them out and list them in report.json"),
        ),
        AlreadyMoved::Fail => line(
            CHECK,
            Verdict::Block,
            format!("{what}; `already_moved = \"fail\"` refuses the run: set it to \"skip\" to leave them out"),
        ),
    }
}
