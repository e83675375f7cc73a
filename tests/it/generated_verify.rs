//! `ids.strategy = "generated"` after the load, end to end over TDS (prod → qa, the sandbox's
//! platform shapes, so values typed as instance identifiers and subscription rows move too):
//! `maps` refused before the load and equal to the captured pairs after it; `status` reports
//! the strategy and the pairs; `verify` passes, then fails naming a row changed by hand and a
//! pair deleted by hand; `rollback` refuses while a pair is missing, then, resumed after a
//! rollback that stopped after its first chunk, restores qa exactly (every row of every
//! instance and subscription table; the identity stays where the load left it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use bptmig_model::catalog as c;
use bptmig_sandbox::generator::HISTORY_TABLES;
use bptmig_sandbox::testing::Pair;
use bptmig_sandbox::{sql, EnvSpec, SqlClient};

use crate::common;

/// bptmig's tables as a user who may not create tables publishes them (OutSystems entities:
/// an `ID` identity, nullable attributes), named by `[load.tables]`.
const PAIRS: &str = "OSUSR_BPT_PAIRS";
const LEDGER: &str = "OSUSR_BPT_LEDGER";
const TABLES: &str = "[load.tables]\nledger = \"OSUSR_BPT_LEDGER\"\ntrees = \"OSUSR_BPT_TREES\"\n\
                      lock = \"OSUSR_BPT_LOCK\"\npairs = \"OSUSR_BPT_PAIRS\"\n";
const ENTITIES: &[&str] = &[
    "CREATE TABLE OSUSR_BPT_LEDGER (ID BIGINT IDENTITY(1,1) PRIMARY KEY, RUN_ID NVARCHAR(50) \
     NULL, TABLE_NAME NVARCHAR(50) NULL, CHUNK NVARCHAR(50) NULL, ROWS_LOADED INT NULL, \
     DIGEST NVARCHAR(100) NULL, MIN_ID INT NULL, MAX_ID INT NULL, LOADED_AT DATETIME NULL)",
    "CREATE TABLE OSUSR_BPT_TREES (ID BIGINT IDENTITY(1,1) PRIMARY KEY, \
     SOURCE_FINGERPRINT NVARCHAR(100) NULL, SOURCE_ROOT_ID INT NULL, \
     SOURCE_LAST_MODIFIED DATETIME NULL, RUN_ID NVARCHAR(50) NULL, TARGET_ROOT_ID INT NULL, \
     LOADED_AT DATETIME NULL)",
    "CREATE TABLE OSUSR_BPT_LOCK (ID BIGINT IDENTITY(1,1) PRIMARY KEY, LOCK_NAME NVARCHAR(50) \
     NULL, TOKEN NVARCHAR(50) NULL, RUN_ID NVARCHAR(50) NULL, ACTION NVARCHAR(50) NULL, \
     HOST NVARCHAR(250) NULL, PID INT NULL, WORKDIR NVARCHAR(2000) NULL, TAKEN_AT DATETIME \
     NULL, HEARTBEAT DATETIME NULL)",
    "CREATE TABLE OSUSR_BPT_PAIRS (ID BIGINT IDENTITY(1,1) PRIMARY KEY, RUN_ID NVARCHAR(50) \
     NULL, TABLE_NAME NVARCHAR(50) NULL, CHUNK NVARCHAR(50) NULL, OLD_ID INT NULL, NEW_ID INT \
     NULL)",
];

/// Pipeline `name` (work directory `<dir>/<name>`), generated, into the user's tables, with
/// `extra` lines.
fn pipeline(pair: &Pair, dir: &Path, name: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    pair.pipeline()
        .workdir(dir.join(name))
        .extra(&format!(
            "[ids]\nstrategy = \"generated\"\n[selection]\nbroken_tree = \"skip\"\n\
             already_moved = \"skip\"\n{extra}[mapping]\nunmapped_user = \"null\"\n\
             unmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n\
             unmoved_reference = \"keep\"\n[load]\nstrategy = \"insert\"\nchunk_rows = 40\n\
             {TABLES}"
        ))
        .write(&path)
        .unwrap();
    path
}

fn bptmig(args: &[&str], pipeline: &Path) -> Output {
    let mut all = args.to_vec();
    all.extend(["--pipeline", pipeline.to_str().unwrap()]);
    common::bptmig(all).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `args`, which must exit with one of `codes`; its output.
fn run(args: &[&str], pipeline: &Path, codes: &[i32]) -> String {
    let out = bptmig(args, pipeline);
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "{args:?}: exit {:?}: {}",
        out.status.code(),
        text(&out)
    );
    text(&out)
}

