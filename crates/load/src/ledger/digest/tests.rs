use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Decimal128Array, Float64Array, Int32Array, RecordBatch,
    StringArray, TimestampMillisecondArray, UInt32Array,
};
use bptmig_workdir::sql_type::SqlType;

use super::*;
use crate::ledger::{check_recorded, LedgerRow};
use crate::testing::{batch, ms};
use crate::value::ValueError;
use crate::Error;

const COLUMNS: [&str; 6] = ["ID", "NAME", "AMOUNT", "CREATED", "RATE", "DATA"];

/// Four rows of six types, NULLs included.
fn rows(names: [Option<&str>; 4]) -> RecordBatch {
    let amount = Decimal128Array::from(vec![Some(-1_250_000_000), None, Some(5), Some(0)])
        .with_precision_and_scale(37, 8)
        .unwrap();
    batch(vec![
        (
            "ID",
            SqlType::Int,
            Arc::new(Int32Array::from(vec![1, 2, 3, 4])) as ArrayRef,
        ),
        (
            "NAME",
            SqlType::NVarChar { len: None },
            Arc::new(StringArray::from(names.to_vec())),
        ),
        (
            "AMOUNT",
            SqlType::Decimal {
                precision: 37,
                scale: 8,
            },
            Arc::new(amount),
        ),
        (
            "CREATED",
            SqlType::DateTime,
            Arc::new(TimestampMillisecondArray::from(vec![
                ms("2019-11-26T12:03:25"),
                ms("2019-11-26T12:03:25.997"),
                ms("1753-01-01T00:00:00"),
                ms("9999-12-31T23:59:59.997"),
            ])),
        ),
        (
            "RATE",
            SqlType::Float,
            Arc::new(Float64Array::from(vec![
                Some(0.1),
                Some(-0.0),
                None,
                Some(1e308),
            ])),
        ),
        (
            "DATA",
            SqlType::VarBinary { len: None },
            Arc::new(BinaryArray::from_opt_vec(vec![
                Some(&[0x00, 0xFF][..]),
                None,
                Some(&[][..]),
                Some(&[1, 2, 3][..]),
            ])),
        ),
    ])
}

const NAMES: [Option<&str>; 4] = [Some("O'Brien"), None, Some("a\0b"), Some("日本")];

fn digest_of(batch: &RecordBatch) -> String {
    chunk_digest(&BoundBatch::new(batch, &COLUMNS).unwrap()).unwrap()
}

/// The digest is computed from the bound values before a writer is chosen (`stage`'s
/// `ledger_row`), so `insert` and `bulk` record the same one; and it depends on the values
/// alone, not on how the batch holds them (a chunk is `take`n from its part).
#[test]
fn the_same_rows_give_the_same_digest_whatever_the_strategy_or_layout() {
    let whole = rows(NAMES);
    let digest = digest_of(&whole);
    assert!(digest.starts_with("v2:"), "{digest}");
    assert_eq!(digest.len(), 63, "fits the ledger's NVARCHAR(64)");
    // Pinned (computed apart, from the encoding the module docs give): a change of encoding
    // makes every resumed load refuse its own ledger.
    assert_eq!(
        digest,
        "v2:f9ab5d3f7b20c3a748dc12f825893a4c8ecb28036b99817af33270438b84"
    );
    // The same rows taken from a larger batch, and sliced out of one.
    let taken =
        arrow::compute::take_record_batch(&whole, &UInt32Array::from(vec![0, 1, 2, 3])).unwrap();
    assert_eq!(digest_of(&taken), digest);
    let doubled =
        arrow::compute::concat_batches(&whole.schema(), &[whole.clone(), whole.clone()]).unwrap();
    assert_eq!(digest_of(&doubled.slice(4, 4)), digest);
    let bound = BoundBatch::new(&whole, &COLUMNS).unwrap();
    assert_eq!(chunk_digest(&bound).unwrap(), chunk_digest(&bound).unwrap());
}

