use std::collections::HashMap;

use super::*;

/// Source definition `d` is target `d + 100`, source tenant `t` target `t + 10`; source
/// definition 9 and tenant 9 have no target.
struct Shifted;

impl TargetIds for Shifted {
    fn process_definition(&self, source: i64) -> Option<i64> {
        (source != 9).then_some(source + 100)
    }
    fn activity_definition(&self, source: i64) -> Option<i64> {
        (source != 9).then_some(source + 100)
    }
    fn tenant(&self, source: i64) -> Option<i64> {
        (source != 9).then_some(source + 10)
    }
}

const ACTIVE: Flags = Flags {
    active: Some(true),
    locked: Some(false),
};

const CLOSED_PROCESS: i64 = 2;
const CLOSED_ACTIVITY: i64 = 5;
const NOW: i64 = 1_000_000;

/// Target: definitions 101 (fine, eSpace 1), 102 (inactive), 103 (locked), 104 (eSpace 2,
/// inactive and locked), 105 (eSpace 3, flags unknown); tenants 11 (active), 12 (inactive).
/// Source: activity definition 7 is automatic; target activity definition 108 inactive.
fn facts() -> Facts {
    let inactive = Flags {
        active: Some(false),
        ..ACTIVE
    };
    let locked = Flags {
        locked: Some(true),
        ..ACTIVE
    };
    Facts {
        definitions: HashMap::from([
            (101, (ACTIVE, Some(1))),
            (102, (inactive, Some(1))),
            (103, (locked, Some(1))),
            (104, (ACTIVE, Some(2))),
            (105, (ACTIVE, Some(3))),
        ]),
        activity_definitions: HashMap::from([(107, Some(true)), (108, Some(false))]),
        espaces: HashMap::from([
            (1, ACTIVE),
            (
                2,
                Flags {
                    active: Some(false),
                    locked: Some(true),
                },
            ),
            (3, Flags::default()),
        ]),
        tenants: HashMap::from([(11, Some(true)), (12, Some(false))]),
        process_terminal: HashSet::from([CLOSED_PROCESS, 4]),
        activity_terminal: HashSet::from([CLOSED_ACTIVITY, 6]),
        automatic: HashSet::from([7]),
        unchecked: Vec::new(),
    }
}

fn process(id: i64, definition: i64, tenant: i64, status: i64) -> ProcessRow {
    ProcessRow {
        id,
        definition: Some(definition),
        tenant: Some(tenant),
        status: Some(status),
    }
}

fn activity(id: i64, process: i64, definition: i64, next_run: Option<i64>) -> ActivityRow {
    ActivityRow {
        id,
        process,
        definition: Some(definition),
        status: Some(2),
        next_run,
    }
}

fn codes(f: &SchedulerFindings) -> Vec<(&str, u64, Vec<i64>)> {
    f.never_run
        .iter()
        .map(|g| (g.reason.as_str(), g.count, g.sample_ids.clone()))
        .collect()
}

#[test]
fn open_processes_under_inactive_or_locked_targets_never_run_closed_ones_are_not_counted() {
    let processes = [
        process(1, 1, 1, 1),              // fine
        process(2, 2, 1, 1),              // definition inactive
        process(3, 3, 1, 3),              // definition locked (suspended: still open)
        process(4, 4, 2, 1),              // eSpace inactive and locked, tenant inactive
        process(5, 2, 1, CLOSED_PROCESS), // closed: never runs anywhere
        process(6, 5, 9, 1),              // unknown flags, unmapped tenant
        process(7, 9, 2, 1),              // unmapped definition; tenant inactive
    ];
    let f = evaluate(&facts(), &Shifted, &processes, &[], NOW);
    assert_eq!(
        codes(&f),
        vec![
            ("definition_inactive", 1, vec![2]),
            ("definition_locked", 1, vec![3]),
            ("espace_inactive", 1, vec![4]),
            ("espace_locked", 1, vec![4]),
            ("tenant_inactive", 2, vec![4, 7]),
        ]
    );
    assert!(f.never_run.iter().all(|g| g.automatic.is_none()));
    assert_eq!(f.past_next_run, None);
}

