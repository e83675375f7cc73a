//! What the tests of `[anonymize]` check in a work directory: every covered value replaced
//! and every other text unchanged, against the extract.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type};
use bptmig_model::catalog as c;
use bptmig_sandbox::testing;
use bptmig_workdir::part::PartReader;

use crate::common;

/// One table's rows read back: key → column → text (NULL as `None`).
pub type Texts = BTreeMap<i32, BTreeMap<String, Option<String>>>;

/// Every text column of `batches`, by key.
pub fn texts(batches: &[RecordBatch]) -> Texts {
    let mut out = Texts::new();
    for b in batches {
        let Some(ids) = b
            .column_by_name(c::ID)
            .map(|a| a.as_primitive::<Int32Type>().clone())
        else {
            continue;
        };
        for (field, col) in b.schema().fields().iter().zip(b.columns()) {
            if col.data_type() != &DataType::Utf8 {
                continue;
            }
            let s = col.as_string::<i32>();
            for i in 0..b.num_rows() {
                let v = s.is_valid(i).then(|| s.value(i).to_owned());
                out.entry(ids.value(i))
                    .or_default()
                    .insert(field.name().to_ascii_uppercase(), v);
            }
        }
    }
    out
}

/// Source IDs of the activities under a `CandidateSelection` process definition.
fn candidate_selection_activities(wd: &Path) -> BTreeSet<i32> {
    let snap = |t: &str| {
        let path = wd
            .join("extract/snapshot/source")
            .join(format!("{t}.parquet"));
        PartReader::open(&path).unwrap().read_all().unwrap()
    };
    let ints = |b: &RecordBatch, col: &str| -> Vec<Option<i64>> {
        let a = b.column_by_name(col).unwrap();
        (0..a.len())
            .map(|i| {
                a.is_valid(i).then(|| match a.data_type() {
                    DataType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(i)),
                    _ => a.as_primitive::<arrow::datatypes::Int64Type>().value(i),
                })
            })
            .collect()
    };
    let mut processes = BTreeSet::new();
    for b in snap(c::PROCESS_DEFINITION) {
        let names = b
            .column_by_name(c::NAME)
            .unwrap()
            .as_string::<i32>()
            .clone();
        for (i, id) in ints(&b, c::ID).into_iter().enumerate() {
            if names.is_valid(i) && names.value(i).eq_ignore_ascii_case("CandidateSelection") {
                processes.extend(id);
            }
        }
    }
    let mut defs = BTreeSet::new();
    for b in snap(c::ACTIVITY_DEFINITION) {
        for (id, p) in ints(&b, c::ID).into_iter().zip(ints(&b, c::PROCESS_DEF_ID)) {
            if p.is_some_and(|p| processes.contains(&p)) {
                defs.extend(id);
            }
        }
    }
    let mut out = BTreeSet::new();
    for b in testing::read_stage(wd, "extract", c::ACTIVITY).unwrap() {
        let ids = b
            .column_by_name(c::ID)
            .unwrap()
            .as_primitive::<Int32Type>()
            .clone();
        for (i, d) in ints(&b, c::ACTIVITY_DEF_ID).into_iter().enumerate() {
            if d.is_some_and(|d| defs.contains(&d)) {
                out.insert(ids.value(i));
            }
        }
    }
    assert!(
        !out.is_empty(),
        "some activities belong to CandidateSelection"
    );
    out
}

/// Whether the rules of [`section`] cover `column` of `row` (a source row of `table`).
fn covered(
    table: &str,
    column: &str,
    row: &BTreeMap<String, Option<String>>,
    activities: &BTreeSet<i32>,
    owner: Option<i32>,
) -> bool {
    let typed = |k: &str| row.get(k).cloned().flatten().unwrap_or_default();
    let entity = typed(c::SS_TYPE).starts_with("bt") || typed(c::DATA_TYPE) == "rtEntityReference";
    match (table, column) {
        (c::PROCESS, c::LABEL) | (c::ACTIVITY, c::INBOX_DETAIL) => true,
        (c::PROCESS_INPUT, c::INPUT_VALUE) | (c::PROCESS_OUTPUT, c::OUTPUT_VALUE) => {
            typed(c::DATA_TYPE).eq_ignore_ascii_case("rtText") && !entity
        }
        (c::ACTIVITY_OUTPUT, c::OUTPUT_VALUE) => {
            owner.is_some_and(|a| activities.contains(&a)) && !entity
        }
        _ => false,
    }
}

/// A scheduler column, which `[transform] clear_scheduler_locks` may clear.
fn scheduler(table: &str, column: &str) -> bool {
    c::table(table)
        .and_then(|t| t.column(column))
        .is_some_and(|m| m.role == c::ColumnRole::SchedulerState)
}

