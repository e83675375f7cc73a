//! Sandbox prod → qa: load, verify, a second load, the event triggers, rollback; and a
//! constraint failure in the middle of a load.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use bptmig_load::plan::LoadPlan;
use bptmig_load::LoadOptions;
use bptmig_model::catalog as c;
use bptmig_model::{NoProgress, PipelineConfig};
use bptmig_sandbox::generator::CANDIDATE_EVENT_TABLE;
use bptmig_sandbox::sql::{self, Lit};
use bptmig_sandbox::{EnvKind, EnvSpec, Environment, SqlClient};
use bptmig_workdir::{Manifest, RunState, StageState, WorkDir};

use crate::support::{extract_transform, load_until_ledgered};

const MOVED: &[&str] = &[
    c::PROCESS,
    c::ACTIVITY,
    c::PROCESS_INPUT,
    c::PROCESS_OUTPUT,
    c::ACTIVITY_OUTPUT,
    CANDIDATE_EVENT_TABLE,
];
const QUEUES: &[&str] = &[c::EVENT_QUEUE, c::LIGHT_EVENT];

fn pipeline(dir: &Path, prod: &Environment, qa: &Environment, extra: &str) -> PipelineConfig {
    let text = format!(
        "workdir = \"{}\"\n[source]\nconnection = \"{}\"\n[target]\nconnection = \"{}\"\n\
         [mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
         unmapped_definition = \"skip-tree\"\n{extra}\n",
        dir.join("work").display(),
        prod.server.connection_template("PW"),
        qa.server.connection_template("PW"),
    );
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, &text).unwrap();
    PipelineConfig::parse(&text, &path, &|_| {
        Some(bptmig_sandbox::DEFAULT_PASSWORD.to_owned())
    })
    .unwrap()
}

/// The content of each of `tables`.
async fn digests(client: &mut SqlClient, tables: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for t in tables {
        out.push((
            (*t).to_owned(),
            sql::table_content(client, t).await.unwrap(),
        ));
    }
    out
}

/// The rows `sql` returns.
async fn rows(client: &mut SqlClient, sql: &str) -> Vec<tiberius::Row> {
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap()
}

async fn ints(client: &mut SqlClient, sql: &str) -> Vec<Vec<Option<i64>>> {
    rows(client, sql)
        .await
        .iter()
        .map(|r| (0..r.len()).map(|i| bptmig_db::int_cell(r, i)).collect())
        .collect()
}

async fn texts(client: &mut SqlClient, sql: &str) -> HashMap<i64, Vec<Option<String>>> {
    rows(client, sql)
        .await
        .iter()
        .map(|r| {
            (
                bptmig_db::int_cell(r, 0).unwrap(),
                (1..r.len()).map(|i| bptmig_db::text_cell(r, i)).collect(),
            )
        })
        .collect()
}

