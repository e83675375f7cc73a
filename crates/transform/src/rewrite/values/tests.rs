use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, StringArray};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::UnmovedReference;
use bptmig_workdir::IdMap;

use super::*;
use crate::refs::tests::{platform_snapshot, ty};
use crate::refs::RefTypes;
use crate::report::UnmovedReason;

fn plan(policy: UnmovedReference) -> TransformPlan {
    let dir = tempfile::tempdir().unwrap();
    platform_snapshot(dir.path(), true);
    let entity_maps = BTreeMap::from([(
        "OSUSR_3AR_CANDIDATE".to_owned(),
        HashMap::from([(40, 4000)]),
    )]);
    let defs = [c::PROCESS_DEFINITION];
    let refs =
        RefTypes::read(&crate::maps::Snapshot::new(dir.path()), &defs, &entity_maps).unwrap();
    let map = |pairs: &[(i32, i32)]| IdMap::new(pairs.iter().copied());
    TransformPlan {
        ids: BTreeMap::from([
            (c::PROCESS.to_owned(), map(&[(5, 105)])),
            (c::ACTIVITY.to_owned(), map(&[(7, 107)])),
        ]),
        levels: crate::plan::Levels::default(),
        defs: BTreeMap::from([(c::PROCESS_DEFINITION, map(&[(9, 909)]))]),
        espaces: map(&[(1, 601)]),
        users: map(&[(1, 501)]),
        groups: map(&[(2, 502)]),
        tenants: map(&[(3, 503)]),
        refs,
        entity_maps,
        unmoved_reference: policy,
        clear_locks: false,
    }
}

/// (value, SS_TYPE, what it becomes under `keep`).
const ROWS: &[(Option<&str>, &str, Option<&str>)] = &[
    (Some("1"), "bt1*u", Some("501")),
    (Some("2"), "bt1*g", Some("502")),
    (Some("3"), "bt1*t", Some("503")),
    (Some("5"), "bt1*p", Some("105")),
    (Some("7"), "bt1*a", Some("107")),
    (Some("1"), "bt1*e", Some("601")),
    (Some("9"), "bt1*pd", Some("909")),
    (Some("40"), "bt2*cand", Some("4000")),
    // Not in the entity map: kept and counted as before.
    (Some("41"), "bt2*cand", Some("41")),
    // The platform's null identifier, never looked up.
    (Some("0"), "bt1*u", Some("0")),
    (Some(""), "bt1*p", Some("")),
    (Some("hello"), "rtText", Some("hello")),
    (None, "bt1*u", None),
    (Some("5"), "bt9*zz", Some("5")),
    // Unmoved: an instance this run does not move, a non-integer, a principal with no match.
    (Some("6"), "bt1*p", Some("6")),
    (Some(" 1"), "bt1*u", Some(" 1")),
    (Some("99"), "bt1*u", Some("99")),
];
const UNMOVED: usize = 3;

fn run(policy: UnmovedReference) -> (Vec<Option<String>>, TableCounts) {
    let plan = plan(policy);
    let values: ArrayRef = Arc::new(StringArray::from(
        ROWS.iter().map(|r| r.0).collect::<Vec<_>>(),
    ));
    let types = StringArray::from(ROWS.iter().map(|r| Some(ty(r.1))).collect::<Vec<_>>());
    let keys = Int32Array::from((100..100 + ROWS.len() as i32).collect::<Vec<_>>());
    let mut counts = TableCounts::default();
    let out = rewrite_values(
        &values,
        Some(&types),
        "INPUT_VALUE",
        Some(&keys),
        &plan,
        &mut counts,
    );
    let out = out
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect();
    (out, counts)
}

#[test]
fn every_kind_of_identifier_goes_through_its_own_map_and_keep_keeps_the_rest() {
    let (out, counts) = run(UnmovedReference::Keep);
    let expected: Vec<Option<String>> = ROWS.iter().map(|r| r.2.map(str::to_owned)).collect();
    assert_eq!(out, expected);
    assert_eq!(counts.entity_refs_mapped, 8);
    assert_eq!(counts.entity_refs_kept["OSUSR_3ar_Candidate"], 1);
    assert_eq!(counts.entity_refs_kept[&ty("bt9*zz")], 1);
    let by_entity = &counts.unmoved_references["INPUT_VALUE"];
    assert_eq!(by_entity["ossys_BPM_Process"], 1);
    assert_eq!(by_entity["ossys_User"], 2);
    let samples: Vec<(i64, &str, &str, UnmovedReason)> = counts
        .unmoved_samples
        .iter()
        .map(|u| (u.row, u.entity.as_str(), u.value.as_str(), u.reason))
        .collect();
    let first = 100 + (ROWS.len() - UNMOVED) as i64;
    assert_eq!(
        samples,
        [
            (first, "ossys_BPM_Process", "6", UnmovedReason::NotMoved),
            (first + 1, "ossys_User", " 1", UnmovedReason::NotAnInteger),
            (first + 2, "ossys_User", "99", UnmovedReason::NoMatch),
        ]
    );
    assert!(counts
        .unmoved_samples
        .iter()
        .all(|u| u.column == "INPUT_VALUE"));
}

