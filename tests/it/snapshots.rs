//! Snapshot tests of what a person reads: `--help`, `check` and the stage summaries of `run`,
//! with ports, run IDs, paths and timings masked. The expected text is in `tests/snapshots/`;
//! after an intended change, run with `BPTMIG_UPDATE_SNAPSHOTS=1` and review the diff.
#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on the first unexpected error"
)]

use std::path::Path;
use std::process::{Command, Output};

use bptmig_sandbox::{EnvKind, EnvSpec, Environment, DEFAULT_PASSWORD};

fn bptmig(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bptmig"))
        .args(args)
        .env("BPTMIG_IT_PW", DEFAULT_PASSWORD)
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

/// Compares `actual` with `tests/snapshots/<name>.txt`, or rewrites it when asked to.
fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("BPTMIG_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .map(|l| format!("- {l}"))
            .zip(actual.lines().map(|l| format!("+ {l}")))
            .filter(|(a, b)| a[2..] != b[2..])
            .map(|(a, b)| format!("{a}\n{b}"))
            .collect();
        panic!(
            "{name}: output differs from {} (set BPTMIG_UPDATE_SNAPSHOTS=1 to accept it)\n{}\n\
             --- whole output ---\n{actual}",
            path.display(),
            diff.join("\n")
        );
    }
}

/// Masks what changes from run to run: the temporary directory, ports, run IDs, rates.
fn mask(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<dir>");
    let mut out = String::new();
    let mut in_load_table = false;
    for line in text.lines() {
        if line.starts_with("load done") {
            in_load_table = true;
        } else if !line.starts_with("OSSYS_")
            && !line.starts_with("OSEVT_")
            && !line.starts_with("table ")
        {
            in_load_table = false;
        }
        let mut line = line.split(' ').map(mask_word).collect::<Vec<_>>().join(" ");
        if in_load_table && (line.starts_with("OSSYS_") || line.starts_with("OSEVT_")) {
            // The last column is rows/s.
            if let Some((rest, _rate)) = line.trim_end().rsplit_once(' ') {
                line = format!("{} <rate>", rest.trim_end());
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn mask_word(word: &str) -> String {
    let core = word.trim_end_matches([',', ':', ';', ')']);
    let tail = &word[core.len()..];
    if core.len() == 16 && core.bytes().all(|b| b.is_ascii_hexdigit()) {
        return format!("<run>{tail}");
    }
    if let Some(i) = word.find("127.0.0.1,") {
        let start = i + "127.0.0.1,".len();
        let digits = word[start..].bytes().take_while(u8::is_ascii_digit).count();
        return format!("{}<port>{}", &word[..start], &word[start + digits..]);
    }
    word.to_owned()
}

#[test]
fn help() {
    let o = bptmig(&["--help"]);
    assert!(o.status.success());
    assert_snapshot("help", &String::from_utf8_lossy(&o.stdout));
    let o = bptmig(&["run", "--help"]);
    assert!(o.status.success());
    assert_snapshot("help_run", &String::from_utf8_lossy(&o.stdout));
}

fn pipeline(dir: &Path, name: &str, prod: &Environment, qa: &Environment, mapping: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "workdir = \"{name}\"\n[source]\nconnection = \"{}\"\n[target]\nconnection = \"{}\"\n\
             [load]\nstrategy = \"insert\"\n[mapping]\n{mapping}",
            prod.server.connection_template("BPTMIG_IT_PW"),
            qa.server.connection_template("BPTMIG_IT_PW"),
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Runs `bptmig <command> --pipeline <pipeline>`, expects exit code `code` and compares its
/// masked stdout with snapshot `name`.
fn assert_command(command: &str, pipeline: &str, code: i32, name: &str, root: &Path) {
    let o = bptmig(&[command, "--pipeline", pipeline]);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_snapshot(name, &mask(&String::from_utf8_lossy(&o.stdout), root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_run_summaries() {
    let spec = EnvSpec {
        processes: 30,
        ..EnvSpec::default()
    };
    let prod = Environment::start(EnvKind::Prod, &spec).await.unwrap();
    let qa = Environment::start(EnvKind::Qa, &spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let demo_mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/demo-mapping.csv");

    // Strict policies: the missing module and users block, before anything is extracted.
    let strict = pipeline(root, "strict", &prod, &qa, "");
    assert_command("check", &strict, 1, "check_strict", root);

    // A mapping file naming a user the target lacks: its line is named.
    let bad_csv = root.join("bad.csv");
    std::fs::write(&bad_csv, "kind,source,target\nuser,ops.bot,nobody.here\n").unwrap();
    let bad = pipeline(
        root,
        "bad",
        &prod,
        &qa,
        &format!(
            "file = \"{}\"\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
             unmapped_definition = \"skip-tree\"\n",
            bad_csv.display()
        ),
    );
    assert_command("check", &bad, 1, "check_bad_mapping", root);

    // Policies that cover everything: nothing blocks; `run` prints every stage's summary.
    let lenient = pipeline(
        root,
        "lenient",
        &prod,
        &qa,
        &format!(
            "file = \"{}\"\nunmapped_user = \"null\"\nunmapped_group = \"null\"\n\
             unmapped_definition = \"skip-tree\"\n",
            demo_mapping.display()
        ),
    );
    assert_command("check", &lenient, 0, "check_lenient", root);
    // Exit code 1: finished, with findings to review (the demo's qa lacks a module).
    assert_command("run", &lenient, 1, "run", root);
}
