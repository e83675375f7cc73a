//! One batch through [`Anonymizer::apply`]: which rows each rule selects, entity-reference
//! values left alone, `clear` by nullability, the counts, and the same value agreeing
//! across columns and with the [`Masker`].

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use bptmig_model::catalog as c;
use bptmig_model::pipeline::{AnonKey, AnonMethod, FakeKind};

use super::hmac::KeyedHash;
use super::owners::Owned;
use super::{Anonymizer, ColumnRules, Masker, Selector};
use crate::report::TableCounts;

const KEY: &[u8] = b"unit-test-key-0123456789";

fn selector(n: usize, method: AnonMethod) -> Selector {
    Selector {
        key: format!("anonymize.rules[{n}]"),
        method,
        name: None,
        data_type: None,
        owners: None,
    }
}

fn strings(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

/// Input rows: (PROCESS_ID, NAME, DATA_TYPE, SS_TYPE, INPUT_VALUE).
fn inputs() -> (Arc<Schema>, RecordBatch) {
    let schema = Arc::new(Schema::new(vec![
        Field::new(c::PROCESS_ID, DataType::Int32, false),
        Field::new(c::NAME, DataType::Utf8, true),
        Field::new(c::DATA_TYPE, DataType::Utf8, true),
        Field::new(c::SS_TYPE, DataType::Utf8, true),
        Field::new(c::INPUT_VALUE, DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(vec![1, 1, 2, 2, 3, 3])),
            strings(&[
                Some("CandidateName"),
                Some("CandidateId"),
                Some("candidatename"),
                Some("Comment"),
                Some("CandidateName"),
                Some("Comment"),
            ]),
            strings(&[
                Some("rtText"),
                Some("rtEntityReference"),
                Some("rtText"),
                Some("rtText"),
                Some("rtText"),
                Some("rtText"),
            ]),
            strings(&[
                Some("rtText"),
                Some("bt0a1b*2c3d"),
                Some("rtText"),
                Some("rtText"),
                Some("rtText"),
                Some("rtText"),
            ]),
            strings(&[
                Some("John Doe"),
                Some("17"),
                Some("Jane Roe"),
                Some("call me"),
                None,
                Some(""),
            ]),
        ],
    )
    .unwrap();
    (schema, batch)
}

fn anonymizer(table: &str, rules: ColumnRules) -> Anonymizer {
    Anonymizer {
        hash: KeyedHash::new(KEY),
        tables: [(table.to_owned(), vec![rules])].into_iter().collect(),
    }
}

fn value_rules(rules: Vec<Selector>) -> ColumnRules {
    ColumnRules {
        column: c::INPUT_VALUE.to_owned(),
        max_len: None,
        values: true,
        rules,
    }
}

fn run(a: &Anonymizer, table: &str) -> (Vec<Option<String>>, TableCounts) {
    let (schema, batch) = inputs();
    let mut columns = batch.columns().to_vec();
    let mut counts = TableCounts::default();
    a.apply(table, &batch, &schema, &mut columns, &mut counts)
        .unwrap();
    let out = columns[4].as_string::<i32>();
    let values = (0..out.len())
        .map(|i| out.is_valid(i).then(|| out.value(i).to_owned()))
        .collect();
    (values, counts)
}

fn mask(method: AnonMethod, value: &str) -> String {
    Masker::new(&AnonKey::new("K", KEY))
        .mask(method, value, None, true)
        .unwrap()
}

#[test]
fn a_name_rule_selects_its_parameter_in_any_case_and_only_it() {
    let person = AnonMethod::Fake(FakeKind::Person);
    let mut rule = selector(1, person);
    rule.name = Some("CandidateName".to_owned());
    let a = anonymizer(c::PROCESS_INPUT, value_rules(vec![rule]));
    let (v, counts) = run(&a, c::PROCESS_INPUT);
    assert_eq!(v[0].as_deref(), Some(mask(person, "John Doe").as_str()));
    assert_eq!(v[2].as_deref(), Some(mask(person, "Jane Roe").as_str()));
    assert_eq!(v[1].as_deref(), Some("17"), "another parameter");
    assert_eq!(v[3].as_deref(), Some("call me"), "another parameter");
    assert_eq!(v[4], None, "NULL stays NULL");
    assert_eq!(counts.anonymized["anonymize.rules[1]"], 2);
    assert!(counts.anonymize_skipped.is_empty());
}

#[test]
fn entity_reference_values_are_never_changed_but_counted() {
    let a = anonymizer(
        c::PROCESS_INPUT,
        value_rules(vec![selector(1, AnonMethod::Hash)]),
    );
    let (v, counts) = run(&a, c::PROCESS_INPUT);
    assert_eq!(v[1].as_deref(), Some("17"));
    assert_eq!(counts.anonymize_skipped["anonymize.rules[1]"], 1);
    // Empty strings stay empty and are not counted.
    assert_eq!(v[5].as_deref(), Some(""));
    assert_eq!(counts.anonymized["anonymize.rules[1]"], 3);
    assert_eq!(
        v[3].as_deref(),
        Some(mask(AnonMethod::Hash, "call me").as_str())
    );
}

#[test]
fn the_first_rule_that_selects_a_row_applies() {
    let mut first = selector(1, AnonMethod::KeepFormat);
    first.data_type = Some("RTTEXT".to_owned());
    first.owners = Some(Owned {
        column: c::PROCESS_ID,
        ids: HashSet::from([2]),
    });
    let second = selector(2, AnonMethod::Clear);
    let a = anonymizer(c::PROCESS_INPUT, value_rules(vec![first, second]));
    let (v, counts) = run(&a, c::PROCESS_INPUT);
    assert_eq!(
        v[0], None,
        "process 1: the second rule clears (nullable: NULL)"
    );
    assert_eq!(
        v[2].as_deref(),
        Some(mask(AnonMethod::KeepFormat, "Jane Roe").as_str())
    );
    assert_eq!(counts.anonymized["anonymize.rules[1]"], 2);
    assert_eq!(counts.anonymized["anonymize.rules[2]"], 1);
}

#[test]
fn clear_writes_the_empty_string_where_the_column_is_not_null() {
    let schema = Arc::new(Schema::new(vec![Field::new("NOTE", DataType::Utf8, false)]));
    let filled: ArrayRef = strings(&[
        Some("a"),
        Some("b"),
        Some("c"),
        Some("d"),
        Some("e"),
        Some(""),
    ]);
    let batch = RecordBatch::try_new(schema.clone(), vec![filled]).unwrap();
    let rules = ColumnRules {
        column: "note".to_owned(),
        max_len: Some(4),
        values: false,
        rules: vec![selector(1, AnonMethod::Clear)],
    };
    let a = anonymizer(c::ACTIVITY, rules);
    let mut columns = batch.columns().to_vec();
    let mut counts = TableCounts::default();
    a.apply(c::ACTIVITY, &batch, &schema, &mut columns, &mut counts)
        .unwrap();
    let out = columns[0].as_string::<i32>();
    assert_eq!(out.null_count(), 0);
    assert!((0..out.len()).all(|i| out.value(i).is_empty()));
    assert_eq!(counts.anonymized["anonymize.rules[1]"], 5);
}

#[test]
fn the_same_value_gets_the_same_replacement_in_every_column() {
    let person = AnonMethod::Fake(FakeKind::Person);
    let label = anonymizer(
        c::PROCESS,
        ColumnRules {
            column: c::NAME.to_owned(),
            max_len: None,
            values: false,
            rules: vec![selector(1, person)],
        },
    );
    let (schema, batch) = inputs();
    let mut columns = batch.columns().to_vec();
    let mut counts = TableCounts::default();
    label
        .apply(c::PROCESS, &batch, &schema, &mut columns, &mut counts)
        .unwrap();
    let names = columns[1].as_string::<i32>();
    assert_eq!(names.value(0), mask(person, "CandidateName"));
    assert_eq!(names.value(0), names.value(4), "same source, same output");
    assert_ne!(names.value(0), names.value(2), "the value's case matters");
}

#[test]
fn a_table_without_rules_is_left_as_it_is() {
    let a = anonymizer(
        c::PROCESS_OUTPUT,
        value_rules(vec![selector(1, AnonMethod::Hash)]),
    );
    let (v, counts) = run(&a, c::PROCESS_INPUT);
    assert_eq!(v[0].as_deref(), Some("John Doe"));
    assert!(counts.anonymized.is_empty());
}

#[test]
fn the_plan_hash_moves_with_the_rules_and_the_key_and_only_with_them() {
    use bptmig_model::pipeline::Anonymize;
    let plain = "0123abcd".to_owned();
    assert_eq!(
        super::plan_hash(plain.clone(), None),
        plain,
        "no section, no change"
    );
    let rules = |key: &[u8]| Anonymize {
        key: AnonKey::new("K", key),
        rules: Vec::new(),
    };
    let a = super::plan_hash(plain.clone(), Some(&rules(KEY)));
    assert_ne!(a, plain);
    assert_eq!(a, super::plan_hash(plain.clone(), Some(&rules(KEY))));
    assert_ne!(
        a,
        super::plan_hash(plain, Some(&rules(b"another-key-0123456789")))
    );
    assert!(
        !a.contains(&bptmig_workdir::hex(KEY)),
        "the key is not in the hash"
    );
}
