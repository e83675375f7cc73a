//! The work directory's lock: one stage at a time.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Held while a stage runs; removed on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockInfo {
    pid: u32,
    stage: String,
}

impl Lock {
    pub(crate) fn acquire(path: &Path, stage: &str) -> Result<Self> {
        let info = LockInfo {
            pid: std::process::id(),
            stage: stage.to_owned(),
        };
        let body =
            serde_json::to_vec(&info).map_err(|e| Error::io(path, "encode the lock", e.into()))?;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    f.write_all(&body)
                        .and_then(|()| f.sync_all())
                        .map_err(|e| Error::io(path, "write the lock", e))?;
                    return Ok(Self {
                        path: path.to_owned(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held: Option<LockInfo> = fs::read(path)
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    match held {
                        Some(h) if process_alive(h.pid) => {
                            return Err(Error::Locked {
                                path: path.to_owned(),
                                pid: h.pid,
                                stage: h.stage,
                            });
                        }
                        // The holder died (kill -9): its lock is stale; take it over.
                        _ => {
                            tracing::warn!(lock = %path.display(), "removing a stale lock left by a process that is gone");
                            let _ = fs::remove_file(path);
                        }
                    }
                }
                Err(e) => return Err(Error::io(path, "create the lock", e)),
            }
        }
        Err(Error::io(
            path,
            "create the lock",
            std::io::Error::other("another process keeps re-creating it"),
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry but will never release the lock.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    // Without a cheap liveness check, never steal a lock: a person removes it.
    true
}
