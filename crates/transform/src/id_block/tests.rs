use bptmig_workdir::snapshot::Identity;

use super::*;

const T: &str = "OSSYS_BPM_PROCESS";

/// A target table with `max` as its largest ID and its identity at `current` (used), the
/// first row at or after the next value `in_way`, on a server like SQL Server.
fn stat(max: Option<i64>, current: i64, in_way: Option<i64>) -> InstanceStat {
    InstanceStat {
        rows: 10,
        max_id: max,
        identity: Some(Identity {
            current: Some(current),
            seed: Some(1),
            increment: Some(1),
            never_used: Some(false),
            first_in_way: in_way,
            checked: true,
            identity_insert: Some(true),
            follows_explicit: Some(true),
        }),
    }
}

#[test]
fn a_normal_target_gets_the_block_above_its_maximum_as_before() {
    let s = stat(Some(4), 4, None);
    let b = place(T, Some(&s), 3).unwrap();
    assert_eq!((b.first, b.last()), (5, 7));
    assert_eq!(
        b.rule,
        Rule::AfterIdentity {
            identity: 4,
            next: 5
        }
    );
    let old = InstanceStat {
        identity: None,
        ..s
    };
    let b = place(T, Some(&old), 3).unwrap();
    assert_eq!((b.first, b.last(), b.rule), (5, 7, Rule::AboveMax));
}

#[test]
fn an_empty_never_used_table_starts_at_its_seed() {
    let mut s = stat(None, 100, None);
    let id = s.identity.as_mut().unwrap();
    (id.seed, id.never_used) = (Some(100), Some(true));
    let b = place(T, Some(&s), 2).unwrap();
    assert_eq!((b.first, b.last()), (100, 101));
    // Without any statistics at all: from 1, as before.
    let b = place(T, None, 2).unwrap();
    assert_eq!((b.first, b.rule), (1, Rule::AboveMax));
}

#[test]
fn a_target_near_the_32_bit_limit_is_refused_with_the_numbers() {
    let s = stat(Some(2_147_483_640), 2_147_483_640, None);
    assert!(place(T, Some(&s), 7).is_ok());
    let e = place(T, Some(&s), 8).unwrap_err().to_string();
    assert!(
        e.contains("identity 2147483640") && e.contains("RESEED, -2147483648"),
        "{e}"
    );
    let old = InstanceStat {
        identity: None,
        ..s
    };
    assert!(matches!(
        place(T, Some(&old), 8),
        Err(Error::IdOverflow { rows: 8, .. })
    ));
}

#[test]
fn a_reseeded_target_gets_its_block_after_the_identity_never_above_its_maximum() {
    // MAX(ID) near 2^31, identity reseeded to -2^31 and used once.
    let s = stat(Some(2_147_483_000), -2_147_483_648, Some(1));
    let b = place(T, Some(&s), 1000).unwrap();
    assert_eq!((b.first, b.last()), (-2_147_483_647, -2_147_482_648));
    // Reseeded but never used since (`RESEED` on a truncated table): the next is the value.
    let mut fresh = s;
    fresh.identity.as_mut().unwrap().never_used = Some(true);
    let b = place(T, Some(&fresh), 1).unwrap();
    assert_eq!(b.first, -2_147_483_648);
}

#[test]
fn old_negative_rows_in_the_way_refuse_the_run_naming_the_first() {
    // Reseeded to -2^31 long ago: the negative range filled up to -2^31 + 100 since, then
    // reseeded again below it.
    let s = stat(Some(2_147_483_000), -2_147_483_600, Some(-2_147_483_548));
    assert!(place(T, Some(&s), 51).is_ok());
    let e = place(T, Some(&s), 53).unwrap_err();
    assert!(
        matches!(
            e,
            Error::IdentityBlocked {
                identity: -2_147_483_600,
                first: -2_147_483_599,
                last: -2_147_483_547,
                row: -2_147_483_548,
                ..
            }
        ),
        "{e}"
    );
    let text = e.to_string();
    assert!(text.contains("`OSSYS_BPM_PROCESS`") && text.contains("DBCC CHECKIDENT"));
}

