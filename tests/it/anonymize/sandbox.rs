//! `[anonymize]` through `bptmig run` on the sandbox (prod → qa, platform shapes): qa holds
//! exactly the transformed (masked) values of the moved rows and none of the covered source
//! values; `check` previews each rule with replacements only.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use bptmig_db::{Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::PipelineConfig;
use bptmig_sandbox::testing::{self, Pair};
use bptmig_sandbox::EnvSpec;

use super::checks::{absent_from, check_transform, texts};
use super::{section, KEY, KEY_VAR};
use crate::common;

fn bptmig(command: &str, pipeline: &Path) -> Output {
    common::bptmig([command, "--pipeline", pipeline.to_str().unwrap()])
        .env(KEY_VAR, KEY)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The covered columns, by table.
const COVERED: &[(&str, &str)] = &[
    (c::PROCESS, c::LABEL),
    (c::ACTIVITY, c::INBOX_DETAIL),
    (c::PROCESS_INPUT, c::INPUT_VALUE),
    (c::PROCESS_OUTPUT, c::OUTPUT_VALUE),
    (c::ACTIVITY_OUTPUT, c::OUTPUT_VALUE),
];

/// (ID, text) of every row of `table` in qa.
async fn qa_texts(qa: &mut SqlClient, table: &str, column: &str) -> Vec<(i64, Option<String>)> {
    let sql = format!("SELECT [ID], [{column}] FROM [{table}]");
    let rows = bptmig_db::query_rows(qa, Side::Target, &sql, &[])
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                bptmig_db::int_cell(r, 0).unwrap(),
                bptmig_db::text_cell(r, 1),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qa_holds_only_the_replacements_and_check_previews_them() {
    let pair = Pair::start(&EnvSpec {
        processes: 16,
        platform_shapes: true,
        ..EnvSpec::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anon.toml");
    let pipeline = pair
        .pipeline()
        .workdir(dir.path().join("work"))
        .extra(
            "[selection]\nbroken_tree = \"skip\"\n[mapping]\nunmapped_user = \"null\"\n\
             unmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n\
             unmoved_reference = \"keep\"\n[load]\nstrategy = \"insert\"\n",
        )
        .extra(&section());
    pipeline.write(&path).unwrap();
    let env = |name: &str| {
        (name == KEY_VAR)
            .then(|| KEY.to_owned())
            .or_else(|| testing::password_env(name))
    };
    let config = PipelineConfig::parse(&pipeline.text(), &path, &env).unwrap();

    let check = bptmig("check", &path);
    let check_out = String::from_utf8_lossy(&check.stdout).into_owned();
    let previews: Vec<&str> = check_out
        .lines()
        .filter(|l| l.starts_with("anonymize.rules["))
        .collect();
    assert_eq!(previews.len(), 6, "{}", text(&check));
    assert!(
        previews[0].contains("OSSYS_BPM_PROCESS.LABEL fake:person → \""),
        "{}",
        previews[0]
    );
    assert!(previews[0].contains("sample row(s)"), "{}", previews[0]);
    for p in &previews {
        assert!(p.contains("  note  ") && p.contains("sample row(s)"), "{p}");
    }

    let run = bptmig("run", &path);
    assert!(matches!(run.status.code(), Some(0 | 1)), "{}", text(&run));
    assert!(text(&run).contains("verify passed"), "{}", text(&run));

    let wd = &config.workdir;
    let checked = check_transform(wd);
    absent_from(&check_out, &checked.private, "check's output");
    absent_from(&text(&run), &checked.private, "the run's output");
    let report = std::fs::read_to_string(wd.join("report.json")).unwrap();
    absent_from(&report, &checked.private, "report.json");

    let mut qa = bptmig_db::connect(Side::Target, &config.target)
        .await
        .unwrap();
    let mut moved = 0;
    for (table, column) in COVERED {
        let ids: BTreeSet<i64> = testing::read_id_map(wd, table)
            .unwrap()
            .values()
            .map(|&n| i64::from(n))
            .collect();
        let parquet = texts(&testing::read_stage(wd, "transform", table).unwrap());
        for (id, value) in qa_texts(&mut qa, table, column).await {
            if !ids.contains(&id) {
                continue; // qa's own row
            }
            moved += 1;
            let expected = i32::try_from(id)
                .ok()
                .and_then(|k| parquet.get(&k))
                .map(|r| r[*column].clone());
            assert_eq!(Some(value.clone()), expected, "{table}.{column} row {id}");
            if let Some(v) = value {
                assert!(
                    !checked.private.contains(&v),
                    "{table}.{column} row {id} holds a source value"
                );
            }
        }
    }
    assert!(moved > 50, "{moved} moved rows compared");
}
