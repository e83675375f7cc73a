//! `[anonymize]` end to end: on a generated extract, every value the rules cover is absent
//! from the transformed Parquet and from `report.json` while every other text is unchanged,
//! the outputs are byte-identical across runs and thread counts, another key gives other
//! replacements, and without the section the other tables are untouched; on the sandbox
//! ([`sandbox`]), the same after the load, in qa.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use bptmig_model::catalog as c;
use bptmig_sandbox::testing::{self, Pipeline};

use crate::common;
use crate::transform_cli::generate;

use checks::{absent_from, all_parquet_values, check_transform, texts};

mod checks;
mod sandbox;

/// The environment variable the pipelines read the key from.
pub const KEY_VAR: &str = "BPTMIG_IT_ANON_KEY";
pub const KEY: &str = "it-anonymisation-key-0001";
const OTHER_KEY: &str = "it-anonymisation-key-0002";

/// Labels, inbox details, one parameter of one definition, text inputs and outputs, and the
/// outputs of the activities of one process definition.
pub fn section() -> String {
    format!(
        r#"[anonymize]
key = "${{{KEY_VAR}}}"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS.LABEL"
method = "fake"
kind = "person"
[[anonymize.rules]]
column = "OSSYS_BPM_ACTIVITY.INBOX_DETAIL"
method = "keep-format"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS_INPUT.INPUT_VALUE"
name = "employeename"
definition = "onboarding"
method = "fake"
kind = "person"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS_INPUT.INPUT_VALUE"
data_type = "rtText"
method = "hash"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS_OUTPUT.OUTPUT_VALUE"
data_type = "rttext"
method = "fake"
kind = "text"
[[anonymize.rules]]
column = "OSSYS_BPM_ACTIVITY_OUTPUT.OUTPUT_VALUE"
definition = "CandidateSelection"
method = "keep-format"
"#
    )
}

fn transform(pipeline: &Path, key: &str, threads: Option<&str>) -> Output {
    let mut args = vec!["transform", "--pipeline", pipeline.to_str().unwrap()];
    if let Some(n) = threads {
        args.extend(["--threads", n]);
    }
    common::bptmig(args).env(KEY_VAR, key).output().unwrap()
}

/// A copy of `extracted` at `<dir>/<name>` with its pipeline, `[anonymize]` or not.
fn workdir(dir: &Path, extracted: &Path, name: &str, anonymize: bool) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let extra = if anonymize { section() } else { String::new() };
    Pipeline::new("server=generated-prod", "server=generated-qa")
        .workdir(name)
        .extra("[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n")
        .extra(&extra)
        .write(&path)
        .unwrap();
    common::copy_dir(extracted, &dir.join(name));
    path
}

fn transform_files(wd: &Path) -> BTreeMap<String, Vec<u8>> {
    common::files(&wd.join("transform"))
}

