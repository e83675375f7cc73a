//! Identity-aware ID blocks against sandbox servers: a reseeded-shaped qa (explicit rows near
//! 2^31 above an identity that stands at 0) gets its block right after the identity, not
//! above `MAX(ID)` (which would pass the 32-bit limit), and a prod row with ID −2,147,483,648
//! is extracted, moved and verified.
//!
//! The sandbox server does not move an identity past explicit IDs, so a table whose rows
//! were all inserted with explicit IDs is exactly a reseeded one: its identity stays below
//! them. It honours `IDENTITY(-2147483648, 1)`: `IDENT_CURRENT` answers −2,147,483,649 (seed
//! minus increment) before the first row, which gets −2,147,483,648.

use std::path::{Path, PathBuf};
use std::process::Output;

use arrow::array::AsArray as _;
use arrow::datatypes::Int32Type;
use bptmig_model::catalog as c;
use bptmig_sandbox::testing::{self, Cell, Pair};
use bptmig_sandbox::{sql, EnvSpec, SqlClient};

use crate::common;

/// Near the 32-bit limit: a block above it would not fit.
const HIGH: i64 = 2_147_483_000;

const LENIENT: &str = "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
                       unmapped_definition = \"skip-tree\"\nunmoved_reference = \"null\"\n\
                       [load]\nstrategy = \"insert\"\n";

