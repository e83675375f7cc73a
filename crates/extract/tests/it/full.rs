use bptmig_model::catalog as c;
use bptmig_sandbox::generator::CANDIDATE_EVENT_TABLE;
use bptmig_sandbox::EnvSpec;
use bptmig_workdir::part::{META_COLUMN_ROLES, META_RUN_ID, META_TABLE};
use bptmig_workdir::{Manifest, RunState, WorkDir};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::{envs, ids, pipeline_for, processes, read_file, read_table, rows_by_key, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_and_value_arrives_exactly() {
    let (prod, qa) = envs(&EnvSpec::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // Small parts and row groups so every table spans several of each.
    let config = pipeline_for(
        dir.path(),
        &prod,
        &qa,
        "[extract]\npart_rows = 150\nrow_group_rows = 40\n",
    );
    let summary = crate::extract(&config).await.unwrap();
    assert!(!summary.already_done);
    assert_eq!(
        summary.roots as usize,
        prod.data
            .rows(c::PROCESS)
            .iter()
            .filter(|r| r[c::PARENT_PROCESS_ID] == bptmig_sandbox::Lit::Null)
            .count()
    );

    for table in [
        c::PROCESS,
        c::ACTIVITY,
        c::PROCESS_INPUT,
        c::PROCESS_OUTPUT,
        c::ACTIVITY_OUTPUT,
    ] {
        let got = rows_by_key(&read_table(&config.workdir, table), c::ID);
        let expected = prod.data.rows(table);
        assert_eq!(got.len(), expected.len(), "{table} row count");
        for row in &expected {
            let id = row[c::ID].as_int().unwrap();
            let g = &got[&id];
            for (col, value) in row {
                assert_eq!(&g[*col], value, "{table} {id} {col}");
            }
        }
        let t = summary.tables.iter().find(|t| t.table == table).unwrap();
        assert_eq!(t.rows as usize, expected.len());
        if expected.len() > 150 {
            assert!(t.parts > 1, "{table} should span several parts");
        }
    }

    // Only subscriptions of moved activities: the definition's Launch-On row stays.
    let evt = read_table(&config.workdir, CANDIDATE_EVENT_TABLE);
    let evt_acts = ids(&evt, c::EVT_ACTIVITY_ID);
    let expected = prod
        .data
        .rows(CANDIDATE_EVENT_TABLE)
        .iter()
        .filter(|r| r[c::EVT_ACTIVITY_ID].as_int().is_some())
        .count();
    assert_eq!(evt_acts.len(), expected);
    assert!(evt_acts.iter().all(Option::is_some));

    // Parts carry the run id, table and column roles; rows are ordered by key across parts.
    let run = RunState::read(&WorkDir::new(&config.workdir))
        .unwrap()
        .unwrap();
    let adir = config.workdir.join("extract").join(c::ACTIVITY);
    let manifest = Manifest::read(&adir).unwrap().unwrap();
    let mut last = None;
    for part in &manifest.parts {
        let reader =
            SerializedFileReader::new(std::fs::File::open(adir.join(&part.file)).unwrap()).unwrap();
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap()
            .clone();
        let get = |k: &str| {
            kv.iter()
                .find(|e| e.key == k)
                .and_then(|e| e.value.clone())
                .unwrap()
        };
        assert_eq!(get(META_RUN_ID), run.run_id);
        assert_eq!(get(META_TABLE), c::ACTIVITY);
        assert!(get(META_COLUMN_ROLES).contains(r#""PROCESS_ID":"fk:instance:OSSYS_BPM_PROCESS""#));
        assert!(reader
            .metadata()
            .row_groups()
            .iter()
            .all(|rg| rg.num_rows() <= 40));
        let keys = ids(&read_file(&adir.join(&part.file)), c::ID);
        assert_eq!(part.min_key, keys.first().copied().flatten());
        assert_eq!(part.max_key, keys.last().copied().flatten());
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(last < part.min_key);
        last = part.max_key;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_hold_both_environments_without_secrets() {
    let test = setup(&processes(10), "").await;
    let (prod, qa, config) = (&test.prod, &test.qa, &test.config);
    crate::extract(config).await.unwrap();
    for (side, env) in [("source", &prod), ("target", &qa)] {
        let snap = config.workdir.join("extract/snapshot").join(side);
        for table in [
            c::ESPACE,
            c::TENANT,
            c::USER,
            c::GROUP,
            c::ENTITY,
            c::PROCESS_DEFINITION,
            c::ACTIVITY_DEFINITION,
            c::PROCESS_STATUS,
        ] {
            let batches = read_file(&snap.join(format!("{table}.parquet")));
            let got = rows_by_key(&batches, c::ID);
            let expected = if table == c::PROCESS_STATUS {
                4
            } else {
                env.data.count(table)
            };
            assert_eq!(got.len(), expected, "{side} {table}");
        }
        let users = read_file(&snap.join(format!("{}.parquet", c::USER)));
        let names: Vec<_> = users[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert!(!names.iter().any(|n| n == "PASSWORD"), "{names:?}");
        assert!(names.iter().any(|n| n == c::USERNAME));

        let stats = rows_by_key_text(&read_file(&snap.join("instance_stats.parquet")));
        let max_process = env
            .data
            .rows(c::PROCESS)
            .iter()
            .filter_map(|r| r[c::ID].as_int())
            .max();
        assert_eq!(
            stats[c::PROCESS],
            (env.data.count(c::PROCESS) as i64, max_process)
        );
    }
}

fn rows_by_key_text(
    batches: &[arrow::record_batch::RecordBatch],
) -> std::collections::BTreeMap<String, (i64, Option<i64>)> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    let mut out = std::collections::BTreeMap::new();
    for b in batches {
        let t = b.column(0).as_string::<i32>();
        let r = b.column(1).as_primitive::<Int64Type>();
        let m = b.column(2).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.insert(
                t.value(i).to_owned(),
                (r.value(i), m.is_valid(i).then(|| m.value(i))),
            );
        }
    }
    out
}
