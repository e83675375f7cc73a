//! Trees the target already received from this source, which the load's `already_moved`
//! policy will skip or refuse.

use bptmig_load::{already_moved, SourceRoot};
use bptmig_model::pipeline::AlreadyMoved;
use bptmig_model::PipelineConfig;

use super::line::{describe, line, Line, Verdict};
use super::server::Server;
use super::Selected;

const CHECK: &str = "trees already in the target";

/// One line: how many selected trees the target's tree ledger already holds from this source
/// (moved by other runs), and what `[selection] already_moved` will do with them.
pub async fn already_in_target(
    config: &PipelineConfig,
    source: &mut Server<'_>,
    selected: &mut Selected,
    out: &mut Vec<Line>,
) {
    let Some(client) = source.client(CHECK, out) else {
        return;
    };
    let sel = &config.selection;
    let roots = match selected.get(client, sel).await {
        Ok(read) => {
            bptmig_extract::selection::selected_roots(client, &read.names, sel, &read.trees).await
        }
        Err(e) => return out.push(selection_failed(source, e)),
    };
    let roots = match roots {
        Ok(roots) => roots,
        Err(e) => return out.push(selection_failed(source, &e)),
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

/// The line of a selection that failed with `error`: "could not tell" when the source did
/// not answer ([`Server::failed`]), else BLOCK.
fn selection_failed(source: &mut Server<'_>, error: &bptmig_extract::Error) -> Line {
    match error {
        bptmig_extract::Error::Db(e) => source.failed(CHECK, e),
        e => line(CHECK, Verdict::Block, describe(e)),
    }
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
