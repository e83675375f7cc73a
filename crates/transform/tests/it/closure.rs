//! Referential closure, determinism and ID-block checks over generated work directories.

use std::collections::HashSet;
use std::path::Path;

use bptmig_model::catalog::{self as c, ColumnRole, FkKind};
use bptmig_model::NoProgress;
use bptmig_sandbox::generator::CANDIDATE_EVENT_TABLE;

use crate::generated::{config, copy_dir, generated, mark_running, with_clean_copy, POLICIES};
use crate::{ints, read_stage, relist, snapshot};

/// Every FK of every output row points at an output row or a target snapshot row.
fn assert_closed(workdir: &Path) {
    let out_ids = |t: &str| -> HashSet<i32> {
        ints(&read_stage(workdir, "transform", t), c::ID)
            .into_iter()
            .flatten()
            .collect()
    };
    let target_ids =
        |t: &str| -> HashSet<i32> { snapshot(workdir, "target", t).into_keys().collect() };
    for table in c::INSTANCE_TABLES
        .iter()
        .copied()
        .chain([c::osevt_table("OSEVT_*")])
    {
        let name = if table.key.is_some() {
            table.name
        } else {
            CANDIDATE_EVENT_TABLE
        };
        let batches = read_stage(workdir, "transform", name);
        assert!(!batches.is_empty(), "{name} has no output");
        for col in table.columns {
            let ColumnRole::Fk { kind, table: to } = col.role else {
                continue;
            };
            let allowed = match kind {
                FkKind::Instance => out_ids(to),
                FkKind::Static => continue,
                _ => target_ids(to),
            };
            for v in ints(&batches, col.name).into_iter().flatten() {
                assert!(
                    allowed.contains(&v),
                    "{name}.{} = {v} points nowhere in the target",
                    col.name
                );
            }
        }
    }
}

#[test]
fn every_reference_of_generated_histories_of_several_shapes_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, processes, part_rows) in [(1, 40, 1000), (7, 150, 97), (23, 400, 333)] {
        let wd = generated(dir.path(), seed, processes, part_rows);
        let summary =
            bptmig_transform::transform(&config(dir.path(), &wd, POLICIES), &NoProgress).unwrap();
        assert_closed(&wd);
        let t = &summary.report.tables[c::PROCESS];
        assert!(t.rows_out > 0 && t.rows_out <= t.rows_in, "seed {seed}");
        assert!(
            !summary.report.skipped_trees.is_empty(),
            "the prod-only definition's trees are skipped"
        );
        // Moved rows get a dense block above the target's maximum ID, in source order.
        let ids: Vec<i32> = ints(&read_stage(&wd, "transform", c::ACTIVITY), c::ID)
            .into_iter()
            .flatten()
            .collect();
        assert!(
            ids.windows(2).all(|w| w[1] == w[0] + 1),
            "seed {seed}: dense and ordered"
        );
        let qa_max = snapshot(&wd, "target", c::USER).len(); // any small number: qa history is tiny
        assert!(ids[0] > 0 && qa_max > 0);
    }
}

#[test]
fn outputs_are_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let one = generated(dir.path(), 5, 200, 150);
    let many = dir.path().join("copy");
    copy_dir(&one, &many);
    let run = |wd: &Path, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            bptmig_transform::transform(&config(dir.path(), wd, POLICIES), &NoProgress).unwrap()
        });
    };
    run(&one, 1);
    run(&many, 4);
    assert_same_transform(&one, &many);
}

/// Every output table's manifest (with each part's SHA-256) and `deferred.parquet` are the
/// same in two work directories.
fn assert_same_transform(a: &Path, b: &Path) {
    let tables = c::INSTANCE_TABLES.iter().map(|t| t.name);
    for t in tables.chain([CANDIDATE_EVENT_TABLE]) {
        let manifest =
            |wd: &Path| std::fs::read(wd.join("transform").join(t).join("manifest.json"));
        assert_eq!(
            manifest(a).unwrap(),
            manifest(b).unwrap(),
            "{t}: manifests (with every part's SHA-256) differ"
        );
    }
    assert_eq!(
        std::fs::read(a.join("transform/deferred.parquet")).unwrap(),
        std::fs::read(b.join("transform/deferred.parquet")).unwrap()
    );
}

