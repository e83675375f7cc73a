//! End-to-end tests of the `bptmig` binary's command line and pipeline-file handling.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common;

const SECRET: &str = "s3cr3t-Pa55word";

fn bptmig(args: &[&str], env: &[(&str, &str)]) -> Output {
    common::bptmig(args)
        .env_remove("BPTMIG_DEMO_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_pipeline(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const VALID: &str = r#"
workdir = "work"
[source]
connection = "server=tcp:127.0.0.1,1;user=sa;password=${BPTMIG_TEST_PW}"
[target]
connection = "server=tcp:127.0.0.1,2;user=sa;password=${BPTMIG_TEST_PW}"
"#;

#[test]
fn version_and_help() {
    let v = bptmig(&["--version"], &[]);
    assert!(v.status.success());
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("bptmig {}", env!("CARGO_PKG_VERSION"))
    );
    let h = bptmig(&["--help"], &[]);
    assert!(h.status.success());
    let help = String::from_utf8_lossy(&h.stdout);
    for cmd in [
        "check",
        "extract",
        "transform",
        "load",
        "run",
        "status",
        "verify",
        "rollback",
    ] {
        assert!(
            help.contains(&format!("  {cmd} ")),
            "--help lacks {cmd}:\n{help}"
        );
    }
    for flag in [
        "--threads",
        "--quiet",
        "--verbose",
        "--log-format",
        "--no-progress",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn a_missing_pipeline_argument_is_a_usage_error() {
    let o = bptmig(&["extract"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--pipeline"));
}

#[test]
fn a_missing_pipeline_file_names_the_path() {
    let o = bptmig(&["check", "--pipeline", "/nonexistent/p.toml"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`/nonexistent/p.toml`"),
        "{}",
        stderr(&o)
    );
}

/// Runs `check` on a pipeline file holding `text` and returns (exit code, stderr, file).
fn check(text: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pipeline(dir.path(), text);
    let o = bptmig(&["check", "--pipeline", path.to_str().unwrap()], env);
    (o.status.code(), stderr(&o), path.display().to_string())
}

#[test]
fn unknown_key_is_named_with_its_path_and_the_file() {
    let text = format!("{VALID}\n[selection]\nstatuse = [\"Closed\"]\n");
    let (code, err, file) = check(&text, &[("BPTMIG_TEST_PW", SECRET)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`selection.statuse`"), "{err}");
    assert!(err.contains(&file), "{err}");
}

#[test]
fn missing_key_is_named() {
    let text = VALID.replace(
        "[target]\nconnection = \"server=tcp:127.0.0.1,2;user=sa;password=${BPTMIG_TEST_PW}\"\n",
        "",
    );
    let (code, err, file) = check(&text, &[("BPTMIG_TEST_PW", SECRET)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`target`"), "{err}");
    assert!(err.contains(&file), "{err}");
}

#[test]
fn wrong_type_is_named() {
    let text = format!("{VALID}\n[load]\nbatch_rows = \"many\"\n");
    let (code, err, file) = check(&text, &[("BPTMIG_TEST_PW", SECRET)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`load.batch_rows`"), "{err}");
    assert!(err.contains("many"), "{err}");
    assert!(err.contains(&file), "{err}");
}

#[test]
fn missing_environment_variable_is_named_with_the_key() {
    let (code, err, file) = check(VALID, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`source.connection`"), "{err}");
    assert!(err.contains("BPTMIG_TEST_PW"), "{err}");
    assert!(err.contains(&file), "{err}");
}

#[test]
fn every_problem_is_reported_at_once_and_no_secret_is_printed() {
    let text = format!("extra = 1\n{VALID}\n[load]\nstrategy = \"fast\"\n[ids]\nstrategy = 3\n");
    let (code, err, _) = check(&text, &[("BPTMIG_TEST_PW", SECRET)]);
    assert_eq!(code, Some(2));
    for key in ["`extra`", "`load.strategy`", "`ids.strategy`"] {
        assert!(err.contains(key), "{key} missing from:\n{err}");
    }
    assert!(!err.contains(SECRET), "secret leaked:\n{err}");
}

#[test]
fn a_literal_password_is_refused_without_being_printed() {
    let text = VALID.replace("${BPTMIG_TEST_PW}", SECRET);
    let (code, err, _) = check(&text, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("environment variable"), "{err}");
    assert!(!err.contains(SECRET), "secret leaked:\n{err}");
}

#[test]
fn verbose_logs_mask_the_connection_strings() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pipeline(dir.path(), VALID);
    let o = bptmig(
        &[
            "-v",
            "--log-format",
            "json",
            "check",
            "--pipeline",
            path.to_str().unwrap(),
        ],
        &[("BPTMIG_TEST_PW", SECRET)],
    );
    let err = stderr(&o);
    assert!(err.contains("pipeline loaded"), "{err}");
    assert!(err.contains("password=***"), "{err}");
    assert!(!err.contains(SECRET), "secret leaked:\n{err}");
}

#[test]
fn logs_to_a_stderr_that_is_not_a_terminal_carry_no_colour_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_pipeline(dir.path(), VALID);
    // `output()` pipes stderr: not a terminal.
    let o = bptmig(
        &["-v", "check", "--pipeline", path.to_str().unwrap()],
        &[("BPTMIG_TEST_PW", SECRET)],
    );
    let err = stderr(&o);
    assert!(
        err.contains("INFO") && err.contains("pipeline loaded"),
        "{err}"
    );
    assert!(!err.contains("\x1b["), "colour escapes on a pipe:\n{err:?}");
}

#[test]
fn the_shipped_pipelines_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines");
    for name in ["demo.toml", "example.toml"] {
        let path = root.join(name);
        let o = bptmig(
            &["status", "--pipeline", path.to_str().unwrap()],
            &[
                ("BPTMIG_DEMO_PASSWORD", "x"),
                ("PROD_DB_PASSWORD", "x"),
                ("QA_DB_PASSWORD", "x"),
                ("BPTMIG_ANON_KEY", "an-example-anonymisation-key"),
            ],
        );
        let err = stderr(&o);
        assert!(!err.contains("problem"), "{name}: {err}");
    }
}
