//! Identifiers inside values and subscription columns, end to end over TDS (prod → qa, the
//! sandbox's platform shapes): what qa holds after each `unmoved_reference` policy, the
//! report's counts, `check`'s count before anything runs, and `verify`'s check of instance
//! identifiers, shown to fail on a value corrupted by hand.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use bptmig_db::{Side, SqlClient};
use bptmig_model::catalog as c;
use bptmig_model::PipelineConfig;
use bptmig_sandbox::shapes::{ShapedValue, ValueCase, USER_EVENT_TABLE};
use bptmig_sandbox::testing::{self, Pair};
use bptmig_sandbox::EnvSpec;

use crate::common;

const CHECK: &str = "identifiers inside values";

fn spec() -> EnvSpec {
    EnvSpec {
        processes: 24,
        platform_shapes: true,
        ..EnvSpec::default()
    }
}

/// The policies the sandbox's prod needs (broken trees, prod-only users, groups and
/// definitions), and `unmoved_reference = policy`.
fn pipeline(dir: &Path, pair: &Pair, name: &str, policy: &str) -> (PathBuf, PipelineConfig) {
    let path = dir.join(format!("{name}.toml"));
    let config = pair
        .pipeline()
        .workdir(dir.join(name))
        .extra(&format!(
            "[selection]\nbroken_tree = \"skip\"\n[mapping]\nunmapped_user = \"null\"\n\
             unmapped_group = \"null\"\nunmapped_definition = \"skip-tree\"\n\
             unmoved_reference = \"{policy}\"\n[load]\nstrategy = \"insert\"\n"
        ))
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

/// `check`'s line on identifiers inside values, and the count it opens with.
fn check_count(pipeline: &Path) -> (String, u64) {
    let o = bptmig("check", pipeline);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = out
        .lines()
        .find(|l| l.starts_with(CHECK))
        .unwrap_or_else(|| panic!("no line `{CHECK}`:\n{}", text(&o)))
        .to_owned();
    let detail = line[CHECK.len()..].trim_start();
    let detail = detail
        .split_once("  ")
        .map_or(detail, |(_, d)| d.trim_start());
    let n = detail
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    (line, n)
}

fn report(config: &PipelineConfig) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(config.workdir.join("report.json")).unwrap()).unwrap()
}

/// Unmoved identifiers the report counts in the three value tables.
fn unmoved_in_values(report: &serde_json::Value) -> u64 {
    [c::PROCESS_INPUT, c::PROCESS_OUTPUT, c::ACTIVITY_OUTPUT]
        .iter()
        .filter_map(|t| report["tables"][t]["unmoved_references"].as_object())
        .flat_map(|cols| cols.values())
        .filter_map(|entities| entities.as_object())
        .flat_map(|e| e.values())
        .map(|n| n.as_u64().unwrap())
        .sum()
}

/// Unmoved identifiers the report counts in every table: the value tables' and the
/// subscription tables' columns.
fn unmoved_everywhere(report: &serde_json::Value) -> u64 {
    report["tables"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|t| t["unmoved_references"].as_object())
        .flat_map(|cols| cols.values())
        .filter_map(|entities| entities.as_object())
        .flat_map(|e| e.values())
        .map(|n| n.as_u64().unwrap())
        .sum()
}

/// The subscription rows `check`'s line says `null` leaves behind.
fn left_behind(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once("leave behind the ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// One cell of a row read back: as an integer, and as text.
struct Cell {
    int: Option<i64>,
    text: Option<String>,
}

async fn rows(client: &mut SqlClient, side: Side, sql: &str) -> Vec<Vec<Cell>> {
    let rows = bptmig_db::query_rows(client, side, sql, &[]).await.unwrap();
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| Cell {
                    int: bptmig_db::int_cell(r, i),
                    text: bptmig_db::text_cell(r, i),
                })
                .collect()
        })
        .collect()
}

/// Source ID → target ID of every user (username + tenant name), group (name + tenant name)
/// and tenant (name) that both sides have.
#[derive(Default)]
struct NaturalKeys {
    users: HashMap<i64, i64>,
    groups: HashMap<i64, i64>,
    tenants: HashMap<i64, i64>,
}

