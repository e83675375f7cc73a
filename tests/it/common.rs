//! What the CLI tests that interrupt a stage share.

use std::path::Path;
use std::process::{Child, Command, Output};

/// The tables a generated history moves, in load order.
pub const MOVED: &[&str] = &[
    "OSSYS_BPM_PROCESS",
    "OSSYS_BPM_ACTIVITY",
    "OSSYS_BPM_PROCESS_INPUT",
    "OSSYS_BPM_PROCESS_OUTPUT",
    "OSSYS_BPM_ACTIVITY_OUTPUT",
    "OSEVT_OSUSR_3AR_CANDIDATE",
];

/// Sends SIGINT to `child` (a stage run with stderr piped) and checks what every stage
/// promises then: exit code 130, the advice to run the same command again, and the work
/// directory `workdir` unlocked. Returns the output.
pub fn interrupt(child: Child, workdir: &Path) -> Output {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("run the same command again"), "{stderr}");
    assert!(!workdir.join("lock").exists(), "the lock is released");
    out
}
