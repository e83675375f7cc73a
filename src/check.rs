//! `bptmig check`: pre-flight on both sides, printed as a table; exit 1 when anything blocks.

use bptmig_extract::db::{self, SqlClient};
use bptmig_extract::workdir::{RunState, WorkDir};
use bptmig_extract::Side;
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{mask_secrets, LoadStrategy};
use bptmig_model::PipelineConfig;

/// One line of the table.
#[derive(Debug)]
pub struct Line {
    pub check: String,
    pub verdict: Verdict,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Worth reading; does not stop a run.
    Note,
    /// A run would fail or refuse.
    Block,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Note => "note",
            Verdict::Block => "BLOCK",
        }
    }
}

fn line(check: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Line {
    Line {
        check: check.into(),
        verdict,
        detail: detail.into(),
    }
}

/// Runs every check; never fails (a failure is a line).
pub async fn check(config: &PipelineConfig) -> Vec<Line> {
    let mut out = Vec::new();
    let mut source = connect(Side::Source, config, &mut out).await;
    let mut target = connect(Side::Target, config, &mut out).await;
    if let Some(s) = source.as_mut() {
        queues(Side::Source, s, &mut out).await;
    }
    if let Some(t) = target.as_mut() {
        queues(Side::Target, t, &mut out).await;
        permissions(config, t, &mut out).await;
    }
    // ID room needs both sides.
    if let (Some(s), Some(t)) = (source.as_mut(), target.as_mut()) {
        for table in [c::PROCESS, c::ACTIVITY] {
            let rows = db::scalar(s, Side::Source, &format!("SELECT COUNT(*) FROM {table}")).await;
            let max = db::scalar(t, Side::Target, &format!("SELECT MAX(ID) FROM {table}")).await;
            match (rows, max) {
                (Ok(rows), Ok(max)) => {
                    let top = max + rows;
                    let verdict = if top <= i64::from(i32::MAX) {
                        Verdict::Ok
                    } else {
                        Verdict::Block
                    };
                    out.push(line(
                        format!("ID room in target {table}"),
                        verdict,
                        format!(
                            "target max ID {max} + at most {rows} source rows = {top} (limit {})",
                            i32::MAX
                        ),
                    ));
                }
                (Err(e), _) | (_, Err(e)) => out.push(line(
                    format!("ID room in target {table}"),
                    Verdict::Block,
                    mask_secrets(&e.to_string()),
                )),
            }
        }
    }
    workdir(config, &mut out);
    out
}

async fn connect(side: Side, config: &PipelineConfig, out: &mut Vec<Line>) -> Option<SqlClient> {
    let endpoint = match side {
        Side::Source => &config.source,
        Side::Target => &config.target,
    };
    match db::connect(side, endpoint).await {
        Ok(c) => {
            out.push(line(
                format!("{side} connection"),
                Verdict::Ok,
                endpoint.connection.to_string(),
            ));
            Some(c)
        }
        Err(e) => {
            out.push(line(
                format!("{side} connection"),
                Verdict::Block,
                mask_secrets(&e.to_string()),
            ));
            None
        }
    }
}

async fn queues(side: Side, client: &mut SqlClient, out: &mut Vec<Line>) {
    for queue in [c::EVENT_QUEUE, c::LIGHT_EVENT] {
        let name = format!("{side} queue {queue} empty");
        match db::scalar(client, side, &format!("SELECT COUNT(*) FROM {queue}")).await {
            Ok(0) => out.push(line(name, Verdict::Ok, "0 rows")),
            Ok(n) => out.push(line(
                name,
                Verdict::Block,
                format!("{n} row(s): let the {side}'s scheduler drain it first"),
            )),
            Err(e) => out.push(line(name, Verdict::Block, mask_secrets(&e.to_string()))),
        }
    }
}

/// The rights the load needs: create the ledger (once), insert with explicit identities.
async fn permissions(config: &PipelineConfig, client: &mut SqlClient, out: &mut Vec<Line>) {
    let strategy = match config.load.strategy {
        LoadStrategy::Auto => "auto",
        LoadStrategy::Insert => "insert",
        LoadStrategy::Bulk => "bulk",
    };
    let mut denied = Vec::new();
    // A server that cannot report permissions answers 0 or NULL even for what this session
    // just read: then say so rather than guess.
    let probe = format!(
        "SELECT HAS_PERMS_BY_NAME({}, 'OBJECT', 'SELECT')",
        db::quote_text(c::EVENT_QUEUE)
    );
    let mut unknown = db::scalar(client, Side::Target, &probe).await.ok() != Some(1);
    let tables: &[bptmig_model::catalog::Table] = if unknown { &[] } else { c::INSTANCE_TABLES };
    for table in tables {
        for perm in ["INSERT", "ALTER", "DELETE", "SELECT"] {
            let sql = format!(
                "SELECT HAS_PERMS_BY_NAME({}, 'OBJECT', '{perm}')",
                db::quote_text(table.name)
            );
            match db::scalar(client, Side::Target, &sql).await {
                Ok(1) => {}
                Ok(_) => denied.push(format!("{perm} on {}", table.name)),
                Err(_) => unknown = true,
            }
        }
    }
    let name = format!("target permissions (strategy {strategy})");
    if !denied.is_empty() {
        out.push(line(
            name,
            Verdict::Block,
            format!(
                "missing {}; the load needs INSERT and ALTER (IDENTITY_INSERT), rollback DELETE",
                denied.join(", ")
            ),
        ));
    } else if unknown {
        out.push(line(
            name,
            Verdict::Note,
            "the server cannot report permissions (HAS_PERMS_BY_NAME); the load will find out",
        ));
    } else {
        out.push(line(
            name,
            Verdict::Ok,
            "INSERT, ALTER, DELETE, SELECT on every instance table",
        ));
    }
}

fn workdir(config: &PipelineConfig, out: &mut Vec<Line>) {
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
            let mismatch = bptmig_extract::other_databases(&run, config);
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
            if let Some(problems) = std::fs::read(&report)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["problems"].as_u64())
            {
                out.push(line(
                    "mapping (definitions, users, groups, tenants)",
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

/// Prints the table; returns whether anything blocks.
pub fn print(lines: &[Line]) -> bool {
    let width = lines.iter().map(|l| l.check.len()).max().unwrap_or(10);
    for l in lines {
        println!(
            "{:<width$}  {:<5}  {}",
            l.check,
            l.verdict.as_str(),
            l.detail
        );
    }
    let blocking = lines.iter().filter(|l| l.verdict == Verdict::Block).count();
    if blocking > 0 {
        println!("{blocking} check(s) block a run");
    } else {
        println!("nothing blocks a run");
    }
    blocking > 0
}
