//! Identifiers inside values (inputs and outputs typed as User, Group, Tenant, Process or
//! Activity Identifier, or any entity bptmig maps itself) and in subscription (`OSEVT_*`)
//! filter columns (`ID`, `TENANT_ID`, attributes typed `bt…*…`) that the selected trees hold
//! and a run could not map: counted before anything runs, as the transform will count them
//! ([`bptmig_transform::unmoved`]), with `[mapping] unmoved_reference`'s verdict (under
//! `null`, the subscription rows holding one are left behind, as the transform's
//! `subscriptions_dropped` counts them).
//!
//! The trees that move are the extract's ([`bptmig_extract::selection::select_trees`], broken
//! trees left out), less those `unmapped_definition = "skip-tree"` leaves behind; only the
//! rows that move are looked at (a subscription row moves with its `_ACTIVITY_ID`'s process).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bptmig_db::{self as db, SqlClient, Transient as _};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{UnmappedDefinition, UnmovedReference};
use bptmig_model::PipelineConfig;
use bptmig_transform::maps::DefinitionMaps;
use bptmig_transform::report::UnmovedReason;
use bptmig_transform::unmoved::{
    count_unmoved, SubscriptionRow, TypedValue, UnmovedCount, ValueTypes,
};

use super::line::{describe, line, list, Line, Verdict};
use super::server::{both, failed_on, Server};
use super::Selected;

mod read;

use read::Source;

const CHECK: &str = "identifiers inside values";

