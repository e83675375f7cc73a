use super::*;
use std::collections::HashSet;

#[test]
fn every_table_has_unique_column_names_and_its_key_listed() {
    for t in all_tables() {
        let mut seen = HashSet::new();
        for c in t.columns {
            assert!(seen.insert(c.name), "{}.{} listed twice", t.name, c.name);
        }
        if let Some(k) = t.key {
            assert_eq!(
                t.column(k).map(|c| c.role),
                Some(ColumnRole::Key),
                "{}",
                t.name
            );
        }
    }
}

#[test]
fn every_fk_points_at_a_known_table() {
    for t in all_tables() {
        for (c, _, target) in t.foreign_keys() {
            assert!(table(target).is_some(), "{}.{} -> {target}", t.name, c.name);
        }
    }
    for c in OSEVT_COLUMNS {
        if let ColumnRole::Fk { table: target, .. } = c.role {
            assert!(table(target).is_some(), "OSEVT.{} -> {target}", c.name);
        }
    }
}

#[test]
fn instance_fks_point_only_at_instance_tables() {
    for t in all_tables().filter(|t| t.role == TableRole::Instance) {
        for (c, kind, target) in t.foreign_keys() {
            let target_role = table(target).map(|t| t.role);
            match kind {
                FkKind::Instance => assert_eq!(target_role, Some(TableRole::Instance)),
                FkKind::Definition => assert_eq!(target_role, Some(TableRole::Definition)),
                FkKind::Static => assert_eq!(target_role, Some(TableRole::Static)),
                _ => assert_eq!(target_role, Some(TableRole::Identity), "{}", c.name),
            }
        }
    }
}

#[test]
fn role_tags() {
    let tag = |t: &Table, c: &str| t.column(c).unwrap().role.tag();
    assert_eq!(tag(&PROCESS_TABLE, ID), "key");
    assert_eq!(
        tag(&PROCESS_TABLE, PROCESS_DEF_ID),
        "fk:definition:OSSYS_BPM_PROCESS_DEFINITION"
    );
    assert_eq!(tag(&ACTIVITY_TABLE, USER_ID), "fk:user:OSSYS_USER");
    assert_eq!(tag(&PROCESS_INPUT_TABLE, INPUT_VALUE), "entity-ref:SS_TYPE");
    assert_eq!(tag(&ACTIVITY_TABLE, IS_RUNNING_AT), "scheduler");
    assert_eq!(tag(&ACTIVITY_TABLE, NAME), "value");
}

#[test]
fn lookups_are_case_insensitive() {
    assert_eq!(table("ossys_bpm_process").map(|t| t.name), Some(PROCESS));
    assert_eq!(
        PROCESS_TABLE.column("top_process_id").map(|c| c.name),
        Some(TOP_PROCESS_ID)
    );
    assert!(table("OSSYS_NOPE").is_none());
    assert!(is_osevt("OSEVT_OSUSR_ABC_CANDIDATE"));
    assert!(is_osevt("osevt_user"));
    assert!(!is_osevt("OSEVT_"));
    assert!(!is_osevt("OSSYS_BPM_EVENT"));
}

#[test]
fn definition_fk_of_each_instance_table() {
    let got: Vec<_> = INSTANCE_TABLES.iter().map(definition_fk).collect();
    assert_eq!(
        got,
        vec![
            Some((PROCESS_DEF_ID, PROCESS_DEFINITION)),
            Some((ACTIVITY_DEF_ID, ACTIVITY_DEFINITION)),
            Some((INPUT_DEF_ID, PROCESS_INPUT_DEF)),
            Some((OUTPUT_DEF_ID, PROCESS_OUTPUT_DEF)),
            Some((OUTPUT_DEF_ID, ACTIVITY_OUTPUT_DEF)),
        ]
    );
}

#[test]
fn entity_reference_values_name_an_existing_type_column() {
    for t in INSTANCE_TABLES {
        for c in t.columns {
            if let ColumnRole::EntityRefValue { type_column } = c.role {
                assert!(t.column(type_column).is_some(), "{}.{}", t.name, c.name);
            }
        }
    }
}

#[test]
fn entity_attributes_are_an_identity_table_keyed_by_id() {
    let t = table("ossys_Entity_Attr").unwrap();
    assert_eq!(t.name, ENTITY_ATTR);
    assert_eq!(t.role, TableRole::Identity);
    assert!(IDENTITY_TABLES.iter().any(|i| i.name == ENTITY_ATTR));
    for col in [ID, ENTITY_ID, NAME, SS_KEY, TYPE, IS_ACTIVE, DATABASE_NAME] {
        assert!(t.column(col).is_some(), "{col}");
    }
    assert_eq!(t.column(DATABASE_NAME).map(|c| c.nullable), Some(true));
    assert_eq!(t.column(SS_KEY).map(|c| c.role), Some(ColumnRole::SsKey));
}

#[test]
fn the_scheduler_flags_are_in_the_snapshot_tables_and_optional() {
    for (table, column) in [
        (PROCESS_DEFINITION, IS_ACTIVE),
        (PROCESS_DEFINITION, IS_LOCKED),
        (ACTIVITY_DEFINITION, IS_ACTIVE),
        (ESPACE, IS_ACTIVE),
        (ESPACE, IS_LOCKED),
        (TENANT, IS_ACTIVE),
    ] {
        let t = table_of(table);
        // A plain value: a target whose platform version lacks it is read, not refused.
        assert_eq!(
            t.column(column).map(|c| c.role),
            Some(ColumnRole::Value),
            "{table}.{column}"
        );
    }
}

fn table_of(name: &str) -> &'static Table {
    table(name).unwrap()
}
