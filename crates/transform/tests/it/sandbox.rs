//! End to end: extract sandbox prod, transform against qa's snapshot.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::RecordBatch;
use bptmig_model::catalog as c;
use bptmig_model::NoProgress;
use bptmig_sandbox::{EnvKind, EnvSpec, Environment};
use bptmig_transform::Report;

use crate::{id_map, ints, pipeline, read_stage, snapshot, texts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_and_users_land_on_their_namesakes_in_qa() {
    let spec = EnvSpec::default();
    let prod = Environment::start(EnvKind::Prod, &spec).await.unwrap();
    let qa = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wd = dir.path().join("work");
    let config = extracted(dir.path(), &wd, &prod, &qa).await;
    let summary = bptmig_transform::transform(&config, &NoProgress).unwrap();
    let report = &summary.report;

    let processes = Processes::read(&wd);
    assert_definitions_are_namesakes(&wd, &processes);
    assert_users_are_namesakes(&wd, &processes, report);
    assert_entity_references_go_through_the_map(&wd, report);
    assert_locks_levels_and_deferred(&wd, &processes, report);

    // A second run does nothing.
    let again = bptmig_transform::transform(&config, &NoProgress).unwrap();
    assert!(again.already_done);
}

/// Prod extracted into `wd`, with a mapping file (prod user #2, maria.silva, goes to qa.lead
/// instead of her namesake) and an entity map for candidates 1 and 2.
async fn extracted(
    dir: &Path,
    wd: &Path,
    prod: &Environment,
    qa: &Environment,
) -> bptmig_model::PipelineConfig {
    std::fs::write(dir.join("map.csv"), "kind,source,target\nuser,#2,qa.lead\n").unwrap();
    std::fs::write(
        dir.join("candidates.csv"),
        "old_id,new_id\n1,1001\n2,1002\n",
    )
    .unwrap();
    let extra = format!(
        "[mapping]\nfile = \"{}\"\nunmapped_user = \"null\"\nunmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n[mapping.entity_maps]\nOSUSR_3AR_CANDIDATE = \"{}\"\n",
        dir.join("map.csv").display(),
        dir.join("candidates.csv").display()
    );
    let config = pipeline(
        dir,
        wd,
        &prod.server.connection_template("PW"),
        &qa.server.connection_template("PW"),
        &extra,
    );
    bptmig_extract::extract(
        &config,
        &NoProgress,
        &bptmig_extract::ExtractOptions::default(),
    )
    .await
    .unwrap();
    config
}

/// The processes before and after the transform, and how their IDs relate.
struct Processes {
    before: Vec<RecordBatch>,
    after: Vec<RecordBatch>,
    /// Source process ID → its source definition ID.
    old_def: HashMap<i32, i32>,
    /// New process ID → source process ID.
    new_to_old: HashMap<i32, i32>,
}

impl Processes {
    fn read(wd: &Path) -> Self {
        let before = read_stage(wd, "extract", c::PROCESS);
        let after = read_stage(wd, "transform", c::PROCESS);
        let old_def = ints(&before, c::ID)
            .into_iter()
            .zip(ints(&before, c::PROCESS_DEF_ID))
            .map(|(a, b)| (a.unwrap(), b.unwrap()))
            .collect();
        let new_to_old = id_map(wd, c::PROCESS)
            .iter()
            .map(|(o, n)| (*n, *o))
            .collect();
        Self {
            before,
            after,
            old_def,
            new_to_old,
        }
    }
}

/// Definitions: the source row's (eSpace key, key) equals the target's of the new ID.
fn assert_definitions_are_namesakes(wd: &Path, processes: &Processes) {
    let def_key = |side: &str| {
        let esp = snapshot(wd, side, c::ESPACE);
        snapshot(wd, side, c::PROCESS_DEFINITION)
            .into_iter()
            .map(|(id, r)| {
                (
                    id,
                    (
                        esp[&r[c::ESPACE_ID].parse::<i32>().unwrap()][c::SS_KEY].clone(),
                        r[c::SS_KEY].clone(),
                    ),
                )
            })
            .collect::<HashMap<_, _>>()
    };
    let (src_def, tgt_def) = (def_key("source"), def_key("target"));
    let Processes {
        after,
        old_def,
        new_to_old,
        ..
    } = processes;
    let mut checked = 0;
    for (new_id, new_def) in ints(after, c::ID)
        .into_iter()
        .zip(ints(after, c::PROCESS_DEF_ID))
    {
        let old = new_to_old[&new_id.unwrap()];
        assert_eq!(
            src_def[&old_def[&old]],
            tgt_def[&new_def.unwrap()],
            "process {old}"
        );
        assert_ne!(
            old_def[&old],
            new_def.unwrap(),
            "IDs differ between prod and qa"
        );
        checked += 1;
    }
    assert!(checked > 100);
}

/// Users: same username in qa, except the mapping file's override and NULL for the users qa
/// lacks; each user written as NULL is listed with its count and a real source row.
fn assert_users_are_namesakes(wd: &Path, processes: &Processes, report: &Report) {
    let src_users = snapshot(wd, "source", c::USER);
    let tgt_users = snapshot(wd, "target", c::USER);
    let Processes {
        before,
        after,
        old_def,
        new_to_old,
    } = processes;
    let old_user: HashMap<i32, Option<i32>> = ints(before, c::ID)
        .into_iter()
        .zip(ints(before, c::CREATED_BY))
        .map(|(a, b)| (a.unwrap(), b))
        .collect();
    let mut by_name = 0;
    for (new_id, user) in ints(after, c::ID)
        .into_iter()
        .zip(ints(after, c::CREATED_BY))
    {
        let Some(old_u) = old_user[&new_to_old[&new_id.unwrap()]] else {
            continue;
        };
        let src_name = &src_users[&old_u][c::USERNAME];
        match user {
            Some(u) if old_u == 2 => assert_eq!(tgt_users[&u][c::USERNAME], "qa.lead"),
            Some(u) => {
                assert_eq!(&tgt_users[&u][c::USERNAME], src_name);
                by_name += 1;
            }
            None => assert!(
                !tgt_users.values().any(|t| &t[c::USERNAME] == src_name),
                "{src_name} exists in qa but became NULL"
            ),
        }
    }
    assert!(by_name > 20);
    let nulled = &report.tables[c::PROCESS].unmapped_values;
    assert!(!nulled.is_empty());
    for (key, v) in nulled {
        let id: i32 = key.strip_prefix("user #").unwrap().parse().unwrap();
        assert!(
            !tgt_users
                .values()
                .any(|t| t[c::USERNAME] == src_users[&id][c::USERNAME]),
            "{key}"
        );
        assert!(
            v.count > 0 && old_def.contains_key(&(v.sample_row as i32)),
            "{key}: {v:?}"
        );
    }
    assert_eq!(
        nulled.values().map(|v| v.count).sum::<u64>(),
        report.tables[c::PROCESS].principals_nulled
    );
}

/// Entity references: Candidate 1 and 2 are rewritten through the map; the rest kept.
fn assert_entity_references_go_through_the_map(wd: &Path, report: &Report) {
    let inputs_before = read_stage(wd, "extract", c::PROCESS_INPUT);
    let inputs_after = read_stage(wd, "transform", c::PROCESS_INPUT);
    let imap = id_map(wd, c::PROCESS_INPUT);
    let before_value: HashMap<i32, Option<String>> = ints(&inputs_before, c::ID)
        .into_iter()
        .map(|i| i.unwrap())
        .zip(texts(&inputs_before, c::INPUT_VALUE))
        .collect();
    let rev: HashMap<i32, i32> = imap.iter().map(|(o, n)| (*n, *o)).collect();
    let mut rewritten = 0;
    for ((id, v), t) in ints(&inputs_after, c::ID)
        .into_iter()
        .zip(texts(&inputs_after, c::INPUT_VALUE))
        .zip(texts(&inputs_after, c::SS_TYPE))
    {
        let old = before_value[&rev[&id.unwrap()]].clone();
        if t.as_deref().is_some_and(|t| t.starts_with("bt"))
            && matches!(old.as_deref(), Some("1" | "2"))
        {
            assert_eq!(
                v.as_deref(),
                Some(if old.as_deref() == Some("1") {
                    "1001"
                } else {
                    "1002"
                })
            );
            rewritten += 1;
        } else {
            assert_eq!(v, old);
        }
    }
    assert!(rewritten > 0);
    let t = &report.tables[c::PROCESS_INPUT];
    assert_eq!(t.entity_refs_mapped, rewritten);
    // Kept per entity under its physical table as the source spells it.
    let kept = t
        .entity_refs_kept
        .iter()
        .find(|(table, _)| table.eq_ignore_ascii_case("OSUSR_3AR_CANDIDATE"));
    assert!(
        kept.is_some_and(|(_, n)| *n > 0),
        "{:?}",
        t.entity_refs_kept
    );
}

/// Scheduler locks are cleared; tree levels and deferred self-references are recorded.
fn assert_locks_levels_and_deferred(wd: &Path, processes: &Processes, report: &Report) {
    let acts = read_stage(wd, "transform", c::ACTIVITY);
    assert!(texts(&acts, c::IS_RUNNING_AT).iter().all(Option::is_none));
    let after = &processes.after;
    let levels = ints(after, bptmig_workdir::layout::LEVEL_COLUMN);
    assert!(levels.contains(&Some(2)));
    let roots = ints(after, c::PARENT_PROCESS_ID)
        .iter()
        .filter(|p| p.is_none())
        .count();
    assert_eq!(report.deferred as usize, roots);
}
