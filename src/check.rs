//! `bptmig check`: pre-flight on both sides, printed as a table; exit 1 when anything blocks.

use bptmig_db::{self as db, SqlClient};
use std::path::PathBuf;

use bptmig_db::Side;
use bptmig_model::catalog::{self as c, FkKind};
use bptmig_model::pipeline::{mask_secrets, LoadStrategy, UnmappedDefinition};
use bptmig_model::PipelineConfig;
use bptmig_transform::coverage::UsedIds;
use bptmig_transform::maps::Snapshot;
use bptmig_workdir::{Manifest, RunState, WorkDir};

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
    if let (Some(s), Some(t)) = (source.as_mut(), target.as_mut()) {
        mapping(config, s, t, &mut out).await;
    }
    workdir(config, &mut out);
    out
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

/// The source IDs of definitions, users, groups and tenants that the selected trees
/// reference, read from the source with the extract's own selection.
async fn used_ids(
    config: &PipelineConfig,
    source: &mut SqlClient,
) -> Result<UsedIds, bptmig_extract::Error> {
    let (roots, params) = bptmig_extract::roots_query(source, &config.selection).await?;
    let refs: Vec<&dyn db::ToSql> = params.iter().map(|p| p as &dyn db::ToSql).collect();
    // The trees' IDs in temporary tables, as the extract does: nested IN subqueries are slow
    // on some servers.
    let scopes = [
        ("#bptmig_check_roots", roots),
        (
            "#bptmig_check_procs",
            format!(
                "SELECT ID FROM {} WHERE {} IN (SELECT ID FROM #bptmig_check_roots)",
                c::PROCESS,
                c::TOP_PROCESS_ID
            ),
        ),
        (
            "#bptmig_check_acts",
            format!(
                "SELECT ID FROM {} WHERE {} IN (SELECT ID FROM #bptmig_check_procs)",
                c::ACTIVITY,
                c::PROCESS_ID
            ),
        ),
    ];
    for (i, (name, select)) in scopes.iter().enumerate() {
        db::execute(
            source,
            Side::Source,
            &format!("CREATE TABLE {name} (ID INT NOT NULL PRIMARY KEY)"),
        )
        .await?;
        let params: &[&dyn db::ToSql] = if i == 0 { &refs } else { &[] };
        db::query_rows(
            source,
            Side::Source,
            &format!("INSERT INTO {name} (ID) {select}"),
            params,
        )
        .await?;
    }
    let mut used = UsedIds::default();
    for table in c::INSTANCE_TABLES {
        let scope = match table.name {
            c::PROCESS => format!(
                "{} IN (SELECT ID FROM #bptmig_check_roots)",
                c::TOP_PROCESS_ID
            ),
            c::ACTIVITY_OUTPUT => {
                format!("{} IN (SELECT ID FROM #bptmig_check_acts)", c::ACTIVITY_ID)
            }
            _ => format!("{} IN (SELECT ID FROM #bptmig_check_procs)", c::PROCESS_ID),
        };
        for (column, kind, referenced) in table.foreign_keys() {
            let set = match kind {
                FkKind::Definition => used.definitions.entry(referenced.to_owned()).or_default(),
                FkKind::User => &mut used.users,
                FkKind::Group => &mut used.groups,
                FkKind::Tenant => &mut used.tenants,
                _ => continue,
            };
            let sql = format!(
                "SELECT DISTINCT {col} FROM {} WHERE {col} IS NOT NULL AND {scope}",
                table.name,
                col = db::quote_ident(column.name)
            );
            for row in db::query_rows(source, Side::Source, &sql, &[]).await? {
                set.extend(db::int_cell(&row, 0));
            }
        }
    }
    Ok(used)
}

/// Definitions, users, groups and tenants that the selected trees reference: mapped, or
/// covered by the pipeline's policies.
async fn mapping(
    config: &PipelineConfig,
    source: &mut SqlClient,
    target: &mut SqlClient,
    out: &mut Vec<Line>,
) {
    const DEFS: &str = "definitions mapped";
    const PRINCIPALS: &str = "users, groups, tenants mapped";
    let used = match used_ids(config, source).await {
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
    // Process definitions first: they decide which trees move.
    let mut missing = coverage.unmapped_definitions.clone();
    missing.sort_by_key(|d| {
        (
            d.table != c::PROCESS_DEFINITION,
            d.table.clone(),
            d.source_id,
        )
    });
    let missing = &missing;
    if missing.is_empty() {
        out.push(line(
            DEFS,
            Verdict::Ok,
            format!(
                "all {} definitions the selected trees use exist in the target (by SS_KEY)",
                coverage.definitions_used
            ),
        ));
    } else {
        let names = list(
            missing
                .iter()
                .map(|d| format!("`{}` ({} #{})", d.name, d.table, d.source_id)),
        );
        out.push(if skip_tree {
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
        });
    }
    match &coverage.principals {
        Ok(r) if r.unmapped.is_empty() => out.push(line(
            PRINCIPALS,
            Verdict::Ok,
            format!(
                "{} tenant(s), {} user(s), {} group(s): by the mapping file or by name",
                r.how.tenants.total(),
                r.how.users.total(),
                r.how.groups.total()
            ),
        )),
        Ok(r) => out.push(line(
            PRINCIPALS,
            Verdict::Note,
            format!(
                "{} user(s)/group(s) have no match and fall to the policy (`unmapped_user`, \
                 `unmapped_group`): {}",
                r.unmapped.len(),
                list(r.unmapped.iter().map(ToString::to_string))
            ),
        )),
        // Trees that skip-tree leaves out may hold the unmapped principals: then the
        // transform may not refuse after all.
        Err(e) => out.push(line(
            PRINCIPALS,
            if skip_tree
                && !missing.is_empty()
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
        )),
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
            if let Some(problems) = std::fs::read(&report)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["problems"].as_u64())
            {
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