impl NaturalKeys {
    async fn read(prod: &mut SqlClient, qa: &mut SqlClient) -> Self {
        let mut keys: Vec<[HashMap<(String, String), i64>; 3]> = Vec::new();
        for (client, side) in [(prod, Side::Source), (qa, Side::Target)] {
            let tenant_names: HashMap<i64, String> =
                rows(client, side, "SELECT ID, NAME FROM OSSYS_TENANT")
                    .await
                    .iter()
                    .map(|r| {
                        let id = r[0].int.unwrap();
                        (id, r[1].text.clone().unwrap_or_default())
                    })
                    .collect();
            let tenants = tenant_names
                .iter()
                .map(|(id, n)| ((n.clone(), String::new()), *id))
                .collect();
            let named = |rs: Vec<Vec<Cell>>| -> HashMap<(String, String), i64> {
                rs.iter()
                    .map(|r| {
                        let tenant = r[2]
                            .int
                            .and_then(|t| tenant_names.get(&t).cloned())
                            .unwrap_or_default();
                        let name = r[1].text.clone().unwrap_or_default();
                        ((name, tenant), r[0].int.unwrap())
                    })
                    .collect()
            };
            let users = named(
                rows(
                    client,
                    side,
                    "SELECT ID, USERNAME, TENANT_ID FROM OSSYS_USER",
                )
                .await,
            );
            let groups =
                named(rows(client, side, "SELECT ID, NAME, TENANT_ID FROM OSSYS_GROUP").await);
            keys.push([users, groups, tenants]);
        }
        let join = |k: usize| {
            keys[0][k]
                .iter()
                .filter_map(|(key, s)| keys[1][k].get(key).map(|t| (*s, *t)))
                .collect::<HashMap<i64, i64>>()
        };
        Self {
            users: join(0),
            groups: join(1),
            tenants: join(2),
        }
    }

    /// The target ID of source `id` of `entity` (User, Group, Tenant), by natural key.
    fn of(&self, entity: &str, id: i64) -> Option<i64> {
        match entity {
            "User" => self.users.get(&id),
            "Group" => self.groups.get(&id),
            "Tenant" => self.tenants.get(&id),
            _ => None,
        }
        .copied()
    }
}

/// The value column of each value table.
fn value_column(table: &str) -> &'static str {
    if table.eq_ignore_ascii_case(c::PROCESS_INPUT) {
        c::INPUT_VALUE
    } else {
        c::OUTPUT_VALUE
    }
}

/// What qa holds for each shaped value of prod (by the value row's new ID): `Some(text)`, or
/// `None` for NULL. A shaped value whose row did not move is absent.
async fn qa_values(
    qa: &mut SqlClient,
    config: &PipelineConfig,
    values: &[ShapedValue],
) -> HashMap<(&'static str, i64), Option<String>> {
    let mut out = HashMap::new();
    for table in [c::PROCESS_INPUT, c::PROCESS_OUTPUT, c::ACTIVITY_OUTPUT] {
        let map = testing::read_id_map(&config.workdir, table).unwrap();
        let mine: Vec<&ShapedValue> = values
            .iter()
            .filter(|v| v.table.eq_ignore_ascii_case(table))
            .collect();
        let new: HashMap<i64, i64> = mine
            .iter()
            .filter_map(|v| {
                let n = map.get(&i32::try_from(v.row_id).unwrap())?;
                Some((i64::from(*n), v.row_id))
            })
            .collect();
        if new.is_empty() {
            continue;
        }
        let list: Vec<String> = new.keys().map(ToString::to_string).collect();
        let sql = format!(
            "SELECT ID, {} FROM {table} WHERE ID IN ({})",
            value_column(table),
            list.join(", ")
        );
        for r in rows(qa, Side::Target, &sql).await {
            let id = r[0].int.unwrap();
            let v = mine.iter().find(|v| v.row_id == new[&id]).unwrap();
            out.insert((v.table, v.row_id), r[1].text.clone());
        }
    }
    out
}