#[test]
fn rows_after_an_identity_that_may_not_follow_explicit_ids_fall_back_to_the_maximum() {
    // The sandbox server: rows 1..4 inserted with explicit IDs, its identity still at 0, and
    // it cannot say whether explicit IDs move identities.
    let mut s = stat(Some(4), 0, Some(1));
    s.identity.as_mut().unwrap().follows_explicit = None;
    let b = place(T, Some(&s), 3).unwrap();
    assert_eq!((b.first, b.last()), (5, 7));
    assert_eq!(
        b.rule,
        Rule::AboveMaxIdentityStale {
            identity: 0,
            in_way: 1
        }
    );
    // Nothing in the way there: after the identity, as on SQL Server.
    let mut reseeded = stat(Some(2_000_000_000), 0, Some(2_000_000_000));
    reseeded.identity.as_mut().unwrap().follows_explicit = None;
    assert_eq!(place(T, Some(&reseeded), 3).unwrap().first, 1);
}

#[test]
fn a_reseeded_source_is_numbered_in_creation_order_an_ordinary_one_in_source_id_order() {
    let src = |current| stat(Some(2_147_483_000), current, None);
    // Two rows made after the reseed to -2^31, two before it near the top of the range.
    let olds = [-2_147_483_648, -2_147_483_647, 2_147_482_999, 2_147_483_000];
    let found = creation_order(&olds, Some(&src(-2_147_483_647))).unwrap();
    let r = found.expect("reseeded");
    assert_eq!(
        r,
        Reseeded {
            identity: -2_147_483_647,
            older: 2,
            newer: 2
        }
    );
    // The older rows (above the identity) get the first new IDs, each side in its order.
    assert_eq!(numbered(10, olds.len(), Some(&r)), [12, 13, 10, 11]);
    assert_eq!(numbered(10, olds.len(), None), [10, 11, 12, 13]);
    // Every moving row on one side of the identity: source-ID order is creation order.
    assert_eq!(
        creation_order(&olds[2..], Some(&src(-2_147_483_647))),
        Ok(None)
    );
    assert_eq!(
        creation_order(&olds[..2], Some(&src(-2_147_483_647))),
        Ok(None)
    );
    assert_eq!(creation_order(&olds, Some(&src(2_147_483_000))), Ok(None));
    assert_eq!(creation_order(&olds, None), Ok(None));
    assert_eq!(creation_order(&[], Some(&src(0))), Ok(None));
    // A server that showed that explicit IDs do not move its identity (the sandbox, whose
    // rows are all explicit) says nothing of an order.
    let mut sandbox = src(0);
    sandbox.identity.as_mut().unwrap().follows_explicit = Some(false);
    assert_eq!(creation_order(&olds, Some(&sandbox)), Ok(None));
    // One that did not answer: source-ID order, and the transform warns.
    sandbox.identity.as_mut().unwrap().follows_explicit = None;
    assert_eq!(
        creation_order(&olds, Some(&sandbox)),
        Err(Reseeded {
            identity: 0,
            older: 2,
            newer: 2
        })
    );
}

#[test]
fn numbering_in_creation_order_is_a_dense_block_with_one_turn() {
    let r = Reseeded {
        identity: 0,
        older: 3,
        newer: 5,
    };
    let news = numbered(-2_147_483_648, 8, Some(&r));
    let mut sorted = news.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (-2_147_483_648..-2_147_483_640).collect::<Vec<i32>>()
    );
    // Source-ID order: the five newer rows (after the older three), then the older three.
    assert_eq!(
        &news[..5],
        &(-2_147_483_645..-2_147_483_640).collect::<Vec<i32>>()[..]
    );
    assert_eq!(
        &news[5..],
        &[-2_147_483_648, -2_147_483_647, -2_147_483_646]
    );
}
