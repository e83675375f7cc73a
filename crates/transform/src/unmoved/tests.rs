use std::collections::{BTreeMap, BTreeSet};

use bptmig_model::catalog as c;

use super::*;
use crate::refs::tests::{platform_snapshot, ty};

fn types(dir: &std::path::Path) -> ValueTypes {
    platform_snapshot(dir, true);
    let defs = [c::PROCESS_DEFINITION];
    ValueTypes {
        refs: RefTypes::read(&Snapshot::new(dir), &defs, &BTreeMap::new()).unwrap(),
        subscription_tables: Vec::new(),
    }
}

fn value(short: &str, value: &str) -> TypedValue {
    TypedValue {
        ss_type: ty(short),
        value: value.to_owned(),
    }
}

#[test]
fn only_entities_bptmig_maps_itself_are_system_types() {
    let dir = tempfile::tempdir().unwrap();
    let types = types(dir.path());
    let system = types.system_types();
    for short in [
        "bt1*u", "bt1*g", "bt1*t", "bt1*p", "bt1*a", "bt1*e", "bt1*pd",
    ] {
        assert!(system.contains(&ty(short)), "{short}: {system:?}");
    }
    assert!(!system.contains(&ty("bt2*cand")));
    assert_eq!(system.len(), 7);
    assert_eq!(types.instance_table(&ty("bt1*a")), Some(c::ACTIVITY));
    assert_eq!(types.instance_table(&ty("bt1*u")), None);
}

#[test]
fn values_are_decided_as_the_rewrite_decides_them() {
    let dir = tempfile::tempdir().unwrap();
    let types = types(dir.path());
    let moved = |ids: &[i64]| IdMap::from_i64(ids.iter().map(|i| (*i, *i)));
    let maps = Maps {
        principals: [
            IdMap::from_i64([(7, 70)].into_iter()),
            moved(&[]),
            moved(&[]),
        ],
        instances: BTreeMap::from([(c::PROCESS, moved(&[5])), (c::ACTIVITY, moved(&[]))]),
        definitions: BTreeMap::new(),
        espaces: moved(&[]),
    };
    let values = [
        value("bt1*p", "5"),
        value("bt1*p", "6"),
        value("bt1*p", "0"),
        value("bt1*a", ""),
        value("bt1*a", "9"),
        value("bt1*u", "7"),
        value("bt1*u", "8"),
        value("bt1*u", " 7"),
        value("bt2*cand", "12x"),
        value("rtText", "12x"),
    ];
    let count = tally(&types, &maps, &values);
    assert_eq!(
        count.typed, 8,
        "application entities and basic types are not looked at"
    );
    assert_eq!(count.total, 4);
    assert_eq!(
        count.by_reason,
        BTreeMap::from([
            (UnmovedReason::NotMoved, 2),
            (UnmovedReason::NoMatch, 1),
            (UnmovedReason::NotAnInteger, 1),
        ])
    );
    assert_eq!(count.by_entity["ossys_BPM_Process"], 1);
    assert_eq!(count.by_entity["ossys_User"], 2);
    let first: BTreeSet<&str> = count.first.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(first, BTreeSet::from(["6", "9", "8", " 7"]));
}

#[test]
fn subscription_columns_are_decided_as_the_rewrite_decides_them() {
    let dir = tempfile::tempdir().unwrap();
    let types = types(dir.path());
    assert!(types.is_system_column("OSEVT_3ar_Candidate", "OwnerId"));
    assert!(types.is_system_column("osevt_3ar_candidate", "TENANT_ID"));
    assert!(
        !types.is_system_column("OSEVT_3AR_CANDIDATE", "ID"),
        "an application entity's own ID is not bptmig's to map"
    );
    assert!(!types.is_system_column("OSEVT_3ar_Candidate", "STAGE"));
    let empty = || IdMap::from_i64(std::iter::empty());
    let maps = Maps {
        principals: [IdMap::from_i64([(7, 70)].into_iter()), empty(), empty()],
        instances: BTreeMap::new(),
        definitions: BTreeMap::new(),
        espaces: empty(),
    };
    let row = |table: &str, values: &[(&str, &str)]| SubscriptionRow {
        table: table.to_owned(),
        values: values
            .iter()
            .map(|(c, v)| ((*c).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let rows = [
        row("OSEVT_ossys_User", &[("ID", "7"), ("TENANT_ID", "0")]),
        row("OSEVT_ossys_User", &[("ID", "8"), ("TENANT_ID", "3")]),
        row(
            "OSEVT_3ar_Candidate",
            &[("ID", "5"), ("OWNERID", "7"), ("STAGE", "x")],
        ),
    ];
    let mut count = UnmovedCount::default();
    tally_subscriptions(&types, &maps, &rows, &mut count);
    assert_eq!(count.typed, 5, "{count:?}");
    assert_eq!((count.total, count.in_subscriptions), (2, 2));
    assert_eq!(count.subscriptions, 1, "one row holds both");
    assert_eq!(count.by_reason[&UnmovedReason::NoMatch], 2);
    assert_eq!(count.by_entity["ossys_User"], 1);
    assert_eq!(count.by_entity["ossys_Tenant"], 1);
    let named = types.named_activities(&[value("bt1*a", "9"), value("bt1*u", "4")], &rows);
    assert_eq!(named, BTreeSet::from([9]));
}
