//! Phase 1, the plan: which trees move and what every moved row becomes.
//!
//! [`build`] runs these steps, each in its own `tracing` span:
//!
//! 1. snapshot maps: definitions by (eSpace SS_KEY, SS_KEY), eSpaces, entities, static
//!    tables ([`crate::maps`]), and the entity ID maps of the pipeline;
//! 2. scan: one read of every part of every table ([`scan`]): the key columns of the tree
//!    tables, and witnesses of the users, groups and tenants of every table;
//! 3. trees: each process's and activity's root ([`trees`]);
//! 4. definitions: the trees that reference a definition the target lacks ([`definitions`]);
//! 5. ids: every moving row's new ID ([`ids`]);
//! 6. levels and principals in use, side by side ([`principals_used`]);
//! 7. principals: their resolution through the mapping file, names, then the policies.
//!
//! The result is a [`TransformPlan`]: everything phase 2 ([`crate::rewrite`]) needs.

use std::collections::{BTreeMap, HashMap};

use bptmig_model::catalog as c;
use bptmig_model::pipeline::{IdStrategy, UnmappedDefinition, UnmovedReference};
use bptmig_model::PipelineConfig;
use bptmig_workdir::id_strategy::{Resolved, ResolvedIds};
use bptmig_workdir::{IdMap, WorkDir};
use tracing::info_span;

use crate::input::Input;
use crate::maps::{self, DefinitionMaps, InstanceStat, Snapshot};
use crate::refs::RefTypes;
use crate::report::{Report, SkippedTree};
use crate::verified::VerifiedParts;
use crate::{Error, Result};

pub(crate) use principals_used::resolve_used;
pub(crate) use trees::Levels;
pub(crate) use value_principals::value_only_maps;

mod definitions;
mod id_set;
mod ids;
mod principals_used;
mod scan;
mod trees;
mod typed_values;
mod value_principals;

/// Everything phase 1 decides.
pub(crate) struct TransformPlan {
    /// Old → new IDs per instance table.
    pub(crate) ids: BTreeMap<String, IdMap>,
    /// Tree level by new ID.
    pub(crate) levels: Levels,
    /// Source → target ID per definition table, and of eSpaces.
    pub(crate) defs: BTreeMap<&'static str, IdMap>,
    pub(crate) espaces: IdMap,
    /// Source → target ID of the users, groups and tenants that map to one (not to NULL).
    pub(crate) users: IdMap,
    pub(crate) groups: IdMap,
    pub(crate) tenants: IdMap,
    /// The source's entities (what each identifier type is mapped by) and subscription
    /// columns, typed.
    pub(crate) refs: RefTypes,
    /// The pipeline's entity ID maps, by physical table.
    pub(crate) entity_maps: BTreeMap<String, HashMap<i64, i64>>,
    /// What an identifier inside a value that cannot be mapped becomes.
    pub(crate) unmoved_reference: UnmovedReference,
    pub(crate) clear_locks: bool,
}

/// The maps phase 1 builds from the two snapshots and the pipeline's entity maps.
struct SnapshotMaps {
    defs: DefinitionMaps,
    static_differences: Vec<String>,
    espaces: HashMap<i64, i64>,
    refs: RefTypes,
    entity_maps: BTreeMap<String, HashMap<i64, i64>>,
}

impl SnapshotMaps {
    fn read(source: &Snapshot, target: &Snapshot, config: &PipelineConfig) -> Result<Self> {
        let entity_maps = crate::entity::load_all(&config.mapping.entity_maps)?;
        let definitions: Vec<&'static str> = c::DEFINITION_TABLES.iter().map(|t| t.name).collect();
        Ok(Self {
            defs: DefinitionMaps::build(source, target)?,
            static_differences: maps::static_differences(source, target)?,
            espaces: maps::espace_map(source, target)?,
            refs: RefTypes::read(source, &definitions, &entity_maps)?,
            entity_maps,
        })
    }
}

