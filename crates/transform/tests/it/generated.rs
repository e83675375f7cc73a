//! Generated work directories (no server) and pipelines over them.

use std::path::{Path, PathBuf};

use bptmig_model::NoProgress;
use bptmig_sandbox::workdir::{generate_workdir, GenerateOptions};
use bptmig_sandbox::EnvSpec;

use crate::pipeline;

pub const POLICIES: &str = "[mapping]\nunmapped_user = \"null\"\nunmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n";

pub fn generated(dir: &Path, seed: u64, processes: usize, part_rows: usize) -> PathBuf {
    let out = dir.join(format!("gen-{seed}-{processes}"));
    generate_workdir(&GenerateOptions {
        out: out.clone(),
        spec: EnvSpec {
            seed,
            processes,
            ..EnvSpec::default()
        },
        part_rows,
        row_group_rows: 64,
    })
    .unwrap();
    out
}

pub fn config(dir: &Path, workdir: &Path, extra: &str) -> bptmig_model::PipelineConfig {
    pipeline(
        dir,
        workdir,
        "server=generated-prod",
        "server=generated-qa",
        extra,
    )
}

/// A generated work directory, and a copy of it already transformed without trouble.
pub fn with_clean_copy(dir: &Path, seed: u64) -> (PathBuf, PathBuf) {
    let wd = generated(dir, seed, 150, 120);
    let clean = dir.join("clean");
    copy_dir(&wd, &clean);
    bptmig_transform::transform(&config(dir, &clean, POLICIES), &NoProgress).unwrap();
    (wd, clean)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Marks the transform of `wd` as running, as a crash leaves it.
pub fn mark_running(wd: &Path) {
    let run = wd.join("run.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&run).unwrap()).unwrap();
    state["stages"]["transform"] = "running".into();
    std::fs::write(&run, serde_json::to_vec(&state).unwrap()).unwrap();
}