/// What a matched value must become in qa.
fn expected_matched(
    v: &ShapedValue,
    keys: &NaturalKeys,
    maps: &BTreeMap<&str, HashMap<i32, i32>>,
) -> String {
    let id: i64 = v.value.parse().unwrap();
    let new = match v.entity {
        "Process" => maps[c::PROCESS].get(&(id as i32)).map(|n| i64::from(*n)),
        "Activity" => maps[c::ACTIVITY].get(&(id as i32)).map(|n| i64::from(*n)),
        entity => keys.of(entity, id),
    };
    new.unwrap_or_else(|| panic!("matched value without a target: {v:?}"))
        .to_string()
}

/// Every shaped value as qa holds it: matched ones rewritten, null identifiers unchanged,
/// unmoved ones as `unmoved` says (`None`: NULL; `Some`: the source text).
async fn assert_values(
    pair: &Pair,
    qa: &mut SqlClient,
    config: &PipelineConfig,
    keys: &NaturalKeys,
    keep_unmoved: bool,
) -> usize {
    let values = &pair.prod.data.shapes.values;
    let held = qa_values(qa, config, values).await;
    let maps: BTreeMap<&str, HashMap<i32, i32>> = [c::PROCESS, c::ACTIVITY]
        .into_iter()
        .map(|t| (t, testing::read_id_map(&config.workdir, t).unwrap()))
        .collect();
    let mut unmoved = 0;
    for v in values {
        let got = held
            .get(&(v.table, v.row_id))
            .unwrap_or_else(|| panic!("value row did not move: {v:?}"));
        match v.case {
            ValueCase::Matched => {
                assert_eq!(
                    got.as_deref(),
                    Some(&*expected_matched(v, keys, &maps)),
                    "{v:?}"
                );
            }
            ValueCase::Zero | ValueCase::Empty => {
                assert_eq!(got.as_deref(), Some(v.value.as_str()), "{v:?}");
            }
            ValueCase::Outside
            | ValueCase::BrokenTree
            | ValueCase::Nowhere
            | ValueCase::NotInteger => {
                unmoved += 1;
                let want = keep_unmoved.then_some(v.value.as_str());
                assert_eq!(got.as_deref(), want, "{v:?}");
            }
        }
    }
    assert!(
        values
            .iter()
            .filter(|v| v.case == ValueCase::Matched)
            .count()
            > 10,
        "the shapes hold matched values of every kind"
    );
    unmoved
}

