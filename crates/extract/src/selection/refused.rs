//! The extract's refusal of broken trees under `selection.broken_tree = "fail"`.

use std::fmt;
use std::path::PathBuf;

use bptmig_workdir::broken_trees::Tree;

/// Trees listed in full in the message; the rest are counted (all are in the file).
const TREES_SHOWN: usize = 20;
/// Process IDs shown per tree.
const IDS_SHOWN: usize = 10;

/// The selection asks for broken trees and `selection.broken_tree` is `fail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BrokenTreesRefused {
    /// Every broken tree the selection asks for.
    pub trees: Vec<Tree>,
    /// The file that lists them all.
    pub file: PathBuf,
}

impl fmt::Display for BrokenTreesRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.trees.len();
        write!(
            f,
            "the selection holds {n} broken process tree(s) (a parent, parent activity or top \
             process missing, a `TOP_PROCESS_ID` that disagrees with the parent's, a parent \
             cycle), which `broken_tree = \"fail\"` refuses; nothing was extracted. Repair them \
             in the source, or set `broken_tree = \"skip\"` in `[selection]` to leave every \
             process of them behind (each listed in report.json). All are listed in `{}`:",
            self.file.display()
        )?;
        for tree in self.trees.iter().take(TREES_SHOWN) {
            write!(f, "\n  - {}", describe(tree))?;
        }
        if n > TREES_SHOWN {
            write!(f, "\n  - and {} more", n - TREES_SHOWN)?;
        }
        Ok(())
    }
}

/// One tree on one line: its processes, its top, its reason.
fn describe(tree: &Tree) -> String {
    let mut ids: Vec<String> = tree
        .processes
        .iter()
        .take(IDS_SHOWN)
        .map(|id| format!("`{id}`"))
        .collect();
    if tree.processes.len() > IDS_SHOWN {
        ids.push(format!("and {} more", tree.processes.len() - IDS_SHOWN));
    }
    let top = tree.top.map_or_else(
        || "no top-level process".to_owned(),
        |t| format!("top `{t}`"),
    );
    format!(
        "processes {} ({top}): {} ({})",
        ids.join(", "),
        tree.detail,
        tree.reason.code()
    )
}

#[cfg(test)]
mod tests {
    use bptmig_workdir::broken_trees::Reason;

    use super::*;

    fn tree(first: i32, len: i32, top: Option<i32>) -> Tree {
        Tree {
            top,
            processes: (first..first + len).collect(),
            reason: Reason::MissingParent,
            detail: format!(
                "process `{first}` names parent process `1`, which the source does not have"
            ),
        }
    }

    #[test]
    fn the_message_names_each_tree_its_reason_and_the_way_out() {
        let e = BrokenTreesRefused {
            trees: vec![tree(10, 2, Some(10)), tree(20, 12, None)],
            file: PathBuf::from("work/extract/broken_trees.json"),
        };
        let text = e.to_string();
        assert!(text.contains("2 broken process tree(s)"), "{text}");
        assert!(text.contains("`broken_tree = \"skip\"`"), "{text}");
        assert!(text.contains("`work/extract/broken_trees.json`"), "{text}");
        assert!(
            text.contains("  - processes `10`, `11` (top `10`): process `10` names parent process `1`, which the source does not have (missing_parent)"),
            "{text}"
        );
        assert!(
            text.contains("`29`, and 2 more (no top-level process)"),
            "{text}"
        );
    }

    #[test]
    fn many_trees_are_counted_past_the_first_ones() {
        let e = BrokenTreesRefused {
            trees: (0..25).map(|i| tree(100 * i, 1, None)).collect(),
            file: PathBuf::from("b.json"),
        };
        let text = e.to_string();
        assert_eq!(text.matches("  - processes").count(), TREES_SHOWN);
        assert!(text.ends_with("\n  - and 5 more"), "{text}");
    }
}