fn stage(name: &str, pipeline: &Path) -> Output {
    common::bptmig(["--quiet", name, "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap()
}

/// Runs stage `name` (exit 0, or 1 for the transform's findings); its output.
fn run_stage(name: &str, pipeline: &Path) -> Output {
    let out = stage(name, pipeline);
    let allowed: &[i32] = if name == "transform" { &[0, 1] } else { &[0] };
    assert!(
        out.status.code().is_some_and(|c| allowed.contains(&c)),
        "{name}: exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn pipeline(pair: &Pair, dir: &Path) -> PathBuf {
    let path = dir.join("pipeline.toml");
    pair.pipeline()
        .workdir(dir.join("work"))
        .extra(LENIENT)
        .write(&path)
        .unwrap();
    path
}

/// The identity line of `OSSYS_BPM_PROCESS` in `check`'s output.
fn identity_line(pipeline: &Path) -> String {
    let check = String::from_utf8_lossy(&stage("check", pipeline).stdout).into_owned();
    check
        .lines()
        .find(|l| l.starts_with("identity in target OSSYS_BPM_PROCESS "))
        .unwrap_or_else(|| panic!("no identity line:\n{check}"))
        .to_owned()
}

async fn scalar(client: &mut SqlClient, sql: &str) -> i64 {
    sql::scalar_i64(client, sql).await.unwrap()
}

/// Gives qa (which holds no history) one process and one activity at ID [`HIGH`], inserted
/// with explicit IDs: `MAX(ID)` near 2^31, the identity still at 0.
async fn reseeded_shape(qa: &mut SqlClient) {
    let pdef = scalar(qa, "SELECT MIN(ID) FROM OSSYS_BPM_PROCESS_DEFINITION").await;
    let adef = scalar(
        qa,
        &format!("SELECT MIN(ID) FROM OSSYS_BPM_ACTIVITY_DEFINITION WHERE PROCESS_DEF_ID = {pdef}"),
    )
    .await;
    let pstatus = scalar(qa, "SELECT MIN(ID) FROM OSSYS_BPM_PROCESS_STATUS").await;
    let astatus = scalar(qa, "SELECT MIN(ID) FROM OSSYS_BPM_ACTIVITY_STATUS").await;
    let when = "CAST('2020-01-01T00:00:00' AS DATETIME)";
    let never = "CAST('1900-01-01T00:00:00' AS DATETIME)";
    sql::execute(
        qa,
        &format!(
            "SET IDENTITY_INSERT OSSYS_BPM_PROCESS ON;\n\
             INSERT INTO OSSYS_BPM_PROCESS (ID, CREATED, PROCESS_DEF_ID, STATUS_ID, \
             LAST_MODIFIED, SUSPENDED_DATE) VALUES ({HIGH}, {when}, {pdef}, {pstatus}, {when}, \
             {never});\nSET IDENTITY_INSERT OSSYS_BPM_PROCESS OFF;"
        ),
    )
    .await
    .unwrap();
    sql::execute(
        qa,
        &format!(
            "SET IDENTITY_INSERT OSSYS_BPM_ACTIVITY ON;\n\
             INSERT INTO OSSYS_BPM_ACTIVITY (ID, ACTIVITY_DEF_ID, PROCESS_ID, CREATED, OPENED, \
             CLOSED, STATUS_ID) VALUES ({HIGH}, {adef}, {HIGH}, {when}, {when}, {never}, \
             {astatus});\nSET IDENTITY_INSERT OSSYS_BPM_ACTIVITY OFF;"
        ),
    )
    .await
    .unwrap();
}

/// Copies prod's top-level process `from` to ID −2,147,483,648, a tree of its own.
async fn lowest_process(prod: &mut SqlClient, from: i64) {
    let columns: Vec<String> = bptmig_db::table_columns(prod, bptmig_db::Side::Source, c::PROCESS)
        .await
        .unwrap()
        .into_iter()
        .map(|col| col.name)
        .filter(|n| !n.eq_ignore_ascii_case(c::ID))
        .collect();
    let values: Vec<String> = columns
        .iter()
        .map(|n| {
            if n.eq_ignore_ascii_case(c::TOP_PROCESS_ID) {
                "-2147483648".to_owned()
            } else {
                n.clone()
            }
        })
        .collect();
    sql::execute(
        prod,
        &format!(
            "SET IDENTITY_INSERT OSSYS_BPM_PROCESS ON;\n\
             INSERT INTO OSSYS_BPM_PROCESS (ID, {}) SELECT -2147483648, {} FROM \
             OSSYS_BPM_PROCESS WHERE ID = {from};\nSET IDENTITY_INSERT OSSYS_BPM_PROCESS OFF;",
            columns.join(", "),
            values.join(", ")
        ),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reseeded_target_gets_the_block_after_its_identity_and_the_lowest_id_moves() {
    let spec = EnvSpec {
        processes: 12,
        qa_processes: 0,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let mut qa = pair.qa.connect().await.unwrap();
    let mut prod = pair.prod.connect().await.unwrap();
    reseeded_shape(&mut qa).await;
    let top = scalar(
        &mut prod,
        "SELECT MIN(ID) FROM OSSYS_BPM_PROCESS WHERE PARENT_PROCESS_ID IS NULL",
    )
    .await;
    lowest_process(&mut prod, top).await;
    let identity = "SELECT CAST(IDENT_CURRENT('OSSYS_BPM_PROCESS') AS BIGINT)";
    assert_eq!(
        scalar(&mut qa, identity).await,
        0,
        "the sandbox's identity stays"
    );

    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(&pair, dir.path());
    let work = dir.path().join("work");
    let line = identity_line(&pipeline);
    assert!(
        line.contains(", below MAX(ID) 2147483000 (reseeded, or"),
        "{line}"
    );
    assert!(
        line.contains("will start at 1 (after the identity 0)"),
        "{line}"
    );

    run_stage("extract", &pipeline);
    let extracted = testing::read_stage(&work, "extract", c::PROCESS).unwrap();
    let olds: Vec<i32> = extracted
        .iter()
        .flat_map(|b| {
            let ids = b.column_by_name(c::ID).unwrap().as_primitive::<Int32Type>();
            ids.values().to_vec()
        })
        .collect();
    assert_eq!(
        olds.first(),
        Some(&i32::MIN),
        "the lowest ID is extracted, first"
    );
    run_stage("transform", &pipeline);
    let line = identity_line(&pipeline);
    let moved = testing::read_id_map(&work, c::PROCESS).unwrap().len();
    assert!(
        line.contains(&format!(
            "block 1..={moved}; identity after the load {moved}"
        )),
        "{line}"
    );
    let ids_json = std::fs::read_to_string(work.join("transform/ids.json")).unwrap();
    assert!(
        ids_json.contains("\"strategy\": \"renumber\""),
        "{ids_json}"
    );
    // Not quiet: its warnings are what this test reads.
    let load = common::bptmig(["load", "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(load.status.code(), Some(0), "{load:?}");
    run_stage("verify", &pipeline);

    // Every moved process and activity lies right after the identity, dense from 1; the
    // reseeded shape's rows stay the largest.
    let map = testing::read_id_map(&work, c::PROCESS).unwrap();
    let moved = map.len() as i64;
    assert!(moved > 12, "{moved} processes moved");
    assert_eq!(
        map.get(&i32::MIN),
        Some(&1),
        "the lowest ID, first in source-ID order"
    );
    // This server does not move the identity past the explicit IDs: the load says what to
    // run.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&load.stdout),
        String::from_utf8_lossy(&load.stderr)
    );
    let reseed = format!("`DBCC CHECKIDENT (N'OSSYS_BPM_PROCESS', RESEED, {moved})`");
    assert!(said.contains(&reseed), "{said}");
    for table in [c::PROCESS, c::ACTIVITY] {
        let map = testing::read_id_map(&work, table).unwrap();
        let n = map.len() as i64;
        let mut news: Vec<i32> = map.values().copied().collect();
        news.sort_unstable();
        assert_eq!(news.first().copied(), Some(1), "{table}");
        assert_eq!(news.last().map(|v| i64::from(*v)), Some(n), "{table}");
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE ID BETWEEN 1 AND {n}");
        assert_eq!(scalar(&mut qa, &sql).await, n, "{table} rows in the block");
        let max = format!("SELECT MAX(ID) FROM {table}");
        assert_eq!(scalar(&mut qa, &max).await, HIGH, "{table}");
    }
}

/// Rewrites the source snapshot's identities of processes and activities as SQL Server
/// would have answered for `prod`: the identity at the newest (largest negative) ID, and
/// explicit IDs moving identities. The sandbox server answers that they do not (its
/// identities stay at 0 under the seeded explicit IDs), so on it a reseed cannot be told
/// from rows inserted with explicit IDs; everything else of the snapshot stays as read.
fn restate_source_as_sql_server(work: &Path, newest: &[(&str, i64)]) {
    use bptmig_workdir::layout::INSTANCE_STATS;
    use bptmig_workdir::snapshot::TableStats;
    use bptmig_workdir::Manifest;
    let dir = bptmig_workdir::WorkDir::new(work).snapshot_dir("source");
    let stats = bptmig_transform::maps::Snapshot::new(dir.clone())
        .instance_stats()
        .unwrap();
    let restated: Vec<TableStats<'_>> = stats
        .iter()
        .map(|(table, s)| {
            let mut identity = s.identity;
            if let (Some(id), Some((_, current))) =
                (identity.as_mut(), newest.iter().find(|(t, _)| t == table))
            {
                id.current = Some(*current);
                id.follows_explicit = Some(true);
            }
            TableStats {
                table,
                rows: s.rows,
                max_id: s.max_id,
                identity,
            }
        })
        .collect();
    assert!(restated.iter().any(|s| s.identity.is_some()), "{stats:?}");
    let mut manifest = Manifest::read(&dir).unwrap().unwrap();
    let entry = bptmig_workdir::part::write_instance_stats(&dir, &manifest.run_id, &restated, 1024)
        .unwrap();
    let file = format!("{INSTANCE_STATS}.parquet");
    let at = manifest.parts.iter().position(|p| p.file == file).unwrap();
    manifest.parts[at] = entry;
    manifest.write(&dir).unwrap();
}

/// `(ID, PRECEDENT_ACTIVITY_ID)` of every row of `transform/deferred.parquet` of `table`.
fn deferred(work: &Path, table: &str, column: &str) -> Vec<(i32, i32)> {
    let path = work.join("transform/deferred.parquet");
    let batches = bptmig_workdir::part::PartReader::open(&path)
        .unwrap()
        .read_all()
        .unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let t = b.column_by_name("TABLE").unwrap().as_string::<i32>();
        let col = b.column_by_name("COLUMN").unwrap().as_string::<i32>();
        let id = b.column_by_name("ID").unwrap().as_primitive::<Int32Type>();
        let v = b
            .column_by_name("VALUE")
            .unwrap()
            .as_primitive::<Int32Type>();
        for i in 0..b.num_rows() {
            if t.value(i) == table && col.value(i) == column {
                out.push((id.value(i), v.value(i)));
            }
        }
    }
    out
}

/// A source reseeded to −2,147,483,648 (its newer rows below its older ones, one process
/// spanning the reseed) is renumbered in creation order: the older rows first, each side in
/// its order, top-level processes in the order of their `CREATED`; an activity loaded
/// before its older precedent (source-ID order) gets it by a deferred fix-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reseeded_source_is_renumbered_in_creation_order() {
    let spec = EnvSpec {
        processes: 12,
        qa_processes: 0,
        reseeded: true,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let mut prod = pair.prod.connect().await.unwrap();
    let mut qa = pair.qa.connect().await.unwrap();
    let newest_process = scalar(
        &mut prod,
        "SELECT MAX(ID) FROM OSSYS_BPM_PROCESS WHERE ID < 0",
    )
    .await;
    let newest_activity = scalar(
        &mut prod,
        "SELECT MAX(ID) FROM OSSYS_BPM_ACTIVITY WHERE ID < 0",
    )
    .await;
    // The activity made right after the reseed, whose precedent was made before it.
    let (_, spanning) = query_cells(
        &mut prod,
        "SELECT ID, PRECEDENT_ACTIVITY_ID FROM OSSYS_BPM_ACTIVITY \
         WHERE ID < 0 AND PRECEDENT_ACTIVITY_ID > 0",
    )
    .await;
    assert_eq!(spanning.len(), 1, "{spanning:?}");
    let (after, before) = (int(&spanning[0][0]) as i32, int(&spanning[0][1]) as i32);

    let dir = tempfile::tempdir().unwrap();
    // Small parts and chunks: the numbering turns inside one, and a precedent lies in
    // another part or chunk than its activity.
    let pipeline = dir.path().join("pipeline.toml");
    let small = "chunk_rows = 64\n[extract]\npart_rows = 100\n";
    pair.pipeline()
        .workdir(dir.path().join("work"))
        .extra(&format!("{LENIENT}{small}"))
        .write(&pipeline)
        .unwrap();
    let work = dir.path().join("work");
    let newest = [(c::PROCESS, newest_process), (c::ACTIVITY, newest_activity)];
    extract_snapshot_after_rows(&pipeline);
    older_snapshot_is_refused_until_extracted_again(&pipeline, &work, &newest);
    restate_source_as_sql_server(&work, &newest);
    run_stage("transform", &pipeline);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("report.json")).unwrap()).unwrap();
    let reseeded = report["source_reseeded"].as_array().unwrap();
    for (table, newest) in [(c::PROCESS, newest_process), (c::ACTIVITY, newest_activity)] {
        let r = reseeded
            .iter()
            .find(|r| r["table"] == table)
            .unwrap_or_else(|| panic!("{table}: {reseeded:?}"));
        assert_eq!(r["identity"], newest, "{r}");
        let map = testing::read_id_map(&work, table).unwrap();
        let older = map.keys().filter(|o| **o > 0).count() as u64;
        assert_eq!(r["older_rows"], older, "{r}");
        assert_eq!(r["newer_rows"], map.len() as u64 - older, "{r}");
        // Creation order: the older rows (positive) ascending, then the newer ascending.
        let mut olds: Vec<i32> = map.keys().copied().collect();
        olds.sort_unstable_by_key(|o| (*o < 0, *o));
        let news: Vec<i32> = olds.iter().map(|o| map[o]).collect();
        let first = news[0];
        let dense: Vec<i32> = (first..first + news.len() as i32).collect();
        assert_eq!(news, dense, "{table}: new IDs in creation order");
    }
    let activities = testing::read_id_map(&work, c::ACTIVITY).unwrap();
    let fix = (activities[&after], activities[&before]);
    assert!(
        deferred(&work, c::ACTIVITY, c::PRECEDENT_ACTIVITY_ID).contains(&fix),
        "activity {after} is loaded before its precedent {before}: deferred"
    );

    // The parts' bounds are their smallest and largest new IDs, not their first and last.
    let processes = testing::read_id_map(&work, c::PROCESS).unwrap().len();
    let line = identity_line(&pipeline);
    assert!(line.contains(&format!("block 1..={processes};")), "{line}");
    run_stage("load", &pipeline);
    run_stage("verify", &pipeline);
    let got = scalar(
        &mut qa,
        &format!(
            "SELECT PRECEDENT_ACTIVITY_ID FROM OSSYS_BPM_ACTIVITY WHERE ID = {}",
            fix.0
        ),
    )
    .await;
    assert_eq!(got, i64::from(fix.1));
    // The target's top-level processes: ID order is CREATED order (prod's is not).
    let created = "SELECT ID, CONVERT(VARCHAR(33), CREATED, 126) FROM OSSYS_BPM_PROCESS \
                   WHERE PARENT_PROCESS_ID IS NULL ORDER BY ID";
    let in_order = |rows: &[Vec<Cell>]| {
        let times: Vec<String> = rows.iter().map(|r| text(&r[1])).collect();
        times.windows(2).all(|w| w[0] <= w[1])
    };
    let (_, source_rows) = query_cells(&mut prod, created).await;
    assert!(
        !in_order(&source_rows),
        "prod's IDs are not in creation order"
    );
    let (_, target_rows) = query_cells(&mut qa, created).await;
    assert!(target_rows.len() > 6, "{target_rows:?}");
    assert!(in_order(&target_rows), "{target_rows:?}");
}

/// Runs the extract (verbose) and checks that it took the source snapshot after the rows.
fn extract_snapshot_after_rows(pipeline: &Path) {
    let extract = common::bptmig(["-v", "extract", "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&extract.stderr).into_owned();
    assert_eq!(extract.status.code(), Some(0), "{said}");
    let at = |what: &str| {
        said.rfind(what)
            .unwrap_or_else(|| panic!("no `{what}` in:\n{said}"))
    };
    assert!(
        at("snapshot of the source written") > at("OSSYS_BPM_ACTIVITY_OUTPUT"),
        "{said}"
    );
}

/// A work directory whose source snapshot an older bptmig took first (`run.json` without
/// `source_snapshot_after_rows`) is refused by the transform until the extract takes the
/// snapshot again, keeping the rows.
fn older_snapshot_is_refused_until_extracted_again(
    pipeline: &Path,
    work: &Path,
    newest: &[(&str, i64)],
) {
    // A work directory whose source snapshot an older bptmig took first is refused until
    // the extract takes it again (the rows stay).
    let run_file = work.join("run.json");
    let mut run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&run_file).unwrap()).unwrap();
    assert_eq!(run["source_snapshot_after_rows"], true, "{run}");
    run.as_object_mut()
        .unwrap()
        .remove("source_snapshot_after_rows");
    std::fs::write(&run_file, serde_json::to_vec(&run).unwrap()).unwrap();
    restate_source_as_sql_server(work, newest);
    let refused = stage("transform", pipeline);
    let why = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(2), "{why}");
    assert!(why.contains("taken before the rows"), "{why}");
    assert!(why.contains("run `bptmig extract` again"), "{why}");
    let parts =
        |w: &Path| std::fs::read(w.join("extract/OSSYS_BPM_ACTIVITY/manifest.json")).unwrap();
    let listed = parts(work);
    run_stage("extract", pipeline);
    assert_eq!(parts(work), listed, "the extracted rows stay");
}

async fn query_cells(client: &mut SqlClient, sql: &str) -> (Vec<String>, Vec<Vec<Cell>>) {
    testing::query_cells(client, sql).await.unwrap()
}

fn int(cell: &Cell) -> i64 {
    match cell {
        Cell::Int(v) => *v,
        other => panic!("{other:?}"),
    }
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(v) => v.clone(),
        other => panic!("{other:?}"),
    }
}