#[test]
fn covered_values_leave_no_trace_and_the_outputs_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let extracted = dir.path().join("extracted");
    generate(&extracted, 60, 300, 100);
    let runs: Vec<(&str, bool, &str, Option<&str>)> = vec![
        ("k1", true, KEY, None),
        ("k1-one-thread", true, KEY, Some("1")),
        ("k1-three-threads", true, KEY, Some("3")),
        ("k2", true, OTHER_KEY, None),
        ("plain", false, KEY, None),
    ];
    let mut files = BTreeMap::new();
    for (name, anonymize, key, threads) in runs {
        let p = workdir(dir.path(), &extracted, name, anonymize);
        let out = transform(&p, key, threads);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        files.insert(name, transform_files(&dir.path().join(name)));
    }
    let k1 = dir.path().join("k1");
    let checked = check_transform(&k1);
    let written = all_parquet_values(&k1.join("transform"));
    assert!(
        checked.private.is_disjoint(&written),
        "a covered source value is in the transformed Parquet"
    );
    let report = std::fs::read_to_string(k1.join("report.json")).unwrap();
    absent_from(&report, &checked.private, "report.json");
    assert!(!report.contains(KEY), "the key is never written");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let counts = report["anonymized"].as_array().unwrap();
    assert_eq!(counts.len(), 6);
    let named = counts[2]["values_changed"].as_u64().unwrap();
    assert!(
        named > 0,
        "the parameter-name rule selects some inputs: {counts:#?}"
    );
    let total: u64 = counts
        .iter()
        .map(|c| c["values_changed"].as_u64().unwrap())
        .sum();
    assert_eq!(total, checked.changed, "{counts:#?}");
    assert_eq!(counts[0]["method"], "fake:person");
    assert_eq!(counts[0]["column"], "OSSYS_BPM_PROCESS.LABEL");

    // Same key: byte-identical, whatever the thread count.
    assert_eq!(files["k1"], files["k1-one-thread"], "1 thread");
    assert_eq!(files["k1"], files["k1-three-threads"], "3 threads");
    // Another key: other replacements in the covered tables, the same elsewhere.
    let labels = |name: &str| {
        texts(&testing::read_stage(&dir.path().join(name), "transform", c::PROCESS).unwrap())
            .into_values()
            .filter_map(|r| r[c::LABEL].clone())
            .collect::<Vec<_>>()
    };
    let (a, b) = (labels("k1"), labels("k2"));
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert!(
        same * 4 < a.len(),
        "{same} of {} labels agree under another key",
        a.len()
    );
    // Without `[anonymize]`: the tables no rule covers are byte-identical, and the plan hash
    // of every table differs from an anonymised run's.
    for (rel, bytes) in &files["plain"] {
        let untouched = rel.starts_with("OSEVT_") || rel.starts_with("maps/");
        if untouched && !rel.ends_with(".done.json") {
            assert_eq!(Some(bytes), files["k1"].get(rel), "{rel}");
        }
    }
    let done = |name: &str| -> String {
        let bytes = &files[name][&format!("{}.done.json", c::PROCESS)];
        serde_json::from_slice::<serde_json::Value>(bytes).unwrap()["plan_hash"].to_string()
    };
    assert_ne!(done("plain"), done("k1"));
    assert_ne!(done("k1"), done("k2"), "another key, another plan");
    assert!(!files["k1"]
        .values()
        .any(|b| b.windows(KEY.len()).any(|w| w == KEY.as_bytes())));
}

#[test]
fn a_rule_on_a_column_the_extract_lacks_stops_the_transform_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let extracted = dir.path().join("extracted");
    generate(&extracted, 10, 300, 100);
    let path = dir.path().join("bad.toml");
    Pipeline::new("server=generated-prod", "server=generated-qa")
        .workdir("bad")
        .extra("[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n")
        .extra(&format!(
            "[anonymize]\nkey = \"${{{KEY_VAR}}}\"\n[[anonymize.rules]]\n\
             column = \"OSSYS_BPM_ACTIVITY.CUSTOM_NOTE\"\nmethod = \"clear\"\n"
        ))
        .write(&path)
        .unwrap();
    common::copy_dir(&extracted, &dir.path().join("bad"));
    let out = transform(&path, KEY, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("anonymize.rules[1]") && stderr.contains("CUSTOM_NOTE"),
        "{stderr}"
    );
    // A parameter name or a definition the source does not have stops it too.
    let original = std::fs::read_to_string(&path).unwrap();
    for (key, value) in [("name", "NoSuchParameter"), ("definition", "NoSuchProcess")] {
        let text = original.replace(
            "column = \"OSSYS_BPM_ACTIVITY.CUSTOM_NOTE\"",
            &format!("column = \"OSSYS_BPM_PROCESS_INPUT.INPUT_VALUE\"\n{key} = \"{value}\""),
        );
        assert_ne!(text, original);
        std::fs::write(&path, text).unwrap();
        let out = transform(&path, KEY, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("anonymize.rules[1]") && stderr.contains(value),
            "{stderr}"
        );
    }
    // Without the key variable the pipeline is refused before anything runs.
    let out = common::bptmig(["transform", "--pipeline", path.to_str().unwrap()])
        .env_remove(KEY_VAR)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(KEY_VAR) && stderr.contains("anonymize.key"),
        "{stderr}"
    );
}
