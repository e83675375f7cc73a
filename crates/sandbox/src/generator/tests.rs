use std::collections::BTreeMap;

use bptmig_model::catalog as c;

use super::shapes::{BrokenKind as K, ValueCase as V};
use super::*;
use crate::sql::Lit;

#[test]
fn ss_keys_are_stable_guids() {
    let k = ss_key("process:CandidateSelection");
    assert_eq!(k, ss_key("process:CandidateSelection"));
    assert_eq!(k.len(), 36);
    assert!(bptmig_model::SsType::parse(&format!("bt{k}*{k}")).is_ok());
    assert_ne!(k, ss_key("process:Interview"));
}

#[test]
fn generation_is_deterministic() {
    let spec = EnvSpec::default();
    let a = generate(EnvKind::Prod, &spec);
    let b = generate(EnvKind::Prod, &spec);
    assert_eq!(format!("{:?}", a.tables), format!("{:?}", b.tables));
    let other = generate(EnvKind::Prod, &EnvSpec { seed: 12, ..spec });
    assert_ne!(format!("{:?}", a.tables), format!("{:?}", other.tables));
}

#[test]
fn every_root_has_top_equal_to_id_and_children_point_at_their_root() {
    let prod = generate(EnvKind::Prod, &EnvSpec::default());
    let procs = prod.rows(c::PROCESS);
    let by_id: BTreeMap<i64, &BTreeMap<&str, Lit>> = procs
        .iter()
        .map(|r| (r[c::ID].as_int().unwrap(), r))
        .collect();
    let mut subs = 0;
    for r in &procs {
        let id = r[c::ID].as_int().unwrap();
        match r[c::PARENT_PROCESS_ID].as_int() {
            None => assert_eq!(r[c::TOP_PROCESS_ID].as_int(), Some(id)),
            Some(parent) => {
                subs += 1;
                let top = r[c::TOP_PROCESS_ID].as_int().unwrap();
                assert_eq!(by_id[&top][c::PARENT_PROCESS_ID], Lit::Null);
                assert!(by_id.contains_key(&parent));
            }
        }
    }
    assert!(subs > 0);
}

#[test]
fn history_tables_are_the_instance_tables_then_the_subscriptions() {
    let instance: Vec<&str> = c::INSTANCE_TABLES.iter().map(|t| t.name).collect();
    assert_eq!(HISTORY_TABLES[..instance.len()], instance[..]);
    assert_eq!(HISTORY_TABLES[instance.len()..], [CANDIDATE_EVENT_TABLE]);
}

fn shaped_spec() -> EnvSpec {
    EnvSpec {
        platform_shapes: true,
        ..EnvSpec::default()
    }
}

fn int_of(row: &BTreeMap<&str, Lit>, column: &str) -> Option<i64> {
    row.get(column).and_then(Lit::as_int)
}