async fn rows(qa: &mut SqlClient, sql: &str) -> Vec<Vec<i64>> {
    let rows = qa
        .simple_query(sql)
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| bptmig_db::int_cell(r, i).unwrap())
                .collect()
        })
        .collect()
}

/// The pairs of run `run_id`, per table: old → new.
async fn pairs(qa: &mut SqlClient, run_id: &str) -> BTreeMap<String, BTreeMap<i64, i64>> {
    let got = qa
        .simple_query(format!(
            "SELECT TABLE_NAME, OLD_ID, NEW_ID FROM {PAIRS} WHERE RUN_ID = {}",
            bptmig_db::quote_text(run_id)
        ))
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let mut out: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for r in &got {
        let table = bptmig_db::text_cell(r, 0).unwrap();
        let (old, new) = (
            bptmig_db::int_cell(r, 1).unwrap(),
            bptmig_db::int_cell(r, 2).unwrap(),
        );
        out.entry(table).or_default().insert(old, new);
    }
    out
}

/// Every instance and subscription table of qa, row by row (sorted), by name.
async fn dump(qa: &mut SqlClient) -> BTreeMap<String, Vec<String>> {
    let osevt = qa
        .simple_query(
            "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_NAME) LIKE 'OSEVT%'",
        )
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let mut names: Vec<String> = HISTORY_TABLES.iter().map(|t| (*t).to_owned()).collect();
    names.extend(osevt.iter().filter_map(|r| bptmig_db::text_cell(r, 0)));
    names.sort();
    names.dedup();
    let mut out = BTreeMap::new();
    for t in names {
        let content = sql::table_content(qa, &t).await.unwrap();
        out.insert(t, content);
    }
    out
}

