#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;

use bptmig_model::catalog as c;
use bptmig_workdir::WorkDir;

use super::{chunk_statements, generated_statements};
use crate::id_maps::captured::CapturedPairs;
use crate::id_maps::tests::plan_of;
use crate::ledger::{LedgerRow, LedgerTables};
use crate::plan::Fixup;

fn row(chunk: &str) -> LedgerRow {
    LedgerRow {
        table: c::ACTIVITY.into(),
        chunk: chunk.into(),
        rows: 3,
        digest: String::new(),
    }
}

#[test]
fn a_generated_chunk_is_removed_by_the_ids_the_target_gave_its_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let wd = WorkDir::new(tmp.path());
    let mut plan = plan_of(&wd, c::ACTIVITY, &[vec![(1, 2)], vec![(3, 5)]]);
    // Row 1 (in the first chunk) points forward at row 4: set in the second chunk.
    plan.chunks[1].fixups.push(Fixup {
        table: c::ACTIVITY.into(),
        spelled: c::ACTIVITY.into(),
        column: c::PRECEDENT_ACTIVITY_ID.into(),
        id: 1,
        value: 4,
    });
    let (pairs, problems) = CapturedPairs::new(
        "X_PAIRS",
        BTreeMap::from([(
            c::ACTIVITY.to_owned(),
            vec![(1, 71), (2, 70), (3, 90), (4, 91), (5, 95)],
        )]),
    );
    assert!(problems.is_empty());
    let tables = LedgerTables::new("X");
    let chunk = &plan.chunks[1];
    let name = chunk.name();
    let sql = generated_statements(&plan, chunk, &tables, "run", &row(&name), &pairs);
    assert_eq!(
        sql,
        [
            "UPDATE [OSSYS_BPM_ACTIVITY] SET [PRECEDENT_ACTIVITY_ID] = NULL WHERE ID = 71;"
                .to_owned(),
            "DELETE FROM [OSSYS_BPM_ACTIVITY] WHERE (ID BETWEEN 90 AND 91) OR (ID = 95);"
                .to_owned(),
            format!(
                "DELETE FROM [X_PAIRS] WHERE RUN_ID = N'run' AND TABLE_NAME = \
                 N'OSSYS_BPM_ACTIVITY' AND CHUNK = N'{name}';"
            ),
            format!(
                "DELETE FROM [X] WHERE RUN_ID = N'run' AND TABLE_NAME = N'OSSYS_BPM_ACTIVITY' \
                 AND CHUNK = N'{name}';"
            ),
        ]
    );
    // Renumbered, the same chunk goes by its own IDs, and there are no pairs to forget.
    let sql = chunk_statements(&plan, chunk, &tables, "run", &row(&name));
    assert_eq!(sql.len(), 3, "{sql:?}");
    assert!(sql[0].ends_with("WHERE ID = 1;"), "{}", sql[0]);
    assert_eq!(
        sql[1],
        "DELETE FROM [OSSYS_BPM_ACTIVITY] WHERE ID BETWEEN 3 AND 5;"
    );
    assert!(!sql.iter().any(|s| s.contains("PAIRS")), "{sql:?}");
}