#[test]
fn a_missing_definition_fails_under_fail_and_skips_trees_under_skip_tree() {
    let dir = tempfile::tempdir().unwrap();
    let wd = generated(dir.path(), 3, 60, 1000);
    let fail = "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n";
    let err = bptmig_transform::transform(&config(dir.path(), &wd, fail), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ProdOnlyAudit") && err.contains("skip-tree"),
        "{err}"
    );

    let summary =
        bptmig_transform::transform(&config(dir.path(), &wd, POLICIES), &NoProgress).unwrap();
    let skipped: HashSet<i32> = summary
        .report
        .skipped_trees
        .iter()
        .map(|s| s.root_id as i32)
        .collect();
    assert!(summary
        .report
        .skipped_trees
        .iter()
        .all(|s| s.reason.contains("ProdOnlyAudit")));
    // No row of a skipped tree remains in any table.
    let procs_in = read_stage(&wd, "extract", c::PROCESS);
    let gone: HashSet<i32> = ints(&procs_in, c::ID)
        .into_iter()
        .zip(ints(&procs_in, c::TOP_PROCESS_ID))
        .filter(|(_, top)| top.is_some_and(|t| skipped.contains(&t)))
        .filter_map(|(id, _)| id)
        .collect();
    assert!(!gone.is_empty());
    let map = crate::id_map(&wd, c::PROCESS);
    assert!(gone.iter().all(|id| !map.contains_key(id)));
    let inputs_out = summary.report.tables[c::PROCESS_INPUT].rows_out;
    let inputs_in = summary.report.tables[c::PROCESS_INPUT].rows_in;
    assert!(inputs_out < inputs_in);
    assert!(summary.report.problems > 0);
}

#[test]
fn an_id_block_past_32_bits_is_refused_with_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let wd = generated(dir.path(), 9, 30, 1000);
    // Pretend the target's processes already reach close to the limit.
    let stats = wd.join("extract/snapshot/target/instance_stats.parquet");
    let b = bptmig_transform::maps::read_parquet(&stats).unwrap();
    let schema = b[0].schema();
    let names = crate::texts(&b, "TABLE");
    let max: Vec<Option<i64>> = names
        .iter()
        .map(|n| {
            Some(if n.as_deref() == Some(c::PROCESS) {
                i64::from(i32::MAX) - 5
            } else {
                10
            })
        })
        .collect();
    let batch = arrow::array::RecordBatch::try_new(
        schema.clone(),
        vec![
            b[0].column(0).clone(),
            b[0].column(1).clone(),
            std::sync::Arc::new(arrow::array::Int64Array::from(max)),
        ],
    )
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder().build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&stats).unwrap(),
        schema,
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    relist(&stats);
    let err = bptmig_transform::transform(&config(dir.path(), &wd, POLICIES), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(c::PROCESS) && err.contains("2147483642") && err.contains("32-bit"),
        "{err}"
    );

    let keep = format!("{POLICIES}[ids]\nstrategy = \"keep\"\n");
    let err = bptmig_transform::transform(&config(dir.path(), &wd, &keep), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("keep") && err.contains("renumber"), "{err}");
}

