//! Will the moved processes run in qa? (issue 15 §4), end to end over TDS on the sandbox's
//! platform shapes: qa has locked `Onboarding` and deactivated tenant `Globex`, prod's open
//! Wait and Automatic activities are due. `check`'s two scheduler lines and the transform's
//! `report.json` `scheduler` agree, and both equal what the two databases say.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Output;

use bptmig_db::{Side, SqlClient};
use bptmig_model::PipelineConfig;
use bptmig_sandbox::shapes::{INACTIVE_TENANT, LOCKED_DEFINITION};
use bptmig_sandbox::testing::{self, Pair};
use bptmig_sandbox::EnvSpec;

use crate::common;

const NEVER: &str = "scheduler: never run";
const AT_ONCE: &str = "scheduler: runs at once";
/// The sandbox's inactive definition (in both environments).
const INACTIVE_DEFINITION: &str = bptmig_sandbox::generator::INACTIVE_DEFINITION;
/// Terminal statuses of the sandbox (process Closed, Terminated; activity Closed, Terminated).
const PROCESS_TERMINAL: [i64; 2] = [2, 4];
const ACTIVITY_TERMINAL: [i64; 2] = [5, 6];
/// The sandbox's kind `Automatic Activity`.
const AUTOMATIC_KIND: i64 = 4;

fn pipeline(dir: &Path, pair: &Pair) -> (PathBuf, PipelineConfig) {
    let path = dir.join("scheduler.toml");
    let config = pair
        .pipeline()
        .workdir(dir.join("work"))
        .extra(
            "[selection]\nbroken_tree = \"skip\"\n[mapping]\nunmapped_user = \"null\"\n\
             unmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n\
             unmoved_reference = \"null\"\n",
        )
        .config(&path)
        .unwrap();
    (path, config)
}

fn bptmig(command: &str, pipeline: &Path) -> Output {
    common::bptmig([command, "--pipeline", pipeline.to_str().unwrap()])
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The check line called `name`, whole.
fn check_line(out: &Output, name: &str) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no line `{name}`:\n{}", text(out)))
        .to_owned()
}

/// Findings by reason code: (count, sample IDs).
type Groups = BTreeMap<String, (u64, Vec<i64>)>;

/// `` `code` N (… ids …) `` groups of a line.
fn groups(line: &str) -> Groups {
    let mut out = BTreeMap::new();
    for piece in line.split('`').collect::<Vec<_>>().windows(2) {
        let (code, rest) = (piece[0], piece[1].trim_start());
        if !code.chars().all(|c| c.is_ascii_lowercase() || c == '_') || code.is_empty() {
            continue;
        }
        let Some((count, rest)) = rest.split_once(" (") else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else {
            continue;
        };
        let ids = rest
            .split(')')
            .next()
            .unwrap_or_default()
            .split([' ', ','])
            .filter_map(|w| w.parse().ok())
            .collect();
        out.insert(code.to_owned(), (count, ids));
    }
    out
}

/// The report's `scheduler` as the same groups, and the automatic count.
fn report_groups(config: &PipelineConfig) -> (Groups, Option<u64>) {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.workdir.join("report.json")).unwrap())
            .unwrap();
    let s = &report["scheduler"];
    // Compared with the target server's own clock, which the extract's snapshot recorded.
    let now = s["now"].as_str().unwrap_or_default();
    assert!(
        now.ends_with("(the target server's clock at the extract)"),
        "{s}"
    );
    let group = |g: &serde_json::Value| {
        let ids = g["sample_ids"].as_array().unwrap();
        (
            g["reason"].as_str().unwrap().to_owned(),
            (
                g["count"].as_u64().unwrap(),
                ids.iter().map(|i| i.as_i64().unwrap()).collect(),
            ),
        )
    };
    let mut out: BTreeMap<_, _> = s["never_run"]
        .as_array()
        .into_iter()
        .flatten()
        .map(group)
        .collect();
    let past = &s["past_next_run"];
    if !past.is_null() {
        out.insert("next_run_past".to_owned(), group(past).1);
    }
    (out, past["automatic"].as_u64())
}

async fn ints(client: &mut SqlClient, side: Side, sql: &str) -> Vec<Vec<Option<i64>>> {
    let rows = bptmig_db::query_rows(client, side, sql, &[]).await.unwrap();
    rows.iter()
        .map(|r| (0..r.len()).map(|i| bptmig_db::int_cell(r, i)).collect())
        .collect()
}

/// The ID of the row of `table` called `name`.
async fn id_named(client: &mut SqlClient, side: Side, table: &str, name: &str) -> i64 {
    let sql = format!("SELECT ID FROM {table} WHERE NAME = '{name}'");
    ints(client, side, &sql).await[0][0].unwrap()
}

