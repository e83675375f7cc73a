//! The work directory: new, or this pipeline's run and how far it got.

use bptmig_model::pipeline::mask_secrets;
use bptmig_model::PipelineConfig;
use bptmig_transform::report::Report;
use bptmig_workdir::{RunState, WorkDir};

use super::line::{line, Line, Verdict};

pub fn workdir(config: &PipelineConfig, out: &mut Vec<Line>) {
    let wd = WorkDir::new(&config.workdir);
    let name = "work directory";
    match RunState::read(&wd) {
        Ok(None) => out.push(line(
            name,
            Verdict::Ok,
            format!(
                "`{}` is new; a run starts from extract",
                config.workdir.display()
            ),
        )),
        Ok(Some(run)) => {
            let stages: Vec<String> = run
                .stages
                .iter()
                .map(|(s, st)| format!("{s} {st:?}").to_lowercase())
                .collect();
            let mismatch = bptmig_workdir::other_databases(&run, config);
            if let Some(side) = mismatch {
                out.push(line(
                    name,
                    Verdict::Block,
                    format!(
                        "`{}` belongs to another {side} database (run {}); use a new work \
                         directory",
                        config.workdir.display(),
                        run.run_id
                    ),
                ));
            } else {
                out.push(line(
                    name,
                    Verdict::Ok,
                    format!(
                        "run {}: {}",
                        run.run_id,
                        if stages.is_empty() {
                            "nothing done yet".to_owned()
                        } else {
                            stages.join(", ")
                        }
                    ),
                ));
            }
            let report = wd.root().join("report.json");
            if let Ok(Report { problems, .. }) = Report::read(&report) {
                out.push(line(
                    "transform report",
                    if problems == 0 {
                        Verdict::Ok
                    } else {
                        Verdict::Note
                    },
                    format!(
                        "{problems} finding(s) covered by the pipeline's policies; see `{}`",
                        report.display()
                    ),
                ));
            }
        }
        Err(e) => out.push(line(name, Verdict::Block, mask_secrets(&e.to_string()))),
    }
}