fn text_of(row: &BTreeMap<&str, Lit>, column: &str) -> Option<String> {
    match row.get(column) {
        Some(Lit::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

#[test]
fn every_entity_has_its_key_attribute_and_typed_references() {
    for kind in [EnvKind::Prod, EnvKind::Qa] {
        let env = generate(kind, &EnvSpec::default());
        let entities = env.rows(c::ENTITY);
        let attrs = env.rows(c::ENTITY_ATTR);
        let names: Vec<String> = entities
            .iter()
            .filter_map(|e| text_of(e, c::NAME))
            .collect();
        for system in ["User", "Group", "Tenant", "Process", "Activity", "Espace"] {
            assert!(names.iter().any(|n| n == system), "{kind:?} lacks {system}");
        }
        for e in &entities {
            let id = int_of(e, c::ID);
            let mine: Vec<_> = attrs
                .iter()
                .filter(|a| int_of(a, c::ENTITY_ID) == id)
                .collect();
            let key = mine
                .iter()
                .find(|a| text_of(a, c::DATABASE_NAME).as_deref() == Some(c::ID))
                .unwrap();
            assert_eq!(text_of(key, c::SS_KEY), text_of(e, c::PRIMARYKEY_SS_KEY));
            assert_eq!(text_of(key, c::TYPE).as_deref(), Some("rtInteger"));
        }
        // The Activity entity's user reference is typed as the User entity.
        let user_type = format!(
            "bt{}*{}",
            ss_key("espace:ServiceCenter"),
            ss_key("entity:User")
        );
        assert!(attrs.iter().any(
            |a| text_of(a, c::DATABASE_NAME).as_deref() == Some(c::USER_ID)
                && text_of(a, c::TYPE) == Some(user_type.clone())
        ));
    }
}

#[test]
fn without_platform_shapes_nothing_of_them_is_generated() {
    let prod = generate(EnvKind::Prod, &EnvSpec::default());
    assert_eq!(prod.shapes, shapes::Shapes::default());
    assert_eq!(prod.count(shapes::USER_EVENT_TABLE), 0);
    assert_eq!(prod.count(shapes::JOB_OFFER_EVENT_TABLE), 0);
    assert_eq!(prod.count(shapes::JOB_OFFER_TABLE), 0);
    let defs = prod.rows(c::PROCESS_DEFINITION);
    assert!(!defs
        .iter()
        .any(|d| text_of(d, c::NAME).as_deref() == Some(shapes::IDENTIFIER_DEFINITION)));
    // No entity names an event table the schema-only shapes hold.
    for e in prod.rows(c::ENTITY) {
        let t = text_of(&e, c::EVENT_TABLE_NAME);
        assert!(
            t.is_none() || t.as_deref() == Some(CANDIDATE_EVENT_TABLE),
            "{t:?}"
        );
    }
}

#[test]
fn platform_shapes_cover_every_value_case_and_broken_kind() {
    let prod = generate(EnvKind::Prod, &shaped_spec());
    let s = &prod.shapes;
    for case in [
        V::Matched,
        V::Outside,
        V::BrokenTree,
        V::Nowhere,
        V::Zero,
        V::Empty,
        V::NotInteger,
    ] {
        assert!(s.values_of(case).next().is_some(), "no {case:?} value");
    }
    assert_eq!(s.values_of(V::NotInteger).count(), 1);
    for table in [c::PROCESS_INPUT, c::PROCESS_OUTPUT, c::ACTIVITY_OUTPUT] {
        let rows = prod.rows(table);
        let mine: Vec<_> = s.values.iter().filter(|v| v.table == table).collect();
        assert!(!mine.is_empty(), "{table}");
        for v in mine {
            let row = rows
                .iter()
                .find(|r| int_of(r, c::ID) == Some(v.row_id))
                .unwrap();
            let value_column = if table == c::PROCESS_INPUT {
                c::INPUT_VALUE
            } else {
                c::OUTPUT_VALUE
            };
            assert_eq!(text_of(row, value_column), Some(v.value.clone()));
            // Every shaped entity is one of Service Center's.
            let want = format!(
                "bt{}*{}",
                ss_key("espace:ServiceCenter"),
                ss_key(&format!("entity:{}", v.entity))
            );
            assert_eq!(text_of(row, c::SS_TYPE), Some(want));
        }
    }
    // Matched instance values point at generated processes and activities.
    let processes: Vec<i64> = prod
        .rows(c::PROCESS)
        .iter()
        .filter_map(|r| int_of(r, c::ID))
        .collect();
    let activities: Vec<i64> = prod
        .rows(c::ACTIVITY)
        .iter()
        .filter_map(|r| int_of(r, c::ID))
        .collect();
    for v in s
        .values_of(V::Matched)
        .chain(s.values_of(V::Outside))
        .chain(s.values_of(V::BrokenTree))
    {
        let id: i64 = v.value.parse().unwrap();
        match v.entity {
            "Process" => assert!(processes.contains(&id), "{v:?}"),
            "Activity" => assert!(activities.contains(&id), "{v:?}"),
            _ => {}
        }
    }
    assert!(prod.count(shapes::USER_EVENT_TABLE) > 0);
    assert!(prod.count(shapes::JOB_OFFER_EVENT_TABLE) > 0);
    assert!(prod.count(shapes::JOB_OFFER_TABLE) > 0);
}

#[test]
fn broken_trees_are_broken_as_described() {
    let prod = generate(EnvKind::Prod, &shaped_spec());
    let procs = prod.rows(c::PROCESS);
    let by_id: BTreeMap<i64, &BTreeMap<&str, Lit>> = procs
        .iter()
        .map(|r| (int_of(r, c::ID).unwrap(), r))
        .collect();
    let get = |id: i64, col: &str| int_of(by_id[&id], col);
    let broken = &prod.shapes;

    let b = broken.broken(K::MissingParent).unwrap();
    let (child, root) = (b.processes[0], b.processes[1]);
    assert_eq!(get(child, c::PARENT_PROCESS_ID), b.missing);
    assert!(!by_id.contains_key(&b.missing.unwrap()));
    assert_eq!(get(child, c::TOP_PROCESS_ID), Some(root));
    assert_eq!(get(root, c::TOP_PROCESS_ID), Some(root));

    let b = broken.broken(K::MissingTop).unwrap();
    let orphan = b.processes[0];
    assert_eq!(get(orphan, c::PARENT_PROCESS_ID), None);
    assert_eq!(get(orphan, c::TOP_PROCESS_ID), b.missing);
    assert!(!by_id.contains_key(&b.missing.unwrap()));

    let b = broken.broken(K::TopDisagrees).unwrap();
    let (child, parent, other) = (b.processes[0], b.processes[1], b.processes[2]);
    assert_eq!(get(child, c::PARENT_PROCESS_ID), Some(parent));
    assert_eq!(get(child, c::TOP_PROCESS_ID), Some(other));
    assert_eq!(get(parent, c::TOP_PROCESS_ID), Some(parent));
    assert_eq!(get(other, c::TOP_PROCESS_ID), Some(other));

    let b = broken.broken(K::Cycle).unwrap();
    let (a, x, y) = (b.processes[0], b.processes[1], b.processes[2]);
    assert_eq!(get(a, c::PARENT_PROCESS_ID), Some(y));
    assert_eq!(get(x, c::PARENT_PROCESS_ID), Some(a));
    assert_eq!(get(y, c::PARENT_PROCESS_ID), Some(x));
    assert_eq!(get(a, c::TOP_PROCESS_ID), Some(a));

    // Each broken process has its own activities and inputs.
    let acts = prod.rows(c::ACTIVITY);
    let inputs = prod.rows(c::PROCESS_INPUT);
    for b in &broken.broken {
        for p in &b.processes {
            assert!(
                acts.iter().any(|r| int_of(r, c::PROCESS_ID) == Some(*p)),
                "{b:?}"
            );
            assert!(
                inputs.iter().any(|r| int_of(r, c::PROCESS_ID) == Some(*p)),
                "{b:?}"
            );
        }
    }
}

/// `(locked definitions, inactive tenants)` of an environment, by name.
fn scheduler_flags(env: &Dataset) -> (Vec<String>, Vec<String>) {
    let flagged = |table: &str, column: &str, when: bool| -> Vec<String> {
        env.rows(table)
            .iter()
            .filter(|r| r.get(column) == Some(&Lit::Bool(when)))
            .filter_map(|r| text_of(r, c::NAME))
            .collect()
    };
    (
        flagged(c::PROCESS_DEFINITION, c::IS_LOCKED, true),
        flagged(c::TENANT, c::IS_ACTIVE, false),
    )
}

/// The kind name of every open activity of prod with a `NEXT_RUN`.
fn due_kinds(prod: &Dataset) -> Vec<String> {
    let kind_name: BTreeMap<i64, String> = prod
        .rows(c::ACTIVITY_KIND)
        .iter()
        .filter_map(|k| Some((int_of(k, c::ID)?, text_of(k, c::NAME)?)))
        .collect();
    let def_kind: BTreeMap<i64, i64> = prod
        .rows(c::ACTIVITY_DEFINITION)
        .iter()
        .filter_map(|d| Some((int_of(d, c::ID)?, int_of(d, c::KIND)?)))
        .collect();
    let mut kinds: Vec<String> = prod
        .rows(c::ACTIVITY)
        .iter()
        .filter(|a| !matches!(a.get(c::NEXT_RUN), None | Some(Lit::Null)))
        .filter(|a| int_of(a, c::STATUS_ID) != Some(ACTIVITY_CLOSED))
        .filter_map(|a| kind_name.get(&def_kind[&int_of(a, c::ACTIVITY_DEF_ID)?]))
        .cloned()
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

#[test]
fn platform_shapes_lock_a_definition_and_deactivate_a_tenant_in_qa_and_make_automatic_activities_due(
) {
    let plain = EnvSpec::default();
    for kind in [EnvKind::Prod, EnvKind::Qa] {
        assert_eq!(
            scheduler_flags(&generate(kind, &plain)),
            (vec![], vec![]),
            "{kind:?}"
        );
        for e in generate(kind, &plain).rows(c::ESPACE) {
            assert_eq!(e.get(c::IS_LOCKED), Some(&Lit::Bool(false)));
        }
    }
    assert_eq!(due_kinds(&generate(EnvKind::Prod, &plain)), ["Wait"]);

    let shaped = shaped_spec();
    let qa = generate(EnvKind::Qa, &shaped);
    assert_eq!(
        scheduler_flags(&qa),
        (
            vec![shapes::LOCKED_DEFINITION.to_owned()],
            vec![shapes::INACTIVE_TENANT.to_owned()]
        )
    );
    let prod = generate(EnvKind::Prod, &shaped);
    assert_eq!(scheduler_flags(&prod), (vec![], vec![]));
    let mut expected = shapes::PAST_NEXT_RUN_KINDS.to_vec();
    expected.sort_unstable();
    assert_eq!(due_kinds(&prod), expected);
    // Prod's history has open processes of both, so that some moved processes never run.
    let procs = prod.rows(c::PROCESS);
    let def_id = prod
        .rows(c::PROCESS_DEFINITION)
        .iter()
        .find(|d| text_of(d, c::NAME).as_deref() == Some(shapes::LOCKED_DEFINITION))
        .and_then(|d| int_of(d, c::ID));
    let tenant_id = prod
        .rows(c::TENANT)
        .iter()
        .find(|t| text_of(t, c::NAME).as_deref() == Some(shapes::INACTIVE_TENANT))
        .and_then(|t| int_of(t, c::ID));
    let open = |column: &str, id: Option<i64>| {
        procs
            .iter()
            .filter(|p| int_of(p, column) == id && int_of(p, c::STATUS_ID) == Some(PROCESS_ACTIVE))
            .count()
    };
    assert!(open(c::PROCESS_DEF_ID, def_id) > 0);
    assert!(open(c::TENANT_ID, tenant_id) > 0);
}

#[test]
fn a_reseeded_prod_numbers_what_follows_its_middle_roots_first_activity_from_the_bottom() {
    let spec = EnvSpec {
        processes: 12,
        reseeded: true,
        ..EnvSpec::default()
    };
    let prod = generate(EnvKind::Prod, &spec);
    let ids = |table| -> Vec<i64> {
        prod.rows(table)
            .iter()
            .map(|r| r[c::ID].as_int().unwrap())
            .collect()
    };
    for table in [c::PROCESS, c::ACTIVITY] {
        let all = ids(table);
        let newer = all.iter().filter(|id| **id < 0).count();
        assert!(
            newer > 0 && newer < all.len(),
            "{table}: {newer} of {}",
            all.len()
        );
        assert!(all.contains(&RESEEDED_TO), "{table}");
        assert!(all.iter().all(|id| *id >= RESEEDED_TO));
    }
    // The middle root is older than the reseed, its second activity newer: it lies below its
    // precedent.
    let acts = prod.rows(c::ACTIVITY);
    let spans = acts.iter().any(|a| {
        let (id, pre) = (a[c::ID].as_int(), a[c::PRECEDENT_ACTIVITY_ID].as_int());
        matches!((id, pre), (Some(id), Some(pre)) if id < 0 && pre > 0)
    });
    assert!(
        spans,
        "an activity after the reseed whose precedent is before it"
    );
    // Without the option, and in qa, nothing changes.
    let plain = generate(
        EnvKind::Prod,
        &EnvSpec {
            reseeded: false,
            ..spec.clone()
        },
    );
    assert!(plain
        .rows(c::PROCESS)
        .iter()
        .all(|r| r[c::ID].as_int().unwrap() > 0));
    let qa = generate(EnvKind::Qa, &spec);
    assert!(qa
        .rows(c::ACTIVITY)
        .iter()
        .all(|r| r[c::ID].as_int().unwrap() > 0));
}
