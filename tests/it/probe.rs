//! `bptmig check --probe` and the rights lines: the sandbox server's answer snapshot-tested
//! (bulk copy fails, date/times whole seconds only, the identity does not move past explicit
//! IDs), nothing permanent left behind; and, opt-in, the same on a real SQL Server
//! (`BPTMIG_TEST_MSSQL`), where every path must work.

use std::path::Path;

use bptmig_db::{Side, SqlClient};
use bptmig_sandbox::testing::Pair;
use bptmig_sandbox::EnvSpec;

use crate::common;

/// Policies that let every tree of the sandbox through.
const LENIENT: &str = "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
                       unmapped_definition = \"skip-tree\"\n";

/// `check --probe` of `pipeline`: its exit code and stdout.
fn check_probe(pipeline: &Path) -> (Option<i32>, String) {
    let o = common::bptmig(["check", "--probe", "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    // Exit code 2 is an error of the command itself, not a finding.
    assert_ne!(
        o.status.code(),
        Some(2),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

/// The lines whose check starts with `prefix`, as `check | verdict | detail` (the table's
/// column widths depend on every line's name, so they are not part of the snapshot).
fn lines_of(text: &str, prefix: &str) -> String {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            let parts: Vec<&str> = regex::Regex::new(r"\s{2,}").unwrap().splitn(l, 3).collect();
            parts.join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every table of the session's database.
async fn tables(client: &mut SqlClient) -> Vec<String> {
    let rows = bptmig_db::query_rows(
        client,
        Side::Target,
        "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES",
        &[],
    )
    .await
    .unwrap();
    let mut names: Vec<String> = rows
        .iter()
        .filter_map(|r| bptmig_db::text_cell(r, 0))
        .collect();
    names.sort();
    names
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_says_what_the_sandbox_server_does_and_leaves_nothing_behind() {
    let spec = EnvSpec {
        processes: 5,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("pipeline.toml");
    let config = pair.pipeline().extra(LENIENT).config(&pipeline).unwrap();
    let mut qa = bptmig_db::connect(Side::Target, &config.target)
        .await
        .unwrap();
    let before = tables(&mut qa).await;

    let (code, text) = check_probe(&pipeline);
    // Nothing the probe finds on the sandbox blocks a renumber run with `load.strategy =
    // "auto"` (the default).
    assert_eq!(code, Some(0), "{text}");
    let probe = lines_of(&text, "probe: ");
    settings().bind(|| insta::assert_snapshot!("probe_sandbox", probe));
    let rights = lines_of(&text, "source right") + "\n" + &lines_of(&text, "target right");
    settings().bind(|| insta::assert_snapshot!("rights_sandbox", rights));

    // Temporary tables only, and the rights trial's table gone again.
    assert_eq!(tables(&mut qa).await, before, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_the_pipeline_names_blocks_when_its_path_fails() {
    let pair = Pair::start(&EnvSpec {
        processes: 3,
        ..EnvSpec::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("pipeline.toml");
    pair.pipeline()
        .extra(&format!("{LENIENT}[load]\nstrategy = \"bulk\"\n"))
        .write(&pipeline)
        .unwrap();
    let (code, text) = check_probe(&pipeline);
    assert_eq!(code, Some(1), "{text}");
    let bulk = lines_of(&text, "probe: load bulk");
    assert!(
        bulk.starts_with("probe: load bulk | BLOCK | fails: "),
        "{bulk}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trial_runs_in_a_transaction_rolled_back_and_tells_granted_from_could_not_tell() {
    use bptmig_db::permissions::{drop_if_exists, trial, Answer, Trial};
    let pair = Pair::start(&EnvSpec {
        processes: 2,
        ..EnvSpec::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = pair
        .pipeline()
        .config(&dir.path().join("pipeline.toml"))
        .unwrap();
    let mut qa = bptmig_db::connect(Side::Target, &config.target)
        .await
        .unwrap();
    let process = bptmig_model::catalog::PROCESS;
    let before = tables(&mut qa).await;
    let n = bptmig_sandbox::testing::count_rows(&mut qa, process)
        .await
        .unwrap();
    for t in [
        Trial::select(process),
        Trial::insert(process, &["LABEL".to_owned()]),
        Trial::update(process, "LABEL"),
        Trial::delete(process),
        Trial::identity_insert(process),
        Trial::create_table("BPTMIG_TRIAL_IT"),
    ] {
        assert_eq!(
            trial(&mut qa, Side::Target, &t).await.unwrap(),
            Answer::Granted,
            "{t:?}"
        );
    }
    drop_if_exists(&mut qa, Side::Target, "BPTMIG_TRIAL_IT")
        .await
        .unwrap();
    // The sandbox does not run DBCC, and a missing table is no permission error: neither is
    // a "no".
    for t in [Trial::checkident(process), Trial::select("NO_SUCH_TABLE")] {
        let answer = trial(&mut qa, Side::Target, &t).await.unwrap();
        assert!(matches!(answer, Answer::Unknown(_)), "{t:?}: {answer:?}");
    }
    // Every trial was rolled back: no transaction left open, nothing changed.
    let open = bptmig_db::scalar(&mut qa, Side::Target, "SELECT @@TRANCOUNT")
        .await
        .unwrap();
    assert_eq!(open, 0);
    assert_eq!(
        bptmig_sandbox::testing::count_rows(&mut qa, process)
            .await
            .unwrap(),
        n
    );
    assert_eq!(tables(&mut qa).await, before);
}

/// The environment variable holding a real SQL Server's ADO connection string, whose
/// database may be written to (a scratch database: the test creates the platform's tables
/// there when they are missing).
const MSSQL: &str = "BPTMIG_TEST_MSSQL";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a real SQL Server in BPTMIG_TEST_MSSQL"]
async fn every_path_works_on_a_real_sql_server() {
    assert!(
        std::env::var(MSSQL).is_ok(),
        "{MSSQL}: the ADO connection string of a real SQL Server"
    );
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("pipeline.toml");
    let reference = format!("${{{MSSQL}}}");
    let file = bptmig_sandbox::testing::Pipeline::new(reference.clone(), reference).extra(LENIENT);
    file.write(&pipeline).unwrap();
    let env = |name: &str| std::env::var(name).ok();
    let config = bptmig_model::PipelineConfig::parse(&file.text(), &pipeline, &env).unwrap();
    let mut client = bptmig_db::connect(Side::Target, &config.target)
        .await
        .unwrap();
    if !tables(&mut client)
        .await
        .iter()
        .any(|t| t.eq_ignore_ascii_case(bptmig_model::catalog::PROCESS))
    {
        bptmig_sandbox::create_schema(&mut client).await.unwrap();
    }
    let before = tables(&mut client).await;

    let (_, text) = check_probe(&pipeline);
    let probe = lines_of(&text, "probe: ");
    for name in [
        "probe: ids renumber (IDENTITY_INSERT)",
        "probe: ids generated (SCOPE_IDENTITY)",
        "probe: load insert",
        "probe: load bulk",
        "probe: date/times",
        "probe: long texts",
    ] {
        assert!(
            probe.contains(&format!("{name} | ok | works: ")),
            "{name}:\n{probe}"
        );
    }
    assert!(
        probe.contains("probe: identity after explicit IDs | ok | works: moves past them"),
        "{probe}"
    );
    assert!(
        probe.contains("`ids.strategy = \"renumber\"` and `load.strategy = \"bulk\"`"),
        "{probe}"
    );
    assert_eq!(tables(&mut client).await, before, "{text}");
}