#[test]
fn duplicate_target_keys_prefer_the_active_row_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let wd = generated(dir.path(), 4, 30, 1000);
    // qa gets a second, inactive copy of every process definition (same SS_KEY, new ID).
    let path = wd
        .join("extract/snapshot/target")
        .join(format!("{}.parquet", c::PROCESS_DEFINITION));
    let b = bptmig_transform::maps::read_parquet(&path).unwrap();
    let batch = arrow::compute::concat_batches(&b[0].schema(), &b).unwrap();
    let schema = batch.schema();
    let copy: Vec<arrow::array::ArrayRef> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, col)| -> arrow::array::ArrayRef {
            match f.name().as_str() {
                "ID" => std::sync::Arc::new(arrow::array::Int32Array::from_iter_values(
                    (0..batch.num_rows() as i32).map(|i| 900 + i),
                )),
                "IS_ACTIVE" => {
                    std::sync::Arc::new(arrow::array::BooleanArray::from(vec![
                        false;
                        batch.num_rows()
                    ]))
                }
                _ => col.clone(),
            }
        })
        .collect();
    let dup = arrow::array::RecordBatch::try_new(schema.clone(), copy).unwrap();
    let both = arrow::compute::concat_batches(&schema, &[dup, batch.clone()]).unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None)
            .unwrap();
    w.write(&both).unwrap();
    w.close().unwrap();
    relist(&path);

    let summary =
        bptmig_transform::transform(&config(dir.path(), &wd, POLICIES), &NoProgress).unwrap();
    let dups = &summary.report.duplicate_definitions;
    assert_eq!(dups.len(), batch.num_rows());
    assert!(
        dups.iter()
            .all(|d| d.chosen < 900 && d.target_ids.len() == 2),
        "{dups:?}"
    );
    let defs: HashSet<i32> = ints(&read_stage(&wd, "transform", c::PROCESS), c::PROCESS_DEF_ID)
        .into_iter()
        .flatten()
        .collect();
    assert!(defs.iter().all(|d| *d < 900), "the active row is used");
}

#[test]
fn user_policies_fail_with_every_name_or_map_to_the_named_user() {
    let dir = tempfile::tempdir().unwrap();
    let wd = generated(dir.path(), 2, 200, 1000);
    let fail = "[mapping]\nunmapped_user = \"fail\"\nunmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n";
    let err = bptmig_transform::transform(&config(dir.path(), &wd, fail), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("prod.only") && err.contains("ops.bot") && err.contains("unmapped_user"),
        "{err}"
    );

    let to = "[mapping]\nunmapped_user = \"user:qa.tester\"\nunmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n";
    let summary = bptmig_transform::transform(&config(dir.path(), &wd, to), &NoProgress).unwrap();
    let tester = snapshot(&wd, "target", c::USER)
        .into_iter()
        .find(|(_, r)| r[c::USERNAME] == "qa.tester")
        .unwrap()
        .0;
    let users: Vec<i32> = ints(&read_stage(&wd, "transform", c::ACTIVITY), c::USER_ID)
        .into_iter()
        .flatten()
        .collect();
    assert!(users.contains(&tester), "unmapped users go to qa.tester");
    assert!(summary
        .report
        .unmapped_principals
        .iter()
        .any(|u| u.name == "prod.only"));
}

#[test]
fn an_interrupted_transform_keeps_finished_tables_and_ends_identical() {
    let dir = tempfile::tempdir().unwrap();
    let wd = generated(dir.path(), 6, 120, 200);
    let cfg = config(dir.path(), &wd, POLICIES);
    bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    let manifest =
        |t: &str| std::fs::read(wd.join("transform").join(t).join("manifest.json")).unwrap();
    let (process, activity) = (manifest(c::PROCESS), manifest(c::ACTIVITY));
    let deferred = std::fs::read(wd.join("transform/deferred.parquet")).unwrap();
    let kept_part = wd
        .join("transform")
        .join(c::PROCESS)
        .join("part-00000.parquet");
    let stamp = std::fs::metadata(&kept_part).unwrap().modified().unwrap();

    // As a crash during ACTIVITY leaves it: stage running, ACTIVITY half written.
    mark_running(&wd);
    std::fs::remove_file(wd.join(format!("transform/{}.done.json", c::ACTIVITY))).unwrap();
    std::fs::remove_file(
        wd.join("transform")
            .join(c::ACTIVITY)
            .join("part-00001.parquet"),
    )
    .unwrap();
    std::fs::write(
        wd.join("transform")
            .join(c::ACTIVITY)
            .join("part-00002.parquet.tmp"),
        b"half",
    )
    .unwrap();

    let again = bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    assert!(!again.already_done);
    assert_eq!(
        std::fs::metadata(&kept_part).unwrap().modified().unwrap(),
        stamp,
        "PROCESS was kept, not redone"
    );
    assert_eq!(manifest(c::PROCESS), process);
    assert_eq!(
        manifest(c::ACTIVITY),
        activity,
        "ACTIVITY redone identically"
    );
    assert_eq!(
        std::fs::read(wd.join("transform/deferred.parquet")).unwrap(),
        deferred
    );
    assert!(!wd
        .join("transform")
        .join(c::ACTIVITY)
        .join("part-00002.parquet.tmp")
        .exists());

    // Another policy is another plan: nothing finished under the old one is kept.
    mark_running(&wd);
    let other = POLICIES.replace(
        "unmapped_user = \"null\"",
        "unmapped_user = \"user:qa.tester\"",
    );
    bptmig_transform::transform(&config(dir.path(), &wd, &other), &NoProgress).unwrap();
    assert_ne!(
        manifest(c::PROCESS),
        process,
        "PROCESS redone under the new policy"
    );
}

