use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use bptmig_model::catalog as c;
use bptmig_workdir::sql_type::{CatalogColumn, ColumnPlan};
use bptmig_workdir::Manifest;

use super::*;
use crate::plan::Fixup;
use crate::writer::insert::insert_header_as;
use crate::writer::transaction::fixup_batches;

/// The subscription table as the transformed Parquet names it: the source spelled the
/// attribute `btCandidateID`, the target spells it `btCandidateId`.
fn subscriptions() -> TableInput {
    let name = "OSEVT_OSUSR_3AR_CANDIDATE";
    TableInput {
        name: name.to_owned(),
        spelled: "OSEVT_osusr_3ar_Candidate".to_owned(),
        model: c::osevt_table(bptmig_model::graph::OSEVT_NODE),
        dir: PathBuf::from("/nowhere"),
        manifest: Manifest {
            table: name.to_owned(),
            run_id: "run".into(),
            key: None,
            columns: Vec::new(),
            complete: true,
            parts: Vec::new(),
        },
        columns: vec![c::EVT_ACTIVITY_ID.to_owned(), "btCandidateID".to_owned()],
    }
}

fn int_column(name: &str) -> CatalogColumn {
    CatalogColumn {
        name: name.to_owned(),
        data_type: "int".into(),
        char_max_len: None,
        numeric_precision: Some(10),
        numeric_scale: Some(0),
        datetime_precision: None,
        nullable: true,
    }
}

/// The target's columns of the subscription table, in another order than the Parquet's.
fn live() -> Vec<CatalogColumn> {
    vec![int_column("btCandidateId"), int_column("_Activity_Id")]
}

fn live_names() -> Vec<String> {
    live().into_iter().map(|l| l.name).collect()
}

#[test]
fn columns_take_the_targets_spelling_in_any_case() {
    let t = subscriptions();
    assert_eq!(
        spell_columns(&t.columns, &live_names()),
        vec!["_Activity_Id".to_owned(), "btCandidateId".to_owned()]
    );
    // A column the target lacks keeps its name (the preflight names it).
    let mut lacking = t.columns.clone();
    lacking.push("OTHER".into());
    assert_eq!(spell_columns(&lacking, &live_names())[2], "OTHER");
}

/// Every column list the load sends names a column as the target spells it: the insert
/// header, the read-back, the fix-up UPDATEs; the Parquet's spelling never reaches the SQL.
#[test]
fn statements_name_columns_as_the_target_spells_them() {
    let t = subscriptions();
    let spelled = spell_columns(&t.columns, &live_names());
    let mut sql = vec![insert_header_as(&t, &spelled)];
    let live = live();
    let plans: Vec<ColumnPlan> = t
        .columns
        .iter()
        .filter_map(|n| db::find_column(&live, n))
        .map(|l| ColumnPlan::from_catalog(&t.name, l).unwrap())
        .collect();
    sql.extend(read_back_sql(&t, &plans, &[(10, 20), (30, 30)]));
    let fixup = Fixup {
        table: t.name.clone(),
        spelled: t.spelled.clone(),
        column: "btCandidateID".into(),
        id: 10,
        value: 30,
    };
    sql.extend(fixup_batches(&[fixup.spelled_as(&live_names())]));
    let text = sql.join("\n");
    assert!(
        text.starts_with(
            "INSERT INTO [OSEVT_osusr_3ar_Candidate] ([_Activity_Id], [btCandidateId]) VALUES "
        ),
        "{text}"
    );
    assert!(
        text.contains("WHERE (_Activity_Id BETWEEN 10 AND 20)"),
        "{text}"
    );
    assert!(text.contains("SET [btCandidateId] = 30"), "{text}");
    assert!(
        !text.contains("btCandidateID"),
        "the Parquet's spelling in:\n{text}"
    );
    assert!(
        !text.contains(c::EVT_ACTIVITY_ID),
        "an upper-case name in:\n{text}"
    );
}

/// Read back under the target's names, the rows carry the Parquet's names again, which
/// verify compares by.
#[test]
fn read_back_batches_are_named_as_transformed() {
    let t = subscriptions();
    let schema = Schema::new(vec![
        Field::new("_Activity_Id", DataType::Int32, true),
        Field::new("btCandidateId", DataType::Int32, true),
    ]);
    let b = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int32Array::from(vec![10])),
            Arc::new(Int32Array::from(vec![7])),
        ],
    )
    .unwrap();
    let renamed = named_as_transformed(&t, b).unwrap();
    let names: Vec<&str> = renamed
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, vec![c::EVT_ACTIVITY_ID, "btCandidateID"]);
    assert_eq!(int_value(&renamed, "btCandidateID", 0), Some(7));
}

/// On the sandbox (whose strings compare case-sensitively) the target's columns of a table
/// are found by the name its catalog spells, and each transformed column takes that spelling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_columns_are_read_by_the_catalogs_spelling_on_the_sandbox() {
    let spec = bptmig_sandbox::EnvSpec {
        processes: 1,
        ..bptmig_sandbox::EnvSpec::default()
    };
    let qa = bptmig_sandbox::Environment::start(bptmig_sandbox::EnvKind::Qa, &spec)
        .await
        .unwrap();
    let mut client = qa.connect().await.unwrap();
    let names = db::Names::read(&mut client, Side::Target).await.unwrap();
    let spelled = names.spelled(c::PROCESS).unwrap().to_owned();
    let live = live_columns(&mut client, &spelled).await.unwrap();
    assert!(live.iter().any(|n| n == c::ID), "{spelled}: {live:?}");
    assert!(live.iter().any(|n| n == c::TOP_PROCESS_ID), "{live:?}");
    let asked = vec!["id".to_owned(), c::TOP_PROCESS_ID.to_lowercase()];
    assert_eq!(
        spell_columns(&asked, &live),
        vec![c::ID.to_owned(), c::TOP_PROCESS_ID.to_owned()]
    );
}

#[test]
fn the_unseeded_warning_says_what_happens_and_the_statement_to_run() {
    assert_eq!(unseeded_warning(&[]), None);
    let refused = Refused {
        message: "no DBCC here".to_owned(),
        fault: None,
    };
    let unseeded = [
        Unseeded {
            table: "OSSYS_BPM_PROCESS".to_owned(),
            next: 1,
            top: 57,
            refused: refused.clone(),
        },
        Unseeded {
            table: "OSSYS_BPM_ACTIVITY".to_owned(),
            next: -2_147_483_647,
            top: -2_147_483_000,
            refused,
        },
    ];
    let text = unseeded_warning(&unseeded).unwrap_or_default();
    assert!(
        text.contains("`OSSYS_BPM_PROCESS` (next 1, moved rows up to 57)"),
        "{text}"
    );
    assert!(text.contains("(no DBCC here)"), "{text}");
    assert!(text.contains("fail on the moved rows' keys"), "{text}");
    assert!(
        text.contains("`DBCC CHECKIDENT (N'OSSYS_BPM_ACTIVITY', RESEED, -2147483000)`"),
        "{text}"
    );
}
