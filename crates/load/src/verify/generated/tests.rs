#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use bptmig_model::catalog as c;
use bptmig_workdir::Manifest;

use super::{forward, plain_id, RowDiff};
use crate::id_maps::captured::CapturedPairs;
use crate::plan::TableInput;
use crate::verify::values::InstanceReferences;

fn input(table: &'static str, columns: &[&str]) -> TableInput {
    TableInput {
        name: table.into(),
        spelled: table.into(),
        model: *c::table(table).unwrap(),
        dir: "unused".into(),
        manifest: Manifest {
            table: table.into(),
            run_id: "run1".into(),
            key: Some(c::ID.into()),
            columns: Vec::new(),
            complete: true,
            parts: Vec::new(),
        },
        columns: columns.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Processes 1..=3 went to 501, 507, 502; activities 10, 11 to 900, 880.
fn pairs() -> CapturedPairs {
    let (p, problems) = CapturedPairs::new(
        "BPTMIG_PAIRS",
        BTreeMap::from([
            (c::PROCESS.to_owned(), vec![(1, 501), (2, 507), (3, 502)]),
            (c::ACTIVITY.to_owned(), vec![(11, 880), (10, 900)]),
        ]),
    );
    assert!(problems.is_empty());
    p
}

fn ints(v: Vec<Option<i32>>) -> ArrayRef {
    Arc::new(Int32Array::from(v))
}

fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a Int32Array {
    b.column_by_name(name).unwrap().as_primitive::<Int32Type>()
}

#[test]
fn every_instance_id_of_a_row_goes_through_the_pairs_of_its_table() {
    let names = [
        c::ID,
        c::PARENT_PROCESS_ID,
        c::PARENT_ACTIVITY_ID,
        c::TOP_PROCESS_ID,
        c::PROCESS_DEF_ID,
    ];
    let t = input(c::PROCESS, &names);
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Int32, true))
        .collect();
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        vec![
            ints(vec![Some(1), Some(2), Some(3), Some(4)]),
            ints(vec![None, Some(1), Some(2), None]),
            ints(vec![None, Some(10), Some(11), Some(10)]),
            ints(vec![Some(1), Some(1), Some(1), Some(4)]),
            // A definition: not an instance ID, whatever its value.
            ints(vec![Some(1), Some(2), Some(3), Some(10)]),
        ],
    )
    .unwrap();
    let out = forward(&t, &b, &pairs(), &InstanceReferences::default()).unwrap();
    let values = |n: &str| col(&out, n).iter().collect::<Vec<_>>();
    // Row 4 has no pair: left as it is (the chunk checks name it).
    assert_eq!(values(c::ID), [Some(501), Some(507), Some(502), Some(4)]);
    assert_eq!(
        values(c::PARENT_PROCESS_ID),
        [None, Some(501), Some(507), None]
    );
    assert_eq!(
        values(c::PARENT_ACTIVITY_ID),
        [None, Some(900), Some(880), Some(900)]
    );
    assert_eq!(
        values(c::TOP_PROCESS_ID),
        [Some(501), Some(501), Some(501), Some(4)]
    );
    assert_eq!(
        values(c::PROCESS_DEF_ID),
        [Some(1), Some(2), Some(3), Some(10)]
    );
}