/// Why the count could not be made.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Db(#[from] db::Error),
    #[error(transparent)]
    Extract(#[from] bptmig_extract::Error),
    #[error(transparent)]
    Transform(#[from] bptmig_transform::Error),
}

/// One line: how many values typed as system identifiers in the trees that will move cannot
/// be mapped, and what `unmoved_reference` will do with them.
pub async fn unmoved_values(
    config: &PipelineConfig,
    (source, target): (&mut Server<'_>, &mut Server<'_>),
    selected: &mut Selected,
    out: &mut Vec<Line>,
) {
    let Some((s, t)) = both(source, target, CHECK, out) else {
        return;
    };
    let (names, roots) = match selected.get(s, &config.selection).await {
        Ok(read) => (read.names.clone(), read.trees.roots.clone()),
        Err(bptmig_extract::Error::Db(e)) => {
            out.push(failed_on(source, target, CHECK, e));
            return;
        }
        Err(e) => {
            out.push(line(CHECK, Verdict::Block, describe(e)));
            return;
        }
    };
    let roots = roots.into_iter().map(i64::from).collect();
    match count(config, Source { client: s, names }, t, &roots).await {
        Ok(count) => out.push(verdict_line(
            config.mapping.unmoved_reference,
            count.as_ref(),
        )),
        Err(Failure::Db(e) | Failure::Extract(bptmig_extract::Error::Db(e)))
            if e.fault().is_some() =>
        {
            out.push(failed_on(source, target, CHECK, &e));
        }
        // The principals line reports the file's problems, and they block the run there.
        Err(Failure::Transform(bptmig_transform::Error::Mapping(_))) => out.push(line(
            CHECK,
            Verdict::Note,
            "not counted: the mapping file has problems (see `users, groups, tenants mapped`)"
                .to_owned(),
        )),
        Err(e) => out.push(line(CHECK, Verdict::Block, describe(&e))),
    }
}

/// The count, or `None` when the source types no value as a system identifier and names no
/// subscription table.
async fn count(
    config: &PipelineConfig,
    mut src: Source<'_>,
    t: &mut SqlClient,
    roots: &HashSet<i64>,
) -> Result<Option<UnmovedCount>, Failure> {
    let snaps = super::snapshots::snapshots(config, src.client, t, "values").await?;
    let types = ValueTypes::read(config, &snaps.source)?;
    let system = types.system_types();
    if system.is_empty() && types.subscription_tables().is_empty() {
        return Ok(None);
    }
    let processes = src.processes().await?;
    let skipped = if config.mapping.unmapped_definition == UnmappedDefinition::SkipTree {
        let defs = DefinitionMaps::build(&snaps.source, &snaps.target)?;
        skipped_roots(&mut src, &defs, &processes).await?
    } else {
        HashSet::new()
    };
    let moving: BTreeSet<i64> = processes
        .iter()
        .filter(|(_, p)| {
            p.top
                .is_some_and(|t| roots.contains(&t) && !skipped.contains(&t))
        })
        .map(|(id, _)| *id)
        .collect();
    let values: Vec<TypedValue> = src
        .values(&system)
        .await?
        .into_iter()
        .filter(|(owner, _)| moving.contains(owner))
        .map(|(_, v)| v)
        .collect();
    let subscriptions: Vec<SubscriptionRow> = src
        .subscriptions(&types)
        .await?
        .into_iter()
        .filter(|(process, _)| moving.contains(process))
        .map(|(_, row)| row)
        .collect();
    let named = types.named_activities(&values, &subscriptions);
    let activities = moving_activities(&mut src, &named, &moving).await?;
    let moved = BTreeMap::from([(c::PROCESS, moving), (c::ACTIVITY, activities)]);
    let count = count_unmoved(
        config,
        (&snaps.source, &snaps.target),
        &types,
        (&values, &subscriptions),
        &moved,
    )?;
    Ok(Some(count))
}

/// A process's top and definition.
#[derive(Debug, Clone, Copy)]
pub(super) struct Process {
    top: Option<i64>,
    definition: Option<i64>,
}

/// The roots of the trees that hold a definition the target lacks (`skip-tree` leaves them
/// behind): any process, activity, input or output of theirs.
async fn skipped_roots(
    src: &mut Source<'_>,
    defs: &DefinitionMaps,
    processes: &HashMap<i64, Process>,
) -> Result<HashSet<i64>, Failure> {
    let mut owners: HashSet<i64> = processes
        .iter()
        .filter(|(_, p)| {
            p.definition
                .is_some_and(|d| defs.get(c::PROCESS_DEFINITION, d).is_none())
        })
        .map(|(id, _)| *id)
        .collect();
    for (table, column, def_table) in read::DEFINITION_COLUMNS {
        let unmapped: Vec<i64> = defs
            .unmapped
            .get(def_table)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        owners.extend(src.processes_naming(table, column, &unmapped).await?);
    }
    Ok(owners
        .iter()
        .filter_map(|id| processes.get(id).and_then(|p| p.top))
        .collect())
}

/// The activities of `named` (those values and subscriptions name) that move with their
/// process.
async fn moving_activities(
    src: &mut Source<'_>,
    named: &BTreeSet<i64>,
    moving: &BTreeSet<i64>,
) -> Result<BTreeSet<i64>, Failure> {
    let of = src.activity_processes(named).await?;
    Ok(of
        .into_iter()
        .filter(|(_, p)| moving.contains(p))
        .map(|(a, _)| a)
        .collect())
}

fn verdict_line(policy: UnmovedReference, count: Option<&UnmovedCount>) -> Line {
    let Some(count) = count else {
        return line(
            CHECK,
            Verdict::Ok,
            "the source types no value as an identifier of an entity bptmig maps itself",
        );
    };
    if count.typed == 0 {
        return line(
            CHECK,
            Verdict::Ok,
            "no value of the selected trees is typed as a system identifier (user, group, \
             tenant, process, activity…)",
        );
    }
    if count.total == 0 {
        return line(
            CHECK,
            Verdict::Ok,
            format!(
                "all {} value(s) of the selected trees typed as system identifiers (user, \
                 group, tenant, process, activity…) can be mapped",
                count.typed
            ),
        );
    }
    let what = in_words(count);
    match policy {
        UnmovedReference::Fail => line(
            CHECK,
            Verdict::Block,
            format!(
                "{what}; `unmoved_reference = \"fail\"` stops the transform: widen \
                 `[selection]` or map them, or set it to \"null\" or \"keep\""
            ),
        ),
        UnmovedReference::Null if count.subscriptions > 0 => line(
            CHECK,
            Verdict::Note,
            format!(
                "{what}; `unmoved_reference = \"null\"` will write those in inputs and outputs \
                 as NULL and leave behind the {} subscription row(s) holding one (NULL there \
                 would mean any record), each counted in report.json",
                count.subscriptions
            ),
        ),
        UnmovedReference::Null => line(
            CHECK,
            Verdict::Note,
            format!(
                "{what}; `unmoved_reference = \"null\"` will write them as NULL, each counted \
                 in report.json"
            ),
        ),
        UnmovedReference::Keep => line(
            CHECK,
            Verdict::Note,
            format!(
                "{what}; `unmoved_reference = \"keep\"` will carry them over unchanged, each \
                 counted and listed in report.json"
            ),
        ),
    }
}

/// The count in words: the total, by reason, by entity, the first few values.
fn in_words(count: &UnmovedCount) -> String {
    let reason = |r: UnmovedReason| count.by_reason.get(&r).copied().unwrap_or(0);
    let entities = list(count.by_entity.iter().map(|(e, n)| format!("`{e}` {n}")));
    let first = list(
        count
            .first
            .iter()
            .map(|v| format!("`{}` ({}, {})", v.value, v.entity, v.reason.as_str())),
    );
    let subscriptions = if count.in_subscriptions > 0 {
        format!(
            "; {} of them in subscription columns, in {} subscription row(s)",
            count.in_subscriptions, count.subscriptions
        )
    } else {
        String::new()
    };
    format!(
        "{} of {} value(s) of the selected trees typed as system identifiers cannot be mapped \
         ({} point at instances this run does not move, {} at principals, definitions or \
         eSpaces with no match, {} are not integers; {entities}{subscriptions}): {first}",
        count.total,
        count.typed,
        reason(UnmovedReason::NotMoved),
        reason(UnmovedReason::NoMatch),
        reason(UnmovedReason::NotAnInteger),
    )
}

#[cfg(test)]
mod tests {
    use bptmig_transform::unmoved::UnmovedValue;

    use super::*;

    #[test]
    fn the_verdict_follows_the_policy() {
        assert_eq!(
            verdict_line(UnmovedReference::Fail, None).verdict,
            Verdict::Ok
        );
        let none = UnmovedCount {
            typed: 4,
            ..UnmovedCount::default()
        };
        let nothing = verdict_line(UnmovedReference::Fail, Some(&UnmovedCount::default()));
        assert!(nothing.detail.starts_with("no value"), "{}", nothing.detail);
        let ok = verdict_line(UnmovedReference::Fail, Some(&none));
        assert_eq!(ok.verdict, Verdict::Ok);
        assert!(ok.detail.starts_with("all 4 value(s)"), "{}", ok.detail);
        let some = UnmovedCount {
            typed: 9,
            total: 2,
            by_reason: BTreeMap::from([
                (UnmovedReason::NotMoved, 1),
                (UnmovedReason::NotAnInteger, 1),
            ]),
            by_entity: BTreeMap::from([("ossys_User".to_owned(), 2)]),
            first: vec![UnmovedValue {
                entity: "ossys_User".to_owned(),
                value: "12x".to_owned(),
                reason: UnmovedReason::NotAnInteger,
            }],
            ..UnmovedCount::default()
        };
        let fail = verdict_line(UnmovedReference::Fail, Some(&some));
        assert_eq!(fail.verdict, Verdict::Block);
        assert!(
            fail.detail.starts_with(
                "2 of 9 value(s) of the selected trees typed as system identifiers cannot be \
                 mapped (1 point at instances this run does not move, 0 at principals"
            ) && fail
                .detail
                .contains("`ossys_User` 2): `12x` (ossys_User, not an integer)"),
            "{}",
            fail.detail
        );
        for (policy, says) in [
            (UnmovedReference::Null, "\"null\"` will write them as NULL"),
            (UnmovedReference::Keep, "\"keep\"` will carry them over"),
        ] {
            let l = verdict_line(policy, Some(&some));
            assert_eq!(l.verdict, Verdict::Note);
            assert!(l.detail.contains(says), "{}", l.detail);
        }
        let in_subscriptions = UnmovedCount {
            in_subscriptions: 2,
            subscriptions: 1,
            ..some
        };
        let fail = verdict_line(UnmovedReference::Fail, Some(&in_subscriptions));
        assert_eq!(fail.verdict, Verdict::Block);
        assert!(
            fail.detail
                .contains("2 of them in subscription columns, in 1 subscription row(s)"),
            "{}",
            fail.detail
        );
        let null = verdict_line(UnmovedReference::Null, Some(&in_subscriptions));
        assert!(
            null.detail
                .contains("leave behind the 1 subscription row(s) holding one"),
            "{}",
            null.detail
        );
    }
}