/// What the two databases say, for the processes and activities the run moved: each
/// reason's processes, the due activities and how many of them are automatic.
async fn expected(config: &PipelineConfig) -> (BTreeMap<String, BTreeSet<i64>>, u64) {
    let mut prod = bptmig_db::connect(Side::Source, &config.source)
        .await
        .unwrap();
    let moved = testing::read_id_map(&config.workdir, bptmig_model::catalog::PROCESS).unwrap();
    let moved_activities =
        testing::read_id_map(&config.workdir, bptmig_model::catalog::ACTIVITY).unwrap();
    let src = Side::Source;
    let locked = id_named(
        &mut prod,
        src,
        "OSSYS_BPM_PROCESS_DEFINITION",
        LOCKED_DEFINITION,
    )
    .await;
    let inactive = id_named(
        &mut prod,
        src,
        "OSSYS_BPM_PROCESS_DEFINITION",
        INACTIVE_DEFINITION,
    )
    .await;
    let tenant = id_named(&mut prod, src, "OSSYS_TENANT", INACTIVE_TENANT).await;
    let mut by_reason: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut open: HashMap<i64, bool> = HashMap::new();
    let sql = "SELECT ID, PROCESS_DEF_ID, TENANT_ID, STATUS_ID FROM OSSYS_BPM_PROCESS";
    for r in ints(&mut prod, src, sql).await {
        let id = r[0].unwrap();
        let moves = i32::try_from(id).is_ok_and(|i| moved.contains_key(&i));
        if !moves || PROCESS_TERMINAL.contains(&r[3].unwrap()) {
            continue;
        }
        let mut reasons = Vec::new();
        if r[1] == Some(inactive) {
            reasons.push("definition_inactive");
        }
        if r[1] == Some(locked) {
            reasons.push("definition_locked");
        }
        if r[2] == Some(tenant) {
            reasons.push("tenant_inactive");
        }
        open.insert(id, reasons.is_empty());
        for reason in reasons {
            by_reason.entry(reason.to_owned()).or_default().insert(id);
        }
    }
    let automatic_defs: BTreeSet<i64> = ints(
        &mut prod,
        src,
        &format!("SELECT ID FROM OSSYS_BPM_ACTIVITY_DEFINITION WHERE KIND = {AUTOMATIC_KIND}"),
    )
    .await
    .iter()
    .filter_map(|r| r[0])
    .collect();
    // Every NEXT_RUN the sandbox writes lies in 2019: all are past.
    let sql = "SELECT ID, PROCESS_ID, STATUS_ID, ACTIVITY_DEF_ID FROM OSSYS_BPM_ACTIVITY \
               WHERE NEXT_RUN IS NOT NULL";
    let mut automatic = 0;
    for r in ints(&mut prod, src, sql).await {
        let id = r[0].unwrap();
        let moves = i32::try_from(id).is_ok_and(|i| moved_activities.contains_key(&i));
        let runs = open.get(&r[1].unwrap()).copied().unwrap_or(false);
        if moves && runs && !ACTIVITY_TERMINAL.contains(&r[2].unwrap()) {
            by_reason
                .entry("next_run_past".to_owned())
                .or_default()
                .insert(id);
            automatic += u64::from(r[3].is_some_and(|d| automatic_defs.contains(&d)));
        }
    }
    (by_reason, automatic)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_report_name_the_processes_qa_never_runs_and_the_activities_it_runs_at_once() {
    let spec = EnvSpec {
        processes: 40,
        platform_shapes: true,
        ..EnvSpec::default()
    };
    let pair = Pair::start(&spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = pipeline(dir.path(), &pair);

    let check = bptmig("check", &path);
    let (never, at_once) = (check_line(&check, NEVER), check_line(&check, AT_ONCE));
    for l in [&never, &at_once] {
        assert!(l.contains(" note "), "a finding is a note, not BLOCK: {l}");
    }
    let mut checked = groups(&never);
    checked.extend(groups(&at_once));

    let extract = bptmig("extract", &path);
    assert_eq!(extract.status.code(), Some(0), "{}", text(&extract));
    let transform = bptmig("transform", &path);
    assert_eq!(transform.status.code(), Some(1), "{}", text(&transform));
    let (reported, automatic) = report_groups(&config);

    let (expected, expected_automatic) = expected(&config).await;
    let expected: Groups = expected
        .into_iter()
        .map(|(code, ids)| {
            let first = ids.iter().take(10).copied().collect();
            (code, (ids.len() as u64, first))
        })
        .collect();
    for code in [
        "definition_inactive",
        "definition_locked",
        "tenant_inactive",
        "next_run_past",
    ] {
        assert!(
            expected.get(code).is_some_and(|g| g.0 > 0),
            "the sandbox has some `{code}`: {expected:?}"
        );
    }
    assert!(expected_automatic > 0, "some due activities are automatic");
    assert_eq!(reported, expected, "report.json's scheduler");
    assert_eq!(automatic, Some(expected_automatic), "automatic");
    assert_eq!(checked, expected, "check's lines:\n{never}\n{at_once}");
    assert!(
        at_once.contains(&format!("{expected_automatic} of them automatic")),
        "{at_once}"
    );
}
