use std::collections::BTreeSet;

use bptmig_db::{Names, Side};
use bptmig_extract::selection::{select_trees, used_ids};
use bptmig_model::catalog::{self as c, FkKind};
use bptmig_sandbox::generator::{CANDIDATE_EVENT_TABLE, INACTIVE_DEFINITION};
use bptmig_sandbox::{EnvSpec, Environment};

use crate::{envs, ids, pipeline_for, processes, read_table, setup};

/// Extracts with `selection` and checks, table by table, that the output holds exactly the
/// rows the equivalent SQL (`root_filter` on top-level processes) selects in the source,
/// and that no child arrives without its parent.
async fn check_selection(
    prod: &Environment,
    qa: &Environment,
    selection: &str,
    root_filter: &str,
) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let config = pipeline_for(dir.path(), prod, qa, &format!("[selection]\n{selection}\n"));
    crate::extract(&config).await.unwrap();
    // Roots by SQL on the source; their trees from the generated rows (the sandbox server is
    // too slow for nested IN-subqueries over thousands of rows).
    let mut client = prod.connect().await.unwrap();
    let roots: BTreeSet<i64> = client
        .simple_query(format!("SELECT ID FROM OSSYS_BPM_PROCESS R WHERE R.PARENT_PROCESS_ID IS NULL AND {root_filter}"))
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap()
        .iter()
        .map(|r| i64::from(r.get::<i32, _>(0).unwrap()))
        .collect();
    let member = |table: &str, col: &str, set: &BTreeSet<i64>| -> BTreeSet<i64> {
        prod.data
            .rows(table)
            .iter()
            .filter(|r| r[col].as_int().is_some_and(|v| set.contains(&v)))
            .map(|r| r[c::ID].as_int().unwrap())
            .collect()
    };
    let procs = member(c::PROCESS, c::TOP_PROCESS_ID, &roots);
    let acts = member(c::ACTIVITY, c::PROCESS_ID, &procs);
    let evt = prod
        .data
        .rows(CANDIDATE_EVENT_TABLE)
        .iter()
        .filter(|r| {
            r[c::EVT_ACTIVITY_ID]
                .as_int()
                .is_some_and(|v| acts.contains(&v))
        })
        .count();
    let expected = [
        (c::PROCESS, procs.len()),
        (c::ACTIVITY, acts.len()),
        (
            c::PROCESS_INPUT,
            member(c::PROCESS_INPUT, c::PROCESS_ID, &procs).len(),
        ),
        (
            c::PROCESS_OUTPUT,
            member(c::PROCESS_OUTPUT, c::PROCESS_ID, &procs).len(),
        ),
        (
            c::ACTIVITY_OUTPUT,
            member(c::ACTIVITY_OUTPUT, c::ACTIVITY_ID, &acts).len(),
        ),
        (CANDIDATE_EVENT_TABLE, evt),
    ];
    for (table, n) in expected {
        let got = read_table(&config.workdir, table)
            .iter()
            .map(arrow::array::RecordBatch::num_rows)
            .sum::<usize>();
        assert_eq!(got, n, "{table} under `{selection}`");
    }

    // Tree completeness: every reference to a process or activity of the selection points
    // at a row of the output.
    let p = read_table(&config.workdir, c::PROCESS);
    let a = read_table(&config.workdir, c::ACTIVITY);
    let pid: BTreeSet<i64> = ids(&p, c::ID).into_iter().flatten().collect();
    let aid: BTreeSet<i64> = ids(&a, c::ID).into_iter().flatten().collect();
    for col in [c::PARENT_PROCESS_ID, c::TOP_PROCESS_ID] {
        assert!(
            ids(&p, col).into_iter().flatten().all(|v| pid.contains(&v)),
            "PROCESS.{col}"
        );
    }
    assert!(ids(&p, c::PARENT_ACTIVITY_ID)
        .into_iter()
        .flatten()
        .all(|v| aid.contains(&v)));
    assert!(ids(&a, c::PROCESS_ID)
        .into_iter()
        .flatten()
        .all(|v| pid.contains(&v)));
    assert!(ids(&a, c::PRECEDENT_ACTIVITY_ID)
        .into_iter()
        .flatten()
        .all(|v| aid.contains(&v)));
    for t in [c::PROCESS_INPUT, c::PROCESS_OUTPUT] {
        assert!(
            ids(&read_table(&config.workdir, t), c::PROCESS_ID)
                .into_iter()
                .flatten()
                .all(|v| pid.contains(&v)),
            "{t}"
        );
    }
    assert!(ids(
        &read_table(&config.workdir, c::ACTIVITY_OUTPUT),
        c::ACTIVITY_ID
    )
    .into_iter()
    .flatten()
    .all(|v| aid.contains(&v)));
    pid.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_selects_whole_trees() {
    let (prod, qa) = envs(&EnvSpec::default()).await;
    let all = check_selection(&prod, &qa, "", "1 = 1").await;
    let cases = [
        (
            "statuses = [\"Closed\", \"Terminated\"]",
            "R.STATUS_ID IN (SELECT ID FROM OSSYS_BPM_PROCESS_STATUS WHERE NAME IN (N'Closed', N'Terminated'))",
        ),
        (
            "created_from = \"2019-01-03\"\ncreated_to = \"2019-01-06T12:00:00\"",
            "R.CREATED >= CAST('2019-01-03T00:00:00' AS DATETIME) AND R.CREATED < CAST('2019-01-06T12:00:00' AS DATETIME)",
        ),
        (
            "tenants = [\"AcmeCorp\", \"Globex\"]",
            "R.TENANT_ID IN (SELECT ID FROM OSSYS_TENANT WHERE NAME IN (N'AcmeCorp', N'Globex'))",
        ),
        (
            "process_definitions = [\"CandidateSelection\"]",
            "R.PROCESS_DEF_ID IN (SELECT ID FROM OSSYS_BPM_PROCESS_DEFINITION WHERE NAME = N'CandidateSelection')",
        ),
        (
            "espaces = [\"HRPortal\"]",
            "R.PROCESS_DEF_ID IN (SELECT ID FROM OSSYS_BPM_PROCESS_DEFINITION WHERE ESPACE_ID IN (SELECT ID FROM OSSYS_ESPACE WHERE NAME = N'HRPortal'))",
        ),
        (
            "include_inactive_definitions = false",
            "R.PROCESS_DEF_ID IN (SELECT ID FROM OSSYS_BPM_PROCESS_DEFINITION WHERE IS_ACTIVE = 1)",
        ),
    ];
    for (selection, filter) in cases {
        let n = check_selection(&prod, &qa, selection, filter).await;
        assert!(
            n > 0 && n < all,
            "`{selection}` selected {n} of {all} processes"
        );
    }
    let _ = INACTIVE_DEFINITION;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_name_in_the_selection_is_refused_with_the_known_ones() {
    let test = setup(&processes(10), "[selection]\nstatuses = [\"Closd\"]\n").await;
    let config = &test.config;
    let err = crate::extract(config).await.unwrap_err().to_string();
    assert!(
        err.contains("`selection.statuses`") && err.contains("`Closd`") && err.contains("Closed"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_ids_are_what_the_extracted_trees_reference_even_with_two_checks_at_once() {
    let test = setup(
        &processes(30),
        "[selection]\nstatuses = [\"Closed\", \"Terminated\"]\n",
    )
    .await;
    let config = &test.config;
    crate::extract(config).await.unwrap();
    let mut expected = bptmig_model::UsedIds::default();
    for table in c::INSTANCE_TABLES {
        let batches = read_table(&config.workdir, table.name);
        for (column, kind, referenced) in table.foreign_keys() {
            let set = match kind {
                FkKind::Definition => expected
                    .definitions
                    .entry(referenced.to_owned())
                    .or_default(),
                FkKind::User => &mut expected.users,
                FkKind::Group => &mut expected.groups,
                FkKind::Tenant => &mut expected.tenants,
                _ => continue,
            };
            set.extend(ids(&batches, column.name).into_iter().flatten());
        }
    }
    assert!(
        !expected.users.is_empty() && !expected.definitions.is_empty(),
        "{expected:?}"
    );

    // Two checks at once on one server: their temporary tables must not collide.
    let mut first = bptmig_db::connect(Side::Source, &config.source)
        .await
        .unwrap();
    let mut second = bptmig_db::connect(Side::Source, &config.source)
        .await
        .unwrap();
    let names = Names::read(&mut first, Side::Source).await.unwrap();
    let roots = select_trees(&mut first, &names, &config.selection)
        .await
        .unwrap()
        .roots;
    let (a, b) = tokio::join!(
        used_ids(&mut first, &names, &roots),
        used_ids(&mut second, &names, &roots)
    );
    assert_eq!(a.unwrap(), expected);
    assert_eq!(b.unwrap(), expected);
    // And again on a connection that already scoped once.
    assert_eq!(
        used_ids(&mut first, &names, &roots).await.unwrap(),
        expected
    );
}
