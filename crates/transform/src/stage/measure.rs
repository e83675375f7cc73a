//! What checking every part against its manifest costs a transform, measured side by side
//! over a generated work directory (not run by default):
//!
//! ```text
//! bptmig-sandbox generate --out <dir> --processes 300000
//! BPTMIG_MEASURE_WORKDIR=<dir> cargo test -p bptmig-transform --lib verification_cost \
//!     -- --ignored --nocapture
//! ```
//!
//! Each round runs the whole stage twice, in alternating order: once checking every part
//! (as every run does), once with every extract part already checked by the same run (the
//! check done beforehand, outside the timing), which is a transform without the checks.

use std::path::Path;
use std::time::{Duration, Instant};

use bptmig_model::{NoProgress, PipelineConfig};
use bptmig_workdir::WorkDir;

use super::{run_stage, TransformOptions, STAGE};
use crate::verified::VerifiedParts;

/// The pipeline the generator's `run.json` was written for.
fn generated_pipeline(workdir: &Path) -> PipelineConfig {
    let text = format!(
        "workdir = \"{}\"\n[source]\nconnection = \"server=generated-prod\"\n[target]\n\
         connection = \"server=generated-qa\"\n[mapping]\nunmapped_user = \"null\"\n\
         unmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n",
        workdir.display()
    );
    let path = workdir.join("measure-pipeline.toml");
    std::fs::write(&path, &text).unwrap();
    PipelineConfig::parse(&text, &path, &|_| Some("unused".to_owned())).unwrap()
}

/// The work directory as the extract left it: no transform output, the stage not begun.
fn reset(wd: &WorkDir) {
    let _ = std::fs::remove_dir_all(wd.stage_dir(STAGE));
    let mut run = bptmig_workdir::RunState::read(wd).unwrap().unwrap();
    run.stages.remove(STAGE);
    run.write(wd).unwrap();
}

/// One transform of `config`; how long it took and how many files it hashed.
fn timed(config: &PipelineConfig, verified: &VerifiedParts) -> (Duration, u64) {
    let before = verified.hashed();
    let started = Instant::now();
    run_stage(config, &NoProgress, &TransformOptions::default(), verified).unwrap();
    (started.elapsed(), verified.hashed() - before)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
#[ignore = "a measurement over a large generated work directory (see the module)"]
fn verification_cost() {
    let Some(dir) = std::env::var_os("BPTMIG_MEASURE_WORKDIR") else {
        panic!("set BPTMIG_MEASURE_WORKDIR to a work directory from `bptmig-sandbox generate`");
    };
    let rounds: usize = std::env::var("BPTMIG_MEASURE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let wd = WorkDir::new(&dir);
    let config = generated_pipeline(wd.root());
    let inputs = crate::input::inputs(&wd).unwrap();
    let parts: usize = inputs.iter().map(|i| i.manifest.parts.len()).sum();
    let bytes: u64 = inputs
        .iter()
        .flat_map(|i| &i.manifest.parts)
        .map(|p| p.bytes)
        .sum();
    println!("{parts} extract parts, {bytes} bytes");
    let (mut checked, mut unchecked, mut hashing) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        for checking in [round % 2 == 0, round % 2 != 0] {
            reset(&wd);
            let verified = VerifiedParts::default();
            if !checking {
                let started = Instant::now();
                for input in &inputs {
                    for part in &input.manifest.parts {
                        verified.verify(&input.dir, part).unwrap();
                    }
                }
                hashing.push(started.elapsed());
            }
            let (took, hashed) = timed(&config, &verified);
            println!(
                "round {round}: {} {:.2} s, {hashed} files hashed",
                if checking { "checked  " } else { "unchecked" },
                took.as_secs_f64()
            );
            if checking {
                assert_eq!(hashed, parts as u64, "each part hashed once a run");
                checked.push(took);
            } else {
                assert_eq!(hashed, 0);
                unchecked.push(took);
            }
        }
        // A rerun of the finished stage checks its own output, and nothing else.
        let verified = VerifiedParts::default();
        let (took, hashed) = timed(&config, &verified);
        println!(
            "round {round}: finished stage rerun {:.2} s, {hashed} files hashed",
            took.as_secs_f64()
        );
    }
    let (c, u, h) = (median(checked), median(unchecked), median(hashing));
    println!(
        "median: checked {:.2} s, unchecked {:.2} s, ratio {:.3}; hashing every extract part \
         alone (one thread) {:.2} s",
        c.as_secs_f64(),
        u.as_secs_f64(),
        c.as_secs_f64() / u.as_secs_f64(),
        h.as_secs_f64()
    );
}