#[test]
fn null_writes_null_for_each_unmoved_identifier_and_nothing_else() {
    let (out, counts) = run(UnmovedReference::Null);
    let n = ROWS.len() - UNMOVED;
    assert!(out[n..].iter().all(Option::is_none));
    let expected: Vec<Option<String>> = ROWS[..n].iter().map(|r| r.2.map(str::to_owned)).collect();
    assert_eq!(out[..n], expected[..]);
    assert_eq!(counts.unmoved_samples.len(), UNMOVED);
}

#[test]
fn a_column_with_nothing_to_rewrite_is_returned_as_it_is() {
    let plan = plan(UnmovedReference::Fail);
    let values: ArrayRef = Arc::new(StringArray::from(vec![Some("0"), Some("x"), None]));
    let types = StringArray::from(vec![ty("bt1*u"), ty("rtText"), ty("bt1*p")]);
    let mut counts = TableCounts::default();
    let out = rewrite_values(
        &values,
        Some(&types),
        "OUTPUT_VALUE",
        None,
        &plan,
        &mut counts,
    );
    assert!(Arc::ptr_eq(&out, &values));
    assert_eq!(counts, TableCounts::default());
}

fn osevt(
    policy: UnmovedReference,
    name: &str,
    col: &ArrayRef,
) -> (ArrayRef, TableCounts, Option<Vec<bool>>) {
    let plan = plan(policy);
    let keys = Int32Array::from(vec![7, 7, 7, 7]);
    let mut counts = TableCounts::default();
    let mut dropped = Dropped::default();
    let out = rewrite_osevt_column(
        "OSEVT_3AR_CANDIDATE",
        name,
        col,
        &plan,
        Some(&keys),
        &mut counts,
        &mut dropped,
    );
    let keep = dropped
        .keep_mask()
        .map(|m| m.iter().map(|v| v == Some(true)).collect());
    (out, counts, keep)
}

fn ints(v: &[Option<i32>]) -> ArrayRef {
    Arc::new(Int32Array::from(v.to_vec()))
}

fn as_ints(a: &ArrayRef) -> Vec<Option<i32>> {
    a.as_primitive::<arrow::datatypes::Int32Type>()
        .iter()
        .collect()
}

#[test]
fn subscription_columns_are_rewritten_by_their_attribute_type() {
    let keep = UnmovedReference::Keep;
    let (out, counts, drop) = osevt(keep, "ID", &ints(&[Some(40), Some(41), Some(0), None]));
    assert_eq!(as_ints(&out), [Some(4000), Some(41), Some(0), None]);
    assert_eq!(counts.entity_refs_kept["OSUSR_3ar_Candidate"], 1);
    assert!(drop.is_none());
    let (out, counts, _) = osevt(keep, "TENANT_ID", &ints(&[Some(3), Some(4), Some(0), None]));
    assert_eq!(as_ints(&out), [Some(503), Some(4), Some(0), None]);
    assert_eq!(counts.unmoved_references["TENANT_ID"]["ossys_Tenant"], 1);
    let (out, counts, _) = osevt(keep, "OWNERID", &ints(&[Some(1), Some(99), None, Some(1)]));
    assert_eq!(as_ints(&out), [Some(501), Some(99), None, Some(501)]);
    assert_eq!(counts.unmoved_samples[0].row, 7);
    assert_eq!(counts.unmoved_samples[0].value, "99");
    // A plain attribute is not counted; a column nothing types is counted as kept.
    let plain: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, None, None]));
    let (out, counts, _) = osevt(keep, "STAGE", &plain);
    assert!(Arc::ptr_eq(&out, &plain));
    assert_eq!(counts, TableCounts::default());
    let (_, counts, _) = osevt(keep, "NOPE", &ints(&[Some(1), Some(2), None, None]));
    assert_eq!(counts.columns_kept["NOPE"], 2);
    // An attribute of an entity with no map: kept, counted per column.
    let (_, counts, _) = osevt(keep, "PEER", &ints(&[Some(1), None, None, None]));
    assert_eq!(counts.columns_kept["PEER"], 1);
}

#[test]
fn under_null_a_subscription_whose_filter_cannot_be_mapped_is_left_behind_not_widened() {
    let null = UnmovedReference::Null;
    let (out, counts, keep) = osevt(null, "OWNERID", &ints(&[Some(1), Some(99), None, Some(0)]));
    // The value itself is never NULLed: NULL would mean "any user".
    assert_eq!(as_ints(&out), [Some(501), Some(99), None, Some(0)]);
    assert_eq!(keep, Some(vec![true, false, true, true]));
    assert_eq!(counts.unmoved_references["OWNERID"]["ossys_User"], 1);
}
