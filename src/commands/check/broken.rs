//! Broken trees among those the selection asks for, which `[selection] broken_tree` refuses
//! or leaves out.

use bptmig_model::pipeline::BrokenTree;
use bptmig_model::PipelineConfig;
use bptmig_workdir::broken_trees::Tree;

use super::line::{describe, line, list, Line, Verdict};
use super::server::Server;
use super::Selected;

const CHECK: &str = "broken trees";

/// One line: how many broken trees (a parent, parent activity or top process missing, a top
/// that disagrees with the parent's, a parent cycle) the selection asks for, found as the
/// extract finds them, and what `[selection] broken_tree` will do with them.
pub async fn broken_trees(
    config: &PipelineConfig,
    source: &mut Server<'_>,
    selected: &mut Selected,
    out: &mut Vec<Line>,
) {
    let Some(client) = source.client(CHECK, out) else {
        return;
    };
    match selected.get(client, &config.selection).await {
        Ok(read) => out.push(verdict_line(
            config.selection.broken_tree,
            &read.trees.broken,
        )),
        Err(bptmig_extract::Error::Db(e)) => out.push(source.failed(CHECK, e)),
        Err(e) => out.push(line(CHECK, Verdict::Block, describe(e))),
    }
}

fn verdict_line(policy: BrokenTree, broken: &[Tree]) -> Line {
    if broken.is_empty() {
        return line(CHECK, Verdict::Ok, "none among the selected trees");
    }
    let processes: usize = broken.iter().map(|t| t.processes.len()).sum();
    let what = format!(
        "{} broken tree(s) among the selected, {processes} process(es) in all: {}",
        broken.len(),
        list(broken.iter().map(describe_tree))
    );
    match policy {
        BrokenTree::Skip => line(
            CHECK,
            Verdict::Note,
            format!(
                "{what}; `broken_tree = \"skip\"` will leave every process of them behind and \
                 list them in report.json"
            ),
        ),
        BrokenTree::Fail => line(
            CHECK,
            Verdict::Block,
            format!(
                "{what}; `broken_tree = \"fail\"` refuses the extract: repair them in the \
                 source, or set it to \"skip\" to leave them out"
            ),
        ),
    }
}

/// A tree in a few words: its first process and its reason code.
fn describe_tree(tree: &Tree) -> String {
    let first = tree.processes.first().copied().unwrap_or_default();
    match tree.processes.len() {
        1 => format!("process {first} ({})", tree.reason.code()),
        n => format!("processes {first}… ({n}, {})", tree.reason.code()),
    }
}

#[cfg(test)]
mod tests {
    use bptmig_workdir::broken_trees::Reason;

    use super::*;

    fn tree(processes: Vec<i32>, reason: Reason) -> Tree {
        Tree {
            top: processes.first().copied(),
            processes,
            reason,
            detail: String::new(),
        }
    }

    #[test]
    fn the_verdict_follows_the_policy() {
        let none = verdict_line(BrokenTree::Fail, &[]);
        assert_eq!(none.verdict, Verdict::Ok);
        let trees = [
            tree(vec![5, 6], Reason::MissingParent),
            tree(vec![9], Reason::Cycle),
        ];
        let fail = verdict_line(BrokenTree::Fail, &trees);
        assert_eq!(fail.verdict, Verdict::Block);
        assert!(
            fail.detail.starts_with(
                "2 broken tree(s) among the selected, 3 process(es) in all: processes 5… (2, \
                 missing_parent), process 9 (cycle); `broken_tree = \"fail\"` refuses"
            ),
            "{}",
            fail.detail
        );
        let skip = verdict_line(BrokenTree::Skip, &trees);
        assert_eq!(skip.verdict, Verdict::Note);
        assert!(
            skip.detail.contains("`broken_tree = \"skip\"` will leave"),
            "{}",
            skip.detail
        );
    }
}