fn parse_csv(text: &str) -> BTreeMap<i64, i64> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("old_id,new_id"));
    lines
        .map(|l| {
            let (o, n) = l.split_once(',').unwrap();
            (o.parse().unwrap(), n.parse().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_generated_load_verify_maps_status_and_rollback_work_from_the_captured_pairs() {
    // qa's own history comes from an earlier generated run (the sandbox seeds rows with
    // explicit IDs, which its identity does not move past).
    let pair = Pair::start(&EnvSpec {
        processes: 24,
        qa_processes: 0,
        platform_shapes: true,
        ..EnvSpec::default()
    })
    .await
    .unwrap();
    let mut qa = pair.qa.connect().await.unwrap();
    for sql in ENTITIES {
        sql::execute(&mut qa, sql).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let earlier = pipeline(&pair, dir.path(), "closed", "statuses = [\"Closed\"]\n");
    for stage in ["extract", "transform", "load"] {
        run(&["--quiet", stage], &earlier, &[0, 1]);
    }
    let earlier_run = run_id(&earlier);
    let earlier_pairs = pairs(&mut qa, &earlier_run).await;
    assert!(!earlier_pairs.is_empty());

    let p = pipeline(&pair, dir.path(), "all", "");
    run(&["--quiet", "extract"], &p, &[0]);
    run(&["--quiet", "transform"], &p, &[0, 1]);
    check_names_the_strategy(&pair, dir.path(), &p);
    // Before the load there is no map: the target has not generated the IDs yet.
    let out = bptmig(&["maps", "--table", c::PROCESS], &p);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for needle in [
        "the target generates the IDs at load",
        "run `bptmig load` first",
    ] {
        assert!(text(&out).contains(needle), "`{needle}` in {}", text(&out));
    }
    assert!(out.stdout.is_empty());

    let before = dump(&mut qa).await;
    run(&["--quiet", "load"], &p, &[0]);
    let run_id = run_id(&p);
    let captured = pairs(&mut qa, &run_id).await;
    assert!(captured.get(c::ACTIVITY).is_some_and(|m| m.len() > 40));
    // The trees the earlier run moved were left out.
    let roots = &earlier_pairs[c::PROCESS];
    assert!(captured[c::PROCESS]
        .keys()
        .all(|old| !roots.contains_key(old)));

    status_reports_the_strategy_and_the_pairs(&p, &captured);
    let said = run(&["verify"], &p, &[0]);
    assert!(said.contains("verify passed"), "{said}");
    let pairs_line = format!(
        "ids generated: rows found by the pairs the load captured ({} {}",
        c::ACTIVITY,
        captured[c::ACTIVITY].len()
    );
    assert!(said.contains(&pairs_line), "`{pairs_line}` in {said}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("all/report.json")).unwrap())
            .unwrap();
    for (table, m) in &captured {
        assert_eq!(
            report["verify"]["pairs"][table].as_u64(),
            Some(m.len() as u64),
            "{table}"
        );
    }
    maps_are_the_captured_pairs(&p, &captured);

    changed_row_and_missing_pair_fail_verify(&p, &mut qa, &captured).await;

    interrupted_rollback(&mut qa, &run_id).await;
    run(&["--quiet", "rollback"], &p, &[0]);
    assert_eq!(dump(&mut qa).await, before, "rollback restores qa exactly");
    assert!(
        pairs(&mut qa, &run_id).await.is_empty(),
        "the run's pairs are gone"
    );
    assert_eq!(pairs(&mut qa, &earlier_run).await, earlier_pairs);
    for table in [LEDGER, "OSUSR_BPT_TREES"] {
        let left = rows(
            &mut qa,
            &format!(
                "SELECT COUNT(*) FROM {table} WHERE RUN_ID = {}",
                bptmig_db::quote_text(&run_id)
            ),
        )
        .await;
        assert_eq!(left, [[0]], "the run's rows of `{table}` are gone");
    }
    // The identity is not put back: the IDs the target generated stay used.
    let top = captured[c::ACTIVITY].values().max().copied().unwrap();
    let identity = rows(
        &mut qa,
        &format!("SELECT CAST(IDENT_CURRENT('{}') AS INT)", c::ACTIVITY),
    )
    .await;
    assert!(
        identity[0][0] >= top,
        "identity {identity:?}, generated up to {top}"
    );
    // The load's maps went with the rows: `maps` refuses again.
    let out = bptmig(&["maps", "--table", c::ACTIVITY], &p);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("the target generates the IDs at load"));
}

/// `check`'s `ids strategy` line: the transform's strategy once it has run; `auto` before
/// that decided on the live target (the sandbox lets the login use `IDENTITY_INSERT`).
fn check_names_the_strategy(pair: &Pair, dir: &Path, transformed: &Path) {
    let line = |pipeline: &Path| {
        let said = run(&["check"], pipeline, &[0, 1]);
        said.lines()
            .find(|l| l.starts_with("ids strategy"))
            .map_or_else(|| panic!("no `ids strategy` line in {said}"), str::to_owned)
    };
    let l = line(transformed);
    assert!(l.contains("`generated`, as the transform of run"), "{l}");
    let path = dir.join("auto.toml");
    pair.pipeline()
        .workdir(dir.join("auto"))
        .extra("[ids]\nstrategy = \"auto\"\n")
        .write(&path)
        .unwrap();
    let l = line(&path);
    assert!(
        l.contains(
            "`renumber` (`ids.strategy = \"auto\"`: the target login may use IDENTITY_INSERT on \
             every instance table: renumber)"
        ),
        "{l}"
    );
}

/// What a rollback that stopped after its first chunk leaves: one chunk of activity outputs
/// gone with its pairs and its ledger row, in one transaction, as rollback removes it; the
/// rollback run next must finish from there.
async fn interrupted_rollback(qa: &mut SqlClient, run_id: &str) {
    let run = bptmig_db::quote_text(run_id);
    let table = c::ACTIVITY_OUTPUT;
    let chunks = qa
        .simple_query(format!(
            "SELECT CHUNK FROM {LEDGER} WHERE RUN_ID = {run} AND TABLE_NAME = N'{table}'"
        ))
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let mut chunks: Vec<String> = chunks
        .iter()
        .filter_map(|r| bptmig_db::text_cell(r, 0))
        .collect();
    chunks.sort();
    let chunk = bptmig_db::quote_text(chunks.last().unwrap());
    let of_chunk = format!("RUN_ID = {run} AND TABLE_NAME = N'{table}' AND CHUNK = {chunk}");
    let count = format!("SELECT COUNT(*) FROM {table}");
    let had = rows(qa, &count).await[0][0];
    sql::execute(
        qa,
        &format!(
            "SET XACT_ABORT ON; BEGIN TRANSACTION; \
             DELETE FROM {table} WHERE ID IN (SELECT NEW_ID FROM {PAIRS} WHERE {of_chunk}); \
             DELETE FROM {PAIRS} WHERE {of_chunk}; DELETE FROM {LEDGER} WHERE {of_chunk}; \
             COMMIT TRANSACTION;"
        ),
    )
    .await
    .unwrap();
    assert!(
        rows(qa, &count).await[0][0] < had,
        "the chunk's rows are gone"
    );
}

/// The run of `pipeline`'s work directory, as `status --json` says.
fn run_id(pipeline: &Path) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&run(&["status", "--json"], pipeline, &[0])).unwrap();
    json["run_id"].as_str().unwrap().to_owned()
}

fn status_reports_the_strategy_and_the_pairs(
    p: &Path,
    captured: &BTreeMap<String, BTreeMap<i64, i64>>,
) {
    let json: serde_json::Value =
        serde_json::from_str(&run(&["status", "--json"], p, &[0])).unwrap();
    assert_eq!(json["ids"]["strategy"], "generated", "{json}");
    assert_eq!(json["ids"]["from"], "transform", "{json}");
    let load = json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "load")
        .unwrap();
    for t in load["tables"].as_array().unwrap() {
        let name = t["table"].as_str().unwrap();
        let expected = if c::is_osevt(name) {
            0
        } else {
            captured.get(name).map_or(0, |m| m.len() as u64)
        };
        assert_eq!(t["pairs"].as_u64(), Some(expected), "{name}: {t}");
        if !c::is_osevt(name) {
            assert_eq!(t["pairs"], t["rows_done"], "{name}: every row paired");
        }
    }
    let human = run(&["status"], p, &[0]);
    assert!(human.contains("ids        generated"), "{human}");
    assert!(human.contains("pairs captured"), "{human}");
}

fn maps_are_the_captured_pairs(p: &Path, captured: &BTreeMap<String, BTreeMap<i64, i64>>) {
    for (table, expected) in captured {
        let out = bptmig(&["maps", "--table", table], p);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let published = parse_csv(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(&published, expected, "{table}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("the load's map"),
            "{}",
            text(&out)
        );
    }
}

/// A moved activity changed by hand fails verify, which names it by both IDs; restored, verify
/// passes. A pair deleted by hand fails verify and makes rollback refuse before it removes
/// anything; put back, both go on.
async fn changed_row_and_missing_pair_fail_verify(
    p: &Path,
    qa: &mut SqlClient,
    captured: &BTreeMap<String, BTreeMap<i64, i64>>,
) {
    let (&old, &new) = captured[c::ACTIVITY].iter().nth(7).unwrap();
    let name_of = format!("SELECT NAME FROM {} WHERE ID = {new}", c::ACTIVITY);
    let got = qa
        .simple_query(&name_of)
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let name = got.first().and_then(|r| bptmig_db::text_cell(r, 0));
    let set = |v: &str| format!("UPDATE {} SET NAME = {v} WHERE ID = {new}", c::ACTIVITY);
    sql::execute(qa, &set("N'changed by hand'")).await.unwrap();
    let said = run(&["verify"], p, &[1]);
    assert!(said.contains("verify FAILED"), "{said}");
    let row = format!("target row {new} (source row {old})");
    assert!(said.contains(&row), "`{row}` in {said}");
    let restore = name.map_or("NULL".to_owned(), |n| bptmig_db::quote_text(&n));
    sql::execute(qa, &set(&restore)).await.unwrap();
    run(&["verify"], p, &[0]);

    let (&old, &new) = captured[c::PROCESS].iter().nth(3).unwrap();
    let chunk = rows(
        qa,
        &format!(
            "SELECT COUNT(*) FROM {PAIRS} WHERE OLD_ID = {old} AND TABLE_NAME = N'{}'",
            c::PROCESS
        ),
    )
    .await;
    assert_eq!(chunk, [[1]]);
    let saved = qa
        .simple_query(format!(
            "SELECT RUN_ID, CHUNK FROM {PAIRS} WHERE OLD_ID = {old} AND TABLE_NAME = N'{}'",
            c::PROCESS
        ))
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let (run_id, chunk) = (
        bptmig_db::text_cell(&saved[0], 0).unwrap(),
        bptmig_db::text_cell(&saved[0], 1).unwrap(),
    );
    sql::execute(
        qa,
        &format!(
            "DELETE FROM {PAIRS} WHERE OLD_ID = {old} AND TABLE_NAME = N'{}'",
            c::PROCESS
        ),
    )
    .await
    .unwrap();
    let said = run(&["verify"], p, &[1]);
    let named = format!("`{chunk}` (");
    let first = format!(" paired, first unpaired source row {old})");
    assert!(
        said.contains(&named) && said.contains(&first),
        "`{named}…{first}` in {said}"
    );
    let before = dump(qa).await;
    let said = run(&["rollback"], p, &[2]);
    assert!(said.contains("removed nothing"), "{said}");
    assert_eq!(dump(qa).await, before, "a refused rollback removes nothing");
    sql::execute(
        qa,
        &format!(
            "INSERT INTO {PAIRS} (RUN_ID, TABLE_NAME, CHUNK, OLD_ID, NEW_ID) VALUES ({}, N'{}', {}, {old}, {new})",
            bptmig_db::quote_text(&run_id),
            c::PROCESS,
            bptmig_db::quote_text(&chunk)
        ),
    )
    .await
    .unwrap();
    run(&["verify"], p, &[0]);
}
