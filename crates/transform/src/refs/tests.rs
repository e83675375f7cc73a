use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use bptmig_model::catalog as c;
use parquet::file::properties::WriterProperties;

use super::*;

/// Writes `<name>.parquet` into `dir` from (column, values) pairs.
pub(crate) fn write_table(dir: &Path, name: &str, cols: Vec<(&str, ArrayRef)>) {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect()).unwrap();
    let path = dir.join(format!("{name}.parquet"));
    bptmig_workdir::part::write_file(&path, schema, &[batch], WriterProperties::default()).unwrap();
}

/// The SS_KEY of short name `n` (`sys`, `app`, `u`, `cand`…): a GUID.
pub(crate) fn key(n: &str) -> String {
    let names = [
        "sys", "app", "u", "g", "t", "p", "a", "e", "pd", "cand", "other",
    ];
    let k = names.iter().position(|m| *m == n).map_or(99, |k| k + 1);
    format!("00000000-0000-0000-0000-{k:012}")
}

/// `bt<eSpace>*<entity>` from short names: `ty("bt1*u")`, eSpace 1 `sys`, 2 `app`.
pub(crate) fn ty(short: &str) -> String {
    let Some(keys) = short.strip_prefix("bt") else {
        return short.to_owned();
    };
    let (e, n) = keys.split_once('*').unwrap();
    let espace = match e {
        "1" => "sys",
        "2" => "app",
        other => other,
    };
    format!("bt{}*{}", key(espace), key(n))
}

fn ints(v: &[i32]) -> ArrayRef {
    Arc::new(Int32Array::from(v.to_vec()))
}

