//! What the tests of the binary share beyond `bptmig_sandbox::testing`: the command itself
//! and what every interrupted stage promises.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Output};

use bptmig_sandbox::testing::PASSWORD_VAR;
use bptmig_sandbox::DEFAULT_PASSWORD;

/// `bptmig <args>`, with the sandbox password where the tests' pipelines read it.
pub fn bptmig<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bptmig"));
    cmd.args(args).env(PASSWORD_VAR, DEFAULT_PASSWORD);
    cmd
}

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

/// Every file under `dir`, relative path → bytes.
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Copies the directory `from` to `to` (which must not exist), as `cp -r` does.
pub fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "cp -r {} {}",
        from.display(),
        to.display()
    );
}