#[test]
fn a_corrupt_input_part_stops_with_its_path_and_the_rerun_after_repair_ends_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (wd, clean) = with_clean_copy(dir.path(), 8);

    // A part in the middle of the queue is unreadable: the stage stops and names it.
    let part = wd
        .join("extract")
        .join(c::PROCESS_OUTPUT)
        .join("part-00000.parquet");
    let good = std::fs::read(&part).unwrap();
    std::fs::write(&part, b"not parquet at all").unwrap();
    let cfg = config(dir.path(), &wd, POLICIES);
    let err = bptmig_transform::transform(&cfg, &NoProgress).unwrap_err();
    assert!(
        err.to_string().contains(&part.display().to_string()),
        "{err}"
    );
    assert!(
        !wd.join(format!("transform/{}.done.json", c::PROCESS_OUTPUT))
            .exists(),
        "the table with the bad part is not finished"
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wd.join("run.json")).unwrap()).unwrap();
    assert_ne!(run["stages"]["transform"], "done");

    // Repaired, the same command finishes what is left, identical to a clean transform.
    std::fs::write(&part, good).unwrap();
    bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    assert_same_transform(&wd, &clean);
}

#[test]
fn a_part_that_cannot_be_written_stops_phase_2_keeping_finished_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (wd, clean) = with_clean_copy(dir.path(), 9);

    // A directory squats on the temporary name of one output part.
    let squat = wd
        .join("transform")
        .join(c::PROCESS_OUTPUT)
        .join("part-00000.parquet.tmp");
    std::fs::create_dir_all(&squat).unwrap();
    let cfg = config(dir.path(), &wd, POLICIES);
    let err = bptmig_transform::transform(&cfg, &NoProgress).unwrap_err();
    assert!(
        err.to_string().contains(&squat.display().to_string()),
        "{err}"
    );
    let done = |t: &str| wd.join(format!("transform/{t}.done.json")).exists();
    assert!(!done(c::PROCESS_OUTPUT));
    let finished: Vec<&str> = [
        c::PROCESS,
        c::ACTIVITY,
        c::PROCESS_INPUT,
        c::ACTIVITY_OUTPUT,
    ]
    .into_iter()
    .filter(|t| done(t))
    .collect();

    std::fs::remove_dir(&squat).unwrap();
    let written = |t: &&str| {
        std::fs::metadata(wd.join(format!("transform/{t}.done.json")))
            .and_then(|m| m.modified())
            .unwrap()
    };
    let stamps: Vec<_> = finished.iter().map(written).collect();
    bptmig_transform::transform(&cfg, &NoProgress).unwrap();
    let after: Vec<_> = finished.iter().map(written).collect();
    assert_eq!(after, stamps, "finished tables {finished:?} are kept");
    assert_same_transform(&wd, &clean);
}