#[test]
fn a_changed_value_changes_the_digest() {
    let digest = digest_of(&rows(NAMES));
    let changed = [
        [Some("O'Brian"), None, Some("a\0b"), Some("日本")],
        [Some("O'Brien"), Some(""), Some("a\0b"), Some("日本")],
        [Some("O'Brien"), None, Some("a\0b"), None],
        [None, None, Some("a\0b"), Some("日本")],
    ];
    for names in changed {
        assert_ne!(digest_of(&rows(names)), digest, "{names:?}");
    }
    // Values are delimited: text moved from one row to the next is other rows.
    let a = rows([Some("ab"), Some("c"), None, None]);
    let b = rows([Some("a"), Some("bc"), None, None]);
    assert_ne!(digest_of(&a), digest_of(&b));
    // So are columns: the same values in another column order.
    let whole = rows(NAMES);
    let mut reordered = COLUMNS;
    reordered.swap(0, 1);
    let other = chunk_digest(&BoundBatch::new(&whole, &reordered).unwrap()).unwrap();
    assert_ne!(other, digest);
}

#[test]
fn values_no_writer_would_send_have_no_digest() {
    let off_tick = batch(vec![(
        "CREATED",
        SqlType::DateTime,
        Arc::new(TimestampMillisecondArray::from(vec![
            ms("2019-11-26T12:03:25"),
            ms("2019-11-26T12:03:25.001"),
        ])) as ArrayRef,
    )]);
    let bound = BoundBatch::new(&off_tick, &["CREATED"]).unwrap();
    let err = chunk_digest(&bound).unwrap_err();
    assert_eq!(err, bound.render_row(&mut String::new(), 1).unwrap_err());
    assert!(matches!(err, ValueError::Inexact { row: 1, .. }), "{err}");
    let bits = batch(vec![(
        "B",
        SqlType::Bit,
        Arc::new(BooleanArray::from(vec![Some(true), None])) as ArrayRef,
    )]);
    assert!(chunk_digest(&BoundBatch::new(&bits, &["B"]).unwrap()).is_ok());
}

fn ledger_row(digest: &str) -> LedgerRow {
    LedgerRow {
        table: "OSSYS_BPM_PROCESS".into(),
        chunk: "L0-00000-0000".into(),
        rows: 4,
        digest: digest.into(),
    }
}

#[test]
fn an_older_text_digest_is_accepted_while_it_matches_and_named_when_it_does_not() {
    let whole = rows(NAMES);
    let bound = BoundBatch::new(&whole, &COLUMNS).unwrap();
    let now = ledger_row(&chunk_digest(&bound).unwrap());
    // What older bptmig recorded: SHA-256 of each rendered row and a newline.
    let mut text = String::new();
    for r in 0..bound.num_rows() {
        bound.render_row(&mut text, r).unwrap();
        text.push('\n');
    }
    let v1 = bptmig_workdir::hex(&Sha256::digest(text.as_bytes()));
    assert_eq!(text_digest(&bound).unwrap(), v1);
    check_recorded(&ledger_row(&v1), &now, &bound, "R1").unwrap();
    check_recorded(&now, &now, &bound, "R1").unwrap();

    let other_text = "0".repeat(64);
    let err = check_recorded(&ledger_row(&other_text), &now, &bound, "R1").unwrap_err();
    assert!(matches!(err, Error::LedgerOlderDigest { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the ledger says chunk `L0-00000-0000` of `OSSYS_BPM_PROCESS` was loaded by run R1, by \
         an older bptmig (text digest), and these rows no longer render to that digest: the \
         transform was re-run after a partial load, or this bptmig writes literals \
         differently; finish the load with the bptmig version that started it, or run \
         `bptmig rollback` and load again"
    );

    let other_v2 = format!("v2:{}", "0".repeat(60));
    let err = check_recorded(&ledger_row(&other_v2), &now, &bound, "R1").unwrap_err();
    assert!(matches!(err, Error::LedgerConflict { .. }), "{err:?}");
    let fewer = LedgerRow {
        rows: 3,
        ..now.clone()
    };
    let err = check_recorded(&fewer, &now, &bound, "R1").unwrap_err();
    assert!(matches!(err, Error::LedgerConflict { .. }), "{err:?}");
}