/// What the rules did to a work directory, checked against its extract.
#[derive(Default)]
pub struct Checked {
    /// Covered source values (non-empty) that no non-covered column of the source holds.
    pub private: BTreeSet<String>,
    pub changed: u64,
}

/// Checks the transform of `wd`: every covered non-empty value replaced (and no output of
/// a covered cell is a covered source value), every other text cell unchanged. Entity-typed
/// values (rewritten as identifiers) are not compared.
pub fn check_transform(wd: &Path) -> Checked {
    let activities = candidate_selection_activities(wd);
    let mut checked = Checked::default();
    let mut public = BTreeSet::new();
    let mut outputs = Vec::new();
    for table in c::INSTANCE_TABLES.iter().map(|t| t.name) {
        let source = texts(&testing::read_stage(wd, "extract", table).unwrap());
        let out = texts(&testing::read_stage(wd, "transform", table).unwrap());
        let new_of = testing::read_id_map(wd, table).unwrap();
        let owner_column = if table == c::ACTIVITY_OUTPUT {
            c::ACTIVITY_ID
        } else {
            c::PROCESS_ID
        };
        let owners: HashMap<i32, i32> = testing::read_stage(wd, "extract", table)
            .unwrap()
            .iter()
            .filter_map(|b| {
                Some((
                    b.column_by_name(c::ID)?.clone(),
                    b.column_by_name(owner_column)?.clone(),
                ))
            })
            .flat_map(|(ids, owners)| {
                let (ids, owners) = (
                    ids.as_primitive::<Int32Type>().clone(),
                    owners.as_primitive::<Int32Type>().clone(),
                );
                (0..ids.len()).map(move |i| (ids.value(i), owners.value(i)))
            })
            .collect();
        for (old, row) in &source {
            let Some(new) = new_of.get(old) else { continue };
            let moved = &out[new];
            for (column, value) in row {
                let after = &moved[column];
                let entity = row
                    .get(c::SS_TYPE)
                    .cloned()
                    .flatten()
                    .is_some_and(|t| t.starts_with("bt"));
                if covered(table, column, row, &activities, owners.get(old).copied()) {
                    match value.as_deref() {
                        None | Some("") => assert!(after.as_deref().unwrap_or("").is_empty()),
                        Some(v) => {
                            checked.private.insert(v.to_owned());
                            outputs.push((table, column.clone(), after.clone()));
                            checked.changed += 1;
                        }
                    }
                } else if !(scheduler(table, column) || entity && column.ends_with("_VALUE")) {
                    assert_eq!(after, value, "{table}.{column} of row {old} is not covered");
                    public.extend(value.clone());
                }
            }
        }
    }
    // Definition names and labels are the platform's, not personal: a report may name them.
    for t in c::DEFINITION_TABLES {
        let path = wd
            .join("extract/snapshot/source")
            .join(format!("{}.parquet", t.name));
        public.extend(text_values(&path));
    }
    // A value without a letter or digit (spaces only) holds nothing to mask: `keep-format`
    // keeps it as it is.
    checked
        .private
        .retain(|v| !public.contains(v) && v.chars().any(char::is_alphanumeric));
    for (table, column, after) in outputs {
        let after = after.unwrap_or_default();
        assert!(
            !checked.private.contains(&after),
            "{table}.{column}: a source value survived ({} characters)",
            after.chars().count()
        );
    }
    assert!(checked.private.len() >= 5, "{:?}", checked.private.len());
    checked
}

/// Every value of `needles` absent from `haystack` (and from its JSON-escaped form).
pub fn absent_from(haystack: &str, needles: &BTreeSet<String>, what: &str) {
    for n in needles {
        let escaped = serde_json::to_string(n).unwrap();
        let escaped = &escaped[1..escaped.len() - 1];
        assert!(
            !haystack.contains(n.as_str()) && !haystack.contains(escaped),
            "a covered source value ({} characters) is in {what}",
            n.chars().count()
        );
    }
}

/// Every text value of every Parquet file under `dir`.
pub fn all_parquet_values(dir: &Path) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    for (rel, _) in common::files(dir) {
        if rel.ends_with(".parquet") {
            values.extend(text_values(&dir.join(&rel)));
        }
    }
    values
}

/// Every text value of the Parquet file `path`.
fn text_values(path: &Path) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    for b in PartReader::open(path).unwrap().read_all().unwrap() {
        for col in b
            .columns()
            .iter()
            .filter(|c| c.data_type() == &DataType::Utf8)
        {
            let s = col.as_string::<i32>();
            values.extend(
                (0..s.len())
                    .filter(|&i| s.is_valid(i))
                    .map(|i| s.value(i).to_owned()),
            );
        }
    }
    values
}
