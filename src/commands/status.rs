//! `bptmig status`: what each stage has done in the work directory (and, for the load, what
//! the target's ledger lists), for people and, with `--json`, for schedulers; and the ID
//! strategy the run uses (under `generated`, the ID pairs the load has captured so far).

use bptmig_model::pipeline::IdStrategy;
use bptmig_model::PipelineConfig;
use bptmig_workdir::id_strategy;
use bptmig_workdir::layout::{EXTRACT, LOAD, TRANSFORM, VERIFY};
use bptmig_workdir::{Manifest, RunState, StageState, WorkDir};
use serde::Serialize;

use super::Outcome;
use crate::settings::Settings;

/// Version of the JSON document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

pub fn run(settings: &Settings, json: bool) -> anyhow::Result<Outcome> {
    let s = settings.runtime.block_on(status(&settings.config));
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print(&s);
    }
    Ok(Outcome::Done)
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub schema: u32,
    /// `null` before the first extract.
    pub run_id: Option<String>,
    pub workdir: String,
    /// The ID strategy the run uses.
    pub ids: Ids,
    pub stages: Vec<Stage>,
}

/// The ID strategy: the one the transform applied (`transform/ids.json`) once it has run,
/// else the pipeline's.
#[derive(Debug, Serialize)]
pub struct Ids {
    /// `renumber`, `keep` or `generated`; `auto` while no transform has decided it.
    pub strategy: &'static str,
    /// How `auto` was decided; `null` when the pipeline named the strategy, or before the
    /// transform has decided it.
    pub decided_by: Option<String>,
    /// `transform` (its `ids.json`) or `pipeline` (no transform has recorded one yet).
    pub from: &'static str,
}

#[derive(Debug, Serialize)]
#[expect(clippy::struct_field_names, reason = "JSON keys for schedulers")]
pub struct Stage {
    pub stage: &'static str,
    /// `pending`, `running` (started, not finished: resumable), `done`, or `failed` (ran to
    /// its end and found the run wrong: a failed verify).
    pub state: &'static str,
    pub tables: Vec<Table>,
    /// Why the stage's details could not be read (e.g. the target is unreachable).
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
#[expect(clippy::struct_field_names, reason = "JSON keys for schedulers")]
pub struct Table {
    pub table: String,
    /// Parts (extract, transform) or chunks (load) finished.
    pub done: u64,
    /// Chunks still to load (load only; 0 elsewhere).
    pub pending: u64,
    /// Rows finished.
    pub rows_done: u64,
    /// Rows still to load (load only; 0 elsewhere).
    pub rows_pending: u64,
    /// Whether the table is finished in this stage.
    pub complete: bool,
    /// Load under `ids.strategy = "generated"` only: the old → new ID pairs of the table's
    /// rows the load has captured so far (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<u64>,
}

fn state(run: Option<&RunState>, stage: &str) -> &'static str {
    match run.and_then(|r| r.stages.get(stage)) {
        Some(StageState::Done) => "done",
        Some(StageState::Running) => "running",
        Some(StageState::Failed) => "failed",
        None => "pending",
    }
}

/// Tables of one stage directory, from their manifests.
fn stage_tables(
    wd: &WorkDir,
    stage: &str,
    finished: impl Fn(&str, &Manifest) -> bool,
) -> Vec<Table> {
    let dir = wd.stage_dir(stage);
    let names = bptmig_workdir::stage_tables(&dir).unwrap_or_default();
    names
        .into_iter()
        .filter_map(|name| {
            let m = Manifest::read(&dir.join(&name)).ok().flatten()?;
            Some(Table {
                complete: finished(&name, &m),
                done: m.parts.len() as u64,
                pending: 0,
                rows_done: m.rows(),
                rows_pending: 0,
                pairs: None,
                table: name,
            })
        })
        .collect()
}