fn texts(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

/// A source snapshot spelled as a real platform spells it: eSpace 1 `sys` (System), 2 `app`.
pub(crate) fn platform_snapshot(dir: &Path, with_attrs: bool) {
    write_table(
        dir,
        c::ESPACE,
        vec![
            (c::ID, ints(&[1, 2])),
            (c::SS_KEY, texts(&[Some(&key("sys")), Some(&key("app"))])),
        ],
    );
    let tables = [
        Some("ossys_User"),
        Some("ossys_Group"),
        Some("ossys_Tenant"),
        Some("ossys_BPM_Process"),
        Some("ossys_BPM_Activity"),
        Some("ossys_Espace"),
        Some("ossys_BPM_Process_Definition"),
        Some("OSUSR_3ar_Candidate"),
        Some("OSUSR_3ar_Other"),
    ];
    let events = [
        Some("OSEVT_ossys_User"),
        None,
        None,
        None,
        None,
        None,
        None,
        Some("OSEVT_3ar_Candidate"),
        None,
    ];
    write_table(
        dir,
        c::ENTITY,
        vec![
            (c::ID, ints(&[10, 11, 12, 13, 14, 15, 16, 20, 21])),
            (c::ESPACE_ID, ints(&[1, 1, 1, 1, 1, 1, 1, 2, 2])),
            (
                c::SS_KEY,
                texts(
                    &["u", "g", "t", "p", "a", "e", "pd", "cand", "other"]
                        .map(key)
                        .iter()
                        .map(|k| Some(k.as_str()))
                        .collect::<Vec<_>>(),
                ),
            ),
            (c::PHYSICAL_TABLE_NAME, texts(&tables)),
            (c::EVENT_TABLE_NAME, texts(&events)),
        ],
    );
    if with_attrs {
        write_table(
            dir,
            ENTITY_ATTR,
            vec![
                ("ENTITY_ID", ints(&[20, 20, 20, 20, 10])),
                (
                    c::NAME,
                    texts(&[
                        Some("Id"),
                        Some("Owner"),
                        Some("Stage"),
                        Some("Peer"),
                        Some("Manager"),
                    ]),
                ),
                (
                    "DATABASE_NAME",
                    texts(&[
                        Some("ID"),
                        Some("OWNERID"),
                        Some("STAGE"),
                        None,
                        Some("MANAGER_ID"),
                    ]),
                ),
                (
                    "TYPE",
                    texts(
                        &["bt2*cand", "bt1*u", "rtText", "bt2*other", "bt1*u"]
                            .map(ty)
                            .iter()
                            .map(|t| Some(t.as_str()))
                            .collect::<Vec<_>>(),
                    ),
                ),
            ],
        );
    }
}

fn read(dir: &Path, maps: &BTreeMap<String, HashMap<i64, i64>>) -> RefTypes {
    let defs = [c::PROCESS_DEFINITION];
    RefTypes::read(&Snapshot::new(dir), &defs, maps).unwrap()
}

fn target_of(refs: &RefTypes, ss_type: &str) -> Option<Target> {
    match refs.entity_of(&ty(ss_type)) {
        EntityOf::Entity(e) => Some(refs.entities[e].target.clone()),
        _ => None,
    }
}

#[test]
fn entities_are_found_by_keys_and_typed_by_physical_table_whatever_its_case() {
    let dir = tempfile::tempdir().unwrap();
    platform_snapshot(dir.path(), true);
    let maps = BTreeMap::from([("OSUSR_3AR_CANDIDATE".to_owned(), HashMap::new())]);
    let refs = read(dir.path(), &maps);
    assert_eq!(target_of(&refs, "bt1*u"), Some(Target::Principal(0)));
    assert_eq!(target_of(&refs, "bt1*g"), Some(Target::Principal(1)));
    assert_eq!(target_of(&refs, "bt1*t"), Some(Target::Principal(2)));
    assert_eq!(
        target_of(&refs, "bt1*p"),
        Some(Target::Instance(c::PROCESS))
    );
    assert_eq!(
        target_of(&refs, "bt1*a"),
        Some(Target::Instance(c::ACTIVITY))
    );
    assert_eq!(target_of(&refs, "bt1*e"), Some(Target::Espace));
    assert_eq!(
        target_of(&refs, "bt1*pd"),
        Some(Target::Definition(c::PROCESS_DEFINITION))
    );
    // The entity map's key as the pipeline writes it, matched case-insensitively.
    assert_eq!(
        target_of(&refs, "bt2*cand"),
        Some(Target::Other(Some("OSUSR_3AR_CANDIDATE".to_owned())))
    );
    assert_eq!(target_of(&refs, "bt2*other"), Some(Target::Other(None)));
    // Keys are compared exactly; an unknown pair is an unknown entity; basic types are none.
    assert_eq!(refs.entity_of(&ty("bt1*zz")), EntityOf::Unknown);
    assert_eq!(refs.entity_of("rtText"), EntityOf::None);
    assert!(refs.has_principals());
}

#[test]
fn subscription_columns_are_typed_from_the_attributes_database_name_else_name() {
    let dir = tempfile::tempdir().unwrap();
    platform_snapshot(dir.path(), true);
    let refs = read(dir.path(), &BTreeMap::new());
    let entity = |n: usize| refs.entities[n].target.clone();
    let col = |t: &str, c: &str| refs.osevt.column(t, c);
    // The table and column names in any case.
    let ColumnType::Ref(own) = col("OSEVT_3AR_CANDIDATE", "id") else {
        panic!("ID is untyped")
    };
    assert_eq!(entity(own), Target::Other(None));
    let ColumnType::Ref(tenant) = col("osevt_3ar_candidate", "TENANT_ID") else {
        panic!("TENANT_ID is untyped")
    };
    assert_eq!(entity(tenant), Target::Principal(2));
    let ColumnType::Ref(owner) = col("OSEVT_3ar_Candidate", "OwnerId") else {
        panic!("OWNERID is untyped")
    };
    assert_eq!(entity(owner), Target::Principal(0));
    assert_eq!(col("OSEVT_3ar_Candidate", "STAGE"), ColumnType::Plain);
    // No DATABASE_NAME: the attribute's NAME.
    assert!(matches!(
        col("OSEVT_3ar_Candidate", "PEER"),
        ColumnType::Ref(_)
    ));
    assert_eq!(col("OSEVT_3ar_Candidate", "NOPE"), ColumnType::Unknown);
    let ColumnType::Ref(user) = col("OSEVT_OSSYS_USER", "ID") else {
        panic!("OSEVT_USER.ID is untyped")
    };
    assert_eq!(entity(user), Target::Principal(0));
    assert!(matches!(
        col("OSEVT_ossys_User", "MANAGER_ID"),
        ColumnType::Ref(_)
    ));
    assert_eq!(col("OSEVT_UNKNOWN", "ID"), ColumnType::Unknown);
    assert!(!refs.osevt.attrs_missing);
}

#[test]
fn without_entity_attributes_only_id_and_tenant_are_typed_and_it_is_said() {
    let dir = tempfile::tempdir().unwrap();
    platform_snapshot(dir.path(), false);
    let refs = read(dir.path(), &BTreeMap::new());
    assert!(refs.osevt.attrs_missing);
    assert!(matches!(
        refs.osevt.column("OSEVT_3ar_Candidate", "ID"),
        ColumnType::Ref(_)
    ));
    assert!(matches!(
        refs.osevt.column("OSEVT_3ar_Candidate", "TENANT_ID"),
        ColumnType::Ref(_)
    ));
    assert_eq!(
        refs.osevt.column("OSEVT_3ar_Candidate", "OWNERID"),
        ColumnType::Unknown
    );
}

#[test]
fn identifiers_are_plain_decimal_integers_only() {
    assert_eq!(parse_plain("42"), Some(42));
    assert_eq!(parse_plain("-7"), Some(-7));
    assert_eq!(parse_plain("007"), Some(7));
    for bad in [
        "",
        " 42",
        "42 ",
        "+42",
        "4 2",
        "-",
        "1e3",
        "0x10",
        "99999999999999999999",
    ] {
        assert_eq!(parse_plain(bad), None, "{bad:?}");
    }
}