/// The users, groups and tenants maps: those foreign keys use resolved through the mapping
/// file, names, then the policies; those only values name, leniently
/// ([`value_principals`]).
fn principal_maps(
    (config, inputs, verified): (&PipelineConfig, &[Input], &VerifiedParts),
    (source, target): (&Snapshot, &Snapshot),
    (used, ids, refs): (&bptmig_model::UsedIds, &BTreeMap<String, IdMap>, &RefTypes),
    report: &mut Report,
) -> Result<[IdMap; 3]> {
    let in_values = info_span!("plan.principals_in_values")
        .in_scope(|| value_principals::principals_in_values(inputs, ids, refs, verified))?;
    let resolution = info_span!("plan.resolve_principals")
        .in_scope(|| resolve_used(config, source, target, used))?;
    let (maps, by_policy) = value_principals::merge_value_principals(
        config,
        (source, target),
        &resolution,
        &in_values,
    )?;
    report.principals = resolution.how;
    report.unmapped_principals.clone_from(&resolution.unmapped);
    report.unmapped_principals.extend(by_policy);
    Ok(maps)
}

/// A warning when subscription tables carry columns that the source snapshot cannot type
/// (it has no `OSSYS_ENTITY_ATTR`: extracted by an older bptmig).
fn untyped_subscriptions(refs: &RefTypes, inputs: &[Input]) -> Option<String> {
    if !refs.osevt.attrs_missing {
        return None;
    }
    let tables: Vec<&str> = inputs
        .iter()
        .filter(|i| i.model.role == c::TableRole::EventSubscription)
        .filter(|i| {
            i.manifest.columns.iter().any(|col| {
                i.model.column(&col.name).is_none()
                    && !col.name.eq_ignore_ascii_case(c::ID)
                    && !col.name.eq_ignore_ascii_case(c::TENANT_ID)
            })
        })
        .map(|i| i.name.as_str())
        .collect();
    (!tables.is_empty()).then(|| {
        format!(
            "the source snapshot has no `{}`: the filter columns of {} are carried as they are \
             (counted in `columns_kept`), not typed; run `bptmig extract` again with this \
             version to type them",
            crate::refs::ENTITY_ATTR,
            tables
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The strategy this transform applies: the pipeline's, with `auto` decided from the target
/// snapshot: `generated` when the target login may not use `IDENTITY_INSERT` on some keyed
/// instance table, else `renumber` (also when the snapshot does not say, with the reason).
pub(crate) fn resolve_strategy(
    strategy: IdStrategy,
    target: &BTreeMap<String, InstanceStat>,
) -> ResolvedIds {
    if strategy != IdStrategy::Auto {
        return ResolvedIds::named(Resolved::from_pipeline(strategy));
    }
    let keyed = c::INSTANCE_TABLES.iter().filter(|t| t.key.is_some());
    let answers: Vec<(&str, Option<bool>)> = keyed
        .map(|t| {
            let allowed = target
                .get(t.name)
                .and_then(|s| s.identity)
                .and_then(|i| i.identity_insert);
            (t.name, allowed)
        })
        .collect();
    let names = |want: Option<bool>| -> String {
        answers
            .iter()
            .filter(|(_, a)| *a == want)
            .map(|(t, _)| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (strategy, why) = if answers.iter().any(|(_, a)| *a == Some(false)) {
        (
            Resolved::Generated,
            format!(
                "the target login may not use IDENTITY_INSERT on {}: the target generates the IDs",
                names(Some(false))
            ),
        )
    } else if answers.iter().any(|(_, a)| a.is_none()) {
        (
            Resolved::Renumber,
            format!(
                "the target snapshot does not say whether IDENTITY_INSERT is allowed on {} \
                 (run `bptmig extract` again with this version to decide from it): renumber",
                names(None)
            ),
        )
    } else {
        (
            Resolved::Renumber,
            "the target login may use IDENTITY_INSERT on every instance table: renumber".to_owned(),
        )
    };
    ResolvedIds {
        strategy,
        decided_by: Some(why),
    }
}

/// Notes what numbering found out about the source's creation order: a reseeded source
/// table in `source_reseeded`, a table it could not tell about as a warning.
fn creation_order(order: &BTreeMap<String, ids::Order>, report: &mut Report) {
    for (table, order) in order {
        match order {
            ids::Order::Reseeded(r) => report.source_reseeded.push(crate::report::ReseededSource {
                table: table.clone(),
                identity: r.identity,
                older_rows: r.older,
                newer_rows: r.newer,
            }),
            ids::Order::Unsure(r) => report.warnings.push(format!(
                "`{table}`: {} moving rows lie above the source's identity {} and {} at or \
                 below it, and the source server did not show whether explicit IDs move its \
                 identities (its login could not try it on a session temporary table): if it \
                 was reseeded, the rows above are older, but they were numbered in source-ID \
                 order; for creation order, let the login create temporary tables and start a \
                 new work directory",
                r.older, r.identity, r.newer
            )),
        }
    }
}

/// Step 5: the strategy (`auto` decided, written to `transform/ids.json`) and every moving
/// row's new ID; what numbering found out about creation order goes into `report`.
fn plan_ids(
    (wd, config, inputs): (&WorkDir, &PipelineConfig, &[Input]),
    (source, target): (&Snapshot, &Snapshot),
    (keys, trees, skipped): (&trees::TreeKeys, &trees::Trees, &BTreeMap<i32, String>),
    report: &mut Report,
) -> Result<BTreeMap<String, IdMap>> {
    let target_stats = target.instance_stats()?;
    let source_stats = source.instance_stats()?;
    let resolved = resolve_strategy(config.ids, &target_stats);
    bptmig_workdir::id_strategy::write(wd, &resolved)?;
    let run = bptmig_workdir::RunState::read(wd)?;
    let stats = ids::Stats {
        source: &source_stats,
        target: &target_stats,
        source_after_rows: run.is_some_and(|r| r.source_snapshot_after_rows),
    };
    let assigned = info_span!("plan.ids")
        .in_scope(|| ids::assign_all(inputs, keys, trees, skipped, &stats, resolved.strategy))?;
    creation_order(&assigned.order, report);
    Ok(assigned.ids)
}

/// Runs phase 1 over `inputs`, noting in `report` what a person must review.
pub(crate) fn build(
    wd: &WorkDir,
    config: &PipelineConfig,
    inputs: &[Input],
    report: &mut Report,
    verified: &VerifiedParts,
) -> Result<TransformPlan> {
    let source = Snapshot::new(wd.snapshot_dir("source"));
    let target = Snapshot::new(wd.snapshot_dir("target"));
    let snapshot = info_span!("plan.snapshot_maps")
        .in_scope(|| SnapshotMaps::read(&source, &target, config))?;
    report
        .duplicate_definitions
        .clone_from(&snapshot.defs.duplicates);
    report.warnings.extend(snapshot.static_differences);
    report
        .warnings
        .extend(untyped_subscriptions(&snapshot.refs, inputs));

    let child_columns: Vec<[&str; 3]> = trees::CHILDREN.iter().map(trees::child_columns).collect();
    let mut wanted: Vec<(&str, &[&str])> = vec![
        (c::PROCESS, &trees::PROCESS_COLUMNS),
        (c::ACTIVITY, &trees::ACTIVITY_COLUMNS),
    ];
    wanted.extend(
        trees::CHILDREN
            .iter()
            .zip(&child_columns)
            .map(|(child, columns)| (child.table, columns.as_slice())),
    );
    let scan = info_span!("plan.scan").in_scope(|| scan::scan(inputs, &wanted, verified))?;
    let mut keys = scan.keys.into_iter();
    let (Some(processes), Some(activities)) = (keys.next(), keys.next()) else {
        return Err(Error::Internal {
            path: wd.stage_dir(bptmig_workdir::layout::EXTRACT),
            what: "the scan returned no processes or activities",
        });
    };
    let keys = trees::TreeKeys {
        processes,
        activities,
        children: keys.collect(),
    };
    let trees = info_span!("plan.trees").in_scope(|| trees::Trees::new(&keys));

    let check = info_span!("plan.definitions")
        .in_scope(|| definitions::check(&snapshot.defs, &keys, &trees));
    if !check.missing.is_empty() && config.mapping.unmapped_definition == UnmappedDefinition::Fail {
        return Err(Error::UnmappedDefinitions {
            items: check.missing.into_values().collect(),
        });
    }
    report.unmapped_definitions = check.missing.into_values().collect();
    report.skipped_trees = check
        .skipped
        .iter()
        .map(|(root, reason)| SkippedTree {
            root_id: i64::from(*root),
            reason: reason.clone(),
        })
        .collect();

    let ids = plan_ids(
        (wd, config, inputs),
        (&source, &target),
        (&keys, &trees, &check.skipped),
        report,
    )?;
    // Tree levels of moving processes and activities, by new ID (serial), while the
    // principals in use are decided (reading a few parts again at most).
    let (levels, used) = rayon::join(
        || {
            info_span!("plan.levels").in_scope(|| {
                let empty = IdMap::default();
                let processes = ids.get(c::PROCESS).unwrap_or(&empty);
                let activities = ids.get(c::ACTIVITY).unwrap_or(&empty);
                Levels::new(&keys, &trees, processes, activities)
            })
        },
        || {
            info_span!("plan.principals_in_use")
                .in_scope(|| principals_used::principals_in_use(scan.principals, &ids, verified))
        },
    );
    let used = used?;
    // Phase 1's columns are no longer needed; free them before the heavier phase 2.
    drop((keys, trees));

    let [users, groups, tenants] = principal_maps(
        (config, inputs, verified),
        (&source, &target),
        (&used, &ids, &snapshot.refs),
        report,
    )?;
    Ok(TransformPlan {
        ids,
        levels,
        defs: snapshot
            .defs
            .maps
            .iter()
            .map(|(table, m)| (*table, IdMap::from_i64(m.iter().map(|(s, t)| (*s, *t)))))
            .collect(),
        espaces: IdMap::from_i64(snapshot.espaces.iter().map(|(s, t)| (*s, *t))),
        users,
        groups,
        tenants,
        refs: snapshot.refs,
        entity_maps: snapshot.entity_maps,
        unmoved_reference: config.mapping.unmoved_reference,
        clear_locks: config.transform.clear_scheduler_locks,
    })
}

#[cfg(test)]
mod tests {
    use bptmig_workdir::snapshot::Identity;

    use super::*;

    fn target(insert: &[(&str, Option<bool>)]) -> BTreeMap<String, InstanceStat> {
        insert
            .iter()
            .map(|(t, allowed)| {
                let identity = Identity {
                    current: Some(0),
                    identity_insert: *allowed,
                    ..Identity::default()
                };
                let stat = InstanceStat {
                    identity: Some(identity),
                    ..InstanceStat::default()
                };
                ((*t).to_owned(), stat)
            })
            .collect()
    }

    #[test]
    fn auto_is_generated_when_a_table_refuses_identity_insert_else_renumber() {
        let keyed: Vec<&str> = c::INSTANCE_TABLES
            .iter()
            .filter(|t| t.key.is_some())
            .map(|t| t.name)
            .collect();
        let all = |a| keyed.iter().map(|t| (*t, a)).collect::<Vec<_>>();
        let yes = resolve_strategy(IdStrategy::Auto, &target(&all(Some(true))));
        assert_eq!(yes.strategy, Resolved::Renumber);
        let mut one_refused = all(Some(true));
        one_refused[1].1 = Some(false);
        let no = resolve_strategy(IdStrategy::Auto, &target(&one_refused));
        assert_eq!(no.strategy, Resolved::Generated);
        let why = no.decided_by.unwrap_or_default();
        assert!(why.contains(&format!("`{}`", keyed[1])), "{why}");
        assert!(!why.contains(&format!("`{}`", keyed[0])), "{why}");
        let unknown = resolve_strategy(IdStrategy::Auto, &BTreeMap::new());
        assert_eq!(unknown.strategy, Resolved::Renumber);
        assert!(unknown
            .decided_by
            .is_some_and(|w| w.contains("does not say")));
        let named = resolve_strategy(IdStrategy::Keep, &target(&one_refused));
        assert_eq!(named, ResolvedIds::named(Resolved::Keep));
    }
}
