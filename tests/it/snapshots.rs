//! Snapshot tests of what a person reads: `--help`, `check` and the stage summaries of `run`,
//! with ports, run IDs, paths and rates masked by insta filters. The expected text is in
//! `tests/it/snapshots/*.snap`; after an intended change, run with `INSTA_UPDATE=always` (or
//! `cargo insta review`) and review the diff.

use std::path::Path;
use std::process::Output;

use bptmig_sandbox::testing::Pair;
use bptmig_sandbox::EnvSpec;

use crate::common;

fn bptmig(args: &[&str]) -> Output {
    common::bptmig(args).env("COLUMNS", "100").output().unwrap()
}

/// Snapshots named as given, without the test's module path, and without the expression.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// [`settings`] masking what changes from run to run: the temporary directory `dir`, ports,
/// run IDs and the load's rows/s (the last column of its table rows).
fn masking_settings(dir: &Path) -> insta::Settings {
    let mut settings = settings();
    settings.add_filter(&regex::escape(&dir.display().to_string()), "<dir>");
    settings.add_filter(r"127\.0\.0\.1,\d+", "127.0.0.1,<port>");
    settings.add_filter(r"\b[0-9a-fA-F]{16}\b", "<run>");
    settings.add_filter(r"(?m)^((?:OSSYS|OSEVT)_\S+(?: +\d+){3}) +\S+$", "$1 <rate>");
    settings
}

#[test]
fn help() {
    let o = bptmig(&["--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    settings().bind(|| insta::assert_snapshot!("help", help));
    let o = bptmig(&["run", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    settings().bind(|| insta::assert_snapshot!("help_run", help));
}

/// Writes `<dir>/<name>.toml`, from the pair's prod to its qa through the work directory
/// `<name>`, with the `[mapping]` table `mapping`; returns its path.
fn pipeline(dir: &Path, name: &str, pair: &Pair, mapping: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    pair.pipeline()
        .workdir(name)
        .extra(&format!(
            "[load]\nstrategy = \"insert\"\n[mapping]\n{mapping}"
        ))
        .write(&path)
        .unwrap();
    path.display().to_string()
}

/// A `[mapping]` with the mapping file `file` and policies that cover everything else.
fn lenient_mapping(file: &Path) -> String {
    format!(
        "file = \"{}\"\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
         unmapped_definition = \"skip-tree\"\n",
        file.display()
    )
}

/// Runs `bptmig <command> --pipeline <pipeline>`, expects exit code `code` and compares its
/// stdout, masked for the temporary directory `root`, with snapshot `name`.
fn assert_command(command: &str, pipeline: &str, code: i32, name: &str, root: &Path) {
    let o = bptmig(&[command, "--pipeline", pipeline]);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    masking_settings(root).bind(|| insta::assert_snapshot!(name, stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_run_summaries() {
    let spec = EnvSpec {
        processes: 30,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let demo_mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/demo-mapping.csv");

    // Strict policies: the missing module and users block, before anything is extracted.
    let strict = pipeline(root, "strict", &pair, "");
    assert_command("check", &strict, 1, "check_strict", root);

    // A mapping file naming a user the target lacks: its line is named.
    let bad_csv = root.join("bad.csv");
    std::fs::write(&bad_csv, "kind,source,target\nuser,ops.bot,nobody.here\n").unwrap();
    let bad = pipeline(root, "bad", &pair, &lenient_mapping(&bad_csv));
    assert_command("check", &bad, 1, "check_bad_mapping", root);

    // Policies that cover everything: nothing blocks; `run` prints every stage's summary.
    let lenient = pipeline(root, "lenient", &pair, &lenient_mapping(&demo_mapping));
    assert_command("check", &lenient, 0, "check_lenient", root);
    // Exit code 1: finished, with findings to review (the demo's qa lacks a module).
    assert_command("run", &lenient, 1, "run", root);
}