fn old_to_new(workdir: &Path, table: &str) -> HashMap<i64, i64> {
    let path = workdir
        .join("transform/maps")
        .join(format!("{table}.parquet"));
    bptmig_transform::maps::read_parquet(&path)
        .unwrap()
        .iter()
        .flat_map(|b| {
            let o = b
                .column_by_name("OLD_ID")
                .unwrap()
                .as_primitive::<Int32Type>()
                .clone();
            let n = b
                .column_by_name("NEW_ID")
                .unwrap()
                .as_primitive::<Int32Type>()
                .clone();
            (0..b.num_rows())
                .map(move |i| (i64::from(o.value(i)), i64::from(n.value(i))))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn transformed(workdir: &Path, table: &str) -> Vec<RecordBatch> {
    let dir = workdir.join("transform").join(table);
    let m = Manifest::read(&dir).unwrap().unwrap();
    m.parts
        .iter()
        .flat_map(|p| bptmig_transform::maps::read_parquet(&dir.join(&p.file)).unwrap())
        .collect()
}

/// Per moved row (new ID): the SS_KEY of its definition, its creator's username and its
/// tenant's name, read by joins in one environment.
const JOINED: &str = "SELECT p.ID, d.SS_KEY, u.USERNAME, t.NAME FROM OSSYS_BPM_PROCESS p \
     INNER JOIN OSSYS_BPM_PROCESS_DEFINITION d ON d.ID = p.PROCESS_DEF_ID \
     LEFT JOIN OSSYS_USER u ON u.ID = p.CREATED_BY \
     LEFT JOIN OSSYS_TENANT t ON t.ID = p.TENANT_ID";
const JOINED_ACTIVITY: &str =
    "SELECT a.ID, d.SS_KEY, u.USERNAME, t.NAME FROM OSSYS_BPM_ACTIVITY a \
     INNER JOIN OSSYS_BPM_ACTIVITY_DEFINITION d ON d.ID = a.ACTIVITY_DEF_ID \
     LEFT JOIN OSSYS_USER u ON u.ID = a.USER_ID \
     LEFT JOIN OSSYS_TENANT t ON t.ID = a.TENANT_ID";

/// Sandbox prod and qa of `processes` top-level processes, a pipeline between them with
/// `load` settings `extra`, extracted and transformed.
struct Setup {
    prod: Environment,
    qa: Environment,
    config: PipelineConfig,
    /// The work directory.
    wd: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn start(processes: usize, extra: &str) -> Self {
        let spec = EnvSpec {
            processes,
            ..EnvSpec::default()
        };
        let prod = Environment::start(EnvKind::Prod, &spec).await.unwrap();
        let qa = Environment::start(EnvKind::Qa, &spec).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = pipeline(dir.path(), &prod, &qa, extra);
        let wd = dir.path().join("work");
        Self {
            prod,
            qa,
            config,
            wd,
            _dir: dir,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_verify_reload_events_and_rollback() {
    let setup = Setup::start(60, "[load]\nchunk_rows = 400\nbatch_rows = 150\n").await;
    let (config, wd) = (&setup.config, &setup.wd);
    let mut q = setup.qa.connect().await.unwrap();
    let mut touched: Vec<&str> = MOVED.to_vec();
    touched.extend(QUEUES);
    let before = digests(&mut q, &touched).await;

    extract_transform(config).await;
    let summary = first_load(config, wd).await;
    assert_verified(config, wd).await;
    let mut p = setup.prod.connect().await.unwrap();
    assert_joins_name_the_same_rows(&mut p, &mut q, wd).await;

    // A second load is a no-op.
    let after_first = digests(&mut q, &touched).await;
    let again = bptmig_load::load(config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(again.chunks_loaded, 0);
    assert_eq!(again.chunks_skipped, summary.chunks_loaded);
    assert_eq!(digests(&mut q, &touched).await, after_first);

    assert_open_activities_keep_their_subscriptions(&mut q, wd).await;

    // Rollback restores qa exactly, and is a no-op the second time.
    let load_maps = WorkDir::new(wd).stage_dir(bptmig_workdir::layout::LOAD);
    assert!(
        Manifest::path(&load_maps).is_file(),
        "the load lists its maps"
    );
    let rolled = bptmig_load::rollback(config, &NoProgress).await.unwrap();
    assert_eq!(rolled.chunks, summary.chunks_loaded);
    assert_eq!(digests(&mut q, &touched).await, before);
    // The maps of rows no longer in qa are gone with them.
    assert!(!Manifest::path(&load_maps).exists());
    assert!(
        std::fs::read_dir(load_maps.join(bptmig_load::id_maps::MAPS_DIR))
            .map_or(true, |d| d.count() == 0)
    );
    let ledger = sql::scalar_i64(&mut q, "SELECT COUNT(*) FROM BPTMIG_LEDGER")
        .await
        .unwrap();
    assert_eq!(ledger, 0);
    let twice = bptmig_load::rollback(config, &NoProgress).await.unwrap();
    assert_eq!(twice.chunks, 0);
    // Verify now reports the rows missing, and records the failure.
    let gone = bptmig_load::verify(config, &NoProgress).await.unwrap();
    assert!(!gone.ok());
    let run = RunState::read(&WorkDir::new(wd)).unwrap().unwrap();
    assert_eq!(
        run.stages.get(bptmig_load::VERIFY_STAGE),
        Some(&StageState::Failed)
    );
}

/// The first load: every chunk written, every moved row in qa.
async fn first_load(config: &PipelineConfig, wd: &Path) -> bptmig_load::LoadSummary {
    let summary = bptmig_load::load(config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.strategy, "insert");
    assert_eq!(summary.chunks_skipped, 0);
    assert!(summary.chunks_loaded > 6, "{summary:?}");
    assert!(summary.fixups > 0, "root processes reference themselves");
    for t in &summary.tables {
        assert_eq!(t.loaded, t.rows, "{}", t.table);
        let batches = transformed(wd, &t.table);
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows as u64, t.rows);
    }
    summary
}

/// Verify passes, table by table, and says so in `report.json`.
async fn assert_verified(config: &PipelineConfig, wd: &Path) {
    let verified = bptmig_load::verify(config, &NoProgress).await.unwrap();
    assert!(verified.ok(), "{:?}", verified.problems);
    assert_eq!(verified.tables.len(), MOVED.len());
    assert!(verified
        .tables
        .iter()
        .all(|t| t.expected_rows == t.found_rows && t.ok));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wd.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["verify"]["ok"], serde_json::Value::Bool(true));
}

/// Joined in qa, each moved row's definition key, user name and tenant name are prod's.
async fn assert_joins_name_the_same_rows(p: &mut SqlClient, q: &mut SqlClient, wd: &Path) {
    for (table, sql) in [(c::PROCESS, JOINED), (c::ACTIVITY, JOINED_ACTIVITY)] {
        let map = old_to_new(wd, table);
        let in_prod = texts(p, sql).await;
        let in_qa = texts(q, sql).await;
        let mut compared = 0;
        for (old, new) in &map {
            let (src, dst) = (&in_prod[old], &in_qa[new]);
            assert_eq!(src[0], dst[0], "{table} {old} → {new}: definition SS_KEY");
            assert_eq!(src[2], dst[2], "{table} {old} → {new}: tenant name");
            if dst[1].is_some() {
                assert_eq!(src[1], dst[1], "{table} {old} → {new}: username");
                compared += 1;
            }
        }
        assert!(compared > 20, "{table}: {compared} users compared");
    }
}

/// Open activities keep their subscriptions: updating a candidate queues their events. The
/// queues are emptied again afterwards.
async fn assert_open_activities_keep_their_subscriptions(q: &mut SqlClient, wd: &Path) {
    let expected = update_subscriptions(wd);
    let qa_candidates: BTreeSet<i64> = ints(q, "SELECT ID FROM OSUSR_3AR_CANDIDATE")
        .await
        .into_iter()
        .filter_map(|r| r[0])
        .collect();
    let (&candidate, subscribed) = expected
        .iter()
        .find(|(id, _)| qa_candidates.contains(id))
        .expect("a moved subscription to a candidate qa has");
    sql::execute(
        q,
        &format!("UPDATE OSUSR_3AR_CANDIDATE SET STAGE = STAGE WHERE ID = {candidate}"),
    )
    .await
    .unwrap();
    let queued: BTreeSet<i64> = ints(
        q,
        &format!(
            "SELECT ACTIVITY_ID FROM {} UNION ALL SELECT ACTIVITY_ID FROM {}",
            c::EVENT_QUEUE,
            c::LIGHT_EVENT
        ),
    )
    .await
    .into_iter()
    .filter_map(|r| r[0])
    .collect();
    let moved_acts: BTreeSet<i64> = old_to_new(wd, c::ACTIVITY).values().copied().collect();
    let queued_moved: BTreeSet<i64> = queued.intersection(&moved_acts).copied().collect();
    assert_eq!(&queued_moved, subscribed, "candidate {candidate}");
    sql::execute(
        q,
        &format!(
            "DELETE FROM {}; DELETE FROM {}",
            c::EVENT_QUEUE,
            c::LIGHT_EVENT
        ),
    )
    .await
    .unwrap();
}

/// The transformed update subscriptions to candidates: candidate ID → activity IDs.
fn update_subscriptions(wd: &Path) -> HashMap<i64, BTreeSet<i64>> {
    let evt = transformed(wd, CANDIDATE_EVENT_TABLE);
    let mut expected: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for b in &evt {
        let col = |n: &str| {
            b.column_by_name(n)
                .unwrap()
                .as_primitive::<Int32Type>()
                .clone()
        };
        let (act, rec, upd) = (
            col(c::EVT_ACTIVITY_ID),
            col(c::ID),
            b.column_by_name(c::EVT_IS_UPDATE)
                .unwrap()
                .as_boolean()
                .clone(),
        );
        for i in 0..b.num_rows() {
            if upd.value(i) && act.is_valid(i) && rec.is_valid(i) {
                expected
                    .entry(i64::from(rec.value(i)))
                    .or_default()
                    .insert(i64::from(act.value(i)));
            }
        }
    }
    expected
}

/// A user of qa deleted after the pre-load checks: the chunk that needs it fails and is rolled
/// back alone, the error names table, row and column; restored, the rerun completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constraint_failure_rolls_back_only_its_chunk() {
    let setup = Setup::start(40, "[load]\nchunk_rows = 40\nbatch_rows = 10\n").await;
    let (config, wd) = (&setup.config, &setup.wd);
    extract_transform(config).await;

    let plan = LoadPlan::build(&WorkDir::new(wd), 40).unwrap();
    let candidates = late_references(&plan);
    let mut q = setup.qa.connect().await.unwrap();
    // The sandbox works on a copy inside a transaction: a row deleted by another session
    // while a chunk is open can come back at its commit. Delete between chunks.
    let options = LoadOptions {
        chunk_pause: Some(Duration::from_millis(400)),
        ..LoadOptions::default()
    };
    // Once the first chunk is committed, the checks are behind: delete the user.
    let load = load_until_ledgered(config, options, &mut q, 1).await;
    let (lost_table, lost) = delete_one(&mut q, &candidates).await;
    let err = load.await.unwrap().unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, bptmig_load::Error::ChunkFailed { .. }),
        "{text}"
    );
    assert!(text.contains("was rolled back"), "{text}");
    assert!(text.contains("row ID "), "{text}");
    assert!(
        text.contains(&format!("= {lost} references `{lost_table}` row {lost}")),
        "{text}"
    );
    let bptmig_load::Error::ChunkFailed { table, done, .. } = &err else {
        unreachable!()
    };
    assert!(MOVED.contains(&table.as_str()), "{text}");
    assert_only_ledgered_chunks_present(&mut q, &plan, *done).await;

    // Restore the row; the rerun completes and verifies.
    restore(&setup.qa, &mut q, lost_table, lost).await;
    let resumed = bptmig_load::load(config, &NoProgress, &LoadOptions::default())
        .await
        .unwrap();
    assert_eq!(resumed.chunks_skipped, *done);
    assert_eq!(
        resumed.chunks_loaded + resumed.chunks_skipped,
        plan.chunks.len()
    );
    let verified = bptmig_load::verify(config, &NoProgress).await.unwrap();
    assert!(verified.ok(), "{:?}", verified.problems);
}

/// Definitions and principals first referenced by a late chunk (the fifth or later), which
/// qa can lose after the checks: (chunk ordinal, table, ID), first used first.
fn late_references(plan: &LoadPlan) -> Vec<(usize, &'static str, i32)> {
    let mut first_use: HashMap<(&'static str, i32), usize> = HashMap::new();
    let mut parts: HashMap<(usize, usize), RecordBatch> = HashMap::new();
    for (ord, chunk) in plan.chunks.iter().enumerate() {
        let t = &plan.tables[chunk.table];
        if c::is_osevt(&t.name) {
            continue; // no declared foreign keys
        }
        let part = parts
            .entry((chunk.table, chunk.part))
            .or_insert_with(|| t.read_part(chunk.part).unwrap());
        for col in t.model.columns {
            let c::ColumnRole::Fk { kind, table: to } = col.role else {
                continue;
            };
            if kind == c::FkKind::Instance || kind == c::FkKind::Static {
                continue;
            }
            if let Some(a) = part.column_by_name(col.name) {
                let a = a.as_primitive::<Int32Type>();
                for &r in &chunk.rows {
                    if a.is_valid(r as usize) {
                        first_use.entry((to, a.value(r as usize))).or_insert(ord);
                    }
                }
            }
        }
    }
    let mut candidates: Vec<(usize, &'static str, i32)> = first_use
        .iter()
        .filter(|(_, &ord)| ord >= 4)
        .map(|(&(to, v), &ord)| (ord, to, v))
        .collect();
    candidates.sort_unstable();
    assert!(
        !candidates.is_empty(),
        "nothing first used late: {first_use:?}"
    );
    candidates
}

/// Deletes the first of `candidates` qa lets go of: its table and ID.
async fn delete_one(
    q: &mut SqlClient,
    candidates: &[(usize, &'static str, i32)],
) -> (&'static str, i32) {
    for &(_, to, v) in candidates {
        if sql::execute(q, &format!("DELETE FROM {to} WHERE ID = {v}"))
            .await
            .is_ok()
        {
            return (to, v);
        }
    }
    panic!("a row qa can lose");
}

/// Exactly the ledgered chunks (`done` of them) are in qa.
async fn assert_only_ledgered_chunks_present(q: &mut SqlClient, plan: &LoadPlan, done: usize) {
    let ledgered = sql::scalar_i64(q, "SELECT COUNT(*) FROM BPTMIG_LEDGER")
        .await
        .unwrap();
    assert_eq!(ledgered as usize, done);
    let ledgered_rows = sql::scalar_i64(q, "SELECT SUM(ROWS_LOADED) FROM BPTMIG_LEDGER")
        .await
        .unwrap();
    let mut present = 0;
    for (ti, t) in plan.tables.iter().enumerate() {
        let ranges = plan.table_ranges(ti);
        let pred = bptmig_load::plan::range_predicate(t.id_column(), &ranges);
        if t.has_key() {
            present += sql::scalar_i64(q, &format!("SELECT COUNT(*) FROM {} WHERE {pred}", t.name))
                .await
                .unwrap();
        }
    }
    assert_eq!(present, ledgered_rows);
}

/// Inserts row `id` of `table` again, as qa was seeded.
async fn restore(qa: &Environment, q: &mut SqlClient, table: &str, id: i32) {
    let row = qa
        .data
        .rows(table)
        .into_iter()
        .find(|r| r[c::ID].as_int() == Some(i64::from(id)))
        .unwrap();
    let cols: Vec<&str> = row.keys().copied().collect();
    let mut values = String::new();
    for (i, col) in cols.iter().enumerate() {
        if i > 0 {
            values.push_str(", ");
        }
        let v: &Lit = &row[col];
        v.render(&mut values);
    }
    sql::execute(
        q,
        &format!(
            "SET IDENTITY_INSERT {table} ON; INSERT INTO {table} ({}) VALUES ({values}); SET IDENTITY_INSERT {table} OFF",
            cols.join(", ")
        ),
    )
    .await
    .unwrap();
}
