#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::Path;

use super::read::left_out_trees;
use super::{destination, table, write, Destination, MapsError};
use crate::cli::MapFormat;
use bptmig_load::id_maps::checked_pairs as check_unique;

#[test]
fn tables_resolve_in_any_spelling_and_the_others_are_refused() {
    assert_eq!(
        table::resolve("ossys_BPM_Process").unwrap(),
        "OSSYS_BPM_PROCESS"
    );
    assert_eq!(
        table::resolve(" OSSYS_BPM_ACTIVITY_OUTPUT ").unwrap(),
        "OSSYS_BPM_ACTIVITY_OUTPUT"
    );
    let e = table::resolve("OSEVT_3ar_Candidate").unwrap_err();
    assert!(matches!(e, MapsError::NoIds { .. }), "{e}");
    assert!(e.to_string().contains("`OSSYS_BPM_PROCESS`"), "{e}");
    let e = table::resolve("ossys_User").unwrap_err();
    assert!(matches!(e, MapsError::NotMoved { .. }), "{e}");
    let e = table::resolve("OSUSR_3ar_Candidate").unwrap_err();
    assert!(matches!(e, MapsError::Unknown { .. }), "{e}");
    assert!(e.to_string().contains("`OSUSR_3ar_Candidate`"), "{e}");
}

#[test]
fn the_format_follows_the_extension_and_must_agree_with_it() {
    let p = |s: &str| Some(Path::new(s).to_owned());
    assert_eq!(destination(None, None).unwrap(), Destination::Stdout);
    assert_eq!(
        destination(None, p("m.PARQUET").as_deref()).unwrap(),
        Destination::Parquet("m.PARQUET".into())
    );
    assert_eq!(
        destination(None, p("m.txt").as_deref()).unwrap(),
        Destination::Csv("m.txt".into())
    );
    assert!(matches!(
        destination(Some(MapFormat::Parquet), None),
        Err(MapsError::ParquetToStdout)
    ));
    assert!(matches!(
        destination(Some(MapFormat::Parquet), p("m.csv").as_deref()),
        Err(MapsError::Extension { .. })
    ));
    assert!(matches!(
        destination(Some(MapFormat::Csv), p("m.parquet").as_deref()),
        Err(MapsError::Extension { .. })
    ));
}

#[test]
fn a_map_has_each_old_and_each_new_id_once() {
    assert_eq!(
        check_unique(vec![(3, 30), (1, 10)]).unwrap(),
        [(1, 10), (3, 30)]
    );
    assert!(check_unique(vec![(1, 10), (1, 11)])
        .unwrap_err()
        .contains("old ID 1"));
    assert!(check_unique(vec![(1, 10), (2, 10)])
        .unwrap_err()
        .contains("new ID 10"));
}

#[test]
fn trees_the_load_left_out_are_read_from_the_report() {
    let report = |policy: &str, trees: u64| serde_json::json!({ "load": { "already_moved": { "policy": policy, "trees": trees } } });
    assert_eq!(left_out_trees(&report("skip", 3)), 3);
    assert_eq!(left_out_trees(&report("fail", 3)), 0);
    assert_eq!(left_out_trees(&serde_json::json!({ "load": {} })), 0);
}

#[test]
fn csv_has_a_header_and_a_line_per_pair() {
    let mut out = Vec::new();
    write::csv(&mut out, &[(-5, 7), (2, 2_000_000_000)]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "old_id,new_id\n-5,7\n2,2000000000\n"
    );
}
