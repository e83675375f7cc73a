//! Two `bptmig transform` processes started together over a stale lock: in every round
//! exactly one runs the stage, the other is refused, and the result equals a single run.

use std::path::Path;
use std::process::{Output, Stdio};

use crate::common;
use crate::transform_cli::{generate, transform, write_pipeline};

/// Rounds of the race.
const ROUNDS: usize = 20;
/// Pause after each part, so that the winner is still inside the stage when the other
/// process, started at the same moment, asks for the lock.
const PART_DELAY_MS: &str = "80";

/// A process that does not exist: above any `pid_max`.
const STALE_PID: &str = "4294967";
/// The lock file of [`STALE_PID`].
const STALE_LOCK: &str = r#"{"pid":4294967,"stage":"transform"}"#;

/// A lock file its holder left behind: one naming a process that no longer exists, or, every
/// third round, an empty one (a holder killed before it wrote the file).
fn stale_lock(round: usize) -> &'static str {
    if round.is_multiple_of(3) {
        ""
    } else {
        STALE_LOCK
    }
}

/// Starts two transforms of `pipeline` at once and returns their outputs with their pids.
fn race(pipeline: &Path) -> [(u32, Output); 2] {
    let start = || {
        common::bptmig([
            "--quiet",
            "transform",
            "--pipeline",
            pipeline.to_str().unwrap(),
        ])
        .env("BPTMIG_TEST_PART_DELAY_MS", PART_DELAY_MS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (start(), start());
    let (pa, pb) = (a.id(), b.id());
    [
        (pa, a.wait_with_output().unwrap()),
        (pb, b.wait_with_output().unwrap()),
    ]
}

#[test]
fn two_transforms_over_a_stale_lock_one_runs_the_other_is_refused_every_round() {
    let dir = tempfile::tempdir().unwrap();
    let extracted = dir.path().join("extracted");
    generate(&extracted, 40, 40, 20);

    // The stage run once, alone: what every round must end with. Exit 1: findings to review.
    let single = write_pipeline(dir.path(), "single", true);
    common::copy_dir(&extracted, &dir.path().join("single"));
    assert_eq!(transform(&single).status.code(), Some(1));
    let expected = common::files(&dir.path().join("single/transform"));
    let expected_report = std::fs::read(dir.path().join("single/report.json")).unwrap();

    for round in 0..ROUNDS {
        let name = format!("round{round}");
        let wd = dir.path().join(&name);
        let pipeline = write_pipeline(dir.path(), &name, true);
        common::copy_dir(&extracted, &wd);
        std::fs::write(wd.join("lock"), stale_lock(round)).unwrap();

        let outcomes = race(&pipeline);
        let code = |o: &Output| o.status.code();
        let ran: Vec<_> = outcomes
            .iter()
            .filter(|(_, o)| code(o) == Some(1))
            .collect();
        let refused: Vec<_> = outcomes
            .iter()
            .filter(|(_, o)| code(o) == Some(2))
            .collect();
        let all = || {
            outcomes
                .iter()
                .map(|(pid, o)| {
                    format!(
                        "pid {pid}: exit {:?}: {}",
                        code(o),
                        String::from_utf8_lossy(&o.stderr)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(
            ran.len() == 1 && refused.len() == 1,
            "round {round}: exactly one runs the stage, the other is refused:\n{}",
            all()
        );
        let (winner, _) = ran[0];
        let message = String::from_utf8_lossy(&refused[0].1.stderr);
        assert!(
            message.contains("is in use by process"),
            "round {round}: {message}"
        );
        // The refusal names the winner, unless it read the file before the winner rewrote it:
        // then it names nobody (an empty file) or, for now, the dead process the stale file
        // names (`Lock::acquire` locks, then truncates and writes).
        let named = |pid: &str| message.contains(&format!("in use by process {pid} "));
        assert!(
            named(&winner.to_string()) || named("0") || named(STALE_PID),
            "round {round}: the refusal names another process than {winner}: {message}"
        );
        assert!(
            !wd.join("lock").exists(),
            "round {round}: the lock is released"
        );

        let got = common::files(&wd.join("transform"));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "round {round}"
        );
        for (file, bytes) in &expected {
            assert!(got[file] == *bytes, "round {round}: `{file}` differs");
        }
        assert_eq!(
            std::fs::read(wd.join("report.json")).unwrap(),
            expected_report,
            "round {round}: report.json"
        );
    }
}