#[test]
fn due_open_activities_of_running_processes_are_counted_with_the_automatic_ones() {
    let processes = [
        process(1, 1, 1, 1),
        process(2, 2, 1, 1), // never runs: its activities are not "at once"
        process(3, 1, 1, CLOSED_PROCESS),
    ];
    let closed = ActivityRow {
        status: Some(CLOSED_ACTIVITY),
        ..activity(14, 1, 1, Some(0))
    };
    let activities = [
        activity(10, 1, 7, Some(NOW)),     // due now, automatic
        activity(11, 1, 1, Some(NOW - 1)), // due
        activity(12, 1, 1, Some(NOW + 1)), // not yet
        activity(13, 1, 1, None),          // no NEXT_RUN
        closed,                            // closed
        activity(15, 2, 7, Some(0)),       // its process never runs
        activity(16, 3, 7, Some(0)),       // its process is closed
        activity(17, 1, 8, Some(0)),       // its target activity definition is inactive
        activity(18, 9, 7, Some(0)),       // its process does not move
    ];
    let f = evaluate(&facts(), &Shifted, &processes, &activities, NOW);
    assert_eq!(
        f.past_next_run,
        Some(SchedulerGroup {
            reason: NEXT_RUN_PAST.to_owned(),
            count: 2,
            automatic: Some(1),
            sample_ids: vec![10, 11],
        })
    );
}

#[test]
fn samples_are_the_first_ids_ascending_and_counts_are_whole() {
    let processes: Vec<ProcessRow> = (0..25).rev().map(|i| process(100 + i, 2, 1, 1)).collect();
    let activities: Vec<ActivityRow> = (0..30)
        .rev()
        .map(|i| activity(500 + i, 1, 7, Some(0)))
        .chain([activity(500, 1, 7, Some(0))]) // read twice: counted once
        .collect();
    let mut all = processes.clone();
    all.push(process(1, 1, 1, 1));
    let f = evaluate(&facts(), &Shifted, &all, &activities, NOW);
    let never = &f.never_run[0];
    assert_eq!(never.count, 25);
    assert_eq!(never.sample_ids, (100..110).collect::<Vec<_>>());
    let due = f.past_next_run.unwrap();
    assert_eq!((due.count, due.automatic), (30, Some(30)));
    assert_eq!(due.sample_ids, (500..510).collect::<Vec<_>>());
}

#[test]
fn nothing_found_is_empty() {
    let f = evaluate(
        &facts(),
        &Shifted,
        &[process(1, 1, 1, 1)],
        &[activity(1, 1, 1, None)],
        NOW,
    );
    assert!(f.is_empty());
}

#[test]
fn iso_datetimes_read_as_milliseconds() {
    assert_eq!(parse_datetime_ms("1970-01-01T00:00:01"), Some(1000));
    assert_eq!(parse_datetime_ms("1970-01-01 00:00:00.250"), Some(250));
    assert_eq!(
        parse_datetime_ms("1900-01-01T00:00:00"),
        Some(-2_208_988_800_000)
    );
    assert_eq!(parse_datetime_ms("soon"), None);
    assert!(now_ms() > parse_datetime_ms("2026-01-01T00:00:00").unwrap());
}