/// Reads the work directory and, when the transform is done, the target's ledger.
async fn status(config: &PipelineConfig) -> Status {
    let wd = WorkDir::new(&config.workdir);
    let run = RunState::read(&wd).ok().flatten();
    let mut stages = Vec::new();
    stages.push(Stage {
        stage: EXTRACT,
        state: state(run.as_ref(), EXTRACT),
        tables: stage_tables(&wd, EXTRACT, |_, m| m.complete),
        error: None,
    });
    let tdir = wd.stage_dir(TRANSFORM);
    stages.push(Stage {
        stage: TRANSFORM,
        state: state(run.as_ref(), TRANSFORM),
        tables: stage_tables(&wd, TRANSFORM, |name, _| {
            tdir.join(format!("{name}.done.json")).is_file()
        }),
        error: None,
    });
    let mut load = Stage {
        stage: LOAD,
        state: state(run.as_ref(), LOAD),
        tables: Vec::new(),
        error: None,
    };
    if let (Some(r), "done") = (run.as_ref(), state(run.as_ref(), TRANSFORM)) {
        match bptmig_load::chunk_status(config, &r.run_id).await {
            Ok(tables) => {
                load.tables = tables
                    .into_iter()
                    .map(|t| Table {
                        complete: t.chunks_pending == 0,
                        table: t.table,
                        done: t.chunks_done,
                        pending: t.chunks_pending,
                        rows_done: t.rows_done,
                        rows_pending: t.rows_pending,
                        pairs: t.pairs,
                    })
                    .collect();
            }
            Err(e) => load.error = Some(bptmig_model::pipeline::mask_secrets(&e.to_string())),
        }
    }
    stages.push(load);
    stages.push(Stage {
        stage: VERIFY,
        state: state(run.as_ref(), VERIFY),
        tables: Vec::new(),
        error: None,
    });
    Status {
        schema: SCHEMA_VERSION,
        run_id: run.map(|r| r.run_id),
        workdir: config.workdir.display().to_string(),
        ids: ids(&wd, config.ids),
        stages,
    }
}

/// The strategy `transform/ids.json` records, else the pipeline's `pipeline`.
fn ids(wd: &WorkDir, pipeline: IdStrategy) -> Ids {
    match id_strategy::read(wd).ok().flatten() {
        Some(r) => Ids {
            strategy: r.strategy.as_str(),
            decided_by: r.decided_by,
            from: "transform",
        },
        None => Ids {
            strategy: match pipeline {
                IdStrategy::Renumber => "renumber",
                IdStrategy::Keep => "keep",
                IdStrategy::Generated => "generated",
                IdStrategy::Auto => "auto",
            },
            decided_by: None,
            from: "pipeline",
        },
    }
}

/// The human line of the ID strategy.
fn ids_line(ids: &Ids) -> String {
    let why = match (&ids.decided_by, ids.from) {
        (Some(d), _) => format!("`auto`: {d}"),
        (None, "transform") => "as the transform applied it".to_owned(),
        (None, _) if ids.strategy == "auto" => {
            "the transform decides it from the target (`bptmig check` says how)".to_owned()
        }
        (None, _) => "the pipeline's `ids.strategy`".to_owned(),
    };
    format!("{:<10} {} ({why})", "ids", ids.strategy)
}

/// The human form.
fn print(s: &Status) {
    println!(
        "run {} in `{}`",
        s.run_id.as_deref().unwrap_or("(none yet)"),
        s.workdir
    );
    println!("{}", ids_line(&s.ids));
    for stage in &s.stages {
        println!("{:<10} {}", stage.stage, stage.state);
        if let Some(e) = &stage.error {
            println!("           cannot read details: {e}");
        }
        for t in &stage.tables {
            if stage.stage == LOAD {
                let pairs = t
                    .pairs
                    .map(|n| format!(" {n:>10} pairs captured"))
                    .unwrap_or_default();
                println!(
                    "           {:<34} {:>6} chunks done {:>6} pending {:>10} rows done {:>10} pending{pairs}",
                    t.table, t.done, t.pending, t.rows_done, t.rows_pending
                );
            } else {
                println!(
                    "           {:<34} {:>6} parts {:>10} rows  {}",
                    t.table,
                    t.done,
                    t.rows_done,
                    if t.complete { "complete" } else { "partial" }
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ids_line, Ids};

    #[test]
    fn the_ids_line_says_the_strategy_and_where_it_comes_from() {
        let line = |strategy, decided_by: Option<&str>, from| {
            ids_line(&Ids {
                strategy,
                decided_by: decided_by.map(str::to_owned),
                from,
            })
        };
        assert_eq!(
            line("generated", Some("the target refuses X"), "transform"),
            "ids        generated (`auto`: the target refuses X)"
        );
        assert_eq!(
            line("renumber", None, "transform"),
            "ids        renumber (as the transform applied it)"
        );
        assert!(line("auto", None, "pipeline").contains("the transform decides it"));
        assert!(line("keep", None, "pipeline").contains("the pipeline's `ids.strategy`"));
    }
}