/// Each `OSEVT_USER` row of prod as qa holds it (by its activity's new ID): `ID` and
/// `TENANT_ID` the qa user and tenant of the same natural key, and the same user as the
/// `Reviewer` input of its process names when both name one in prod. A row naming a user qa
/// lacks is left behind (`keep_unmoved` false) or carried unchanged. Returns the rows of qa
/// and those left behind.
async fn assert_user_subscriptions(
    prod: &mut SqlClient,
    qa: &mut SqlClient,
    config: &PipelineConfig,
    keys: &NaturalKeys,
    keep_unmoved: bool,
) -> (usize, usize) {
    let subs = format!(
        "SELECT E._ACTIVITY_ID, E.ID, E.TENANT_ID, A.PROCESS_ID FROM {USER_EVENT_TABLE} E \
         JOIN OSSYS_BPM_ACTIVITY A ON A.ID = E._ACTIVITY_ID"
    );
    let reviewer =
        "SELECT PROCESS_ID, INPUT_VALUE FROM OSSYS_BPM_PROCESS_INPUT WHERE NAME = 'Reviewer'";
    let read = |rs: Vec<Vec<Cell>>| -> HashMap<i64, (i64, Option<i64>, i64)> {
        rs.iter()
            .map(|r| {
                let cell = |i: usize| r[i].int;
                (
                    cell(0).unwrap(),
                    (cell(1).unwrap(), cell(2), cell(3).unwrap()),
                )
            })
            .collect()
    };
    let inputs = |rs: Vec<Vec<Cell>>| -> HashMap<i64, Option<String>> {
        rs.iter()
            .map(|r| (r[0].int.unwrap(), r[1].text.clone()))
            .collect()
    };
    let before = read(rows(prod, Side::Source, &subs).await);
    let after = read(rows(qa, Side::Target, &subs).await);
    let prod_reviewers = inputs(rows(prod, Side::Source, reviewer).await);
    let qa_reviewers = inputs(rows(qa, Side::Target, reviewer).await);
    let activities = testing::read_id_map(&config.workdir, c::ACTIVITY).unwrap();
    let (mut dropped, mut consistent) = (0, 0);
    for (activity, (user, tenant, process)) in &before {
        let new = i64::from(activities[&(*activity as i32)]);
        let held = after.get(&new);
        let Some(target_user) = keys.of("User", *user) else {
            if keep_unmoved {
                assert_eq!(held.map(|h| h.0), Some(*user), "kept as it was");
            } else {
                assert!(held.is_none(), "a subscription of user {user} left behind");
                dropped += 1;
            }
            continue;
        };
        let (qa_user, qa_tenant, qa_process) = held.unwrap();
        assert_eq!(*qa_user, target_user, "activity {activity}");
        assert_eq!(*qa_tenant, tenant.and_then(|t| keys.of("Tenant", t)));
        if prod_reviewers[process].as_deref() == Some(&*user.to_string()) {
            assert_eq!(
                qa_reviewers[qa_process].as_deref(),
                Some(&*qa_user.to_string()),
                "the subscription and the input name the same user"
            );
            consistent += 1;
        }
    }
    assert!(consistent > 0, "some reviewer is subscribed");
    assert_eq!(after.len() + dropped, before.len());
    (after.len(), dropped)
}