mod read_from_snapshots {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BooleanArray, Int32Array, StringArray};
    use bptmig_model::catalog as c;

    use super::*;
    use crate::maps::Snapshot;
    use crate::refs::tests::write_table;

    fn ints(v: &[i32]) -> ArrayRef {
        Arc::new(Int32Array::from(v.to_vec()))
    }
    fn bools(v: &[Option<bool>]) -> ArrayRef {
        Arc::new(BooleanArray::from(v.to_vec()))
    }
    fn texts(v: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    /// A target of an older platform version: no `OSSYS_ESPACE.IS_LOCKED`, no
    /// `OSSYS_TENANT.IS_ACTIVE`, flags spelled in another case, a NULL flag; a source whose
    /// activity statuses have no `IS_TERMINAL`.
    #[test]
    fn flags_a_snapshot_lacks_are_not_looked_for_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let (src, tgt) = (dir.path().join("source"), dir.path().join("target"));
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(&tgt).unwrap();
        write_table(
            &tgt,
            c::PROCESS_DEFINITION,
            vec![
                ("ID", ints(&[101, 102, 103])),
                ("Espace_Id", ints(&[1, 1, 2])),
                ("Is_Active", bools(&[Some(true), Some(false), Some(true)])),
                ("Is_Locked", bools(&[Some(false), Some(false), None])),
            ],
        );
        write_table(
            &tgt,
            c::ESPACE,
            vec![
                ("ID", ints(&[1, 2])),
                ("IS_ACTIVE", bools(&[Some(true), Some(false)])),
            ],
        );
        write_table(
            &tgt,
            c::TENANT,
            vec![("ID", ints(&[11])), ("NAME", texts(&["Users"]))],
        );
        write_table(
            &tgt,
            c::ACTIVITY_DEFINITION,
            vec![("ID", ints(&[107])), ("IS_ACTIVE", bools(&[Some(false)]))],
        );
        write_table(
            &src,
            c::PROCESS_STATUS,
            vec![
                ("ID", ints(&[1, 2])),
                ("NAME", texts(&["Active", "Closed"])),
                ("IS_TERMINAL", bools(&[Some(false), Some(true)])),
            ],
        );
        write_table(
            &src,
            c::ACTIVITY_STATUS,
            vec![
                ("ID", ints(&[2, 5, 6])),
                ("NAME", texts(&["Running", "Closed", "Terminated"])),
            ],
        );
        write_table(
            &src,
            c::ACTIVITY_KIND,
            vec![
                ("ID", ints(&[3, 4])),
                ("NAME", texts(&["Human Activity", "Automatic Activity"])),
            ],
        );
        write_table(
            &src,
            c::ACTIVITY_DEFINITION,
            vec![("ID", ints(&[7, 8])), ("KIND", ints(&[4, 3]))],
        );

        let facts = Facts::read(&Snapshot::new(&src), &Snapshot::new(&tgt)).unwrap();
        assert_eq!(
            facts.unchecked,
            [
                "OSSYS_ESPACE.IS_LOCKED",
                "OSSYS_TENANT.IS_ACTIVE",
                "OSSYS_BPM_ACTIVITY_STATUS.IS_TERMINAL (read by name)"
            ]
        );
        assert_eq!(
            facts.definitions[&102],
            (
                Flags {
                    active: Some(false),
                    locked: Some(false)
                },
                Some(1)
            )
        );
        assert_eq!(facts.definitions[&103].0.locked, None, "NULL is not known");
        assert_eq!(facts.espaces[&2].locked, None);
        assert_eq!(facts.tenants[&11], None);
        assert_eq!(facts.activity_definitions[&107], Some(false));
        assert_eq!(facts.process_terminal, HashSet::from([2]));
        assert_eq!(facts.activity_terminal, HashSet::from([5, 6]));
        assert_eq!(facts.automatic, HashSet::from([7]));

        // Definition 3 (target 103) lies in inactive eSpace 2; tenant 1 (target 11) has no
        // known flag.
        let reasons = facts.never_run(&Shifted, &process(1, 3, 1, 1));
        assert_eq!(reasons, [Reason::EspaceInactive]);
        assert!(facts.never_run(&Shifted, &process(2, 1, 1, 1)).is_empty());
    }
}

#[test]
fn now_is_the_target_servers_clock_at_the_extract_or_moved_on_when_live() {
    use bptmig_workdir::ServerClock;
    // The server read 10:00 local when this machine's UTC clock read 1,000,000 ms.
    let clock = ServerClock {
        server_now: "2026-12-01T10:00:00".to_owned(),
        read_at_ms: 1_000_000,
    };
    let at = |t: &str| parse_datetime_ms(t).unwrap();
    // The transform: the moment of the snapshot, however late it runs.
    let now = Now::of_target(Some(&clock), 1_090_000);
    assert!(now.target_clock);
    assert_eq!(now.ms, at("2026-12-01T10:00:00"));
    assert_eq!(
        now.describe(),
        "2026-12-01T10:00:00.000 (the target server's clock at the extract)"
    );
    // `check`, live: 90 s later it is 10:01:30 there, whatever this machine's zone. An
    // activity due at 10:01 local is past there, one due at 10:05 is not.
    let live = Now::live(Some(&clock), 1_090_000);
    assert_eq!(live.ms, at("2026-12-01T10:01:30"));
    assert!(at("2026-12-01T10:01:00") <= live.ms);
    assert!(at("2026-12-01T10:05:00") > live.ms);
    // No clock (or one that does not parse): this machine's.
    let none = Now::of_target(None, 1_090_000);
    assert_eq!((none.ms, none.target_clock), (1_090_000, false));
    assert_eq!(Now::live(None, 5).ms, 5);
    assert!(none.describe().contains("this machine's UTC clock"));
    let bad = ServerClock {
        server_now: "soon".to_owned(),
        read_at_ms: 0,
    };
    assert!(!Now::of_target(Some(&bad), 5).target_clock);
}
