//! `bptmig check`: pre-flight on both sides, printed as a table; exit 1 when anything blocks.

use std::path::PathBuf;

use bptmig_db::permissions::{has_object_permission, Permission};
use bptmig_db::{self as db, Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{mask_secrets, LoadStrategy, UnmappedDefinition};
use bptmig_model::PipelineConfig;
use bptmig_transform::coverage::Coverage;
use bptmig_transform::maps::Snapshot;
use bptmig_transform::report::Report;
use bptmig_workdir::{Manifest, RunState, WorkDir};

use super::Outcome;
use crate::settings::Settings;

/// `bptmig check`: runs every check and prints the table; [`Outcome::Review`] when anything
/// blocks.
pub fn run(settings: &Settings) -> Outcome {
    let lines = settings.runtime.block_on(check(&settings.config));
    if print(&lines) {
        Outcome::Review
    } else {
        Outcome::Done
    }
}

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
    // ID room and mapping need both sides.
    if let (Some(s), Some(t)) = (source.as_mut(), target.as_mut()) {
        id_room(s, t, &mut out).await;
        mapping(config, s, t, &mut out).await;
    }
    workdir(config, &mut out);
    out
}

/// Whether the target's process and activity IDs leave room for every source row.
async fn id_room(source: &mut SqlClient, target: &mut SqlClient, out: &mut Vec<Line>) {
    for table in [c::PROCESS, c::ACTIVITY] {
        let rows = db::row_count(source, Side::Source, table).await;
        let max = db::max_id(target, Side::Target, table).await;
        let name = format!("ID room in target {table}");
        match (rows, max) {
            (Ok(rows), Ok(max)) => {
                let max = max.unwrap_or(0);
                let top = max + rows;
                let verdict = if top <= i64::from(i32::MAX) {
                    Verdict::Ok
                } else {
                    Verdict::Block
                };
                out.push(line(
                    name,
                    verdict,
                    format!(
                        "target max ID {max} + at most {rows} source rows = {top} (limit {})",
                        i32::MAX
                    ),
                ));
            }
            (Err(e), _) | (_, Err(e)) => {
                out.push(line(name, Verdict::Block, mask_secrets(&e.to_string())));
            }
        }
    }
}

/// Snapshots of both sides: the extract's when it wrote them, otherwise fresh ones in a
/// scratch directory that is removed afterwards.
struct Snapshots {
    source: Snapshot,
    target: Snapshot,
    scratch: Option<PathBuf>,
}

