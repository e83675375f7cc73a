//! Both environments seeded over TDS, checked with SQL against what the issue asks for.

use std::collections::{BTreeMap, BTreeSet};

use bptmig_model::catalog as c;
use bptmig_sandbox::generator::{
    ACTIVITY_LISTENING, ACTIVITY_READY, CANDIDATE_TABLE, INACTIVE_DEFINITION, PROD_ONLY_DEFINITION,
};
use bptmig_sandbox::testing::{count_rows, Pair};
use bptmig_sandbox::{sql, EnvKind, EnvSpec, Environment, SqlClient};
use tiberius::Row;

async fn rows(client: &mut SqlClient, query: &str) -> Vec<Row> {
    client
        .simple_query(query)
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap()
}

async fn count(client: &mut SqlClient, query: &str) -> i64 {
    sql::scalar_i64(client, query).await.unwrap()
}

fn text(row: &Row, i: usize) -> Option<String> {
    row.get::<&str, _>(i).map(str::to_owned)
}

fn int(row: &Row, i: usize) -> Option<i32> {
    row.get::<i32, _>(i)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_holds_what_was_generated() {
    let Pair { prod, qa } = Pair::start(&EnvSpec::default()).await.unwrap();
    for env in [&prod, &qa] {
        let mut client = env.connect().await.unwrap();
        let tables: BTreeSet<&str> = env.data.tables.iter().map(|t| t.table).collect();
        for table in tables {
            let n = count_rows(&mut client, table).await.unwrap();
            assert_eq!(n as usize, env.data.count(table), "{:?} {table}", env.kind);
        }
        for queue in [c::EVENT_QUEUE, c::LIGHT_EVENT] {
            let n = count_rows(&mut client, queue).await.unwrap();
            assert_eq!(n, 0, "{:?} {queue} must start empty", env.kind);
        }
    }
    // prod has a history of thousands of rows; qa has little.
    assert!(prod.data.count(c::ACTIVITY) > 500);
    assert!(prod.data.count(c::PROCESS) > 150);
    assert!(qa.data.count(c::PROCESS) < 20);
}

/// (eSpace SS_KEY, definition SS_KEY) -> (ID, NAME, IS_ACTIVE)
async fn definitions(client: &mut SqlClient) -> BTreeMap<(String, String), (i32, String, bool)> {
    let q =
        "SELECT E.SS_KEY, D.SS_KEY, D.ID, D.NAME, D.IS_ACTIVE FROM OSSYS_BPM_PROCESS_DEFINITION D \
             INNER JOIN OSSYS_ESPACE E ON E.ID = D.ESPACE_ID";
    rows(client, q)
        .await
        .iter()
        .map(|r| {
            (
                (text(r, 0).unwrap(), text(r, 1).unwrap()),
                (
                    int(r, 2).unwrap(),
                    text(r, 3).unwrap(),
                    r.get::<bool, _>(4).unwrap(),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_match_by_ss_key_under_different_ids() {
    let Pair { prod, qa } = Pair::start(&EnvSpec::default()).await.unwrap();
    let p = definitions(&mut prod.connect().await.unwrap()).await;
    let q = definitions(&mut qa.connect().await.unwrap()).await;
    assert_eq!(p.len(), q.len() + 1, "one definition is prod-only");
    for (key, (pid, name, active)) in &p {
        match q.get(key) {
            Some((qid, qname, qactive)) => {
                assert_eq!(name, qname);
                assert_eq!(active, qactive);
                assert_ne!(pid, qid, "{name} must have another ID in qa");
            }
            None => assert_eq!(name, PROD_ONLY_DEFINITION),
        }
    }
    let inactive = p
        .values()
        .filter(|v| !v.2)
        .map(|v| v.1.as_str())
        .collect::<Vec<_>>();
    assert_eq!(inactive, vec![INACTIVE_DEFINITION]);

    // Activity definitions pair up the same way, through their process definition.
    let q_act = "SELECT D.SS_KEY, A.SS_KEY, A.ID FROM OSSYS_BPM_ACTIVITY_DEFINITION A \
                 INNER JOIN OSSYS_BPM_PROCESS_DEFINITION D ON D.ID = A.PROCESS_DEF_ID";
    let pa = rows(&mut prod.connect().await.unwrap(), q_act).await;
    let qa_rows = rows(&mut qa.connect().await.unwrap(), q_act).await;
    let qa_keys: BTreeMap<(String, String), i32> = qa_rows
        .iter()
        .map(|r| {
            (
                (text(r, 0).unwrap(), text(r, 1).unwrap()),
                int(r, 2).unwrap(),
            )
        })
        .collect();
    let matched = pa
        .iter()
        .filter(|r| {
            qa_keys
                .get(&(text(r, 0).unwrap(), text(r, 1).unwrap()))
                .is_some_and(|qid| *qid != int(r, 2).unwrap())
        })
        .count();
    assert_eq!(matched, qa_keys.len());

    // Instances of the inactive and of the prod-only definition exist in prod.
    let mut client = prod.connect().await.unwrap();
    for name in [INACTIVE_DEFINITION, PROD_ONLY_DEFINITION] {
        let n = count(
            &mut client,
            &format!(
                "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS P INNER JOIN OSSYS_BPM_PROCESS_DEFINITION D \
                 ON D.ID = P.PROCESS_DEF_ID WHERE D.NAME = N'{name}'"
            ),
        )
        .await;
        assert!(n > 0, "{name} has no instances");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_tenants_and_groups_differ_like_real_environments() {
    let Pair { prod, qa } = Pair::start(&EnvSpec::default()).await.unwrap();
    let q = "SELECT U.USERNAME, U.ID, T.NAME FROM OSSYS_USER U INNER JOIN OSSYS_TENANT T ON T.ID = U.TENANT_ID";
    let load = |rs: Vec<Row>| -> BTreeMap<String, (i32, String)> {
        rs.iter()
            .map(|r| {
                (
                    text(r, 0).unwrap(),
                    (int(r, 1).unwrap(), text(r, 2).unwrap()),
                )
            })
            .collect()
    };
    let pu = load(rows(&mut prod.connect().await.unwrap(), q).await);
    let qu = load(rows(&mut qa.connect().await.unwrap(), q).await);
    let shared: Vec<_> = pu.keys().filter(|k| qu.contains_key(*k)).collect();
    assert!(shared.len() >= 5);
    assert!(
        shared.iter().any(|k| pu[*k].0 != qu[*k].0),
        "shared usernames must have other IDs"
    );
    for k in &shared {
        assert_eq!(pu[*k].1, qu[*k].1, "{k}: same tenant name on both sides");
    }
    assert!(
        pu.keys().any(|k| !qu.contains_key(k)),
        "some prod users are missing in qa"
    );
    assert!(
        qu.keys().any(|k| !pu.contains_key(k)),
        "qa has users of its own"
    );

    let tq = "SELECT NAME, ID FROM OSSYS_TENANT";
    let pt: BTreeMap<_, _> = rows(&mut prod.connect().await.unwrap(), tq)
        .await
        .iter()
        .map(|r| (text(r, 0).unwrap(), int(r, 1).unwrap()))
        .collect();
    let qt: BTreeMap<_, _> = rows(&mut qa.connect().await.unwrap(), tq)
        .await
        .iter()
        .map(|r| (text(r, 0).unwrap(), int(r, 1).unwrap()))
        .collect();
    assert!(pt.len() >= 3);
    assert_eq!(pt.keys().collect::<Vec<_>>(), qt.keys().collect::<Vec<_>>());
    assert!(
        pt.iter().all(|(k, v)| qt[k] != *v),
        "every tenant has another ID in qa"
    );

    let mut client = prod.connect().await.unwrap();
    let grouped = count(
        &mut client,
        "SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY WHERE GROUP_ID IS NOT NULL",
    )
    .await;
    assert!(grouped > 0, "some human activities are assigned to a group");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prod_history_has_every_shape_the_tool_must_handle() {
    let prod = Environment::start(EnvKind::Prod, &EnvSpec::default())
        .await
        .unwrap();
    let mut client = prod.connect().await.unwrap();
    every_status_occurs(&mut client).await;
    trees_are_consistent(&mut client).await;
    precedents_stay_in_their_process(&mut client).await;
    values_reference_candidates(&mut client).await;
    scheduler_state_empty_dates_and_nulls_occur(&mut client).await;
    open_activities_are_subscribed(&mut client).await;
}

/// Every process status, and open activities in Ready and Listening.
async fn every_status_occurs(client: &mut SqlClient) {
    let statuses = rows(client, "SELECT DISTINCT STATUS_ID FROM OSSYS_BPM_PROCESS").await;
    let statuses: BTreeSet<i32> = statuses.iter().map(|r| int(r, 0).unwrap()).collect();
    let all = rows(client, "SELECT ID FROM OSSYS_BPM_PROCESS_STATUS").await;
    let all: BTreeSet<i32> = all.iter().map(|r| int(r, 0).unwrap()).collect();
    assert_eq!(statuses, all);
    for s in [ACTIVITY_READY, ACTIVITY_LISTENING] {
        let n = count(
            client,
            &format!("SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY WHERE STATUS_ID = {s}"),
        )
        .await;
        assert!(n > 0, "no activity in status {s}");
    }
}

/// Roots have TOP_PROCESS_ID = ID; every sub-process points at a root through
/// TOP_PROCESS_ID, at its parent process, and at an activity of that parent.
async fn trees_are_consistent(client: &mut SqlClient) {
    let bad_roots = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS WHERE PARENT_PROCESS_ID IS NULL AND (TOP_PROCESS_ID IS NULL OR TOP_PROCESS_ID <> ID)",
    )
    .await;
    assert_eq!(bad_roots, 0);
    let subs = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS WHERE PARENT_PROCESS_ID IS NOT NULL",
    )
    .await;
    assert!(subs > 10);
    let consistent_subs = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS S \
         INNER JOIN OSSYS_BPM_PROCESS T ON T.ID = S.TOP_PROCESS_ID AND T.PARENT_PROCESS_ID IS NULL \
         INNER JOIN OSSYS_BPM_ACTIVITY A ON A.ID = S.PARENT_ACTIVITY_ID AND A.PROCESS_ID = S.PARENT_PROCESS_ID",
    )
    .await;
    assert_eq!(consistent_subs, subs);
    // Three levels: a sub-process of a sub-process.
    let grandchildren = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS S INNER JOIN OSSYS_BPM_PROCESS P ON P.ID = S.PARENT_PROCESS_ID \
         WHERE P.PARENT_PROCESS_ID IS NOT NULL",
    )
    .await;
    assert!(grandchildren > 0);
}

/// Precedent chains stay inside their process.
async fn precedents_stay_in_their_process(client: &mut SqlClient) {
    let chained = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY A INNER JOIN OSSYS_BPM_ACTIVITY P \
         ON P.ID = A.PRECEDENT_ACTIVITY_ID AND P.PROCESS_ID = A.PROCESS_ID",
    )
    .await;
    let with_precedent = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY WHERE PRECEDENT_ACTIVITY_ID IS NOT NULL",
    )
    .await;
    assert!(with_precedent > 100);
    assert_eq!(chained, with_precedent);
}

/// Entity-reference inputs point at Candidate rows; plain values too.
async fn values_reference_candidates(client: &mut SqlClient) {
    let candidates: BTreeSet<String> = rows(client, &format!("SELECT ID FROM {CANDIDATE_TABLE}"))
        .await
        .iter()
        .map(|r| int(r, 0).unwrap().to_string())
        .collect();
    let refs = rows(
        client,
        "SELECT INPUT_VALUE FROM OSSYS_BPM_PROCESS_INPUT WHERE SS_TYPE LIKE 'bt%'",
    )
    .await;
    assert!(refs.len() > 50);
    for r in &refs {
        let v = text(r, 0).unwrap();
        assert!(
            candidates.contains(&v),
            "input value `{v}` is no Candidate ID"
        );
    }
    let plain = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS_INPUT WHERE SS_TYPE LIKE 'rt%'",
    )
    .await;
    assert!(plain > 50);
    let out = count(
        client,
        "SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY_OUTPUT WHERE SS_TYPE LIKE 'bt%'",
    )
    .await;
    assert!(out > 0, "activity outputs hold entity references too");
}

/// Scheduler locks, empty dates and NULLs.
async fn scheduler_state_empty_dates_and_nulls_occur(client: &mut SqlClient) {
    assert!(
        count(
            client,
            "SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY WHERE IS_RUNNING_AT IS NOT NULL"
        )
        .await
            > 0
    );
    assert!(
        count(client, "SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY WHERE CLOSED = CAST('1900-01-01T00:00:00' AS DATETIME)").await > 0
    );
    assert!(
        count(
            client,
            "SELECT COUNT(*) FROM OSSYS_BPM_PROCESS WHERE LABEL IS NULL"
        )
        .await
            > 0
    );
    assert!(
        count(
            client,
            "SELECT COUNT(*) FROM OSSYS_BPM_ACTIVITY WHERE USER_ID IS NULL"
        )
        .await
            > 0
    );
}

/// OSEVT rows subscribe open Human/Wait activities.
async fn open_activities_are_subscribed(client: &mut SqlClient) {
    let subscribed = count(
        client,
        "SELECT COUNT(*) FROM OSEVT_3ar_Candidate E INNER JOIN OSSYS_BPM_ACTIVITY A ON A.ID = E._ACTIVITY_ID \
         WHERE A.STATUS_ID IN (8, 9)",
    )
    .await;
    let activity_rows = count(
        client,
        "SELECT COUNT(*) FROM OSEVT_3ar_Candidate WHERE _ACTIVITY_ID IS NOT NULL",
    )
    .await;
    assert!(activity_rows > 0);
    assert_eq!(subscribed, activity_rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_text_round_trips() {
    let prod = Environment::start(EnvKind::Prod, &EnvSpec::default())
        .await
        .unwrap();
    let mut client = prod.connect().await.unwrap();
    let expected: BTreeMap<i64, Option<String>> = prod
        .data
        .rows(c::PROCESS_INPUT)
        .iter()
        .map(|r| {
            let v = match &r[c::INPUT_VALUE] {
                bptmig_sandbox::Lit::Text(s) => Some(s.clone()),
                _ => None,
            };
            (r[c::ID].as_int().unwrap(), v)
        })
        .collect();
    let got = rows(
        &mut client,
        "SELECT ID, INPUT_VALUE FROM OSSYS_BPM_PROCESS_INPUT",
    )
    .await;
    assert_eq!(got.len(), expected.len());
    let mut long = 0;
    let mut quoted = 0;
    let mut astral = 0;
    for r in &got {
        let id = i64::from(int(r, 0).unwrap());
        let v = text(r, 1);
        assert_eq!(&v, &expected[&id], "input {id}");
        if let Some(v) = v {
            long += usize::from(v.chars().count() > 4000);
            quoted += usize::from(v.contains('\''));
            astral += usize::from(v.chars().any(|ch| ch as u32 > 0xFFFF));
        }
    }
    assert!(
        long > 0 && quoted > 0 && astral > 0,
        "long {long}, quoted {quoted}, astral {astral}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_a_candidate_queues_the_subscribed_activities() {
    let prod = Environment::start(EnvKind::Prod, &EnvSpec::default())
        .await
        .unwrap();
    let mut client = prod.connect().await.unwrap();
    let subs = rows(
        &mut client,
        "SELECT TOP 1 ID FROM OSEVT_3ar_Candidate WHERE _ACTIVITY_ID IS NOT NULL AND _IS_UPDATE = 1 ORDER BY ID",
    )
    .await;
    let candidate = int(&subs[0], 0).unwrap();
    let expected: BTreeSet<i32> = rows(
        &mut client,
        &format!("SELECT _ACTIVITY_ID FROM OSEVT_3ar_Candidate WHERE ID = {candidate} AND _IS_UPDATE = 1"),
    )
    .await
    .iter()
    .map(|r| int(r, 0).unwrap())
    .collect();

    sql::execute(
        &mut client,
        &format!("UPDATE {CANDIDATE_TABLE} SET STAGE = N'Interview' WHERE ID = {candidate}"),
    )
    .await
    .unwrap();
    let queued = rows(
        &mut client,
        "SELECT ACTIVITY_ID, DATA_ID FROM OSSYS_BPM_EVENT_QUEUE",
    )
    .await;
    let got: BTreeSet<i32> = queued.iter().map(|r| int(r, 0).unwrap()).collect();
    assert_eq!(got, expected);
    assert!(queued
        .iter()
        .all(|r| text(r, 1) == Some(candidate.to_string())));

    // A new candidate fires the Launch-On (create) subscription of the definition.
    sql::execute(&mut client, &format!("SET IDENTITY_INSERT {CANDIDATE_TABLE} ON; INSERT INTO {CANDIDATE_TABLE} (ID, NAME) VALUES (99999, N'New'); SET IDENTITY_INSERT {CANDIDATE_TABLE} OFF"))
        .await
        .unwrap();
    let launches = count(&mut client, "SELECT COUNT(*) FROM OSSYS_BPM_EVENT_QUEUE WHERE PROCESS_DEF_ID IS NOT NULL AND DATA_ID = '99999'").await;
    assert_eq!(launches, 1);
    assert_eq!(
        count_rows(&mut client, c::LIGHT_EVENT).await.unwrap(),
        0,
        "no light-process subscription"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_event_is_left_only_when_asked() {
    let spec = EnvSpec {
        pending_event: true,
        processes: 10,
        ..EnvSpec::default()
    };
    let prod = Environment::start(EnvKind::Prod, &spec).await.unwrap();
    let mut client = prod.connect().await.unwrap();
    assert_eq!(count_rows(&mut client, c::EVENT_QUEUE).await.unwrap(), 1);
}