async fn count(client: &mut SqlClient, table: &str) -> i64 {
    bptmig_db::row_count(client, Side::Target, table)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_null_values_land_on_their_namesakes_and_the_unmoved_become_null() {
    let pair = Pair::start(&spec()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = pipeline(dir.path(), &pair, "null", "null");
    let (line, counted) = check_count(&path);
    assert!(line.contains("note") && line.contains("\"null\""), "{line}");

    let o = bptmig("run", &path);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert!(text(&o).contains("verify passed"), "{}", text(&o));
    let report = report(&config);
    assert_eq!(report["unmoved_reference"], "null");

    let mut prod = bptmig_db::connect(Side::Source, &config.source)
        .await
        .unwrap();
    let mut qa = bptmig_db::connect(Side::Target, &config.target)
        .await
        .unwrap();
    let keys = NaturalKeys::read(&mut prod, &mut qa).await;
    let unmoved = assert_values(&pair, &mut qa, &config, &keys, false).await;
    assert_eq!(unmoved_in_values(&report) as usize, unmoved, "{report:#}");
    let everywhere = unmoved_everywhere(&report);
    assert!(
        everywhere as usize > unmoved,
        "subscription columns: {report:#}"
    );
    assert_eq!(
        counted, everywhere,
        "check counts what the transform finds, subscription columns included: {line}"
    );

    // A subscription to a prod-only user is left behind, not widened to "any user".
    let (subs, dropped) =
        assert_user_subscriptions(&mut prod, &mut qa, &config, &keys, false).await;
    assert!(subs > 0 && dropped > 0, "{subs} moved, {dropped} dropped");
    assert_eq!(
        report["tables"][USER_EVENT_TABLE]["subscriptions_dropped"].as_u64(),
        Some(dropped as u64),
        "{report:#}"
    );
    let dropped_everywhere: u64 = report["tables"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|t| t["subscriptions_dropped"].as_u64())
        .sum();
    assert_eq!(
        left_behind(&line),
        Some(dropped_everywhere),
        "check says which subscriptions `null` leaves behind: {line}"
    );

    // A moved Process Identifier corrupted by hand: verify's check fails.
    let process_map = testing::read_id_map(&config.workdir, c::PROCESS).unwrap();
    let input_map = testing::read_id_map(&config.workdir, c::PROCESS_INPUT).unwrap();
    let matched = pair
        .prod
        .data
        .shapes
        .values_of(ValueCase::Matched)
        .find(|v| v.entity == "Process" && v.table.eq_ignore_ascii_case(c::PROCESS_INPUT))
        .unwrap();
    let row = input_map[&(matched.row_id as i32)];
    let not_moved = (1..=i32::MAX)
        .find(|id| !process_map.values().any(|n| n == id))
        .unwrap();
    bptmig_db::execute(
        &mut qa,
        Side::Target,
        &format!("UPDATE OSSYS_BPM_PROCESS_INPUT SET INPUT_VALUE = '{not_moved}' WHERE ID = {row}"),
    )
    .await
    .unwrap();
    let o = bptmig("verify", &path);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("verify FAILED")
            && out.contains("instance identifier(s) point at no moved row")
            && out.contains(&format!("`{not_moved}`")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_stops_before_qa_changes_and_keep_carries_them_counted() {
    let pair = Pair::start(&spec()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut qa = pair_client(&pair, dir.path()).await;
    let before: Vec<i64> = {
        let mut n = Vec::new();
        for t in [c::PROCESS, c::ACTIVITY, c::PROCESS_INPUT] {
            n.push(count(&mut qa, t).await);
        }
        n
    };

    let (fail, _) = pipeline(dir.path(), &pair, "fail", "fail");
    let (line, counted) = check_count(&fail);
    assert!(line.contains("BLOCK"), "{line}");
    let o = bptmig("run", &fail);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("identifier(s) inside values")
            && out.contains(bptmig_sandbox::shapes::NOT_AN_INTEGER)
            && out.contains(&bptmig_sandbox::shapes::NOWHERE_ID.to_string()),
        "{out}"
    );
    for (t, n) in [c::PROCESS, c::ACTIVITY, c::PROCESS_INPUT]
        .iter()
        .zip(&before)
    {
        assert_eq!(count(&mut qa, t).await, *n, "{t} unchanged");
    }

    let (keep, config) = pipeline(dir.path(), &pair, "keep", "keep");
    let (line, kept_counted) = check_count(&keep);
    assert!(line.contains("note") && line.contains("\"keep\""), "{line}");
    assert_eq!(kept_counted, counted);
    let o = bptmig("run", &keep);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert!(text(&o).contains("verify passed"), "{}", text(&o));
    let report = report(&config);
    assert_eq!(report["unmoved_reference"], "keep");
    let mut prod = bptmig_db::connect(Side::Source, &config.source)
        .await
        .unwrap();
    let keys = NaturalKeys::read(&mut prod, &mut qa).await;
    let unmoved = assert_values(&pair, &mut qa, &config, &keys, true).await;
    assert_eq!(unmoved_in_values(&report) as usize, unmoved, "{report:#}");
    assert_eq!(counted, unmoved_everywhere(&report), "{line}");
    // Each one listed, with its value.
    let samples: Vec<String> = [c::PROCESS_INPUT, c::PROCESS_OUTPUT, c::ACTIVITY_OUTPUT]
        .iter()
        .filter_map(|t| report["tables"][t]["unmoved_samples"].as_array())
        .flatten()
        .map(|s| s["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(samples.len(), unmoved);
    let listed: HashSet<&str> = samples.iter().map(String::as_str).collect();
    assert!(
        listed.contains(bptmig_sandbox::shapes::NOT_AN_INTEGER),
        "{samples:?}"
    );
    // Kept instance identifiers are recorded for verify.
    let refs: serde_json::Value = serde_json::from_slice(
        &std::fs::read(config.workdir.join("transform/references.json")).unwrap(),
    )
    .unwrap();
    assert!(!refs["kept"].as_object().unwrap().is_empty(), "{refs:#}");
    assert_user_subscriptions(&mut prod, &mut qa, &config, &keys, true).await;
}

/// A connection to qa, from a pipeline written for it in `dir`.
async fn pair_client(pair: &Pair, dir: &Path) -> SqlClient {
    let config = pair.pipeline().config(&dir.join("qa.toml")).unwrap();
    bptmig_db::connect(Side::Target, &config.target)
        .await
        .unwrap()
}