impl Drop for Snapshots {
    fn drop(&mut self) {
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

async fn snapshots(
    config: &PipelineConfig,
    source: &mut SqlClient,
    target: &mut SqlClient,
) -> Result<Snapshots, bptmig_extract::Error> {
    let wd = WorkDir::new(&config.workdir);
    let complete = |side: &str| {
        Manifest::read(&wd.snapshot_dir(side))
            .ok()
            .flatten()
            .is_some_and(|m| m.complete)
    };
    if complete("source") && complete("target") {
        return Ok(Snapshots {
            source: Snapshot::new(wd.snapshot_dir("source")),
            target: Snapshot::new(wd.snapshot_dir("target")),
            scratch: None,
        });
    }
    let scratch = std::env::temp_dir().join(format!("bptmig-check-{}", std::process::id()));
    // Built first, so that a failure below still removes the scratch directory.
    let out = Snapshots {
        source: Snapshot::new(scratch.join("source")),
        target: Snapshot::new(scratch.join("target")),
        scratch: Some(scratch.clone()),
    };
    for (side, client, dir) in [
        (Side::Source, source, scratch.join("source")),
        (Side::Target, target, scratch.join("target")),
    ] {
        std::fs::create_dir_all(&dir).map_err(|e| bptmig_workdir::Error::io(&dir, "create", e))?;
        bptmig_extract::write_snapshot(&dir, "check", client, side, config.extract.row_group_rows)
            .await?;
    }
    Ok(out)
}

/// Definitions, users, groups and tenants that the selected trees reference: mapped, or
/// covered by the pipeline's policies.
async fn mapping(
    config: &PipelineConfig,
    source: &mut SqlClient,
    target: &mut SqlClient,
    out: &mut Vec<Line>,
) {
    let used = match bptmig_extract::selection::used_ids(source, &config.selection).await {
        Ok(u) => u,
        Err(e) => {
            out.push(line("selection", Verdict::Block, describe(&e)));
            return;
        }
    };
    let coverage = match snapshots(config, source, target).await {
        Ok(snaps) => {
            bptmig_transform::coverage::coverage(config, &snaps.source, &snaps.target, &used)
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    let coverage = match coverage {
        Ok(c) => c,
        Err(e) => {
            out.push(line("mapping coverage", Verdict::Block, mask_secrets(&e)));
            return;
        }
    };
    let skip_tree = config.mapping.unmapped_definition == UnmappedDefinition::SkipTree;
    let definitions_missing = !coverage.unmapped_definitions.is_empty();
    out.push(definitions_line(&coverage, skip_tree));
    out.push(principals_line(&coverage, skip_tree && definitions_missing));
}

/// Whether every definition the trees use has a match in the target, process definitions
/// first: they decide which trees move.
fn definitions_line(coverage: &Coverage, skip_tree: bool) -> Line {
    const DEFS: &str = "definitions mapped";
    let mut missing = coverage.unmapped_definitions.clone();
    missing.sort_by_key(|d| {
        (
            d.table != c::PROCESS_DEFINITION,
            d.table.clone(),
            d.source_id,
        )
    });
    if missing.is_empty() {
        return line(
            DEFS,
            Verdict::Ok,
            format!(
                "all {} definitions the selected trees use exist in the target (by SS_KEY)",
                coverage.definitions_used
            ),
        );
    }
    let names = list(
        missing
            .iter()
            .map(|d| format!("`{}` ({} #{})", d.name, d.table, d.source_id)),
    );
    if skip_tree {
        line(
            DEFS,
            Verdict::Note,
            format!(
                "{} of {} have no match in the target; `skip-tree` will leave their trees \
                 out: {names}",
                missing.len(),
                coverage.definitions_used
            ),
        )
    } else {
        line(
            DEFS,
            Verdict::Block,
            format!(
                "{} of {} have no match in the target: {names}; publish them there or set \
                 `mapping.unmapped_definition = \"skip-tree\"`",
                missing.len(),
                coverage.definitions_used
            ),
        )
    }
}

/// Whether every user, group and tenant the trees use resolves. `trees_skipped`: skip-tree
/// leaves trees out, and those may hold the unmapped principals, so the transform may not
/// refuse after all.
fn principals_line(coverage: &Coverage, trees_skipped: bool) -> Line {
    const PRINCIPALS: &str = "users, groups, tenants mapped";
    match &coverage.principals {
        Ok(r) if r.unmapped.is_empty() => line(
            PRINCIPALS,
            Verdict::Ok,
            format!(
                "{} tenant(s), {} user(s), {} group(s): by the mapping file or by name",
                r.how.tenants.total(),
                r.how.users.total(),
                r.how.groups.total()
            ),
        ),
        Ok(r) => line(
            PRINCIPALS,
            Verdict::Note,
            format!(
                "{} user(s)/group(s) have no match and fall to the policy (`unmapped_user`, \
                 `unmapped_group`): {}",
                r.unmapped.len(),
                list(r.unmapped.iter().map(ToString::to_string))
            ),
        ),
        Err(e) => line(
            PRINCIPALS,
            if trees_skipped
                && matches!(
                    e,
                    bptmig_transform::principals::MappingError::Unmapped { .. }
                )
            {
                Verdict::Note
            } else {
                Verdict::Block
            },
            one_line(&describe(e)),
        ),
    }
}

/// An error and its causes on one line, secrets masked.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    mask_secrets(&text)
}

/// A message that lists items on indented `- ` lines, as one line.
fn one_line(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().to_owned();
    let items: Vec<&str> = lines
        .map(|l| l.trim().trim_start_matches("- "))
        .filter(|l| !l.is_empty())
        .collect();
    if items.is_empty() {
        first
    } else {
        format!("{first} {}", items.join(", "))
    }
}

/// The first few items, then how many more.
fn list(items: impl ExactSizeIterator<Item = String>) -> String {
    const SHOWN: usize = 5;
    let n = items.len();
    let mut text: Vec<String> = items.take(SHOWN).collect();
    if n > SHOWN {
        text.push(format!("and {} more", n - SHOWN));
    }
    text.join(", ")
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
    for queue in db::preflight::QUEUES {
        let name = format!("{side} queue {queue} empty");
        match db::row_count(client, side, queue).await {
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

/// What the load (and a rollback) does to every instance table of the target.
const LOAD_PERMISSIONS: [Permission; 4] = [
    Permission::Insert,
    Permission::Alter,
    Permission::Delete,
    Permission::Select,
];

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
    let probe = has_object_permission(client, Side::Target, c::EVENT_QUEUE, Permission::Select);
    let mut unknown = !matches!(probe.await, Ok(Some(true)));
    let tables: &[bptmig_model::catalog::Table] = if unknown { &[] } else { c::INSTANCE_TABLES };
    for table in tables {
        for perm in LOAD_PERMISSIONS {
            match has_object_permission(client, Side::Target, table.name, perm).await {
                Ok(Some(true)) => {}
                Ok(Some(false) | None) => denied.push(format!("{perm} on {}", table.name)),
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
        let all = LOAD_PERMISSIONS.map(Permission::as_str).join(", ");
        out.push(line(
            name,
            Verdict::Ok,
            format!("{all} on every instance table"),
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