#[test]
fn identifiers_inside_values_and_subscription_columns_go_through_their_tables_pairs() {
    let names = [c::ID, c::PROCESS_ID, c::INPUT_VALUE, c::SS_TYPE];
    let t = input(c::PROCESS_INPUT, &names);
    let schema = Schema::new(vec![
        Field::new(c::ID, DataType::Int32, false),
        Field::new(c::PROCESS_ID, DataType::Int32, false),
        Field::new(c::INPUT_VALUE, DataType::Utf8, true),
        Field::new(c::SS_TYPE, DataType::Utf8, true),
    ]);
    let values: ArrayRef = Arc::new(StringArray::from(vec![
        Some("2"),
        Some("10"),
        Some("2"),
        Some(" 2"),
        Some("77"),
        None,
        Some(""),
    ]));
    let types: ArrayRef = Arc::new(StringArray::from(vec![
        "btP", "btA", "rtText", "btP", "btP", "btP", "btP",
    ]));
    let b = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            ints((1..=7).map(Some).collect()),
            ints(vec![Some(1); 7]),
            values,
            types,
        ],
    )
    .unwrap();
    let refs = InstanceReferences {
        instance_types: HashMap::from([
            ("btP".to_owned(), c::PROCESS.to_owned()),
            ("btA".to_owned(), c::ACTIVITY.to_owned()),
        ]),
        ..InstanceReferences::default()
    };
    let out = forward(&t, &b, &pairs(), &refs).unwrap();
    let text: Vec<Option<&str>> = out
        .column_by_name(c::INPUT_VALUE)
        .unwrap()
        .as_string::<i32>()
        .iter()
        .collect();
    // A process, an activity; plain text, a value with a space, a source row the run did
    // not move, NULL and empty stay.
    assert_eq!(
        text,
        [
            Some("507"),
            Some("900"),
            Some("2"),
            Some(" 2"),
            Some("77"),
            None,
            Some("")
        ]
    );
    // Without instance types, values are plain.
    let plain = forward(&t, &b, &pairs(), &InstanceReferences::default()).unwrap();
    assert_eq!(
        plain
            .column_by_name(c::INPUT_VALUE)
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "2"
    );

    // An `OSEVT_*` row: its activity, and a filter column typed as a process.
    let osevt = TableInput {
        model: c::osevt_table("OSEVT_X"),
        ..input(c::PROCESS, &[])
    };
    let osevt = TableInput {
        name: "OSEVT_X".into(),
        ..osevt
    };
    let schema = Schema::new(vec![
        Field::new(c::EVT_ACTIVITY_ID, DataType::Int32, true),
        Field::new("PROC", DataType::Int32, true),
        Field::new("OTHER", DataType::Int32, true),
    ]);
    let b = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            ints(vec![Some(10), Some(11)]),
            ints(vec![Some(3), None]),
            ints(vec![Some(3), Some(10)]),
        ],
    )
    .unwrap();
    let refs = InstanceReferences {
        instance_columns: HashMap::from([(
            "OSEVT_X".to_owned(),
            HashMap::from([("PROC".to_owned(), c::PROCESS.to_owned())]),
        )]),
        ..InstanceReferences::default()
    };
    let out = forward(&osevt, &b, &pairs(), &refs).unwrap();
    let values = |n: &str| col(&out, n).iter().collect::<Vec<_>>();
    assert_eq!(values(c::EVT_ACTIVITY_ID), [Some(900), Some(880)]);
    assert_eq!(values("PROC"), [Some(502), None]);
    assert_eq!(values("OTHER"), [Some(3), Some(10)]);
}

#[test]
fn identifiers_in_text_are_plain_decimal_only() {
    assert_eq!(plain_id("105"), Some(105));
    assert_eq!(plain_id("-2147483648"), Some(i32::MIN));
    for v in ["", "-", " 1", "1 ", "+1", "1.0", "2147483648", "0x10"] {
        assert_eq!(plain_id(v), None, "{v:?}");
    }
}

#[test]
fn rows_compared_one_by_one_name_the_changed_row_and_the_pair_with_no_row() {
    let p = pairs();
    let own = p.table(c::PROCESS);
    let mut d = RowDiff::default();
    // Source rows 1, 2, 3 and 4 (which has no pair) as the load had to write them.
    d.expect(own, &Int32Array::from(vec![1, 2, 3, 4]), &[11, 12, 13, 14]);
    // The target: 501 as expected, 507 changed, 502 gone.
    d.found(&Int32Array::from(vec![501, 507]), &[11, 99]);
    let problems = d.problems(c::PROCESS, own, "BPTMIG_PAIRS");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("1 pair(s) in the pairs table `BPTMIG_PAIRS` point at no row")
            && problems[0].contains("source row 3 → target row 502"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("1 row(s) in the target differ")
            && problems[1].contains("target row 507 (source row 2)"),
        "{}",
        problems[1]
    );
    let mut same = RowDiff::default();
    same.expect(own, &Int32Array::from(vec![1, 2]), &[1, 2]);
    same.found(&Int32Array::from(vec![507, 501]), &[2, 1]);
    assert!(same.problems(c::PROCESS, own, "P").is_empty());
}
